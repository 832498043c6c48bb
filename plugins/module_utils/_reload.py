# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How a server picks up a new ring: nginx reload, Apache graceful restart,
HAProxy runtime API (set ssl tls-key) or reload, or a command.

A server that is not running is never started: its next start reads the ring.
A failed configuration test never reaches a reload.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd

METHODS = ('nginx', 'apache', 'haproxy', 'command', 'none')
DEFAULT_SERVICE = {'nginx': 'nginx', 'apache': 'apache2', 'haproxy': 'haproxy'}
CONFIG_TEST = {
    'nginx': ['nginx', '-t', '-q'],
    'apache': ['apachectl', '-t'],
    'haproxy': ['haproxy', '-c', '-q', '-f', '/etc/haproxy/haproxy.cfg'],
}


def new_keys(before, after):
    """Keys of the ring after that the ring before did not have, oldest first."""
    known = set() if before is None else set(m.key.name for m in before.members)
    return [m.key for m in after.members if m.key.name not in known]


# HAProxy keeps the last three keys it was given (TLS_TICKETS_NO); the penultimate encrypts.
HAPROXY_KEYS = 3


def haproxy_keys(after):
    """Keys to push so that HAProxy's three keys become the ring's last three, in
    order (previous, current, next), whatever HAProxy held before: a push that
    a reload racing the timer lost (the new worker read the file before the
    rotation, the key went to the old worker) is healed by the next rotation
    instead of leaving HAProxy one key off the file for good."""
    return [m.key for m in after.members[-HAPROXY_KEYS:]]


def haproxy_command(sock_path, command, timeout=5.0):
    """Send one command to a HAProxy stats socket and return its answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(command.encode('ascii') + b'\n')
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b''.join(chunks).decode('utf-8', 'replace')
    finally:
        s.close()


def haproxy_push(sock_path, ref, keys):
    """Append keys to HAProxy's in-memory ring for the file reference ref."""
    for key in keys:
        answer = haproxy_command(sock_path, 'set ssl tls-key %s %s' % (ref, _keys.haproxy_line(key)))
        if 'updated' not in answer.lower():
            # The answer never echoes the key; keep only its first line.
            raise ResumptionError('HAProxy refused the new ticket key for %s: %s' % (ref, answer.strip().splitlines()[0] if answer.strip() else 'no answer'))
    return len(keys)


def config_test(run, cfg):
    test = cfg.get('config_test') or CONFIG_TEST.get(cfg['reload'])
    if not test:
        return
    rc, out, err = run(list(test))
    if rc != 0:
        raise ResumptionError('configuration test %s failed, no reload: %s' % (' '.join(test), (err or out).strip()))


def server_sees_store(systemctl, service, store):
    """False when the running service's main process cannot see the store (so a
    reload would make it read a key file that is not there: Apache exits on a
    failed graceful restart); True when it can, or when it is not running or
    this cannot be told."""
    if not store or not systemctl.is_active(service):
        return True
    pid = systemctl.main_pid(service)
    if pid is None:
        return True
    return _fs.process_sees_memory_mount(pid, store) is not False


def require_server_sees_store(systemctl, service, store):
    if not server_sees_store(systemctl, service, store):
        raise ResumptionError(
            '%s is running in a mount namespace that does not see the key store %s (its unit was started '
            'before the store was mounted and keeps a private copy of the mounts, e.g. PrivateTmp=, under a '
            'parent mount that does not propagate); not reloading it, since it would fail to read its key file. '
            'Restart %s once (the roles do this) and rotations reload it again.' % (service, store, service))


def pick_up(run, cfg, before, after):
    """Make the server use the ring `after`. Returns how it was done (a short string)."""
    method = cfg.get('reload', 'none')
    if method not in METHODS:
        raise ResumptionError('reload must be one of %s, got %r' % (', '.join(METHODS), method))
    if method == 'none':
        return 'none'
    if method == 'command':
        rc, out, err = run(list(cfg['command']))
        if rc != 0:
            raise ResumptionError('reload command failed (rc=%d): %s' % (rc, (err or out).strip()))
        return 'command'
    service = cfg.get('service') or DEFAULT_SERVICE[method]
    systemctl = _systemd.Systemctl(run)
    if not systemctl.is_active(service):
        return 'skipped: %s is not running' % service
    if method == 'haproxy':
        sock = cfg.get('haproxy_socket')
        ref = cfg.get('haproxy_ref')
        reason = 'no stats socket configured'
        if sock and ref:
            if os.path.exists(sock):
                try:
                    haproxy_push(sock, ref, haproxy_keys(after))
                    return 'runtime-api'
                except (OSError, socket.error) as e:
                    reason = 'stats socket %s: %s' % (sock, e.strerror or e)
                except ResumptionError as e:
                    reason = str(e)
            else:
                reason = 'stats socket %s does not exist' % sock
        require_server_sees_store(systemctl, service, cfg.get('store'))
        config_test(run, cfg)
        systemctl('reload', service)
        return 'reload (runtime API unavailable: %s)' % reason
    require_server_sees_store(systemctl, service, cfg.get('store'))
    config_test(run, cfg)
    systemctl('reload', service)
    return 'reload'
