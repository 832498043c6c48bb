# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rings of a host, from the rotation command's status, findmnt and systemctl list-timers output. Controller only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_report import _results


def _json(value, what):
    """Parsed JSON from a registered command result, its stdout, or parsed data."""
    import json
    if isinstance(value, dict) and 'stdout' in value:
        value = value['stdout']
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise AnsibleFilterError('%s is not JSON: %s' % (what, text[:80]))
    return value


def _utc(usec):
    import datetime
    try:
        usec = int(usec)
    except (TypeError, ValueError):
        return None
    if usec <= 0:
        return None
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=usec)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def _mounts(findmnt):
    findmnt = _json(findmnt, 'findmnt output')
    out = []

    def walk(nodes):
        for n in nodes or []:
            out.append(n)
            walk(n.get('children'))
    walk((findmnt or {}).get('filesystems'))
    return out


def resumption_ring_state(status, findmnt=None, timers=None):
    """Rings of one host from `hardened-tls-ring --config F status` results (looped over the config files),
    `findmnt -J -o TARGET,FSTYPE,OPTIONS` output, and `systemctl list-timers --all -o json` of the rotation timers."""
    import json
    mounts = _mounts(findmnt)
    units = dict((t.get('unit'), t) for t in (_json(timers, 'systemctl list-timers output') or []) if isinstance(t, dict))
    rings = []
    for res in _results(status, 'status'):
        if res.get('failed') or res.get('skipped'):
            continue
        try:
            doc = json.loads(res.get('stdout') or '{}') or {}
            ring, fleet = doc.get('ring'), doc.get('fleet')
        except (ValueError, AttributeError):
            raise AnsibleFilterError('ring status of %s is not JSON' % res.get('item'))
        if not ring:
            continue
        conf = to_text(res.get('item') or '')
        name = conf.rsplit('/', 1)[-1]
        if name.endswith('.json'):
            name = name[:-5]
        entry = {
            'name': name,
            'server': ring.get('server'),
            'store': ring.get('store'),
            'generation': ring.get('generation'),
            'current_key_name': ring.get('current_key_name'),
            'rotated_at': ring.get('rotated_at'),
            'size': ring.get('size'),
            'fleet': bool(ring.get('fleet')),
            'keys': ring.get('keys') or 'ring',
            'fstype': None, 'noswap': None, 'mount_options': None,
            'timer': None, 'next_rotation': None,
        }
        if isinstance(fleet, dict) and fleet.get('period'):
            entry['fleet'] = entry['fleet'] or fleet.get('origin') == 'fleet'
            entry['fleet_epoch'] = fleet.get('epoch')
            entry['fleet_period'] = fleet.get('period')
        for m in mounts:
            if m.get('target') == ring.get('store'):
                opts = (m.get('options') or '').split(',')
                entry['fstype'] = m.get('fstype')
                entry['noswap'] = 'noswap' in opts
                entry['mount_options'] = m.get('options')
        unit = units.get('hardened-tls-rotate-%s.timer' % name)
        if unit:
            entry['next_rotation'] = _utc(unit.get('next'))
            entry['timer'] = 'scheduled' if entry['next_rotation'] else 'not scheduled'
        elif units or timers is not None:
            entry['timer'] = 'none'
        if isinstance(fleet, dict) and fleet.get('period'):
            # A fleet rotates at the boundaries of its schedule, the same instant on
            # every node: epoch + g * period (the timer only wakes up near them).
            try:
                entry['next_rotation'] = _utc(int(fleet['next_boundary']) * 1000000) or entry['next_rotation']
            except (KeyError, TypeError, ValueError):
                pass
        rings.append(entry)
    return rings


# ----------------------------------------------------------------- table
