# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the probe's parsers and file rules (no network)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _probe
from ansible_collections.hardened_tls.resumption.plugins.module_utils._fs import parse_mountinfo
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_errors import HandshakeRefused, ProbeError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_files import (
    PrivateDir,
    check_memory_path,
    filesystem_type,
    write_session_file,
)
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_parse import (
    parse_s_client_output,
    parse_sess_id_text,
    s_client_error,
    s_client_failed,
    safe_lines,
)
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_tls import build_request
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError


# --- s_client output (shapes seen from OpenSSL 3.0 on Debian 12) -------------

S_CLIENT_NEW_12 = """CONNECTED(00000003)
---
Certificate chain
 0 s:CN = localhost
---
SSL handshake has read 842 bytes and written 299 bytes
Verification error: self-signed certificate
---
New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384
Server public key is 256 bit
Secure Renegotiation IS supported
Compression: NONE
Expansion: NONE
No ALPN negotiated
SSL-Session:
    Protocol  : TLSv1.2
    Cipher    : ECDHE-ECDSA-AES256-GCM-SHA384
    Master-Key: 9C897851B9DE924456820524DD00BE3045E47EAAFB7FC25929215C6D4D020C3C
    Verify return code: 18 (self-signed certificate)
---
HTTP/1.0 200 ok
"""

S_CLIENT_REUSED_12 = """CONNECTED(00000003)
---
Reused, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384
Secure Renegotiation IS supported
SSL-Session:
    Protocol  : TLSv1.2
---
"""

# The response body of `s_server -www` repeats a "New, ..." line: only the first counts.
S_CLIENT_REUSED_13_BODY = """CONNECTED(00000003)
---
Reused, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Server public key is 256 bit
Secure Renegotiation IS NOT supported
No ALPN negotiated
Early data was not sent
Verify return code: 18 (self-signed certificate)
---
HTTP/1.0 200 ok

New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Early data was accepted
"""

S_CLIENT_EARLY_ACCEPTED = """---
Reused, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Secure Renegotiation IS NOT supported
Early data was accepted
Verify return code: 18 (self-signed certificate)
---
"""

S_CLIENT_EARLY_REJECTED = """---
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Early data was rejected
---
"""

S_CLIENT_FAILED = """CONNECTED(00000003)
---
no peer certificate available
---
New, (NONE), Cipher is (NONE)
Secure Renegotiation IS NOT supported
Early data was not sent
---
"""


@pytest.mark.parametrize('text, status, version, cipher, early', [
    (S_CLIENT_NEW_12, 'new', 'TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384', None),
    (S_CLIENT_REUSED_12, 'reused', 'TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384', None),
    (S_CLIENT_REUSED_13_BODY, 'reused', 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'not_sent'),
    (S_CLIENT_EARLY_ACCEPTED, 'reused', 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'accepted'),
    (S_CLIENT_EARLY_REJECTED, 'new', 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'rejected'),
    (S_CLIENT_FAILED, 'new', '(NONE)', '(NONE)', 'not_sent'),
    ('connect:errno=111\n', None, None, None, None),
    ('', None, None, None, None),
])
def test_parse_s_client_output(text, status, version, cipher, early):
    parsed = parse_s_client_output(text)
    assert parsed == {'status': status, 'version': version, 'cipher': cipher, 'early_data': early}


def test_parse_s_client_output_has_no_secret():
    parsed = parse_s_client_output(S_CLIENT_NEW_12)
    assert '9C8978' not in repr(parsed)


@pytest.mark.parametrize('text, rc, stderr, killed, failed', [
    (S_CLIENT_NEW_12, 0, '', False, False),
    (S_CLIENT_FAILED, 1, 'x:error:0A00042E:SSL routines::tlsv1 alert protocol version', False, True),
    # -sess_in against a server refusing the version: the summary shows the
    # offered session's version, only the exit code and stderr tell.
    (S_CLIENT_NEW_12, 1, '4087E1984D7F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version',
     False, True),
    (S_CLIENT_NEW_12, 1, 'x:error:0A000126:SSL routines::unexpected eof while reading', False, False),
    (S_CLIENT_NEW_12, -9, '', True, False),
    ('', 1, 'connect:errno=111', False, True),
])
def test_s_client_failed(text, rc, stderr, killed, failed):
    assert s_client_failed(parse_s_client_output(text), rc, stderr, killed) is failed


@pytest.mark.parametrize('stderr, kind, message', [
    ('40F7:error:8000006F:system library:BIO_connect:Connection refused\nconnect:errno=111',
     ProbeError, 'cannot connect to 127.0.0.1:8443: '),
    ('verify error:num=18:self-signed certificate\nx:error:0A000086:SSL routines::certificate verify failed',
     ProbeError, 'certificate verification failed: 127.0.0.1:8443: '),
    ('x:error:0A00042E:SSL routines::tlsv1 alert protocol version',
     HandshakeRefused, 'openssl s_client handshake with 127.0.0.1:8443 failed (exit 1): '),
])
def test_s_client_error(stderr, kind, message):
    error = s_client_error('127.0.0.1:8443', 1, stderr)
    assert isinstance(error, kind)
    assert str(error).startswith(message)
    assert str(error).endswith(stderr.splitlines()[-1])


def test_safe_lines_drop_secrets_and_hex_dumps():
    text = ('    Master-Key: 9C897851B9DE9244\n    Resumption PSK: EC3135F940A780C0\n'
            '    0000 - 24 c5 14 1e 48 91 4a 87-74 66 c5 42 a9 4f 8f d6   $...H.J.tf.B.O..\n'
            '-----BEGIN SSL SESSION PARAMETERS-----\n\n'
            'a\nb\nc\nd\n')
    assert safe_lines(text) == 'b; c; d'
    assert safe_lines(text, 1) == 'd'
    assert safe_lines('') == ''


# --- sess_id -text -------------------------------------------------------------

SESS_ID_12 = """SSL-Session:
    Protocol  : TLSv1.2
    Cipher    : ECDHE-ECDSA-AES256-GCM-SHA384
    Session-ID: 0EE3114152557FCA227600130032EC5E52799DEB3049A854F6013C55006176B3
    Session-ID-ctx:
    Master-Key: 9C897851B9DE924456820524DD00BE3045E47EAAFB7FC25929215C6D4D020C3CCC7C1073EAD484CEB1B80C60023C4E80
    PSK identity: None
    PSK identity hint: None
    SRP username: None
    TLS session ticket lifetime hint: 7200 (seconds)
    TLS session ticket:
    0000 - 24 c5 14 1e 48 91 4a 87-74 66 c5 42 a9 4f 8f d6   $...H.J.tf.B.O..
    0010 - 27 d9 14 55 09 0f f1 ab-37 e4 00 6a a2 72 b6 2a   '..U....7..j.r.*
    0020 - 03 df c5 7e 01 08 2b 26-ee 51 37 1a 64 50 9a 80   ...~..+&.Q7.dP..
    0030 - 0b 4e                                             .N

    Start Time: 1795872594
    Timeout   : 7200 (sec)
    Verify return code: 18 (self-signed certificate)
    Extended master secret: yes
"""

# The ASCII column holds hex-looking text: it must not be read as bytes.
SESS_ID_13 = """SSL-Session:
    Protocol  : TLSv1.3
    Cipher    : TLS_AES_256_GCM_SHA384
    Session-ID: F12C407E1D04946713AE6DFBD4CEAF01E7336ACFA87503FFCBC41096079FE50B
    Session-ID-ctx:
    Resumption PSK: EC3135F940A780C0C27B1273C1DF40CBA1F0739B0BA2232C8D52A6E5C01D6EEDED64D35BCE965486633DB30753FD37A9
    PSK identity: None
    PSK identity hint: None
    SRP username: None
    TLS session ticket lifetime hint: 300 (seconds)
    TLS session ticket:
    0000 - 00 11 22 33 44 55 66 77-88 99 aa bb cc dd ee ff   .."3DUfw........
    0010 - 61 62 63 64 65 66 30 31-32 33 34 35 36 37 38 39   abcdef0123456789

    Start Time: 1795872596
    Timeout   : 300 (sec)
    Verify return code: 0 (ok)
    Extended master secret: no
    Max Early Data: 16384
"""

SESS_ID_NO_TICKET = """SSL-Session:
    Protocol  : TLSv1.2
    Cipher    : ECDHE-RSA-AES128-GCM-SHA256
    Session-ID: 0EE3114152557FCA227600130032EC5E52799DEB3049A854F6013C55006176B3
    Master-Key: 9C897851B9DE924456820524DD00BE3045E47EAAFB7FC25929215C6D4D020C3C
    Start Time: 1795872594
    Timeout   : 7200 (sec)
"""

SESS_ID_SHORT = """SSL-Session:
    Protocol  : TLSv1.3
    TLS session ticket lifetime hint: 0 (seconds)
    TLS session ticket:
    0000 - de ad be ef                                       ....
    Max Early Data: 0
"""


@pytest.mark.parametrize('text, expected', [
    (SESS_ID_12, {'protocol': 'TLSv1.2', 'cipher': 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ticket_lifetime_hint': 7200,
                  'ticket_length': 50, 'ticket_key_name': '24c5141e48914a877466c542a94f8fd6',
                  'max_early_data': None}),
    (SESS_ID_13, {'protocol': 'TLSv1.3', 'cipher': 'TLS_AES_256_GCM_SHA384', 'ticket_lifetime_hint': 300,
                  'ticket_length': 32, 'ticket_key_name': '00112233445566778899aabbccddeeff',
                  'max_early_data': 16384}),
    (SESS_ID_NO_TICKET, {'protocol': 'TLSv1.2', 'cipher': 'ECDHE-RSA-AES128-GCM-SHA256',
                         'ticket_lifetime_hint': None, 'ticket_length': 0, 'ticket_key_name': None,
                         'max_early_data': None}),
    (SESS_ID_SHORT, {'protocol': 'TLSv1.3', 'cipher': None, 'ticket_lifetime_hint': 0, 'ticket_length': 4,
                     'ticket_key_name': 'deadbeef', 'max_early_data': 0}),
])
def test_parse_sess_id_text(text, expected):
    parsed = parse_sess_id_text(text)
    assert parsed == expected
    # No secret field survives the parse.
    for secret in ('9C8978', 'EC3135', '0EE311', 'F12C40', '27d91455'):
        assert secret.lower() not in repr(parsed).lower()


# --- requests --------------------------------------------------------------------

@pytest.mark.parametrize('request_value, server_name, port, expected', [
    (None, 'www.example.com', 443, b'GET / HTTP/1.0\r\nHost: www.example.com\r\nConnection: close\r\n\r\n'),
    (None, 'www.example.com', 8443, b'GET / HTTP/1.0\r\nHost: www.example.com:8443\r\nConnection: close\r\n\r\n'),
    (None, '::1', 8443, b'GET / HTTP/1.0\r\nHost: [::1]:8443\r\nConnection: close\r\n\r\n'),
    ('none', 'x', 443, b''),
    ('None', 'x', 443, b''),
    ('EHLO probe\r\n', 'x', 25, b'EHLO probe\r\n'),
])
def test_build_request(request_value, server_name, port, expected):
    assert build_request(request_value, server_name, port) == expected


# --- mountinfo and the memory-only rule --------------------------------------------

MOUNTINFO = """22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334524k,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684096k
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
30 25 0:27 / /dev/shm rw,relatime shared:5 - ramfs ramfs rw
40 27 0:30 / /run rw,nosuid,nodev shared:12 - tmpfs tmpfs rw,size=1024k,mode=755
41 40 0:31 / /run/user/1000 rw,nosuid,nodev,relatime shared:300 - tmpfs tmpfs rw,size=3280k,mode=700
42 27 254:1 / /srv/my\\040data rw,relatime - xfs /dev/vdb rw
43 27 254:2 / /runner rw,relatime - ext4 /dev/vdc rw
"""


def test_parse_mountinfo():
    mounts = [(m['mount_point'], m['fstype']) for m in parse_mountinfo(MOUNTINFO)]
    assert ('/dev/shm', 'tmpfs') in mounts
    assert ('/srv/my data', 'xfs') in mounts
    assert ('/run/user/1000', 'tmpfs') in mounts
    assert len(mounts) == 9


@pytest.mark.parametrize('path, fstype', [
    ('/', 'ext4'),
    ('/etc/ssl', 'ext4'),
    ('/dev/shm', 'ramfs'),            # the later mount on the same point is on top
    ('/dev/shm/x/y', 'ramfs'),
    ('/dev/null', 'devtmpfs'),
    ('/run/tls', 'tmpfs'),
    ('/runner/tls', 'ext4'),          # a prefix of the name is not a parent
    ('/run/user/1000/s', 'tmpfs'),
    ('/srv/my data/s', 'xfs'),
])
def test_filesystem_type(path, fstype):
    assert filesystem_type(path, MOUNTINFO) == fstype


@pytest.mark.parametrize('path', [
    '/dev/shm/session.pem',
    '/run/probe/session.pem',
    '/run/user/1000/session.pem',
])
def test_check_memory_path_accepts_tmpfs(path):
    check_memory_path(path, 'session_out', MOUNTINFO)


@pytest.mark.parametrize('path, fstype', [
    ('/tmp/session.pem', 'ext4'),
    ('/root/session.pem', 'ext4'),
    ('/runner/session.pem', 'ext4'),
    ('/srv/my data/session.pem', 'xfs'),
])
def test_check_memory_path_refuses_persistent(path, fstype):
    with pytest.raises(ProbeError) as exc:
        check_memory_path(path, 'session_out', MOUNTINFO)
    msg = str(exc.value)
    assert 'session_out' in msg and 'not on tmpfs or ramfs' in msg and fstype in msg
    assert isinstance(exc.value, ResumptionError)


def test_session_out_refused_before_network(tmp_path):
    """probe() refuses a persistent session_out before connecting (port 1 is never tried)."""
    with pytest.raises(ProbeError, match='not on tmpfs or ramfs'):
        _probe.probe('127.0.0.1', 1, validate_certs=False, session_out='/tmp/x/session.pem',
                     mountinfo_text=MOUNTINFO)


def test_write_session_file_refuses_persistent(tmp_path):
    target = tmp_path / 'session.pem'
    if filesystem_type(str(tmp_path)) in ('tmpfs', 'ramfs'):
        pytest.skip('the pytest tmp_path is on tmpfs here')
    with pytest.raises(ProbeError, match='refusing to write'):
        write_session_file(str(target), b'secret')
    assert not target.exists()


def test_write_session_file_mode_and_symlink(shm_store):
    target = os.path.join(shm_store, 'session.pem')
    victim = os.path.join(shm_store, 'victim')
    with open(victim, 'wb') as f:
        f.write(b'keep')
    os.symlink(victim, target)
    old_umask = os.umask(0)
    try:
        write_session_file(target, b'SESSION')
    finally:
        os.umask(old_umask)
    st = os.lstat(target)
    assert stat.S_ISREG(st.st_mode)           # the symlink was replaced, not followed
    assert stat.S_IMODE(st.st_mode) == 0o600
    with open(victim, 'rb') as f:
        assert f.read() == b'keep'
    with open(target, 'rb') as f:
        assert f.read() == b'SESSION'
    assert sorted(os.listdir(shm_store)) == ['session.pem', 'victim']   # no temp file left


def test_private_dir_is_0700_and_removed(shm_store):
    with PrivateDir(candidates=[shm_store]) as tmp:
        assert stat.S_IMODE(os.stat(tmp.path).st_mode) == 0o700
        with open(tmp.file('s.pem'), 'wb') as f:
            f.write(b'x' * 100)
        path = tmp.path
    assert not os.path.exists(path)


def test_private_dir_refuses_disk(tmp_path):
    if filesystem_type(str(tmp_path)) in ('tmpfs', 'ramfs'):
        pytest.skip('the pytest tmp_path is on tmpfs here')
    with pytest.raises(ProbeError, match='no writable tmpfs directory'):
        PrivateDir(candidates=[str(tmp_path), str(tmp_path / 'missing')]).__enter__()


@pytest.mark.parametrize('kwargs, message', [
    (dict(tls_versions=['TLSv1.1']), 'unsupported TLS version'),
    (dict(checks=['ocsp']), 'unknown check'),
    (dict(attempts=0), 'attempts must be at least 1'),
    (dict(session_in='/dev/shm/a', session_out='/dev/shm/b'), 'mutually exclusive'),
])
def test_probe_argument_errors(kwargs, message):
    with pytest.raises(ProbeError, match=message):
        _probe.probe('127.0.0.1', 1, validate_certs=False, **kwargs)


def test_missing_openssl_is_clear(monkeypatch):
    """A reachable endpoint, but no openssl binary: a clear error (checks need it)."""
    monkeypatch.setattr(_probe, 'check_tcp', lambda ep: None)
    with pytest.raises(ProbeError, match='openssl binary was not found'):
        _probe.probe('127.0.0.1', 1, validate_certs=False, session_in='/dev/shm/none.pem',
                     openssl_bin='/nonexistent/openssl')


def test_old_names_stay_importable_from_probe():
    """tests/integration and tests/hardening use these through _probe."""
    assert _probe.ProbeError is ProbeError and _probe.PrivateDir is PrivateDir
    assert _probe._filesystem_type('/dev/shm', MOUNTINFO) == 'ramfs'
    assert issubclass(_probe.ProbeError, ResumptionError)
