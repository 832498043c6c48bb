# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's repeated probes, cross-node causes, cross-name check and Prometheus output."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hardened_tls.resumption.plugins.filter import resumption_report as rr

A = '00112233445566778899aabbccddeeff'
B = 'ffeeddccbbaa99887766554433221100'
C = '0123456789abcdef0123456789abcdef'
FP1 = 'sha256 Fingerprint=' + ':'.join(['AB'] * 32)
FP2 = 'sha256 Fingerprint=' + ':'.join(['CD'] * 32)

EP1 = {'name': 'nginx1', 'host': '127.0.0.1', 'port': 18444, 'server_name': 'www.demo.test', 'group': 'fleet'}
EP2 = {'name': 'nginx2', 'host': '127.0.0.1', 'port': 18445, 'server_name': 'www.demo.test', 'group': 'fleet'}
APACHE = {'name': 'apache', 'host': '127.0.0.1', 'port': 18446, 'server_name': 'apache.demo.test'}


def probe(ep, i, name=A, name13=None, sid=True, t12=True, psk=True, failed=False):
    if failed:
        return {'item': [i, ep], 'failed': True, 'msg': 'connection refused'}
    return {
        'item': [i, ep], 'endpoint': '%s:%s' % (ep['host'], ep['port']), 'server_name': ep['server_name'],
        'versions': {
            'TLSv1.2': {'offered': True, 'session_id_resumed': sid, 'ticket_issued': True, 'ticket_lifetime_hint': 300,
                        'ticket_length': 192, 'ticket_key_name': name, 'ticket_resumed': t12, 'psk_resumed': None},
            'TLSv1.3': {'offered': True, 'ticket_issued': True, 'ticket_lifetime_hint': 300, 'ticket_length': 224,
                        'ticket_key_name': name13 or name, 'psk_resumed': psk, 'early_data_accepted': False},
        },
    }


def rows(report):
    return dict((r['name'], r) for r in report['endpoints'])


def test_repeated_probes_count_and_name_a_refusal_across_a_rotation():
    # Probe 2's PSK is refused and the key name moves from A to B for good right after it: a rotation.
    probes = [probe(APACHE, 0), probe(APACHE, 1, name=A), probe(APACHE, 2, name=B), probe(APACHE, 3, name=B)]
    probes[1] = probe(APACHE, 1, name=A, psk=False)
    r = rows(rr.resumption_report(probes))['apache']
    assert r['probes'] == 4
    assert r['tls13_psk']['resumed'] == 3 and r['tls13_psk']['total'] == 4
    assert r['tls13_psk']['refused_across_rotation'] == 1
    assert r['tls13_psk']['text'] == '3 of 4 (1 refused across a rotation)'
    assert r['tls13_psk']['probes'] == ['resumed', 'refused across a rotation', 'resumed', 'resumed']
    assert r['session_id']['text'] == 'yes, 4 of 4'
    assert r['key_names_seen']['TLSv1.3']['changes'] == 1


def test_a_refusal_without_a_rotation_stays_a_refusal():
    probes = [probe(APACHE, i, psk=(i != 2)) for i in range(5)]
    r = rows(rr.resumption_report(probes))['apache']
    assert r['tls13_psk']['text'] == '4 of 5 (1 refused)'
    assert r['tls13_psk']['refused_across_rotation'] == 0


def test_all_refused_is_loud():
    probes = [probe(APACHE, i, psk=False) for i in range(3)]
    r = rows(rr.resumption_report(probes))['apache']
    assert r['tls13_psk']['text'] == 'NO, 0 of 3 (3 refused)'
    table = rr.resumption_table(rr.resumption_report(probes))
    assert 'NO, 0 of 3 (3 refused)' in table


def test_alternating_key_names_are_no_rotation():
    # Nodes with their own keys behind a balancer: names alternate; the refusals are plain refusals.
    probes = [probe(APACHE, i, name=(A if i % 2 == 0 else B), psk=False) for i in range(4)]
    r = rows(rr.resumption_report(probes))['apache']
    assert r['tls13_psk']['refused_across_rotation'] == 0
    assert r['tls13_psk']['refused'] == 4


def test_tls12_refusal_when_the_name_changes_within_the_probe():
    # TLS 1.2 runs first; its ticket under A is refused, the TLS 1.3 handshake right after sees B.
    probes = [probe(APACHE, 0, name=A, name13=B, t12=False), probe(APACHE, 1, name=B)]
    r = rows(rr.resumption_report(probes))['apache']
    assert r['tls12_ticket']['text'] == '1 of 2 (1 refused across a rotation)'


def test_the_last_probe_is_judged_by_the_watch():
    probes = [probe(APACHE, 0), probe(APACHE, 1, psk=False)]
    watch = {'results': [probe(APACHE, 0, name=B), probe(APACHE, 1, name=B)]}
    for w in watch['results']:
        w['item'] = [w['item'][0], APACHE]
    r = rows(rr.resumption_report(probes, watch=watch))['apache']
    assert r['tls13_psk']['refused_across_rotation'] == 1
    r = rows(rr.resumption_report(probes))['apache']
    assert r['tls13_psk']['refused_across_rotation'] == 0


def test_failed_probes_are_errors_not_refusals():
    probes = [probe(APACHE, 0), probe(APACHE, 1, failed=True)]
    r = rows(rr.resumption_report(probes))['apache']
    assert r['tls13_psk']['total'] == 1
    assert r['errors'] == ['probe 2 of 2: connection refused']
    assert r['mode'] == 'unmanaged: tickets'


def cross(pairs, resumed):
    return {'results': [{'item': [p, v], 'session_in': {'version': v, 'resumed': resumed}}
                        for p in pairs for v in ('TLSv1.2', 'TLSv1.3')]}


def certs(fp1, fp2):
    return {'results': [{'item': EP1, 'rc': 0, 'stdout': fp1}, {'item': EP2, 'rc': 0, 'stdout': fp2}]}


def test_cross_node_failure_with_same_key_names_and_different_certificates():
    probes = [probe(EP1, 0), probe(EP2, 0)]
    pairs = rr.resumption_pairs([EP1, EP2])
    r = rows(rr.resumption_report(probes, cross=cross(pairs, False), certificates=certs(FP1, FP2)))
    assert r['nginx1']['cross_node']['causes'] == ['key names agree, certificates differ']
    assert r['nginx1']['cross_node']['text'] == 'TLS 1.2 0/1, TLS 1.3 0/1 (key names agree, certificates differ)'
    assert r['nginx1']['certificate_sha256'] == 'ab' * 32
    assert r['nginx1']['certificate'] == 'ab' * 8 + '..'


@pytest.mark.parametrize('n2, fp2, cause', [
    (B, FP2, 'key names differ'),
    (A, FP1, 'key names and certificates agree'),
])
def test_cross_node_other_causes(n2, fp2, cause):
    probes = [probe(EP1, 0), probe(EP2, 0, name=n2)]
    pairs = rr.resumption_pairs([EP1, EP2])
    r = rows(rr.resumption_report(probes, cross=cross(pairs, False), certificates=certs(FP1, fp2)))
    assert r['nginx1']['cross_node']['causes'] == [cause]


def test_cross_node_success_has_no_cause():
    probes = [probe(EP1, 0), probe(EP2, 0)]
    pairs = rr.resumption_pairs([EP1, EP2])
    r = rows(rr.resumption_report(probes, cross=cross(pairs, True), certificates=certs(FP1, FP2)))
    assert r['nginx1']['cross_node']['causes'] == []
    assert r['nginx1']['cross_node']['text'] == 'TLS 1.2 1/1, TLS 1.3 1/1'


def test_fingerprints():
    assert rr._fingerprint(FP1) == 'ab' * 32
    assert rr._fingerprint('SHA1 Fingerprint=' + ':'.join(['01'] * 20)) == '01' * 20
    assert rr._fingerprint('') is None
    assert rr._fingerprint('garbage') is None
    assert rr._certificates({'nginx1': FP1}) == {'nginx1': 'ab' * 32}


CONTEXT_PAIRS = [{'endpoint': 'nginx1', 'from': 'www.demo.test', 'to': 'admin.demo.test'},
                 {'endpoint': 'nginx1', 'names': ['a.demo.test', 'b.demo.test'], 'trust': 'same'}]


def test_context_pairs_resolve_against_the_endpoints():
    pairs = rr.resumption_context_pairs(CONTEXT_PAIRS, [EP1, EP2])
    assert [(p['endpoint_name'], p['from'], p['to'], p['different']) for p in pairs] == [
        ('nginx1', 'www.demo.test', 'admin.demo.test', True), ('nginx1', 'a.demo.test', 'b.demo.test', False)]
    assert pairs[0]['endpoint'] is EP1
    assert rr.resumption_context_pairs(None, [EP1]) == []


@pytest.mark.parametrize('bad', [
    'x', [{'endpoint': 'nope', 'from': 'a', 'to': 'b'}], [{'endpoint': 'nginx1', 'from': 'a', 'to': 'a'}],
    [{'endpoint': 'nginx1', 'from': 'a', 'to': 'b', 'trust': 'maybe'}], [{'endpoint': 'nginx1', 'names': ['a']}], ['a'],
])
def test_context_pairs_refuse_bad_input(bad):
    with pytest.raises(AnsibleFilterError):
        rr.resumption_context_pairs(bad, [EP1])


def context_results(resumed, pairs=None, failed_msg=None):
    pairs = pairs or rr.resumption_context_pairs(CONTEXT_PAIRS[:1], [EP1])
    out = []
    for p in pairs:
        for v in ('TLSv1.2', 'TLSv1.3'):
            if failed_msg:
                out.append({'item': [p, v], 'failed': True, 'msg': failed_msg, 'session_in': None})
            else:
                out.append({'item': [p, v], 'session_in': {'version': v, 'resumed': resumed}})
    return {'results': out}


def test_cross_name_resumption_across_trust_contexts_is_a_finding():
    report = rr.resumption_report([probe(EP1, 0)], contexts=context_results(True))
    r = rows(report)['nginx1']
    assert r['cross_name']['text'] == ('www.demo.test -> admin.demo.test: TLS 1.2 yes (FINDING), '
                                       'TLS 1.3 yes (FINDING)')
    assert len(report['findings']) == 2
    assert 'resumed under admin.demo.test' in report['findings'][1]
    assert 'findings:' in rr.resumption_table(report)


def test_cross_name_refused():
    report = rr.resumption_report([probe(EP1, 0)], contexts=context_results(False))
    assert rows(report)['nginx1']['cross_name']['text'] == 'www.demo.test -> admin.demo.test: TLS 1.2 no, TLS 1.3 no'
    assert report['findings'] == []
    assert 'findings: none' in rr.resumption_table(report)


def test_cross_name_handshake_refused_counts_as_no_and_missing_sessions_as_not_measured():
    report = rr.resumption_report([probe(EP1, 0)], contexts=context_results(
        None, failed_msg='resumption handshake with 127.0.0.1:18444 failed: alert'))
    pairs = rows(report)['nginx1']['cross_name']['pairs']
    assert [p['resumed'] for p in pairs] == [False, False]
    assert pairs[0]['note'].startswith('handshake refused')
    p = rr.resumption_context_pairs(CONTEXT_PAIRS[:1], [EP1])[0]
    saved = {'results': [{'item': [p, 'TLSv1.2'], 'failed': True, 'msg': 'no ticket'}]}
    report = rr.resumption_report([probe(EP1, 0)], contexts=context_results(
        None, failed_msg='session_in: x is not a file'), contexts_saved=saved)
    pairs = rows(report)['nginx1']['cross_name']['pairs']
    assert pairs[0]['resumed'] is None and pairs[0]['note'].startswith('not measured: no session under www.demo.test')
    assert 'TLS 1.2 not measured' in rows(report)['nginx1']['cross_name']['text']


def test_same_trust_context_is_no_finding():
    pairs = rr.resumption_context_pairs(CONTEXT_PAIRS[1:], [EP1])
    report = rr.resumption_report([probe(EP1, 0)], contexts=context_results(True, pairs))
    assert report['findings'] == []


def full_report():
    probes = [probe(EP1, 0), probe(EP2, 0), probe(APACHE, 0), probe(EP1, 1), probe(EP2, 1),
              probe(APACHE, 1, name=B, psk=False), probe(APACHE, 2, name=C)]
    pairs = rr.resumption_pairs([EP1, EP2])
    report = rr.resumption_report(probes, cross=cross(pairs, False), certificates=certs(FP1, FP2),
                                  contexts=context_results(True),
                                  attempts={'results': [{'item': [EP1, 'TLSv1.3'],
                                                         'attempts': {'version': 'TLSv1.3', 'total': 20,
                                                                      'resumed': 20, 'new': 0}}]})
    report['generated_at_epoch'] = 1764338400
    return report


def test_prometheus_text():
    text = rr.resumption_prometheus(full_report())
    lines = text.splitlines()
    assert text.endswith('\n')
    names = set()
    for line in lines:
        if line.startswith('# TYPE '):
            dummy, dummy2, name, kind = line.split()
            assert name.startswith('hardened_tls_audit_')
            assert kind == 'gauge'
            names.add(name)
        elif line.startswith('# HELP '):
            continue
        else:
            assert re.match(r'^hardened_tls_audit_[a-z0-9_]+(\{[^}]*\})? -?[0-9.e+-]+$', line), line
    # Every metric has HELP and TYPE once, before its samples.
    assert len([x for x in lines if x.startswith('# TYPE ')]) == len(names)
    assert ('hardened_tls_audit_resumption_resumed{endpoint="127.0.0.1:18446",name="apache.demo.test",'
            'audit_name="apache",mechanism="psk"} 2') in lines
    assert ('hardened_tls_audit_resumption_checks{endpoint="127.0.0.1:18446",name="apache.demo.test",'
            'audit_name="apache",mechanism="psk"} 3') in lines
    assert ('hardened_tls_audit_resumption_refused_across_rotation{endpoint="127.0.0.1:18446",'
            'name="apache.demo.test",audit_name="apache",mechanism="psk"} 1') in lines
    assert ('hardened_tls_audit_ticket_lifetime_hint_seconds{endpoint="127.0.0.1:18444",name="www.demo.test",'
            'audit_name="nginx1",version="TLSv1.3"} 300') in lines
    assert ('hardened_tls_audit_ticket_key_name_changes{endpoint="127.0.0.1:18446",name="apache.demo.test",'
            'audit_name="apache",version="TLSv1.3"} 2') in lines
    assert ('hardened_tls_audit_cross_node_failure_cause_info{endpoint="127.0.0.1:18444",name="www.demo.test",'
            'audit_name="nginx1",cause="key names agree, certificates differ"} 1') in lines
    assert ('hardened_tls_audit_cross_name_finding{endpoint="127.0.0.1:18444",name="www.demo.test",'
            'audit_name="nginx1",to_name="admin.demo.test",version="TLSv1.3"} 1') in lines
    assert 'hardened_tls_audit_findings 2' in lines
    assert 'hardened_tls_audit_last_run_timestamp_seconds 1764338400' in lines
    assert any(x.startswith('hardened_tls_audit_repeat_resumed{') for x in lines)
    # Key names and fingerprints are public; no key bytes are in the report anyway.
    json.dumps(full_report())


def test_prometheus_escapes_label_values():
    report = {'endpoints': [{'name': 'x"y', 'server_name': 'a\\b\nc', 'endpoint': 'h:1', 'offered': ['TLSv1.3'],
                             'probes': 1, 'errors': []}], 'findings': []}
    text = rr.resumption_prometheus(report)
    assert 'name="a\\\\b\\nc",audit_name="x\\"y"' in text


def test_prometheus_refuses_other_input():
    with pytest.raises(AnsibleFilterError):
        rr.resumption_prometheus('text')


PROMTOOL = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '.build', 'tools', 'promtool')


@pytest.mark.skipif(not os.access(PROMTOOL, os.X_OK), reason='promtool not in .build/tools (scripts/ensure-promtool.sh)')
def test_prometheus_text_passes_promtool():
    p = subprocess.run([PROMTOOL, 'check', 'metrics'], input=rr.resumption_prometheus(full_report()).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert p.returncode == 0, p.stdout.decode()
