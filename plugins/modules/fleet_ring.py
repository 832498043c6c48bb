#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: fleet_ring
short_description: A ticket key ring shared by every node of a fleet, rotating in step with no controller online
version_added: 0.1.0
description:
  - Fleet mode of a ticket key ring (see M(hardened_tls.resumption.ticket_key_ring) for the ring and its layouts). The
    nodes of one trust context hold the same keys, derived from a 32-byte ratchet state kept in the node's key store
    (tmpfs or ramfs, never disk).
  - "The generation is C(g = floor((now - epoch) / period)), the same on every node. The key of generation h is derived
    with HKDF-SHA256 from the state of h, as the canonical name|AES|HMAC key of O(key_size) bytes, and written in the
    layout of O(server). A ring of O(size) keys at generation g holds g-(size-2) .. g+1, so a clock skew of up to one
    period never breaks resumption."
  - The node keeps the state of its oldest key only; the state moves one way at every boundary and the old one is
    overwritten and removed, so a node compromised at generation g gives away no key of generation g-(size-1) (g-2
    with three keys) or older.
  - With O(seed), replaces whatever the node holds with the chain of a fresh seed anchored at O(seed_generation).
    With O(reseed), stages randomness that every node mixes into the state at generation O(reseed_generation), which
    must be in the future of every node (no node holds that key yet); the key files do not change now.
  - Healing without the controller ever seeing a state. V(status) with O(join_request=true) makes an ephemeral X25519
    key on the store and returns its public half; a node in step, given O(export_to), returns its state sealed to each
    public key (X25519, HKDF, ChaCha20-Poly1305); the node out of step, given O(sealed), opens it and joins.
  - Seed, reseed and sealed values travel in module arguments, so the action plugin refuses to run this module with
    one of them unless pipelining is in effect for the connection (otherwise the arguments would be written to the
    target's remote temporary directory, on disk).
  - Needs the Python C(cryptography) package on the target (Debian C(python3-cryptography)).
  - Returns key names (hex of the 16-byte name clients see), generations and times, never key bytes or states.
author:
  - Hardened TLS contributors (@hardened-tls)
extends_documentation_fragment:
  - hardened_tls.resumption._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - O(state=present) with no seed, reseed or sealed value is idempotent within a generation. A seed, a reseed or a
        join changes the node on every run, which is why the roles send them only when a node needs one.
options:
  path:
    description: The key store (a tmpfs or ramfs directory, see M(hardened_tls.resumption.tmpfs_keystore)).
    type: path
    required: true
  server:
    description: Whose layout the key files take.
    type: str
    choices: [nginx, apache, haproxy, lighttpd]
    required: true
  key_size:
    description: Bytes per key. Defaults to V(80), or V(48) for O(server=apache).
    type: int
    choices: [48, 80]
  size:
    description: Keys in the ring, 3 (the previous key, the current one and the next one).
    type: int
    default: 3
  period:
    description: Seconds each key encrypts (10 s to 7 days); the same on every node of the fleet.
    type: int
    required: true
  epoch:
    description: Start of generation 0 in seconds since 1970; the same on every node of the fleet.
    type: int
    default: 0
  time_offset:
    description: Seconds added to this host's clock. For tests only (simulated skew and clock jumps); leave it at V(0).
    type: int
    default: 0
  state:
    description:
      - V(present) brings the ring to the wall-clock generation (and applies O(seed), O(reseed) or O(sealed)); a store
        with no ring gets a local ring of random keys.
      - V(status) changes nothing (except the join key of O(join_request)) and reports names and generations.
    type: str
    choices: [present, status]
    default: present
  seed:
    description: Base64 of 32 random bytes made on the controller in memory. Replaces the node's chain.
    type: str
  seed_generation:
    description: The generation whose state O(seed) is (at or before the oldest key of every node's ring).
    type: int
  reseed:
    description: Base64 of 32 random bytes made on the controller in memory, mixed in at O(reseed_generation).
    type: str
  reseed_generation:
    description: The future generation at which O(reseed) takes effect on every node.
    type: int
  join_request:
    description: With O(state=status), make an ephemeral key pair for joining the fleet and return its public half.
    type: bool
    default: false
  export_to:
    description: Public keys of joining nodes ({host, public key}); the result carries this node's state sealed to each.
    type: dict
  sealed:
    description: This node's share of a node in step's O(export_to) result. The node joins the fleet.
    type: str
  lookahead:
    description: With O(state=status), how many generations past the next key the returned chain of names reaches.
    type: int
    default: 0
  context:
    description:
      - Name of the fleet (one trust context) this node belongs to; the role M(hardened_tls.resumption.key_ring) passes
        its C(key_ring_fleet_group). Recorded with the state by O(seed) and O(sealed), kept by every later change, and
        reported by V(status) as RV(context).
      - With O(sealed), a state sealed by a node of another fleet is refused and nothing changes.
    type: str
    version_added: 0.2.0
  owner:
    description: Owner of the key files (default root).
    type: str
  group:
    description:
      - Group of the key files. For O(server=lighttpd) the group that may read its key file (see
        M(hardened_tls.resumption.ticket_key_ring)).
    type: str
notes:
  - Every option that carries a secret (O(seed), O(reseed), O(sealed)) is C(no_log) in the argument spec, so its value is
    masked wherever it appears in a result and a failure still says why. The action plugin marks a result that carries
    RV(sealed) as no_log (censored by every callback, still registered). The task needs no C(no_log) of its own; keep
    the variable that holds a seed out of logs and fact caches (see the P(hardened_tls.resumption.fleet_seed#lookup) lookup).
seealso:
  - module: hardened_tls.resumption.ticket_key_ring
  - module: hardened_tls.resumption.rotation_timer
'''

EXAMPLES = r'''
# The role hardened_tls.resumption.key_ring does all of this with key_ring_fleet_enabled: true.
- name: Read the fleet status of every node
  hardened_tls.resumption.fleet_ring:
    path: /run/hardened-tls/nginx
    server: nginx
    period: 43200
    state: status
  register: fleet_status

- name: Seed a new fleet (one seed for every node, made once in controller memory)
  hardened_tls.resumption.fleet_ring:
    path: /run/hardened-tls/nginx
    server: nginx
    period: 43200
    seed: "{{ fleet_seed }}"
    seed_generation: "{{ fleet_anchor }}"

- name: Stage a reseed two or more generations ahead
  hardened_tls.resumption.fleet_ring:
    path: /run/hardened-tls/nginx
    server: nginx
    period: 43200
    reseed: "{{ fleet_reseed }}"
    reseed_generation: "{{ fleet_reseed_generation }}"
'''

RETURN = r'''
action:
  description:
    - What was done (or would be, in check mode).
    - V(clock-behind) the node's clock is more than one period behind its ring. The keys it used while its clock was
      ahead were dropped and random keys stand in for them. The fleet state is kept, and the node rejoins the fleet
      by itself once the clock has passed those generations.
  returned: always
  type: str
  choices: [none, created, rebuilt, repaired, rotated, clock-behind, seeded, reseeded, joined, exported, status]
  sample: rotated
files_changed:
  description: Whether the server's key files changed (the server must pick them up). A reseed changes none.
  returned: always
  type: bool
  sample: false
origin:
  description: V(fleet) when the node holds the fleet's state, V(local) for a ring of random keys (after a reboot), V(none).
  returned: always
  type: str
  sample: fleet
context:
  description: The fleet (trust context) recorded with the node's state, or null (no fleet state, or none recorded).
  returned: when O(state=status) or after a change
  type: str
  sample: tls_fleet_nginx
wall_generation:
  description: The generation of this host's clock (plus O(time_offset)).
  returned: always
  type: int
  sample: 40843
now:
  description: This host's clock (plus O(time_offset)), seconds since 1970.
  returned: always
  type: int
  sample: 1764379200
next_boundary:
  description: When the next generation starts on this host's clock.
  returned: always
  type: int
  sample: 1764422400
ring:
  description: The ring (as M(hardened_tls.resumption.ticket_key_ring) returns it, plus its C(fleet) metadata), or null.
  returned: always
  type: dict
  sample: {generation: 40843, current_key_name: 3f2a9c0d6e1b4a5f8c7d2e1f0a9b8c7d, fleet: {origin: fleet, state_generation: 40842, pending: []}}
chain:
  description: Names of the keys this node's state derives, by generation (strings), up to the next key plus O(lookahead).
  returned: when O(state=status)
  type: dict
  sample: {"40842": 0a1b2c3d4e5f60718293a4b5c6d7e8f9, "40843": 3f2a9c0d6e1b4a5f8c7d2e1f0a9b8c7d}
join_public_key:
  description: Base64 X25519 public key of this node's join request (not a secret).
  returned: when O(join_request=true) and not in check mode
  type: str
  sample: 3q2+7w...
sealed:
  description: This node's state sealed to each O(export_to) key; only the joining node can open its blob. The action plugin marks the whole result no_log.
  returned: when O(export_to) is given
  type: dict
  sample: {node2: SFRKMQ...}
files:
  description: Paths the server configuration references, in configuration order (for nginx the encrypting key first).
  returned: when a ring exists
  type: list
  elements: str
  sample: [/run/hardened-tls/nginx/active/current.key, /run/hardened-tls/nginx/active/next.key, /run/hardened-tls/nginx/active/previous.key]
current_key_name:
  description: Hex of the 16-byte name of the encrypting key.
  returned: when a ring exists
  type: str
  sample: 3f2a9c0d6e1b4a5f8c7d2e1f0a9b8c7d
generation:
  description: Generation of the current key.
  returned: when a ring exists
  type: int
  sample: 40843
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            server=dict(type='str', choices=list(_servers.NAMES), required=True),
            key_size=dict(type='int', choices=list(_servers.all_key_sizes())),
            size=dict(type='int', default=3),
            period=dict(type='int', required=True),
            epoch=dict(type='int', default=0),
            time_offset=dict(type='int', default=0),
            state=dict(type='str', choices=['present', 'status'], default='present'),
            seed=dict(type='str', no_log=True),
            seed_generation=dict(type='int'),
            reseed=dict(type='str', no_log=True),
            reseed_generation=dict(type='int'),
            join_request=dict(type='bool', default=False),
            export_to=dict(type='dict'),
            sealed=dict(type='str', no_log=True),
            lookahead=dict(type='int', default=0),
            context=dict(type='str'),
            owner=dict(type='str'),
            group=dict(type='str'),
        ),
        mutually_exclusive=[('seed', 'reseed', 'sealed', 'export_to')],
        required_together=[('seed', 'seed_generation'), ('reseed', 'reseed_generation')],
        supports_check_mode=True,
    )
    p = module.params
    store = p['path']
    key_size = p['key_size'] or _servers.default_key_size(p['server'])
    try:
        if p['state'] == 'status' and any(p[k] is not None for k in ('seed', 'reseed', 'sealed', 'export_to')):
            raise ResumptionError('state=status takes no seed, reseed, sealed or export_to')
        _fleet.require_cryptography()
        spec = _fleet.Spec(p['server'], key_size, p['size'], p['epoch'], p['period'], p['time_offset'])
        uid, gid = _fs.resolve_ids(p['owner'], p['group'])
        if not os.path.isdir(store):
            raise ResumptionError('%s is not a directory: create the key store first (hardened_tls.resumption.tmpfs_keystore)' % store)
        _fs.require_memory_fs(store)
        if p['state'] != 'status':
            _fs.require_store(store, uid, gid=gid if _servers.get(p['server']).file_reader == 'group' else None)
        with _ring.store_lock(store, module.check_mode):
            st, before, ring = _fleet.act(p, spec, store, uid, gid, module.check_mode)
    except (ResumptionError, OSError) as e:
        module.fail_json(msg=str(e))
    action = st['action']
    if action == 'status':
        files_changed = False
    elif action == 'reseeded':
        files_changed = _fleet.names_of(before) != _fleet.names_of(ring)
    else:
        files_changed = action in ('created', 'rebuilt', 'repaired') or _fleet.names_of(before) != _fleet.names_of(ring)
    result = dict(st)
    result['files'] = _ring.server_paths(store, spec.server, spec.size)
    result['changed'] = action not in ('status', 'none', 'exported') or files_changed
    result['files_changed'] = files_changed
    if ring is not None:
        summary = ring.summary(store)
        result['ring'] = summary
        result['files'] = summary['files']
        result['current_key_name'] = summary['current_key_name']
        result['generation'] = summary['generation']
        result['origin'] = 'fleet' if ring.fleet else 'local'
    else:
        result.setdefault('ring', None)
        result.setdefault('origin', 'none')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
