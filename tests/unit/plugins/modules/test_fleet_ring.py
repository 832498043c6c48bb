# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import shutil
import tempfile

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19: the classic way, the arguments as the module reads them
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.modules import fleet_ring


@pytest.fixture
def shm_store(monkeypatch):
    if not os.path.isdir('/dev/shm'):
        pytest.skip('no /dev/shm here')
    # A directory on /dev/shm stands in for a store (its own tmpfs mount point needs root to mount).
    monkeypatch.setattr(_fs, 'require_store', lambda path, uid=None, mounts=None, gid=None: _fs.require_memory_fs(path))
    path = tempfile.mkdtemp(prefix='hardened-tls-test-', dir='/dev/shm')
    os.chmod(path, 0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


SEED = base64.b64encode(b'\x03' * 32).decode('ascii')


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            fleet_ring.main()
    return json.loads(capsys.readouterr().out)


def base(store, **kw):
    a = {'path': store, 'server': 'nginx', 'period': 20}
    a.update(kw)
    return a


def test_status_of_an_empty_store(shm_store, capsys):
    r = run(capsys, **base(shm_store, state='status'))
    assert not r['changed'] and r['origin'] == 'none' and r['ring'] is None
    assert r['files'][0].endswith('/active/current.key')


def test_seed_then_idempotent_then_status(shm_store, capsys):
    gen = _fleet.Spec('nginx', 80, 3, 0, 20).generation()
    r = run(capsys, **base(shm_store, seed=SEED, seed_generation=gen - 2))
    assert r['changed'] and r['files_changed'] and r['action'] == 'seeded' and r['origin'] == 'fleet'
    assert SEED not in json.dumps(r)
    r2 = run(capsys, **base(shm_store))
    assert r2['action'] in ('none', 'rotated')
    if r2['action'] == 'none':
        assert not r2['changed']
    st = run(capsys, **base(shm_store, state='status', lookahead=2, join_request=True))
    assert not st['changed'] and st['chain'] and st['join_public_key']


def test_reseed_changes_no_file(shm_store, capsys):
    spec = _fleet.Spec('nginx', 80, 3, 0, 20)
    gen = spec.generation()
    run(capsys, **base(shm_store, seed=SEED, seed_generation=gen - 2))
    r = run(capsys, **base(shm_store, reseed=SEED, reseed_generation=gen + 6))
    assert r['action'] == 'reseeded' and r['changed']
    assert r['ring']['fleet']['pending'] == [gen + 6]


@pytest.mark.parametrize('args, msg', [
    (dict(seed=SEED), 'seed_generation'),
    (dict(seed=SEED, seed_generation=1, reseed=SEED, reseed_generation=5), 'mutually exclusive'),
    (dict(state='status', sealed='eA=='), 'state=status takes no'),
    (dict(seed='bad!', seed_generation=1), 'seed must be base64'),
    (dict(size=2), 'at least 3'),
])
def test_bad_input_names_the_option(shm_store, capsys, args, msg):
    r = run(capsys, **base(shm_store, **args))
    assert r['failed'] and msg in r['msg']
    assert 'bad!' not in r['msg']


def test_not_a_directory(tmp_path, capsys):
    r = run(capsys, **base(str(tmp_path / 'missing')))
    assert r['failed'] and 'tmpfs_keystore' in r['msg']
