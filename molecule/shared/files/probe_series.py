# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A series of resumption probes from a real TLS client (Python's ssl, OpenSSL),
each a full handshake and an immediate resumption per TLS version, and the
server's reloads from its journal, so that every refused resumption is either
explained by a reload that fell around it or counted as unexplained.

    probe_series.py PORT COUNT INTERVAL UNIT

Prints one JSON document: per version the attempts, the misses, the misses a
reload explains and the times of the unexplained ones; the reloads seen. No
session, ticket or key byte is printed or written anywhere.
"""
import json
import socket
import ssl
import subprocess
import sys
import time

REQUEST = b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'
VERSIONS = (('TLSv1.2', ssl.TLSVersion.TLSv1_2), ('TLSv1.3', ssl.TLSVersion.TLSv1_3))
# A reload explains a miss when it falls in [start - BEFORE, end + AFTER] of the
# attempt: Apache's graceful restart is signalled after "Reloading" and its new
# children start within about a second of "Reloaded".
BEFORE, AFTER = 1.0, 2.0


def context(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


def connect(ctx, port, session=None):
    raw = socket.create_connection(('127.0.0.1', port), timeout=5)
    try:
        tls = ctx.wrap_socket(raw, server_hostname='localhost', session=session)
        tls.sendall(REQUEST)
        # Read to the end: TLS 1.3 tickets arrive after the handshake.
        while True:
            try:
                if not tls.recv(16384):
                    break
            except (OSError, ssl.SSLError):
                break
        reused, new_session = tls.session_reused, tls.session
        tls.close()
        return reused, new_session
    finally:
        raw.close()


def reloads(unit, since):
    out = subprocess.run(['journalctl', '--no-pager', '-o', 'json', '-u', unit, '--since', '@%d' % int(since)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout.decode('utf-8', 'replace')
    events = []
    for line in out.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get('MESSAGE') or ''
        if isinstance(message, str) and message.split(' ', 1)[0] in ('Reloading', 'Reloaded', 'Stopping', 'Started'):
            events.append(int(entry['__REALTIME_TIMESTAMP']) / 1e6)
    return sorted(events)


def main():
    port, count, interval, unit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    began = time.time()
    attempts = dict((name, []) for name, dummy in VERSIONS)
    for i in range(count):
        if i:
            time.sleep(interval)
        for name, version in VERSIONS:
            ctx = context(version)
            start = time.time()
            error = None
            try:
                dummy, session = connect(ctx, port)
                resumed, dummy = connect(ctx, port, session)
            except (OSError, ssl.SSLError) as e:
                resumed, error = False, str(e)
            session = None
            attempts[name].append({'start': start, 'end': time.time(), 'resumed': bool(resumed), 'error': error})
    events = reloads(unit, began - 5)
    result = {'reloads': [round(t, 3) for t in events], 'began': round(began, 3), 'ended': round(time.time(), 3),
              'versions': {}}
    for name, dummy in VERSIONS:
        misses = [a for a in attempts[name] if not a['resumed']]
        explained = [a for a in misses if any(a['start'] - BEFORE <= t <= a['end'] + AFTER for t in events)]
        result['versions'][name] = {
            'attempts': len(attempts[name]),
            'resumed': len(attempts[name]) - len(misses),
            'misses': len(misses),
            'explained_by_reload': len(explained),
            'unexplained': [round(a['start'], 3) for a in misses if a not in explained],
            'errors': [a['error'] for a in misses if a['error']],
        }
    print(json.dumps(result, sort_keys=True))


if __name__ == '__main__':
    main()
