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
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

# Real-looking /proc/self/mountinfo lines (format: proc(5)).
MOUNTINFO = '\n'.join([
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
    '24 27 0:6 / /dev rw,nosuid,relatime shared:2 - devtmpfs devtmpfs rw,size=12334524k,mode=755',
    '25 24 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,size=24684096k',
    '26 27 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=1024k,mode=755',
    # octal escape for a space in the mount point and the source, two optional fields
    '40 26 0:40 / /run/tls\\040keys rw,nosuid,nodev,noexec,relatime shared:7 master:1 - tmpfs my\\040keys rw,size=1024k,mode=700,noswap',
    # stacked mounts on the same mount point: the later one is on top
    '41 26 0:41 / /run/stacked rw,relatime - tmpfs tmpfs rw,size=4k,mode=700',
    '42 41 254:0 /srv /run/stacked rw,relatime - ext4 /dev/vda rw',
    '43 26 0:43 / /run/ramkeys rw,nosuid,nodev,noexec,relatime - ramfs ramfs rw,mode=700',
    '50 27 0:50 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
    '51 27 254:1 /data /mnt/data\\011tab rw,relatime shared:9 - ext4 /dev/vdb1 rw',
    '',
])


@pytest.fixture
def mounts():
    return _fs.parse_mountinfo(MOUNTINFO)


def test_parse_mountinfo_fields(mounts):
    assert len(mounts) == 10
    root = mounts[0]
    assert root == {
        'mount_id': 27, 'parent_id': 1, 'device': '254:0', 'root': '/', 'mount_point': '/',
        'mount_options': ['rw', 'relatime'], 'fstype': 'ext4', 'source': '/dev/vda',
        'super_options': ['rw', 'discard'],
    }


def test_parse_mountinfo_octal_and_optional_fields(mounts):
    m = mounts[4]
    assert m['mount_point'] == '/run/tls keys'
    assert m['source'] == 'my keys'
    assert m['fstype'] == 'tmpfs'
    assert m['mount_options'] == ['rw', 'nosuid', 'nodev', 'noexec', 'relatime']
    assert m['super_options'] == ['rw', 'size=1024k', 'mode=700', 'noswap']
    assert mounts[9]['mount_point'] == '/mnt/data\ttab'
    assert mounts[9]['root'] == '/data'


def test_parse_mountinfo_order_is_kept(mounts):
    assert [m['mount_id'] for m in mounts] == [27, 24, 25, 26, 40, 41, 42, 43, 50, 51]
    assert [m['fstype'] for m in mounts if m['mount_point'] == '/run/stacked'] == ['tmpfs', 'ext4']


def test_parse_mountinfo_without_super_options():
    m = _fs.parse_mountinfo('30 27 0:30 / /x rw - tmpfs tmpfs')[0]
    assert m['super_options'] == []
    assert m['fstype'] == 'tmpfs'


@pytest.mark.parametrize('line', [
    '30 27 0:30 / /x rw tmpfs tmpfs rw',        # no separator
    '30 27 0:30 / /x rw - tmpfs',                # no source
])
def test_parse_mountinfo_refuses_garbage(line):
    with pytest.raises(ResumptionError, match='cannot parse a mountinfo line'):
        _fs.parse_mountinfo(line)


def test_read_mountinfo(tmp_path):
    p = tmp_path / 'mountinfo'
    p.write_text(MOUNTINFO)
    assert _fs.read_mountinfo(str(p)) == _fs.parse_mountinfo(MOUNTINFO)


def test_read_real_mountinfo():
    if not os.path.exists(_fs.MOUNTINFO):
        pytest.skip('no /proc/self/mountinfo')
    mounts = _fs.read_mountinfo()
    assert any(m['mount_point'] == '/' for m in mounts)


@pytest.mark.parametrize('path, mount_point, fstype', [
    ('/', '/', 'ext4'),
    ('/etc/nginx', '/', 'ext4'),
    ('/run', '/run', 'tmpfs'),
    ('/run/', '/run', 'tmpfs'),
    ('/run/tls-keys', '/run', 'tmpfs'),
    ('/run/tls keys', '/run/tls keys', 'tmpfs'),
    ('/run/tls keys/a/b', '/run/tls keys', 'tmpfs'),
    ('/run/tls keysX', '/run', 'tmpfs'),           # a prefix of a name is not a parent
    ('/run/stacked/k', '/run/stacked', 'ext4'),    # the topmost of stacked mounts
    ('/run/ramkeys/./k', '/run/ramkeys', 'ramfs'),
    ('/run/ramkeys/../x', '/run', 'tmpfs'),
    ('/dev/shm/x', '/dev/shm', 'tmpfs'),
    ('/dev/shmx', '/dev', 'devtmpfs'),
    ('/var/lib/docker/overlay2/abc/merged/etc', '/var/lib/docker/overlay2/abc/merged', 'overlay'),
])
def test_mount_of(mounts, path, mount_point, fstype):
    m = _fs.mount_of(path, mounts)
    assert m['mount_point'] == mount_point
    assert m['fstype'] == fstype


@pytest.mark.parametrize('path, expected', [
    ('/run', '/run'), ('//run', '/run'), ('///run//x/', '/run/x'), ('//', '/'), ('/', '/'), ('/a/./b/../c', '/a/c'),
])
def test_normpath(path, expected):
    assert _fs.normpath(path) == expected


@pytest.mark.parametrize('path, mount_point', [('//run/ramkeys', '/run/ramkeys'), ('//dev/shm/x', '/dev/shm')])
def test_mount_of_double_slash(mounts, path, mount_point):
    assert _fs.mount_of(path, mounts)['mount_point'] == mount_point
    assert _fs.mount_at(mount_point.replace('/', '//', 1), mounts)['mount_point'] == mount_point


def test_mount_of_stacking_order_matters(mounts):
    assert _fs.mount_of('/run/stacked', list(reversed(mounts)))['fstype'] == 'tmpfs'


def test_mount_of_no_mounts():
    assert _fs.mount_of('/x', []) is None


@pytest.mark.parametrize('path, expected', [
    ('/run', 'tmpfs'),
    ('/run/stacked', 'ext4'),
    ('/run/stacked/', 'ext4'),
    ('/run/ramkeys', 'ramfs'),
    ('/run/tls-keys', None),
    ('/run/stacked/x', None),
])
def test_mount_at(mounts, path, expected):
    m = _fs.mount_at(path, mounts)
    assert (m['fstype'] if m else None) == expected


@pytest.mark.parametrize('path', ['/run/ramkeys', '/run/ramkeys/ring', '/run/tls keys/x', '/run/tls-keys', '/dev/shm/k'])
def test_require_memory_fs_accepts(mounts, path):
    m = _fs.require_memory_fs(path, mounts)
    assert m['fstype'] in ('tmpfs', 'ramfs')


@pytest.mark.parametrize('path, fstype', [
    ('/etc/keys', 'ext4'),
    ('/var/lib/docker/overlay2/abc/merged/keys', 'overlay'),
    ('/run/stacked/keys', 'ext4'),
    ('/mnt/data\ttab/k', 'ext4'),
    ('/dev/keys', 'devtmpfs'),
])
def test_require_memory_fs_refuses(mounts, path, fstype):
    with pytest.raises(ResumptionError) as e:
        _fs.require_memory_fs(path, mounts)
    assert 'is on %s' % fstype in str(e.value)
    assert 'persistent storage' in str(e.value)


def test_require_memory_fs_unknown():
    with pytest.raises(ResumptionError, match='an unknown file system'):
        _fs.require_memory_fs('/x/y', [])


def test_require_memory_fs_real_disk(tmp_path):
    # the real mountinfo: the test directory is on disk here (skip if it is not)
    mounts = _fs.read_mountinfo()
    if _fs.is_memory_mount(_fs.mount_of(str(tmp_path), mounts)):
        pytest.skip('tmp_path is on a memory file system here')
    with pytest.raises(ResumptionError, match='persistent storage'):
        _fs.require_memory_fs(str(tmp_path))


@pytest.mark.parametrize('mount, expected', [
    ({'fstype': 'tmpfs', 'mount_options': ['rw'], 'super_options': ['rw', 'size=4k']}, True),
    ({'fstype': 'tmpfs', 'mount_options': ['rw'], 'super_options': ['rw', 'noswap']}, False),
    ({'fstype': 'tmpfs', 'mount_options': ['rw', 'noswap'], 'super_options': ['rw']}, False),
    ({'fstype': 'ramfs', 'mount_options': ['rw'], 'super_options': ['rw']}, False),
])
def test_swappable(mount, expected):
    assert _fs.swappable(mount) is expected


@pytest.mark.parametrize('mount, expected', [
    ({'fstype': 'tmpfs'}, True), ({'fstype': 'ramfs'}, True), ({'fstype': 'ext4'}, False),
    ({'fstype': 'overlay'}, False), ({'fstype': 'devtmpfs'}, False), (None, False),
])
def test_is_memory_mount(mount, expected):
    assert _fs.is_memory_mount(mount) is expected


def test_check_no_symlink(tmp_path):
    real = tmp_path / 'real'
    (real / 'sub').mkdir(parents=True)
    os.symlink(str(real), str(tmp_path / 'link'))
    _fs.check_no_symlink(str(real / 'sub'))
    _fs.check_no_symlink(str(tmp_path / 'missing' / 'x'))
    with pytest.raises(ResumptionError) as e:
        _fs.check_no_symlink(str(tmp_path / 'link' / 'sub'))
    assert 'symbolic link %s' % (tmp_path / 'link') in str(e.value)
    with pytest.raises(ResumptionError, match='symbolic link'):
        _fs.check_no_symlink(str(tmp_path / 'link'))


def test_check_no_symlink_dangling(tmp_path):
    os.symlink(str(tmp_path / 'nowhere'), str(tmp_path / 'dangling'))
    with pytest.raises(ResumptionError, match='symbolic link'):
        _fs.check_no_symlink(str(tmp_path / 'dangling'))


@pytest.mark.parametrize('path', ['run/keys', 'keys', './keys'])
def test_check_no_symlink_relative(path):
    with pytest.raises(ResumptionError, match='must be absolute'):
        _fs.check_no_symlink(path)


@pytest.mark.parametrize('kwargs, expected', [
    ({}, ['nosuid', 'nodev', 'noexec', 'mode=0700', 'noswap']),
    ({'size': '1m', 'uid': 0, 'gid': 0}, ['nosuid', 'nodev', 'noexec', 'mode=0700', 'size=1m', 'uid=0', 'gid=0', 'noswap']),
    ({'size': '64k', 'uid': 33, 'gid': 44, 'noswap': False, 'mode': 0o750},
     ['nosuid', 'nodev', 'noexec', 'mode=0750', 'size=64k', 'uid=33', 'gid=44']),
    ({'fstype': 'ramfs', 'size': '1m', 'uid': 33, 'gid': 44, 'noswap': True},
     ['nosuid', 'nodev', 'noexec', 'mode=0700']),
])
def test_tmpfs_options(kwargs, expected):
    assert _fs.tmpfs_options(**kwargs) == expected


@pytest.mark.parametrize('fstype', ['ext4', 'overlay', 'devtmpfs', ''])
def test_tmpfs_options_refuses(fstype):
    with pytest.raises(ResumptionError, match='fstype must be tmpfs or ramfs'):
        _fs.tmpfs_options(fstype=fstype)


@pytest.mark.parametrize('release, expected', [
    ('6.3.0', False),
    ('6.3.13-amd64', False),
    ('6.4.0', True),
    ('6.4', True),
    ('6.18.44-fc', True),
    ('6.18.44-fc-v595', True),
    ('6.1.0-28-amd64', False),   # Debian 12
    ('6.12.12-amd64', True),     # Debian 13
    ('5.10', False),
    ('5.19.17', False),
    ('7.0.0', True),
    ('10.1', True),
    ('4.19.0', False),
    ('garbage', False),
    ('', False),
])
def test_kernel_accepts_noswap(release, expected):
    assert _fs.kernel_accepts_noswap(release) is expected


def test_kernel_accepts_noswap_default_uses_uname(monkeypatch):
    monkeypatch.setattr(os, 'uname', lambda: ('Linux', 'h', '6.4.1', '#1', 'x86_64'))
    assert _fs.kernel_accepts_noswap() is True
    monkeypatch.setattr(os, 'uname', lambda: ('Linux', 'h', '6.1.0', '#1', 'x86_64'))
    assert _fs.kernel_accepts_noswap() is False


@pytest.mark.parametrize('size, expected', [
    ('1m', '1m'), ('1M', '1m'), ('64k', '64k'), ('2G', '2g'), (4096, '4096'), ('10', '10'),
])
def test_check_size_accepts(size, expected):
    assert _fs.check_size(size) == expected


@pytest.mark.parametrize('size', ['0', '', '1.5m', '-1', '1t', '1 m', 'm', '01m', 'abc', None, True, '1m\n'])
def test_check_size_refuses(size):
    with pytest.raises(ResumptionError, match='size must be a number of bytes'):
        _fs.check_size(size)


# ---------------------------------------------------------------- secure_write

@pytest.fixture
def umask0():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_secure_write_mode_0600_with_umask_0(tmp_path, umask0):
    p = tmp_path / 'k'
    assert _fs.secure_write(str(p), b'secret') is True
    assert p.read_bytes() == b'secret'
    assert _mode(p) == 0o600
    assert os.listdir(str(tmp_path)) == ['k']


@pytest.mark.parametrize('mode', [0o600, 0o640, 0o644, 0o400])
def test_secure_write_mode_exact(tmp_path, mode):
    old = os.umask(0o077)
    try:
        p = tmp_path / 'k'
        _fs.secure_write(str(p), b'x', mode=mode)
    finally:
        os.umask(old)
    assert _mode(p) == mode


def test_secure_write_replaces_mode_of_existing(tmp_path, umask0):
    p = tmp_path / 'k'
    p.write_bytes(b'old content that is longer')
    os.chmod(str(p), 0o666)
    _fs.secure_write(str(p), b'new')
    assert p.read_bytes() == b'new'
    assert _mode(p) == 0o600


@pytest.mark.parametrize('size', [0, 1, 65536, 200000])
def test_secure_write_sizes(tmp_path, size):
    p = tmp_path / 'k'
    data = os.urandom(size)
    _fs.secure_write(str(p), data)
    assert p.read_bytes() == data


@pytest.mark.parametrize('dangling', [False, True])
def test_secure_write_refuses_symlink_destination(tmp_path, dangling):
    target = tmp_path / 'target'
    if not dangling:
        target.write_bytes(b'precious')
    link = tmp_path / 'link'
    os.symlink(str(target), str(link))
    with pytest.raises(ResumptionError, match='symbolic link'):
        _fs.secure_write(str(link), b'secret')
    assert os.path.islink(str(link))
    if dangling:
        assert not os.path.lexists(str(target))
    else:
        assert target.read_bytes() == b'precious'
    assert sorted(os.listdir(str(tmp_path))) == (['link'] if dangling else ['link', 'target'])


def test_open_nofollow_refuses_symlink(tmp_path):
    target = tmp_path / 'target'
    target.write_bytes(b'precious')
    os.symlink(str(target), str(tmp_path / 'link'))
    with pytest.raises(OSError):
        _fs.open_nofollow(str(tmp_path / 'link'), os.O_WRONLY | os.O_TRUNC)
    assert target.read_bytes() == b'precious'


def test_secure_write_rename_failure_keeps_old(tmp_path, monkeypatch):
    p = tmp_path / 'k'
    p.write_bytes(b'old')

    def boom(src, dst):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'rename', boom)
    with pytest.raises(OSError):
        _fs.secure_write(str(p), b'new secret')
    monkeypatch.undo()
    assert p.read_bytes() == b'old'
    assert os.listdir(str(tmp_path)) == ['k']


def test_secure_write_fsync_failure_keeps_old(tmp_path, monkeypatch):
    p = tmp_path / 'k'
    p.write_bytes(b'old')
    real_fsync = os.fsync
    calls = []

    def fail_once(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, 'Input/output error')
        return real_fsync(fd)
    monkeypatch.setattr(os, 'fsync', fail_once)
    with pytest.raises(OSError, match='Input/output error'):
        _fs.secure_write(str(p), b'new secret')
    monkeypatch.undo()
    assert p.read_bytes() == b'old'
    assert os.listdir(str(tmp_path)) == ['k']


def test_secure_write_interrupt_shreds_temp(tmp_path, monkeypatch):
    seen = {}
    real_unlink = os.unlink

    def boom(src, dst):
        raise KeyboardInterrupt()

    def spy_unlink(path, *args, **kwargs):
        with open(path, 'rb') as f:
            seen[os.path.basename(path)] = f.read()
        return real_unlink(path, *args, **kwargs)
    monkeypatch.setattr(os, 'rename', boom)
    monkeypatch.setattr(os, 'unlink', spy_unlink)
    with pytest.raises(KeyboardInterrupt):
        _fs.secure_write(str(tmp_path / 'k'), b'new secret')
    monkeypatch.undo()
    assert os.listdir(str(tmp_path)) == []
    assert len(seen) == 1
    assert list(seen.values()) == [b'\0' * len(b'new secret')]


# ---------------------------------------------------------------- shred

@pytest.fixture
def unlink_spy(monkeypatch):
    """Record each file's content just before it is unlinked."""
    seen = {}
    real_unlink = os.unlink

    def spy(path, *args, **kwargs):
        if os.path.islink(path):
            seen[path] = 'symlink'
        else:
            with open(path, 'rb') as f:
                seen[path] = f.read()
        return real_unlink(path, *args, **kwargs)
    monkeypatch.setattr(os, 'unlink', spy)
    return seen


@pytest.mark.parametrize('size', [1, 48, 4096, 4097, 10000])
def test_shred_zeroes_before_unlink(tmp_path, unlink_spy, size):
    p = str(tmp_path / 'k')
    with open(p, 'wb') as f:
        f.write(b'\xff' * size)
    assert _fs.shred(p) is True
    assert not os.path.lexists(p)
    assert unlink_spy == {p: b'\0' * size}


def test_shred_missing(tmp_path):
    assert _fs.shred(str(tmp_path / 'missing')) is False


def test_shred_symlink_removes_link_only(tmp_path, unlink_spy):
    target = tmp_path / 'target'
    target.write_bytes(b'precious')
    link = str(tmp_path / 'link')
    os.symlink(str(target), link)
    assert _fs.shred(link) is True
    assert not os.path.lexists(link)
    assert target.read_bytes() == b'precious'
    assert unlink_spy == {link: 'symlink'}


def _make_tree(base, outside):
    (base / 'a' / 'b').mkdir(parents=True)
    (base / 'k1').write_bytes(b'\x11' * 48)
    (base / 'a' / 'k2').write_bytes(b'\x22' * 80)
    (base / 'a' / 'b' / 'k3').write_bytes(b'\x33' * 5000)
    (outside / 'file').write_bytes(b'precious')
    (outside / 'dir').mkdir()
    (outside / 'dir' / 'inner').write_bytes(b'inner')
    os.symlink(str(outside / 'file'), str(base / 'a' / 'link-file'))
    os.symlink(str(outside / 'dir'), str(base / 'a' / 'link-dir'))


def _check_outside(outside):
    assert (outside / 'file').read_bytes() == b'precious'
    assert (outside / 'dir' / 'inner').read_bytes() == b'inner'


def test_shred_tree(tmp_path, unlink_spy):
    base, outside = tmp_path / 'ring', tmp_path / 'outside'
    base.mkdir()
    outside.mkdir()
    _make_tree(base, outside)
    _fs.shred_tree(str(base))
    assert not os.path.lexists(str(base))
    _check_outside(outside)
    assert unlink_spy[str(base / 'k1')] == b'\0' * 48
    assert unlink_spy[str(base / 'a' / 'k2')] == b'\0' * 80
    assert unlink_spy[str(base / 'a' / 'b' / 'k3')] == b'\0' * 5000
    assert unlink_spy[str(base / 'a' / 'link-file')] == 'symlink'
    assert unlink_spy[str(base / 'a' / 'link-dir')] == 'symlink'


def test_shred_tree_on_file_and_link(tmp_path, unlink_spy):
    f = tmp_path / 'f'
    f.write_bytes(b'abc')
    _fs.shred_tree(str(f))
    assert unlink_spy == {str(f): b'\0\0\0'}
    (tmp_path / 'd').mkdir()
    (tmp_path / 'd' / 'x').write_bytes(b'x')
    os.symlink(str(tmp_path / 'd'), str(tmp_path / 'l'))
    _fs.shred_tree(str(tmp_path / 'l'))
    assert not os.path.lexists(str(tmp_path / 'l'))
    assert (tmp_path / 'd' / 'x').read_bytes() == b'x'


def test_shred_contents(tmp_path, unlink_spy):
    base, outside = tmp_path / 'store', tmp_path / 'outside'
    base.mkdir()
    outside.mkdir()
    _make_tree(base, outside)
    os.symlink('a', str(base / 'active'))
    (base / '.lock').write_bytes(b'')
    assert _fs.shred_contents(str(base)) == 4   # k1, a, active, .lock
    assert os.path.isdir(str(base))
    assert os.listdir(str(base)) == []
    _check_outside(outside)
    assert unlink_spy[str(base / 'a' / 'b' / 'k3')] == b'\0' * 5000


# ---------------------------------------------------------------- write_if_changed

def test_write_if_changed(tmp_path):
    p = str(tmp_path / 'unit')
    assert _fs.write_if_changed(p, b'a', check_mode=True) is True
    assert not os.path.exists(p)
    assert _fs.write_if_changed(p, b'a') is True
    assert _mode(p) == 0o644
    assert _fs.write_if_changed(p, b'a') is False
    os.chmod(p, 0o600)
    assert _fs.write_if_changed(p, b'a', check_mode=True) is True
    assert _mode(p) == 0o600
    assert _fs.write_if_changed(p, b'a') is True
    assert _mode(p) == 0o644
    assert _fs.write_if_changed(p, b'b') is True
    with open(p, 'rb') as f:
        assert f.read() == b'b'


def test_write_if_changed_refuses_symlink(tmp_path):
    target = tmp_path / 'target'
    target.write_bytes(b'a')
    os.symlink(str(target), str(tmp_path / 'link'))
    with pytest.raises(ResumptionError, match='symbolic link'):
        _fs.write_if_changed(str(tmp_path / 'link'), b'b')
    assert target.read_bytes() == b'a'


@pytest.mark.parametrize('owner, group, expected', [
    ('root', 'root', (0, 0)),
    (None, None, (None, None)),
    ('root', None, (0, None)),
])
def test_resolve_ids(owner, group, expected):
    assert _fs.resolve_ids(owner, group) == expected


@pytest.mark.parametrize('owner, group, word', [
    ('no-such-user-hardened-tls', None, 'owner'),
    (None, 'no-such-group-hardened-tls', 'group'),
])
def test_resolve_ids_refuses_unknown(owner, group, word):
    with pytest.raises(ResumptionError, match='%s .* does not exist' % word):
        _fs.resolve_ids(owner, group)


# ---------------------------------------------------------------- another process's view of the mounts

def test_process_sees_memory_mount_reads_that_process_mounts():
    mounts = _fs.read_mountinfo('/proc/%d/mountinfo' % os.getpid())
    for m in mounts:
        expected = _fs.is_memory_mount(_fs.mount_at(m['mount_point'], mounts))
        assert _fs.process_sees_memory_mount(os.getpid(), m['mount_point']) is expected
    assert _fs.process_sees_memory_mount(os.getpid(), '/no/such/mount/point') is False


def test_process_sees_memory_mount_unknown_process():
    assert _fs.process_sees_memory_mount(2 ** 31 - 1, '/run') is None


def _mountinfo_file(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


def test_process_sees_memory_mount_refuses_a_stale_copy_of_the_store(tmp_path, monkeypatch):
    # The server's namespace still holds the store's earlier tmpfs (device 0:61) after the store
    # was unmounted and mounted again here (device 0:75): a reload would find no key file there.
    theirs = _mountinfo_file(tmp_path, 'theirs', [
        '1 0 254:1 / / rw - ext4 /dev/vda rw',
        '90 1 0:61 / /run/hardened-tls/apache rw,nosuid - tmpfs tmpfs rw,mode=700,noswap',
    ])
    ours_same = _mountinfo_file(tmp_path, 'ours_same', [
        '1 0 254:1 / / rw - ext4 /dev/vda rw',
        '40 1 0:61 / /run/hardened-tls/apache rw,nosuid - tmpfs tmpfs rw,mode=700,noswap',
    ])
    ours_new = _mountinfo_file(tmp_path, 'ours_new', [
        '1 0 254:1 / / rw - ext4 /dev/vda rw',
        '41 1 0:75 / /run/hardened-tls/apache rw,nosuid - tmpfs tmpfs rw,mode=700,noswap',
    ])
    real_read = _fs.read_mountinfo
    monkeypatch.setattr(_fs, 'read_mountinfo', lambda path=_fs.MOUNTINFO: real_read(theirs if path.startswith('/proc/') else path))
    assert _fs.process_sees_memory_mount(4242, '/run/hardened-tls/apache', own_mountinfo=ours_same) is True
    assert _fs.process_sees_memory_mount(4242, '/run/hardened-tls/apache', own_mountinfo=ours_new) is False
    # Nothing mounted here (cannot compare): what the server sees decides.
    assert _fs.process_sees_memory_mount(4242, '/run/hardened-tls/apache', own_mountinfo=str(tmp_path / 'none')) is True


# ---------------------------------------------------------------- what counts as a key store (issue 13)

STORE_MOUNTS = _fs.parse_mountinfo('\n'.join([
    '1 0 254:1 / / rw - ext4 /dev/vda rw',
    '20 1 0:20 / /run rw,nosuid,nodev - tmpfs tmpfs rw,mode=755',
    '21 1 0:21 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw',
    '40 20 0:40 / /run/hardened-tls/nginx rw,nosuid,nodev,noexec - tmpfs tmpfs rw,size=1024k,mode=700,noswap',
]))


class _St(object):
    def __init__(self, mode, uid=0, gid=0):
        self.st_mode, self.st_uid, self.st_gid = mode, uid, gid


@pytest.mark.parametrize('path, message', [
    # a directory on some tmpfs is not a store: not /dev/shm/x, not the bare /run under an unmounted store
    ('/dev/shm/keys', 'not a key store: .* tmpfs on /dev/shm$'),
    ('/run/hardened-tls/haproxy', 'not a key store: .* tmpfs on /run$'),
    ('/var/lib/keys', 'not a key store: .* ext4 on /, which is persistent storage'),
])
def test_require_store_refuses_what_is_not_its_own_mount(monkeypatch, path, message):
    monkeypatch.setattr(_fs, 'check_no_symlink', lambda p: None)
    with pytest.raises(ResumptionError, match=message):
        _fs.require_store(path, mounts=STORE_MOUNTS)


@pytest.mark.parametrize('st, uid, ok', [
    (_St(stat.S_IFDIR | 0o700), None, True),
    (_St(stat.S_IFDIR | 0o700, uid=33), 33, True),      # a ring given its own owner (owner=)
    (_St(stat.S_IFDIR | 0o700, uid=33), None, False),
    (_St(stat.S_IFDIR | 0o750), None, False),
    (_St(stat.S_IFDIR | 0o777), None, False),
    (_St(stat.S_IFDIR | 0o1700), None, False),
])
def test_require_store_owner_and_mode(monkeypatch, st, uid, ok):
    monkeypatch.setattr(_fs, 'check_no_symlink', lambda p: None)
    monkeypatch.setattr(_fs.os, 'lstat', lambda p: st)
    if ok:
        assert _fs.require_store('/run/hardened-tls/nginx', uid, mounts=STORE_MOUNTS)['mount_point'] == '/run/hardened-tls/nginx'
    else:
        with pytest.raises(ResumptionError, match='must be owned by root and have mode 0700'):
            _fs.require_store('/run/hardened-tls/nginx', uid, mounts=STORE_MOUNTS)


@pytest.mark.parametrize('st, gid, ok', [
    # lighttpd reads its key file as a group: the store may let that group (only) enter it
    (_St(stat.S_IFDIR | 0o710, gid=120), 120, True),
    (_St(stat.S_IFDIR | 0o700, gid=120), 120, True),
    (_St(stat.S_IFDIR | 0o710, gid=33), 120, False),     # another group
    (_St(stat.S_IFDIR | 0o710, gid=120), None, False),   # no group asked for
    (_St(stat.S_IFDIR | 0o750, gid=120), 120, False),    # the group could list it
    (_St(stat.S_IFDIR | 0o711, gid=120), 120, False),    # anyone could enter it
])
def test_require_store_group_that_may_enter(monkeypatch, st, gid, ok):
    monkeypatch.setattr(_fs, 'check_no_symlink', lambda p: None)
    monkeypatch.setattr(_fs.os, 'lstat', lambda p: st)
    if ok:
        assert _fs.require_store('/run/hardened-tls/nginx', None, mounts=STORE_MOUNTS, gid=gid)
    else:
        with pytest.raises(ResumptionError, match='must be owned by root and have mode 0700'):
            _fs.require_store('/run/hardened-tls/nginx', None, mounts=STORE_MOUNTS, gid=gid)
