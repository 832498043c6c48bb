# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import io
import json
import os

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _rotate_cli
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

NOW = 1700000000


def config(store, **kw):
    cfg = {'name': 'web', 'store': store, 'server': 'nginx', 'key_size': 48, 'size': 3, 'period': 43200,
           'reload': 'none', 'service': 'nginx', 'command': [], 'haproxy_socket': None, 'haproxy_ref': None}
    cfg.update(kw)
    return cfg


@pytest.fixture
def conf_file(tmp_path, shm_store):
    def write(**kw):
        p = tmp_path / 'web.json'
        p.write_text(json.dumps(config(shm_store, **kw)))
        return str(p)
    return write


@pytest.mark.parametrize('argv', [
    [], ['--config'], ['--config', 'x.json'], ['rotate'], ['--conf', 'x.json', 'rotate'],
    ['--config', 'x.json', 'destroy'], ['--config', 'x.json', 'rotate', 'extra'], ['x.json', '--config', 'rotate'],
])
def test_main_usage_errors(capsys, argv):
    out = io.StringIO()
    assert _rotate_cli.main(argv, out=out) == 2
    assert out.getvalue() == ''
    assert 'usage: hardened-tls-ring --config FILE rotate|ensure|status' in capsys.readouterr().err


def test_main_missing_config(capsys, tmp_path):
    assert _rotate_cli.main(['--config', str(tmp_path / 'missing.json'), 'status'], out=io.StringIO()) == 1
    assert capsys.readouterr().err.startswith('hardened-tls-ring: ')


@pytest.mark.parametrize('content', ['{not json', '{}'])
def test_main_bad_config(capsys, tmp_path, content):
    p = tmp_path / 'bad.json'
    p.write_text(content)
    assert _rotate_cli.main(['--config', str(p), 'ensure'], out=io.StringIO()) == 1
    assert 'hardened-tls-ring: ' in capsys.readouterr().err


def test_main_refuses_disk_store(capsys, tmp_path):
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
    if _fs.is_memory_mount(_fs.mount_of(str(tmp_path), _fs.read_mountinfo())):
        pytest.skip('tmp_path is on a memory file system here')
    store = tmp_path / 'store'
    store.mkdir()
    p = tmp_path / 'c.json'
    p.write_text(json.dumps(config(str(store))))
    assert _rotate_cli.main(['--config', str(p), 'ensure'], out=io.StringIO()) == 1
    assert 'persistent storage' in capsys.readouterr().err
    assert [n for n in os.listdir(str(store)) if n != '.lock'] == []


@pytest.mark.parametrize('server, key_size, size', [('nginx', 48, 3), ('nginx', 80, 2), ('apache', 48, 2), ('haproxy', 80, 3)])
def test_act_ensure_then_rotate(shm_store, fake_runner, server, key_size, size):
    cfg = config(shm_store, server=server, key_size=key_size, size=size)
    run = fake_runner()
    first = _rotate_cli.act(cfg, 'ensure', runner=run, now=NOW)
    assert first['action'] == 'created'
    assert first['generation'] == 1
    assert first['pick_up'] == 'none'
    ring = _ring.load(shm_store)
    assert first['current_key_name'] == ring.current.key.name_hex
    next_name = ring.members[-1].key.name_hex

    again = _rotate_cli.act(cfg, 'ensure', runner=run, now=NOW + 1)
    assert again == dict(first, action='none')

    rotated = _rotate_cli.act(cfg, 'rotate', runner=run, now=NOW + 2)
    assert rotated['action'] == 'rotated'
    assert rotated['generation'] == 2
    assert rotated['current_key_name'] != first['current_key_name']
    assert rotated['current_key_name'] == next_name
    assert _ring.load(shm_store).generation == 2
    assert _ring.load(shm_store).rotated_at == NOW + 2
    assert run.calls == []


def test_act_rotate_picks_up(shm_store, fake_runner):
    cfg = config(shm_store, reload='command', command=['/usr/local/bin/push', 'web'])
    run = fake_runner()
    _rotate_cli.act(cfg, 'ensure', runner=run, now=NOW)
    assert run.calls == [['/usr/local/bin/push', 'web']]
    res = _rotate_cli.act(cfg, 'rotate', runner=run, now=NOW + 1)
    assert res['pick_up'] == 'command'
    assert run.calls == [['/usr/local/bin/push', 'web']] * 2
    _rotate_cli.act(cfg, 'ensure', runner=run, now=NOW + 2)      # nothing to do: no pick-up
    assert len(run.calls) == 2


def test_act_nginx_reload_skipped_when_stopped(shm_store, fake_runner):
    run = fake_runner({('systemctl', 'is-active'): (3, '', '')})
    res = _rotate_cli.act(config(shm_store, reload='nginx'), 'rotate', runner=run, now=NOW)
    assert res['action'] == 'created'
    assert res['pick_up'] == 'skipped: nginx is not running'
    assert run.calls == [['systemctl', 'is-active', '--quiet', 'nginx']]


def test_act_status_empty(shm_store):
    assert _rotate_cli.act(config(shm_store), 'status') == {'ring': None}


def test_main_ensure_rotate_status(conf_file, shm_store):
    path = conf_file()
    outs = []
    for action in ('ensure', 'rotate', 'rotate', 'status'):
        out = io.StringIO()
        assert _rotate_cli.main(['--config', path, action], out=out) == 0
        outs.append(json.loads(out.getvalue()))
    assert [o.get('action') for o in outs[:3]] == ['created', 'rotated', 'rotated']
    assert [o.get('generation') for o in outs[:3]] == [1, 2, 3]
    status = outs[3]['ring']
    assert status['generation'] == 3
    assert status['current_key_name'] == outs[2]['current_key_name']


def test_status_shows_names_not_key_bytes(conf_file, shm_store):
    path = conf_file(server='haproxy', key_size=80, size=3)
    assert _rotate_cli.main(['--config', path, 'ensure'], out=io.StringIO()) == 0
    out = io.StringIO()
    assert _rotate_cli.main(['--config', path, 'status'], out=out) == 0
    text = out.getvalue()
    with open(os.path.join(shm_store, 'active', 'keys.bin'), 'rb') as f:
        raw = f.read()
    assert len(raw) == 3 * 80
    for i in range(3):
        key = raw[i * 80:(i + 1) * 80]
        name, secret = key[:16], key[16:]
        assert binascii.hexlify(name).decode() in text           # names are shown
        for blob in (key, secret, secret[:32], secret[32:]):
            assert binascii.hexlify(blob).decode() not in text
            assert binascii.hexlify(blob).decode().upper() not in text
            assert base64.b64encode(blob).decode() not in text
    with open(os.path.join(shm_store, 'active', 'tls-ticket-keys'), 'rb') as f:
        for line in f.read().decode().splitlines():
            assert line not in text
    parsed = json.loads(text)['ring']
    assert [k['role'] for k in parsed['members']] == ['previous', 'current', 'next']
    assert parsed['files'] == [os.path.join(shm_store, 'active', 'tls-ticket-keys')]


# ---------------------------------------------------------------- keys made by the server (Apache)

def server_config(**kw):
    cfg = {'name': 'apache', 'keys': 'server', 'server': 'apache', 'period': 20, 'reload': 'apache',
           'service': 'apache2', 'command': []}
    cfg.update(kw)
    return cfg


class Runner(object):
    """systemctl and apachectl as the rotation sees them."""

    def __init__(self, active=True, config_ok=True):
        self.active, self.config_ok, self.calls = active, config_ok, []

    def __call__(self, argv):
        self.calls.append(list(argv))
        if argv[:2] == ['systemctl', 'is-active']:
            return (0, 'active\n', '') if self.active else (3, 'inactive\n', '')
        if argv[:2] == ['apachectl', '-t']:
            return (0, '', 'Syntax OK') if self.config_ok else (1, '', 'AH00526: Syntax error on line 3')
        if argv[:2] == ['systemctl', 'show']:
            return 0, '4242\n', ''
        return 0, '', ''


def test_server_keys_rotate_reloads_and_counts(tmp_path):
    state_dir = str(tmp_path / 'state')
    run = Runner()
    first = _rotate_cli.act_server_keys(server_config(), 'rotate', run, now=NOW, state_dir=state_dir)
    assert first == {'action': 'rotated', 'generation': 1, 'current_key_name': None, 'pick_up': 'reload', 'keys': 'server'}
    assert ['apachectl', '-t'] in run.calls
    assert any(c[:2] == ['systemctl', 'reload'] and 'apache2' in c[-1] for c in run.calls)
    second = _rotate_cli.act_server_keys(server_config(), 'rotate', Runner(), now=NOW + 20, state_dir=state_dir)
    assert second['generation'] == 2
    status = _rotate_cli.act_server_keys(server_config(), 'status', Runner(), state_dir=state_dir)
    assert status['ring']['generation'] == 2 and status['ring']['rotated_at'] == NOW + 20
    assert status['ring']['members'] == [] and status['ring']['store'] is None
    assert oct(os.stat(state_dir).st_mode & 0o777) == '0o700'
    assert oct(os.stat(os.path.join(state_dir, 'apache.json')).st_mode & 0o777) == '0o600'


def test_server_keys_failed_config_test_never_reloads_nor_counts(tmp_path):
    state_dir = str(tmp_path / 'state')
    run = Runner(config_ok=False)
    with pytest.raises(Exception, match='configuration test apachectl -t failed, no reload'):
        _rotate_cli.act_server_keys(server_config(), 'rotate', run, now=NOW, state_dir=state_dir)
    assert not any(c[:2] == ['systemctl', 'reload'] for c in run.calls)
    assert _rotate_cli.act_server_keys(server_config(), 'status', Runner(), state_dir=state_dir)['ring']['generation'] == 0


def test_server_keys_stopped_server_is_not_started_nor_counted(tmp_path):
    state_dir = str(tmp_path / 'state')
    run = Runner(active=False)
    res = _rotate_cli.act_server_keys(server_config(), 'rotate', run, now=NOW, state_dir=state_dir)
    assert res['action'] == 'none' and res['pick_up'] == 'skipped: apache2 is not running'
    assert not any(c[:2] in (['systemctl', 'reload'], ['systemctl', 'start']) for c in run.calls)


def test_server_keys_ensure_does_nothing(tmp_path):
    run = Runner()
    res = _rotate_cli.act_server_keys(server_config(), 'ensure', run, state_dir=str(tmp_path / 'state'))
    assert res['action'] == 'none' and run.calls == []


def test_server_keys_state_dir_writable_by_others_is_refused(tmp_path):
    state_dir = tmp_path / 'state'
    state_dir.mkdir(mode=0o777)
    os.chmod(str(state_dir), 0o777)
    with pytest.raises(Exception, match='nobody else can write'):
        _rotate_cli.act_server_keys(server_config(), 'rotate', Runner(), now=NOW, state_dir=str(state_dir))


def test_act_dispatches_server_keys(monkeypatch):
    seen = []
    monkeypatch.setattr(_rotate_cli, 'act_server_keys', lambda cfg, action, runner, now: seen.append(action) or {})
    _rotate_cli.act(server_config(), 'status')
    assert seen == ['status']


# ---------------------------------------------------------------- a failed pick-up is loud (issue 13)

def test_status_says_what_the_server_picked_up(shm_store, fake_runner):
    cfg = config(shm_store, reload='nginx')
    run = fake_runner()
    _rotate_cli.act(cfg, 'rotate', runner=run, now=NOW)                 # created and picked up
    res = _rotate_cli.act(cfg, 'rotate', runner=run, now=NOW + 43200)
    status = _rotate_cli.act(cfg, 'status', now=NOW + 43210)
    assert status['server']['picked_up_generation'] == res['generation'] == status['ring']['generation']
    assert status['server']['generations_behind'] == 0
    assert status['server']['keys_held_for_seconds'] == 10
    assert status['server']['last_failure'] is None


def test_failed_pick_up_fails_the_unit_and_says_how_old_the_held_keys_are(conf_file, shm_store, fake_runner, capsys):
    cfg = config(shm_store, reload='nginx')
    _rotate_cli.act(cfg, 'rotate', runner=fake_runner(), now=NOW)       # picked up at generation 1
    broken = fake_runner({('nginx',): (1, '', 'nginx: [emerg] unknown directive "bogus"\n')})
    with pytest.raises(ResumptionError) as e:
        _rotate_cli.act(cfg, 'rotate', runner=broken, now=NOW + 3600)
    assert 'configuration test nginx -t -q failed, no reload' in str(e.value)
    assert 'the server still holds the keys of generation 1, picked up 3600 s ago (the ring is at generation 2)' in str(e.value)
    assert not broken.called('systemctl', 'reload')
    status = _rotate_cli.act(cfg, 'status', now=NOW + 3700)
    assert status['server']['generations_behind'] == 1
    assert status['server']['keys_held_for_seconds'] == 3700
    assert status['server']['last_failure_at'] == NOW + 3600
    assert 'unknown directive' in status['server']['last_failure']
    # the command exits 1: the oneshot unit fails (systemctl --failed, OnFailure=)
    path = conf_file(reload='nginx')
    assert _rotate_cli.main(['--config', path, 'rotate'], out=io.StringIO(), runner=broken) == 1
    assert 'the server still holds the keys of generation' in capsys.readouterr().err


# ---------------------------------------------------------------- lighttpd: start files and the hand-over

def _stek(store):
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
    with open(os.path.join(store, 'active', 'ticket.stek'), 'rb') as f:
        return _servers.lighttpd_parse(f.read())


def test_lighttpd_start_shows_the_current_key_and_the_hand_over_puts_the_next_back(shm_store):
    cfg = config(shm_store, server='lighttpd', key_size=80, period=600, reload='lighttpd', service='lighttpd')
    _rotate_cli.act(cfg, 'ensure', now=NOW)
    ring = _ring.load(shm_store)
    key, active, expire = _stek(shm_store)
    assert key.name_hex == ring.members[-1].key.name_hex and active == ring.rotated_at + 600 and expire == active + 1200
    # Before lighttpd starts: the key that encrypts now, active since the rotation.
    res = _rotate_cli.act(cfg, 'server-start', now=NOW + 10)
    assert res['start_files'] == ['ticket.stek'] and res['action'] == 'none'
    key, active, expire = _stek(shm_store)
    assert key.name_hex == ring.current.key.name_hex and active == ring.rotated_at and expire == ring.rotated_at + 1200
    assert _ring.load(shm_store).members[-1].key.name_hex == ring.members[-1].key.name_hex     # the ring is the same
    # After a reload: the usual file again (the next key) after a delay, in a fresh ring directory (a new mtime).
    slept = []
    res = _rotate_cli.act_start(cfg, 'server-reloaded', now=NOW + 13, sleep=slept.append)
    assert slept == [_rotate_cli.HANDOVER_DELAY] and res['action'] == 'repaired'
    key, active, expire = _stek(shm_store)
    assert key.name_hex == ring.members[-1].key.name_hex and active == ring.rotated_at + 600


class _Stat(object):
    def __init__(self, atime_ns, mtime_ns):
        self.st_atime_ns = atime_ns
        self.st_mtime_ns = mtime_ns


class _Clock(object):
    """A clock that sleep() moves on, and a file that the server reads at a given time."""

    def __init__(self, start, read_at=None, mtime=None):
        self.now = float(start)
        self.read_at = read_at
        self.mtime_ns = int((mtime if mtime is not None else start) * 1e9)
        self.slept = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def stat(self, path):
        read = self.read_at is not None and self.now >= self.read_at
        return _Stat(int(self.read_at * 1e9) if read else self.mtime_ns - 1000, self.mtime_ns)


def test_start_hand_over_waits_until_the_server_read_its_file_then_a_second_past_the_read():
    # The server reads its start file 7.3 s after it was written (a loaded machine): the
    # hand-over comes after the second after that read's second (a fixed 3 s came before the read).
    clock = _Clock(start=NOW + 0.2, read_at=NOW + 7.5)
    waited = _rotate_cli.wait_start_read(['/x'], clock.time, clock.sleep, clock.stat)
    assert waited == pytest.approx(7.3)
    assert clock.now >= NOW + 9 and clock.now < NOW + 9 + 2 * _rotate_cli.START_READ_POLL


def test_start_hand_over_right_after_a_quick_read_still_comes_in_a_later_second():
    clock = _Clock(start=NOW + 0.9, read_at=NOW + 0.92)
    assert _rotate_cli.wait_start_read(['/x'], clock.time, clock.sleep, clock.stat) == pytest.approx(0.02)
    assert int(clock.now) == NOW + 2


def test_start_hand_over_comes_anyway_when_the_file_is_never_read():
    clock = _Clock(start=NOW, read_at=None)
    assert _rotate_cli.wait_start_read(['/x'], clock.time, clock.sleep, clock.stat) is None
    assert _rotate_cli.START_READ_WAIT <= clock.now - NOW < _rotate_cli.START_READ_WAIT + 1


def test_start_hand_over_waits_for_every_start_file():
    clock = _Clock(start=NOW, read_at=NOW + 2)
    late = _Clock(start=NOW, read_at=NOW + 5)

    def stat(path):
        late.now = clock.now
        return (late if path == '/late' else clock).stat(path)
    assert _rotate_cli.wait_start_read(['/x', '/late'], clock.time, clock.sleep, stat) == pytest.approx(5)


def test_start_hand_over_stops_waiting_when_the_files_are_gone():
    clock = _Clock(start=NOW)

    def gone(path):
        raise OSError(2, 'No such file or directory')
    assert _rotate_cli.wait_start_read(['/x'], clock.time, clock.sleep, gone) is None and clock.slept == []


def test_server_started_waits_for_lighttpd_to_read_the_start_file_on_tmpfs(shm_store):
    cfg = config(shm_store, server='lighttpd', key_size=80, period=600, reload='lighttpd', service='lighttpd')
    _rotate_cli.act(cfg, 'ensure', now=NOW)
    ring = _ring.load(shm_store)
    _rotate_cli.act(cfg, 'server-start', now=NOW + 10)
    path = os.path.join(shm_store, 'active', 'ticket.stek')
    st = os.stat(path)
    # Not read yet: the hand-over waits (here the fake clock gives up at once).
    clock = _Clock(start=NOW + 10)
    assert _rotate_cli.start_files_read([path]) is None
    with open(path, 'rb') as f:          # lighttpd reads it (as root, at start-up)
        f.read()
    if os.stat(path).st_atime_ns <= st.st_mtime_ns:
        pytest.skip('this file system does not update access times (noatime)')
    res = _rotate_cli.act_start(cfg, 'server-started', now=NOW + 13, sleep=clock.sleep, clock=clock.time)
    assert res['action'] == 'repaired' and res['start_read_after'] is not None
    key, active, expire = _stek(shm_store)
    assert key.name_hex == ring.members[-1].key.name_hex and active == ring.rotated_at + 600


def test_start_actions_do_nothing_for_servers_that_keep_their_keys(shm_store):
    cfg = config(shm_store)
    _rotate_cli.act(cfg, 'ensure', now=NOW)
    before = sorted(os.listdir(os.path.join(shm_store, 'active')))
    assert _rotate_cli.act(cfg, 'server-start', now=NOW) == {'action': 'none', 'start_files': []}
    assert sorted(os.listdir(os.path.join(shm_store, 'active'))) == before
    assert _rotate_cli.act(config(shm_store, keys='server'), 'server-started') == {'action': 'none', 'start_files': []}
