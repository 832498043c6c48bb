# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the fleet simulator's own logic (scripts/fleet_sim.py), on small fleets.

    cd /work/main && PYTHONPATH=.build .venv/bin/python -m pytest -p no:cacheprovider -q tests/bench
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import random

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ratchet
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils import _fleet_plan

import fleet_sim

P = 600          # a short period: more generations per simulated hour (the timer polls every 60 s)

QUIET = {'period': P, 'skew': 'normal', 'skew_sd': 0.0, 'skew_max': 0.0, 'reboot_rate_per_day': 0.0, 'run_reach': 1.0,
         'run_interval': 900, 'run_phase': 300, 'reseed_interval': 1800, 'attempts': 0}


def small(**kw):
    cfg = dict(QUIET, nodes=60, days=0.25, attempts=4000, seed=5)
    cfg.update(kw)
    return cfg


def sim(**kw):
    cfg = dict(QUIET, nodes=4, seed=1)
    cfg.update(kw)
    return fleet_sim.Simulator(cfg)


def resumes(s, a, b, t_issue, t_offer):
    name, dummy, dummy2 = s.ticket(a, t_issue)
    return s.accepts(b, name, t_offer)


# ---------------------------------------------------------------- whole schedules

def test_a_perfect_fleet_resumes_every_ticket_and_stays_in_step():
    # No skew, no reboot, every run reaches every node (reseeds included). Ages up to 0.9 period:
    # the timer's poll (at most a tenth of the period late) never takes a key out of the ring early.
    r = fleet_sim.simulate(small(age_max_periods=0.9))
    assert r['attempts'] == 4000
    assert r['resumed_share'] == 1.0, r['failures']
    assert r['in_step_min'] == 1.0 and r['in_step_mean'] == 1.0
    assert r['reseeds'] >= 2 and r['reseed_refused'] == 0
    assert r['healed_per_run'] == 0
    assert r['within_bound']
    # every node stops encrypting a key one period before it drops it (give or take the timer's poll)
    assert 0.9 <= r['decrypt_after_stop_node_periods'] <= 1.1
    assert 0.9 <= r['decrypt_after_stop_fleet_periods'] <= 1.1


def test_skew_beyond_the_rings_tolerance_breaks_resumption():
    base = small(attempts=3000, reseed_interval=0)
    tight = fleet_sim.simulate(base)
    wide = fleet_sim.simulate(dict(base, skew='uniform', skew_max=float(P)))    # clocks up to two periods apart
    assert tight['resumed_share'] > 0.99
    assert wide['resumed_share'] < 0.85
    assert wide['failures'].get('generation', 0) > 100
    assert wide['failures'].get('chain', 0) == 0     # the same chain: only the generations are too far apart
    assert wide['key_life_max_periods'] > 3.5        # the fleet holds a key longer than any one node does
    assert wide['within_bound']


def test_stress_stays_within_the_two_period_bound():
    r = fleet_sim.simulate(small(nodes=150, days=0.5, attempts=3000, skew='uniform', skew_max=P / 2.0, reboot_rate_per_day=8.0,
                                 run_reach=0.6, run_interval=700, reseed_interval=1500))
    assert r['reboots'] > 100 and r['healed_per_run'] > 0 and r['reseeds'] > 0
    assert r['in_step_min'] < 1.0
    assert r['failures'].get('local', 0) > 0 and r['failures'].get('chain', 0) > 0
    assert 0.9 <= r['decrypt_after_stop_fleet_periods'] <= fleet_sim.BOUND_PERIODS
    assert 0.9 <= r['decrypt_after_stop_node_periods'] <= fleet_sim.BOUND_PERIODS
    assert r['within_bound']


def test_no_controller_run_for_hours_lets_rebooted_nodes_drift_out():
    cfg = small(nodes=200, days=0.5, attempts=3000, reboot_rate_per_day=12.0, reseed_interval=0)
    gap = fleet_sim.simulate(dict(cfg, no_run_from_h=2.0, no_run_to_h=10.0))
    runs = fleet_sim.simulate(cfg)
    assert gap['runs'] < runs['runs']
    assert gap['in_step_min'] < runs['in_step_min']
    assert gap['resumed_share'] < runs['resumed_share']
    # in the gap the share in step only falls (reboots, no heals); the first run after it heals every node
    during = [s for h, s in gap['in_step_series'] if 2.25 <= h < 10.0]
    assert during == sorted(during, reverse=True) and during[-1] < during[0]
    after = [s for h, s in gap['in_step_series'] if 10.25 <= h <= 10.5]
    assert after and min(after) > during[-1]


def test_same_seed_same_figures_other_seed_other_figures():
    def figures(r):
        return dict((k, v) for k, v in r.items() if k not in ('wall_s', 'sim_cpu_s', 'plan'))
    cfg = small(nodes=80, attempts=2000, skew='uniform', skew_max=200.0, reboot_rate_per_day=6.0, run_reach=0.8)
    a, b = fleet_sim.simulate(cfg), fleet_sim.simulate(cfg)
    assert figures(a) == figures(b)
    c = fleet_sim.simulate(dict(cfg, seed=6))
    assert figures(a) != figures(c)


def test_the_plan_cpu_is_measured_in_every_run():
    r = fleet_sim.simulate(small(nodes=80, attempts=500, reboot_rate_per_day=6.0, run_reach=0.8))
    plan = r['plan']
    assert plan['calls'] == r['runs'] > 0
    assert 0 < plan['per_run_s'] <= plan['per_run_max_s'] < 1.0
    assert plan['index_per_run_s'] >= 0
    assert plan['how'].startswith('plans() (one plan() call) measured in each of %d runs' % r['runs'])


def test_a_fleet_that_rebooted_partly_is_never_seeded_again():
    # Four nodes rebooting every few hours and runs that reach each node with probability 0.5: many
    # runs reach only rebooted nodes. Those refuse to seed; a seed happens only in a run that reached
    # every node and found no fleet state on any.
    s = fleet_sim.Simulator(small(nodes=4, days=1.0, attempts=500, reboot_rate_per_day=8.0, run_reach=0.5, run_interval=600))
    r = s.run()
    assert r['seed_refused_runs'] > 0
    for run in s.runs[1:]:
        assert not (run['seeded'] and run['seed_refused'])
        if run['seeded']:
            assert run['seeded'] == run['reached'] == 4 and run['in_step_planned'] == 0
        if run['seed_refused']:
            assert run['seed_refused'] == run['reached'] < 4
            assert run['healed'] == run['reseed_staged'] == 0 and run['in_step_planned'] == 0
    assert r['seeds_after_first'] == sum(1 for run in s.runs[1:] if run['seeded'])


def test_the_simulator_drives_the_collections_key_schedule_and_plan(monkeypatch):
    calls = dict(hkdf=0, names=0, build=0, local_ring=0, plan=0, plans=0, index=0, stage=0)

    def counting(name, fn):
        def wrapper(*a, **kw):
            calls[name] += 1
            return fn(*a, **kw)
        return wrapper
    monkeypatch.setattr(_ratchet, 'hkdf', counting('hkdf', _ratchet.hkdf))
    monkeypatch.setattr(_ratchet.Chain, 'names', counting('names', _ratchet.Chain.names))
    monkeypatch.setattr(_ratchet.Chain, 'stage', counting('stage', _ratchet.Chain.stage))
    monkeypatch.setattr(_fleet, 'build', counting('build', _fleet.build))
    monkeypatch.setattr(_fleet, 'local_ring', counting('local_ring', _fleet.local_ring))
    monkeypatch.setattr(_fleet_plan, 'plan', counting('plan', _fleet_plan.plan))
    monkeypatch.setattr(_fleet_plan, 'plans', counting('plans', _fleet_plan.plans))
    monkeypatch.setattr(_fleet_plan, 'index', counting('index', _fleet_plan.index))
    r = fleet_sim.simulate(small(nodes=30, attempts=500, reboot_rate_per_day=10.0))
    assert all(v > 0 for v in calls.values()), calls
    # once per run (the role's run_once), the seeding run and every run after it: not once per node
    assert calls['plan'] == calls['plans'] == calls['index'] == r['runs'] + 1
    # the key schedule is computed once per chain and generation, not once per node
    assert calls['build'] < 30 * 36


def test_a_broken_key_schedule_shows_in_the_figures(monkeypatch):
    # With a ratchet that never moves and keys that ignore their generation, every generation
    # would have the same key and tickets would resume across any skew: the figures come from
    # the collection's derivation (_ratchet.hkdf through Chain), not from generation arithmetic.
    real = _ratchet.hkdf

    def frozen(ikm, info, length, salt=None):
        if info.startswith(b'ratchet '):
            return ikm
        if info.startswith(b'ticket key '):
            info = info[:-8] + b'\0' * 8
        return real(ikm, info, length, salt)
    cfg = small(attempts=2000, reseed_interval=0, skew='uniform', skew_max=float(P))
    assert fleet_sim.simulate(cfg)['resumed_share'] < 0.85
    monkeypatch.setattr(_ratchet, 'hkdf', frozen)
    assert fleet_sim.simulate(cfg)['resumed_share'] == 1.0


# ---------------------------------------------------------------- scripted

def test_a_rebooted_node_serves_a_local_ring_until_a_run_heals_it():
    s = sim()
    p = s.controller_run(0.0)
    assert p['seed'] and s.in_step_share(10.0) == 1.0
    assert resumes(s, 1, 2, 20.0, 60.0) and resumes(s, 2, 1, 20.0, 60.0)
    s.reboot(1, 100.0)
    assert s.nodes[1].chain is None
    assert resumes(s, 1, 1, 150.0, 200.0)                 # its own tickets resume on it
    assert not resumes(s, 1, 2, 150.0, 200.0)             # but nowhere else
    assert not resumes(s, 2, 1, 150.0, 200.0)
    assert s.in_step_share(200.0) == 0.75
    p = s.controller_run(250.0, reached=[0, 2, 3])        # a run that does not reach it
    assert p['out_of_step'] == [] and p['unreachable'] == [1]
    assert not resumes(s, 1, 2, 260.0, 270.0)
    p = s.controller_run(300.0)                           # the next run heals it from the reference
    assert p['out_of_step'] == [1] and p['reference'] == 0
    assert s.nodes[1].lineage is s.nodes[0].lineage
    assert resumes(s, 1, 2, 310.0, 350.0) and resumes(s, 2, 1, 310.0, 350.0)
    assert s.in_step_share(360.0) == 1.0


def test_a_node_that_missed_a_reseed_falls_out_of_step_at_its_generation_until_healed():
    s = sim(nodes=5)
    s.controller_run(0.0)
    g0 = s.wall_generation(s.nodes[0], 100.0)
    p = s.controller_run(100.0, reached=[0, 1, 2, 3], reseed=True)
    e = p['reseed_generation']
    assert e == g0 + 2 == _ratchet.reseed_generation(fleet_sim.T0 + 100, fleet_sim.EPOCH, P, 120)
    assert [s.runs[-1][k] for k in ('reseed_staged', 'reseed_refused')] == [4, 0]
    t_e1 = _ratchet.boundary(e - 1, fleet_sim.EPOCH, P) - fleet_sim.T0
    t_e = _ratchet.boundary(e, fleet_sim.EPOCH, P) - fleet_sim.T0
    assert s.in_step_share(150.0) == 1.0                  # nobody holds K_e yet
    assert resumes(s, 4, 0, t_e1 - 100, t_e1 - 50)
    # at e-1 its next key (K_e) differs: out of step, though it still encrypts with the fleet's key
    assert s.in_step_share(t_e1 + 120) == 0.8
    assert resumes(s, 4, 0, t_e1 + 120, t_e1 + 130) and resumes(s, 0, 4, t_e1 + 120, t_e1 + 130)
    # at e it encrypts with its own K_e: its tickets fail elsewhere, the others' fail on it
    assert not resumes(s, 4, 0, t_e + 120, t_e + 130)
    assert not resumes(s, 0, 4, t_e + 120, t_e + 130)
    assert resumes(s, 0, 1, t_e + 120, t_e + 130)
    p = s.controller_run(t_e + 200)
    assert p['out_of_step'] == [4] and s.runs[-1]['healed'] == 1
    assert s.in_step_share(t_e + 210) == 1.0
    assert resumes(s, 4, 0, t_e + 220, t_e + 230) and resumes(s, 0, 4, t_e + 220, t_e + 230)


def test_the_timer_poll_and_the_rings_generation_agree():
    s = sim(nodes=30, skew='uniform', skew_max=900.0)
    s.controller_run(0.0)
    rnd = random.Random(3)
    t = 0.0
    for dummy in range(400):
        t += rnd.uniform(0, 97)
        node = s.nodes[rnd.randrange(30)]
        s.sync(node, t)
        assert node.gen == s.ring_generation(node, t)
        assert s.ring_generation(node, node.nxt) == node.gen + 1 > s.ring_generation(node, node.nxt - 1)
        lag = s.switch_time(node, node.gen + 1) - (_ratchet.boundary(node.gen + 1, 0, P) - fleet_sim.T0 - node.skew)
        assert 0 <= lag < s.poll == 60


def test_a_run_that_reaches_only_rebooted_nodes_does_not_seed_them():
    s = sim(nodes=5)
    s.controller_run(0.0)
    s.reboot(1, 100.0)
    s.reboot(3, 110.0)
    # No reached node holds fleet state and nodes were not reached: no seed (it would give the two
    # their own chain apart from the fleet), no reseed; the role fails them and they keep their local rings.
    p = s.controller_run(200.0, reached=[1, 3], reseed=True)
    assert not p['seed'] and p['seed_refused'] and p['reference'] is None
    assert p['unreachable'] == [0, 2, 4]
    assert [s.runs[-1][k] for k in ('seeded', 'seed_refused', 'healed', 'reseed_staged')] == [0, 2, 0, 0]
    assert s.nodes[1].chain is None and s.nodes[3].chain is None and len(s.lineages) == 1
    assert not resumes(s, 1, 3, 210.0, 250.0) and not resumes(s, 3, 1, 210.0, 250.0)     # no chain of their own
    assert resumes(s, 1, 1, 210.0, 250.0) and not resumes(s, 1, 0, 210.0, 250.0)          # local keys
    assert s.in_step_share(260.0) == 0.6
    # A later run that reaches a node holding the state heals the rebooted nodes it reaches.
    p = s.controller_run(300.0, reached=[1, 2])
    assert not p['seed'] and not p['seed_refused'] and p['reference'] == 2 and p['out_of_step'] == [1]
    assert s.nodes[1].lineage is s.nodes[0].lineage and s.nodes[3].chain is None
    assert resumes(s, 1, 0, 310.0, 350.0) and resumes(s, 0, 1, 310.0, 350.0)
    assert s.in_step_share(360.0) == 0.8
    p = s.controller_run(400.0)
    assert p['out_of_step'] == [3] and s.in_step_share(410.0) == 1.0
    assert resumes(s, 3, 1, 420.0, 450.0) and len(s.lineages) == 1


def test_a_fleet_is_seeded_only_by_a_run_that_reaches_every_node():
    s = sim(nodes=5)
    assert s.controller_run(0.0, reached=[0, 1, 2, 3])['seed_refused']        # the first run misses a node
    assert all(node.chain is None for node in s.nodes) and not s.lineages
    p = s.controller_run(100.0)
    assert p['seed'] and not p['seed_refused'] and s.runs[-1]['seeded'] == 5
    assert s.in_step_share(110.0) == 1.0 and resumes(s, 4, 0, 120.0, 150.0)


def test_the_simulator_plans_as_plan_does_on_the_fleets_statuses():
    s = sim(nodes=60, skew='uniform', skew_max=300.0)
    s.controller_run(0.0)
    for i in range(0, 60, 7):
        s.reboot(i, 50.0)
    s.controller_run(400.0, reached=range(30), reseed=True)
    cache = {}
    reached = [i for i in range(60) if i % 5]
    statuses = dict((i, s.status(s.nodes[i], 1300.0, cache)) for i in reached)
    p = _fleet_plan.plan(statuses, s.hosts, 120, fleet_sim.CONTEXT)
    assert p['out_of_step'] and p['in_step'] and p['reference'] is not None
    assert s.plan(reached, statuses) == p
    assert s.plan_cpu[-1][0] == len(reached) and s.plan_cpu[-1][1] >= 0


# ---------------------------------------------------------------- the bench interface

class FakeAxes(object):
    def __init__(self):
        self.lines = []
        self.labels = {}
        self.legend_called = False

    def plot(self, xs, ys, **kw):
        self.lines.append((list(xs), list(ys), kw))

    def set_xlabel(self, text):
        self.labels['x'] = text

    def set_ylabel(self, text):
        self.labels['y'] = text

    def set_title(self, text):
        self.labels['title'] = text

    def grid(self, *a, **kw):
        pass

    def legend(self, *a, **kw):
        self.legend_called = True


def test_bench_rows_table_and_plot():
    rows = fleet_sim.bench_rows(nodes=40, seed=2, period=P, attempts=500, days=0.25)
    assert [r['name'] for r in rows] == ['defaults', 'skew one period', 'a day with no controller run']
    json.dumps(rows)
    assert rows[2]['hours'] == 48 and rows[2]['params']['no_run_from_h'] == 12.0
    assert all(r['in_step_series'] and len(r['in_step_series'][0]) == 2 for r in rows)
    table = fleet_sim.format_table(rows)
    lines = table.splitlines()
    assert lines[0].startswith('row') and set(lines[1]) == set('- ')
    col = lines[0].index('nodes')
    assert all(line[col:col + 3] == '40 ' for line in lines[2:5])       # aligned
    assert all(r['name'] in table for r in rows)
    ax = FakeAxes()
    fleet_sim.plot_in_step(ax, rows)
    assert len(ax.lines) == 3 and ax.legend_called and set(ax.labels) == {'x', 'y', 'title'}
    styles = set((kw['linestyle'], kw['marker']) for dummy, dummy2, kw in ax.lines)
    assert len(styles) == 3
    assert all(0 <= y <= 100 for dummy, ys, dummy2 in ax.lines for y in ys)


def test_command_line(capsys):
    assert fleet_sim.main(['--one', '--nodes', '20', '--days', '0.1', '--period', str(P), '--attempts', '200']) == 0
    out = capsys.readouterr().out
    assert out.startswith('row') and 'custom' in out
