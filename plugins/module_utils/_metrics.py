# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rotation health in the Prometheus text format, for node_exporter's textfile
collector (docs/metrics.md). Pure rendering: the rotation command gathers the
figures (ring, server state, store) and writes the file. Names, generations
and times only, never a key byte: the current key's name is public."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

PREFIX = 'hardened_tls_resumption_'
# Debian's prometheus-node-exporter reads *.prom files here (--collector.textfile.directory).
DEFAULT_DIR = '/var/lib/prometheus/node-exporter'

# name, type, help
METRICS = (
    ('period_seconds', 'gauge', 'Seconds each ticket key encrypts.'),
    ('ring_generation', 'gauge', 'Generation of the current ticket key.'),
    ('current_key_info', 'gauge', 'The current ticket key (its name is public: every client sees it).'),
    ('current_key_start_timestamp_seconds', 'gauge', 'When the current key started encrypting.'),
    ('last_rotation_timestamp_seconds', 'gauge', 'When a run last moved the ring forward.'),
    ('last_run_timestamp_seconds', 'gauge', 'When the rotation command last ran.'),
    ('last_pickup_timestamp_seconds', 'gauge', 'When the server last took the ring\'s keys (0: not seen).'),
    ('pickup_generations_behind', 'gauge', 'Ring generation minus the generation the server last took.'),
    ('oldest_key_age_seconds', 'gauge', 'Age of the oldest key the server may still hold in memory.'),
    ('rotations_total', 'counter', 'Runs that moved the ring forward (since boot).'),
    ('failures_total', 'counter', 'Runs that failed (since boot).'),
    ('store_swappable', 'gauge', '1 when the key store\'s pages can reach swap.'),
    ('fleet_wall_generation', 'gauge', 'Fleet mode: the generation of this node\'s clock.'),
)


def file_name(ring_name):
    return '%s%s.prom' % (PREFIX, ring_name)


def _escape(value):
    return str(value).replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


def _labels(labels):
    return '{%s}' % ','.join('%s="%s"' % (k, _escape(v)) for k, v in sorted(labels.items()))


def _number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render(values, ring, server, key_name=None):
    """The file's text. values: {metric (without the prefix): number or None}; a metric
    that is None or missing is left out (with its HELP and TYPE)."""
    labels = {'ring': ring, 'server': server}
    lines = []
    for name, kind, text in METRICS:
        if name == 'current_key_info':
            if not key_name:
                continue
            value, series = 1, dict(labels, key_name=key_name)
        else:
            value, series = values.get(name), labels
            if value is None:
                continue
        lines.append('# HELP %s%s %s' % (PREFIX, name, text))
        lines.append('# TYPE %s%s %s' % (PREFIX, name, kind))
        lines.append('%s%s%s %s' % (PREFIX, name, _labels(series), _number(value)))
    return ('\n'.join(lines) + '\n').encode('utf-8')


def ring_values(ring, state, period, now, swappable=None, wall_generation=None):
    """The figures of a ring of keys (ring: _ring.Ring or None; state: the rotation's
    record of the server, see _rotate_cli)."""
    values = {
        'period_seconds': period,
        'last_run_timestamp_seconds': state.get('last_run_at', now),
        'rotations_total': int(state.get('rotations', 0)),
        'failures_total': int(state.get('failures', 0)),
        'store_swappable': None if swappable is None else bool(swappable),
        'fleet_wall_generation': wall_generation,
        'last_pickup_timestamp_seconds': int(state.get('picked_up_at', 0)),
    }
    if ring is None:
        return values
    behind = 0
    if state.get('picked_up_generation') is not None:
        behind = max(0, ring.generation - int(state['picked_up_generation']))
    # The oldest key the server may hold: the ring's oldest member, or, when the server is behind,
    # the oldest member of the ring it last took (made `behind` periods before).
    oldest = min(m.created for m in ring.members) - behind * period
    values.update({
        'ring_generation': ring.generation,
        'current_key_start_timestamp_seconds': int(ring.rotated_at),
        'last_rotation_timestamp_seconds': int(ring.rotated_at),
        'pickup_generations_behind': behind,
        'oldest_key_age_seconds': max(0, int(now - oldest)),
    })
    return values


def server_key_values(state, period, now):
    """The figures of a ring whose server makes its own key at each reload (keys: server):
    the key it holds was made by the last reload."""
    rotated = state.get('rotated_at')
    values = {
        'period_seconds': period,
        'ring_generation': int(state.get('generation', 0)),
        'last_run_timestamp_seconds': state.get('last_run_at', now),
        'rotations_total': int(state.get('rotations', 0)),
        'failures_total': int(state.get('failures', 0)),
        'last_pickup_timestamp_seconds': int(rotated or 0),
        'pickup_generations_behind': 0,
    }
    if rotated is not None:
        values.update({
            'current_key_start_timestamp_seconds': int(rotated),
            'last_rotation_timestamp_seconds': int(rotated),
            'oldest_key_age_seconds': max(0, int(now - rotated)),
        })
    return values
