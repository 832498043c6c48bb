# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS client of `make bench`, run inside a container on the hardened-tls network
(stdlib only). Prints one JSON document. Sessions live in this process's memory
only; nothing about them is printed but counts.

  bench_client.py cross HOST PORT VERSION ATTEMPTS
  bench_client.py rate HOST PORT VERSION full|resumed SECONDS
  bench_client.py rotation HOST PORT VERSION SECONDS LIFETIME [TICK]
"""
import json
import socket
import ssl
import sys
import time

SNI = 'www.bench.test'
REQUEST = b'GET / HTTP/1.0\r\nHost: www.bench.test\r\n\r\n'


def context(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_3 if version == 'TLSv1.3' else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = v
    ctx.maximum_version = v
    return ctx


def connect(ctx, host, port, session=None):
    """One connection with a request (TLS 1.3 tickets arrive after the handshake).
    Returns (session, reused)."""
    raw = socket.create_connection((host, port), timeout=5)
    # Without it, Nagle and the server's delayed ACK hold the request after a
    # TLS 1.2 abbreviated handshake for 40 ms: a floor of ~20 resumptions/s.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=SNI, session=session)
        try:
            tls.sendall(REQUEST)
            while tls.recv(4096):
                pass
            return tls.session, tls.session_reused
        finally:
            tls.close()
    finally:
        raw.close()


def cross(host, port, version, attempts):
    ctx = context(version)
    session, dummy = connect(ctx, host, port)
    resumed = sum(1 for dummy in range(attempts) if connect(ctx, host, port, session)[1])
    return {'version': version, 'attempts': attempts, 'resumed': resumed}


def rate(host, port, version, mode, seconds):
    ctx = context(version)
    session = connect(ctx, host, port)[0] if mode == 'resumed' else None
    n = reused = 0
    start = time.monotonic()
    deadline = start + seconds
    while time.monotonic() < deadline:
        latest, r = connect(ctx, host, port, session)
        n += 1
        reused += 1 if r else 0
        if mode == 'resumed' and latest is not None:
            # Keep the newest session, as browsers do: after a rotation the server
            # renews a ticket under a non-encrypting key, and one that left the ring
            # would make every later attempt a full handshake.
            session = latest
    elapsed = time.monotonic() - start
    return {'version': version, 'mode': mode, 'handshakes': n, 'resumed': reused, 'seconds': round(elapsed, 3),
            'per_second': round(n / elapsed, 1)}


def rotation(host, port, version, seconds, lifetime, tick=1.0):
    """Every tick: one new session; then offer sessions younger than `lifetime`
    (at most 6, spread over their ages). Records [t, offered, resumed] per tick."""
    ctx = context(version)
    pool = []  # (issued monotonic, session)
    timeline = []
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        t0 = time.monotonic()
        try:
            pool.append((t0, connect(ctx, host, port)[0]))
        except (OSError, ssl.SSLError):
            pass
        pool = [(t, s) for t, s in pool if t0 - t < lifetime]
        young = [p for p in pool if t0 - p[0] >= tick]
        step = max(1, len(young) // 6)
        picked = young[::step][:6]
        ok = 0
        for dummy, s in picked:
            try:
                ok += 1 if connect(ctx, host, port, s)[1] else 0
            except (OSError, ssl.SSLError):
                pass
        timeline.append([round(t0 - start, 2), len(picked), ok])
        time.sleep(max(0.0, tick - (time.monotonic() - t0)))
    return {'version': version, 'lifetime': lifetime, 'timeline': timeline,
            'offered': sum(x[1] for x in timeline), 'resumed': sum(x[2] for x in timeline)}


def main(argv):
    cmd = argv[0]
    if cmd == 'cross':
        out = cross(argv[1], int(argv[2]), argv[3], int(argv[4]))
    elif cmd == 'rate':
        out = rate(argv[1], int(argv[2]), argv[3], argv[4], float(argv[5]))
    elif cmd == 'rotation':
        out = rotation(argv[1], int(argv[2]), argv[3], float(argv[4]), float(argv[5]),
                       float(argv[6]) if len(argv) > 6 else 1.0)
    else:
        raise SystemExit(__doc__)
    sys.stdout.write(json.dumps(out) + '\n')


if __name__ == '__main__':
    main(sys.argv[1:])
