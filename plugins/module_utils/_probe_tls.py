# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""The probed endpoint and the Python ``ssl`` client of the probe (see _probe).

:class:`Endpoint` describes what is probed (host, port, server name,
certificate checks, timeout) with the request sent after each handshake
(:func:`build_request`: an HTTP/1.0 GET unless told otherwise).  The client
makes one TLS connection at a time (:func:`tls_connection`) and resumes a
session (:func:`resume`); sessions stay in this process's memory.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket
import ssl
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_errors import HandshakeRefused, ProbeError

REQUEST_NONE = 'none'

# How long to wait for post-handshake messages (TLS 1.3 tickets) when no
# request is sent (request=none).
READ_WINDOW = 1.0
# Stop reading a response after this many bytes: tickets come first.
READ_LIMIT = 1024 * 1024

_SSL_VERSIONS = {
    'TLSv1.2': ssl.TLSVersion.TLSv1_2,
    'TLSv1.3': ssl.TLSVersion.TLSv1_3,
}


# ---------------------------------------------------------------------------
# Endpoint description
# ---------------------------------------------------------------------------

def is_ip(value):
    """Whether ``value`` is an IPv4 or IPv6 address (not a host name)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
            return True
        except (OSError, ValueError):
            pass
    return False


def default_request(server_name, port):
    host = server_name
    if ':' in host:
        host = '[%s]' % host
    if port != 443:
        host = '%s:%d' % (host, port)
    return ('GET / HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' % host).encode('ascii', 'replace')


def build_request(request, server_name, port):
    """``None`` -> HTTP/1.0 GET; ``'none'`` -> b''; any other text as UTF-8."""
    if request is None:
        return default_request(server_name, port)
    if isinstance(request, bytes):
        return request
    if request.strip().lower() == REQUEST_NONE:
        return b''
    return request.encode('utf-8')


class Endpoint(object):
    def __init__(self, host, port=443, server_name=None, validate_certs=True, ca_path=None,
                 timeout=5.0, request=None):
        if not host:
            raise ProbeError('host is required')
        if not 0 < int(port) < 65536:
            raise ProbeError('port %s is out of range' % port)
        self.host = host
        self.port = int(port)
        self.server_name = server_name or host
        self.validate_certs = bool(validate_certs)
        self.ca_path = ca_path
        self.timeout = float(timeout)
        self.request = build_request(request, self.server_name, self.port)
        if ca_path and not os.path.isfile(ca_path):
            raise ProbeError('ca_path %s is not a file' % ca_path)

    @property
    def name(self):
        if ':' in self.host:
            return '[%s]:%d' % (self.host, self.port)
        return '%s:%d' % (self.host, self.port)

    def connect_error(self, exc):
        return ProbeError('cannot connect to %s: %s' % (self.name, exc))


# ---------------------------------------------------------------------------
# Python ssl client
# ---------------------------------------------------------------------------

def ssl_context(ep, version, no_ticket=False):
    """A client context for ``ep`` limited to one TLS version."""
    if ep.validate_certs:
        ctx = ssl.create_default_context(cafile=ep.ca_path)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = _SSL_VERSIONS[version]
    ctx.maximum_version = _SSL_VERSIONS[version]
    if no_ticket:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


def check_tcp(ep):
    """Open and close a TCP connection; a clear ProbeError if that fails."""
    try:
        sock = socket.create_connection((ep.host, ep.port), timeout=ep.timeout)
    except (OSError, socket.error) as e:
        raise ep.connect_error(e)
    sock.close()


def _exchange(tls, ep):
    """Send the request and read, so that TLS 1.3 tickets get processed."""
    try:
        if ep.request:
            tls.sendall(ep.request)
            tls.settimeout(ep.timeout)
        else:
            tls.settimeout(min(READ_WINDOW, ep.timeout))
        received = 0
        deadline = time.time() + ep.timeout
        while received < READ_LIMIT and time.time() < deadline:
            chunk = tls.recv(16384)
            if not chunk:
                break
            received += len(chunk)
    except (ssl.SSLError, OSError, socket.error):
        # A timeout or a reset after the response: the session is what counts.
        pass


def tls_connection(ep, ctx, session=None):
    """One TLS connection; returns facts and the session (kept in memory)."""
    try:
        raw = socket.create_connection((ep.host, ep.port), timeout=ep.timeout)
    except (OSError, socket.error) as e:
        raise ep.connect_error(e)
    try:
        try:
            tls = ctx.wrap_socket(raw, server_hostname=ep.server_name, session=session)
        except ssl.SSLCertVerificationError as e:
            raise ProbeError('certificate verification failed: %s: %s'
                             % (ep.name, getattr(e, 'verify_message', None) or e))
        except (ssl.SSLError, OSError, socket.error) as e:
            raise HandshakeRefused(str(e) or e.__class__.__name__)
        try:
            cipher = tls.cipher()
            facts = {'version': tls.version(), 'cipher': cipher[0] if cipher else None}
            _exchange(tls, ep)
            facts['reused'] = bool(tls.session_reused)
            new_session = tls.session
        finally:
            try:
                tls.close()
            except (OSError, ssl.SSLError):
                pass
    finally:
        raw.close()
    facts['ticket_issued'] = bool(new_session is not None and new_session.has_ticket)
    facts['ticket_lifetime_hint'] = (int(new_session.ticket_lifetime_hint)
                                     if facts['ticket_issued'] else None)
    return facts, new_session


def resume(ep, ctx, session):
    """Whether a new connection resumed ``session`` (False without a session)."""
    if session is None:
        return False
    try:
        facts, dummy = tls_connection(ep, ctx, session=session)
    except HandshakeRefused as e:
        raise ProbeError('resumption handshake with %s failed: %s' % (ep.name, e))
    return facts['reused']
