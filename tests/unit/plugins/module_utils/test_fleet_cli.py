# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet mode of the timer's command and of the timer's files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import io
import json

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _rotate_cli
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _systemd
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _timer

NOW = 1700000000
SEED = base64.b64encode(b'\x05' * 32).decode('ascii')


def cfg(store, **kw):
    c = {'name': 'web', 'store': store, 'server': 'nginx', 'key_size': 80, 'size': 3, 'period': 20,
         'reload': 'none', 'service': 'nginx', 'command': [], 'haproxy_socket': None, 'haproxy_ref': None,
         'fleet': {'epoch': 0, 'time_offset': 0}}
    c.update(kw)
    return c


def test_ensure_makes_a_local_ring_then_rotate_follows_the_clock(shm_store, fake_runner):
    runner = fake_runner()
    r = _rotate_cli.act(cfg(shm_store), 'ensure', runner, now=NOW)
    assert r['action'] == 'created' and r['origin'] == 'local' and r['generation'] == 85000000
    assert _rotate_cli.act(cfg(shm_store), 'rotate', runner, now=NOW + 10)['action'] == 'none'
    assert _rotate_cli.act(cfg(shm_store), 'rotate', runner, now=NOW + 20)['action'] == 'rotated'


def test_rotate_a_fleet_ring_reloads_only_on_a_new_generation(shm_store, fake_runner):
    spec = _fleet.Spec('nginx', 80, 3, 0, 20)
    _fleet.seed(shm_store, spec, SEED, 84999990, now=NOW)
    runner = fake_runner({('systemctl', 'is-active'): (0, 'active\n', '')})
    c = cfg(shm_store, reload='nginx')
    assert _rotate_cli.act(c, 'rotate', runner, now=NOW + 5)['pick_up'] == 'none'
    assert runner.called('systemctl', 'reload') == []
    r = _rotate_cli.act(c, 'rotate', runner, now=NOW + 21)
    assert r['action'] == 'rotated' and r['origin'] == 'fleet' and r['pick_up'] == 'reload'
    assert runner.called('nginx', '-t', '-q') and runner.called('systemctl', 'reload')
    st = _rotate_cli.act(c, 'status', runner, now=NOW + 21)
    assert st['fleet']['origin'] == 'fleet' and st['ring']['generation'] == 85000001
    assert st['ring']['fleet']['state_generation'] == 85000000
    assert 'chain' in st['fleet']


def test_time_offset_from_the_config(shm_store, fake_runner):
    r = _rotate_cli.act(cfg(shm_store, fleet={'epoch': 0, 'time_offset': 45}), 'ensure', fake_runner(), now=NOW)
    assert r['generation'] == 85000002


def test_main_status_prints_names_only(shm_store, tmp_path):
    spec = _fleet.Spec('nginx', 80, 3, 0, 20)
    _fleet.seed(shm_store, spec, SEED, spec.generation() - 2)
    p = tmp_path / 'web.json'
    p.write_text(json.dumps(cfg(shm_store)))
    buf = io.StringIO()
    assert _rotate_cli.main(['--config', str(p), 'status'], out=buf) == 0
    out = json.loads(buf.getvalue())
    assert out['fleet']['origin'] == 'fleet'
    assert SEED not in json.dumps(out)


def params(**kw):
    p = {'name': 'web', 'store': '/run/hardened-tls/web', 'server': 'nginx', 'key_size': 80, 'size': 3,
         'period': 20, 'reload': 'nginx', 'service': 'nginx', 'reload_command': None, 'haproxy_socket': None,
         'config_test': None, 'fleet': True, 'fleet_epoch': 0, 'time_offset': 0}
    p.update(kw)
    return p


@pytest.mark.parametrize('period, poll', [(10, 1), (20, 2), (300, 30), (43200, 60)])
def test_fleet_timer_polls(period, poll):
    assert _timer.fleet_poll(period) == poll
    timer = _timer.units(params(period=period))['hardened-tls-rotate-web.timer'].decode()
    assert 'OnUnitActiveSec=%ds' % poll in timer and 'OnActiveSec=1s' in timer


def test_fleet_config_and_runtime():
    c = json.loads(_timer.ring_config(params(fleet_epoch=1700000000, time_offset=-3)).decode())
    assert c['fleet'] == {'epoch': 1700000000, 'time_offset': -3}
    assert 'fleet' not in json.loads(_timer.ring_config(params(fleet=False)).decode())
    assert any(k.endswith('/_fleet.py') for k in _timer.runtime_sources())


def test_non_fleet_timer_unchanged():
    timer = _timer.units(params(fleet=False, period=300))['hardened-tls-rotate-web.timer'].decode()
    assert 'OnActiveSec=300s' in timer and 'OnUnitActiveSec=300s' in timer


@pytest.mark.parametrize('kw, msg', [(dict(size=2), 'at least 3'), (dict(fleet_epoch=-5), 'fleet_epoch')])
def test_fleet_params_refused(kw, msg):
    from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
    with pytest.raises(ResumptionError, match=msg):
        _timer.check_params(params(**kw))
    assert _systemd  # imported for the unit names' module
