# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad-input table at the module_utils level (issue 6): every refusal names
the option (or quotes the offending value) and happens before anything is
written. The same table runs through Ansible in molecule/hardening."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keystore
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer

ROOT_LINE = '21 1 0:20 / / rw,relatime - overlay overlay rw'
RUN_LINE = '22 21 0:21 / /run rw,nosuid,nodev - tmpfs tmpfs rw,mode=755'


def mounts(*lines):
    return _fs.parse_mountinfo('\n'.join((ROOT_LINE, RUN_LINE) + lines))


def timer_params(**kw):
    p = {'name': 'nginx', 'store': '/run/hardened-tls/nginx', 'server': 'nginx', 'key_size': 80, 'size': 3,
         'period': 43200, 'reload': 'nginx', 'reload_command': None, 'service': 'nginx', 'haproxy_socket': None}
    p.update(kw)
    return p


# (case, callable, words the message must hold)
CASES = [
    ('period zero', lambda: _timer.check_period(0), ['period', '0']),
    ('period negative', lambda: _timer.check_period(-1), ['period', '-1']),
    ('period over 7 days', lambda: _timer.check_period(604801), ['period', '604801']),
    ('period not an int', lambda: _timer.check_period('43200'), ['period']),
    ('period a bool', lambda: _timer.check_period(True), ['period']),
    ('timer period zero', lambda: _timer.check_params(timer_params(period=0)), ['period']),
    ('timer bad name', lambda: _timer.check_params(timer_params(name='../x')), ['name', '../x']),
    ('timer unknown reload', lambda: _timer.check_params(timer_params(reload='restart')), ['reload', 'restart']),
    ('timer command without command', lambda: _timer.check_params(timer_params(reload='command')), ['reload_command']),
    ('timer relative store', lambda: _timer.check_params(timer_params(store='run/x')), ['store', 'run/x']),
    ('key size 64', lambda: _keys.check_key_size(64), ['key_size', '64']),
    ('key size 0', lambda: _keys.check_key_size(0), ['key_size', '0']),
    ('key size 48.0', lambda: _keys.check_key_size('48'), ['key_size']),
    ('unknown server', lambda: _servers.get('caddy'), ['server', 'caddy']),
    ('ring size 1', lambda: _ring.check_spec('nginx', 80, 1), ['size', '1']),
    ('ring size 0', lambda: _ring.check_spec('nginx', 80, 0), ['size', '0']),
    ('ring size negative', lambda: _ring.check_spec('nginx', 80, -3), ['size', '-3']),
    ('ring size absurd', lambda: _ring.check_spec('nginx', 80, 10 ** 6), ['size', '1000000']),
    ('ring size a bool', lambda: _ring.check_spec('nginx', 80, True), ['size']),
    ('ring unknown server', lambda: _ring.check_spec('iis', 80, 3), ['server', 'iis']),
    ('ring apache 80 bytes', lambda: _ring.check_spec('apache', 80, 3), ['key_size', 'apache']),
    ('ring haproxy 2 keys', lambda: _ring.check_spec('haproxy', 80, 2), ['size', 'haproxy']),
    ('store size garbage', lambda: _fs.check_size('lots'), ['size', 'lots']),
    ('store size zero', lambda: _fs.check_size('0'), ['size', '0']),
    ('store size negative', lambda: _fs.check_size('-1m'), ['size', '-1m']),
    ('store relative path', lambda: _keystore.check_store_path('run/keys', mounts()), ['path', 'run/keys']),
    ('store path /', lambda: _keystore.check_store_path('/', mounts()), ['path', '/']),
    ('store path /run', lambda: _keystore.check_store_path('/run/', mounts()), ['path', '/run']),
    ('store path /var', lambda: _keystore.check_store_path('/var', mounts()), ['path', '/var']),
    ('store on a persistent mount point', lambda: _keystore.check_store_path(
        '/srv/keys', mounts('30 21 8:1 / /srv/keys rw - ext4 /dev/sda1 rw')), ['/srv/keys', 'persistent']),
    ('ring on persistent storage', lambda: _fs.require_memory_fs('/srv/keys', mounts()), ['/srv/keys', 'persistent']),
    ('ring on an unknown file system', lambda: _fs.require_memory_fs('/srv/keys', []), ['/srv/keys', 'persistent']),
    ('store fstype ext4', lambda: _fs.tmpfs_options(fstype='ext4'), ['fstype', 'ext4']),
    ('keystore fstype ext4', lambda: _keystore.KeyStore(None, '/run/k', fstype='ext4'), ['fstype', 'ext4']),
    ('keystore noswap maybe', lambda: _keystore.KeyStore(None, '/run/k', noswap='maybe'), ['noswap', 'maybe']),
    ('keystore size garbage', lambda: _keystore.KeyStore(None, '/run/k', size='1 TB'), ['size', '1 TB']),
    ('owner does not exist', lambda: _fs.resolve_ids('no-such-user-hardening', None), ['owner', 'no-such-user-hardening']),
    ('group does not exist', lambda: _fs.resolve_ids(None, 'no-such-group-hardening'), ['group', 'no-such-group-hardening']),
    ('ensure rotate_after zero', lambda: _ring.ensure('/nonexistent', 'nginx', 80, 3, state='rotated', rotate_after=0),
     ['rotate_after']),
    ('ensure unknown state', lambda: _ring.ensure('/nonexistent', 'nginx', 80, 3, state='spun'), ['state', 'spun']),
]


@pytest.mark.parametrize('case, call, words', CASES, ids=[c[0] for c in CASES])
def test_bad_input_refused_naming_the_option(case, call, words):
    with pytest.raises(ResumptionError) as e:
        call()
    msg = str(e.value)
    for w in words:
        assert w in msg, '%s: %r not in %r' % (case, w, msg)


def test_store_path_refusals_on_the_real_file_system(tmp_path):
    target = tmp_path / 'target'
    target.mkdir()
    link = tmp_path / 'link'
    link.symlink_to(target)
    afile = tmp_path / 'file'
    afile.write_bytes(b'x')
    full = tmp_path / 'full'
    full.mkdir()
    (full / 'x').write_bytes(b'x')
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    no_mounts = mounts()
    for path, words in ((str(link), ['symbolic link', str(link)]), (str(afile), [str(afile), 'not a directory']),
                        (str(full), [str(full), 'non-empty'])):
        with pytest.raises(ResumptionError) as e:
            _keystore.check_store_path(path, no_mounts)
        for w in words:
            assert w in str(e.value)
    with pytest.raises(ResumptionError) as e:
        _fs.require_memory_fs(str(link) + '/store')
    assert 'symbolic link' in str(e.value)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize('size', [0, 1, 9, 100])
def test_ensure_refuses_ring_size_before_touching_the_store(tmp_path, size):
    with pytest.raises(ResumptionError) as e:
        _ring.ensure(str(tmp_path), 'nginx', 80, size)
    assert 'size' in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_ensure_refuses_persistent_storage_before_writing(tmp_path):
    # tmp_path may itself be on tmpfs; a mount table that says "disk" decides here.
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs as fs_mod
    real = fs_mod.read_mountinfo
    fs_mod.read_mountinfo = lambda path=None: mounts()
    try:
        with pytest.raises(ResumptionError) as e:
            _ring.ensure(str(tmp_path), 'nginx', 80, 3)
    finally:
        fs_mod.read_mountinfo = real
    assert 'persistent storage' in str(e.value) and str(tmp_path) in str(e.value)
    assert list(tmp_path.iterdir()) == []


def _fleet():
    try:
        from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
    except ImportError:
        pytest.skip('fleet mode (issue 5) is not in the tree')
    if not hasattr(_fleet, 'decode_secret'):
        pytest.skip('fleet mode has no decode_secret')
    return _fleet


@pytest.mark.parametrize('length', [0, 1, 16, 31, 33, 64])
def test_fleet_seed_of_the_wrong_length(length):
    fleet = _fleet()
    value = base64.b64encode(os.urandom(length)).decode() if length else ''
    with pytest.raises(ResumptionError) as e:
        fleet.decode_secret(value, 'fleet_seed')
    msg = str(e.value)
    assert 'fleet_seed' in msg
    assert value not in msg or not value  # the seed itself is never echoed


def test_fleet_seed_not_base64():
    fleet = _fleet()
    with pytest.raises(ResumptionError) as e:
        fleet.decode_secret('not base64 at all!!', 'fleet_seed')
    assert 'fleet_seed' in str(e.value) and 'not base64 at all' not in str(e.value)
