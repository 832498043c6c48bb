# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of hardened_tls.resumption.fleet_ring: refuses to send a seed,
a reseed or a sealed state unless the module and its arguments travel over the
connection's standard input (pipelining). Without pipelining, Ansible writes
the module with its arguments to the target's remote temporary directory, on
disk, and the secret would outlive the run there.

The secret options are no_log in the module's argument spec, so a failure
prints its reason with the secrets masked. The one secret the module returns,
the state sealed to joining nodes (O(export_to)), is censored here: a result
that carries it is marked no_log, whatever the task says, so tasks need no
no_log of their own and a failed run says why."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

SECRET_OPTIONS = ('seed', 'reseed', 'sealed')

REFUSAL = (
    'fleet_ring refuses to send %s to %s: pipelining is not in effect for this connection, so the module and its '
    'arguments would be written to the remote temporary directory on the target\'s disk. Turn pipelining on '
    '(ANSIBLE_PIPELINING=True, or pipelining = True in the [connection] section of ansible.cfg, or the '
    'ansible_pipelining variable), use a connection that supports it, do not run the task with async, and do not '
    'set ANSIBLE_KEEP_REMOTE_FILES. Nothing was sent.')


def secret_options(args):
    return [k for k in SECRET_OPTIONS if args.get(k) not in (None, '')]


def pipelining_in_effect(action, async_val):
    """Ansible's own decision for this task (new-style module): ActionBase._is_pipelining_enabled exists from
    ansible-core 2.16 on; 2.19 moved the conditions to the connection (Connection.is_pipelining_enabled, which 2.16
    to 2.18 do not have) and asks it from there."""
    return bool(action._is_pipelining_enabled('new', wrap_async=bool(async_val)) and not async_val)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        secrets = secret_options(self._task.args)
        if secrets and not pipelining_in_effect(self, self._task.async_val):
            result.update(failed=True, changed=False,
                          msg=REFUSAL % (', '.join(secrets), task_vars.get('inventory_hostname', 'the target')))
            return result
        result.update(self._execute_module(module_name='hardened_tls.resumption.fleet_ring',
                                           module_args=self._task.args, task_vars=task_vars))
        if 'sealed' in result:
            # Sealed states: kept in the registered result (the joining node's task
            # sends it back), never shown by a callback or written to a log.
            result['_ansible_no_log'] = True
        return result
