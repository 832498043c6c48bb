# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters that summarise resumption probes; documented in the .yml files beside this one.


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
    ('cross_node', 'cross-node resumption'),
    ('balancer', 'through balancer'),
    ('watch', 'key name over time'),
    ('errors', 'errors'),
]


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


def resumption_report(probes, hosts=None, attempts=None, cross=None, watch=None, watch_interval=None):
    rows = []
    by_name = {}
    for res in _results(probes, 'the probe results'):
        ep = _item_endpoint(res.get('item'), 0)
        if ep is None:
            ep = {'name': res.get('endpoint') or '?'}
        name = _endpoint_name(ep)
        row = {'name': name, 'inventory_host': ep.get('inventory_host'),
               'server': ep.get('server'), 'version': None, 'mode': ep.get('mode'),
               'store': None, 'ring_generation': None, 'next_rotation': None, 'ring': None,
               'balancer': None, 'cross_node': None, 'watch': None}
        row.update(summarise_probe(res))
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
        if not row['mode'] and not row['errors']:
            row['mode'] = ('observed: ' if state else 'unmanaged: ') + observed_mode(row)
        rows.append(row)
        by_name[name] = row

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
        entry = cross_counts.setdefault(source, {})
        si = res.get('session_in') or {}
        version = si.get('version') or version
        c = entry.setdefault(version, {'resumed': 0, 'total': 0, 'targets': []})
        c['total'] += 1
        ok = bool(si.get('resumed')) and not res.get('failed')
        c['resumed'] += 1 if ok else 0
        c['targets'].append({'target': _endpoint_name(pair.get('target') or {}), 'resumed': ok})
    for name, entry in cross_counts.items():
        if name in by_name:
            by_name[name]['cross_node'] = {'counts': entry, 'text': _count_text(entry)}

    series = {}
    for res in _results(watch, 'watch'):
        name = _endpoint_name(_item_endpoint(res.get('item'), 1))
        s = series.setdefault(name, {'TLSv1.2': [], 'TLSv1.3': []})
        summary = summarise_probe(res)
        s['TLSv1.2'].append(summary['key_name_tls12'])
        s['TLSv1.3'].append(summary['key_name_tls13'])
    for name, s in series.items():
        if name not in by_name:
            continue
        w = {'TLSv1.2': key_name_changes(s['TLSv1.2'], watch_interval),
             'TLSv1.3': key_name_changes(s['TLSv1.3'], watch_interval)}
        w['text'] = watch_text(w)
        by_name[name]['watch'] = w
    return {'endpoints': rows}


def observed_mode(row):
    if row.get('ticket_kind') == 'stateless':
        return 'tickets'
    if row.get('session_id'):
        return 'session cache only'
    if row.get('tls13_psk'):
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


# ----------------------------------------------------------------- ring state

def _json(value, what):
    """Parsed JSON from a registered command result, its stdout, or parsed data."""
    import json
    if isinstance(value, dict) and 'stdout' in value:
        value = value['stdout']
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise AnsibleFilterError('%s is not JSON: %s' % (what, text[:80]))
    return value


def _utc(usec):
    import datetime
    try:
        usec = int(usec)
    except (TypeError, ValueError):
        return None
    if usec <= 0:
        return None
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=usec)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def _mounts(findmnt):
    findmnt = _json(findmnt, 'findmnt output')
    out = []

    def walk(nodes):
        for n in nodes or []:
            out.append(n)
            walk(n.get('children'))
    walk((findmnt or {}).get('filesystems'))
    return out


def resumption_ring_state(status, findmnt=None, timers=None):
    """Rings of one host from `hardened-tls-ring --config F status` results (looped over the config files),
    `findmnt -J -o TARGET,FSTYPE,OPTIONS` output, and `systemctl list-timers --all -o json` of the rotation timers."""
    import json
    mounts = _mounts(findmnt)
    units = dict((t.get('unit'), t) for t in (_json(timers, 'systemctl list-timers output') or []) if isinstance(t, dict))
    rings = []
    for res in _results(status, 'status'):
        if res.get('failed') or res.get('skipped'):
            continue
        try:
            doc = json.loads(res.get('stdout') or '{}') or {}
            ring, fleet = doc.get('ring'), doc.get('fleet')
        except (ValueError, AttributeError):
            raise AnsibleFilterError('ring status of %s is not JSON' % res.get('item'))
        if not ring:
            continue
        conf = to_text(res.get('item') or '')
        name = conf.rsplit('/', 1)[-1]
        if name.endswith('.json'):
            name = name[:-5]
        entry = {
            'name': name,
            'server': ring.get('server'),
            'store': ring.get('store'),
            'generation': ring.get('generation'),
            'current_key_name': ring.get('current_key_name'),
            'rotated_at': ring.get('rotated_at'),
            'size': ring.get('size'),
            'fleet': bool(ring.get('fleet')),
            'keys': ring.get('keys') or 'ring',
            'fstype': None, 'noswap': None, 'mount_options': None,
            'timer': None, 'next_rotation': None,
        }
        if isinstance(fleet, dict) and fleet.get('period'):
            entry['fleet'] = entry['fleet'] or fleet.get('origin') == 'fleet'
            entry['fleet_epoch'] = fleet.get('epoch')
            entry['fleet_period'] = fleet.get('period')
        for m in mounts:
            if m.get('target') == ring.get('store'):
                opts = (m.get('options') or '').split(',')
                entry['fstype'] = m.get('fstype')
                entry['noswap'] = 'noswap' in opts
                entry['mount_options'] = m.get('options')
        unit = units.get('hardened-tls-rotate-%s.timer' % name)
        if unit:
            entry['next_rotation'] = _utc(unit.get('next'))
            entry['timer'] = 'scheduled' if entry['next_rotation'] else 'not scheduled'
        elif units or timers is not None:
            entry['timer'] = 'none'
        if isinstance(fleet, dict) and fleet.get('period'):
            # A fleet rotates at the boundaries of its schedule, the same instant on
            # every node: epoch + g * period (the timer only wakes up near them).
            try:
                entry['next_rotation'] = _utc(int(fleet['next_boundary']) * 1000000) or entry['next_rotation']
            except (KeyError, TypeError, ValueError):
                pass
        rings.append(entry)
    return rings


# ----------------------------------------------------------------- table

def _cell(key, row, width=None):
    v = row.get(key)
    if isinstance(v, dict):
        v = v.get('text')
    if isinstance(v, list):
        v = '; '.join(to_text(x) for x in v) if v else None
    if key == 'early_data_accepted' and v is not None:
        v = 'ACCEPTED' if v else 'refused'
    elif v is True:
        v = 'yes'
    elif v is False:
        v = 'NO'
    elif v is None:
        v = '-'
    v = to_text(v)
    if width and key.startswith('key_name') and len(v) > 14:
        v = v[:12] + '..'
    if width and len(v) > width:
        v = v[:width - 1] + '~'
    return v


def resumption_table(report, format='text', width=30):
    if isinstance(report, dict):
        rows = report.get('endpoints') or []
    else:
        rows = list(report or [])
    if format not in ('text', 'markdown'):
        raise AnsibleFilterError("resumption_table: format must be 'text' or 'markdown', got %r" % (format,))
    fields = [(k, label) for k, label in FIELDS
              if any(r.get(k) not in (None, [], '') for r in rows)]
    names = [to_text(r.get('name')) for r in rows]
    if format == 'markdown':
        lines = ['| | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
        for k, label in fields:
            lines.append('| %s | %s |' % (label, ' | '.join(_cell(k, r).replace('|', '\\|') for r in rows)))
        return '\n'.join(lines) + '\n'
    cells = [[_cell(k, r, width) for r in rows] for k, dummy in fields]
    label_w = max([len(label) for dummy, label in fields] + [0])
    col_w = [max([len(names[i])] + [len(c[i]) for c in cells]) for i in range(len(rows))]
    out = [('%s  %s' % (''.ljust(label_w), '  '.join(n.ljust(col_w[i]) for i, n in enumerate(names)))).rstrip()]
    out.append('%s  %s' % ('-' * label_w, '  '.join('-' * w for w in col_w)))
    for (k, label), c in zip(fields, cells):
        out.append(('%s  %s' % (label.ljust(label_w), '  '.join(c[i].ljust(col_w[i]) for i in range(len(rows))))).rstrip())
    return '\n'.join(out) + '\n'


class FilterModule(object):
    def filters(self):
        return {
            'resumption_report': resumption_report,
            'resumption_table': resumption_table,
            'resumption_pairs': resumption_pairs,
            'resumption_ring_state': resumption_ring_state,
        }
