# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""TLS session-resumption probe: :func:`probe` and its steps.

Plain functions and small classes, no AnsibleModule: the module
``resumption_info`` is a thin wrapper around :func:`probe`, and the same code
runs standalone on a host.

Two clients are used:

* Python's ``ssl`` module for the resumption checks themselves (session ID,
  TLS 1.2 ticket, TLS 1.3 PSK): sessions stay in memory.
* The ``openssl`` command line (``s_client`` and ``sess_id``) for what Python
  cannot see or do: the ticket bytes (their first 16 bytes are the key name),
  early data, and sessions saved to or loaded from a file.

This module runs the checks; the parts live beside it:

* _probe_errors: ProbeError (a message for the user) and HandshakeRefused;
* _probe_tls: the endpoint, the request and the Python ``ssl`` client;
* _probe_openssl: the ``openssl`` command line;
* _probe_parse: parsers of openssl's output (pure, no I/O);
* _probe_files: session files, on tmpfs or ramfs only.

Secrets rules: a session master secret / resumption PSK, a session PEM or
ticket bytes beyond the 16-byte key name never leave these modules: results
and error messages carry only parsed, non-secret fields.  Temporary session
files live in a private 0700 directory on tmpfs and are overwritten then
removed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_errors import HandshakeRefused, ProbeError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_files import (
    PrivateDir,
    check_memory_path,
    filesystem_type,
    write_session_file,
)
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_openssl import OpenSSL
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_tls import (
    Endpoint,
    check_tcp,
    resume,
    ssl_context,
    tls_connection,
)


TLS_VERSIONS = ('TLSv1.2', 'TLSv1.3')
CHECKS = ('session_id', 'ticket', 'psk', 'early_data')

# The old name, still used from here by tests/integration/test_probe_live.py.
_filesystem_type = filesystem_type


# ---------------------------------------------------------------------------
# The probe
# ---------------------------------------------------------------------------

def _empty_version_result(offered, error=None):
    return {
        'offered': offered,
        'error': error,
        'version': None,
        'cipher': None,
        'session_id_resumed': None,
        'ticket_issued': None,
        'ticket_lifetime_hint': None,
        'ticket_length': None,
        'ticket_key_name': None,
        'ticket_resumed': None,
        'psk_resumed': None,
        'max_early_data': None,
        'early_data': None,
        'early_data_accepted': None,
    }


def _needs_cli(version, checks, session_file_needed):
    if session_file_needed:
        return True
    if version == 'TLSv1.2':
        return 'ticket' in checks
    return 'psk' in checks or 'early_data' in checks


def _probe_version(ep, version, checks, openssl, tmp, keep_session):
    """Probe one TLS version.  Returns ``(result, session_file or None)``."""
    ctx = ssl_context(ep, version)
    try:
        full, session = tls_connection(ep, ctx)
    except HandshakeRefused as e:
        return _empty_version_result(False, str(e)), None
    res = _empty_version_result(True)
    res['version'] = full['version']
    res['cipher'] = full['cipher']
    res['ticket_issued'] = full['ticket_issued']
    res['ticket_lifetime_hint'] = full['ticket_lifetime_hint']

    if version == 'TLSv1.2':
        if 'ticket' in checks:
            res['ticket_resumed'] = bool(full['ticket_issued'] and resume(ep, ctx, session))
        if 'session_id' in checks:
            ctx_id = ssl_context(ep, version, no_ticket=True)
            try:
                dummy, id_session = tls_connection(ep, ctx_id)
            except HandshakeRefused as e:
                raise ProbeError('%s handshake without a ticket extension failed: %s' % (version, e))
            res['session_id_resumed'] = resume(ep, ctx_id, id_session)
    else:
        if 'psk' in checks:
            res['psk_resumed'] = bool(full['ticket_issued'] and resume(ep, ctx, session))
    session = None

    session_file = None
    if openssl is not None and _needs_cli(version, checks, keep_session):
        session_file = tmp.file('full-%s.pem' % version)
        try:
            openssl.s_client(ep, version, sess_out=session_file)
        except HandshakeRefused as e:
            raise ProbeError('%s: %s' % (version, e))
        if os.path.exists(session_file):
            info = openssl.sess_id(session_file)
            res['ticket_key_name'] = info['ticket_key_name']
            res['ticket_length'] = info['ticket_length']
            res['max_early_data'] = info['max_early_data']
        else:
            session_file = None
            res['ticket_length'] = 0

    if version == 'TLSv1.3' and 'early_data' in checks:
        res['early_data'], res['max_early_data'] = _early_data(ep, openssl, tmp)
        res['early_data_accepted'] = res['early_data'] == 'accepted'
    return res, session_file


def _early_data(ep, openssl, tmp):
    """Full handshake, then resume sending the request as 0-RTT data.

    Its own session is used so that a server with single-use tickets
    (anti-replay) does not spend the session kept for session_out.
    """
    first = tmp.file('early-full.pem')
    payload = tmp.file('early-data.txt')
    openssl.s_client(ep, 'TLSv1.3', sess_out=first)
    if not os.path.exists(first):
        return 'not_sent', None
    max_early = openssl.sess_id(first)['max_early_data']
    fd = os.open(payload, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, ep.request or b'\r\n')
    finally:
        os.close(fd)
    try:
        parsed = openssl.s_client(ep, 'TLSv1.3', sess_in=first, early_data=payload)
    except HandshakeRefused as e:
        raise ProbeError('TLSv1.3 early data attempt failed: %s' % e)
    return parsed['early_data'] or 'not_sent', max_early


def _resume_file(ep, openssl, path, version, attempts):
    """Resume the session in ``path`` ``attempts`` times with s_client."""
    results = []
    for dummy in range(attempts):
        try:
            parsed = openssl.s_client(ep, version, sess_in=path)
        except HandshakeRefused as e:
            raise ProbeError('resumption handshake with %s failed: %s' % (ep.name, e))
        results.append(parsed)
    return results


def _attempts_result(version, results):
    resumed = sum(1 for r in results if r['status'] == 'reused')
    return {'version': version, 'total': len(results), 'resumed': resumed,
            'new': len(results) - resumed}


def probe(host, port=443, server_name=None, tls_versions=None, checks=None,
          validate_certs=True, ca_path=None, timeout=5, request=None,
          session_out=None, session_in=None, attempts=1, openssl_bin=None,
          mountinfo_text=None):
    """Probe session resumption of ``host:port``; see the module's RETURN.

    Raises ProbeError with a message for the user on failure.
    """
    tls_versions = list(tls_versions or TLS_VERSIONS)
    checks = list(CHECKS if checks is None else checks)
    for v in tls_versions:
        if v not in TLS_VERSIONS:
            raise ProbeError('unsupported TLS version %s (choose from %s)' % (v, ', '.join(TLS_VERSIONS)))
    for c in checks:
        if c not in CHECKS:
            raise ProbeError('unknown check %s (choose from %s)' % (c, ', '.join(CHECKS)))
    attempts = int(attempts)
    if attempts < 1:
        raise ProbeError('attempts must be at least 1')
    if session_in and session_out:
        raise ProbeError('session_in and session_out are mutually exclusive')
    ep = Endpoint(host, port, server_name, validate_certs, ca_path, timeout, request)
    ordered = [v for v in TLS_VERSIONS if v in tls_versions]

    result = {
        'endpoint': ep.name,
        'server_name': ep.server_name,
        'versions': {},
        'session_out': None,
        'session_in': None,
        'attempts': None,
    }

    openssl = OpenSSL(openssl_bin)
    if session_out:
        # Refuse a persistent location before any network traffic.
        check_memory_path(session_out, 'session_out', mountinfo_text)

    check_tcp(ep)

    if session_in:
        openssl.require('session_in')
        if not os.path.isfile(session_in):
            raise ProbeError('session_in: %s is not a file' % session_in)
        info = openssl.sess_id(session_in)
        version = info['protocol']
        if version not in TLS_VERSIONS:
            raise ProbeError('session_in: %s holds a %s session; only %s can be resumed'
                             % (session_in, version, ', '.join(TLS_VERSIONS)))
        runs = _resume_file(ep, openssl, session_in, version, attempts)
        first = runs[0]
        result['session_in'] = {
            'path': session_in,
            'version': version,
            'ticket_key_name': info['ticket_key_name'],
            'ticket_length': info['ticket_length'],
            'resumed': first['status'] == 'reused',
            'negotiated_version': first['version'],
            'cipher': first['cipher'],
        }
        result['attempts'] = _attempts_result(version, runs)
        return result

    keep_version = None
    need_file = bool(session_out) or attempts > 1
    if any(_needs_cli(v, checks, need_file) for v in ordered):
        openssl.require('ticket key names, early data and session files')
    else:
        openssl = None

    with PrivateDir(mountinfo_text=mountinfo_text) as tmp:
        files = {}
        for version in ordered:
            res, session_file = _probe_version(ep, version, checks, openssl, tmp, need_file)
            result['versions'][version] = res
            if session_file:
                files[version] = session_file
        offered = [v for v in ordered if result['versions'][v]['offered']]
        if not offered:
            raise ProbeError('%s offers none of %s: %s' % (
                ep.name, ', '.join(ordered),
                '; '.join('%s: %s' % (v, result['versions'][v]['error']) for v in ordered)))
        if need_file:
            keep_version = offered[-1]
            source = files.get(keep_version)
            if source is None:
                raise ProbeError('%s: the %s full handshake gave no session to save or resume'
                                 % (ep.name, keep_version))
            if session_out:
                with open(source, 'rb') as f:
                    data = f.read()
                try:
                    path = write_session_file(session_out, data, mountinfo_text)
                finally:
                    data = None
                res = result['versions'][keep_version]
                result['session_out'] = {
                    'path': path,
                    'version': keep_version,
                    'ticket_key_name': res['ticket_key_name'],
                    'ticket_length': res['ticket_length'],
                    'ticket_lifetime_hint': res['ticket_lifetime_hint'],
                }
            if attempts > 1:
                runs = _resume_file(ep, openssl, source, keep_version, attempts)
                result['attempts'] = _attempts_result(keep_version, runs)
    return result
