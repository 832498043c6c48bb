# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of hardened_tls.resumption.fleet_ring: refuses to send a seed,
a reseed or a sealed state unless the module and its arguments travel over the
connection's standard input (pipelining). Without pipelining, Ansible writes
the module with its arguments to the target's remote temporary directory, on
disk, and the secret would outlive the run there."""

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


def pipelining_in_effect(connection, async_val):
    return bool(connection.is_pipelining_enabled(wrap_async=bool(async_val)) and not async_val)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        secrets = secret_options(self._task.args)
        if secrets and not pipelining_in_effect(self._connection, self._task.async_val):
            result.update(failed=True, changed=False,
                          msg=REFUSAL % (', '.join(secrets), task_vars.get('inventory_hostname', 'the target')))
            return result
        result.update(self._execute_module(module_name='hardened_tls.resumption.fleet_ring',
                                           module_args=self._task.args, task_vars=task_vars))
        return result
