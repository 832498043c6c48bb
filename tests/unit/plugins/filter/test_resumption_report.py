# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hardened_tls.resumption.plugins.filter import resumption_report as rr

NAME_A = '00112233445566778899aabbccddeeff'
NAME_B = 'ffeeddccbbaa99887766554433221100'


def version(offered=True, **kw):
    v = {'offered': offered, 'error': None, 'version': None, 'cipher': None, 'session_id_resumed': None,
         'ticket_issued': None, 'ticket_lifetime_hint': None, 'ticket_length': None, 'ticket_key_name': None,
         'ticket_resumed': None, 'psk_resumed': None, 'max_early_data': None, 'early_data': None,
         'early_data_accepted': None}
    v.update(kw)
    return v


def probe(name=NAME_A, item=None, tls12=None, tls13=None, **kw):
    res = {
        'changed': False, 'endpoint': '127.0.0.1:443', 'server_name': 'www.demo.test',
        'versions': {
            'TLSv1.2': tls12 if tls12 is not None else version(
                version='TLSv1.2', session_id_resumed=True, ticket_issued=True, ticket_lifetime_hint=20,
                ticket_length=192, ticket_key_name=name, ticket_resumed=True),
            'TLSv1.3': tls13 if tls13 is not None else version(
                version='TLSv1.3', ticket_issued=True, ticket_lifetime_hint=20, ticket_length=224,
                ticket_key_name=name, psk_resumed=True, early_data='not_sent', early_data_accepted=False),
        },
        'session_out': None, 'session_in': None, 'attempts': None,
    }
    res.update(kw)
    if item is not None:
        res['item'] = item
    return res


EP1 = {'name': 'nginx1', 'host': '127.0.0.1', 'port': 18444, 'inventory_host': 'demo-nginx1', 'group': 'fleet'}
EP2 = {'name': 'nginx2', 'host': '127.0.0.1', 'port': 18445, 'inventory_host': 'demo-nginx2', 'group': 'fleet'}
EXT = {'name': 'external', 'host': '127.0.0.1', 'port': 18446}

STATE = {
    'server': 'nginx', 'version': '1.26.3', 'mode': 'rotated',
    'rings': [{'name': 'nginx', 'server': 'nginx', 'store': '/run/hardened-tls/nginx', 'generation': 4,
               'current_key_name': NAME_A, 'fstype': 'tmpfs', 'noswap': True,
               'next_rotation': 'Sat 2026-11-28 14:00:00 UTC'}],
}


def test_summary_of_a_rotated_server():
    row = rr.summarise_probe(probe())
    assert row['session_id'] is True
    assert row['tls12_ticket'] is True
    assert row['tls13_psk'] is True
    assert row['early_data_accepted'] is False
    assert row['lifetime_hint'] == 20
    assert row['ticket_kind'] == 'stateless'
    assert row['key_name_tls12'] == NAME_A and row['key_name_tls13'] == NAME_A
    assert row['offered'] == ['TLSv1.2', 'TLSv1.3']
    assert row['errors'] == []


def test_summary_of_a_cache_only_server_has_no_key_name():
    res = probe(
        tls12=version(version='TLSv1.2', session_id_resumed=True, ticket_issued=False, ticket_length=0,
                      ticket_resumed=False),
        tls13=version(version='TLSv1.3', ticket_issued=True, ticket_lifetime_hint=300, ticket_length=32,
                      ticket_key_name=NAME_B, psk_resumed=True, early_data_accepted=False))
    row = rr.summarise_probe(res)
    assert row['ticket_kind'] == 'stateful (TLS 1.3 only)'
    assert row['key_name_tls13'] is None
    assert row['key_name_tls12'] is None
    assert row['lifetime_hint'] == 300
    assert rr.observed_mode(row) == 'session cache only'


def test_summary_of_a_failed_probe():
    row = rr.summarise_probe({'failed': True, 'msg': 'connection refused'})
    assert row['errors'] == ['connection refused']
    assert row['tls13_psk'] is None


def test_summary_tls13_only_server():
    res = probe(tls12=version(offered=False, error='protocol version'))
    row = rr.summarise_probe(res)
    assert row['offered'] == ['TLSv1.3']
    assert row['session_id'] is None and row['tls12_ticket'] is None
    assert row['lifetime_hint'] == 20


@pytest.mark.parametrize('names, changes, distinct', [
    ([NAME_A, NAME_A, NAME_A], 0, 1),
    ([NAME_A, NAME_B, NAME_B], 1, 2),
    ([NAME_A, NAME_B, NAME_A], 2, 2),
    ([None, NAME_A, None, NAME_A], 0, 1),
    ([], 0, 0),
])
def test_key_name_changes(names, changes, distinct):
    out = rr.key_name_changes(names, interval=5)
    assert out['changes'] == changes
    assert len(out['names']) == distinct
    assert out['changed'] is (changes > 0)
    assert out['samples'] == len(names)


def test_report_joins_host_state_and_cross_and_watch():
    probes = {'results': [probe(item=EP1), probe(item=EP2, name=NAME_B), probe(item=EXT)]}
    hosts = {'demo-nginx1': {'audit_host_state': STATE}, 'demo-nginx2': {}}
    pairs = rr.resumption_pairs([EP1, EP2, EXT])
    assert [(p['source']['name'], p['target']['name']) for p in pairs] == [('nginx1', 'nginx2'), ('nginx2', 'nginx1')]
    cross = {'results': [
        {'item': [pairs[0], 'TLSv1.3'], 'session_in': {'version': 'TLSv1.3', 'resumed': True}},
        {'item': [pairs[0], 'TLSv1.2'], 'session_in': {'version': 'TLSv1.2', 'resumed': True}},
        {'item': [pairs[1], 'TLSv1.3'], 'session_in': {'version': 'TLSv1.3', 'resumed': False}},
    ]}
    attempts = {'results': [
        {'item': [EXT, 'TLSv1.3'], 'attempts': {'version': 'TLSv1.3', 'total': 20, 'resumed': 7, 'new': 13}},
    ]}
    watch = {'results': [
        probe(item=[0, EP1], name=NAME_A), probe(item=[0, EP2], name=NAME_A),
        probe(item=[1, EP1], name=NAME_B), probe(item=[1, EP2], name=NAME_A),
    ]}
    report = rr.resumption_report(probes, hosts=hosts, attempts=attempts, cross=cross, watch=watch, watch_interval=10)
    rows = {r['name']: r for r in report['endpoints']}
    assert list(rows) == ['nginx1', 'nginx2', 'external']
    n1, n2, ext = rows['nginx1'], rows['nginx2'], rows['external']
    assert n1['server'] == 'nginx' and n1['version'] == '1.26.3' and n1['mode'] == 'rotated'
    assert n1['store'] == 'tmpfs noswap'
    assert n1['ring_generation'] == 4
    assert n1['next_rotation'].startswith('Sat')
    assert n1['cross_node']['text'] == 'TLS 1.2 1/1, TLS 1.3 1/1'
    assert n2['cross_node']['text'] == 'TLS 1.3 0/1 (key names differ)'
    assert n2['version'] is None
    assert ext['mode'] == 'unmanaged: tickets'
    assert ext['balancer']['text'] == 'TLS 1.3 7/20'
    assert n1['watch']['TLSv1.3']['changes'] == 1
    assert n1['watch']['TLSv1.3']['seconds'] == 10.0
    assert n2['watch']['TLSv1.3']['changed'] is False
    # The report is JSON-serialisable and holds no more than key names.
    json.dumps(report)


def test_report_accepts_a_plain_list_and_a_single_result():
    assert len(rr.resumption_report([probe(item=EP1)])['endpoints']) == 1
    assert rr.resumption_report(probe())['endpoints'][0]['name'] == '127.0.0.1:443'


@pytest.mark.parametrize('bad', ['text', 3])
def test_report_refuses_other_input(bad):
    with pytest.raises(AnsibleFilterError):
        rr.resumption_report(bad)


def test_pairs_refuse_non_lists_and_nameless_endpoints():
    with pytest.raises(AnsibleFilterError):
        rr.resumption_pairs('nginx1')
    with pytest.raises(AnsibleFilterError):
        rr.resumption_pairs([{'port': 443}])
    assert rr.resumption_pairs([EXT]) == []


FINDMNT = json.dumps({'filesystems': [
    {'target': '/run', 'fstype': 'tmpfs', 'options': 'rw,nosuid,nodev', 'children': [
        {'target': '/run/hardened-tls/nginx', 'fstype': 'tmpfs', 'options': 'rw,nosuid,nodev,noexec,size=1024k,mode=700,noswap'},
        {'target': '/run/hardened-tls/apache', 'fstype': 'ramfs', 'options': 'rw,nosuid,nodev,noexec,mode=700'},
    ]}]})

TIMERS = json.dumps([
    {'next': 1795874846700203, 'left': 1795874846700203, 'last': 1795874816673466, 'passed': 2477265083,
     'unit': 'hardened-tls-rotate-nginx.timer', 'activates': 'hardened-tls-rotate-nginx.service'},
    {'next': 0, 'left': 0, 'last': 0, 'passed': 0,
     'unit': 'hardened-tls-rotate-apache.timer', 'activates': 'hardened-tls-rotate-apache.service'},
])


def status(name, store, server, gen):
    return {'item': '/etc/hardened-tls-resumption/rings/%s.json' % name, 'rc': 0,
            'stdout': json.dumps({'ring': {'store': store, 'server': server, 'generation': gen, 'size': 3,
                                           'current_key_name': NAME_A, 'rotated_at': 1764338400}})}


def test_ring_state():
    results = {'results': [status('nginx', '/run/hardened-tls/nginx', 'nginx', 7),
                           status('apache', '/run/hardened-tls/apache', 'apache', 2),
                           {'item': '/etc/hardened-tls-resumption/rings/gone.json', 'rc': 0,
                            'stdout': json.dumps({'ring': None})},
                           {'item': 'x', 'skipped': True}]}
    rings = rr.resumption_ring_state(results, findmnt={'stdout': FINDMNT}, timers={'stdout': TIMERS})
    assert [r['name'] for r in rings] == ['nginx', 'apache']
    nginx, apache = rings
    assert nginx['fstype'] == 'tmpfs' and nginx['noswap'] is True
    assert nginx['timer'] == 'scheduled' and nginx['next_rotation'] == '2026-11-28T14:07:26Z'
    assert nginx['generation'] == 7
    assert apache['fstype'] == 'ramfs' and apache['noswap'] is False
    assert apache['next_rotation'] is None and apache['timer'] == 'not scheduled'
    assert rr.store_text(nginx) == 'tmpfs noswap'
    assert rr.store_text(apache) == 'ramfs'
    assert rr.store_text(dict(nginx, noswap=False)) == 'tmpfs (may swap)'


def test_ring_state_of_server_made_keys():
    # Apache's default: no ring, no store; the timer's status says so.
    res = {'item': '/etc/hardened-tls-resumption/rings/apache.json', 'rc': 0,
           'stdout': json.dumps({'ring': {'name': 'apache', 'keys': 'server', 'server': 'apache', 'store': None,
                                          'size': 1, 'generation': 4, 'rotated_at': 1764338400,
                                          'current_key_name': None, 'members': []}})}
    ring, = rr.resumption_ring_state({'results': [res]}, findmnt={'stdout': FINDMNT}, timers={'stdout': TIMERS})
    assert ring['keys'] == 'server' and ring['generation'] == 4 and ring['fstype'] is None
    assert rr.store_text(ring) == 'none: the server makes its key, in its memory only'
    nginx, = rr.resumption_ring_state({'results': [status('nginx', '/run/hardened-tls/nginx', 'nginx', 7)]},
                                      findmnt={'stdout': FINDMNT})
    assert nginx['keys'] == 'ring'


def test_ring_state_fleet_next_rotation_from_schedule():
    # 1764338400 = 2025-11-28T14:00:00Z; the timer's own next elapse is ignored
    # for a fleet ring: it rotates at the schedule's boundary on every node.
    res = status('nginx', '/run/hardened-tls/nginx', 'nginx', 7)
    doc = json.loads(res['stdout'])
    doc['ring']['fleet'] = True
    doc['fleet'] = {'epoch': 1764338400 - 7 * 30, 'period': 30, 'wall_generation': 7, 'origin': 'fleet',
                    'next_boundary': 1764338400 + 30, 'now': 1764338410}
    res['stdout'] = json.dumps(doc)
    ring, = rr.resumption_ring_state({'results': [res]}, findmnt={'stdout': FINDMNT}, timers={'stdout': TIMERS})
    assert ring['fleet'] is True
    assert ring['fleet_period'] == 30 and ring['fleet_epoch'] == 1764338400 - 210
    assert ring['next_rotation'] == '2025-11-28T14:00:30Z'
    assert ring['timer'] == 'scheduled'


def test_ring_state_refuses_garbage():
    with pytest.raises(AnsibleFilterError):
        rr.resumption_ring_state({'results': [{'item': 'a.json', 'stdout': 'not json'}]})
    with pytest.raises(AnsibleFilterError):
        rr.resumption_ring_state({'results': []}, findmnt='garbage')


def test_table_text_and_markdown():
    report = rr.resumption_report({'results': [probe(item=EP1), probe(item=EXT, tls13=version(offered=False))]},
                                  hosts={'demo-nginx1': {'audit_host_state': STATE}})
    text = rr.resumption_table(report)
    lines = text.splitlines()
    assert lines[0].split() == ['nginx1', 'external']
    body = {line.split('  ')[0].strip(): line for line in lines[2:]}
    assert 'tmpfs noswap' in body['key store']
    assert NAME_A[:12] + '..' in body['key name TLS 1.2']
    assert NAME_A not in text
    assert 'yes' in body['TLS 1.3 PSK resumes'] and '-' in body['TLS 1.3 PSK resumes']
    assert 'refused' in body['TLS 1.3 early data (0-RTT)']
    md = rr.resumption_table(report, format='markdown')
    assert md.splitlines()[0] == '| | nginx1 | external |'
    assert NAME_A in md
    # Fields nobody has are left out.
    assert 'through balancer' not in text


def test_table_marks_failures_loudly():
    res = probe(item=EXT, tls12=version(version='TLSv1.2', session_id_resumed=False, ticket_issued=True,
                                        ticket_length=192, ticket_key_name=NAME_A, ticket_resumed=False))
    text = rr.resumption_table(rr.resumption_report([res]))
    line = [line for line in text.splitlines() if line.startswith('TLS 1.2 ticket resumes')][0]
    assert line.split('  ')[-1].strip() == 'NO, 0 of 1 (1 refused)'


def test_table_refuses_unknown_format():
    with pytest.raises(AnsibleFilterError):
        rr.resumption_table({'endpoints': []}, format='html')


def test_input_is_not_modified():
    probes = {'results': [probe(item=EP1)]}
    before = copy.deepcopy(probes)
    rr.resumption_report(probes, hosts={'demo-nginx1': {'audit_host_state': STATE}})
    assert probes == before


@pytest.mark.parametrize('w, text', [
    ({'TLSv1.3': rr.key_name_changes([NAME_A, NAME_B], 30), 'TLSv1.2': rr.key_name_changes([NAME_A, NAME_A], 30)},
     '2 names, 1 changes in 30s'),
    ({'TLSv1.3': rr.key_name_changes([None, None]), 'TLSv1.2': rr.key_name_changes([NAME_A, NAME_A])},
     '1 names, 0 changes'),
    ({'TLSv1.3': rr.key_name_changes([None]), 'TLSv1.2': rr.key_name_changes([None])},
     'no key names (stateful or no tickets)'),
])
def test_watch_text(w, text):
    assert rr.watch_text(w) == text
