# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os
import shutil
import socket
import stat
import tempfile
import threading

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _reload
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

NOW = 1700000000
REF = '/run/tls-keys/haproxy/active/tls-ticket-keys'


def names(keys):
    return [k.name for k in keys]


# ---------------------------------------------------------------- new_keys

def test_new_keys_first_ring():
    ring = _ring.new_ring('haproxy', 48, 3, NOW)
    assert names(_reload.new_keys(None, ring)) == names(m.key for m in ring.members)


@pytest.mark.parametrize('steps', [1, 2, 3])
def test_new_keys_after_rotation(steps):
    ring = _ring.new_ring('haproxy', 48, 3, NOW)
    after = _ring.rotate(ring, NOW + 1, steps=steps)
    assert names(_reload.new_keys(ring, after)) == names(m.key for m in after.members[-steps:])


def test_new_keys_unchanged_and_rebuilt():
    ring = _ring.new_ring('haproxy', 48, 3, NOW)
    assert _reload.new_keys(ring, ring) == []
    other = _ring.new_ring('haproxy', 48, 3, NOW)
    assert names(_reload.new_keys(ring, other)) == names(m.key for m in other.members)


def test_new_keys_after_grow():
    ring = _ring.new_ring('nginx', 48, 2, NOW)
    grown = _ring.resize(ring, 3, NOW)
    assert names(_reload.new_keys(ring, grown)) == names(m.key for m in grown.members[:1])


# ---------------------------------------------------------------- pick_up, not HAProxy

@pytest.fixture
def rings():
    before = _ring.new_ring('nginx', 48, 3, NOW)
    return before, _ring.rotate(before, NOW + 1)


def test_pick_up_none(fake_runner, rings):
    run = fake_runner()
    assert _reload.pick_up(run, {'reload': 'none'}, *rings) == 'none'
    assert _reload.pick_up(run, {}, *rings) == 'none'
    assert run.calls == []


def test_pick_up_command(fake_runner, rings):
    run = fake_runner()
    assert _reload.pick_up(run, {'reload': 'command', 'command': ['/usr/local/bin/push-keys', '--all']}, *rings) == 'command'
    assert run.calls == [['/usr/local/bin/push-keys', '--all']]


def test_pick_up_command_fails(fake_runner, rings):
    run = fake_runner({('/bin/false',): (7, 'out', 'it broke\n')})
    with pytest.raises(ResumptionError, match=r'reload command failed \(rc=7\): it broke$'):
        _reload.pick_up(run, {'reload': 'command', 'command': ['/bin/false']}, *rings)


def test_pick_up_unknown_method(fake_runner, rings):
    run = fake_runner()
    with pytest.raises(ResumptionError, match='reload must be one of nginx, apache, haproxy, lighttpd, command, none'):
        _reload.pick_up(run, {'reload': 'restart'}, *rings)
    assert run.calls == []


@pytest.mark.parametrize('method, service', [('nginx', 'nginx'), ('apache', 'apache2'), ('haproxy', 'haproxy'),
                                             ('nginx', 'nginx-fe1')])
def test_pick_up_skips_stopped_service(fake_runner, rings, method, service):
    run = fake_runner({('systemctl', 'is-active'): (3, 'inactive', '')})
    cfg = {'reload': method, 'haproxy_socket': '/nonexistent', 'haproxy_ref': REF}
    if service != _reload.DEFAULT_SERVICE[method]:
        cfg['service'] = service
    assert _reload.pick_up(run, cfg, *rings) == 'skipped: %s is not running' % service
    assert run.calls == [['systemctl', 'is-active', '--quiet', service]]


@pytest.mark.parametrize('method, test, service', [
    ('nginx', ['nginx', '-t', '-q'], 'nginx'),
    ('apache', ['apachectl', '-t'], 'apache2'),
])
def test_pick_up_config_test_then_reload(fake_runner, rings, method, test, service):
    run = fake_runner()
    assert _reload.pick_up(run, {'reload': method}, *rings) == 'reload'
    assert run.calls == [['systemctl', 'is-active', '--quiet', service], test, ['systemctl', 'reload', service]]


def test_pick_up_custom_service_and_test(fake_runner, rings):
    run = fake_runner()
    cfg = {'reload': 'nginx', 'service': 'nginx-edge', 'config_test': ['nginx', '-t', '-c', '/etc/nginx-edge/nginx.conf']}
    assert _reload.pick_up(run, cfg, *rings) == 'reload'
    assert run.calls == [['systemctl', 'is-active', '--quiet', 'nginx-edge'],
                         ['nginx', '-t', '-c', '/etc/nginx-edge/nginx.conf'], ['systemctl', 'reload', 'nginx-edge']]


@pytest.mark.parametrize('method, test', [('nginx', 'nginx'), ('apache', 'apachectl'), ('haproxy', 'haproxy')])
def test_pick_up_config_test_failure_never_reloads(fake_runner, rings, method, test):
    run = fake_runner({(test,): (1, '', 'emerg: unexpected "}"\n')})
    with pytest.raises(ResumptionError) as e:
        _reload.pick_up(run, {'reload': method}, *rings)
    assert 'failed, no reload: emerg: unexpected "}"' in str(e.value)
    assert not [c for c in run.calls if c[:2] == ['systemctl', 'reload']]
    assert not [c for c in run.calls if c[:2] == ['systemctl', 'start']]


def test_pick_up_reload_failure(fake_runner, rings):
    run = fake_runner({('systemctl', 'reload'): (1, '', 'Job for nginx.service failed.\n')})
    with pytest.raises(ResumptionError, match='systemctl reload nginx failed: Job for nginx.service failed.'):
        _reload.pick_up(run, {'reload': 'nginx'}, *rings)


# ---------------------------------------------------------------- HAProxy runtime API

class StatsSocket(object):
    """A tiny HAProxy stats socket: one command per connection, like `socat` use of it.
    Like HAProxy it keeps the last three keys pushed with `set ssl tls-key` and dumps
    them with `show tls-keys REF`; `answer` replaces the answer to `set` (a refusal),
    and `forget` acknowledges keys without keeping them (a push that did not land)."""

    def __init__(self, path, answer=None, forget=False, keys=None):
        self.path = path
        self.answer = answer
        self.forget = forget
        self.keys = list(keys or [])
        self.commands = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def respond(self, command):
        words = command.split()
        if words[:3] == ['set', 'ssl', 'tls-key']:
            if self.answer is not None:
                return self.answer
            if not self.forget:
                self.keys = (self.keys + [words[4]])[-3:]
            return 'TLS ticket key updated!\n'
        if words[:2] == ['show', 'tls-keys']:
            return '# id secret\n# 0 (%s)\n' % words[2] + ''.join('0.%d %s\n' % (i, k) for i, k in enumerate(self.keys))
        return 'Unknown command\n'

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, dummy = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                data = b''
                while not data.endswith(b'\n'):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if not data:
                    continue    # a client that checked who we are and left
                self.commands.append(data.decode('ascii'))
                conn.sendall(self.respond(data.decode('ascii')).encode('ascii'))
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def sock_dir(tmp_path):
    """tmp_path, or a shorter directory when tmp_path is too long for an AF_UNIX address."""
    if len(str(tmp_path)) < 80:
        yield str(tmp_path)
        return
    d = tempfile.mkdtemp(prefix='htls-')
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def stats_socket(sock_dir, monkeypatch):
    """A fake HAProxy socket in a temporary directory. The path and peer checks are
    stood down for it (a temporary directory is never root's alone, and this process
    is not in haproxy.service): tests below check them on their own."""
    monkeypatch.setattr(_reload, 'check_root_only_path', lambda path: None)
    monkeypatch.setattr(_reload, 'process_cgroup', lambda pid: '/system.slice/haproxy.service')
    servers = []

    def start(answer=None, forget=False, keys=None):
        s = StatsSocket(os.path.join(sock_dir, 'admin.sock'), answer, forget, keys)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()


def haproxy_runner(fake_runner, answers=None):
    return fake_runner(dict({('systemctl', 'show'): (0, '4242\n', '')}, **(answers or {})))


def _haproxy_rings(kind):
    before = _ring.new_ring('haproxy', 48, 3, NOW)
    if kind == 'rotate':
        return before, _ring.rotate(before, NOW + 1)
    if kind == 'rotate-2':
        return before, _ring.rotate(before, NOW + 1, steps=2)
    if kind == 'first':
        return None, before
    return before, _ring.new_ring('haproxy', 48, 3, NOW)    # rebuilt


# The ring's last three keys every time (previous, current, next): HAProxy ends with exactly the file's keys.
@pytest.mark.parametrize('kind, count', [('rotate', 3), ('rotate-2', 3), ('first', 3), ('rebuilt', 3)])
def test_pick_up_haproxy_runtime_api(fake_runner, stats_socket, kind, count):
    server = stats_socket()
    before, after = _haproxy_rings(kind)
    run = haproxy_runner(fake_runner)
    cfg = {'reload': 'haproxy', 'haproxy_socket': server.path, 'haproxy_ref': REF}
    assert _reload.pick_up(run, cfg, before, after) == 'runtime-api'
    expected = ['set ssl tls-key %s %s\n' % (REF, base64.b64encode(m.key.canonical()).decode('ascii'))
                for m in after.members[-count:]]
    # the keys, then the read-back of their names
    assert server.commands == expected + ['show tls-keys %s\n' % REF]
    # no reload, no config test: the is-active query and the main pid (whose cgroup the peer must share)
    assert run.calls == [['systemctl', 'is-active', '--quiet', 'haproxy'],
                         ['systemctl', 'show', '--property=MainPID', '--value', 'haproxy']]


def test_haproxy_push_order_makes_current_penultimate(stats_socket):
    """After pushing the new keys into a 3-key HAProxy ring, the penultimate key is the ring's current."""
    server = stats_socket()
    before = _ring.new_ring('haproxy', 48, 3, NOW)
    after = _ring.rotate(before, NOW + 1)
    haproxy_ring = [m.key.canonical() for m in before.members]
    _reload.haproxy_push(_reload.HAProxySocket(server.path), REF, _reload.new_keys(before, after))
    for cmd in server.commands[:-1]:
        haproxy_ring = (haproxy_ring + [base64.b64decode(cmd.split()[-1])])[-3:]
    assert haproxy_ring[-2] == after.current.key.canonical()
    assert haproxy_ring == [m.key.canonical() for m in after.members]


@pytest.mark.parametrize('lag', [0, 1, 2])
def test_pick_up_haproxy_heals_a_lost_push(fake_runner, stats_socket, lag):
    """HAProxy lagging the file (a push lost in a reload) ends with the file's three keys."""
    server = stats_socket()
    old = _ring.new_ring('haproxy', 48, 3, NOW)
    before = _ring.rotate(old, NOW + 1, steps=lag) if lag else old
    after = _ring.rotate(before, NOW + 2)
    haproxy_ring = [m.key.canonical() for m in old.members]
    cfg = {'reload': 'haproxy', 'haproxy_socket': server.path, 'haproxy_ref': REF}
    assert _reload.pick_up(haproxy_runner(fake_runner), cfg, before, after) == 'runtime-api'
    ring_keys = [m.key.canonical() for m in after.members]
    for cmd in server.commands[:-1]:
        haproxy_ring = (haproxy_ring + [base64.b64decode(cmd.split()[-1])])[-3:]
    assert haproxy_ring == ring_keys
    assert haproxy_ring[-2] == after.current.key.canonical()


def test_pick_up_haproxy_refused_falls_back(fake_runner, stats_socket):
    server = stats_socket(answer="Unknown command: 'set ssl tls-key'\nmore")
    before, after = _haproxy_rings('rotate')
    run = haproxy_runner(fake_runner)
    cfg = {'reload': 'haproxy', 'haproxy_socket': server.path, 'haproxy_ref': REF}
    how = _reload.pick_up(run, cfg, before, after)
    assert how.startswith('reload (runtime API unavailable: HAProxy refused the new ticket key for %s' % REF)
    assert "Unknown command: 'set ssl tls-key'" in how
    assert 'more' not in how
    assert after.members[-1].key.name_hex not in how
    assert base64.b64encode(after.members[-1].key.canonical()).decode() not in how
    assert run.calls[-2:] == [list(_reload.CONFIG_TEST['haproxy']), ['systemctl', 'reload', 'haproxy']]


def test_pick_up_haproxy_missing_socket(fake_runner, sock_dir):
    path = os.path.join(sock_dir, 'missing.sock')
    run = fake_runner()
    cfg = {'reload': 'haproxy', 'haproxy_socket': path, 'haproxy_ref': REF}
    how = _reload.pick_up(run, cfg, *_haproxy_rings('rotate'))
    assert how == 'reload (runtime API unavailable: stats socket %s does not exist)' % path
    assert run.calls == [['systemctl', 'is-active', '--quiet', 'haproxy'],
                         ['haproxy', '-c', '-q', '-f', '/etc/haproxy/haproxy.cfg'],
                         ['systemctl', 'reload', 'haproxy']]


def test_pick_up_haproxy_dead_socket(fake_runner, sock_dir, stats_socket):
    path = os.path.join(sock_dir, 'dead.sock')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()                      # the file stays, nobody listens
    run = haproxy_runner(fake_runner)
    how = _reload.pick_up(run, {'reload': 'haproxy', 'haproxy_socket': path, 'haproxy_ref': REF}, *_haproxy_rings('rotate'))
    assert how.startswith('reload (runtime API unavailable: stats socket %s: ' % path)
    assert 'refused' in how.lower()
    assert run.calls[-1] == ['systemctl', 'reload', 'haproxy']


@pytest.mark.parametrize('cfg', [{}, {'haproxy_socket': '/run/haproxy/admin.sock'}, {'haproxy_ref': REF}])
def test_pick_up_haproxy_without_socket(fake_runner, cfg):
    run = fake_runner()
    cfg = dict(cfg, reload='haproxy')
    how = _reload.pick_up(run, cfg, *_haproxy_rings('rotate'))
    assert how == 'reload (runtime API unavailable: no stats socket configured)'
    assert run.calls[-1] == ['systemctl', 'reload', 'haproxy']


def test_pick_up_haproxy_fallback_config_test_fails(fake_runner, sock_dir):
    run = fake_runner({('haproxy',): (1, '', '[ALERT] bad\n')})
    with pytest.raises(ResumptionError, match=r'configuration test .* failed, no reload: \[ALERT\] bad'):
        _reload.pick_up(run, {'reload': 'haproxy', 'haproxy_socket': os.path.join(sock_dir, 'x'), 'haproxy_ref': REF},
                        *_haproxy_rings('rotate'))
    assert ['systemctl', 'reload', 'haproxy'] not in run.calls


def test_haproxy_command(stats_socket):
    server = stats_socket(answer='hello\n')
    assert _reload.HAProxySocket(server.path).command('set ssl tls-key x y') == 'hello\n'
    assert server.commands == ['set ssl tls-key x y\n']


# ---------------------------------------------------------------- who may receive a key (issue 13)

class FakeStat(object):
    def __init__(self, mode, uid=0):
        self.st_mode, self.st_uid = mode, uid


DIR = stat.S_IFDIR
SOCK = stat.S_IFSOCK


def lstat_table(monkeypatch, table):
    def fake(path):
        if path not in table:
            raise OSError(2, 'No such file or directory', path)
        return table[path]
    monkeypatch.setattr(_reload.os, 'lstat', fake)


GOOD = {'/run': FakeStat(DIR | 0o755), '/run/hardened-tls-haproxy': FakeStat(DIR | 0o700),
        '/run/hardened-tls-haproxy/admin.sock': FakeStat(SOCK | 0o600)}


def test_root_only_socket_path_accepted(monkeypatch):
    lstat_table(monkeypatch, GOOD)
    _reload.check_root_only_path('/run/hardened-tls-haproxy/admin.sock')


@pytest.mark.parametrize('change, message', [
    # Debian's /run/haproxy: 2775 haproxy:haproxy, a group member can replace any socket in it
    ({'/run/hardened-tls-haproxy': FakeStat(DIR | 0o2775, uid=108)}, 'can be written by others than root'),
    ({'/run/hardened-tls-haproxy': FakeStat(DIR | 0o770)}, 'can be written by others than root'),
    ({'/run': FakeStat(DIR | 0o1777)}, 'the directory /run can be written by others than root'),
    ({'/run/hardened-tls-haproxy': FakeStat(stat.S_IFLNK | 0o777)}, 'is a symbolic link'),
    ({'/run/hardened-tls-haproxy/admin.sock': FakeStat(stat.S_IFLNK | 0o777)}, 'not a socket'),
    ({'/run/hardened-tls-haproxy/admin.sock': FakeStat(stat.S_IFREG | 0o600)}, 'not a socket'),
    ({'/run/hardened-tls-haproxy/admin.sock': FakeStat(SOCK | 0o600, uid=33)}, 'owned by uid 33, not root'),
])
def test_socket_path_anyone_else_could_place_is_refused(monkeypatch, change, message):
    lstat_table(monkeypatch, dict(GOOD, **change))
    with pytest.raises(ResumptionError, match=message):
        _reload.check_root_only_path('/run/hardened-tls-haproxy/admin.sock')


def test_socket_path_checks_on_a_real_world_writable_directory(sock_dir):
    path = os.path.join(sock_dir, 'admin.sock')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    try:
        # /tmp (1777) or the like is above every temporary directory
        with pytest.raises(ResumptionError, match='can be written by others than root|owned by uid'):
            _reload.check_root_only_path(path)
    finally:
        s.close()


def test_peer_outside_the_server_cgroup_gets_no_key(sock_dir, monkeypatch):
    """An impostor listening on the path (here: this test process) is refused before any key is sent."""
    monkeypatch.setattr(_reload, 'check_root_only_path', lambda path: None)
    server = StatsSocket(os.path.join(sock_dir, 'admin.sock'))
    try:
        ring = _ring.new_ring('haproxy', 48, 3, NOW)
        sock = _reload.HAProxySocket(server.path, expected_cgroup='/system.slice/no-such-haproxy.service')
        with pytest.raises(ResumptionError, match='is served by pid %d .* not by the server' % os.getpid()):
            _reload.haproxy_push(sock, REF, _reload.haproxy_keys(ring))
        assert server.commands == []
        # the same process's own cgroup is accepted
        own = _reload.HAProxySocket(server.path, expected_cgroup=_reload.process_cgroup(os.getpid()))
        assert _reload.haproxy_push(own, REF, _reload.haproxy_keys(ring)) == 3
    finally:
        server.close()


def test_peer_pid_is_the_listening_process(sock_dir):
    path = os.path.join(sock_dir, 'peer.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(path)
        assert _reload.peer_pid(client) == os.getpid()
    finally:
        client.close()
        listener.close()


def test_process_cgroup_reads_v2_and_v1(tmp_path):
    (tmp_path / '7').mkdir()
    (tmp_path / '7' / 'cgroup').write_text('0::/system.slice/haproxy.service\n')
    (tmp_path / '8').mkdir()
    (tmp_path / '8' / 'cgroup').write_text('12:cpu:/docker/x\n9:name=systemd:/docker/x/system.slice/haproxy.service\n')
    assert _reload.process_cgroup(7, proc=str(tmp_path)) == '/system.slice/haproxy.service'
    assert _reload.process_cgroup(8, proc=str(tmp_path)) == '/docker/x/system.slice/haproxy.service'
    assert _reload.process_cgroup(9, proc=str(tmp_path)) is None


def test_push_that_did_not_land_is_caught_by_the_read_back(fake_runner, stats_socket):
    """HAProxy (or whatever answers) says updated but holds other keys: never taken as a pick-up."""
    server = stats_socket(forget=True)
    before, after = _haproxy_rings('rotate')
    run = haproxy_runner(fake_runner)
    cfg = {'reload': 'haproxy', 'haproxy_socket': server.path, 'haproxy_ref': REF}
    how = _reload.pick_up(run, cfg, before, after)
    assert how.startswith('reload (runtime API unavailable: HAProxy holds the key names none for %s' % REF)
    assert run.calls[-2:] == [list(_reload.CONFIG_TEST['haproxy']), ['systemctl', 'reload', 'haproxy']]


def test_pick_up_without_the_server_cgroup_falls_back(fake_runner, stats_socket, monkeypatch):
    server = stats_socket()
    monkeypatch.setattr(_reload, 'process_cgroup', lambda pid: None)
    how = _reload.pick_up(haproxy_runner(fake_runner), {'reload': 'haproxy', 'haproxy_socket': server.path, 'haproxy_ref': REF},
                          *_haproxy_rings('rotate'))
    assert how == 'reload (runtime API unavailable: cannot read the cgroup of haproxy to check who serves the socket)'
    assert server.commands == []


def test_key_names_of_a_dump_keep_names_only():
    ring = _ring.new_ring('haproxy', 80, 3, NOW)
    dump = '# id secret\n# 0 (%s)\n' % REF + ''.join(
        '0.%d %s\n' % (i, base64.b64encode(m.key.canonical()).decode('ascii')) for i, m in enumerate(ring.members))
    assert _reload.haproxy_key_names(dump) == [m.key.name_hex for m in ring.members]
    assert _reload.haproxy_key_names('# id (file)\n0 (/x)\nUnknown command\n') == []


# ---------------------------------------------------------------- a server that cannot see its store

STORE = '/run/hardened-tls/apache'


def _with_main_pid(fake_runner, pid='4242'):
    return fake_runner({('systemctl', 'show'): (0, pid + '\n', '')})


@pytest.mark.parametrize('method, service', [('nginx', 'nginx'), ('apache', 'apache2')])
def test_pick_up_refuses_when_the_server_cannot_see_the_store(fake_runner, rings, monkeypatch, method, service):
    seen = []
    monkeypatch.setattr(_reload._fs, 'process_sees_memory_mount', lambda pid, path: seen.append((pid, path)) or False)
    run = _with_main_pid(fake_runner)
    with pytest.raises(ResumptionError) as e:
        _reload.pick_up(run, {'reload': method, 'store': STORE}, *rings)
    assert 'does not see the key store %s' % STORE in str(e.value)
    assert 'Restart %s once' % service in str(e.value)
    assert seen == [(4242, STORE)]
    assert not [c for c in run.calls if c[:2] == ['systemctl', 'reload']]


@pytest.mark.parametrize('answer, expected', [(True, 'reload'), (None, 'reload')])
def test_pick_up_reloads_when_the_server_sees_the_store_or_cannot_tell(fake_runner, rings, monkeypatch, answer, expected):
    monkeypatch.setattr(_reload._fs, 'process_sees_memory_mount', lambda pid, path: answer)
    run = _with_main_pid(fake_runner)
    assert _reload.pick_up(run, {'reload': 'apache', 'store': STORE}, *rings) == expected
    assert ['systemctl', 'reload', 'apache2'] in run.calls


def test_server_sees_store_without_main_pid(fake_runner, monkeypatch):
    monkeypatch.setattr(_reload._fs, 'process_sees_memory_mount', lambda pid, path: pytest.fail('no pid to look at'))
    run = _with_main_pid(fake_runner, pid='0')
    assert _reload.server_sees_store(_reload._systemd.Systemctl(run), 'apache2', STORE) is True


def test_server_sees_store_stopped_server(fake_runner):
    run = fake_runner({('systemctl', 'is-active'): (3, 'inactive', '')})
    assert _reload.server_sees_store(_reload._systemd.Systemctl(run), 'apache2', STORE) is True
