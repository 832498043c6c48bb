# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters that summarise resumption probes; documented in the .yml files beside this one.
# The code lives in plugins/plugin_utils/_audit_*.py (controller only); this file maps the filters to it.

from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_prometheus import (  # noqa: F401 pylint: disable=unused-import
    resumption_prometheus)
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_report import (  # noqa: F401 pylint: disable=unused-import
    _certificates, _fingerprint, key_name_changes, observed_mode, resumption_context_pairs, resumption_pairs, resumption_report,
    store_text, summarise_probe, watch_text)
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_rings import (  # noqa: F401 pylint: disable=unused-import
    resumption_ring_state)
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_table import (  # noqa: F401 pylint: disable=unused-import
    resumption_table)


class FilterModule(object):
    def filters(self):
        return {
            'resumption_report': resumption_report,
            'resumption_table': resumption_table,
            'resumption_pairs': resumption_pairs,
            'resumption_ring_state': resumption_ring_state,
            'resumption_context_pairs': resumption_context_pairs,
            'resumption_prometheus': resumption_prometheus,
        }
