# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures for the module_utils tests."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile

import pytest

SHM = '/dev/shm'


def _fstype_of(path):
    """fstype of the mount holding path, read from /proc/self/mountinfo (no collection code)."""
    best, fstype = '', None
    path = os.path.realpath(path)
    try:
        with open('/proc/self/mountinfo') as f:
            lines = f.read().splitlines()
    except (IOError, OSError):
        return None
    for line in lines:
        fields = line.split(' ')
        sep = fields.index('-')
        mp = fields[4].replace('\\040', ' ')
        if path == mp or mp == '/' or path.startswith(mp.rstrip('/') + '/'):
            if len(mp) >= len(best):
                best, fstype = mp, fields[sep + 1]
    return fstype


SHM_IS_TMPFS = os.path.isdir(SHM) and _fstype_of(SHM) == 'tmpfs'
needs_shm = pytest.mark.skipif(not SHM_IS_TMPFS, reason='/dev/shm is not a tmpfs here')


def stand_in_store_check(monkeypatch):
    """A directory on /dev/shm stands in for a key store (its own tmpfs mount point, which a
    test cannot mount without root): the store check keeps everything but the mount point."""
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
    monkeypatch.setattr(_fs, 'require_store', lambda path, uid=None, mounts=None, gid=None: _fs.require_memory_fs(path))


@pytest.fixture
def shm_store(monkeypatch):
    """An empty directory on tmpfs (/dev/shm), removed afterwards; it passes for a key store."""
    if not SHM_IS_TMPFS:
        pytest.skip('/dev/shm is not a tmpfs here')
    stand_in_store_check(monkeypatch)
    path = tempfile.mkdtemp(prefix='hardened-tls-test-', dir=SHM)
    os.chmod(path, 0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class FakeRunner(object):
    """A runner (args -> rc, out, err) that records calls and answers from a table.

    answers maps a tuple prefix of the argument list to (rc, out, err); the
    longest matching prefix wins; anything else answers (0, '', '').
    """

    def __init__(self, answers=None):
        self.answers = dict(answers or {})
        self.calls = []

    def __call__(self, args):
        args = list(args)
        self.calls.append(args)
        best = None
        for prefix, answer in self.answers.items():
            if tuple(args[:len(prefix)]) == tuple(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, answer)
        return best[1] if best else (0, '', '')

    def called(self, *prefix):
        return [c for c in self.calls if tuple(c[:len(prefix)]) == prefix]


@pytest.fixture
def fake_runner():
    return FakeRunner


@pytest.fixture(autouse=True)
def rotation_state_dir(tmp_path, monkeypatch):
    """The rotation command's state (what the server picked up) goes to a temporary directory, not /run."""
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _rotate_cli
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _metrics
    state_dir = str(tmp_path / 'rotation-state')
    monkeypatch.setattr(_rotate_cli, 'STATE_DIR', state_dir)
    # and the metrics to a directory that does not exist (nothing written) unless a test makes it
    monkeypatch.setattr(_metrics, 'DEFAULT_DIR', str(tmp_path / 'node-exporter'))
    return state_dir
