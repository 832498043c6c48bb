# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files of a rotation timer: the runtime copy of the module_utils, the ring's
configuration, a rotate service and timer, and a boot service."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import json
import os

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _reload
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _rotate_cli
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd

PACKAGE = 'ansible_collections.hardened_tls.resumption.plugins.module_utils'
# Everything the command on the host imports (keep in step with _rotate_cli's imports).
RUNTIME_MODULES = ('_errors', '_keys', '_servers', '_metrics', '_fs', '_systemd', '_ring', '_reload', '_ratchet', '_fleet_seal', '_fleet', '_rotate_cli')
LIB_DIR = '/usr/local/lib/hardened-tls-resumption'
CONF_DIR = '/etc/hardened-tls-resumption/rings'
LAUNCHER = 'hardened-tls-ring'
MIN_PERIOD = 10
MAX_PERIOD = 7 * 24 * 3600
# Where the keys come from: 'ring' (files of a ring in a memory-only store, the
# usual case) or 'server' (the server makes a fresh random key itself each time
# it is reloaded, and keeps it in its own memory only: the timer just reloads it
# every period; see docs/apache-tls13.md for why Apache uses this).
KEY_SOURCES = ('ring', 'server')
# Reload methods that make a server-made key new: a reload of nginx without key
# files keeps its key (1.23.2+ keeps it in shared memory), HAProxy's runtime API
# pushes ring keys, and 'none' would never rotate anything.
SERVER_KEY_RELOADS = tuple(n for n in _servers.NAMES if _servers.get(n).server_keys) + ('command',)


def check_period(period):
    if not isinstance(period, int) or isinstance(period, bool) or period < MIN_PERIOD or period > MAX_PERIOD:
        raise ResumptionError('period must be from %d seconds to 7 days (%d s): RFC 8446 caps ticket lifetime at 7 days; got %r'
                              % (MIN_PERIOD, MAX_PERIOD, period))
    return period


# The rotate and boot units run as root (they write the store and reload the server), so they get
# everything else taken away: no core dumps and no swap for the process that holds keys, a private
# /tmp and /dev, /usr, /boot and /etc read-only (the store under /run and the servers' logs under
# /var stay writable: nginx -t opens its log files), no new privileges, no kernel or cgroup knobs.
SANDBOX = [
    ('NoNewPrivileges', 'yes'),
    ('LimitCORE', '0'),
    ('MemorySwapMax', '0'),
    ('PrivateTmp', 'yes'),
    ('PrivateDevices', 'yes'),
    ('ProtectSystem', 'full'),
    ('ProtectHome', 'yes'),
    ('ProtectKernelTunables', 'yes'),
    ('ProtectKernelModules', 'yes'),
    ('ProtectKernelLogs', 'yes'),
    ('ProtectControlGroups', 'yes'),
    ('ProtectClock', 'yes'),
    ('ProtectHostname', 'yes'),
    ('RestrictSUIDSGID', 'yes'),
    ('RestrictRealtime', 'yes'),
    ('RestrictNamespaces', 'yes'),
    ('LockPersonality', 'yes'),
    ('SystemCallArchitectures', 'native'),
    ('RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6 AF_NETLINK'),
    # What the command and the servers' configuration tests need as root: file ownership and
    # permissions (key files, log files nginx -t opens), identities (apache2 -t), resource limits
    # (haproxy -c), another process's mounts (/proc/PID/mountinfo). No CAP_SYS_ADMIN, no network admin.
    ('CapabilityBoundingSet', 'CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_SETUID CAP_SETGID '
                              'CAP_SYS_RESOURCE CAP_SYS_PTRACE CAP_KILL CAP_NET_BIND_SERVICE'),
]


def runtime_sources():
    """{relative path: bytes} of the Python package the units run, taken from the
    very module_utils this code was loaded with (one source of truth)."""
    files = {}
    parts = PACKAGE.split('.')
    for i in range(1, len(parts) + 1):
        files[os.path.join(*(parts[:i] + ['__init__.py']))] = b''
    for name in RUNTIME_MODULES:
        full = '%s.%s' % (PACKAGE, name)
        module = importlib.import_module(full)
        source = module.__loader__.get_source(full)
        if source is None:
            raise ResumptionError('cannot read the source of %s' % full)
        files[os.path.join(*(parts + ['%s.py' % name]))] = source.encode('utf-8')
    files[LAUNCHER] = (
        '#!/usr/bin/python3 -I\n'
        '# Managed by hardened_tls.resumption: the rotation command of its systemd units.\n'
        'import sys\n'
        'sys.dont_write_bytecode = True\n'
        'sys.path.insert(0, %r)\n'
        'from %s._rotate_cli import main\n'
        'sys.exit(main())\n' % (LIB_DIR, PACKAGE)).encode('utf-8')
    return files


def unit_names(name):
    return {
        'rotate_service': 'hardened-tls-rotate-%s.service' % name,
        'timer': 'hardened-tls-rotate-%s.timer' % name,
        'boot_service': 'hardened-tls-ring-%s.service' % name,
    }


def ring_config(p):
    """The ring's configuration file (no secrets)."""
    if p.get('keys') == 'server':
        cfg = {
            'name': p['name'],
            'keys': 'server',
            'server': p['server'],
            'period': p['period'],
            'reload': p['reload'],
            'service': p['service'],
            'command': p.get('reload_command') or [],
        }
        if p.get('config_test'):
            cfg['config_test'] = p['config_test']
        if p.get('metrics_dir') is not None:
            cfg['metrics_dir'] = p['metrics_dir']
        return (json.dumps(cfg, indent=2, sort_keys=True) + '\n').encode('utf-8')
    cfg = {
        'name': p['name'],
        'store': p['store'],
        'server': p['server'],
        'key_size': p['key_size'],
        'size': p['size'],
        'period': p['period'],
        'reload': p['reload'],
        'service': p['service'],
        'command': p.get('reload_command') or [],
        'haproxy_socket': p.get('haproxy_socket'),
        'haproxy_ref': _ring.server_paths(p['store'], p['server'], p['size'])[0] if _servers.get(p['server']).pick_up == 'runtime-api' else None,
    }
    if p.get('config_test'):
        cfg['config_test'] = p['config_test']
    if p.get('group'):
        cfg['group'] = p['group']
    if p.get('metrics_dir') is not None:
        cfg['metrics_dir'] = p['metrics_dir']
    if p.get('fleet'):
        # Fleet mode (see _fleet): no secrets here either, only the clock.
        cfg['fleet'] = {'epoch': p.get('fleet_epoch') or 0, 'time_offset': p.get('time_offset') or 0}
    return (json.dumps(cfg, indent=2, sort_keys=True) + '\n').encode('utf-8')


def fleet_poll(period):
    """Seconds between two runs of a fleet ring's timer: the command is a no-op
    unless the generation changed, so a node picks a boundary up at most this
    late (well inside the one period of skew the ring absorbs)."""
    return max(1, min(60, period // 10))


def timer_settings(p):
    if p.get('fleet'):
        poll = fleet_poll(p['period'])
        return [('OnActiveSec', '1s'), ('OnUnitActiveSec', '%ds' % poll), ('AccuracySec', '1s')]
    return [('OnActiveSec', '%ds' % p['period']), ('OnUnitActiveSec', '%ds' % p['period']), ('AccuracySec', '1s')]


def units(p):
    names = unit_names(p['name'])
    conf = os.path.join(CONF_DIR, '%s.json' % p['name'])
    cmd = '%s --config %s' % (os.path.join(LIB_DIR, LAUNCHER), conf)
    service = p['service'] + '.service' if p['service'] and '.' not in p['service'] else p['service']
    common = [('UMask', '0077')] + SANDBOX
    timer = _systemd.render_unit([
        ('Unit', [('Description', 'Rotate the TLS ticket key ring %s every %d s' % (p['name'], p['period']))]),
        ('Timer', timer_settings(p) + [('Unit', names['rotate_service'])]),
        ('Install', [('WantedBy', 'timers.target')]),
    ])
    if p.get('keys') == 'server':
        # No ring, no store, no boot unit: the server makes its key when it starts.
        return {
            names['rotate_service']: _systemd.render_unit([
                ('Unit', [('Description', 'Give %s a new TLS ticket key (ring %s)' % (p['service'], p['name'])),
                          ('StartLimitIntervalSec', '0')]),
                ('Service', [('Type', 'oneshot'), ('ExecStart', '%s rotate' % cmd)] + common),
            ]),
            names['timer']: timer,
        }
    mount = _systemd.mount_unit_name(p['store'])
    boot_unit = [('Description', 'Create the TLS ticket key ring %s when its store is empty' % p['name']),
                 ('RequiresMountsFor', p['store']), ('After', mount), ('DefaultDependencies', 'no'),
                 ('After', 'local-fs.target'), ('Before', 'shutdown.target')]
    install = [('WantedBy', 'multi-user.target')]
    if service:
        boot_unit.append(('Before', service))
        install.append(('WantedBy', service))
    units = {
        names['boot_service']: _systemd.render_unit([
            ('Unit', boot_unit),
            ('Service', [('Type', 'oneshot'), ('RemainAfterExit', 'yes'), ('ExecStart', '%s ensure' % cmd)] + common),
            ('Install', install),
        ]),
        names['rotate_service']: _systemd.render_unit([
            # No start rate limit: a fleet ring's timer polls every 1 to 60 s and playbooks
            # start the unit too; systemd's default (5 starts in 10 s) refuses a start beyond
            # that (start-limit-hit), and the rotation it asked for does not happen.
            ('Unit', [('Description', 'Rotate the TLS ticket key ring %s' % p['name']),
                      ('RequiresMountsFor', p['store']), ('After', names['boot_service']),
                      ('StartLimitIntervalSec', '0')]),
            ('Service', [('Type', 'oneshot'), ('ExecStart', '%s rotate' % cmd)] + common),
        ]),
        names['timer']: timer,
    }
    dropin = start_dropin(p, cmd, service)
    if dropin:
        units[dropin_name(p, service)] = dropin
    return units


def dropin_name(p, service=None):
    """Relative path of the server unit's drop-in of a ring (see start_dropin)."""
    service = service or (p['service'] + '.service' if '.' not in p['service'] else p['service'])
    return os.path.join(service + '.d', 'hardened-tls-%s.conf' % p['name'])


def start_dropin(p, cmd, service):
    """A drop-in for the server's unit when it keeps only the keys it loaded (_servers
    start_render: lighttpd): before it starts, its file shows the key that encrypts now;
    once it has read that file, the next key is handed over again; its reload does the same around its own
    steps. '+' runs them outside the unit's sandbox, as root; '-' lets the server start (and serve)
    even if they fail: it then has only the next key until that key's time comes. None for other servers."""
    srv = _servers.get(p['server'])
    if srv.start_render is None or not service:
        return None
    reload_steps = [('ExecReload', '')]
    reload_steps.append(('ExecReload', '-+%s server-start' % cmd))
    reload_steps += [('ExecReload', ' '.join(step)) for step in srv.reload_steps]
    reload_steps.append(('ExecReload', '-+%s server-reloaded' % cmd))
    return _systemd.render_unit([
        ('Unit', [('RequiresMountsFor', p['store'])]),
        ('Service', [('ExecStartPre', '-+%s server-start' % cmd), ('ExecStartPost', '-+%s server-started' % cmd)] + reload_steps),
    ])


def check_unit_values(p):
    if p.get('service') is not None:
        _systemd.check_service_name(p['service'])
    if p.get('store') is not None:
        _systemd.check_unit_path(p['store'], 'store')


def check_params(p):
    _systemd.check_name(p['name'])
    check_unit_values(p)
    check_period(p['period'])
    if p['reload'] not in _reload.METHODS:
        raise ResumptionError('reload must be one of %s, got %r' % (', '.join(_reload.METHODS), p['reload']))
    if p['reload'] == 'command' and not p.get('reload_command'):
        raise ResumptionError('reload=command needs reload_command (an argument list)')
    keys = p.get('keys') or 'ring'
    if keys not in KEY_SOURCES:
        raise ResumptionError('keys must be one of %s, got %r' % (', '.join(KEY_SOURCES), keys))
    if keys == 'server':
        if p['reload'] not in SERVER_KEY_RELOADS:
            raise ResumptionError('keys=server needs a reload that gives the server a new key (%s), got reload=%s'
                                  % (' or '.join(SERVER_KEY_RELOADS), p['reload']))
        if p.get('fleet'):
            raise ResumptionError('keys=server cannot be shared by a fleet: each server makes its own key')
        return
    srv = _ring.check_spec(p['server'], p['key_size'], p['size'], p['period'])
    if p.get('group') and srv.file_reader != 'group':
        raise ResumptionError('group is for a server that reads its key file as a group (%s); %s reads its key files as root'
                              % (', '.join(n for n in _servers.NAMES if _servers.get(n).file_reader == 'group'), p['server']))
    if p.get('group'):
        _fs.resolve_ids(None, p['group'])
    if not p.get('store'):
        raise ResumptionError('store is required unless keys=server')
    if not os.path.isabs(p['store']):
        raise ResumptionError('store must be an absolute path, got %r' % (p['store'],))
    if p.get('fleet'):
        fleet_epoch = p.get('fleet_epoch') or 0
        if not isinstance(fleet_epoch, int) or isinstance(fleet_epoch, bool) or fleet_epoch < 0:
            raise ResumptionError('fleet_epoch must be seconds since 1970 (0 or more), got %r' % (fleet_epoch,))
        if p['size'] < 3:
            raise ResumptionError('size must be at least 3 with fleet (previous, current and next keys)')


# ---------------------------------------------------------------- what the module does

def install(p, systemctl, check_mode):
    """Write the runtime copy, the ring's configuration and the units; enable and start them.
    Returns the list of changes (nothing written in check mode)."""
    changes = []
    for rel, data in sorted(runtime_sources().items()):
        path = os.path.join(LIB_DIR, rel)
        if not check_mode and not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path), 0o755)
        mode = 0o755 if rel == LAUNCHER else 0o644
        if _fs.write_if_changed(path, data, mode=mode, check_mode=check_mode) and 'runtime' not in changes:
            changes.append('runtime')
    conf = os.path.join(CONF_DIR, '%s.json' % p['name'])
    if not check_mode and not os.path.isdir(CONF_DIR):
        os.makedirs(CONF_DIR, 0o755)
    if _fs.write_if_changed(conf, ring_config(p), mode=0o644, check_mode=check_mode):
        changes.append('config')
    units_changed = False
    for unit, data in sorted(units(p).items()):
        path = os.path.join(_systemd.UNIT_DIR, unit)
        if not check_mode and not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path), 0o755)
        if _fs.write_if_changed(path, data, mode=0o644, check_mode=check_mode):
            units_changed = True
    names = unit_names(p['name'])
    if units_changed:
        changes.append('units')
        if not check_mode:
            systemctl.daemon_reload()
    wanted = units(p)
    for unit in (names['boot_service'], names['rotate_service']):
        # A unit the other key source had (the boot unit of a ring): stopped and removed.
        if unit not in wanted and os.path.exists(os.path.join(_systemd.UNIT_DIR, unit)):
            changes.append('%s removed' % unit)
            if not check_mode:
                systemctl('disable', '--now', unit, check=False)
                os.unlink(os.path.join(_systemd.UNIT_DIR, unit))
                systemctl.daemon_reload()
    for unit in (names['boot_service'], names['timer']):
        if unit not in wanted:
            continue
        if units_changed or not systemctl.is_enabled(unit):
            if not systemctl.is_enabled(unit):
                changes.append('%s enabled' % unit)
            if not check_mode:
                systemctl('reenable', unit)
    if names['boot_service'] in wanted and not systemctl.is_active(names['boot_service']):
        changes.append('%s started' % names['boot_service'])
        if not check_mode:
            systemctl('start', names['boot_service'])
    if not systemctl.is_active(names['timer']):
        changes.append('%s started' % names['timer'])
        if not check_mode:
            systemctl('start', names['timer'])
    elif units_changed:
        changes.append('%s restarted' % names['timer'])
        if not check_mode:
            systemctl('restart', names['timer'])
    return changes


def remove(p, systemctl, check_mode):
    """Stop and remove the units, the drop-in, the configuration and the state. Returns the changes."""
    changes = []
    names = unit_names(p['name'])
    for unit in (names['timer'], names['rotate_service'], names['boot_service']):
        path = os.path.join(_systemd.UNIT_DIR, unit)
        if os.path.exists(path):
            changes.append('%s removed' % unit)
            if not check_mode:
                systemctl('disable', '--now', unit, check=False)
                os.unlink(path)
    if p.get('service'):
        dropin = os.path.join(_systemd.UNIT_DIR, dropin_name(p))
        if os.path.exists(dropin):
            changes.append('%s removed' % dropin_name(p))
            if not check_mode:
                os.unlink(dropin)
                systemctl.daemon_reload()
    conf = os.path.join(CONF_DIR, '%s.json' % p['name'])
    if os.path.exists(conf):
        changes.append('config removed')
        if not check_mode:
            os.unlink(conf)
    state = os.path.join(_rotate_cli.STATE_DIR, '%s.json' % p['name'])
    if os.path.lexists(state):
        changes.append('state removed')
        if not check_mode:
            os.unlink(state)
    if changes and not check_mode:
        systemctl.daemon_reload()
    return changes
