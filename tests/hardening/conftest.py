# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the hardening proofs. Run by molecule/hardening/verify.yml with
the scenario's containers up (HARDENING_* variables); skipped otherwise."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import tempfile
import time

import pytest

import hardening_lib as hl

REPORT = []


def report(line):
    """A line of the closing report (counts and results, never key bytes)."""
    REPORT.append(line)
    print('HARDENING %s' % line)


class Context(object):
    def __init__(self):
        self.hosts = [h for h in os.environ['HARDENING_HOSTS'].split(',') if h]
        self.inventory = os.environ['HARDENING_INVENTORY']
        self.ssh_key = os.environ['HARDENING_SSH_KEY']
        self.period = int(os.environ.get('HARDENING_PERIOD', '10'))
        self.scenario = os.environ['HARDENING_SCENARIO_DIR']
        self.ephemeral = os.environ.get('HARDENING_EPHEMERAL_DIR') or tempfile.gettempdir()
        self.converge = os.path.join(self.scenario, 'converge.yml')
        self.playbooks = os.path.join(os.path.dirname(__file__), 'playbooks')
        self.extra_vars = {'nginx_resumption_install': True, 'nginx_resumption_period': self.period,
                           'haproxy_resumption_install': True, 'haproxy_resumption_period': self.period}
        self.outputs = []          # captured ansible -vvv output (bytes), searched by the forensics
        self.recorder = None
        self.fleet_ready = False
        self.docker_gens = None
        self.t_recorded = time.time()
        self.fleet_reseed_generation = None
        # The servers under load: (ring, port in the container); HAProxy beside nginx on 8443.
        self.servers = [('nginx', 443), ('haproxy', 8443)]

    def ssh_inventory(self):
        return hl.ssh_inventory(os.path.join(self.ephemeral, 'hardening-ssh-inventory.yml'), self.hosts, self.ssh_key)

    def playbook(self, name, inventory=None, extra=None, capture=True, **kw):
        ev = dict(self.extra_vars)
        ev.update(extra or {})
        p = hl.ansible_playbook(os.path.join(self.playbooks, name) if '/' not in name else name,
                                inventory or self.inventory, ev, **kw)
        if capture:
            self.outputs.append((name, p.stdout))
        return p


@pytest.fixture(scope='session')
def ctx():
    if 'HARDENING_HOSTS' not in os.environ:
        pytest.skip('run by molecule/hardening (molecule test -s hardening)')
    c = Context()
    c.recorder = hl.KeyRecorder(c.hosts).start()
    yield c
    c.recorder.stop()


def pytest_sessionfinish(session, exitstatus):
    if REPORT:
        print('\nHARDENING ===== report =====')
        for line in REPORT:
            print('HARDENING %s' % line)


def jdump(obj):
    return json.dumps(obj, sort_keys=True)
