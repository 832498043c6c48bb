# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.hardened_tls.resumption.plugins.action import fleet_ring


class FakeConnection(object):
    def __init__(self, enabled):
        self.enabled = enabled
        self.asked = []

    def is_pipelining_enabled(self, wrap_async=False):
        self.asked.append(wrap_async)
        return self.enabled and not wrap_async


class FakeTask(object):
    def __init__(self, args, async_val=0):
        self.args = args
        self.async_val = async_val


def make(args, enabled, async_val=0):
    plugin = fleet_ring.ActionModule.__new__(fleet_ring.ActionModule)
    plugin._connection = FakeConnection(enabled)
    plugin._task = FakeTask(args, async_val)
    plugin.executed = []

    def execute(module_name=None, module_args=None, task_vars=None):
        plugin.executed.append((module_name, module_args))
        return {'changed': False, 'action': 'none'}
    plugin._execute_module = execute
    return plugin


@pytest.fixture(autouse=True)
def no_base_run(monkeypatch):
    monkeypatch.setattr(fleet_ring.ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})


@pytest.mark.parametrize('option', ['seed', 'reseed', 'sealed'])
def test_refuses_secret_without_pipelining(option):
    plugin = make({'path': '/run/x', option: 'c2VjcmV0'}, enabled=False)
    result = plugin.run(task_vars={'inventory_hostname': 'node1'})
    assert result['failed'] and not result['changed']
    assert 'pipelining' in result['msg'] and option in result['msg'] and 'node1' in result['msg']
    assert 'remote temporary directory' in result['msg']
    assert 'c2VjcmV0' not in result['msg']
    assert plugin.executed == []


def test_refuses_async_even_with_pipelining():
    plugin = make({'seed': 'c2VjcmV0'}, enabled=True, async_val=30)
    assert plugin.run(task_vars={})['failed']
    assert plugin.executed == []


def test_sends_secret_with_pipelining():
    plugin = make({'seed': 'c2VjcmV0', 'seed_generation': 3}, enabled=True)
    result = plugin.run(task_vars={})
    assert not result.get('failed')
    assert plugin.executed == [('hardened_tls.resumption.fleet_ring', {'seed': 'c2VjcmV0', 'seed_generation': 3})]


@pytest.mark.parametrize('args', [{'state': 'status'}, {'seed': None, 'reseed': ''}, {'export_to': {'a': 'x'}}])
def test_no_secret_runs_without_pipelining(args):
    plugin = make(args, enabled=False)
    assert not plugin.run(task_vars={}).get('failed')
    assert len(plugin.executed) == 1
