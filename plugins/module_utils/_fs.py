# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File system helpers: mountinfo, memory-only file systems, secure writes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import errno
import grp
import os
import pwd
import re
import stat

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

MEMORY_FSTYPES = ('tmpfs', 'ramfs')
MOUNTINFO = '/proc/self/mountinfo'
_OCTAL = re.compile(r'\\([0-7]{3})')


def normpath(path):
    """os.path.normpath, but '//x' becomes '/x' (POSIX keeps two leading slashes)."""
    path = os.path.normpath(path)
    if path.startswith('//'):
        path = '/' + path.lstrip('/')
    return path


def resolve_ids(owner=None, group=None):
    """uid and gid of an owner and a group name (None stays None); refuse unknown names."""
    uid = gid = None
    if owner is not None:
        try:
            uid = pwd.getpwnam(owner).pw_uid
        except KeyError:
            raise ResumptionError('owner %r does not exist on this host' % owner)
    if group is not None:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ResumptionError('group %r does not exist on this host' % group)
    return uid, gid


def _unescape(field):
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text):
    """Parse /proc/self/mountinfo into a list of dicts, in file order.

    Each dict has mount_point, root, fstype, source, mount_options (list)
    and super_options (list).
    """
    mounts = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split(' ')
        try:
            sep = fields.index('-', 6)
        except ValueError:
            raise ResumptionError('cannot parse a mountinfo line: %r' % line)
        if len(fields) < sep + 3:
            raise ResumptionError('cannot parse a mountinfo line: %r' % line)
        mounts.append({
            'mount_id': int(fields[0]),
            'parent_id': int(fields[1]),
            'device': fields[2],
            'root': _unescape(fields[3]),
            'mount_point': _unescape(fields[4]),
            'mount_options': fields[5].split(','),
            'fstype': fields[sep + 1],
            'source': _unescape(fields[sep + 2]),
            'super_options': fields[sep + 3].split(',') if len(fields) > sep + 3 else [],
        })
    return mounts


def read_mountinfo(path=MOUNTINFO):
    with open(path, 'r') as f:
        return parse_mountinfo(f.read())


def mount_of(path, mounts):
    """The mount that holds path (longest mount point prefix; the last of stacked mounts)."""
    path = normpath(path)
    best = None
    for m in mounts:
        mp = m['mount_point']
        if path == mp or mp == '/' or path.startswith(mp.rstrip('/') + '/'):
            if best is None or len(mp) >= len(best['mount_point']):
                best = m
    return best


def mount_at(path, mounts):
    """The mount whose mount point is exactly path (the topmost one), or None."""
    path = normpath(path)
    found = None
    for m in mounts:
        if m['mount_point'] == path:
            found = m
    return found


def process_sees_memory_mount(pid, path, own_mountinfo=MOUNTINFO):
    """Whether process pid sees the memory file system that is mounted at path here.

    A service whose unit has a private mount namespace (PrivateTmp= and the
    like) gets a copy of the mounts that existed when it started; where the
    parent mount is not shared (a container's /run, for example) a store
    mounted later never appears there, and the server would fail to read its
    key file on its next reload. A store that was unmounted and mounted again
    (a role switched to cache_only and back) leaves the old, empty file system
    in the server's copy: that is not the store either, so the file system
    (its device number) must be the one mounted here. None when the process's
    mounts cannot be read.
    """
    try:
        mounts = read_mountinfo('/proc/%d/mountinfo' % int(pid))
    except (OSError, IOError, ValueError):
        return None
    theirs = mount_at(path, mounts)
    if not is_memory_mount(theirs):
        return False
    try:
        ours = mount_at(path, read_mountinfo(own_mountinfo))
    except (OSError, IOError, ValueError):
        ours = None
    if ours is None or 'device' not in ours or 'device' not in theirs:
        return True
    return ours['device'] == theirs['device']


def is_memory_mount(mount):
    return mount is not None and mount['fstype'] in MEMORY_FSTYPES


def swappable(mount):
    """Whether pages of this mount can reach swap: tmpfs without noswap can, ramfs cannot."""
    if mount['fstype'] == 'ramfs':
        return False
    return 'noswap' not in mount['super_options'] and 'noswap' not in mount['mount_options']


def check_no_symlink(path):
    """Refuse a path any component of which is a symbolic link."""
    path = normpath(path)
    if not os.path.isabs(path):
        raise ResumptionError('%s: a key store path must be absolute' % path)
    current = '/'
    for part in path.split('/')[1:]:
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise ResumptionError('%s: refusing a path through the symbolic link %s' % (path, current))


def require_memory_fs(path, mounts=None):
    """Refuse any path that is not on tmpfs or ramfs. Returns the mount."""
    check_no_symlink(path)
    if mounts is None:
        mounts = read_mountinfo()
    mount = mount_of(path, mounts)
    if not is_memory_mount(mount):
        raise ResumptionError(
            '%s is on %s (%s), which is persistent storage: ticket keys are only written to tmpfs or ramfs'
            % (path, mount['fstype'] if mount else 'an unknown file system', mount['mount_point'] if mount else '?'))
    return mount


def require_store(path, uid=None, mounts=None, gid=None):
    """Refuse anything but a key store: a tmpfs or ramfs mount point of its own (not a directory
    on /dev/shm or under an unmounted store on /run), owned by root (or by uid, the owner a ring
    was asked to have) and mode 0700. With gid (a server that reads its key file as that group:
    lighttpd), mode 0710 with that group is accepted too. Returns the mount."""
    path = normpath(path)
    check_no_symlink(path)
    if mounts is None:
        mounts = read_mountinfo()
    mount = mount_at(path, mounts)
    if not is_memory_mount(mount):
        under = mount_of(path, mounts)
        where = ('%s on %s' % (under['fstype'], under['mount_point'])) if under else 'an unknown file system'
        if not is_memory_mount(under):
            where += ', which is persistent storage'
        raise ResumptionError(
            '%s is not a key store: a ring lives only on a tmpfs or ramfs mounted there for it alone '
            '(hardened_tls.resumption.tmpfs_keystore), not in a directory of %s' % (path, where))
    st = os.lstat(path)
    owners = (0,) if uid is None else (0, uid)
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in owners or not (mode == 0o700 or (gid is not None and mode == 0o710 and st.st_gid == gid)):
        allowed = 'mode 0700' if gid is None else 'mode 0700, or 0710 with group %d' % gid
        raise ResumptionError('%s: a key store must be owned by root and have %s (found uid %d, gid %d, mode %04o); '
                              'nothing was written' % (path, allowed, st.st_uid, st.st_gid, mode))
    return mount


def tmpfs_options(size=None, mode=0o700, uid=None, gid=None, noswap=True, fstype='tmpfs'):
    """Mount options for a key store, as a list in a stable order."""
    if fstype not in MEMORY_FSTYPES:
        raise ResumptionError('fstype must be tmpfs or ramfs, got %r' % (fstype,))
    opts = ['nosuid', 'nodev', 'noexec', 'mode=%04o' % mode]
    if fstype == 'tmpfs':
        if size:
            opts.append('size=%s' % size)
        if uid is not None:
            opts.append('uid=%d' % uid)
        if gid is not None:
            opts.append('gid=%d' % gid)
        if noswap:
            opts.append('noswap')
    return opts


SIZE_RE = re.compile(r'^[1-9][0-9]*[kKmMgG]?\Z')


def check_size(size):
    if not SIZE_RE.match(str(size)):
        raise ResumptionError('size must be a number of bytes with an optional k, m or g suffix (like 1m), got %r' % (size,))
    return str(size).lower()


def kernel_accepts_noswap(release=None):
    """tmpfs accepts noswap since Linux 6.4."""
    if release is None:
        release = os.uname()[2]
    m = re.match(r'(\d+)\.(\d+)', release)
    if not m:
        return False
    return (int(m.group(1)), int(m.group(2))) >= (6, 4)


def open_nofollow(path, flags, mode=0o600):
    return os.open(path, flags | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), mode)


def read_nofollow(path):
    """The whole content of a file, refusing to follow a symbolic link."""
    fd = open_nofollow(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b''.join(chunks)
    finally:
        os.close(fd)


def _random_suffix():
    return binascii.hexlify(os.urandom(6)).decode('ascii')


def secure_write(path, data, mode=0o600, uid=None, gid=None):
    """Write data to path atomically: a temp file created with mode and O_EXCL|O_NOFOLLOW
    in the destination directory, written and synced, then renamed over path.

    The temp file is overwritten and removed if anything fails. Returns True.
    """
    directory = os.path.dirname(path) or '.'
    tmp = os.path.join(directory, '.%s.tmp-%s' % (os.path.basename(path), _random_suffix()))
    fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.islink(path):
            raise ResumptionError('%s is a symbolic link: refusing to replace it' % path)
        os.rename(tmp, path)
    except BaseException:
        shred(tmp)
        raise
    return True


def shred(path):
    """Overwrite a regular file with zeros, then remove it. A missing file is fine."""
    try:
        fd = open_nofollow(path, os.O_WRONLY)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return False
        if e.errno == errno.ELOOP:
            os.unlink(path)
            return True
        raise
    try:
        size = os.fstat(fd).st_size
        zeros = b'\0' * 4096
        left = size
        while left > 0:
            left -= os.write(fd, zeros[:min(left, 4096)])
        os.fsync(fd)
    finally:
        os.close(fd)
    os.unlink(path)
    return True


def shred_tree(path):
    """Overwrite and remove every file below path, then the directories (path itself too)."""
    if os.path.islink(path):
        os.unlink(path)
        return
    if not os.path.isdir(path):
        shred(path)
        return
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            shred(os.path.join(root, name))
        for name in dirs:
            full = os.path.join(root, name)
            if os.path.islink(full):
                os.unlink(full)
            else:
                os.rmdir(full)
    os.rmdir(path)


def shred_contents(path):
    """Overwrite and remove everything inside the directory path, keeping path."""
    count = 0
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shred_tree(full)
        elif os.path.islink(full):
            os.unlink(full)
        else:
            shred(full)
        count += 1
    return count


def write_if_changed(path, data, mode=0o644, uid=None, gid=None, check_mode=False):
    """Write a non-secret file (a unit, a config) when its content or mode differs.
    Returns whether it changed."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise ResumptionError('%s is a symbolic link: refusing to replace it' % path)
        with open(path, 'rb') as f:
            same = f.read() == data
        if same and stat.S_IMODE(st.st_mode) == mode:
            return False
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise
    if not check_mode:
        secure_write(path, data, mode=mode, uid=uid, gid=gid)
    return True
