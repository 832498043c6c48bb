#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: rotation_timer
short_description: systemd units that rotate a ticket key ring on schedule and recreate it at boot
version_added: 0.1.0
description:
  - Installs a systemd timer that advances a ring made by M(hardened_tls.resumption.ticket_key_ring) every O(period)
    seconds, then makes the server pick the keys up. A configuration test runs before any reload, and a server that is
    not running is not started.
  - "Pick-up per O(reload): V(nginx) C(nginx -t) then reload; V(apache) C(apachectl -t) then graceful restart (reload);
    V(haproxy) the ring's last three keys are pushed in order with C(set ssl tls-key) over the admin stats socket O(haproxy_socket), no reload,
    falling back to C(haproxy -c) and a reload when the socket cannot be used; V(command) runs O(reload_command)."
  - Installs a boot unit ordered before the server's unit that creates the ring when the store is empty (after a
    reboot), so that the server starts with keys and without manual steps.
  - The command the units run is the collection's own module_utils, copied to C(/usr/local/lib/hardened-tls-resumption)
    from the very code this module runs, so there is one source of truth for key layouts and the ring.
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
  name:
    description: Name of the ring; the units are C(hardened-tls-rotate-NAME.timer) and C(hardened-tls-ring-NAME.service).
    type: str
    required: true
  store:
    description: The key store of the ring. Required unless O(keys=server).
    type: path
  keys:
    description:
      - Where the ticket keys come from. V(ring) (default) the ring made by
        M(hardened_tls.resumption.ticket_key_ring) in O(store), rotated by the timer.
      - V(server) no ring and no store at all; the server makes a fresh random key each time it is reloaded and keeps it
        in its own memory only, and the timer reloads it every O(period) (after its configuration test). Only with a
        O(reload) that gives the server a new key (V(apache) or V(command)); not with O(fleet). The Apache role uses it,
        since Apache 2.4 built with OpenSSL 3 reads the HMAC half of a C(SSLSessionTicketKeyFile) from a stack buffer that is
        gone after start-up, so its child processes disagree on tickets (see C(docs/apache-tls13.md)).
    type: str
    choices: [ring, server]
    default: ring
    version_added: 0.2.0
  server:
    description: The ring's layout (as in M(hardened_tls.resumption.ticket_key_ring)).
    type: str
    choices: [nginx, apache, haproxy, lighttpd]
    required: true
  key_size:
    description: Bytes per key. Defaults to V(80), or V(48) for O(server=apache).
    type: int
    choices: [48, 80]
  size:
    description: Keys in the ring.
    type: int
    default: 3
  period:
    description: Seconds between rotations, from 10 s to 7 days. Each key encrypts for one period.
    type: int
    default: 43200
  reload:
    description: How the server picks up a new ring. Defaults to O(server).
    type: str
    choices: [nginx, apache, haproxy, lighttpd, command, none]
  reload_command:
    description: Argument list run after a rotation when O(reload=command).
    type: list
    elements: str
  config_test:
    description: Argument list of the configuration test run before a reload (defaults per server, like C(nginx -t -q)).
    type: list
    elements: str
  service:
    description: The server's systemd unit (default V(nginx), V(apache2), V(haproxy) or V(lighttpd)). The boot unit runs before it.
    type: str
  group:
    description:
      - For O(server=lighttpd), which reads its key file after dropping privileges, the group that may read it (see
        M(hardened_tls.resumption.ticket_key_ring)); every rotation writes that file 0640 with this group. It must
        exist on the host. Not for the other servers, whose key files only root reads.
    type: str
    version_added: 0.2.0
  haproxy_socket:
    description:
      - Admin-level HAProxy stats socket for runtime key updates (O(reload=haproxy)). Before each push the rotation
        checks that it is a socket owned by root, in directories only root can write, and that the process serving it
        is in the cgroup of O(service)'s main process (C(SO_PEERCRED)); after the push it reads the key names back.
        When a check fails no key is sent and the server is reloaded instead (after its configuration test).
    type: path
  metrics_dir:
    description:
      - Directory of node_exporter's textfile collector. After every run the rotation command rewrites
        C(hardened_tls_resumption_NAME.prom) there (names, generations, times and counts, never a key byte; see
        C(docs/metrics.md)), when the directory exists. An empty value writes nothing.
    type: path
    default: /var/lib/prometheus/node-exporter
    version_added: 0.2.0
  fleet:
    description:
      - Fleet mode (see M(hardened_tls.resumption.fleet_ring)). The timer polls every O(period)/10 seconds (1 to 60 s)
        and the command brings the ring to the generation of the wall clock, C(floor((now - fleet_epoch) / period)),
        writing nothing unless the generation changed; so every node rotates at the same boundaries without a
        controller. At boot an empty store gets a local ring of random keys at once.
    type: bool
    default: false
  fleet_epoch:
    description: With O(fleet), the start of generation 0 (seconds since 1970); the same on every node of a fleet.
    type: int
    default: 0
  time_offset:
    description:
      - With O(fleet), seconds added to this host's clock by the rotation command. For tests only (simulated clock
        skew and jumps); leave it at V(0).
    type: int
    default: 0
  state:
    description: V(present) installs and starts the timer, V(absent) stops and removes the units.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: hardened_tls.resumption.ticket_key_ring
'''

EXAMPLES = r'''
- name: Rotate nginx's ring every 12 hours
  hardened_tls.resumption.rotation_timer:
    name: nginx
    store: /run/tls-keys/nginx
    server: nginx
    period: 43200

- name: Give Apache a new key of its own (made by OpenSSL in Apache's memory) with a graceful restart every 12 hours
  hardened_tls.resumption.rotation_timer:
    name: apache
    server: apache
    keys: server
    period: 43200

- name: Rotate HAProxy's ring without reloads, through the runtime API
  hardened_tls.resumption.rotation_timer:
    name: haproxy
    store: /run/tls-keys/haproxy
    server: haproxy
    haproxy_socket: /run/haproxy/admin.sock
'''

RETURN = r'''
server_sees_store:
  description:
    - Whether the running server's main process sees the key store. V(false) when its unit keeps a private
      copy of the mounts made before the store was mounted (C(PrivateTmp=true) under a C(/run) that does not
      propagate mounts, as in many containers). A reload would then fail to read the key file, so the rotation
      refuses to reload and the server must be restarted once. The roles do that restart.
    - V(true) when the server is not running or when this cannot be told.
  returned: success
  type: bool
  sample: true
units:
  description: The units installed.
  returned: always
  type: dict
  sample: {timer: hardened-tls-rotate-nginx.timer, rotate_service: hardened-tls-rotate-nginx.service,
           boot_service: hardened-tls-ring-nginx.service}
config:
  description: The ring's configuration file read by the units (no secrets in it).
  returned: always
  type: str
  sample: /etc/hardened-tls-resumption/rings/nginx.json
period:
  description: Seconds between rotations.
  returned: always
  type: int
  sample: 43200
changes:
  description: What changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [runtime, config, units, timer started]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _reload
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer
# Imported so that they travel with the module and can be copied to the host.
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _rotate_cli  # noqa: F401 pylint: disable=unused-import
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys  # noqa: F401 pylint: disable=unused-import
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring  # noqa: F401 pylint: disable=unused-import
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet  # noqa: F401 pylint: disable=unused-import


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            store=dict(type='path'),
            keys=dict(type='str', choices=list(_timer.KEY_SOURCES), default='ring', no_log=False),
            server=dict(type='str', choices=list(_servers.NAMES), required=True),
            key_size=dict(type='int', choices=list(_servers.all_key_sizes())),
            size=dict(type='int', default=3),
            period=dict(type='int', default=43200),
            reload=dict(type='str', choices=list(_reload.METHODS)),
            reload_command=dict(type='list', elements='str'),
            config_test=dict(type='list', elements='str'),
            service=dict(type='str'),
            group=dict(type='str'),
            metrics_dir=dict(type='path', default='/var/lib/prometheus/node-exporter'),
            haproxy_socket=dict(type='path'),
            fleet=dict(type='bool', default=False),
            fleet_epoch=dict(type='int', default=0),
            time_offset=dict(type='int', default=0),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        required_if=[('keys', 'ring', ['store'])],
        supports_check_mode=True,
    )
    p = dict(module.params)
    p['key_size'] = p['key_size'] or _servers.default_key_size(p['server'])
    p['reload'] = p['reload'] or p['server']
    p['service'] = p['service'] or _reload.DEFAULT_SERVICE[p['server']]
    names = _timer.unit_names(p['name'])
    try:
        _timer.check_params(p)
        if not _systemd.is_systemd_booted():
            raise ResumptionError('rotation_timer needs systemd as the init system')
        systemctl = _systemd.Systemctl(module.run_command)
        sees = True
        if p['state'] == 'present':
            changes = _timer.install(p, systemctl, module.check_mode)
            if p['reload'] in _reload.DEFAULT_SERVICE:
                sees = _reload.server_sees_store(systemctl, p['service'], p['store'])
        else:
            changes = _timer.remove(p, systemctl, module.check_mode)
    except (ResumptionError, OSError) as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=bool(changes), changes=changes, units=names, period=p['period'],
                     config=os.path.join(_timer.CONF_DIR, '%s.json' % p['name']), server_sees_store=sees)


if __name__ == '__main__':
    main()
