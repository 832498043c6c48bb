# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A memory-only key store: a tmpfs (noswap where the kernel accepts it) or
ramfs mount, mode 0700, brought back at boot by a systemd mount unit."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import tempfile

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd

NOSWAP_CHOICES = ('auto', 'required', 'disabled')
_UNITS = {'': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}


def size_bytes(size):
    size = _fs.check_size(size)
    m = re.match(r'^(\d+)([kmg]?)$', size)
    return int(m.group(1)) * _UNITS[m.group(2)]


def check_store_path(path, mounts):
    """Refuse what must never become a key store. Returns the existing memory mount or None."""
    if not isinstance(path, str) or not os.path.isabs(path):
        raise ResumptionError('path must be an absolute path, got %r' % (path,))
    _systemd.check_unit_path(path)
    norm = _fs.normpath(path)
    if norm in ('/', '/run', '/dev', '/dev/shm', '/tmp', '/proc', '/sys', '/etc', '/usr', '/var', '/home', '/root', '/boot'):
        raise ResumptionError('path %s is a system directory: give a directory of its own, like /run/tls-keys' % norm)
    _fs.check_no_symlink(norm)
    mount = _fs.mount_at(norm, mounts)
    if mount is not None:
        if not _fs.is_memory_mount(mount):
            raise ResumptionError('path %s is a mount point of %s, which is persistent storage: refusing to call it a key store'
                                  % (norm, mount['fstype']))
        return mount
    if os.path.lexists(norm):
        if not os.path.isdir(norm):
            raise ResumptionError('path %s exists and is not a directory: refusing to mount over it' % norm)
        if os.listdir(norm):
            raise ResumptionError('path %s is a non-empty directory: refusing to mount a key store over its files' % norm)
    return None


def noswap_probe(run, base='/run'):
    """Whether this kernel's tmpfs accepts noswap: mount a tiny one and see."""
    directory = tempfile.mkdtemp(prefix='.hardened-tls-noswap-', dir=base if os.path.isdir(base) else None)
    try:
        rc, out, err = run(['mount', '-t', 'tmpfs', '-o', 'size=4k,noswap,nosuid,nodev,noexec', 'tmpfs', directory])
        if rc == 0:
            run(['umount', directory])
            return True
        return False
    finally:
        os.rmdir(directory)


def mounted_options_differ(mount, mode, uid, gid, size):
    """Which of mode, uid, gid, size differ between a mounted tmpfs and what is wanted."""
    opts = {}
    for item in mount['super_options'] + mount['mount_options']:
        if '=' in item:
            k, v = item.split('=', 1)
            opts.setdefault(k, v)
    differ = []
    if int(opts.get('mode', '1777'), 8) != mode:
        differ.append('mode')
    if mount['fstype'] == 'tmpfs':
        if int(opts.get('uid', '0')) != (uid or 0):
            differ.append('uid')
        if int(opts.get('gid', '0')) != (gid or 0):
            differ.append('gid')
        if size is not None and 'size' in opts and size_bytes(opts['size']) != size_bytes(size):
            differ.append('size')
    return differ


def unit_content(path, fstype, options):
    return _systemd.render_unit([
        ('Unit', [
            ('Description', 'Memory-only TLS ticket key store %s' % path),
            ('Documentation', 'https://github.com/hardened-tls/resumption'),
            ('DefaultDependencies', 'no'),
            ('Conflicts', 'umount.target'),
            ('Before', 'local-fs.target umount.target'),
        ]),
        ('Mount', [
            ('What', fstype),
            ('Where', path),
            ('Type', fstype),
            ('Options', ','.join(options)),
        ]),
        ('Install', [('WantedBy', 'local-fs.target')]),
    ])


# 0700: root's alone. 0710: the store's group may enter it (not list it), for a server that
# reads its key file after dropping privileges (lighttpd), with a group of that server alone.
STORE_MODES = (0o700, 0o710)


class KeyStore(object):
    """Plan and apply a key store. `run` is a runner (args -> rc, out, err)."""

    def __init__(self, run, path, fstype='tmpfs', size='1m', uid=0, gid=0, noswap='auto', persist=True,
                 mountinfo=None, unit_dir=_systemd.UNIT_DIR, mode=0o700):
        if fstype not in _fs.MEMORY_FSTYPES:
            raise ResumptionError('fstype must be tmpfs or ramfs, got %r' % (fstype,))
        if noswap not in NOSWAP_CHOICES:
            raise ResumptionError('noswap must be one of %s, got %r' % (', '.join(NOSWAP_CHOICES), noswap))
        if mode not in STORE_MODES:
            raise ResumptionError('mode must be 0700 or 0710 (the group may enter the store, not list it), got %r' % (mode,))
        self.mode = mode
        self.run = run
        self.path = _fs.normpath(path) if isinstance(path, str) else path
        self.fstype = fstype
        self.size = _fs.check_size(size) if fstype == 'tmpfs' else None
        self.uid = uid
        self.gid = gid
        self.noswap = noswap
        self.persist = persist
        self.mountinfo = mountinfo or _fs.MOUNTINFO
        self.unit_dir = unit_dir
        self.systemctl = _systemd.Systemctl(run)

    @property
    def unit(self):
        return _systemd.mount_unit_name(self.path)

    @property
    def unit_path(self):
        return os.path.join(self.unit_dir, self.unit)

    def mounts(self):
        return _fs.read_mountinfo(self.mountinfo)

    def choose(self, check_mode):
        """(fstype, noswap) to mount: a store never swaps unless noswap=disabled says so by name.
        Where this kernel's tmpfs has no noswap (before Linux 6.4), auto falls back to ramfs."""
        if self.fstype != 'tmpfs' or self.noswap == 'disabled':
            return self.fstype, False
        accepted = _fs.kernel_accepts_noswap() if check_mode else noswap_probe(self.run)
        if accepted:
            return 'tmpfs', True
        if self.noswap == 'required':
            raise ResumptionError('noswap=required but this kernel does not accept the tmpfs noswap option (Linux 6.4+): use fstype=ramfs')
        return 'ramfs', False

    def check_live_mount(self, mount, fstype):
        """Refuse a store already mounted in a way that breaks "never swapped" (or is of another type)."""
        if mount['fstype'] == 'tmpfs' and _fs.swappable(mount) and self.noswap != 'disabled':
            raise ResumptionError(
                'path %s is a tmpfs mounted without noswap: its keys can reach swap. A mounted tmpfs cannot gain noswap; '
                'remove the store (state=absent, which destroys its keys) and run again to get %s, or set noswap=disabled '
                'to keep a store that can swap. Nothing was changed.'
                % (self.path, 'a tmpfs with noswap' if fstype == 'tmpfs' else 'a ramfs store (this kernel has no tmpfs noswap)'))
        if mount['fstype'] != fstype:
            raise ResumptionError('path %s is already a %s key store; remove it (state=absent) before making it %s'
                                  % (self.path, mount['fstype'], fstype))

    def present(self, check_mode=False):
        mounts = self.mounts()
        mount = check_store_path(self.path, mounts)
        if self.persist and not _systemd.is_systemd_booted():
            raise ResumptionError('persist=true needs systemd as the init system (a mount unit brings the store back at boot)')
        fstype, noswap = self.choose(check_mode)
        if mount is not None:
            self.check_live_mount(mount, fstype)
        size = self.size if fstype == 'tmpfs' else None
        options = _fs.tmpfs_options(size, self.mode, self.uid, self.gid, noswap, fstype)
        changes = []

        unit_changed = False
        if self.persist:
            unit_changed = _fs.write_if_changed(self.unit_path, unit_content(self.path, fstype, options),
                                                mode=0o644, check_mode=check_mode)
            if unit_changed:
                changes.append('unit')
                if not check_mode:
                    self.systemctl.daemon_reload()
            if not self.systemctl.is_enabled(self.unit):
                changes.append('enabled')
                if not check_mode:
                    self.systemctl('enable', self.unit)

        if mount is None:
            changes.append('mounted')
            if not check_mode:
                if not os.path.isdir(self.path):
                    os.makedirs(self.path, 0o700)
                if self.persist:
                    self.systemctl('start', self.unit)
                else:
                    self._mount(fstype, options)
        else:
            differ = mounted_options_differ(mount, self.mode, self.uid, self.gid, size)
            if differ:
                changes.append('remounted (%s)' % ', '.join(differ))
                if not check_mode:
                    remount = [o for o in options if o != 'noswap']
                    rc, out, err = self.run(['mount', '-o', 'remount,' + ','.join(remount), self.path])
                    if rc != 0:
                        raise ResumptionError('cannot remount %s: %s' % (self.path, (err or out).strip()))

        if not check_mode:
            st = os.stat(self.path)
            if st.st_mode & 0o7777 != self.mode or st.st_uid != self.uid or st.st_gid != self.gid:
                os.chown(self.path, self.uid, self.gid)
                os.chmod(self.path, self.mode)
                if mount is not None:
                    changes.append('mode')
        return changes, self.facts(check_mode, fstype=fstype)

    def _mount(self, fstype, options):
        rc, out, err = self.run(['mount', '-t', fstype, '-o', ','.join(options), fstype, self.path])
        if rc != 0:
            raise ResumptionError('cannot mount %s on %s: %s' % (fstype, self.path, (err or out).strip()))

    def absent(self, check_mode=False):
        mounts = self.mounts()
        if not isinstance(self.path, str) or not os.path.isabs(self.path):
            raise ResumptionError('path must be an absolute path, got %r' % (self.path,))
        _fs.check_no_symlink(self.path)
        mount = _fs.mount_at(self.path, mounts)
        changes = []
        if mount is not None and not _fs.is_memory_mount(mount):
            raise ResumptionError('path %s is a mount point of %s, not a key store: refusing to touch it' % (self.path, mount['fstype']))
        if mount is not None:
            if os.listdir(self.path):
                changes.append('keys destroyed')
            changes.append('unmounted')
            if not check_mode:
                _fs.shred_contents(self.path)
        unit_exists = os.path.exists(self.unit_path)
        if unit_exists:
            changes.append('unit removed')
        if not check_mode:
            if unit_exists and _systemd.is_systemd_booted():
                self.systemctl('disable', '--now', self.unit, check=False)
            if _fs.mount_at(self.path, self.mounts()) is not None:
                rc, out, err = self.run(['umount', self.path])
                if rc != 0:
                    raise ResumptionError('cannot unmount %s: %s' % (self.path, (err or out).strip()))
            if unit_exists:
                os.unlink(self.unit_path)
                if _systemd.is_systemd_booted():
                    self.systemctl.daemon_reload()
        return changes, self.facts(check_mode, absent=True)

    def facts(self, check_mode=False, absent=False, fstype=None):
        mount = _fs.mount_at(self.path, self.mounts())
        result = {'path': self.path, 'unit': self.unit if self.persist else None, 'mounted': mount is not None}
        if mount is not None and _fs.is_memory_mount(mount):
            result.update({
                'fstype': mount['fstype'],
                'options': sorted(set(mount['mount_options'] + mount['super_options'])),
                'swappable': _fs.swappable(mount),
            })
        elif not absent:
            result.update({'fstype': fstype or self.fstype, 'options': [], 'swappable': None})
        return result
