#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ticket_key_ring
short_description: A rotating ring of TLS session ticket keys in a memory-only key store
version_added: 0.1.0
description:
  - Keeps a ring of ticket keys (one V(next), one V(current) that encrypts, and O(size)-2 V(previous)) in a key store
    made by M(hardened_tls.resumption.tmpfs_keystore), and writes them in the layout of one server.
  - "nginx: one file per key (C(current.key), C(next.key), C(previous.key), ...); list them in this order, the
    encrypting key first (RV(files)). 48 bytes are name|AES|HMAC, 80 bytes name|HMAC|AES."
  - "Apache httpd: one 48-byte file C(ticket.key) (name|HMAC|AES) holding the current key only: Apache keeps one key,
    so every rotation invalidates every ticket it issued."
  - "HAProxy: one file C(tls-ticket-keys) of base64 lines previous, current, next, so the penultimate line encrypts."
  - A rotation writes the new ring completely into a new directory and swaps the C(active) symbolic link with one
    rename, so a killed rotation leaves the old ring or the new one. A key leaving the ring is overwritten, then removed.
  - Refuses to write anywhere that is not tmpfs or ramfs (read from C(/proc/self/mountinfo)).
  - Returns key names (hex of the 16-byte name clients see), generations and times, never key bytes.
author:
  - Hardened TLS contributors (@hardened-tls)
extends_documentation_fragment:
  - hardened_tls.resumption._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff lists key names and generations, never key bytes.
  idempotent:
    support: partial
    details:
      - O(state=present) is idempotent. O(state=rotated) rotates on every run unless O(rotate_after) holds it back.
options:
  path:
    description: The key store (a tmpfs or ramfs directory).
    type: path
    required: true
  server:
    description: Whose layout the key files take.
    type: str
    choices: [nginx, apache, haproxy, lighttpd]
    required: true
  key_size:
    description:
      - Bytes per key, V(48) (AES-128) or V(80) (AES-256). Defaults to V(80), or V(48) for O(server=apache), which
        takes nothing else.
    type: int
    choices: [48, 80]
  size:
    description:
      - Keys in the ring, 2 or 3 (next, current, previous). HAProxy needs 3.
      - More are refused, since a second previous key would decrypt tickets more than two periods after it stopped
        encrypting.
    type: int
    default: 3
  state:
    description:
      - V(present) creates a missing ring, repairs damaged files, adapts the size, and otherwise changes nothing.
      - V(rotated) advances the ring one generation (see O(rotate_after)).
      - V(absent) overwrites and removes every key of the ring.
    type: str
    choices: [present, rotated, absent]
    default: present
  rotate_after:
    description: With O(state=rotated), rotate only when the current key has encrypted for at least this many seconds.
    type: int
  period:
    description:
      - Seconds each key encrypts. Required for O(server=lighttpd), whose key file carries the next key's activation
        time (when the current key's period ends) and expiration time (two periods later); ignored otherwise.
    type: int
    version_added: 0.2.0
  owner:
    description: Owner of the key files (default root, which nginx, Apache and HAProxy read them as).
    type: str
  group:
    description:
      - Group of the key files.
      - For O(server=lighttpd), which reads its key file after dropping privileges, the group that may read it (a group
        of lighttpd's alone). That file is 0640 and the ring's directories 0710 (the store must then be 0710 with this
        group, see M(hardened_tls.resumption.tmpfs_keystore)); every other file stays 0600.
    type: str
seealso:
  - module: hardened_tls.resumption.tmpfs_keystore
  - module: hardened_tls.resumption.rotation_timer
'''

EXAMPLES = r'''
- name: Make sure nginx has a ring of three 80-byte keys
  hardened_tls.resumption.ticket_key_ring:
    path: /run/tls-keys/nginx
    server: nginx
  register: ring

- name: Point nginx at the keys, encrypting key first
  ansible.builtin.copy:
    dest: /etc/nginx/conf.d/tickets.conf
    content: |
      {% for f in ring.files %}
      ssl_session_ticket_key {{ f }};
      {% endfor %}
    mode: "0644"

- name: Rotate when the current key is older than 12 hours
  hardened_tls.resumption.ticket_key_ring:
    path: /run/tls-keys/haproxy
    server: haproxy
    state: rotated
    rotate_after: 43200
'''

RETURN = r'''
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  choices: [none, created, rebuilt, repaired, resized, rotated, destroyed]
  sample: rotated
store:
  description: The key store.
  returned: always
  type: str
  sample: /run/tls-keys/nginx
server:
  description: The server layout.
  returned: when O(state) is not V(absent)
  type: str
  sample: nginx
generation:
  description: Generation of the current (encrypting) key. It grows by one per rotation.
  returned: when O(state) is not V(absent)
  type: int
  sample: 7
current_key_name:
  description: Hex of the 16-byte name of the encrypting key; clients see it at the start of every ticket.
  returned: when O(state) is not V(absent)
  type: str
  sample: 3f2a9c0d6e1b4a5f8c7d2e1f0a9b8c7d
members:
  description: The ring's keys, oldest first, with their role, generation, name and creation time (epoch seconds).
  returned: when O(state) is not V(absent)
  type: list
  elements: dict
  sample:
    - {role: previous, generation: 6, name: 0a1b2c3d4e5f60718293a4b5c6d7e8f9, created: 1764336000}
    - {role: current, generation: 7, name: 3f2a9c0d6e1b4a5f8c7d2e1f0a9b8c7d, created: 1764336000}
    - {role: next, generation: 8, name: 9e8d7c6b5a4f3e2d1c0b0a9f8e7d6c5b, created: 1764379200}
files:
  description: Paths the server configuration references, in configuration order (for nginx the encrypting key first).
  returned: when O(state) is not V(absent)
  type: list
  elements: str
  sample: [/run/tls-keys/nginx/active/current.key, /run/tls-keys/nginx/active/next.key, /run/tls-keys/nginx/active/previous.key]
rotated_at:
  description: When the current key started to encrypt (epoch seconds).
  returned: when O(state) is not V(absent)
  type: int
  sample: 1764379200
key_size:
  description: Bytes per key.
  returned: when O(state) is not V(absent)
  type: int
  sample: 80
size:
  description: Keys in the ring.
  returned: when O(state) is not V(absent)
  type: int
  sample: 3
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring


def names(ring):
    if ring is None:
        return ''
    return ''.join('%s generation %d: %s\n' % (m['role'], m['generation'], m['name']) for m in ring.metadata()['members'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            server=dict(type='str', choices=list(_servers.NAMES), required=True),
            key_size=dict(type='int', choices=list(_servers.all_key_sizes())),
            size=dict(type='int', default=3),
            state=dict(type='str', choices=['present', 'rotated', 'absent'], default='present'),
            rotate_after=dict(type='int'),
            period=dict(type='int'),
            owner=dict(type='str'),
            group=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    store = p['path']
    key_size = p['key_size'] or _servers.default_key_size(p['server'])
    try:
        uid, gid = _fs.resolve_ids(p['owner'], p['group'])
        srv = _ring.check_spec(p['server'], key_size, p['size'], p['period'])
        if not os.path.isdir(store):
            raise ResumptionError('%s is not a directory: create the key store first (hardened_tls.resumption.tmpfs_keystore)' % store)
        _fs.require_memory_fs(store)
        if p['state'] != 'absent':
            _fs.require_store(store, uid, gid=gid if srv.file_reader == 'group' else None)
        if p['state'] == 'absent':
            entries = [e for e in os.listdir(store) if e != _ring.LOCK]
            if entries and not module.check_mode:
                with _ring.StoreLock(store):
                    _fs.shred_contents(store)
            module.exit_json(changed=bool(entries), action='destroyed' if entries else 'none', store=store)
        with _ring.store_lock(store, module.check_mode):
            before = _ring.load_or_none(store)[0]
            action, ring = _ring.ensure(store, p['server'], key_size, p['size'], state='rotated' if p['state'] == 'rotated' else 'present',
                                        rotate_after=p['rotate_after'], check_mode=module.check_mode, uid=uid, gid=gid,
                                        period=p['period'])
    except (ResumptionError, OSError) as e:
        module.fail_json(msg=str(e))
    result = dict(changed=action != 'none', action=action, **ring.summary(store))
    if module._diff:
        result['diff'] = dict(before=names(before), after=names(ring))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
