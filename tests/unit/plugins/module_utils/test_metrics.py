# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import io
import json
import os
import re
import stat

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _metrics
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _rotate_cli

NOW = 1700000000
LINE = re.compile(r'^hardened_tls_resumption_[a-z_]+\{([a-z_]+="[^"]*",?)+\} -?[0-9.e+]+$')


def parse(text):
    """{metric name: [(labels dict, value)]} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith('#'):
            continue
        assert LINE.match(line), line
        name, rest = line.split('{', 1)
        labels, value = rest.rsplit('} ', 1)
        out.setdefault(name, []).append((dict(re.findall(r'([a-z_]+)="([^"]*)"', labels)), float(value)))
    return out


def test_render_follows_the_text_format():
    text = _metrics.render({'period_seconds': 20, 'ring_generation': 7, 'store_swappable': False, 'fleet_wall_generation': None},
                           'web', 'nginx', key_name='ab' * 16).decode()
    metrics = parse(text)
    assert metrics['hardened_tls_resumption_period_seconds'] == [({'ring': 'web', 'server': 'nginx'}, 20.0)]
    assert metrics['hardened_tls_resumption_store_swappable'][0][1] == 0.0
    assert metrics['hardened_tls_resumption_current_key_info'] == [({'ring': 'web', 'server': 'nginx', 'key_name': 'ab' * 16}, 1.0)]
    assert 'fleet_wall_generation' not in text          # None: left out, with its HELP and TYPE
    # Every sample has its HELP and TYPE right before it, counters end in _total, times in _seconds.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith('#'):
            name = line.split('{')[0]
            assert lines[i - 2] .startswith('# HELP %s ' % name) and lines[i - 1].startswith('# TYPE %s ' % name)
    for name, kind, dummy in _metrics.METRICS:
        assert (kind == 'counter') == name.endswith('_total')
        assert 'time' not in name or name.endswith('_timestamp_seconds')


def test_ring_values_oldest_key_and_pickup():
    ring = _ring.new_ring('nginx', 80, 3, NOW - 40, period=None)     # every member made 40 s ago
    values = _metrics.ring_values(ring, {'picked_up_generation': ring.generation, 'picked_up_at': NOW - 40}, 20, NOW)
    assert values['oldest_key_age_seconds'] == 40 and values['pickup_generations_behind'] == 0
    assert values['current_key_start_timestamp_seconds'] == NOW - 40 == values['last_rotation_timestamp_seconds']
    # The server is two generations behind: the oldest key it may hold was made two periods earlier.
    behind = _metrics.ring_values(ring, {'picked_up_generation': ring.generation - 2, 'picked_up_at': NOW - 80}, 20, NOW)
    assert behind['pickup_generations_behind'] == 2 and behind['oldest_key_age_seconds'] == 80
    assert behind['last_pickup_timestamp_seconds'] == NOW - 80


def test_server_made_keys():
    values = _metrics.server_key_values({'generation': 3, 'rotated_at': NOW - 5, 'rotations': 3}, 20, NOW)
    assert values['ring_generation'] == 3 and values['oldest_key_age_seconds'] == 5 and values['rotations_total'] == 3
    assert 'ring_generation' in _metrics.server_key_values({}, 20, NOW) and 'oldest_key_age_seconds' not in _metrics.server_key_values({}, 20, NOW)


def test_the_rotation_command_writes_the_file_without_a_key_byte(shm_store, tmp_path, monkeypatch):
    metrics_dir = tmp_path / 'textfile'
    metrics_dir.mkdir()
    cfg = {'name': 'web', 'store': shm_store, 'server': 'nginx', 'key_size': 80, 'size': 3, 'period': 20, 'reload': 'none',
           'service': 'nginx', 'command': [], 'metrics_dir': str(metrics_dir)}
    conf = tmp_path / 'web.json'
    conf.write_text(json.dumps(cfg))
    for action in ('ensure', 'rotate', 'rotate'):
        assert _rotate_cli.main(['--config', str(conf), action], out=io.StringIO()) == 0
    path = metrics_dir / 'hardened_tls_resumption_web.prom'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    text = path.read_text()
    metrics = parse(text)
    ring = _ring.load(shm_store)
    assert metrics['hardened_tls_resumption_rotations_total'][0][1] == 2
    assert metrics['hardened_tls_resumption_failures_total'][0][1] == 0
    assert metrics['hardened_tls_resumption_ring_generation'][0][1] == ring.generation
    assert metrics['hardened_tls_resumption_current_key_info'][0][0]['key_name'] == ring.current.key.name_hex
    assert 'hardened_tls_resumption_store_swappable' not in metrics      # the test store is not a mount of its own
    assert not [f for f in os.listdir(str(metrics_dir)) if not f.endswith('.prom')]    # no temporary file left
    for m in ring.members:
        for secret in (m.key.aes, m.key.hmac):
            for form in (binascii.hexlify(secret).decode(), base64.b64encode(secret).decode()):
                assert form not in text and form.upper() not in text
    # A failed run is counted, and the file still says when the command last ran.
    cfg['store'] = str(tmp_path / 'not-a-store')
    conf.write_text(json.dumps(cfg))
    assert _rotate_cli.main(['--config', str(conf), 'rotate'], out=io.StringIO()) == 1
    cfg['store'] = shm_store
    conf.write_text(json.dumps(cfg))
    assert _rotate_cli.main(['--config', str(conf), 'status'], out=io.StringIO()) == 0
    assert parse(path.read_text())['hardened_tls_resumption_failures_total'][0][1] == 1


def test_no_directory_no_file_and_an_empty_setting_turns_it_off(shm_store, tmp_path):
    cfg = {'name': 'web', 'store': shm_store, 'server': 'nginx', 'key_size': 80, 'size': 3, 'period': 20, 'reload': 'none',
           'service': 'nginx', 'command': [], 'metrics_dir': str(tmp_path / 'missing')}
    _rotate_cli.act(cfg, 'ensure', now=NOW)
    assert _rotate_cli.report_metrics(cfg, 'ensure', {'action': 'created'}, now=NOW) is None
    assert not os.path.exists(str(tmp_path / 'missing'))
    cfg['metrics_dir'] = ''
    assert _rotate_cli.report_metrics(cfg, 'ensure', {'action': 'created'}, now=NOW) is None


def test_a_store_that_can_swap_says_so(shm_store, tmp_path):
    metrics_dir = tmp_path / 'textfile'
    metrics_dir.mkdir()
    cfg = {'name': 'web', 'store': shm_store, 'server': 'nginx', 'key_size': 80, 'size': 3, 'period': 20, 'reload': 'none',
           'service': 'nginx', 'command': [], 'metrics_dir': str(metrics_dir)}
    _rotate_cli.act(cfg, 'ensure', now=NOW)
    for options, swappable in (('rw,size=1024k,mode=700', 1.0), ('rw,size=1024k,mode=700,noswap', 0.0)):
        mountinfo = tmp_path / 'mountinfo'
        mountinfo.write_text('36 25 0:44 / %s rw,nosuid,nodev,noexec - tmpfs tmpfs %s\n' % (shm_store, options))
        path = _rotate_cli.report_metrics(cfg, 'rotate', {'action': 'none'}, now=NOW, mountinfo=str(mountinfo))
        assert parse(open(path).read())['hardened_tls_resumption_store_swappable'][0][1] == swappable
