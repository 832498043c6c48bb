# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How a server picks up a new ring, as its record in _servers says: a
configuration test and a reload (nginx, Apache's graceful restart), HAProxy's
runtime API (set ssl tls-key) or a reload, nothing (lighttpd re-reads its key
file by itself), or a command.

A server that is not running is never started: its next start reads the ring.
A failed configuration test never reaches a reload.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import os
import socket
import stat
import struct

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd

# A server's own way (its name), a command, or nothing.
METHODS = _servers.NAMES + ('command', 'none')
DEFAULT_SERVICE = dict((n, _servers.get(n).service) for n in _servers.NAMES)
CONFIG_TEST = dict((n, _servers.get(n).config_test) for n in _servers.NAMES)


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


def check_root_only_path(path):
    """Refuse a socket path that anyone but root could have put there or could replace:
    every directory from / down must be owned by root and writable by root alone, and
    the path itself a socket owned by root (lstat: a symbolic link is refused)."""
    path = _fs.normpath(path)
    if not os.path.isabs(path):
        raise ResumptionError('stats socket %s: not an absolute path' % path)
    current = '/'
    for part in [p for p in os.path.dirname(path).split('/') if p]:
        current = os.path.join(current, part)
        st = os.lstat(current)
        if stat.S_ISLNK(st.st_mode):
            raise ResumptionError('stats socket %s: %s is a symbolic link' % (path, current))
        if st.st_uid != 0 or st.st_mode & 0o022:
            raise ResumptionError('stats socket %s: the directory %s can be written by others than root (owner uid %d, mode %04o); '
                                  'put the socket in a directory only root can write'
                                  % (path, current, st.st_uid, stat.S_IMODE(st.st_mode)))
    st = os.lstat(path)
    if not stat.S_ISSOCK(st.st_mode):
        raise ResumptionError('stats socket %s: not a socket' % path)
    if st.st_uid != 0:
        raise ResumptionError('stats socket %s: owned by uid %d, not root' % (path, st.st_uid))


def peer_pid(sock):
    """The pid of the process at the other end of a connected Unix socket (SO_PEERCRED)."""
    option = getattr(socket, 'SO_PEERCRED', 17)
    pid, dummy_uid, dummy_gid = struct.unpack('3i', sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize('3i')))
    return pid


def process_cgroup(pid, proc='/proc'):
    """The cgroup (v2 path, or the v1 name=systemd one) of a process, or None."""
    try:
        with open(os.path.join(proc, str(int(pid)), 'cgroup'), 'r') as f:
            lines = f.read().splitlines()
    except (OSError, IOError, ValueError):
        return None
    for line in lines:
        parts = line.split(':', 2)
        if len(parts) == 3 and (parts[0] == '0' and parts[1] == '' or parts[1] == 'name=systemd'):
            return parts[2]
    return None


class HAProxySocket(object):
    """The admin stats socket of the HAProxy the ring belongs to, checked before each use:
    the path (root's alone, see check_root_only_path) and the peer (a process of the
    server's own cgroup, compared with its main process: SO_PEERCRED), so that nothing
    else listening there ever receives a key."""

    def __init__(self, path, expected_cgroup=None, timeout=5.0):
        self.path = path
        self.expected_cgroup = expected_cgroup
        self.timeout = timeout

    def command(self, command):
        check_root_only_path(self.path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
            if self.expected_cgroup is not None:
                pid = peer_pid(s)
                cgroup = process_cgroup(pid)
                if cgroup is None or cgroup != self.expected_cgroup:
                    raise ResumptionError('stats socket %s is served by pid %d (cgroup %s), not by the server (cgroup %s): '
                                          'refusing to send it a key' % (self.path, pid, cgroup, self.expected_cgroup))
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


def haproxy_key_names(answer):
    """Key names (hex) of a `show tls-keys <ref>` answer, oldest first. The answer holds
    the secrets in base64: only the first 16 bytes of each (the public name) are kept."""
    names = []
    for line in answer.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        fields = line.split()
        if len(fields) < 2:
            continue
        try:
            raw = base64.b64decode(fields[1].encode('ascii'), validate=True)
        except (ValueError, TypeError, UnicodeEncodeError):
            continue
        if len(raw) in (48, 80):
            names.append(binascii.hexlify(raw[:_keys.NAME_LEN]).decode('ascii'))
        raw = None
    return names


def haproxy_push(sock, ref, keys):
    """Append keys to HAProxy's in-memory ring for the file reference ref, then read the
    key names back: HAProxy must hold exactly these keys last, in this order."""
    for key in keys:
        answer = sock.command('set ssl tls-key %s %s' % (ref, _keys.haproxy_line(key)))
        if 'updated' not in answer.lower():
            # The answer never echoes the key; keep only its first line.
            raise ResumptionError('HAProxy refused the new ticket key for %s: %s' % (ref, answer.strip().splitlines()[0] if answer.strip() else 'no answer'))
    held = haproxy_key_names(sock.command('show tls-keys %s' % ref))
    want = [k.name_hex for k in keys]
    if held[-len(want):] != want:
        raise ResumptionError('HAProxy holds the key names %s for %s after the push, expected %s last: '
                              'the keys did not reach the server' % (', '.join(held) or 'none', ref, ', '.join(want)))
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
    srv = _servers.get(method)
    service = cfg.get('service') or srv.service
    systemctl = _systemd.Systemctl(run)
    if not systemctl.is_active(service):
        return 'skipped: %s is not running' % service
    if srv.pick_up == 'file':
        # The server looks at its key file's time stamp and loads a new key by itself.
        return 'file (%s re-reads it)' % service
    if srv.pick_up == 'runtime-api':
        sock = cfg.get('haproxy_socket')
        ref = cfg.get('haproxy_ref')
        reason = 'no stats socket configured'
        if sock and ref:
            if os.path.lexists(sock):
                pid = systemctl.main_pid(service)
                expected = process_cgroup(pid) if pid else None
                try:
                    if expected is None:
                        raise ResumptionError('cannot read the cgroup of %s to check who serves the socket' % service)
                    haproxy_push(HAProxySocket(sock, expected_cgroup=expected), ref, haproxy_keys(after))
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
