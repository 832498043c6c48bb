# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit report: probe results summarised per endpoint (resumed n of m, refusals across a rotation,
key name changes, certificates, cross-node causes, resumption across server names). Controller only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


VERSIONS = ('TLSv1.2', 'TLSv1.3')
# OpenSSL's stateful TLS 1.3 tickets are a 32-byte session ID; stateless tickets are much longer.
STATEFUL_TICKET_LENGTH = 32

FIELDS = [
    # (row key, label)
    ('server', 'server'),
    ('version', 'version'),
    ('mode', 'mode'),
    ('store', 'key store'),
    ('ring_generation', 'ring generation'),
    ('next_rotation', 'next rotation'),
    ('session_id', 'TLS 1.2 session ID resumes'),
    ('tls12_ticket', 'TLS 1.2 ticket resumes'),
    ('tls13_psk', 'TLS 1.3 PSK resumes'),
    ('early_data_accepted', 'TLS 1.3 early data (0-RTT)'),
    ('lifetime_hint', 'lifetime hint (s)'),
    ('ticket_kind', 'tickets'),
    ('key_name_tls12', 'key name TLS 1.2'),
    ('key_name_tls13', 'key name TLS 1.3'),
    ('certificate', 'certificate (SHA-256)'),
    ('cross_node', 'cross-node resumption'),
    ('cross_name', 'resumed across names'),
    ('balancer', 'through balancer'),
    ('watch', 'key name over time'),
    ('errors', 'errors'),
]

# Counted checks: (row key, probe summary key, the TLS version whose key name dates the probe, label)
COUNTED = [
    ('session_id', 'session_id', 'TLSv1.2', 'session ID'),
    ('tls12_ticket', 'tls12_ticket', 'TLSv1.2', 'ticket'),
    ('tls13_psk', 'tls13_psk', 'TLSv1.3', 'PSK'),
]
KEY_FIELD = {'TLSv1.2': 'key_name_tls12', 'TLSv1.3': 'key_name_tls13'}
CROSS_CERT_CAUSE = 'key names agree, certificates differ'
# Cells of the text table allowed wider than its width (counts with their causes).
WIDE_CELLS = {'session_id': 46, 'tls12_ticket': 46, 'tls13_psk': 46, 'cross_node': 60, 'cross_name': 64}


def _results(value, what):
    """The list of per-item results of a registered loop (or a list of them)."""
    if value is None:
        return []
    if isinstance(value, dict):
        if 'results' in value:
            value = value['results']
        elif value.get('skipped'):
            value = []
        else:
            value = [value]
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError('%s must be a registered loop result or a list of results, got %s'
                                 % (what, type(value).__name__))
    return [r for r in value if isinstance(r, dict) and not r.get('skipped')]


def _endpoint_name(ep):
    if not isinstance(ep, dict):
        raise AnsibleFilterError('each endpoint must be a dictionary with a name, got %r' % (ep,))
    if ep.get('name'):
        return to_text(ep['name'])
    if ep.get('host'):
        return '%s:%s' % (ep['host'], ep.get('port', 443))
    raise AnsibleFilterError('an endpoint has neither name nor host: %r' % (ep,))


def _item_endpoint(item, position):
    """The endpoint in a loop item: the item itself, or item[position] for product loops."""
    if isinstance(item, (list, tuple)):
        return item[position]
    return item


def _probe_item(item):
    """(endpoint, probe index) of a probe loop item: an endpoint, or [index, endpoint] (audit_probes)."""
    if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], int) \
            and not isinstance(item[0], bool):
        return item[1], item[0]
    if isinstance(item, (list, tuple)):
        return item[0], None
    return item, None


def _version(res, version):
    versions = res.get('versions') or {}
    v = versions.get(version) or {}
    return v if v.get('offered') else None


def ticket_kind(length):
    if length is None:
        return None
    if length == 0:
        return 'none'
    if length <= STATEFUL_TICKET_LENGTH:
        return 'stateful'
    return 'stateless'


def _key_name(v):
    """The key name of a stateless ticket (a stateful ticket's first bytes are no key name)."""
    if not v or ticket_kind(v.get('ticket_length')) != 'stateless':
        return None
    return v.get('ticket_key_name')


def summarise_probe(res):
    """Flat fields of one resumption_info result."""
    row = {
        'endpoint': res.get('endpoint'),
        'session_id': None, 'tls12_ticket': None, 'tls13_psk': None, 'early_data_accepted': None,
        'lifetime_hint': None, 'lifetime_hint_tls12': None, 'lifetime_hint_tls13': None,
        'ticket_kind': None, 'key_name_tls12': None, 'key_name_tls13': None,
        'offered': [], 'errors': [],
    }
    if res.get('failed') or ('versions' not in res and res.get('msg')):
        row['errors'].append(to_text(res.get('msg') or 'probe failed'))
        return row
    v12 = _version(res, 'TLSv1.2')
    v13 = _version(res, 'TLSv1.3')
    for name in VERSIONS:
        v = (res.get('versions') or {}).get(name) or {}
        if v.get('offered'):
            row['offered'].append(name)
    if v12:
        row['session_id'] = v12.get('session_id_resumed')
        row['tls12_ticket'] = v12.get('ticket_resumed')
        row['lifetime_hint_tls12'] = v12.get('ticket_lifetime_hint') if v12.get('ticket_issued') else None
        row['key_name_tls12'] = _key_name(v12)
    if v13:
        row['tls13_psk'] = v13.get('psk_resumed')
        row['early_data_accepted'] = v13.get('early_data_accepted')
        row['lifetime_hint_tls13'] = v13.get('ticket_lifetime_hint') if v13.get('ticket_issued') else None
        row['key_name_tls13'] = _key_name(v13)
    hints = [h for h in (row['lifetime_hint_tls13'], row['lifetime_hint_tls12']) if h is not None]
    row['lifetime_hint'] = hints[0] if hints else None
    kinds = []
    for v in (v12, v13):
        k = ticket_kind(v.get('ticket_length')) if v else None
        if k is not None:
            kinds.append(k)
    if 'stateless' in kinds:
        row['ticket_kind'] = 'stateless'
    elif 'stateful' in kinds:
        row['ticket_kind'] = 'stateful (TLS 1.3 only)' if (v12 and not v12.get('ticket_issued')) else 'stateful'
    elif kinds:
        row['ticket_kind'] = 'none'
    return row


def key_name_changes(names, interval=None):
    """Summary of a time series of key names (None = no stateless ticket)."""
    seen = []
    changes = 0
    last = None
    for n in names:
        if n is None:
            continue
        if n not in seen:
            seen.append(n)
        if last is not None and n != last:
            changes += 1
        last = n
    out = {'samples': len(names), 'names': seen, 'changes': changes, 'changed': changes > 0,
           'seconds': None}
    if interval is not None and len(names) > 1:
        out['seconds'] = round(float(interval) * (len(names) - 1), 1)
    return out


def _host_state(hosts, name):
    if hosts is None or not name:
        return None
    try:
        hv = hosts[name]
    except (KeyError, TypeError, IndexError):
        return None
    try:
        state = hv['audit_host_state']
    except (KeyError, TypeError):
        return None
    return state if isinstance(state, dict) else None


def _pick_ring(state):
    rings = state.get('rings') or []
    server = state.get('server')
    for r in rings:
        if r.get('server') == server:
            return r
    return rings[0] if rings else None


def store_text(ring):
    if ring and ring.get('keys') == 'server':
        return 'none: the server makes its key, in its memory only'
    if not ring or not ring.get('fstype'):
        return None
    text = ring['fstype']
    if ring['fstype'] == 'tmpfs':
        text += ' noswap' if ring.get('noswap') else ' (may swap)'
    return text


def _count_text(counts):
    parts = []
    for name in VERSIONS:
        c = counts.get(name)
        if c:
            parts.append('%s %d/%d' % (name.replace('TLSv', 'TLS '), c['resumed'], c['total']))
    return ', '.join(parts) if parts else None


def _timeline(summaries):
    """Key names in the order the probes saw them: [(probe, version, name)], TLS 1.2 before TLS 1.3 in a probe."""
    out = []
    for i, s in enumerate(summaries):
        for v in VERSIONS:
            out.append((i, v, s.get(KEY_FIELD[v])))
    return out


def _rotated_after(timeline, position, later_names=None):
    """Whether the ticket key name seen at ``position`` of the timeline was replaced for good afterwards.

    A rotation (or a restart that makes new keys) moves the encrypting key forward: the next name seen differs and
    the old one is not seen again. Names that alternate (nodes with their own keys behind a balancer) are no rotation.
    ``later_names`` are names seen after the whole timeline (the watch), to judge the last probes too."""
    name = timeline[position][2]
    if not name:
        return False
    # A name that comes back after another one: nodes with different keys take turns (no rotation to blame).
    runs = []
    for n in [x for dummy, dummy2, x in timeline if x] + [x for x in (later_names or []) if x]:
        if not runs or runs[-1] != n:
            runs.append(n)
    if len(runs) != len(set(runs)):
        return False
    after = [n for dummy, dummy2, n in timeline[position + 1:] if n] + [n for n in (later_names or []) if n]
    if not after or after[0] == name:
        return False
    return name not in after


def count_text(c):
    """'5 of 5', 'NO: 0 of 5 (5 refused)', '4 of 5 (1 refused across a rotation)'."""
    if not c or not c.get('total'):
        return None
    text = '%d of %d' % (c['resumed'], c['total'])
    if c['resumed'] == c['total']:
        return 'yes, ' + text
    causes = []
    plain = c['refused'] - c['refused_across_rotation']
    if plain:
        causes.append('%d refused' % plain)
    if c['refused_across_rotation']:
        causes.append('%d refused across a rotation' % c['refused_across_rotation'])
    return '%s%s (%s)' % ('NO, ' if c['resumed'] == 0 else '', text, ', '.join(causes))


def probe_counts(summaries, later_names=None):
    """Per counted check: how many of the repeated probes resumed, and why the others did not."""
    timeline = _timeline(summaries)
    pos = dict(((i, v), k) for k, (i, v, dummy) in enumerate(timeline))
    out = {}
    for key, skey, version, dummy in COUNTED:
        c = {'resumed': 0, 'total': 0, 'refused': 0, 'refused_across_rotation': 0, 'probes': []}
        for i, s in enumerate(summaries):
            v = s.get(skey)
            if v is None:
                c['probes'].append(None)
                continue
            c['total'] += 1
            if v:
                c['resumed'] += 1
                c['probes'].append('resumed')
            elif _rotated_after(timeline, pos[(i, version)], later_names):
                c['refused'] += 1
                c['refused_across_rotation'] += 1
                c['probes'].append('refused across a rotation')
            else:
                c['refused'] += 1
                c['probes'].append('refused')
        if c['total']:
            c['text'] = count_text(c)
            out[key] = c
        else:
            out[key] = None
    return out


def _fingerprint(text):
    """The hex of a certificate fingerprint from `openssl x509 -fingerprint` output (or the hex itself)."""
    import re
    text = to_text(text or '').strip()
    if '=' in text:
        text = text.split('=', 1)[1]
    hexs = re.sub('[^0-9A-Fa-f]', '', text.splitlines()[0] if text else '').lower()
    return hexs if len(hexs) in (40, 64) else None


def _certificates(value):
    """{endpoint name: sha256 hex} from a command looped over endpoints (stdout: openssl's fingerprint line)."""
    out = {}
    if isinstance(value, dict) and 'results' not in value and not value.get('skipped') \
            and all(not isinstance(v, dict) for v in value.values()):
        for k, v in value.items():
            out[to_text(k)] = _fingerprint(v)
        return out
    for res in _results(value, 'certificates'):
        if res.get('failed') or res.get('rc'):
            continue
        ep = _item_endpoint(res.get('item'), 0)
        if isinstance(ep, dict):
            out[_endpoint_name(ep)] = _fingerprint(res.get('stdout'))
    return out


def _names_seen(summaries, version):
    return set(s.get(KEY_FIELD[version]) for s in summaries if s.get(KEY_FIELD[version]))


def cross_cause(source_names, target_names, source_cert, target_cert):
    """Why a session from one node does not resume on another, from what the audit saw."""
    if not source_names or not target_names:
        return None
    if not source_names & target_names:
        return 'key names differ'
    if source_cert and target_cert and source_cert != target_cert:
        return CROSS_CERT_CAUSE
    if source_cert and target_cert:
        return 'key names and certificates agree'
    return None


def _context_key(pair):
    return (to_text(pair.get('endpoint_name') or ''), to_text(pair.get('from') or ''), to_text(pair.get('to') or ''))


def context_results(contexts, saved=None):
    """Rows of the cross-context check from resumption_info results looped over [pair, version] items."""
    not_saved = {}
    for res in _results(saved, 'saved context sessions'):
        item = res.get('item') or []
        pair = _item_endpoint(item, 0) or {}
        version = item[1] if isinstance(item, (list, tuple)) and len(item) > 1 else None
        if res.get('failed'):
            not_saved[_context_key(pair) + (version,)] = to_text(res.get('msg') or 'failed')
    rows = []
    for res in _results(contexts, 'contexts'):
        item = res.get('item') or []
        pair = _item_endpoint(item, 0) or {}
        if not isinstance(pair, dict):
            raise AnsibleFilterError('contexts: each loop item must be [pair, version], got %r' % (item,))
        version = item[1] if isinstance(item, (list, tuple)) and len(item) > 1 else None
        si = res.get('session_in') or {}
        different = bool(pair.get('different', True))
        row = {'endpoint': to_text(pair.get('endpoint_name') or ''), 'from': to_text(pair.get('from') or ''),
               'to': to_text(pair.get('to') or ''), 'version': si.get('version') or version,
               'different_contexts': different, 'resumed': None, 'finding': False, 'note': None}
        key = _context_key(pair) + (version,)
        msg = to_text(res.get('msg') or '')
        if key in not_saved:
            row['note'] = 'not measured: no session under %s: %s' % (row['from'], not_saved[key])
        elif res.get('failed'):
            if 'resumption handshake' in msg:
                row['resumed'] = False
                row['note'] = 'handshake refused: %s' % msg
            else:
                row['note'] = 'not measured: %s' % msg
        else:
            row['resumed'] = bool(si.get('resumed'))
        row['finding'] = bool(row['resumed']) and different
        rows.append(row)
    return rows


def _context_text(rows):
    parts = []
    pairs = []
    for r in rows:
        k = (r['from'], r['to'])
        if k not in pairs:
            pairs.append(k)
    for a, b in pairs:
        cells = []
        for r in rows:
            if (r['from'], r['to']) != (a, b):
                continue
            v = (r['version'] or '?').replace('TLSv', 'TLS ')
            if r['resumed'] is None:
                cells.append('%s not measured' % v)
            else:
                cells.append('%s %s%s' % (v, 'yes' if r['resumed'] else 'no', ' (FINDING)' if r['finding'] else ''))
        parts.append('%s -> %s: %s' % (a, b, ', '.join(cells)))
    return '; '.join(parts) if parts else None


def resumption_report(probes, hosts=None, attempts=None, cross=None, watch=None, watch_interval=None,
                      certificates=None, contexts=None, contexts_saved=None):
    rows = []
    by_name = {}
    summaries = {}
    for res in _results(probes, 'the probe results'):
        ep, dummy = _probe_item(res.get('item'))
        if ep is None:
            ep = {'name': res.get('endpoint') or '?'}
        name = _endpoint_name(ep)
        summary = summarise_probe(res)
        if name in summaries:
            summaries[name].append(summary)
            continue
        summaries[name] = [summary]
        row = {'name': name, 'inventory_host': ep.get('inventory_host'),
               'server': ep.get('server'), 'version': None, 'mode': ep.get('mode'),
               'store': None, 'ring_generation': None, 'next_rotation': None, 'ring': None,
               'server_name': to_text(res.get('server_name') or ep.get('server_name') or ep.get('host') or ''),
               'balancer': None, 'cross_node': None, 'cross_name': None, 'watch': None,
               'certificate': None, 'certificate_sha256': None, 'probes': 0}
        row.update(summary)
        state = _host_state(hosts, row['inventory_host'])
        if state:
            row['server'] = state.get('server') or row['server']
            row['version'] = state.get('version')
            row['mode'] = state.get('mode') or row['mode']
            ring = _pick_ring(state)
            if not row['mode']:
                row['mode'] = ('rotated (fleet)' if ring.get('fleet') else 'rotated') if ring else None
            if ring:
                row['ring'] = ring
                row['store'] = store_text(ring)
                row['ring_generation'] = ring.get('generation')
                row['next_rotation'] = ring.get('next_rotation')
        row['_state'] = state
        rows.append(row)
        by_name[name] = row

    series = {}
    for res in _results(watch, 'watch'):
        name = _endpoint_name(_item_endpoint(res.get('item'), 1))
        s = series.setdefault(name, {'TLSv1.2': [], 'TLSv1.3': [], 'all': []})
        summary = summarise_probe(res)
        s['TLSv1.2'].append(summary['key_name_tls12'])
        s['TLSv1.3'].append(summary['key_name_tls13'])
        s['all'].extend([summary['key_name_tls12'], summary['key_name_tls13']])

    for row in rows:
        sums = summaries[row['name']]
        row['probes'] = len(sums)
        ok = [s for s in sums if not s['errors']]
        first = ok[0] if ok else sums[0]
        for k in ('endpoint', 'early_data_accepted', 'lifetime_hint', 'lifetime_hint_tls12', 'lifetime_hint_tls13',
                  'ticket_kind', 'key_name_tls12', 'key_name_tls13', 'offered'):
            row[k] = first[k]
        # Early data: accepted once is accepted.
        seen = [s['early_data_accepted'] for s in sums if s['early_data_accepted'] is not None]
        row['early_data_accepted'] = any(seen) if seen else None
        errors = []
        for i, s in enumerate(sums):
            for e in s['errors']:
                errors.append(('probe %d of %d: %s' % (i + 1, len(sums), e)) if len(sums) > 1 else e)
        row['errors'] = errors
        later = (series.get(row['name']) or {}).get('all')
        row.update(probe_counts(ok, later))
        watched = series.get(row['name']) or {}
        row['key_names_seen'] = dict((v, key_name_changes([s[KEY_FIELD[v]] for s in ok] + list(watched.get(v) or [])))
                                     for v in VERSIONS)
        if not row['mode'] and ok:
            row['mode'] = ('observed: ' if row['_state'] else 'unmanaged: ') + observed_mode(row)
        del row['_state']

    certs = _certificates(certificates)
    for name, fp in certs.items():
        if name in by_name and fp:
            by_name[name]['certificate_sha256'] = fp
            by_name[name]['certificate'] = fp[:16] + '..'

    counts = {}
    for res in _results(attempts, 'attempts'):
        item = res.get('item') or []
        name = _endpoint_name(_item_endpoint(item, 0))
        a = res.get('attempts') or {}
        if res.get('failed') or not a:
            continue
        entry = counts.setdefault(name, {})
        entry[a.get('version')] = {'resumed': a.get('resumed', 0), 'total': a.get('total', 0)}
    for name, entry in counts.items():
        if name in by_name:
            by_name[name]['balancer'] = {'counts': entry, 'text': _count_text(entry)}

    cross_counts = {}
    for res in _results(cross, 'cross'):
        item = res.get('item') or []
        pair = _item_endpoint(item, 0) or {}
        version = item[1] if isinstance(item, (list, tuple)) and len(item) > 1 else None
        source = _endpoint_name(pair.get('source') or {})
        target = _endpoint_name(pair.get('target') or {})
        entry = cross_counts.setdefault(source, {})
        si = res.get('session_in') or {}
        version = si.get('version') or version
        c = entry.setdefault(version, {'resumed': 0, 'total': 0, 'targets': []})
        c['total'] += 1
        ok = bool(si.get('resumed')) and not res.get('failed')
        c['resumed'] += 1 if ok else 0
        t = {'target': target, 'resumed': ok, 'cause': None}
        if not ok:
            t['cause'] = cross_cause(_names_seen(summaries.get(source, []), version) if version in KEY_FIELD else set(),
                                     _names_seen(summaries.get(target, []), version) if version in KEY_FIELD else set(),
                                     certs.get(source), certs.get(target))
        c['targets'].append(t)
    for name, entry in cross_counts.items():
        if name in by_name:
            causes = []
            for c in entry.values():
                for t in c['targets']:
                    if t['cause'] and t['cause'] not in causes:
                        causes.append(t['cause'])
            text = _count_text(entry)
            if causes and text:
                text += ' (%s)' % '; '.join(causes)
            by_name[name]['cross_node'] = {'counts': entry, 'causes': causes, 'text': text}

    findings = []
    ctx = context_results(contexts, contexts_saved)
    for name in by_name:
        mine = [r for r in ctx if r['endpoint'] == name]
        if mine:
            by_name[name]['cross_name'] = {'pairs': mine, 'text': _context_text(mine)}
    for r in ctx:
        if r['finding']:
            findings.append('%s: a %s session made under %s resumed under %s, a different trust context'
                            % (r['endpoint'], (r['version'] or '').replace('TLSv', 'TLS '), r['from'], r['to']))

    for name, s in series.items():
        if name not in by_name:
            continue
        w = {'TLSv1.2': key_name_changes(s['TLSv1.2'], watch_interval),
             'TLSv1.3': key_name_changes(s['TLSv1.3'], watch_interval)}
        w['text'] = watch_text(w)
        by_name[name]['watch'] = w
    return {'endpoints': rows, 'findings': findings}


def _resumed(c):
    """A count (or an old-style boolean): resumed at least once."""
    if isinstance(c, dict):
        return c.get('resumed', 0) > 0
    return bool(c)


def observed_mode(row):
    if row.get('ticket_kind') == 'stateless':
        return 'tickets'
    if _resumed(row.get('session_id')):
        return 'session cache only'
    if _resumed(row.get('tls13_psk')):
        return 'stateful TLS 1.3 tickets only'
    return 'no resumption'


def watch_text(w):
    """One line: the TLS 1.3 series (or TLS 1.2 when TLS 1.3 had no key names); details stay in the data."""
    for name in ('TLSv1.3', 'TLSv1.2'):
        s = w.get(name)
        if not s or not s['names']:
            continue
        over = (' in %ss' % int(round(s['seconds']))) if s.get('seconds') is not None else ''
        return '%d names, %d changes%s' % (len(s['names']), s['changes'], over)
    return 'no key names (stateful or no tickets)'


# ----------------------------------------------------------------- pairs

def resumption_pairs(endpoints):
    """[{source, target}] for endpoints that share a non-empty ``group``."""
    if not isinstance(endpoints, (list, tuple)):
        raise AnsibleFilterError('resumption_pairs expects a list of endpoints, got %s' % type(endpoints).__name__)
    pairs = []
    for a in endpoints:
        _endpoint_name(a)
        if not a.get('group'):
            continue
        for b in endpoints:
            if b is a or b.get('group') != a.get('group'):
                continue
            if _endpoint_name(a) == _endpoint_name(b):
                continue
            pairs.append({'source': a, 'target': b})
    return pairs


# ----------------------------------------------------------------- context pairs

def resumption_context_pairs(pairs, endpoints):
    """audit_context_pairs resolved against audit_endpoints: [{endpoint, endpoint_name, from, to, different}]."""
    if pairs is None:
        return []
    if not isinstance(pairs, (list, tuple)):
        raise AnsibleFilterError('resumption_context_pairs expects a list of pairs, got %s' % type(pairs).__name__)
    if not isinstance(endpoints, (list, tuple)):
        raise AnsibleFilterError('resumption_context_pairs: endpoints must be a list, got %s' % type(endpoints).__name__)
    by_name = {}
    for ep in endpoints:
        by_name[_endpoint_name(ep)] = ep
    out = []
    for p in pairs:
        if not isinstance(p, dict):
            raise AnsibleFilterError('each context pair must be a dictionary {endpoint, from, to}, got %r' % (p,))
        names = p.get('names')
        a, b = p.get('from'), p.get('to')
        if names is not None:
            if not isinstance(names, (list, tuple)) or len(names) != 2:
                raise AnsibleFilterError('context pair %r: names must be two server names' % (p,))
            a, b = names
        if not a or not b or to_text(a) == to_text(b):
            raise AnsibleFilterError('context pair %r needs two different server names (from, to)' % (p,))
        ep = by_name.get(to_text(p.get('endpoint') or ''))
        if ep is None:
            raise AnsibleFilterError('context pair %r: endpoint %r is not in audit_endpoints' % (p, p.get('endpoint')))
        trust = to_text(p.get('trust', 'different'))
        if trust not in ('different', 'same'):
            raise AnsibleFilterError("context pair %r: trust must be 'different' or 'same'" % (p,))
        out.append({'endpoint': ep, 'endpoint_name': _endpoint_name(ep), 'from': to_text(a), 'to': to_text(b),
                    'different': trust == 'different',
                    'id': '%s %s %s' % (_endpoint_name(ep), to_text(a), to_text(b))})
    return out
