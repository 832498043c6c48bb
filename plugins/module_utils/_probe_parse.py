# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""Parsers of ``openssl`` output for the probe (see _probe): pure functions, no I/O.

* :func:`parse_s_client_output` and :func:`parse_sess_id_text` keep only
  non-secret fields (never a master secret, a resumption PSK or ticket bytes
  past the 16-byte key name);
* :func:`s_client_failed` and :func:`s_client_error` tell whether an
  ``s_client`` run failed and which error that is;
* :func:`safe_lines` picks what of openssl's stderr may go into a message.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import re

from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_errors import HandshakeRefused, ProbeError

# Lines of openssl output that carry secrets; never copied into a message.
_SECRET_MARKERS = ('master-key', 'resumption psk', 'session ticket', 'begin ssl session',
                   'end ssl session', 'early_secret', 'traffic_secret', 'exporter_secret')

_STATUS_RE = re.compile(r'^(New|Reused), (\S+), Cipher is (\S+)', re.MULTILINE)
_EARLY_RE = re.compile(r'^Early data was (accepted|rejected|not sent)', re.MULTILINE)
_HEXDUMP_RE = re.compile(r'^\s*([0-9a-fA-F]{4}) - (.*)$')


def parse_s_client_output(text):
    """Parse what ``openssl s_client`` printed on stdout.

    Only the FIRST status and early-data lines count: they are printed right
    after the handshake, before any application data (a response body may
    contain anything).

    Returns ``{'status': 'new'|'reused'|None, 'version', 'cipher',
    'early_data': 'accepted'|'rejected'|'not_sent'|None}``.
    """
    result = {'status': None, 'version': None, 'cipher': None, 'early_data': None}
    m = _STATUS_RE.search(text)
    if m is None:
        return result
    result['status'] = m.group(1).lower()
    result['version'] = m.group(2)
    result['cipher'] = m.group(3)
    # The early-data line belongs to the same summary block (ends at "---").
    block = text[m.end():]
    end = block.find('\n---')
    if end >= 0:
        block = block[:end]
    e = _EARLY_RE.search(block)
    if e:
        result['early_data'] = e.group(1).replace(' ', '_')
    return result


def parse_sess_id_text(text):
    """Parse ``openssl sess_id -noout -text``: only non-secret fields.

    Returns ``{'protocol', 'cipher', 'ticket_lifetime_hint' (int or None),
    'ticket_length' (bytes, 0 without a ticket), 'ticket_key_name' (hex of
    the first 16 ticket bytes or None), 'max_early_data' (int or None)}``.
    The master key / resumption PSK lines are skipped, and ticket bytes past
    the 16th are counted, never kept.
    """
    result = {'protocol': None, 'cipher': None, 'ticket_lifetime_hint': None,
              'ticket_length': 0, 'ticket_key_name': None, 'max_early_data': None}
    name = bytearray()
    length = 0
    in_ticket = False
    for line in text.splitlines():
        stripped = line.strip()
        if in_ticket:
            m = _HEXDUMP_RE.match(line)
            if m:
                # 16 bytes as "xx " / "xx-" take 48 columns; the ASCII column follows.
                octets = re.findall(r'[0-9a-fA-F]{2}', m.group(2)[:48])
                for octet in octets:
                    if len(name) < 16:
                        name.append(int(octet, 16))
                    length += 1
                continue
            in_ticket = False
        if stripped == 'TLS session ticket:':
            in_ticket = True
            continue
        key, sep, value = stripped.partition(':')
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if key == 'Protocol':
            result['protocol'] = value
        elif key == 'Cipher':
            result['cipher'] = value
        elif key == 'TLS session ticket lifetime hint':
            m = re.match(r'(\d+)', value)
            if m:
                result['ticket_lifetime_hint'] = int(m.group(1))
        elif key == 'Max Early Data':
            m = re.match(r'(\d+)', value)
            if m:
                result['max_early_data'] = int(m.group(1))
    result['ticket_length'] = length
    if name:
        result['ticket_key_name'] = binascii.hexlify(bytes(name)).decode('ascii')
    return result


def s_client_failed(parsed, rc, stderr, killed=False):
    """Did the s_client handshake fail?

    s_client prints its "New, ..." summary even when the handshake failed;
    with ``-sess_in`` that summary shows the version and cipher of the
    offered session, so the status line alone proves nothing.  A failed
    handshake exits non-zero with an OpenSSL error on stderr.  An
    "unexpected eof while reading" after the handshake (a server closing
    without close_notify) is not a handshake failure.
    """
    if parsed['status'] is None or parsed['version'] in (None, '(NONE)'):
        return True
    if rc == 0 or killed:
        return False
    for line in stderr.splitlines():
        low = line.lower()
        if 'connect:errno' in low:
            return True
        if ':error:' in low and 'unexpected eof while reading' not in low:
            return True
    return False


def s_client_error(endpoint, rc, stderr):
    """The exception for a failed s_client run against ``endpoint`` (host:port).

    A ProbeError when the TCP connection or the certificate check failed (the
    probe cannot go on), a HandshakeRefused otherwise (the server refused the
    handshake: what the probe is there to find out).  The message holds only
    :func:`safe_lines` of stderr.
    """
    detail = safe_lines(stderr)
    low = stderr.lower()
    if 'connect:errno' in low or 'connection refused' in low:
        return ProbeError('cannot connect to %s: %s' % (endpoint, detail))
    if 'verify error' in low or 'certificate verify failed' in low:
        return ProbeError('certificate verification failed: %s: %s' % (endpoint, detail))
    return HandshakeRefused('openssl s_client handshake with %s failed (exit %s): %s' % (endpoint, rc, detail))


def safe_lines(text, limit=3):
    """Last lines of openssl's stderr, without anything that looks secret."""
    lines = []
    for line in text.splitlines():
        low = line.lower().strip()
        if not low or any(marker in low for marker in _SECRET_MARKERS):
            continue
        if re.match(r'^[0-9a-f]{4} - ', low):
            continue
        lines.append(line.strip())
    return '; '.join(lines[-limit:])
