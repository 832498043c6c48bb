# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""TLS session-resumption probe.

Plain functions and small classes, no AnsibleModule: the module
``resumption_info`` is a thin wrapper around :func:`probe`, and the same code
runs standalone on a host.

Two clients are used:

* Python's ``ssl`` module for the resumption checks themselves (session ID,
  TLS 1.2 ticket, TLS 1.3 PSK): sessions stay in memory.
* The ``openssl`` command line (``s_client`` and ``sess_id``) for what Python
  cannot see or do: the ticket bytes (their first 16 bytes are the key name),
  early data, and sessions saved to or loaded from a file.

Secrets rules: a session master secret / resumption PSK, a session PEM or
ticket bytes beyond the 16-byte key name never leave this module: results
and error messages carry only parsed, non-secret fields.  Temporary session
files live in a private 0700 directory on tmpfs and are overwritten then
removed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs


TLS_VERSIONS = ('TLSv1.2', 'TLSv1.3')
CHECKS = ('session_id', 'ticket', 'psk', 'early_data')
MEMORY_FSTYPES = _fs.MEMORY_FSTYPES
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
_S_CLIENT_VERSION_FLAGS = {
    'TLSv1.2': '-tls1_2',
    'TLSv1.3': '-tls1_3',
}
# Lines of openssl output that carry secrets; never copied into a message.
_SECRET_MARKERS = ('master-key', 'resumption psk', 'session ticket', 'begin ssl session',
                   'end ssl session', 'early_secret', 'traffic_secret', 'exporter_secret')


class ProbeError(ResumptionError):
    """The probe cannot give an answer; the message is meant for the user."""


class _HandshakeRefused(Exception):
    """The TCP connection worked but the TLS handshake did not."""


# ---------------------------------------------------------------------------
# mountinfo: where does a path live?
# ---------------------------------------------------------------------------

def _mounts(mountinfo_text=None):
    try:
        if mountinfo_text is None:
            return _fs.read_mountinfo()
        return _fs.parse_mountinfo(mountinfo_text)
    except (IOError, OSError) as e:
        raise ProbeError('cannot read /proc/self/mountinfo to check the file system: %s' % e)


def _mount_of(path, mountinfo_text=None):
    """The mount (a dict of _fs.parse_mountinfo) holding the resolved path."""
    mount = _fs.mount_of(path, _mounts(mountinfo_text))
    if mount is None:
        raise ProbeError('cannot find the mount holding %s in /proc/self/mountinfo' % path)
    return mount


def _filesystem_type(path, mountinfo_text=None):
    """File system type (``tmpfs``, ``ext4``...) of the mount holding ``path``.

    Symbolic links in ``path`` are resolved first.
    """
    return _mount_of(os.path.realpath(os.path.abspath(path)), mountinfo_text)['fstype']


def check_memory_path(path, what='session_out', mountinfo_text=None):
    """Refuse a file path whose directory is not on tmpfs or ramfs.

    Returns the resolved parent directory.
    """
    if not path:
        raise ProbeError('%s: empty path' % what)
    parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    mount = _mount_of(parent, mountinfo_text)
    if mount['fstype'] not in MEMORY_FSTYPES:
        raise ProbeError(
            '%s: refusing to write %s: a saved TLS session holds the session master secret '
            '(key material) and must stay in memory, but %s is on %s (mount %s), not on tmpfs '
            'or ramfs; use a path under /dev/shm or /run' % (what, path, parent, mount['fstype'], mount['mount_point']))
    return parent


# ---------------------------------------------------------------------------
# Files holding session secrets
# ---------------------------------------------------------------------------

def _shred(path):
    """Overwrite a regular file with zeros, then unlink it; never fails."""
    try:
        _fs.shred(path)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass


def write_session_file(path, data, mountinfo_text=None):
    """Write ``data`` to ``path`` with mode 0600, only on tmpfs/ramfs, with the
    collection's secure write helper (O_EXCL|O_NOFOLLOW temp file, then rename)."""
    parent = check_memory_path(path, 'session_out', mountinfo_text)
    if not os.path.isdir(parent):
        raise ProbeError('session_out: directory %s does not exist' % parent)
    target = os.path.join(parent, os.path.basename(path))
    if os.path.isdir(target):
        raise ProbeError('session_out: %s is a directory' % target)
    if os.path.islink(target):
        os.unlink(target)
    try:
        _fs.secure_write(target, data, 0o600)
    except (OSError, ResumptionError) as e:
        raise ProbeError('session_out: cannot write %s: %s' % (target, getattr(e, 'strerror', None) or e))
    return target


class PrivateDir(object):
    """A private 0700 directory on tmpfs for openssl's session files.

    Use as a context manager: every file in it is overwritten with zeros and
    removed on exit, then the directory itself.
    """

    def __init__(self, candidates=None, mountinfo_text=None):
        if candidates is None:
            candidates = ['/dev/shm']
            runtime = os.environ.get('XDG_RUNTIME_DIR')
            if runtime:
                candidates.append(runtime)
            candidates.append('/run')
        self.candidates = candidates
        self.mountinfo_text = mountinfo_text
        self.path = None

    def __enter__(self):
        tried = []
        for base in self.candidates:
            if not os.path.isdir(base):
                tried.append('%s (missing)' % base)
                continue
            fstype = _filesystem_type(base, self.mountinfo_text)
            if fstype not in MEMORY_FSTYPES:
                tried.append('%s (%s)' % (base, fstype))
                continue
            try:
                self.path = tempfile.mkdtemp(prefix='resumption-probe-', dir=base)
            except OSError as e:
                tried.append('%s (%s)' % (base, e))
                continue
            os.chmod(self.path, 0o700)
            return self
        raise ProbeError('no writable tmpfs directory for temporary session files (tried: %s); '
                         'session files hold key material and are never written to disk'
                         % ', '.join(tried))

    def file(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        if self.path is None:
            return
        try:
            names = os.listdir(self.path)
        except OSError:
            names = []
        for name in names:
            _shred(os.path.join(self.path, name))
        try:
            os.rmdir(self.path)
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None

    def __exit__(self, exc_type, exc, tb):
        self.cleanup()
        return False


# ---------------------------------------------------------------------------
# Parsers for openssl output
# ---------------------------------------------------------------------------

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


def _safe_lines(text, limit=3):
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


# ---------------------------------------------------------------------------
# Endpoint description
# ---------------------------------------------------------------------------

def _is_ip(value):
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

def _context(ep, version, no_ticket=False):
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


def _tls_connection(ep, ctx, session=None):
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
            raise _HandshakeRefused(str(e) or e.__class__.__name__)
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


def _resume(ep, ctx, session):
    if session is None:
        return False
    try:
        facts, dummy = _tls_connection(ep, ctx, session=session)
    except _HandshakeRefused as e:
        raise ProbeError('resumption handshake with %s failed: %s' % (ep.name, e))
    return facts['reused']


# ---------------------------------------------------------------------------
# openssl command line
# ---------------------------------------------------------------------------

class OpenSSL(object):
    """``openssl s_client`` / ``sess_id`` runner; never returns raw output."""

    def __init__(self, binary=None):
        self.binary = binary or shutil.which('openssl')

    def require(self, why):
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise ProbeError('the openssl binary was not found (needed for %s); install openssl '
                             '(Debian: apt install openssl)' % why)

    def _run(self, argv, stdin_data, timeout, window=None):
        """Run openssl; returns ``(rc, stdout, stderr, killed)``.

        ``killed`` is True when openssl was still running after ``timeout``
        seconds (a server that keeps the connection open) and was killed.
        """
        try:
            proc = subprocess.Popen([self.binary] + argv, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise ProbeError('cannot run %s: %s' % (self.binary, e))
        killed = False
        try:
            if window:
                # No request: keep stdin open for a moment so that s_client
                # reads post-handshake messages (TLS 1.3 tickets), then EOF.
                # (communicate() would close stdin at once.)
                try:
                    proc.wait(timeout=window)
                except subprocess.TimeoutExpired:
                    pass
                out, err = proc.communicate(timeout=timeout)
            else:
                out, err = proc.communicate(input=stdin_data, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            killed = True
            out, err = proc.communicate()
        return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'), killed

    def s_client(self, ep, version=None, sess_in=None, sess_out=None, early_data=None):
        """Run one s_client connection; returns the parsed summary."""
        argv = ['s_client', '-connect', ep.name]
        if ep.request:
            # Read until the server closes: TLS 1.3 tickets arrive after the handshake.
            argv.append('-ign_eof')
        if version:
            argv.append(_S_CLIENT_VERSION_FLAGS[version])
        if _is_ip(ep.server_name):
            argv.append('-noservername')
        else:
            argv += ['-servername', ep.server_name]
        if ep.validate_certs:
            argv.append('-verify_return_error')
            if ep.ca_path:
                argv += ['-CAfile', ep.ca_path]
            if _is_ip(ep.server_name):
                argv += ['-verify_ip', ep.server_name]
            else:
                argv += ['-verify_hostname', ep.server_name]
        if sess_in:
            argv += ['-sess_in', sess_in]
        if sess_out:
            argv += ['-sess_out', sess_out]
        if early_data:
            argv += ['-early_data', early_data]
        if ep.request:
            rc, out, err, killed = self._run(argv, ep.request, ep.timeout + 1)
        else:
            rc, out, err, killed = self._run(argv, None, ep.timeout + 1, window=min(READ_WINDOW, ep.timeout))
        parsed = parse_s_client_output(out)
        out = None
        if s_client_failed(parsed, rc, err, killed):
            detail = _safe_lines(err)
            low = err.lower()
            if 'connect:errno' in low or 'connection refused' in low:
                raise ProbeError('cannot connect to %s: %s' % (ep.name, detail))
            if 'verify error' in low or 'certificate verify failed' in low:
                raise ProbeError('certificate verification failed: %s: %s' % (ep.name, detail))
            raise _HandshakeRefused('openssl s_client handshake with %s failed (exit %s): %s'
                                    % (ep.name, rc, detail))
        return parsed

    def sess_id(self, path):
        """Parse a PEM session file; only non-secret fields come back."""
        rc, out, err, dummy = self._run(['sess_id', '-in', path, '-noout', '-text'], b'', 10)
        if rc != 0:
            raise ProbeError('%s is not a readable TLS session file: %s' % (path, _safe_lines(err, 1)))
        parsed = parse_sess_id_text(out)
        out = None
        return parsed


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
    ctx = _context(ep, version)
    try:
        full, session = _tls_connection(ep, ctx)
    except _HandshakeRefused as e:
        return _empty_version_result(False, str(e)), None
    res = _empty_version_result(True)
    res['version'] = full['version']
    res['cipher'] = full['cipher']
    res['ticket_issued'] = full['ticket_issued']
    res['ticket_lifetime_hint'] = full['ticket_lifetime_hint']

    if version == 'TLSv1.2':
        if 'ticket' in checks:
            res['ticket_resumed'] = bool(full['ticket_issued'] and _resume(ep, ctx, session))
        if 'session_id' in checks:
            ctx_id = _context(ep, version, no_ticket=True)
            try:
                dummy, id_session = _tls_connection(ep, ctx_id)
            except _HandshakeRefused as e:
                raise ProbeError('%s handshake without a ticket extension failed: %s' % (version, e))
            res['session_id_resumed'] = _resume(ep, ctx_id, id_session)
    else:
        if 'psk' in checks:
            res['psk_resumed'] = bool(full['ticket_issued'] and _resume(ep, ctx, session))
    session = None

    session_file = None
    if openssl is not None and _needs_cli(version, checks, keep_session):
        session_file = tmp.file('full-%s.pem' % version)
        try:
            openssl.s_client(ep, version, sess_out=session_file)
        except _HandshakeRefused as e:
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
    except _HandshakeRefused as e:
        raise ProbeError('TLSv1.3 early data attempt failed: %s' % e)
    return parsed['early_data'] or 'not_sent', max_early


def _resume_file(ep, openssl, path, version, attempts):
    """Resume the session in ``path`` ``attempts`` times with s_client."""
    results = []
    for dummy in range(attempts):
        try:
            parsed = openssl.s_client(ep, version, sess_in=path)
        except _HandshakeRefused as e:
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
