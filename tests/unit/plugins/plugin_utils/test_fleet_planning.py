# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the controller's fleet planning (plugin_utils/_fleet_plan)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import random

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ratchet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils import _fleet_plan


def _st(chain, gen=100, origin='fleet', now=2000, size=3):
    return {'chain': dict((str(k), v) for k, v in chain.items()), 'origin': origin, 'wall_generation': gen,
            'now': now, 'epoch': 0, 'period': 20, 'ring': {'size': size}}


def test_plan_seeds_a_new_fleet():
    p = _fleet_plan.plan({'a': _st({}, origin='local'), 'b': _st({}, origin='none')}, ['a', 'b'], margin=20)
    assert p['seed'] and not p['seed_refused'] and p['reference'] is None and p['out_of_step'] == ['a', 'b']
    assert p['unreachable'] == []
    assert p['anchor'] == 100 - 1 - 1
    assert p['reseed_generation'] == _ratchet.reseed_generation(2000, 0, 20, 20)


def test_plan_refuses_to_seed_while_a_node_was_not_reached():
    """Only rebooted nodes reached (a --limit run, a provisioning callback, the others down): the nodes not
    reached may hold the fleet's state, and a seed would give the reached ones a chain of their own."""
    p = _fleet_plan.plan({'a': _st({}, origin='local'), 'b': _st({}, origin='none')}, ['a', 'b', 'c'], margin=20)
    assert not p['seed'] and p['seed_refused'] and p['reference'] is None
    assert p['out_of_step'] == ['a', 'b'] and p['unreachable'] == ['c']
    # nothing reached at all: nothing to refuse
    p = _fleet_plan.plan({}, ['a', 'b'])
    assert not p['seed'] and not p['seed_refused']
    # a node in step reached: heal, never seed
    p = _fleet_plan.plan({'a': _st({100: 'y', 101: 'z'}), 'b': _st({}, origin='local')}, ['a', 'b', 'c'])
    assert not p['seed'] and not p['seed_refused'] and p['reference'] == 'a' and p['out_of_step'] == ['b']


def _pairwise_plan(statuses, hosts, context=None):
    """The plan's choice as first written: agree() for every pair of nodes (quadratic), for comparison."""
    reachable = [h for h in hosts if h in statuses]
    fleet = [h for h in reachable if statuses[h].get('origin') == 'fleet' and statuses[h].get('chain')
             and (context is None or statuses[h].get('context') in (None, context))]
    best, best_class = None, []
    for c in fleet:
        cls = [h for h in fleet if _fleet_plan.agree(statuses[c]['chain'], statuses[h]['chain'])]
        if len(cls) > len(best_class):
            best, best_class = c, cls
    return best, best_class, [h for h in reachable if h not in best_class]


def test_grouped_plan_chooses_as_the_pairwise_plan():
    rng = random.Random(7)
    names = 'abcdef'
    for case in range(400):
        n = rng.randint(1, 30)
        hosts = ['n%02d' % i for i in range(n)]
        statuses = {}
        for h in hosts:
            r = rng.random()
            if r < 0.1:
                continue                                     # unreachable
            if r < 0.2:
                statuses[h] = _st({}, origin=rng.choice(['local', 'none']))
                continue
            start = rng.randint(98, 101)
            chain = dict((g, rng.choice(names[:3]) if rng.random() < 0.3 else 'k%d' % g) for g in range(start, start + rng.randint(1, 4)))
            statuses[h] = dict(_st(chain), context=rng.choice([None, 'A', 'A', 'B']))
        context = rng.choice([None, 'A', 'B'])
        p = _fleet_plan.plan(statuses, hosts, context=context)
        best, cls, out = _pairwise_plan(statuses, hosts, context)
        assert (p['reference'], p['in_step'], p['out_of_step']) == (best, cls, out), case


def test_the_plan_is_linear_in_the_nodes():
    """agree() runs once per pair of distinct chains: 3 chains among 3,000 nodes is 9 calls, not 9 million."""
    calls = []
    real = _fleet_plan.agree

    def counting(a, b):
        calls.append(1)
        return real(a, b)
    chains = [{100: 'a', 101: 'b'}, {101: 'b', 102: 'c'}, {100: 'x', 101: 'y'}]
    hosts = ['n%d' % i for i in range(3000)]
    statuses = dict((h, _st(chains[i % 3])) for i, h in enumerate(hosts))
    _fleet_plan.agree = counting
    try:
        p = _fleet_plan.plan(statuses, hosts)
    finally:
        _fleet_plan.agree = real
    assert len(calls) == 9
    assert p['reference'] == 'n0' and len(p['in_step']) == 2000 and len(p['out_of_step']) == 1000


def test_index_and_plans_once_for_the_play():
    groups = {'web_a': ['a1', 'a2', 'a3'], 'web_b': ['b1', 'b2', 'x'], 'all': ['a1', 'a2', 'a3', 'b1', 'b2', 'x', 'u']}
    fleet_of = {'a1': 'web_a', 'a2': 'web_a', 'b1': 'web_b', 'b2': 'web_b', 'x': 'web_a', 'u': ''}
    play = ['a1', 'a2', 'b1', 'b2', 'x', 'u']
    idx = _fleet_plan.index(fleet_of, play, play + ['gone'], groups)
    assert sorted(idx) == ['', 'web_a', 'web_b']
    assert idx['web_a'] == {'members': ['a1', 'a2', 'x'], 'hosts': ['a1', 'a2', 'a3'], 'strangers': []}
    # x is in group web_b's inventory but names web_a: a stranger there
    assert idx['web_b'] == {'members': ['b1', 'b2'], 'hosts': ['b1', 'b2', 'x'], 'strangers': ['x']}
    assert idx['']['members'] == ['u'] and idx['']['hosts'] == ['u', 'gone']
    st = {'a1': dict(_st({100: 'p', 101: 'q'}), context='web_a'), 'a2': _st({}, origin='local'),
          'b1': dict(_st({100: 'r', 101: 's'}), context='web_b'), 'b2': dict(_st({100: 'r', 101: 's'}), context='web_b'),
          'u': _st({}, origin='none')}
    plans = _fleet_plan.plans(idx, st, margin=20)
    assert plans['web_a']['reference'] == 'a1' and plans['web_a']['out_of_step'] == ['a2'] and plans['web_a']['unreachable'] == ['a3']
    assert plans['web_b']['in_step'] == ['b1', 'b2'] and plans['web_b']['unreachable'] == ['x']
    # b1's state never counts for web_a, nor a1's for web_b
    assert 'b1' not in plans['web_a']['in_step'] + plans['web_a']['out_of_step']
    assert plans['']['out_of_step'] == ['u'] and plans['']['seed_refused']        # 'gone' was not reached


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
