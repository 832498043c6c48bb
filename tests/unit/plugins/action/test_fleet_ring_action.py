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


def make(args, enabled, async_val=0, returns=None):
    plugin = fleet_ring.ActionModule.__new__(fleet_ring.ActionModule)
    plugin._connection = FakeConnection(enabled)
    plugin._task = FakeTask(args, async_val)
    # ActionBase's decision, asked with the connection's answer (2.19 asks the connection the same way)
    plugin._is_pipelining_enabled = lambda module_style, wrap_async=False: (
        module_style == 'new' and plugin._connection.is_pipelining_enabled(wrap_async=wrap_async))
    plugin.executed = []

    def execute(module_name=None, module_args=None, task_vars=None):
        plugin.executed.append((module_name, module_args))
        return dict(returns or {'changed': False, 'action': 'none'})
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


def test_a_result_with_sealed_states_is_censored():
    plugin = make({'export_to': {'node2': 'cHVi'}}, enabled=True,
                  returns={'changed': False, 'sealed': {'node2': 'c2VhbGVk'}, 'generation': 5})
    result = plugin.run(task_vars={})
    assert result['_ansible_no_log'] is True
    # still registered for the joining node's task
    assert result['sealed'] == {'node2': 'c2VhbGVk'}


@pytest.mark.parametrize('returns', [
    {'changed': True, 'action': 'seeded', 'generation': 5},
    {'failed': True, 'msg': 'the fleet ratchet state is damaged'},
])
def test_other_results_are_shown(returns):
    """Seeds and reseeds are masked by the argument spec (no_log), so a failure's reason shows."""
    plugin = make({'seed': 'c2VjcmV0'}, enabled=True, returns=returns)
    result = plugin.run(task_vars={})
    assert '_ansible_no_log' not in result
    assert result.get('msg') == returns.get('msg')


@pytest.mark.parametrize('enabled', [True, False])
def test_asks_the_real_decision_of_this_ansible_core(enabled):
    """No fake here: ansible-core's own ssh connection plugin and ActionBase's decision, as on every version the
    matrix runs (2.16 to 2.18 have no Connection.is_pipelining_enabled; 2.19 asks it from ActionBase)."""
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader

    play_context = PlayContext()
    connection = connection_loader.get('ssh', play_context, None)
    connection.set_options(direct={'pipelining': enabled})
    plugin = fleet_ring.ActionModule.__new__(fleet_ring.ActionModule)
    plugin._connection = connection
    plugin._play_context = play_context
    assert fleet_ring.pipelining_in_effect(plugin, 0) is enabled
    assert fleet_ring.pipelining_in_effect(plugin, 30) is False
