# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

import pytest

from ansible_collections.hardened_tls.resumption.plugins.lookup.fleet_seed import LookupModule


@pytest.mark.parametrize('terms, count', [([], 1), (['a'], 1), (['a', 'b', 'c'], 3)])
def test_fresh_32_byte_values(terms, count, monkeypatch):
    lookup = LookupModule()
    # The plugin has no options; outside a play (no plugin loader, no load name)
    # ansible-core before 2.19 cannot look them up, so the call is only recorded.
    seen = []
    monkeypatch.setattr(lookup, 'set_options', lambda **kw: seen.append(kw), raising=False)
    values = lookup.run(terms, variables={})
    assert seen == [{'var_options': {}, 'direct': {}}]
    assert len(values) == count
    assert all(len(base64.b64decode(v, validate=True)) == 32 for v in values)
    assert len(set(values + lookup.run(terms, variables={}))) == 2 * count
