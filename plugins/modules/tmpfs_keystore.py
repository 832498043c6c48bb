#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: tmpfs_keystore
short_description: A memory-only directory for TLS ticket keys (tmpfs, noswap, or ramfs)
version_added: 0.1.0
description:
  - Mounts a tmpfs (or ramfs) at O(path) with mode C(0700), C(nosuid,nodev,noexec), an owner, a size and, when the
    kernel accepts it (Linux 6.4 and later), C(noswap), so that its pages never reach swap.
  - Writes a systemd mount unit so the mount (not its content) comes back after a reboot.
  - Refuses to mount over a non-empty directory, a symbolic link or a file, and refuses to call a mount point of a
    persistent file system a key store.
  - With O(state=absent), overwrites and removes every file of the store, then unmounts it and removes the unit.
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
    support: full
options:
  path:
    description: Absolute path of the store (the mount point). A directory of its own, like V(/run/tls-keys).
    type: path
    required: true
  state:
    description: V(present) mounts the store, V(absent) destroys its keys and unmounts it.
    type: str
    choices: [present, absent]
    default: present
  fstype:
    description:
      - V(tmpfs) (size-limited, noswap where the kernel accepts it) or V(ramfs) (never swapped, no size limit).
    type: str
    choices: [tmpfs, ramfs]
    default: tmpfs
  size:
    description: Size of a tmpfs store, in bytes with an optional V(k), V(m) or V(g) suffix. Ignored for ramfs.
    type: str
    default: 1m
  owner:
    description: User that owns the store. It must exist.
    type: str
    default: root
  group:
    description: Group of the store. It must exist.
    type: str
    default: root
  mode:
    description:
      - Mode of the store. V(0700) is root's alone. V(0710) lets O(group) enter it (not list it), for a server that reads
        its key file after dropping privileges (lighttpd); use a group of that server alone.
    type: str
    version_added: 0.2.0
    choices: ['0700', '0710']
    default: '0700'
  noswap:
    description:
      - V(auto) adds C(noswap) when the kernel accepts it (detected by mounting a 4 KiB tmpfs) and mounts a ramfs
        (never swapped, no size limit) when it does not (Linux before 6.4, such as Debian 12 with 6.1), and RV(fstype) says which.
        V(required) fails when the kernel does not accept it. V(disabled) never adds it, the only way to get a store whose
        pages can reach swap, asked for by name.
      - A store already mounted as a tmpfs without C(noswap) is refused (nothing changed) unless V(disabled), since a mounted
        tmpfs cannot gain C(noswap).
    type: str
    choices: [auto, required, disabled]
    default: auto
  persist:
    description: Write and enable a systemd mount unit so that the store is mounted again at boot (empty).
    type: bool
    default: true
notes:
  - A store that was mounted without C(noswap) cannot gain it by a remount; unless O(noswap=disabled) the module refuses
    it and says so. Remove the store (O(state=absent)) and create it again.
seealso:
  - module: hardened_tls.resumption.ticket_key_ring
'''

EXAMPLES = r'''
- name: Create a memory-only key store for nginx
  hardened_tls.resumption.tmpfs_keystore:
    path: /run/tls-keys/nginx
    size: 1m

- name: Use ramfs where the kernel has no tmpfs noswap
  hardened_tls.resumption.tmpfs_keystore:
    path: /run/tls-keys/haproxy
    fstype: ramfs

- name: Destroy the keys and unmount the store
  hardened_tls.resumption.tmpfs_keystore:
    path: /run/tls-keys/nginx
    state: absent
'''

RETURN = r'''
path:
  description: The store's path.
  returned: always
  type: str
  sample: /run/tls-keys/nginx
mounted:
  description: Whether the store is mounted now (in check mode, before any change).
  returned: always
  type: bool
  sample: true
fstype:
  description: File system of the store.
  returned: when O(state=present)
  type: str
  sample: tmpfs
options:
  description: Mount and super block options of the mounted store, sorted.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [mode=700, noexec, nodev, nosuid, noswap, rw, size=1024k]
swappable:
  description: Whether pages of the store can be swapped out (tmpfs without noswap). V(null) before it is mounted.
  returned: when O(state=present)
  type: bool
  sample: false
unit:
  description: The systemd mount unit that brings the store back at boot.
  returned: always
  type: str
  sample: run-tls\x2dkeys-nginx.mount
changes:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [unit, enabled, mounted]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._fs import resolve_ids
from ansible_collections.hardened_tls.resumption.plugins.module_utils._keystore import KeyStore


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            fstype=dict(type='str', choices=['tmpfs', 'ramfs'], default='tmpfs'),
            size=dict(type='str', default='1m'),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='root'),
            noswap=dict(type='str', choices=['auto', 'required', 'disabled'], default='auto'),
            mode=dict(type='str', choices=['0700', '0710'], default='0700'),
            persist=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        uid, gid = resolve_ids(p['owner'], p['group'])
        store = KeyStore(module.run_command, p['path'], fstype=p['fstype'], size=p['size'], uid=uid, gid=gid,
                         noswap=p['noswap'], persist=p['persist'], mode=int(p['mode'], 8))
        if p['state'] == 'present':
            changes, facts = store.present(module.check_mode)
        else:
            changes, facts = store.absent(module.check_mode)
    except (ResumptionError, OSError) as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=bool(changes), changes=changes, **facts)


if __name__ == '__main__':
    main()
