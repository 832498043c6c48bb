# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil
import subprocess

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

# Outputs of `systemd-escape --path` (systemd 252), recorded by hand.
KNOWN = [
    ('/run/tls-keys/nginx', 'run-tls\\x2dkeys-nginx'),
    ('/run/tls-keys', 'run-tls\\x2dkeys'),
    ('/run/a b', 'run-a\\x20b'),
    ('/run/.hidden', 'run-.hidden'),
    ('/.x/.y', '\\x2ex-.y'),
    ('/run/\u00fc', 'run-\\xc3\\xbc'),
    ('/', '-'),
    ('/run//x/', 'run-x'),
    ('/run/x.y:z_w', 'run-x.y:z_w'),
    ('/run/a\\b', 'run-a\\x5cb'),
    ('/run/a-b_c', 'run-a\\x2db_c'),
    ('/run/1', 'run-1'),
    ('/run/a%b', 'run-a\\x25b'),
    ('/run/tab\tx', 'run-tab\\x09x'),
    ('/run/a@b', 'run-a\\x40b'),
    ('/run/a+b', 'run-a\\x2bb'),
]

SYSTEMD_ESCAPE = shutil.which('systemd-escape')


@pytest.mark.parametrize('path, expected', KNOWN)
def test_escape_path_known(path, expected):
    assert _systemd.escape_path(path) == expected


@pytest.mark.skipif(SYSTEMD_ESCAPE is None, reason='systemd-escape is not installed')
@pytest.mark.parametrize('path', [p for p, dummy in KNOWN] + ['/srv/keys/haproxy-fe1', '/run/tls_keys/Apache2', '/a/b/c/d'])
def test_escape_path_matches_systemd_escape(path):
    out = subprocess.check_output([SYSTEMD_ESCAPE, '--path', path]).decode('utf-8').rstrip('\n')
    assert _systemd.escape_path(path) == out


@pytest.mark.parametrize('path, expected', [
    ('/run/tls-keys', 'run-tls\\x2dkeys.mount'),
    ('/srv/keys', 'srv-keys.mount'),
])
def test_mount_unit_name(path, expected):
    assert _systemd.mount_unit_name(path) == expected


@pytest.mark.parametrize('name', ['nginx', 'a', '_x', 'fe1.example', 'ring-1_2', '9', 'a' * 64])
def test_check_name_accepts(name):
    assert _systemd.check_name(name) == name


@pytest.mark.parametrize('name', ['', '-x', '.x', 'a b', 'a/b', 'a' * 65, 'nginx\n', 'a\nb', '\u00fc', 'a;b', 'a@b', None, 1])
def test_check_name_refuses(name):
    with pytest.raises(ResumptionError, match='ring name must be 1 to 64'):
        _systemd.check_name(name, 'ring name')


def test_render_unit():
    data = _systemd.render_unit([
        ('Unit', [('Description', 'x y'), ('After', 'a.mount'), ('After', 'b.service')]),
        ('Service', [('Type', 'oneshot'), ('ExecStart', '/bin/true --x')]),
    ])
    assert isinstance(data, bytes)
    assert data == (
        b'# Managed by hardened_tls.resumption: local changes are overwritten.\n'
        b'\n'
        b'[Unit]\n'
        b'Description=x y\n'
        b'After=a.mount\n'
        b'After=b.service\n'
        b'\n'
        b'[Service]\n'
        b'Type=oneshot\n'
        b'ExecStart=/bin/true --x\n'
    )


def test_render_unit_empty():
    assert _systemd.render_unit([]) == b'# Managed by hardened_tls.resumption: local changes are overwritten.\n'


def test_render_unit_utf8():
    assert _systemd.render_unit([('Unit', [('Description', '\u00fc')])]).endswith('Description=\u00fc\n'.encode('utf-8'))


@pytest.mark.parametrize('method, args, rc, expected', [
    ('is_active', ('nginx.service',), 0, True),
    ('is_active', ('nginx.service',), 3, False),
    ('is_enabled', ('x.mount',), 0, True),
    ('is_enabled', ('x.mount',), 1, False),
])
def test_systemctl_queries(fake_runner, method, args, rc, expected):
    run = fake_runner({('systemctl',): (rc, '', '')})
    assert getattr(_systemd.Systemctl(run), method)(*args) is expected
    verb = method.replace('_', '-')
    assert run.calls == [['systemctl', verb, '--quiet'] + list(args)]


def test_systemctl_call(fake_runner):
    run = fake_runner({('systemctl', 'start'): (1, '', 'Job failed\n')})
    sc = _systemd.Systemctl(run)
    sc.daemon_reload()
    with pytest.raises(ResumptionError, match='systemctl start x.mount failed: Job failed$'):
        sc('start', 'x.mount')
    assert sc('start', 'x.mount', check=False)[0] == 1
    assert run.calls == [['systemctl', 'daemon-reload'], ['systemctl', 'start', 'x.mount'], ['systemctl', 'start', 'x.mount']]
