# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: fleet_plan
short_description: Decide how a run brings a fleet ring in step (which node heals the others, seed or not)
version_added: 0.1.0
description:
  - Takes the results of M(hardened_tls.resumption.fleet_ring) with O(hardened_tls.resumption.fleet_ring#module:state=status)
    of the reachable nodes ({host, result}) and the list of every node of the fleet. Nodes in step are those whose
    key names agree with the largest group of nodes holding fleet state; the first node of that group is the
    reference that heals the others.
  - Works on names and generations only; it never sees a key or a state.
  - Linear in the nodes (nodes with the same chain are compared once). The P(hardened_tls.resumption.fleet_plans#filter)
    filter plans every fleet of a play at once.
author:
  - Hardened TLS contributors (@hardened-tls)
positional: hosts, margin, context
options:
  _input:
    description: "{host: fleet_ring status result} of the reachable nodes."
    type: dict
    required: true
  hosts:
    description: Every node of the fleet, reachable or not, in inventory order.
    type: list
    elements: str
    required: true
  margin:
    description: Seconds a reseed must stay ahead of every node's clock (run time plus clock skew).
    type: int
    default: 120
  context:
    description:
      - The fleet planned for (its group name). A node whose state was recorded for another fleet is out of step and
        never the reference, so a node moved between groups cannot carry one fleet's keys into another.
      - Omitted, no node is excluded.
    type: str
    version_added: 0.2.0
'''

EXAMPLES = r'''
- name: Plan the run
  ansible.builtin.set_fact:
    # Every node of group web computes the same plan from the statuses of the group's nodes in the play.
    fleet_plan: "{{ dict(web_nodes | zip(web_nodes | map('extract', hostvars, 'fleet_status')))
      | hardened_tls.resumption.fleet_plan(groups['web'], 60, 'web') }}"
  vars:
    web_nodes: "{{ groups['web'] | select('in', ansible_play_hosts) | list }}"
'''

RETURN = r'''
_value:
  description: The plan.
  type: dict
  contains:
    reference:
      description: A node in step (heals the others), or null when no node holds fleet state.
      type: str
    in_step:
      description: Nodes in step with the reference.
      type: list
      elements: str
    out_of_step:
      description: Reachable nodes to heal (or to seed).
      type: list
      elements: str
    unreachable:
      description: Nodes of the fleet without a status (unreachable or failed), healed by a later run.
      type: list
      elements: str
    seed:
      description: True when no node holds fleet state and every node of the fleet was reached, so the run seeds every node.
      type: bool
    seed_refused:
      description:
        - True when no reached node holds fleet state but some nodes of the fleet were not reached. They may hold it
          (a run limited to rebooted nodes), and a seed would split the fleet, so the run seeds nothing.
      type: bool
      version_added: 0.3.0
    anchor:
      description: Generation of a new seed (at or before every node's oldest key).
      type: int
    reseed_generation:
      description: First generation a reseed made now may change (in the future of every node).
      type: int
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._fleet_plan import index, plan, plans


def _usable(statuses, who):
    if not isinstance(statuses, dict):
        raise AnsibleFilterError('%s: the statuses must be a dict of host to fleet_ring status result' % who)
    return dict((h, s) for h, s in statuses.items()
                if isinstance(s, dict) and not s.get('failed') and not s.get('unreachable') and 'wall_generation' in s)


def fleet_plan(statuses, hosts, margin=120, context=None):
    return plan(_usable(statuses, 'fleet_plan'), list(hosts), int(margin), None if context is None else str(context))


def fleet_index(fleet_of, play_hosts, play_hosts_all, groups):
    if not isinstance(fleet_of, dict) or not isinstance(groups, dict):
        raise AnsibleFilterError('fleet_index: the input must be a dict of host to fleet name, and groups the inventory groups')
    return index(dict((str(h), str(f or '')) for h, f in fleet_of.items()), [str(h) for h in play_hosts],
                 [str(h) for h in play_hosts_all], dict((str(g), [str(h) for h in hs]) for g, hs in groups.items()))


def fleet_plans(fleets, statuses, margin=120):
    if not isinstance(fleets, dict):
        raise AnsibleFilterError('fleet_plans: the input must be the result of the fleet_index filter')
    return plans(fleets, _usable(statuses, 'fleet_plans'), int(margin))


class FilterModule(object):
    def filters(self):
        return {'fleet_plan': fleet_plan, 'fleet_index': fleet_index, 'fleet_plans': fleet_plans}
