# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULE_UTILS = os.path.join(REPO, 'plugins', 'module_utils')
PKG_PATH = os.path.join('ansible_collections', 'hardened_tls', 'resumption', 'plugins', 'module_utils')


def params(**kw):
    p = {
        'name': 'web', 'store': '/run/tls-keys/web', 'server': 'nginx', 'key_size': 48, 'size': 3,
        'period': 43200, 'reload': 'nginx', 'service': 'nginx', 'reload_command': None,
        'haproxy_socket': None, 'config_test': None,
    }
    p.update(kw)
    return p


def parse_unit(data):
    """[(section, key, value)] of a unit file."""
    out, section = [], None
    for line in data.decode('utf-8').splitlines():
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            section = line.strip('[]')
            continue
        k, v = line.split('=', 1)
        out.append((section, k, v))
    return out


def values(unit, section, key):
    return [v for s, k, v in parse_unit(unit) if s == section and k == key]


# ---------------------------------------------------------------- period

@pytest.mark.parametrize('period', [10, 11, 3600, 43200, 604800])
def test_check_period_accepts(period):
    assert _timer.check_period(period) == period


@pytest.mark.parametrize('period', [9, 0, -1, 604801, True, False, 3600.0, '3600', None])
def test_check_period_refuses(period):
    with pytest.raises(ResumptionError, match='period must be from 10 seconds to 7 days'):
        _timer.check_period(period)


# ---------------------------------------------------------------- runtime sources

def test_runtime_sources_are_the_module_utils_byte_for_byte():
    files = _timer.runtime_sources()
    for name in _timer.RUNTIME_MODULES:
        rel = os.path.join(PKG_PATH, name + '.py')
        assert rel in files, rel
        with open(os.path.join(MODULE_UTILS, name + '.py'), 'rb') as f:
            assert files[rel] == f.read(), name


def test_runtime_sources_packages_and_nothing_else():
    files = _timer.runtime_sources()
    inits = [os.path.join(*(PKG_PATH.split(os.sep)[:i] + ['__init__.py'])) for i in range(1, 6)]
    expected = set(inits) | set(os.path.join(PKG_PATH, n + '.py') for n in _timer.RUNTIME_MODULES) | {_timer.LAUNCHER}
    assert set(files) == expected
    for i in inits:
        assert files[i] == b''
    assert '_probe' not in _timer.RUNTIME_MODULES
    assert '_keystore' not in _timer.RUNTIME_MODULES


def _collection_imports(name):
    with open(os.path.join(MODULE_UTILS, name + '.py')) as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(_timer.PACKAGE):
            if node.module == _timer.PACKAGE:
                found.update(a.name for a in node.names)
            else:
                found.add(node.module[len(_timer.PACKAGE) + 1:])
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(_timer.PACKAGE + '.'):
                    found.add(a.name[len(_timer.PACKAGE) + 1:])
    return found


@pytest.mark.parametrize('name', _timer.RUNTIME_MODULES)
def test_runtime_modules_are_closed_under_import(name):
    assert _collection_imports(name) <= set(_timer.RUNTIME_MODULES)


def test_launcher_content():
    assert _timer.runtime_sources()[_timer.LAUNCHER] == (
        b'#!/usr/bin/python3 -I\n'
        b'# Managed by hardened_tls.resumption: the rotation command of its systemd units.\n'
        b'import sys\n'
        b'sys.dont_write_bytecode = True\n'
        b"sys.path.insert(0, '/usr/local/lib/hardened-tls-resumption')\n"
        b'from ansible_collections.hardened_tls.resumption.plugins.module_utils._rotate_cli import main\n'
        b'sys.exit(main())\n')


def test_runtime_copy_runs_on_its_own(tmp_path, shm_store):
    """Install the runtime copy in a directory and run the launcher in isolated mode (-I: no
    PYTHONPATH, no user site): it must import only what it ships."""
    lib = tmp_path / 'lib'
    for rel, data in _timer.runtime_sources().items():
        p = lib / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if rel == _timer.LAUNCHER:
            data = data.replace(_timer.LIB_DIR.encode(), str(lib).encode())
        p.write_bytes(data)
    _ring.commit(shm_store, _ring.new_ring('nginx', 48, 3, 1700000000, generation=6))
    conf = tmp_path / 'web.json'
    conf.write_bytes(_timer.ring_config(params(store=shm_store, reload='none')))
    proc = subprocess.run([sys.executable, '-I', str(lib / _timer.LAUNCHER), '--config', str(conf), 'status'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path), env={'PATH': os.environ.get('PATH', '')}, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.decode())
    assert out['ring']['generation'] == 6
    assert not [d for d, dummy, dummy2 in os.walk(str(lib)) if d.endswith('__pycache__')]


# ---------------------------------------------------------------- units

@pytest.mark.parametrize('period', [10, 3600, 43200, 604800])
def test_timer_unit(period):
    units = _timer.units(params(period=period))
    names = _timer.unit_names('web')
    assert set(units) == set(names.values())
    timer = units['hardened-tls-rotate-web.timer']
    assert values(timer, 'Timer', 'OnActiveSec') == ['%ds' % period]
    assert values(timer, 'Timer', 'OnUnitActiveSec') == ['%ds' % period]
    assert values(timer, 'Timer', 'Unit') == ['hardened-tls-rotate-web.service']
    assert values(timer, 'Install', 'WantedBy') == ['timers.target']


def test_unit_names():
    assert _timer.unit_names('fe1') == {'rotate_service': 'hardened-tls-rotate-fe1.service',
                                        'timer': 'hardened-tls-rotate-fe1.timer',
                                        'boot_service': 'hardened-tls-ring-fe1.service'}


CMD = '/usr/local/lib/hardened-tls-resumption/hardened-tls-ring --config /etc/hardened-tls-resumption/rings/web.json'


@pytest.mark.parametrize('service, unit', [('nginx', 'nginx.service'), ('apache2', 'apache2.service'),
                                           ('haproxy.service', 'haproxy.service'), ('nginx@edge.service', 'nginx@edge.service')])
def test_boot_service(service, unit):
    boot = _timer.units(params(service=service))['hardened-tls-ring-web.service']
    assert values(boot, 'Unit', 'RequiresMountsFor') == ['/run/tls-keys/web']
    assert 'run-tls\\x2dkeys-web.mount' in values(boot, 'Unit', 'After')
    assert values(boot, 'Unit', 'Before') == ['shutdown.target', unit]
    assert values(boot, 'Install', 'WantedBy') == ['multi-user.target', unit]
    assert values(boot, 'Service', 'Type') == ['oneshot']
    assert values(boot, 'Service', 'RemainAfterExit') == ['yes']
    assert values(boot, 'Service', 'ExecStart') == [CMD + ' ensure']
    assert values(boot, 'Service', 'UMask') == ['0077']


@pytest.mark.parametrize('service', [None, ''])
def test_boot_service_without_server_unit(service):
    boot = _timer.units(params(service=service, reload='none'))['hardened-tls-ring-web.service']
    assert values(boot, 'Unit', 'Before') == ['shutdown.target']
    assert values(boot, 'Install', 'WantedBy') == ['multi-user.target']


def test_rotate_service():
    rot = _timer.units(params())['hardened-tls-rotate-web.service']
    assert values(rot, 'Unit', 'RequiresMountsFor') == ['/run/tls-keys/web']
    assert values(rot, 'Unit', 'After') == ['hardened-tls-ring-web.service']
    # never refused by systemd's start rate limit (a fleet timer polls every second at short periods)
    assert values(rot, 'Unit', 'StartLimitIntervalSec') == ['0']
    assert values(rot, 'Service', 'ExecStart') == [CMD + ' rotate']
    assert values(rot, 'Service', 'Type') == ['oneshot']
    assert values(rot, 'Service', 'UMask') == ['0077']
    assert values(rot, 'Service', 'NoNewPrivileges') == ['yes']
    assert values(rot, 'Install', 'WantedBy') == []


# ---------------------------------------------------------------- ring_config

CONFIG_KEYS = {'name', 'store', 'server', 'key_size', 'size', 'period', 'reload', 'service', 'command',
               'haproxy_socket', 'haproxy_ref'}


@pytest.mark.parametrize('server, size, ref', [
    ('haproxy', 3, '/run/tls-keys/web/active/tls-ticket-keys'),
    ('haproxy', 5, '/run/tls-keys/web/active/tls-ticket-keys'),
    ('nginx', 3, None),
    ('apache', 2, None),
])
def test_ring_config(server, size, ref):
    data = _timer.ring_config(params(server=server, size=size, reload=server, service=server,
                                     haproxy_socket='/run/haproxy/admin.sock'))
    cfg = json.loads(data.decode('utf-8'))
    assert set(cfg) == CONFIG_KEYS
    assert cfg['haproxy_ref'] == ref
    if ref:
        assert ref == _ring.server_paths('/run/tls-keys/web', 'haproxy', size)[0]
    assert (cfg['server'], cfg['size'], cfg['key_size'], cfg['period']) == (server, size, 48, 43200)
    assert cfg['command'] == []
    assert data.endswith(b'\n')


def test_ring_config_command_and_test():
    cfg = json.loads(_timer.ring_config(params(reload='command', reload_command=['/usr/bin/push', '-x'],
                                               config_test=['nginx', '-t'])).decode())
    assert cfg['command'] == ['/usr/bin/push', '-x']
    assert cfg['config_test'] == ['nginx', '-t']
    assert set(cfg) == CONFIG_KEYS | {'config_test'}


def test_ring_config_is_stable():
    assert _timer.ring_config(params()) == _timer.ring_config(params())


# ---------------------------------------------------------------- check_params

def test_check_params_accepts():
    _timer.check_params(params())
    _timer.check_params(params(reload='command', reload_command=['/bin/true']))


@pytest.mark.parametrize('kw, message', [
    ({'name': 'a b'}, 'name must be'),
    ({'name': 'web\n'}, 'name must be'),
    ({'server': 'haproxy', 'size': 2}, 'at least 3 for server haproxy'),
    ({'period': 5}, 'period must be'),
    ({'reload': 'restart'}, 'reload must be one of'),
    ({'reload': 'command'}, 'reload=command needs reload_command'),
    ({'store': 'run/keys'}, 'store must be an absolute path'),
])
def test_check_params_refuses(kw, message):
    with pytest.raises(ResumptionError, match=message):
        _timer.check_params(params(**kw))


# ---------------------------------------------------------------- keys made by the server (Apache)

def server_params(**kw):
    return params(**dict({'name': 'apache', 'server': 'apache', 'store': None, 'reload': 'apache',
                          'service': 'apache2', 'keys': 'server', 'period': 20}, **kw))


def test_server_keys_units_have_no_store_and_no_boot_unit():
    units = _timer.units(server_params())
    assert sorted(units) == ['hardened-tls-rotate-apache.service', 'hardened-tls-rotate-apache.timer']
    rot = units['hardened-tls-rotate-apache.service']
    assert values(rot, 'Unit', 'RequiresMountsFor') == []
    assert values(rot, 'Unit', 'StartLimitIntervalSec') == ['0']
    assert values(rot, 'Service', 'ExecStart') == [
        '/usr/local/lib/hardened-tls-resumption/hardened-tls-ring --config /etc/hardened-tls-resumption/rings/apache.json rotate']
    assert values(units['hardened-tls-rotate-apache.timer'], 'Timer', 'OnUnitActiveSec') == ['20s']


def test_server_keys_config_holds_no_store():
    cfg = json.loads(_timer.ring_config(server_params()).decode('utf-8'))
    assert cfg == {'name': 'apache', 'keys': 'server', 'server': 'apache', 'period': 20, 'reload': 'apache',
                   'service': 'apache2', 'command': []}


def test_ring_config_of_a_ring_is_unchanged_by_the_keys_option():
    # Existing rings keep byte-identical config files (no change reported on upgrade).
    assert _timer.ring_config(params(keys='ring')) == _timer.ring_config(params())
    assert 'keys' not in json.loads(_timer.ring_config(params()).decode('utf-8'))


def test_check_params_accepts_server_keys():
    _timer.check_params(server_params())
    _timer.check_params(server_params(reload='command', reload_command=['/usr/local/bin/new-key']))


@pytest.mark.parametrize('kw, message', [
    ({'reload': 'nginx'}, 'keys=server needs a reload that gives the server a new key'),
    ({'reload': 'haproxy'}, 'keys=server needs a reload'),
    ({'reload': 'none'}, 'keys=server needs a reload'),
    ({'fleet': True}, 'cannot be shared by a fleet'),
    ({'keys': 'disk'}, 'keys must be one of ring, server'),
    ({'keys': 'ring'}, 'store is required unless keys=server'),
])
def test_check_params_refuses_server_keys(kw, message):
    with pytest.raises(ResumptionError, match=message):
        _timer.check_params(server_params(**kw))


# ---------------------------------------------------------------- values written into unit files (issue 13)

@pytest.mark.parametrize('kw', [
    {'service': 'nginx\nExecStartPre=/bin/sh -c "cp /run/tls-keys/web/active/* /tmp"'},
    {'service': 'nginx%n'},
    {'service': 'nginx web'},
    {'service': ''},
    {'store': '/run/tls-keys/web\nExecStart=/bin/true'},
    {'store': '/run/tls keys'},
    {'store': '/run/%h/keys'},
    {'store': '/run/keys\x00'},
    {'store': 'run/keys'},
])
def test_check_params_refuses_values_that_would_change_a_unit(kw):
    with pytest.raises(ResumptionError, match='must be'):
        _timer.check_params(params(**kw))


@pytest.mark.parametrize('kw', [{'service': 'apache2'}, {'service': 'nginx.service'}, {'service': 'haproxy@edge.service'},
                                {'store': '/run/hardened-tls/nginx-edge_1'}])
def test_check_params_accepts_plain_unit_values(kw):
    _timer.check_params(params(**kw))


# ---------------------------------------------------------------- the units are sandboxed (issue 13)

@pytest.mark.parametrize('p', [params(), server_params()], ids=['ring', 'keys=server'])
def test_rotate_and_boot_units_are_sandboxed(p):
    units = _timer.units(p)
    services = [data for name, data in units.items() if name.endswith('.service')]
    assert len(services) == (1 if p.get('keys') == 'server' else 2)
    for unit in services:
        def one(key):
            got = values(unit, 'Service', key)
            assert len(got) == 1, (key, got)
            return got[0]
        assert one('LimitCORE') == '0'              # no core dump of a process that holds keys
        assert one('MemorySwapMax') == '0'          # none of its pages in swap
        assert one('NoNewPrivileges') == 'yes'
        assert one('PrivateTmp') == 'yes'
        assert one('PrivateDevices') == 'yes'
        assert one('ProtectSystem') == 'full'       # /usr, /boot, /etc read-only; the store under /run writable
        assert one('ProtectHome') == 'yes'
        assert one('UMask') == '0077'
        caps = one('CapabilityBoundingSet').split()
        assert 'CAP_SYS_ADMIN' not in caps and 'CAP_NET_ADMIN' not in caps and 'CAP_SYS_MODULE' not in caps
        assert 'CAP_CHOWN' in caps and 'CAP_DAC_OVERRIDE' in caps


# ---------------------------------------------------------------- lighttpd's unit drop-in

def _params(**kw):
    p = {'name': 'lt', 'store': '/run/hardened-tls/lighttpd', 'server': 'lighttpd', 'key_size': 80, 'size': 3, 'period': 600,
         'reload': 'lighttpd', 'service': 'lighttpd', 'reload_command': None, 'haproxy_socket': None, 'keys': 'ring'}
    p.update(kw)
    return p


def test_lighttpd_gets_a_drop_in_that_shows_the_current_key_while_it_starts():
    units = _timer.units(_params())
    dropin = units['lighttpd.service.d/hardened-tls-lt.conf'].decode()
    cmd = '/usr/local/lib/hardened-tls-resumption/hardened-tls-ring --config /etc/hardened-tls-resumption/rings/lt.json'
    assert 'ExecStartPre=-+%s server-start' % cmd in dropin
    assert 'ExecStartPost=-+%s server-started' % cmd in dropin
    # Its reload: emptied, then start files, Debian's own steps, the hand-over (after a delay: server-reloaded).
    reload_lines = [line for line in dropin.splitlines() if line.startswith('ExecReload=')]
    assert reload_lines == ['ExecReload=', 'ExecReload=-+%s server-start' % cmd,
                            'ExecReload=/usr/sbin/lighttpd -tt -f /etc/lighttpd/lighttpd.conf',
                            'ExecReload=/bin/kill -USR1 $MAINPID', 'ExecReload=-+%s server-reloaded' % cmd]
    assert 'RequiresMountsFor=/run/hardened-tls/lighttpd' in dropin


@pytest.mark.parametrize('server', ['nginx', 'haproxy'])
def test_other_servers_get_no_drop_in(server):
    units = _timer.units(_params(server=server, reload=server, service=server))
    assert not [u for u in units if '.service.d/' in u]


def test_group_is_for_lighttpd_only_and_must_exist():
    with pytest.raises(ResumptionError, match='group is for a server that reads its key file as a group'):
        _timer.check_params(_params(server='nginx', reload='nginx', service='nginx', group='www-data'))
    with pytest.raises(ResumptionError, match="group 'no-such-group-x' does not exist"):
        _timer.check_params(_params(group='no-such-group-x'))
    with pytest.raises(ResumptionError, match='period must be at least 70 s for server lighttpd'):
        _timer.check_params(_params(period=60))
    _timer.check_params(_params(group='root'))
    cfg = json.loads(_timer.ring_config(_params(group='root')).decode())
    assert cfg['group'] == 'root' and cfg['period'] == 600
