# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""Files holding TLS sessions for the probe (see _probe): memory file systems only.

A saved session holds the session master secret or resumption PSK, so it is
only written on tmpfs or ramfs (mountinfo is read through _fs):
:func:`check_memory_path` refuses any other place, :func:`write_session_file`
writes a 0600 file there, and :class:`PrivateDir` is the private 0700
directory for openssl's temporary session files, overwritten and removed on
exit.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_errors import ProbeError


def _mount(path, mountinfo_text=None):
    """The mount (a dict of _fs.parse_mountinfo) holding ``path``, from
    /proc/self/mountinfo or from ``mountinfo_text``; a ProbeError when it cannot tell."""
    try:
        mounts = _fs.read_mountinfo() if mountinfo_text is None else _fs.parse_mountinfo(mountinfo_text)
    except (IOError, OSError) as e:
        raise ProbeError('cannot read /proc/self/mountinfo to check the file system: %s' % e)
    mount = _fs.mount_of(path, mounts)
    if mount is None:
        raise ProbeError('cannot find the mount holding %s in /proc/self/mountinfo' % path)
    return mount


def filesystem_type(path, mountinfo_text=None):
    """File system type (``tmpfs``, ``ext4``...) of the mount holding ``path``.

    Symbolic links in ``path`` are resolved first.
    """
    return _mount(os.path.realpath(os.path.abspath(path)), mountinfo_text)['fstype']


def check_memory_path(path, what='session_out', mountinfo_text=None):
    """Refuse a file path whose directory is not on tmpfs or ramfs.

    Returns the resolved parent directory.
    """
    if not path:
        raise ProbeError('%s: empty path' % what)
    parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    mount = _mount(parent, mountinfo_text)
    if mount['fstype'] not in _fs.MEMORY_FSTYPES:
        raise ProbeError(
            '%s: refusing to write %s: a saved TLS session holds the session master secret '
            '(key material) and must stay in memory, but %s is on %s (mount %s), not on tmpfs '
            'or ramfs; use a path under /dev/shm or /run' % (what, path, parent, mount['fstype'], mount['mount_point']))
    return parent


def _shred(path):
    """Overwrite a regular file with zeros, then unlink it; never fails."""
    try:
        _fs.shred(path)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass


def write_session_file(path, data, mountinfo_text=None):
    """Write ``data`` to ``path`` with mode 0600, only on tmpfs/ramfs, with the
    collection's secure write helper (O_EXCL|O_NOFOLLOW temp file, then rename)."""
    parent = check_memory_path(path, 'session_out', mountinfo_text)
    if not os.path.isdir(parent):
        raise ProbeError('session_out: directory %s does not exist' % parent)
    target = os.path.join(parent, os.path.basename(path))
    if os.path.isdir(target):
        raise ProbeError('session_out: %s is a directory' % target)
    if os.path.islink(target):
        os.unlink(target)
    try:
        _fs.secure_write(target, data, 0o600)
    except (OSError, ResumptionError) as e:
        raise ProbeError('session_out: cannot write %s: %s' % (target, getattr(e, 'strerror', None) or e))
    return target


class PrivateDir(object):
    """A private 0700 directory on tmpfs for openssl's session files.

    Use as a context manager: every file in it is overwritten with zeros and
    removed on exit, then the directory itself.
    """

    def __init__(self, candidates=None, mountinfo_text=None):
        if candidates is None:
            candidates = ['/dev/shm']
            runtime = os.environ.get('XDG_RUNTIME_DIR')
            if runtime:
                candidates.append(runtime)
            candidates.append('/run')
        self.candidates = candidates
        self.mountinfo_text = mountinfo_text
        self.path = None

    def __enter__(self):
        tried = []
        for base in self.candidates:
            if not os.path.isdir(base):
                tried.append('%s (missing)' % base)
                continue
            fstype = filesystem_type(base, self.mountinfo_text)
            if fstype not in _fs.MEMORY_FSTYPES:
                tried.append('%s (%s)' % (base, fstype))
                continue
            try:
                self.path = tempfile.mkdtemp(prefix='resumption-probe-', dir=base)
            except OSError as e:
                tried.append('%s (%s)' % (base, e))
                continue
            os.chmod(self.path, 0o700)
            return self
        raise ProbeError('no writable tmpfs directory for temporary session files (tried: %s); '
                         'session files hold key material and are never written to disk'
                         % ', '.join(tried))

    def file(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        if self.path is None:
            return
        try:
            names = os.listdir(self.path)
        except OSError:
            names = []
        for name in names:
            _shred(os.path.join(self.path, name))
        try:
            os.rmdir(self.path)
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None

    def __exit__(self, exc_type, exc, tb):
        self.cleanup()
        return False
