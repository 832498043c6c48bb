# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hardened_tls.resumption.plugins.filter.fleet_plan import FilterModule, fleet_index, fleet_plan, fleet_plans


def st(chain, origin='fleet'):
    return {'chain': chain, 'origin': origin, 'wall_generation': 10, 'now': 200, 'epoch': 0, 'period': 20,
            'ring': {'size': 3}}


def test_registered():
    filters = FilterModule().filters()
    assert filters['fleet_plan'] is fleet_plan and filters['fleet_index'] is fleet_index and filters['fleet_plans'] is fleet_plans


def test_index_then_plans_as_the_role_uses_them():
    good = {'9': 'a', '10': 'b', '11': 'c'}
    idx = fleet_index({'n1': 'web', 'n2': 'web', 'n3': 'web'}, ['n1', 'n2', 'n3'], ['n1', 'n2', 'n3'],
                      {'web': ['n1', 'n2', 'n3', 'n4'], 'all': ['n1', 'n2', 'n3', 'n4']})
    assert idx['web']['members'] == ['n1', 'n2', 'n3'] and idx['web']['hosts'] == ['n1', 'n2', 'n3', 'n4']
    plans = fleet_plans(idx, {'n1': dict(st(good), context='web'), 'n2': {'failed': True}, 'n3': st({}, origin='local')}, 20)
    p = plans['web']
    assert p['reference'] == 'n1' and p['out_of_step'] == ['n3'] and p['unreachable'] == ['n2', 'n4']
    with pytest.raises(AnsibleFilterError, match='fleet_index'):
        fleet_plans(['web'], {})
    with pytest.raises(AnsibleFilterError, match='fleet_plans'):
        fleet_plans(idx, ['n1'])


def test_failed_and_skipped_results_count_as_unreachable():
    good = {'9': 'a', '10': 'b', '11': 'c'}
    p = fleet_plan({'n1': st(good), 'n2': {'failed': True, 'msg': 'x'}, 'n3': st(good)}, ['n1', 'n2', 'n3', 'n4'], 20)
    assert p['reference'] == 'n1' and p['in_step'] == ['n1', 'n3']
    assert p['unreachable'] == ['n2', 'n4'] and p['out_of_step'] == []
    assert p['reseed_generation'] == (200 + 20) // 20 + 2


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match='must be a dict'):
        fleet_plan(['n1'], ['n1'])


def test_context_passes_through():
    good = {'9': 'a', '10': 'b', '11': 'c'}
    other = dict(st(good), context='fleet_a')
    p = fleet_plan({'n1': other, 'n2': other, 'n3': dict(st({'9': 'x', '10': 'y'}), context='fleet_b')},
                   ['n1', 'n2', 'n3'], 20, 'fleet_b')
    assert p['reference'] == 'n3' and p['out_of_step'] == ['n1', 'n2']
