# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keystore
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

ROOT_LINE = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw'


def mount_line(mount_id, path, fstype, super_options='rw', mount_options='rw,nosuid,nodev,noexec,relatime'):
    return '%d 27 0:%d / %s %s - %s %s %s' % (mount_id, mount_id, path.replace(' ', '\\040'), mount_options,
                                              fstype, fstype if fstype in ('tmpfs', 'ramfs') else '/dev/vdb', super_options)


def mounts_of(*lines):
    return _fs.parse_mountinfo('\n'.join((ROOT_LINE,) + lines))


# ---------------------------------------------------------------- check_store_path

@pytest.mark.parametrize('path, message', [
    ('run/keys', 'must be an absolute path'),
    ('keys', 'must be an absolute path'),
    ('', 'must be an absolute path'),
    (None, 'must be an absolute path'),
    (b'/run/keys', 'must be an absolute path'),
    ('/', 'is a system directory'),
    ('/run', 'is a system directory'),
    ('/run/', 'is a system directory'),
    ('/dev/shm', 'is a system directory'),
    ('/tmp', 'is a system directory'),
    ('/etc', 'is a system directory'),
    ('/var', 'is a system directory'),
    ('/home', 'is a system directory'),
    ('/root', 'is a system directory'),
    ('/run/tls-keys/../../etc', 'is a system directory'),
    ('//run', 'is a system directory'),
    ('//dev/shm', 'is a system directory'),
    ('//tmp/', 'is a system directory'),
    ('//', 'is a system directory'),
    # written into the mount unit (Where=): a newline would add directives, % is a specifier
    ('/run/tls-keys\nExecStartPre=/bin/true', 'written into unit files'),
    ('/run/tls-%h', 'written into unit files'),
    ('/run/tls keys', 'written into unit files'),
])
def test_check_store_path_refuses(path, message):
    with pytest.raises(ResumptionError, match=message):
        _keystore.check_store_path(path, mounts_of())


def test_check_store_path_refuses_symlink(tmp_path):
    (tmp_path / 'real').mkdir()
    os.symlink(str(tmp_path / 'real'), str(tmp_path / 'link'))
    for path in (tmp_path / 'link', tmp_path / 'link' / 'keys'):
        with pytest.raises(ResumptionError, match='symbolic link'):
            _keystore.check_store_path(str(path), mounts_of())


def test_check_store_path_refuses_file(tmp_path):
    (tmp_path / 'file').write_bytes(b'x')
    with pytest.raises(ResumptionError, match='exists and is not a directory'):
        _keystore.check_store_path(str(tmp_path / 'file'), mounts_of())


def test_check_store_path_refuses_non_empty_dir(tmp_path):
    (tmp_path / 'dir').mkdir()
    (tmp_path / 'dir' / '.hidden').write_bytes(b'x')
    with pytest.raises(ResumptionError, match='non-empty directory'):
        _keystore.check_store_path(str(tmp_path / 'dir'), mounts_of())


@pytest.mark.parametrize('fstype', ['ext4', 'xfs', 'overlay', 'nfs4', 'devtmpfs'])
def test_check_store_path_refuses_persistent_mount_point(tmp_path, fstype):
    path = str(tmp_path / 'keys')
    with pytest.raises(ResumptionError) as e:
        _keystore.check_store_path(path, mounts_of(mount_line(60, path, fstype)))
    assert 'mount point of %s, which is persistent storage' % fstype in str(e.value)


def test_check_store_path_topmost_mount_counts(tmp_path):
    path = str(tmp_path / 'keys')
    with pytest.raises(ResumptionError, match='persistent storage'):
        _keystore.check_store_path(path, mounts_of(mount_line(60, path, 'tmpfs'), mount_line(61, path, 'ext4')))
    m = _keystore.check_store_path(path, mounts_of(mount_line(60, path, 'ext4'), mount_line(61, path, 'tmpfs')))
    assert m['fstype'] == 'tmpfs'


def test_check_store_path_double_slash_sees_the_mount(tmp_path):
    path = str(tmp_path / 'keys')
    with pytest.raises(ResumptionError, match='persistent storage'):
        _keystore.check_store_path('/' + path, mounts_of(mount_line(60, path, 'ext4')))
    assert _keystore.check_store_path('/' + path + '/', mounts_of(mount_line(60, path, 'tmpfs')))['fstype'] == 'tmpfs'


def test_check_store_path_accepts_empty_dir(tmp_path):
    (tmp_path / 'empty').mkdir()
    assert _keystore.check_store_path(str(tmp_path / 'empty'), mounts_of()) is None


@pytest.mark.parametrize('rel', ['missing', 'missing/deeper/keys'])
def test_check_store_path_accepts_missing(tmp_path, rel):
    assert _keystore.check_store_path(str(tmp_path / rel), mounts_of()) is None


@pytest.mark.parametrize('fstype', ['tmpfs', 'ramfs'])
def test_check_store_path_accepts_existing_memory_mount(tmp_path, fstype):
    path = tmp_path / 'keys'
    path.mkdir()
    (path / 'active').write_bytes(b'')       # a store in use is not empty: still fine
    m = _keystore.check_store_path(str(path), mounts_of(mount_line(60, str(path), fstype, 'rw,mode=700')))
    assert m['fstype'] == fstype
    assert m['mount_point'] == str(path)


# ---------------------------------------------------------------- sizes and options

@pytest.mark.parametrize('size, expected', [('1', 1), ('4k', 4096), ('1m', 1048576), ('1M', 1048576), ('2g', 2 * 1024 ** 3), (1024, 1024)])
def test_size_bytes(size, expected):
    assert _keystore.size_bytes(size) == expected


def _mount(fstype='tmpfs', super_options='rw,size=1024k,mode=700', mount_options='rw,nosuid,nodev,noexec'):
    return {'fstype': fstype, 'super_options': super_options.split(','), 'mount_options': mount_options.split(',')}


@pytest.mark.parametrize('mount, mode, uid, gid, size, expected', [
    (_mount(), 0o700, 0, 0, '1m', []),
    (_mount(), 0o700, None, None, '1m', []),
    (_mount(), 0o700, 0, 0, '1024k', []),
    (_mount(), 0o700, 0, 0, None, []),
    (_mount(), 0o700, 0, 0, '2m', ['size']),
    (_mount(super_options='rw,size=1024k,mode=755'), 0o700, 0, 0, '1m', ['mode']),
    (_mount(super_options='rw,size=1024k'), 0o700, 0, 0, '1m', ['mode']),           # tmpfs default 1777
    (_mount(super_options='rw,size=1024k,mode=1777'), 0o1777, 0, 0, '1m', []),
    (_mount(super_options='rw,size=1024k,mode=700,uid=33,gid=33'), 0o700, 0, 0, '1m', ['uid', 'gid']),
    (_mount(super_options='rw,size=1024k,mode=700,uid=33,gid=33'), 0o700, 33, 33, '1m', []),
    (_mount(super_options='rw,size=1024k,mode=700,uid=33'), 0o700, 33, 44, '1m', ['gid']),
    (_mount(super_options='rw,size=2048k,mode=755,uid=1'), 0o700, 0, 0, '1m', ['mode', 'uid', 'size']),
    (_mount(super_options='rw,mode=700'), 0o700, 0, 0, '1m', []),                    # no size shown: no claim
    (_mount('ramfs', 'rw,mode=700'), 0o700, 33, 33, '1m', []),                       # ramfs: mode only
    (_mount('ramfs', 'rw,mode=755'), 0o700, 0, 0, None, ['mode']),
])
def test_mounted_options_differ(mount, mode, uid, gid, size, expected):
    assert _keystore.mounted_options_differ(mount, mode, uid, gid, size) == expected


def test_unit_content():
    data = _keystore.unit_content('/run/tls-keys', 'tmpfs', ['nosuid', 'nodev', 'noexec', 'mode=0700', 'size=1m', 'noswap'])
    assert data == (
        b'# Managed by hardened_tls.resumption: local changes are overwritten.\n'
        b'\n'
        b'[Unit]\n'
        b'Description=Memory-only TLS ticket key store /run/tls-keys\n'
        b'Documentation=https://github.com/hardened-tls/resumption\n'
        b'DefaultDependencies=no\n'
        b'Conflicts=umount.target\n'
        b'Before=local-fs.target umount.target\n'
        b'\n'
        b'[Mount]\n'
        b'What=tmpfs\n'
        b'Where=/run/tls-keys\n'
        b'Type=tmpfs\n'
        b'Options=nosuid,nodev,noexec,mode=0700,size=1m,noswap\n'
        b'\n'
        b'[Install]\n'
        b'WantedBy=local-fs.target\n'
    )


@pytest.mark.parametrize('rc, expected', [(0, True), (32, False)])
def test_noswap_probe(tmp_path, fake_runner, rc, expected):
    run = fake_runner({('mount',): (rc, '', 'bad option' if rc else '')})
    assert _keystore.noswap_probe(run, base=str(tmp_path)) is expected
    assert len(run.calls) == (2 if expected else 1)
    mount = run.calls[0]
    assert mount[:4] == ['mount', '-t', 'tmpfs', '-o']
    assert 'noswap' in mount[4].split(',')
    assert os.path.dirname(mount[-1]) == str(tmp_path)
    if expected:
        assert run.calls[1] == ['umount', mount[-1]]
    assert os.listdir(str(tmp_path)) == []


# ---------------------------------------------------------------- KeyStore

@pytest.mark.parametrize('kwargs, message', [
    ({'fstype': 'ext4'}, 'fstype must be tmpfs or ramfs'),
    ({'noswap': 'maybe'}, 'noswap must be one of auto, required, disabled'),
    ({'size': '1x'}, 'size must be a number of bytes'),
])
def test_keystore_refuses_options(tmp_path, fake_runner, kwargs, message):
    with pytest.raises(ResumptionError, match=message):
        _keystore.KeyStore(fake_runner(), str(tmp_path / 'keys'), **kwargs)


def test_keystore_ramfs_has_no_size(tmp_path, fake_runner):
    assert _keystore.KeyStore(fake_runner(), str(tmp_path / 'keys'), fstype='ramfs', size='1x').size is None


class Env(object):
    """A key store under tmp_path with a fake mountinfo file and a unit directory."""

    def __init__(self, tmp_path, monkeypatch, booted=True, noswap_ok=True):
        self.store = str(tmp_path / 'run' / 'tls-keys')
        self.unit_dir = tmp_path / 'units'
        self.unit_dir.mkdir()
        self.mountinfo = tmp_path / 'mountinfo'
        self.set_mounts()
        monkeypatch.setattr(_systemd, 'is_systemd_booted', lambda: booted)
        monkeypatch.setattr(_fs, 'kernel_accepts_noswap', lambda release=None: noswap_ok)

    def set_mounts(self, *lines):
        self.mountinfo.write_text('\n'.join((ROOT_LINE,) + lines) + '\n')

    def keystore(self, run, **kwargs):
        return _keystore.KeyStore(run, self.store, mountinfo=str(self.mountinfo), unit_dir=str(self.unit_dir), **kwargs)

    @property
    def unit_path(self):
        return self.unit_dir / (_systemd.escape_path(self.store) + '.mount')

    def tree(self, root):
        out = {}
        for r, ds, fs in os.walk(str(root)):
            for n in ds + fs:
                p = os.path.join(r, n)
                out[p] = open(p, 'rb').read() if os.path.isfile(p) else None
        return out


@pytest.fixture
def env(tmp_path, monkeypatch):
    return Env(tmp_path, monkeypatch)


def test_present_check_mode_new_store(env, tmp_path, fake_runner):
    run = fake_runner({('systemctl', 'is-enabled'): (1, '', '')})
    before = env.tree(tmp_path)
    changes, facts = env.keystore(run).present(check_mode=True)
    assert changes == ['unit', 'enabled', 'mounted']
    assert run.calls == [['systemctl', 'is-enabled', '--quiet', _systemd.mount_unit_name(env.store)]]
    assert env.tree(tmp_path) == before
    assert not os.path.lexists(env.store)
    assert os.listdir(str(env.unit_dir)) == []
    assert facts == {'path': env.store, 'unit': _systemd.mount_unit_name(env.store), 'mounted': False,
                     'fstype': 'tmpfs', 'options': [], 'swappable': None}


def test_present_check_mode_no_persist(env, tmp_path, fake_runner):
    run = fake_runner()
    before = env.tree(tmp_path)
    changes, facts = env.keystore(run, persist=False, fstype='ramfs').present(check_mode=True)
    assert changes == ['mounted']
    assert run.calls == []
    assert env.tree(tmp_path) == before
    assert facts['unit'] is None
    assert facts['fstype'] == 'ramfs'


def _options(noswap=True, size='1m'):
    return _fs.tmpfs_options(size, 0o700, 0, 0, noswap, 'tmpfs')


def test_present_check_mode_up_to_date(env, tmp_path, fake_runner):
    os.makedirs(env.store)
    env.set_mounts(mount_line(60, env.store, 'tmpfs', 'rw,size=1024k,mode=700,noswap'))
    env.unit_path.write_bytes(_keystore.unit_content(env.store, 'tmpfs', _options()))
    os.chmod(str(env.unit_path), 0o644)
    run = fake_runner()
    before = env.tree(tmp_path)
    changes, facts = env.keystore(run).present(check_mode=True)
    assert changes == []
    assert run.calls == [['systemctl', 'is-enabled', '--quiet', env.unit_path.name]]
    assert env.tree(tmp_path) == before
    assert facts['mounted'] is True
    assert facts['swappable'] is False
    assert 'noswap' in facts['options']


# Issue 13: Debian 12's Linux 6.1 has no tmpfs noswap (containers here run a newer kernel: this path is
# only seen in these tests, with the kernel check and the mount probe answering "refused").

def test_old_kernel_auto_gives_ramfs(tmp_path, monkeypatch, fake_runner):
    env = Env(tmp_path, monkeypatch, noswap_ok=False)
    changes, facts = env.keystore(fake_runner({('systemctl', 'is-enabled'): (1, '', '')})).present(check_mode=True)
    assert changes == ['unit', 'enabled', 'mounted']
    assert facts['fstype'] == 'ramfs'
    # and for real: the probe refuses noswap, the store is mounted as ramfs (mode 700, no size)
    run = fake_runner({('mount', '-t', 'tmpfs'): (32, '', 'mount: bad option noswap')})
    env.keystore(run, persist=False).present()
    mounts = [c for c in run.calls if c[:3] == ['mount', '-t', 'ramfs']]
    assert mounts == [['mount', '-t', 'ramfs', '-o', ','.join(_fs.tmpfs_options(None, 0o700, 0, 0, False, 'ramfs')),
                       'ramfs', env.store]]
    assert 'size=' not in mounts[0][4] and 'noswap' not in mounts[0][4]
    unit = _keystore.unit_content(env.store, 'ramfs', _fs.tmpfs_options(None, 0o700, 0, 0, False, 'ramfs'))
    assert b'Type=ramfs' in unit


def test_old_kernel_required_is_refused(tmp_path, monkeypatch, fake_runner):
    env = Env(tmp_path, monkeypatch, noswap_ok=False)
    with pytest.raises(ResumptionError, match='noswap=required'):
        env.keystore(fake_runner(), noswap='required').present(check_mode=True)


def test_swappable_store_only_when_asked_by_name(tmp_path, monkeypatch, fake_runner):
    env = Env(tmp_path, monkeypatch, noswap_ok=False)
    changes, facts = env.keystore(fake_runner(), noswap='disabled').present(check_mode=True)
    assert facts['fstype'] == 'tmpfs'


@pytest.mark.parametrize('noswap_ok', [True, False])
@pytest.mark.parametrize('noswap', ['auto', 'required'])
def test_live_tmpfs_without_noswap_is_refused_and_left_alone(tmp_path, monkeypatch, fake_runner, noswap_ok, noswap):
    """A store mounted without noswap (by an older version, or noswap=disabled) is never taken as safe."""
    env = Env(tmp_path, monkeypatch, noswap_ok=noswap_ok)
    os.makedirs(env.store)
    env.set_mounts(mount_line(60, env.store, 'tmpfs', 'rw,size=1024k,mode=700'))
    before = env.tree(tmp_path)
    run = fake_runner({('mount', '-t', 'tmpfs'): (0 if noswap_ok else 32, '', '')})
    if not noswap_ok and noswap == 'required':
        match = 'noswap=required'
    else:
        match = 'mounted without noswap: its keys can reach swap.*Nothing was changed'
    with pytest.raises(ResumptionError, match=match):
        env.keystore(run, noswap=noswap).present()
    assert env.tree(tmp_path) == before
    assert not [c for c in run.calls if c[:1] == ['mount'] and env.store in c]


def test_live_tmpfs_without_noswap_kept_when_asked_by_name(tmp_path, monkeypatch, fake_runner):
    env = Env(tmp_path, monkeypatch, noswap_ok=False)
    os.makedirs(env.store)
    env.set_mounts(mount_line(60, env.store, 'tmpfs', 'rw,size=1024k,mode=700'))
    changes, facts = env.keystore(fake_runner(), noswap='disabled', persist=False).present(check_mode=True)
    assert changes == [] and facts['swappable'] is True


@pytest.mark.parametrize('super_options, expected', [
    ('rw,size=1024k,mode=755,noswap', ['remounted (mode)']),
    ('rw,size=2048k,mode=700,uid=33,noswap', ['remounted (uid, size)']),
    ('rw,size=1024k,mode=700,noswap', []),
])
def test_present_check_mode_remount(env, tmp_path, fake_runner, super_options, expected):
    os.makedirs(env.store)
    env.set_mounts(mount_line(60, env.store, 'tmpfs', super_options))
    run = fake_runner()
    before = env.tree(tmp_path)
    changes, dummy = env.keystore(run, persist=False).present(check_mode=True)
    assert changes == expected
    assert run.calls == []
    assert env.tree(tmp_path) == before


def test_present_refuses_other_fstype(env, fake_runner):
    os.makedirs(env.store)
    env.set_mounts(mount_line(60, env.store, 'ramfs', 'rw,mode=700'))
    with pytest.raises(ResumptionError, match='already a ramfs key store'):
        env.keystore(fake_runner(), persist=False).present(check_mode=True)


def test_present_refuses_persistent_mount(env, fake_runner):
    os.makedirs(env.store)
    env.set_mounts(mount_line(60, env.store, 'ext4'))
    run = fake_runner()
    with pytest.raises(ResumptionError, match='persistent storage'):
        env.keystore(run).present(check_mode=False)
    assert run.calls == []
    assert os.listdir(str(env.unit_dir)) == []


def test_present_persist_needs_systemd(tmp_path, monkeypatch, fake_runner):
    env = Env(tmp_path, monkeypatch, booted=False)
    with pytest.raises(ResumptionError, match='persist=true needs systemd'):
        env.keystore(fake_runner()).present(check_mode=True)


def test_present_apply_persist(env, fake_runner):
    """Not in check mode: the unit is written (0644), then daemon-reload, enable, start."""
    run = fake_runner({('systemctl', 'is-enabled'): (1, '', ''), ('mount',): (0, '', '')})
    changes, dummy = env.keystore(run, uid=os.getuid(), gid=os.getgid()).present(check_mode=False)
    assert changes == ['unit', 'enabled', 'mounted']
    unit = env.unit_path.name
    assert [c for c in run.calls if c[0] == 'systemctl'] == [
        ['systemctl', 'daemon-reload'], ['systemctl', 'is-enabled', '--quiet', unit],
        ['systemctl', 'enable', unit], ['systemctl', 'start', unit]]
    options = _fs.tmpfs_options('1m', 0o700, os.getuid(), os.getgid(), True, 'tmpfs')
    assert env.unit_path.read_bytes() == _keystore.unit_content(env.store, 'tmpfs', options)
    assert stat.S_IMODE(os.lstat(str(env.unit_path)).st_mode) == 0o644
    assert os.path.isdir(env.store)
    assert stat.S_IMODE(os.stat(env.store).st_mode) == 0o700


def test_present_apply_no_persist_mounts(env, fake_runner):
    probe = []

    def run(args):
        probe.append(args)
        return (0, '', '')
    changes, dummy = env.keystore(run, persist=False, uid=os.getuid(), gid=os.getgid()).present(check_mode=False)
    assert changes == ['mounted']
    mount = probe[-1]
    assert mount == ['mount', '-t', 'tmpfs', '-o', ','.join(_fs.tmpfs_options('1m', 0o700, os.getuid(), os.getgid(), True)),
                     'tmpfs', env.store]
    assert os.listdir(str(env.unit_dir)) == []


def test_absent_check_mode(env, tmp_path, fake_runner):
    os.makedirs(env.store)
    with open(os.path.join(env.store, 'keys.bin'), 'wb') as f:
        f.write(b'k' * 48)
    env.set_mounts(mount_line(60, env.store, 'tmpfs', 'rw,size=1024k,mode=700'))
    env.unit_path.write_bytes(b'unit')
    run = fake_runner()
    before = env.tree(tmp_path)
    changes, facts = env.keystore(run).absent(check_mode=True)
    assert changes == ['keys destroyed', 'unmounted', 'unit removed']
    assert run.calls == []
    assert env.tree(tmp_path) == before
    assert facts['mounted'] is True


def test_absent_check_mode_nothing_there(env, fake_runner):
    changes, facts = env.keystore(fake_runner()).absent(check_mode=True)
    assert changes == []
    assert facts == {'path': env.store, 'unit': env.unit_path.name, 'mounted': False}


def test_absent_refuses_persistent_mount(env, fake_runner):
    os.makedirs(env.store)
    with open(os.path.join(env.store, 'data'), 'wb') as f:
        f.write(b'precious')
    env.set_mounts(mount_line(60, env.store, 'ext4'))
    run = fake_runner()
    with pytest.raises(ResumptionError, match='not a key store: refusing to touch it'):
        env.keystore(run).absent(check_mode=False)
    assert run.calls == []
    with open(os.path.join(env.store, 'data'), 'rb') as f:
        assert f.read() == b'precious'


def test_absent_apply_shreds_and_unmounts(env, fake_runner):
    os.makedirs(env.store)
    with open(os.path.join(env.store, 'keys.bin'), 'wb') as f:
        f.write(b'k' * 48)
    env.set_mounts(mount_line(60, env.store, 'tmpfs', 'rw,size=1024k,mode=700'))
    env.unit_path.write_bytes(b'unit')
    run = fake_runner()
    changes, dummy = env.keystore(run).absent(check_mode=False)
    assert changes == ['keys destroyed', 'unmounted', 'unit removed']
    assert os.listdir(env.store) == []
    assert not env.unit_path.exists()
    unit = env.unit_path.name
    assert run.calls == [['systemctl', 'disable', '--now', unit], ['umount', env.store], ['systemctl', 'daemon-reload']]
