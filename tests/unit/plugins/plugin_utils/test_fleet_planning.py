# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the controller's fleet planning (plugin_utils/_fleet_plan)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ratchet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils import _fleet_plan


def _st(chain, gen=100, origin='fleet', now=2000, size=3):
    return {'chain': dict((str(k), v) for k, v in chain.items()), 'origin': origin, 'wall_generation': gen,
            'now': now, 'epoch': 0, 'period': 20, 'ring': {'size': size}}


def test_plan_seeds_a_new_fleet():
    p = _fleet_plan.plan({'a': _st({}, origin='local'), 'b': _st({}, origin='none')}, ['a', 'b', 'c'], margin=20)
    assert p['seed'] and p['reference'] is None and p['out_of_step'] == ['a', 'b'] and p['unreachable'] == ['c']
    assert p['anchor'] == 100 - 1 - 1
    assert p['reseed_generation'] == _ratchet.reseed_generation(2000, 0, 20, 20)


def test_plan_heals_the_minority():
    good = {99: 'x', 100: 'y', 101: 'z'}
    p = _fleet_plan.plan({'a': _st(good), 'b': _st({100: 'y', 101: 'z', 102: 'w'}), 'c': _st({99: 'q', 100: 'r'}),
                          'd': _st({}, origin='local')}, ['a', 'b', 'c', 'd'])
    assert not p['seed'] and p['reference'] == 'a' and p['in_step'] == ['a', 'b'] and p['out_of_step'] == ['c', 'd']


def test_plan_missed_reseed_is_out_of_step():
    p = _fleet_plan.plan({'a': _st({100: 'y', 101: 'z', 102: 'R'}), 'b': _st({100: 'y', 101: 'z', 102: 'R'}),
                          'c': _st({100: 'y', 101: 'z', 102: 'w'})}, ['a', 'b', 'c'])
    assert p['out_of_step'] == ['c']


def test_agree_needs_overlap():
    assert not _fleet_plan.agree({'1': 'a'}, {'2': 'a'})
    assert _fleet_plan.agree({'1': 'a', '2': 'b'}, {'2': 'b', '3': 'c'})


def test_plan_never_takes_a_node_of_another_fleet_as_reference():
    theirs = {99: 'x', 100: 'y', 101: 'z'}
    ours = {99: 'p', 100: 'q', 101: 'r'}
    # Two nodes moved in from fleet A outnumber the one node of fleet B: without the context they would heal it.
    st = {'a1': dict(_st(theirs), context='A'), 'a2': dict(_st(theirs), context='A'), 'b1': dict(_st(ours), context='B')}
    assert _fleet_plan.plan(st, ['a1', 'a2', 'b1'])['reference'] == 'a1'
    p = _fleet_plan.plan(st, ['a1', 'a2', 'b1'], context='B')
    assert p['reference'] == 'b1' and p['in_step'] == ['b1'] and p['out_of_step'] == ['a1', 'a2']
    # Nobody holds fleet B's state: seed them all.
    p = _fleet_plan.plan({'a1': st['a1'], 'a2': st['a2']}, ['a1', 'a2'], context='B')
    assert p['seed'] and p['out_of_step'] == ['a1', 'a2']
    # A state from before fleets were named still counts (an upgrade does not reseed).
    p = _fleet_plan.plan({'o': _st(ours), 'b1': st['b1']}, ['o', 'b1'], context='B')
    assert not p['seed'] and p['in_step'] == ['o', 'b1']


def test_the_plan_is_not_in_module_utils():
    """The planning runs on the controller only: it is neither in _fleet nor copied to the hosts."""
    assert not hasattr(_fleet, 'plan') and not hasattr(_fleet, 'agree')
    assert not any('plugin_utils' in path or '_fleet_plan' in path for path in _timer.runtime_sources())
