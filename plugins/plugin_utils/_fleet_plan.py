# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet planning, on the controller only (the fleet_plan filter): which node
heals the others, whether to seed, where a reseed may take effect.

It works on the status results of fleet_ring (names and generations, never a
key or a state). It lives in plugin_utils, not module_utils, so that it is
never copied to the hosts with the rotation timer's code.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.hardened_tls.resumption.plugins.module_utils._ratchet import reseed_generation


def agree(a, b):
    """Whether two status chains ({generation: name}) agree where both have a name
    (and overlap at all)."""
    common = set(a) & set(b)
    return bool(common) and all(a[h] == b[h] for h in common)


def _classes(statuses, fleet):
    """The nodes of fleet grouped by their chain: the class of a node (the nodes
    whose chain agrees with its own) depends on its chain only, so agree() runs
    once per pair of distinct chains, not per pair of nodes. Returns (key of each
    node, {key: set of agreeing keys}, {key: class size})."""
    chains, count, key_of, order = {}, {}, {}, []
    for h in fleet:
        chain = statuses[h]['chain']
        k = frozenset(chain.items())
        if k not in chains:
            chains[k] = chain
            count[k] = 0
            order.append(k)
        count[k] += 1
        key_of[h] = k
    agreeing = dict((a, set(b for b in order if agree(chains[a], chains[b]))) for a in order)
    size = dict((a, sum(count[b] for b in agreeing[a])) for a in order)
    return key_of, agreeing, size


def plan(statuses, hosts, margin=120, context=None):
    """What a run does, from the status of each reachable node.

    statuses: {host: status result}; hosts: every node of the fleet (inventory
    order), reachable or not. Returns a dict (no secrets):
    reference (a node in step whose state heals the others, or None), in_step,
    out_of_step (nodes to heal), unreachable, seed (True when no node holds fleet
    state and every node of the fleet was reached: seed everyone), seed_refused
    (True when no reached node holds fleet state but some nodes were not reached:
    they may hold it, and seeding the others would split the fleet), anchor (the
    seed's generation), reseed_generation.

    The reference is the first node, in inventory order, of a largest class of
    nodes whose chains agree. Cost: linear in the nodes, quadratic only in the
    number of distinct chains (a few: in step, a tick behind, out of step).

    context: the fleet planned for. A node whose state belongs to another fleet
    (moved between groups) is out of step: it never heals the others, whatever
    the count. A state with no recorded fleet (made before fleets were named)
    still counts."""
    reachable = [h for h in hosts if h in statuses]
    fleet = [h for h in reachable if statuses[h].get('origin') == 'fleet' and statuses[h].get('chain')
             and (context is None or statuses[h].get('context') in (None, context))]
    best = None
    in_step = []
    if fleet:
        key_of, agreeing, size = _classes(statuses, fleet)
        top = max(size.values())
        best = next(h for h in fleet if size[key_of[h]] == top)
        in_step = [h for h in fleet if key_of[h] in agreeing[key_of[best]]]
    members = set(in_step)
    unreachable = [h for h in hosts if h not in statuses]
    out = {
        'reference': best,
        'in_step': in_step,
        'out_of_step': [h for h in reachable if h not in members],
        'unreachable': unreachable,
        'seed': best is None and not unreachable,
        'seed_refused': best is None and bool(unreachable) and bool(reachable),
        'anchor': None,
        'reseed_generation': None,
    }
    if not reachable:
        return out
    gens = [int(statuses[h]['wall_generation']) for h in reachable]
    sizes = [int((statuses[h].get('ring') or {}).get('size') or 3) for h in reachable]
    out['anchor'] = min(gens) - (max(sizes) - 2) - 1
    out['reseed_generation'] = max(
        reseed_generation(int(statuses[h]['now']), int(statuses[h].get('epoch', 0)), int(statuses[h]['period']), margin)
        for h in reachable)
    return out


def index(fleet_of, play_hosts, play_hosts_all, groups):
    """The fleets of a play, once for all its hosts (linear in the hosts).

    fleet_of: {host: fleet name ('' = no named fleet)} of the play's hosts that run
    fleet mode; play_hosts: the hosts still in the play; play_hosts_all: every
    host of the play (before failures); groups: the inventory's groups.
    Returns {fleet: {members, hosts, strangers}}: members are the fleet's hosts in
    the play (play order), hosts every node of the fleet (its group, or the play's
    hosts of no named fleet), strangers the hosts of the fleet's group in the play
    that name another fleet (one host, one fleet)."""
    in_play = set(play_hosts)
    out = {}
    for h in play_hosts:
        if h in fleet_of:
            out.setdefault(fleet_of[h], {'members': [], 'hosts': [], 'strangers': []})['members'].append(h)
    for name, f in out.items():
        if name:
            f['hosts'] = list(groups.get(name) or [])
            f['strangers'] = [h for h in f['hosts'] if h in in_play and h in fleet_of and fleet_of[h] != name]
        else:
            f['hosts'] = [h for h in play_hosts_all if fleet_of.get(h, '') == '']
    return out


def plans(fleets, statuses, margin=120):
    """{fleet: plan} for every fleet of index(), from {host: status} of the
    reachable nodes (any fleet: each fleet plans from its own members only)."""
    out = {}
    for name, f in fleets.items():
        own = dict((h, statuses[h]) for h in f['members'] if h in statuses)
        out[name] = plan(own, f['hosts'], margin, name)
    return out
