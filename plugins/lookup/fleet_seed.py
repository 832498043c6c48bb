# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: fleet_seed
short_description: Fresh randomness for seeding a fleet ring, made in controller memory
version_added: 0.1.0
description:
  - Returns base64 of 32 bytes from the operating system's random source (C(os.urandom)), made in the controller's
    memory and written nowhere. One value per term (or one value with no term).
  - Use it in a task with C(no_log) and C(run_once), keep the value in a play-scoped, non-cacheable variable, and send it
    only with M(hardened_tls.resumption.fleet_ring) (which refuses to send it without pipelining).
author:
  - Hardened TLS contributors (@hardened-tls)
options:
  _terms:
    description: Labels, one value each (ignored otherwise). No term gives one value.
    type: list
    elements: str
    required: false
'''

EXAMPLES = r'''
- name: Make one seed for the whole play (never shown, never cached)
  ansible.builtin.set_fact:
    fleet_seed: "{{ lookup('hardened_tls.resumption.fleet_seed') }}"
    cacheable: false
  run_once: true
  no_log: true
'''

RETURN = r'''
_raw:
  description: Base64 of 32 random bytes, one per term.
  type: list
  elements: str
'''

import base64
import os

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        count = max(1, len(terms or []))
        return [base64.b64encode(os.urandom(32)).decode('ascii') for dummy in range(count)]
