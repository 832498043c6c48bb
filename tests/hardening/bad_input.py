# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Table of bad inputs for the roles and the modules, run through Ansible
against the containers. Each case must fail with a message naming the option
(or quoting the offending value) and change nothing: a listing of the stores,
the configs, the units, the mounts and nginx's workers is compared before and after."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import shlex

import hardening_lib as hl

NGINX = 'hardened_tls.resumption.nginx'
KEY_RING = 'hardened_tls.resumption.key_ring'
M = 'hardened_tls.resumption.'
PERSISTENT = '/var/lib/hardened-tls-bad'        # a directory on the container's disk (non-empty)
PERSISTENT_EMPTY = '/var/lib/hardened-tls-empty'  # an empty one
LINK = '/run/hardened-tls-link'                 # a symlink to the real store
AFILE = '/run/hardened-tls-file'                # a regular file
# Every ring the scenario converges (nginx on 443, HAProxy on 8443): their timers stop during the table.
TIMERS = ['hardened-tls-rotate-nginx.timer', 'hardened-tls-rotate-haproxy.timer']
RING_OK = {'path': '/run/hardened-tls/nginx', 'server': 'nginx'}
TIMER_OK = {'name': 'hardening-bad', 'store': '/run/hardened-tls/nginx', 'server': 'nginx', 'period': 60}

# (case, kind, target, arguments, words the message must hold: the option, or the offending value)
CASES = [
    ('nginx period 0', 'role', NGINX, {'nginx_resumption_period': 0}, ['nginx_resumption_period', '(got 0)']),
    ('nginx period negative', 'role', NGINX, {'nginx_resumption_period': -60}, ['nginx_resumption_period', '(got -60)']),
    ('nginx period over 7 days', 'role', NGINX, {'nginx_resumption_period': 604801}, ['nginx_resumption_period', '(got 604801)']),
    ('nginx ticket lifetime over one period', 'role', NGINX,
     {'nginx_resumption_period': 10, 'nginx_resumption_session_timeout': 11}, ['nginx_resumption_session_timeout', '(got 11)']),
    ('nginx key size 64', 'role', NGINX, {'nginx_resumption_key_size': 64}, ['nginx_resumption_key_size', '64']),
    ('nginx key size 32', 'role', NGINX, {'nginx_resumption_key_size': 32}, ['nginx_resumption_key_size', '32']),
    ('nginx ring size 1', 'role', NGINX, {'nginx_resumption_ring_size': 1}, ['nginx_resumption_ring_size', '(got 1)']),
    ('nginx ring size 1000', 'role', NGINX, {'nginx_resumption_ring_size': 1000}, ['nginx_resumption_ring_size', '(got 1000)']),
    # issue 13: 4 to 8 keys kept previous keys past the two-period bound
    ('nginx ring size 6', 'role', NGINX, {'nginx_resumption_ring_size': 6}, ['nginx_resumption_ring_size', '(got 6)']),
    ('ticket_key_ring size 4', 'module', 'ticket_key_ring', dict(RING_OK, size=4), ['size', '4']),
    ('nginx unknown mode', 'role', NGINX, {'nginx_resumption_mode': 'forever'}, ['nginx_resumption_mode', 'forever']),
    ('key_ring unknown server type', 'role', KEY_RING, {'key_ring_server': 'lighttpd'}, ['key_ring_server', 'lighttpd']),
    ('key_ring period 0', 'role', KEY_RING, {'key_ring_period': 0}, ['key_ring_period', '(got 0)']),
    ('key_ring period negative', 'role', KEY_RING, {'key_ring_period': -1}, ['key_ring_period', '(got -1)']),
    ('key_ring period over 7 days', 'role', KEY_RING, {'key_ring_period': 700000}, ['key_ring_period', '(got 700000)']),
    ('key_ring key size 64', 'role', KEY_RING, {'key_ring_key_size': 64}, ['key_ring_key_size', '64']),
    ('key_ring ring size 1', 'role', KEY_RING, {'key_ring_size': 1}, ['key_ring_size', '(got 1)']),
    ('key_ring ring size 99', 'role', KEY_RING, {'key_ring_size': 99}, ['key_ring_size', '(got 99)']),
    ('key_ring store on persistent storage', 'role', KEY_RING,
     {'key_ring_name': 'hardening-bad', 'key_ring_store': PERSISTENT}, [PERSISTENT]),
    ('key_ring store is a symlink', 'role', KEY_RING, {'key_ring_name': 'hardening-bad', 'key_ring_store': LINK}, [LINK]),
    ('key_ring store is a file', 'role', KEY_RING, {'key_ring_name': 'hardening-bad', 'key_ring_store': AFILE}, [AFILE]),
    ('tmpfs_keystore owner does not exist', 'module', 'tmpfs_keystore',
     {'path': '/run/hardened-tls/hardening-bad', 'owner': 'no-such-user'}, ['owner', 'no-such-user']),
    ('tmpfs_keystore group does not exist', 'module', 'tmpfs_keystore',
     {'path': '/run/hardened-tls/hardening-bad', 'group': 'no-such-group'}, ['group', 'no-such-group']),
    ('tmpfs_keystore path is a symlink', 'module', 'tmpfs_keystore', {'path': LINK}, [LINK, 'symbolic link']),
    ('tmpfs_keystore path is a file', 'module', 'tmpfs_keystore', {'path': AFILE}, [AFILE]),
    ('tmpfs_keystore path non-empty on disk', 'module', 'tmpfs_keystore', {'path': PERSISTENT}, [PERSISTENT]),
    ('tmpfs_keystore path /var', 'module', 'tmpfs_keystore', {'path': '/var'}, ['/var']),
    ('tmpfs_keystore size garbage', 'module', 'tmpfs_keystore',
     {'path': '/run/hardened-tls/hardening-bad', 'size': 'lots'}, ['size', 'lots']),
    ('ticket_key_ring owner does not exist', 'module', 'ticket_key_ring', dict(RING_OK, owner='no-such-user'), ['owner', 'no-such-user']),
    ('ticket_key_ring path on persistent storage', 'module', 'ticket_key_ring',
     dict(RING_OK, path=PERSISTENT_EMPTY), [PERSISTENT_EMPTY, 'persistent']),
    ('ticket_key_ring path is a symlink', 'module', 'ticket_key_ring', dict(RING_OK, path=LINK), [LINK, 'symbolic link']),
    ('ticket_key_ring path is a file', 'module', 'ticket_key_ring', dict(RING_OK, path=AFILE), [AFILE]),
    ('ticket_key_ring key size 64', 'module', 'ticket_key_ring', dict(RING_OK, key_size=64), ['key_size', '64']),
    ('ticket_key_ring size 1', 'module', 'ticket_key_ring', dict(RING_OK, size=1), ['size', '1']),
    ('ticket_key_ring size 500', 'module', 'ticket_key_ring', dict(RING_OK, size=500), ['size', '500']),
    ('ticket_key_ring unknown server', 'module', 'ticket_key_ring', dict(RING_OK, server='iis'), ['server', 'iis']),
    ('ticket_key_ring apache with 80-byte keys', 'module', 'ticket_key_ring', dict(RING_OK, server='apache', key_size=80), ['key_size', 'apache']),
    ('ticket_key_ring haproxy with 2 keys', 'module', 'ticket_key_ring', dict(RING_OK, server='haproxy', size=2), ['size', 'haproxy']),
    ('rotation_timer period 0', 'module', 'rotation_timer', dict(TIMER_OK, period=0), ['period', '0']),
    ('rotation_timer period negative', 'module', 'rotation_timer', dict(TIMER_OK, period=-5), ['period', '-5']),
    ('rotation_timer period over 7 days', 'module', 'rotation_timer', dict(TIMER_OK, period=604801), ['period', '604801']),
    ('rotation_timer size 1', 'module', 'rotation_timer', dict(TIMER_OK, size=1), ['size', '1']),
    ('rotation_timer unknown server', 'module', 'rotation_timer', dict(TIMER_OK, server='iis'), ['server', 'iis']),
    ('rotation_timer bad unit name', 'module', 'rotation_timer', dict(TIMER_OK, name='../../etc/x'), ['name']),
    ('rotation_timer command reload without command', 'module', 'rotation_timer', dict(TIMER_OK, reload='command'), ['reload_command']),
]


def fleet_cases():
    """Seeds of the wrong length (fleet mode, issue 5) and the other server roles, when they are in the tree."""
    cases = []
    if os.path.exists(os.path.join(hl.ROOT, 'plugins', 'modules', 'fleet_ring.py')):
        fleet = dict(RING_OK, period=60, key_size=80)
        seed16 = base64.b64encode(b'\x01' * 16).decode()
        seed64 = base64.b64encode(b'\x02' * 64).decode()
        cases += [
            ('fleet_ring seed of 16 bytes', 'module', 'fleet_ring', dict(fleet, seed=seed16, seed_generation=1), ['seed', '32 bytes', 'got 16']),
            ('fleet_ring seed of 64 bytes', 'module', 'fleet_ring', dict(fleet, seed=seed64, seed_generation=1), ['seed', '32 bytes', 'got 64']),
            ('fleet_ring seed not base64', 'module', 'fleet_ring', dict(fleet, seed='not base64!', seed_generation=1), ['seed', 'base64']),
            ('fleet_ring reseed of 16 bytes', 'module', 'fleet_ring', dict(fleet, reseed=seed16, reseed_generation=10 ** 9), ['reseed', 'got 16']),
            ('fleet_ring period 0', 'module', 'fleet_ring', dict(fleet, period=0), ['period', '0']),
        ]
    for server in ('apache', 'haproxy'):
        if os.path.exists(os.path.join(hl.ROOT, 'roles', server, 'meta', 'argument_specs.yml')):
            role = 'hardened_tls.resumption.' + server
            var = server + '_resumption_'
            cases += [
                ('%s period 0' % server, 'role', role, {var + 'period': 0}, [var + 'period', '(got 0)']),
                ('%s ticket lifetime over one period' % server, 'role', role,
                 {var + 'period': 10, var + 'session_timeout': 11}, [var + 'session_timeout', '(got 11)']),
            ]
    return cases


SNAPSHOT = r"""
{
find /run/hardened-tls /etc/nginx /etc/hardened-tls-resumption /etc/systemd/system /usr/local/lib/hardened-tls-resumption \
     %(persistent)s %(empty)s %(link)s %(afile)s -printf '%%p %%y %%m %%u %%g %%s %%T@ %%l\n' 2>&1 | sort
find /etc/nginx /etc/hardened-tls-resumption /etc/systemd/system /usr/local/lib/hardened-tls-resumption %(persistent)s \
     -type f -exec sha256sum {} + 2>&1 | sort
findmnt -rn -o TARGET,FSTYPE,OPTIONS | sort
systemctl list-units --all --no-legend --plain 'hardened-tls*' 'run-hardened*' | awk '{print $1, $3, $4}' | sort
systemctl list-unit-files --no-legend 'hardened-tls*' 'run-hardened*' | awk '{print $1, $2}' | sort
pgrep -f 'nginx: (master|worker)|/usr/sbin/[h]aproxy' | sort
}
""" % {'persistent': PERSISTENT, 'empty': PERSISTENT_EMPTY, 'link': LINK, 'afile': AFILE}


# The listing is read through `docker exec` from the controller (a pipe lookup in a
# set_fact, no module run on the target): the same listing, at a fraction of the cost.
SNAPSHOT_CMD = 'docker exec {{ inventory_hostname }} sh -c ' + shlex.quote(SNAPSHOT)


def _case_tasks(i, case):
    """Per case: the attempt (block/rescue keeps its error), a snapshot, and the
    record comparing it with the previous snapshot (taken right before the attempt)."""
    name, kind, target, args, dummy = case
    if kind == 'role':
        attempt = {'name': 'Case %d: %s' % (i, name), 'ansible.builtin.include_role': {'name': target}, 'vars': args}
    else:
        attempt = {'name': 'Case %d: %s' % (i, name), M + target: args}
    return [
        {'name': 'Try case %d' % i, 'block': [attempt], 'rescue': [
            {'name': 'Keep the error of case %d' % i, 'ansible.builtin.set_fact': {
                'case_failed': True,
                'case_msg': "{{ ansible_failed_result.msg | default('') }}{{ ansible_failed_result.argument_errors | default([]) | join(' ') }}"}}]},
        {'name': 'Snapshot after case %d' % i, 'ansible.builtin.set_fact': {'snap_after': "{{ lookup('ansible.builtin.pipe', bad_snapshot_cmd) }}"}},
        {'name': 'Record case %d' % i, 'ansible.builtin.set_fact': {
            'case_failed': False,
            'case_msg': '',
            'snap_before': '{{ snap_after }}',
            'bad_results': "{{ bad_results + [{'case': %s, 'failed': case_failed, 'msg': case_msg, "
                           "'unchanged': snap_before == snap_after, 'lines': snap_after.splitlines() | length, "
                           "'diff': (snap_before.splitlines() | symmetric_difference(snap_after.splitlines()))[:6]}] }}" % json.dumps(name)}},
    ]


def playbook(cases):
    setup = [
        {'name': 'Stop the rotation timers (the listing must not move by itself)',
         'ansible.builtin.systemd_service': {'name': '{{ item }}', 'state': 'stopped'}, 'loop': TIMERS},
        {'name': 'A non-empty directory on disk', 'ansible.builtin.shell':
         'mkdir -p %s %s && echo x > %s/x && touch %s && ln -sfn /run/hardened-tls/nginx %s' % (PERSISTENT, PERSISTENT_EMPTY, PERSISTENT, AFILE, LINK)},
        {'name': 'Start the table', 'ansible.builtin.set_fact': {
            'bad_results': [], 'case_failed': False, 'case_msg': '',
            'snap_before': "{{ lookup('ansible.builtin.pipe', bad_snapshot_cmd) }}"}},
    ]
    tasks = list(setup)
    for i, case in enumerate(cases):
        tasks += _case_tasks(i, case)
    tasks += [
        {'name': 'Remove the fixtures', 'ansible.builtin.shell': 'rm -rf %s %s %s %s' % (PERSISTENT, PERSISTENT_EMPTY, AFILE, LINK)},
        {'name': 'Start the rotation timers again',
         'ansible.builtin.systemd_service': {'name': '{{ item }}', 'state': 'started'}, 'loop': TIMERS},
        {'name': 'HARDENING_BAD_INPUT', 'ansible.builtin.debug': {'var': 'bad_results'}},
    ]
    return [{'name': 'Bad input', 'hosts': 'all', 'gather_facts': True, 'vars': {'bad_snapshot_cmd': SNAPSHOT_CMD}, 'tasks': tasks}]


def run(ctx):
    cases = CASES + fleet_cases()
    path = os.path.join(ctx.ephemeral, 'hardening-bad-input.yml')
    with open(path, 'w') as f:
        json.dump(playbook(cases), f, indent=1)
    # No extra vars: they would take precedence over each case's role vars and hide the bad value.
    p = hl.ansible_playbook(path, ctx.inventory, None, verbosity=0,
                            env={'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json'}, check=False)
    text = p.stdout.decode('utf-8', 'replace')
    data = json.loads(text[text.index('{'):])
    results = {}
    for play in data['plays']:
        for task in play['tasks']:
            if task['task']['name'] == 'HARDENING_BAD_INPUT':
                for host, res in task['hosts'].items():
                    results[host] = res['bad_results']
    assert results, 'no results from the bad-input playbook (rc %d): %s' % (p.returncode, text[-2000:])
    expect = dict((c[0], c[4]) for c in cases)
    for host, rows in results.items():
        for r in rows:
            r['named'] = all(w in r['msg'] for w in expect[r['case']])
            # an empty or failed listing would make any comparison pass
            r['unchanged'] = r['unchanged'] and r['lines'] > 20
    return results
