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


def plan(statuses, hosts, margin=120, context=None):
    """What a run does, from the status of each reachable node.

    statuses: {host: status result}; hosts: every node of the fleet (inventory
    order), reachable or not. Returns a dict (no secrets):
    reference (a node in step whose state heals the others, or None), in_step,
    out_of_step (nodes to heal), unreachable, seed (True when no node holds fleet
    state: seed everyone), anchor (the seed's generation), reseed_generation.

    context: the fleet planned for. A node whose state belongs to another fleet
    (moved between groups) is out of step: it never heals the others, whatever
    the count. A state with no recorded fleet (made before fleets were named)
    still counts."""
    reachable = [h for h in hosts if h in statuses]
    fleet = [h for h in reachable if statuses[h].get('origin') == 'fleet' and statuses[h].get('chain')
             and (context is None or statuses[h].get('context') in (None, context))]
    best, best_class = None, []
    for c in fleet:
        cls = [h for h in fleet if agree(statuses[c]['chain'], statuses[h]['chain'])]
        if len(cls) > len(best_class):
            best, best_class = c, cls
    out = {
        'reference': best,
        'in_step': best_class,
        'out_of_step': [h for h in reachable if h not in best_class],
        'unreachable': [h for h in hosts if h not in statuses],
        'seed': best is None,
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
