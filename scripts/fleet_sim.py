# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet simulator (issue 16): N nodes of one fleet ring over simulated time,
driving the collection's own key schedule and planning code.

    PYTHONPATH=.build .venv/bin/python scripts/fleet_sim.py            # the three rows (defaults and two stress rows)
    PYTHONPATH=.build .venv/bin/python scripts/fleet_sim.py --one --nodes 2000 --days 1 --skew-sd 30

What is simulated (times in simulated seconds, true time t from 0):

* every node has a clock skew (drawn once: normal with a clamp, or uniform) and a
  rotation timer that polls every _timer.fleet_poll(period) seconds (60 s for a period
  of an hour) with its own phase: its ring is at generation(T0 + last poll + skew)
  (_ratchet.generation), it encrypts with the ring's current key and decrypts with
  any member (_ratchet.ring_generations: previous, current, next);
* rings are the collection's: a fleet node's ring is _fleet.build() from its Chain
  (_ratchet.Chain: from_seed, stage, advance, keys, names), a rebooted node's ring is
  _fleet.local_ring() (random keys nobody else has) until a run heals it; key
  identity is the 16-byte key name (_fleet.names_of);
* Ansible runs every run interval reach a random fraction of the nodes; each run
  builds every reached node's status (shaped as _fleet.status returns it: now,
  wall_generation, origin, context, ring size, chain {generation: name} from the
  state's generation to the next key plus lookahead and staged reseeds, computed
  with the node's own Chain.names), plans once for the fleet as the role does
  (run_once: _fleet_plan.index() then _fleet_plan.plans(), which calls plan() once
  per fleet) and then does what roles/key_ring/tasks/fleet.yml does: seed every
  node when no node holds fleet state and the run reached every node (plan's seed:
  Chain.from_seed at the plan's anchor); refuse to seed when no reached node holds
  fleet state but some nodes were not reached (plan's seed_refused: the role fails
  the reached nodes, which keep their local rings until a run reaches a node that
  holds the state); else join the nodes out of step from the plan's reference
  (_fleet.build from the reference's chain, the joiner's old ring as `old`, as
  _fleet.join does), then, in a reseed run, stage fresh randomness at the plan's
  reseed_generation on every reached node (Chain.stage, refused as _fleet.reseed
  refuses it). A node that missed the reseed keeps the old chain and falls out of
  step at that generation;
* reboots are a Poisson process per node: the store comes back empty, the boot
  unit builds a local ring at once and the timer restarts (a new phase).

What is measured: the share of resumption attempts that succeed (a ticket issued
by node A at t with its current key, offered to node B at t + age: resumed when
B's ring at t + age holds a key of that name); the share of nodes in step (every
member of the node's ring equal to the key of that generation in the chain most
nodes hold) sampled every quarter period; the longest time any key could decrypt
after it stopped encrypting, fleet-wide (last time any node held the name minus
last time any node encrypted with it) and per node, in periods, which the ring's
design bounds by two; the longest key life (first encryption anywhere to last
holder); the controller's work per run (nodes reached, healed, and the CPU time of
the run's planning, measured with time.process_time around the plans() call).

Not driven through the store: _fleet's tick, seed, join, reseed and status work on
a tmpfs directory (files, fsync, rename); driving 10,000 directories per period
would measure the disk, not the schedule. The simulator calls their pure parts
(build, local_ring, Chain, generation, ring_generations, reseed_generation, and
the controller's index, plans and plan)
and repeats the few lines around them (which generation, what is refused). Nodes
in step hold the same chain, so a ring is built once per (chain, generation) and
shared (memoised); rings that differ (local rings, joins that kept old members)
are built per node.

plan() is called for every run at any size: it groups the nodes by chain (linear
in the nodes, quadratic only in the distinct chains), and the role calls it once
per fleet and run, so its measured CPU is the controller's planning cost per run.

Not modelled: the time a run takes (every run is instantaneous, so no reseed is
refused here: a refusal needs a run longer than the margin), clock steps (skews
are fixed, so _fleet's spent_through never applies), downtime during a reboot,
stalled timers, failed joins, server reloads.

The schedule: every node boots with a local ring at 0 and a first run reaching
all of them seeds the fleet; then runs every run interval from run_phase, a
reseed in the first run at or after each reseed interval, reboots, attempts and
samples. The rows (row_configs): the defaults (DEFAULTS), "skew one period"
(clocks uniform over +-period/2) and "a day with no controller run" (none from
hour 12 to hour 36, 48 hours simulated).

All randomness (skews, reboots, reach, attempts, seeds and reseeds) comes from
random.Random seeded with --seed; seeds are simulated, never real keys. Local
rings use the collection's random keys (os.urandom): their names are unique, so
the figures do not depend on them. Nothing prints a key, a name or a state.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import ansible_collections.hardened_tls.resumption.plugins.module_utils  # noqa: F401 pylint: disable=unused-import
except ImportError:     # run without PYTHONPATH=.build (make bench): the Makefile's symlink tree
    sys.path.insert(0, os.path.join(ROOT, '.build'))
    for _mod in [m for m in sys.modules if m == 'ansible_collections' or m.startswith('ansible_collections.')]:
        del sys.modules[_mod]

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer
from ansible_collections.hardened_tls.resumption.plugins.module_utils._ratchet import Chain, boundary, generation, ring_generations
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils import _fleet_plan

HOUR = 3600
DAY = 24 * HOUR
T0 = 1767225600             # 2026-01-01T00:00:00Z, a whole number of hours: sim time 0 (epoch 0)
EPOCH = 0
CONTEXT = 'sim'             # the fleet's trust context (key_ring_fleet_group)
BOUND_PERIODS = 2

DEFAULTS = {
    'nodes': 10000,
    'days': 2.0,                 # simulated days
    'period': 3600,              # key_ring_period for the simulation (the role's default is 43200)
    'size': 3,                   # ring size (previous, current, next)
    'key_size': 80,
    'server': 'nginx',
    'skew': 'normal',            # 'normal' (sd, clamped) or 'uniform' (-skew_max .. +skew_max)
    'skew_sd': 2.0,              # seconds (NTP-synced hosts: well under this)
    'skew_max': 30.0,            # clamp (normal) or half-width (uniform), seconds
    'reboot_rate_per_day': 1.0 / 30,     # per node: a reboot a month
    'run_interval': 3600,        # seconds between controller runs
    'run_phase': 1200,           # first run after the seed, seconds (20 min past the hour: not on a boundary)
    'run_reach': 0.95,           # fraction of nodes a run reaches (each node independently)
    'reseed_interval': 6 * 3600,  # a run at or after each interval stages a reseed (playbooks/rotate.yml); 0: never
    'margin': 120,               # key_ring_fleet_reseed_margin
    'no_run_from_h': None,       # no controller run from this hour ...
    'no_run_to_h': None,         # ... to this hour (reboots continue)
    'attempts': 200000,          # resumption attempts sampled over the simulation
    'age_max_periods': 1.0,      # ticket age uniform in 0 .. this many periods (the lifetime hint is one period)
    'sample_periods': 0.25,      # in-step share sampled every this many periods
    'seed': 1,
}


PARAMS = ('skew', 'skew_sd', 'skew_max', 'reboot_rate_per_day', 'run_interval', 'run_reach', 'reseed_interval', 'margin',
          'no_run_from_h', 'no_run_to_h', 'age_max_periods', 'seed')


def row_configs(base=None):
    """The three rows: the defaults, skew of one period (clocks uniform over one period, so
    two nodes are up to one period apart), a day with no controller run (hours 12 to 36)."""
    base = dict(DEFAULTS, **(base or {}))
    skew = dict(base, name='skew one period', skew='uniform', skew_max=base['period'] / 2.0)
    gap_from = 12.0
    gap = dict(base, name='a day with no controller run', no_run_from_h=gap_from, no_run_to_h=gap_from + 24.0,
               days=max(base['days'], (gap_from + 24.0 + 12.0) / 24.0))
    return [dict(base, name='defaults'), skew, gap]


# ---------------------------------------------------------------- the key schedule's lineages

class Lineage(object):
    """One chain as the nodes hold it: a seed and the reseeds staged on it. Every node of a
    lineage derives the same names; the names are computed once per generation (Chain.names)."""

    __slots__ = ('base', 'key_size', 'chains', 'names', 'children', 'label')

    def __init__(self, base, key_size, label):
        self.base = base                  # _ratchet.Chain at the seed's anchor, with its staged reseeds
        self.key_size = key_size
        self.chains = {base.gen: base}    # Chain advanced to a generation (cache)
        self.names = {}                   # generation -> key name
        self.children = {}                # (generation, id of the reseed) -> Lineage
        self.label = label

    def chain_at(self, gen):
        c = self.chains.get(gen)
        if c is None:
            start = max(g for g in self.chains if g <= gen)
            c = self.chains[start].advance(gen)
            self.chains[gen] = c
        return c

    def name(self, h):
        """The key name of generation h (None before the seed's anchor: not derivable)."""
        n = self.names.get(h)
        if n is None:
            if h < self.base.gen:
                return None
            self.names.update(self.chain_at(max(self.base.gen, h)).names(range(h, h + 8), self.key_size))
            n = self.names[h]
        return n

    def child(self, at, reseed_id, randomness):
        key = (at, reseed_id)
        c = self.children.get(key)
        if c is None:
            c = Lineage(self.base.stage(at, randomness), self.key_size, '%s+r%d' % (self.label, at))
            self.children[key] = c
        return c


class Node(object):
    __slots__ = ('idx', 'skew', 'phase', 'min_gen', 'gen', 'nxt', 'ring', 'names', 'nameset', 'cur', 'chain', 'lineage',
                 'enc_stop', 'node_max', 'boots')

    def __init__(self, idx, skew, phase):
        self.idx = idx
        self.skew = skew              # whole seconds
        self.phase = phase            # the timer's phase: it polls at phase + k * poll (true seconds)
        self.min_gen = None           # the generation a state change built at (the ring is never older)
        self.gen = None               # the ring's generation
        self.nxt = None               # when the timer sees generation gen + 1 (true seconds)
        self.ring = None              # _ring.Ring (shared between nodes in step)
        self.names = None             # {generation: name} of the ring
        self.nameset = None
        self.cur = None               # the name that encrypts
        self.chain = None             # _ratchet.Chain, None for a local ring
        self.lineage = None
        self.enc_stop = {}            # name -> when this node stopped encrypting with it (while it still holds it)
        self.node_max = 0.0           # longest decrypt after stop on this node
        self.boots = 0


# ---------------------------------------------------------------- the simulator

class Simulator(object):
    """The fleet in simulated time. Drive it step by step (reboot, controller_run, ticket,
    accepts, in_step_share: times must not go back for a node) or run() a whole schedule."""

    def __init__(self, cfg=None, **kw):
        cfg = dict(DEFAULTS, **(cfg or {}))
        cfg.update(kw)
        self.cfg = cfg
        self.period = int(cfg['period'])
        self.size = int(cfg['size'])
        self.key_size = int(cfg['key_size'])
        self.spec = _fleet.Spec(cfg['server'], self.key_size, self.size, EPOCH, self.period)
        self.poll = _timer.fleet_poll(self.period)
        self.margin = int(cfg['margin'])
        seed = cfg['seed']
        self.rng_skew = random.Random('%s-skew' % seed)
        self.rng_reboot = random.Random('%s-reboot' % seed)
        self.rng_reach = random.Random('%s-reach' % seed)
        self.rng_attempt = random.Random('%s-attempt' % seed)
        self.rng_keys = random.Random('%s-keys' % seed)
        self.rng_phase = random.Random('%s-phase' % seed)
        n = int(cfg['nodes'])
        self.nodes = [Node(i, self._draw_skew(), self.rng_phase.randrange(self.poll)) for i in range(n)]
        self.hosts = list(range(n))          # inventory order
        self.memo = {}                       # (id(lineage), generation) -> (ring, chain, names, nameset)
        self.lineages = []
        self.keys = {}                       # name -> [first encrypt, last encrypt, last held]
        self.stats = Counter()
        self.runs = []
        self.plan_cpu = []                   # (reached, CPU seconds) of each run's plans() call
        self.index_cpu = []                  # CPU seconds of each run's index() call
        for node in self.nodes:
            self._boot(node, 0.0, first=True)

    # -- clocks
    def _draw_skew(self):
        c = self.cfg
        if c['skew'] == 'uniform':
            s = self.rng_skew.uniform(-c['skew_max'], c['skew_max'])
        elif c['skew'] == 'normal':
            s = max(-c['skew_max'], min(c['skew_max'], self.rng_skew.gauss(0.0, c['skew_sd'])))
        else:
            raise ValueError('skew must be normal or uniform, got %r' % (c['skew'],))
        return int(round(s))

    def clock(self, node, t):
        """The node's wall clock (seconds since 1970) at true time t."""
        return T0 + int(math.floor(t)) + node.skew

    def wall_generation(self, node, t):
        return generation(self.clock(node, t), EPOCH, self.period)

    def ring_generation(self, node, t):
        """The ring's generation at t: the wall generation at the timer's last poll (never older
        than what the last state change built)."""
        last_poll = node.phase + self.poll * int(math.floor((t - node.phase) / self.poll))
        return max(node.min_gen, generation(T0 + last_poll + node.skew, EPOCH, self.period))

    def switch_time(self, node, gen):
        """When the node's timer first sees generation gen (true seconds)."""
        x = boundary(gen, EPOCH, self.period) - T0 - node.skew
        return node.phase - ((node.phase - x) // self.poll) * self.poll

    # -- rings
    def _fleet_ring(self, lineage, gen):
        """The ring every node of lineage holds at gen (_fleet.build), built once."""
        k = (id(lineage), gen)
        m = self.memo.get(k)
        if m is None:
            now = boundary(gen, EPOCH, self.period)
            ring, chain = _fleet.build(self.spec, lineage.chain_at(gen - (self.size - 2)), gen, now, context=CONTEXT)
            names = dict(_fleet.names_of(ring))
            for h, nm in names.items():    # the memo and the lineage's names come from the same chain
                if nm != lineage.name(h):
                    raise AssertionError('simulator: ring and chain names differ at generation %d' % h)
            m = self.memo[k] = (ring, chain, names, frozenset(names.values()))
            self.stats['rings_built'] += 1
        return m

    def _set_ring(self, node, ring, chain, names, nameset, gen, tau):
        """The node's ring changes at true time tau: bookkeeping of encrypting and holding."""
        cur = names[gen]
        old_cur = node.cur
        if old_cur is not None and old_cur != cur:
            rec = self.keys[old_cur]
            if tau > rec[1]:
                rec[1] = tau
            node.enc_stop[old_cur] = tau
        if old_cur != cur:
            rec = self.keys.get(cur)
            if rec is None:
                self.keys[cur] = [tau, -1.0, -1.0]
            elif tau < rec[0]:
                rec[0] = tau
        if node.nameset is not None:
            for nm in node.nameset:
                if nm not in nameset:
                    rec = self.keys.get(nm)
                    if rec is None:
                        rec = self.keys[nm] = [float('inf'), -1.0, -1.0]
                    if tau > rec[2]:
                        rec[2] = tau
                    s = node.enc_stop.pop(nm, None)
                    if s is not None and tau - s > node.node_max:
                        node.node_max = tau - s
        node.ring, node.chain, node.names, node.nameset, node.cur, node.gen = ring, chain, names, nameset, cur, gen
        node.nxt = self.switch_time(node, gen + 1)

    def _tick(self, node, gen, tau):
        """What the timer does when its poll sees a new generation (_fleet._current)."""
        now = self.clock(node, tau)
        if node.chain is None:
            ring = _fleet.local_ring(self.spec, gen, now, old=node.ring)
            names = dict(_fleet.names_of(ring))
            self._set_ring(node, ring, None, names, frozenset(names.values()), gen, tau)
            self.stats['local_ticks'] += 1
        elif node.chain.gen <= gen - (self.size - 2):
            ring, chain, names, nameset = self._fleet_ring(node.lineage, gen)
            self._set_ring(node, ring, chain, names, nameset, gen, tau)
        else:       # after a join from a node ahead: members older than the state come from the old ring
            ring, chain = _fleet.build(self.spec, node.chain, gen, now, old=node.ring)
            names = dict(_fleet.names_of(ring))
            self._set_ring(node, ring, chain, names, frozenset(names.values()), gen, tau)
            self.stats['node_builds'] += 1

    def sync(self, node, t):
        """Bring the node to true time t: the timer's polls since the last look, each generation
        at the poll that first sees it (switch_time; ring_generation(node, t) == node.gen after)."""
        while node.nxt <= t:
            self._tick(node, node.gen + 1, float(node.nxt))

    def _force(self, node, t):
        """A module call brings the ring to the wall generation at once (tick before acting)."""
        self.sync(node, t)
        w = self.wall_generation(node, t)
        while node.gen < w:
            self._tick(node, node.gen + 1, t)
        node.min_gen = max(node.min_gen, w)

    # -- events
    def _boot(self, node, t, first=False):
        """The store is empty after a reboot: the boot unit builds a local ring at once."""
        gen = self.wall_generation(node, t)
        ring = _fleet.local_ring(self.spec, gen, self.clock(node, t))
        names = dict(_fleet.names_of(ring))
        node.chain, node.lineage = None, None
        self._set_ring(node, ring, None, names, frozenset(names.values()), gen, t)
        node.min_gen = gen
        if not first:
            node.phase = int(math.floor(t)) + 1      # OnActiveSec=1s, then every poll
            node.nxt = self.switch_time(node, gen + 1)
            node.boots += 1
            self.stats['reboots'] += 1

    def reboot(self, i, t):
        node = self.nodes[i]
        self.sync(node, t)
        self._boot(node, t)

    def status(self, node, t, cache):
        """fleet_ring state=status, as _fleet.status returns it (names and generations only)."""
        self.sync(node, t)
        now = self.clock(node, t)
        gen = generation(now, EPOCH, self.period)
        chain = {}
        if node.chain is not None:
            top = max(gen, node.gen) + 1 + max(0, self.margin // self.period + 3)
            top = max([top] + list(node.chain.pending))
            k = (id(node.lineage), node.chain.gen, top)
            chain = cache.get(k)
            if chain is None:
                names = node.chain.names(range(node.chain.gen, top + 1), self.key_size)
                chain = cache[k] = dict((str(h), nm) for h, nm in sorted(names.items()))
        return {
            'now': now, 'epoch': EPOCH, 'period': self.period, 'wall_generation': gen,
            'origin': 'fleet' if node.chain is not None else 'local',
            'context': CONTEXT if node.chain is not None else None,
            'ring': {'size': self.size, 'generation': node.gen},
            'chain': chain,
        }

    def plan(self, reached, statuses):
        """The role's planning, once per run (run_once): index the play's fleets, then plans(),
        which calls plan() once for this fleet. The CPU of the plans() call is recorded."""
        t0 = time.process_time()
        fleets = _fleet_plan.index(dict((h, CONTEXT) for h in reached), reached, reached, {CONTEXT: self.hosts})
        t1 = time.process_time()
        p = _fleet_plan.plans(fleets, statuses, self.margin)
        self.plan_cpu.append((len(statuses), time.process_time() - t1))
        self.index_cpu.append(t1 - t0)
        if CONTEXT not in p:        # a run that reaches no node: no host plays the role, nothing to do
            return _fleet_plan.plan({}, self.hosts, self.margin, CONTEXT)
        return p[CONTEXT]

    def controller_run(self, t, reached=None, reseed=False):
        """One run of the role's fleet tasks on the reached nodes (all when reached is None)."""
        if reached is None:
            reached = list(self.hosts)
        reached = sorted(set(reached))
        cache = {}
        statuses = dict((i, self.status(self.nodes[i], t, cache)) for i in reached)
        p = self.plan(reached, statuses)
        healed = seeded = refused_seed = 0
        if p['seed'] and reached:   # no node holds fleet state and the run reached every node
            raw = self.rng_keys.getrandbits(256).to_bytes(32, 'big')
            lineage = Lineage(Chain.from_seed(raw, p['anchor']), self.key_size, 'seed%d' % len(self.lineages))
            self.lineages.append(lineage)
            for i in reached:
                node = self.nodes[i]
                self._force(node, t)
                ring, chain, names, nameset = self._fleet_ring(lineage, node.gen)
                self._set_ring(node, ring, chain, names, nameset, node.gen, t)
                node.lineage = lineage
                seeded += 1
        elif p['seed_refused']:     # the role fails the reached nodes: they keep their local rings
            refused_seed = len(reached)
        elif p['reference'] is not None:
            ref = self.nodes[p['reference']]
            self._force(ref, t)               # export ticks the reference first
            for i in p['out_of_step']:
                node = self.nodes[i]
                self._force(node, t)
                ring, chain = _fleet.build(self.spec, ref.chain, node.gen, self.clock(node, t), old=node.ring,
                                           since=self.clock(node, t), context=CONTEXT)
                names = dict(_fleet.names_of(ring))
                self._set_ring(node, ring, chain, names, frozenset(names.values()), node.gen, t)
                node.lineage = ref.lineage
                healed += 1
        staged = refused = 0
        if reseed and p['reference'] is not None:
            raw = self.rng_keys.getrandbits(256).to_bytes(32, 'big')
            at = p['reseed_generation']
            rid = len(self.runs)
            for i in reached:
                node = self.nodes[i]
                self._force(node, t)
                newest = max(node.gen, self.wall_generation(node, t)) + 1
                if node.chain is None or at <= newest:       # _fleet.reseed refuses it: this node is left out of step
                    refused += 1
                    continue
                node.chain = node.chain.stage(at, raw)
                node.lineage = node.lineage.child(at, rid, raw)
                staged += 1
        rec = {'t': t, 'reached': len(reached), 'healed': healed, 'seeded': seeded, 'seed_refused': refused_seed,
               'reseed_staged': staged, 'reseed_refused': refused, 'plan_cpu_s': self.plan_cpu[-1][1],
               'in_step_planned': len(p['in_step'])}
        self.runs.append(rec)
        return p

    def ticket(self, i, t):
        """(key name, generation, whether the key is the fleet's) node i encrypts a ticket with at t."""
        node = self.nodes[i]
        self.sync(node, t)
        return node.cur, node.gen, node.chain is not None

    def accepts(self, i, name, t):
        node = self.nodes[i]
        self.sync(node, t)
        return name in node.nameset

    def majority(self):
        counts = Counter(id(n.lineage) for n in self.nodes if n.lineage is not None)
        if not counts:
            return None
        best = counts.most_common(1)[0][0]
        for n in self.nodes:
            if n.lineage is not None and id(n.lineage) == best:
                return n.lineage
        return None

    def in_step(self, node, ref):
        if node.lineage is None or ref is None:
            return False
        if node.lineage is ref and node.chain.gen <= node.gen - (self.size - 2):
            return True
        return all(ref.name(h) == nm for h, nm in node.names.items())

    def in_step_share(self, t):
        for node in self.nodes:
            self.sync(node, t)
        ref = self.majority()
        return sum(1 for node in self.nodes if self.in_step(node, ref)) / float(len(self.nodes))

    # -- a whole schedule
    def _gap(self, t):
        a, b = self.cfg['no_run_from_h'], self.cfg['no_run_to_h']
        return a is not None and b is not None and a * HOUR <= t < b * HOUR

    def run(self):
        """The schedule: seed at 0, runs, reseeds, reboots, attempts, samples. Returns the figures."""
        c = self.cfg
        wall0 = time.time()
        cpu0 = time.process_time()
        duration = float(c['days']) * DAY
        period = self.period
        events = []             # (time, kind, seq, argument); kinds order events at the same time:
        # 0 reboot (node), 1 run (reseed or not), 2 sample, 3 ticket issued, 4 ticket offered (attempt index)
        self.controller_run(0.0, reached=None)          # the first run reaches every node and seeds them
        rate = float(c['reboot_rate_per_day']) * len(self.nodes) / DAY
        t = 0.0
        while rate > 0:
            t += self.rng_reboot.expovariate(rate)
            if t >= duration:
                break
            events.append((t, 0, len(events), self.rng_reboot.randrange(len(self.nodes))))
        t = float(c['run_phase'])
        reseed_due = float(c['reseed_interval']) if c['reseed_interval'] else None
        while t < duration:
            if not self._gap(t):
                reseed = reseed_due is not None and t >= reseed_due
                if reseed:
                    while reseed_due <= t:
                        reseed_due += float(c['reseed_interval'])
                events.append((t, 1, len(events), reseed))
            t += float(c['run_interval'])
        step = float(c['sample_periods']) * period
        k = 0
        while k * step <= duration:
            events.append((k * step, 2, len(events), None))
            k += 1
        age_max = float(c['age_max_periods']) * period
        n = len(self.nodes)
        attempts = int(c['attempts']) if n > 1 else 0
        issuer, receiver, issued = [0] * attempts, [0] * attempts, [None] * attempts
        rnd = self.rng_attempt
        for i in range(attempts):
            t = rnd.uniform(0.0, max(0.0, duration - age_max))
            age = rnd.uniform(0.0, age_max)
            a = rnd.randrange(n)
            b = rnd.randrange(n - 1)
            issuer[i], receiver[i] = a, b + 1 if b >= a else b
            events.append((t, 3, len(events), i))
            events.append((t + age, 4, len(events), i))
        events.sort()
        series = []
        fails = Counter()
        resumed = 0
        reach = float(c['run_reach'])
        for t, kind, dummy, arg in events:
            if kind == 4:
                name, gen, fleet_key = issued[arg]
                node = self.nodes[receiver[arg]]
                self.sync(node, t)
                if name in node.nameset:
                    resumed += 1
                elif gen not in ring_generations(node.gen, self.size):
                    fails['generation'] += 1
                elif not fleet_key or node.chain is None:
                    fails['local'] += 1
                else:
                    fails['chain'] += 1
            elif kind == 3:
                issued[arg] = self.ticket(issuer[arg], t)
            elif kind == 0:
                self.reboot(arg, t)
            elif kind == 1:
                reached = [i for i in self.hosts if self.rng_reach.random() < reach]
                self.controller_run(t, reached, reseed=arg)
            else:
                series.append([round(t / HOUR, 4), self.in_step_share(t)])
        # Let every key that encrypted before the end leave every ring (no more events).
        end = duration + (self.size + 1) * period
        for node in self.nodes:
            self.sync(node, end)
        return self._figures(c, duration, attempts, resumed, fails, series, wall0, cpu0)

    def _figures(self, c, duration, attempts, resumed, fails, series, wall0, cpu0):
        period = float(self.period)
        fleet_after = 0.0
        life = 0.0
        for first, last_enc, last_held in self.keys.values():
            if 0.0 <= last_enc <= duration and last_held >= 0.0:
                fleet_after = max(fleet_after, last_held - last_enc)
                if first <= duration:
                    life = max(life, last_held - first)
        node_after = max(n.node_max for n in self.nodes)
        runs = self.runs[1:]        # after the seeding run
        shares = [s for h, s in series]
        out = {
            'name': c.get('name', 'custom'),
            'nodes': len(self.nodes),
            'hours': duration / HOUR,
            'period_s': self.period,
            'params': dict((k, c[k]) for k in PARAMS),
            'timer_poll_s': self.poll,
            'attempts': attempts,
            'resumed': resumed,
            'resumed_share': resumed / float(attempts) if attempts else None,
            'failures': dict(fails),
            'in_step_min': min(shares) if shares else None,
            'in_step_mean': sum(shares) / len(shares) if shares else None,
            'in_step_series': series,
            'decrypt_after_stop_fleet_periods': fleet_after / period,
            'decrypt_after_stop_node_periods': node_after / period,
            'key_life_max_periods': life / period,
            'bound_periods': BOUND_PERIODS,
            'within_bound': fleet_after <= BOUND_PERIODS * period and node_after <= BOUND_PERIODS * period,
            'reboots': self.stats['reboots'],
            'runs': len(runs),
            'reached_per_run': sum(r['reached'] for r in runs) / float(len(runs)) if runs else 0.0,
            'healed_per_run': sum(r['healed'] for r in runs) / float(len(runs)) if runs else 0.0,
            'healed_per_run_max': max([r['healed'] for r in runs] or [0]),
            'reseeds': sum(1 for r in runs if r['reseed_staged']),
            'reseed_refused': sum(r['reseed_refused'] for r in runs),
            'seeds_after_first': sum(1 for r in runs if r['seeded']),
            'seed_refused_runs': sum(1 for r in runs if r['seed_refused']),
            'rings_built_shared': self.stats['rings_built'],
            'rings_built_per_node': self.stats['node_builds'] + self.stats['local_ticks'],
        }
        out['plan'] = self._plan_cost()
        out['sim_cpu_s'] = time.process_time() - cpu0
        out['wall_s'] = time.time() - wall0
        return out

    def _plan_cost(self):
        """The CPU of the role's planning per run, measured (time.process_time) around the
        plans() call of every run after the seeding run; index() apart."""
        cpu = [s for n, s in self.plan_cpu[1:]]
        idx = self.index_cpu[1:]
        if not cpu:
            return {'per_run_s': None, 'per_run_max_s': None, 'index_per_run_s': None, 'calls': 0, 'how': 'not measured'}
        return {'per_run_s': sum(cpu) / len(cpu), 'per_run_max_s': max(cpu), 'index_per_run_s': sum(idx) / len(idx),
                'seed_run_s': self.plan_cpu[0][1] if self.plan_cpu else None, 'calls': len(cpu),
                'how': 'plans() (one plan() call) measured in each of %d runs, mean %s, index() %s' % (
                    len(cpu), _ms(sum(cpu) / len(cpu)), _ms(sum(idx) / len(idx)))}


def simulate(cfg=None, **kw):
    return Simulator(cfg, **kw).run()


# ---------------------------------------------------------------- bench interface

def bench_rows(nodes=10000, seed=1, **base):
    """The three rows (dicts, JSON-serialisable) for make bench."""
    base = dict(base, nodes=nodes, seed=seed)
    return [simulate(cfg) for cfg in row_configs(base)]


def _pct(x, digits=2):
    return 'n/a' if x is None else '%.*f %%' % (digits, 100.0 * x)


def _secs(x):
    if x is None:
        return 'n/a'
    if x >= 86400:
        return '%.1f d' % (x / 86400.0)
    if x >= 3600:
        return '%.1f h' % (x / 3600.0)
    if x >= 1:
        return '%.1f s' % x
    return '%.0f ms' % (x * 1000)


def _ms(x):
    return 'n/a' if x is None else '%.3g ms' % (x * 1000)


def format_table(rows):
    """A plain text table of rows from simulate() / bench_rows()."""
    head = ['row', 'nodes', 'sim', 'resumed', 'in step min / mean', 'decrypt after stop fleet / node', 'key life',
            'runs', 'reached/run', 'healed/run mean / max', 'plan() CPU/run mean / max', 'wall']
    body = []
    for r in rows:
        plan = r.get('plan') or {}
        body.append([
            r['name'],
            '%d' % r['nodes'],
            '%.0f h' % r['hours'],
            _pct(r['resumed_share']),
            '%s / %s' % (_pct(r['in_step_min'], 1), _pct(r['in_step_mean'], 1)),
            '%.2f / %.2f P%s' % (r['decrypt_after_stop_fleet_periods'], r['decrypt_after_stop_node_periods'],
                                 '' if r['within_bound'] else ' (OVER %d P)' % r['bound_periods']),
            '%.2f P' % r['key_life_max_periods'],
            '%d' % r['runs'],
            '%.0f' % r['reached_per_run'],
            '%.1f / %d' % (r['healed_per_run'], r['healed_per_run_max']),
            '%s / %s' % (_ms(plan.get('per_run_s')), _ms(plan.get('per_run_max_s'))),
            '%.0f s' % r['wall_s'],
        ])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ['  '.join(x.ljust(w) for x, w in zip(line, widths)).rstrip() for line in [head] + body]
    lines.insert(1, '  '.join('-' * w for w in widths))
    notes = []
    for r in rows:
        p = r['params']
        skew = ('normal sd %g s (clamp %g s)' % (p['skew_sd'], p['skew_max']) if p['skew'] == 'normal'
                else 'uniform +-%g s' % p['skew_max'])
        gap = ('; no run from %g h to %g h' % (p['no_run_from_h'], p['no_run_to_h'])
               if p['no_run_from_h'] is not None else '')
        fails = ', '.join('%s %d' % kv for kv in sorted(r['failures'].items())) or 'none'
        notes.append('%s: period %d s (timer poll %d s), skew %s, %g reboots/node/day (%d), run every %d s reaching %g, '
                     'reseed every %s (%d staged, %d refused)%s; seeds after the first %d, seeds refused %d; %d attempts, '
                     'ticket age 0..%g P, failed: %s; planning: %s'
                     % (r['name'], r['period_s'], r['timer_poll_s'], skew, p['reboot_rate_per_day'], r['reboots'],
                        p['run_interval'], p['run_reach'], _secs(p['reseed_interval']) if p['reseed_interval'] else 'never',
                        r['reseeds'], r['reseed_refused'], gap, r['seeds_after_first'], r['seed_refused_runs'], r['attempts'],
                        p['age_max_periods'], fails, (r.get('plan') or {}).get('how')))
    return '\n'.join(lines + [''] + notes) + '\n'


STYLES = [('-', 'o'), ('--', 's'), (':', '^'), ('-.', 'D'), ((0, (5, 1, 1, 1)), 'v')]


def plot_in_step(ax, rows):
    """Share of nodes in step over simulated time, one line per row (distinct styles and markers),
    on a matplotlib Axes the caller made (this module never imports matplotlib itself)."""
    for k, r in enumerate(rows):
        ls, marker = STYLES[k % len(STYLES)]
        xs = [h for h, s in r['in_step_series']]
        ys = [100.0 * s for h, s in r['in_step_series']]
        ax.plot(xs, ys, linestyle=ls, marker=marker, markevery=max(1, len(xs) // 12), markersize=5, linewidth=1.4,
                alpha=0.9, label='%s (%d nodes, min %.1f %%)' % (r['name'], r['nodes'], 100.0 * (r['in_step_min'] or 0)))
    ax.set_xlabel('simulated time (hours)')
    ax.set_ylabel('nodes in step (%)')
    ax.set_title('Fleet simulator: share of nodes in step')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='lower left', fontsize='small')


# ---------------------------------------------------------------- command line

def main(argv=None):
    ap = argparse.ArgumentParser(description='Fleet simulator (the collection\'s key schedule and plan over simulated time).')
    ap.add_argument('--nodes', type=int, default=DEFAULTS['nodes'])
    ap.add_argument('--days', type=float, default=DEFAULTS['days'])
    ap.add_argument('--period', type=int, default=DEFAULTS['period'], help='seconds (default %(default)s)')
    ap.add_argument('--skew', choices=['normal', 'uniform'], default=DEFAULTS['skew'])
    ap.add_argument('--skew-sd', type=float, default=DEFAULTS['skew_sd'], help='normal: standard deviation, seconds')
    ap.add_argument('--skew-max', type=float, default=DEFAULTS['skew_max'], help='normal: clamp; uniform: half-width, seconds')
    ap.add_argument('--reboot-rate-per-day', type=float, default=DEFAULTS['reboot_rate_per_day'])
    ap.add_argument('--run-interval', type=int, default=DEFAULTS['run_interval'], help='seconds between controller runs')
    ap.add_argument('--run-phase', type=int, default=DEFAULTS['run_phase'], help='first run, seconds after the seed')
    ap.add_argument('--run-reach', type=float, default=DEFAULTS['run_reach'], help='fraction of nodes a run reaches')
    ap.add_argument('--reseed-interval', type=int, default=DEFAULTS['reseed_interval'], help='seconds, 0: never')
    ap.add_argument('--margin', type=int, default=DEFAULTS['margin'], help='key_ring_fleet_reseed_margin, seconds')
    ap.add_argument('--no-run-from', type=float, default=None, help='no controller run from this hour ...')
    ap.add_argument('--no-run-to', type=float, default=None, help='... to this hour')
    ap.add_argument('--attempts', type=int, default=DEFAULTS['attempts'])
    ap.add_argument('--age-max', type=float, default=DEFAULTS['age_max_periods'], help='ticket age 0 .. this many periods')
    ap.add_argument('--seed', type=int, default=DEFAULTS['seed'])
    ap.add_argument('--json', help='also write the rows (with the in-step series) to this file')
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument('--rows', action='store_true', help='the defaults and the two stress rows (the default)')
    mode.add_argument('--one', action='store_true', help='one row with exactly these settings')
    a = ap.parse_args(argv)
    base = {'nodes': a.nodes, 'days': a.days, 'period': a.period, 'skew': a.skew, 'skew_sd': a.skew_sd, 'skew_max': a.skew_max,
            'reboot_rate_per_day': a.reboot_rate_per_day, 'run_interval': a.run_interval, 'run_phase': a.run_phase,
            'run_reach': a.run_reach, 'reseed_interval': a.reseed_interval, 'margin': a.margin, 'no_run_from_h': a.no_run_from,
            'no_run_to_h': a.no_run_to, 'attempts': a.attempts, 'age_max_periods': a.age_max,
            'seed': a.seed}
    configs = [dict(DEFAULTS, name='custom', **base)] if a.one else row_configs(base)
    rows = []
    for cfg in configs:
        print('simulating %s: %d nodes, %g days ...' % (cfg['name'], cfg['nodes'], cfg['days']), file=sys.stderr, flush=True)
        rows.append(simulate(cfg))
    sys.stdout.write(format_table(rows))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(rows, f, indent=1, sort_keys=True)
    return 0 if all(r['within_bound'] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
