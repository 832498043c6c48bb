# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit report in the Prometheus text exposition format (gauges hardened_tls_audit_*). Controller only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_report import COUNTED, VERSIONS


PROM_PREFIX = 'hardened_tls_audit_'
MECHANISMS = {'session_id': 'session_id', 'tls12_ticket': 'ticket', 'tls13_psk': 'psk'}


def _prom_escape(value):
    return to_text(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _prom_value(v):
    if isinstance(v, bool):
        return '1' if v else '0'
    if isinstance(v, int):
        return '%d' % v
    return repr(float(v))


class _Metrics(object):
    def __init__(self):
        self.order = []
        self.meta = {}
        self.samples = {}

    def add(self, name, help_text, labels, value, kind='gauge'):
        if value is None:
            return
        full = PROM_PREFIX + name
        if full not in self.meta:
            self.order.append(full)
            self.meta[full] = (help_text, kind)
            self.samples[full] = []
        lab = ','.join('%s="%s"' % (k, _prom_escape(v)) for k, v in labels)
        self.samples[full].append('%s{%s} %s' % (full, lab, _prom_value(value)) if lab
                                  else '%s %s' % (full, _prom_value(value)))

    def text(self):
        out = []
        for name in self.order:
            help_text, kind = self.meta[name]
            out.append('# HELP %s %s' % (name, help_text.replace('\\', '\\\\').replace('\n', '\\n')))
            out.append('# TYPE %s %s' % (name, kind))
            out.extend(self.samples[name])
        return '\n'.join(out) + '\n' if out else ''


def _row_endpoint(row):
    ep = row.get('endpoint')
    if not ep:
        return to_text(row.get('name'))
    return to_text(ep)


def resumption_prometheus(report, timestamp=None):
    """The audit report in the Prometheus text exposition format (for node_exporter's textfile collector)."""
    if not isinstance(report, dict) or not isinstance(report.get('endpoints', []), list):
        raise AnsibleFilterError('resumption_prometheus expects the report of resumption_report (a dictionary)')
    m = _Metrics()
    rows = report.get('endpoints') or []
    for row in rows:
        base = [('endpoint', _row_endpoint(row)), ('name', row.get('server_name') or ''),
                ('audit_name', row.get('name') or '')]
        m.add('up', 'Whether at least one probe of the endpoint completed a TLS handshake (1) or none did (0).',
              base, bool(row.get('offered')))
        m.add('probes', 'Probes of the endpoint in this audit run (audit_probes).', base, int(row.get('probes') or 0))
        m.add('probe_errors', 'Probes of the endpoint that failed in this audit run.', base, len(row.get('errors') or []))
    for row in rows:
        base = [('endpoint', _row_endpoint(row)), ('name', row.get('server_name') or ''),
                ('audit_name', row.get('name') or '')]
        for key, dummy, dummy2, dummy3 in COUNTED:
            c = row.get(key)
            if not isinstance(c, dict):
                continue
            labels = base + [('mechanism', MECHANISMS[key])]
            m.add('resumption_checks', 'Resumption checks run by mechanism (session_id: TLS 1.2 session ID, '
                  'ticket: TLS 1.2 session ticket, psk: TLS 1.3 pre-shared key).', labels, c['total'])
            m.add('resumption_resumed', 'Resumption checks the server resumed, by mechanism.', labels, c['resumed'])
            m.add('resumption_refused_across_rotation', 'Refused resumption checks whose ticket key name was replaced '
                  'for good right after the full handshake (a rotation or a restart with new keys).',
                  labels, c['refused_across_rotation'])
            m.add('resumption_resumed_ratio', 'Resumed checks divided by checks run, by mechanism.', labels,
                  float(c['resumed']) / c['total'])
    for row in rows:
        base = [('endpoint', _row_endpoint(row)), ('name', row.get('server_name') or ''),
                ('audit_name', row.get('name') or '')]
        for v, key in (('TLSv1.2', 'lifetime_hint_tls12'), ('TLSv1.3', 'lifetime_hint_tls13')):
            if row.get(key) is not None:
                m.add('ticket_lifetime_hint_seconds', 'Lifetime hint of the session ticket the server issued.',
                      base + [('version', v)], int(row[key]))
        for v in VERSIONS:
            k = (row.get('key_names_seen') or {}).get(v)
            if k and k.get('names'):
                m.add('ticket_key_names_seen', 'Distinct ticket key names seen during this audit run (probes and watch).',
                      base + [('version', v)], len(k['names']))
                m.add('ticket_key_name_changes', 'Changes of the ticket key name seen during this audit run '
                      '(probes and watch, in time order).', base + [('version', v)], k['changes'])
        if row.get('early_data_accepted') is not None:
            m.add('early_data_accepted', 'Whether the server accepted TLS 1.3 early data (0-RTT) in any probe.',
                  base, bool(row['early_data_accepted']))
        bal = row.get('balancer') or {}
        for v, c in sorted((bal.get('counts') or {}).items()):
            m.add('repeat_attempts', 'Resumptions of one session attempted repeatedly (through a balancer).',
                  base + [('version', v or '')], c.get('total', 0))
            m.add('repeat_resumed', 'Resumptions of one session that the endpoint resumed (through a balancer).',
                  base + [('version', v or '')], c.get('resumed', 0))
        cn = row.get('cross_node') or {}
        for v, c in sorted((cn.get('counts') or {}).items()):
            for t in c.get('targets') or []:
                labels = base + [('target', t.get('target') or ''), ('version', v or '')]
                m.add('cross_node_resumed', 'Whether a session saved on this node resumed on the target node of its '
                      'group.', labels, bool(t.get('resumed')))
        for cause in cn.get('causes') or []:
            m.add('cross_node_failure_cause_info', 'Why sessions of this node did not resume on other nodes, as seen by '
                  'the audit (always 1).', base + [('cause', cause)], 1)
        if row.get('certificate_sha256'):
            m.add('certificate_info', 'The SHA-256 fingerprint of the certificate the endpoint served (always 1).',
                  base + [('sha256', row['certificate_sha256'])], 1)
        cx = row.get('cross_name') or {}
        for p in cx.get('pairs') or []:
            labels = [('endpoint', _row_endpoint(row)), ('name', p['from']), ('audit_name', row.get('name') or ''),
                      ('to_name', p['to']), ('version', p.get('version') or '')]
            if p.get('resumed') is not None:
                m.add('cross_name_resumed', 'Whether a session made under server name "name" resumed under "to_name" '
                      'on the same endpoint.', labels, bool(p['resumed']))
            m.add('cross_name_finding', 'Whether that resumption crossed two names declared different trust contexts.',
                  labels, bool(p.get('finding')))
    m.add('findings', 'Findings of this audit run (for example a session resumed across trust contexts).', [],
          len(report.get('findings') or []))
    if timestamp is None:
        timestamp = report.get('generated_at_epoch')
    if timestamp is not None:
        m.add('last_run_timestamp_seconds', 'When this audit ran, in seconds since the epoch.', [], int(float(timestamp)))
    return m.text()
