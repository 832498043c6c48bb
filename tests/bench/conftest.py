# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make scripts/ (the fleet simulator) importable, and the collection when pytest runs
without PYTHONPATH=.build (the Makefile's symlink tree)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SCRIPTS = os.path.join(_ROOT, 'scripts')
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

try:
    import ansible_collections.hardened_tls.resumption.plugins.module_utils  # noqa: F401 pylint: disable=unused-import
except ImportError:
    _BUILD = os.path.join(_ROOT, '.build')
    if os.path.isdir(os.path.join(_BUILD, 'ansible_collections', 'hardened_tls', 'resumption')):
        sys.path.insert(0, _BUILD)
        for _mod in [m for m in sys.modules if m == 'ansible_collections' or m.startswith('ansible_collections.')]:
            del sys.modules[_mod]
