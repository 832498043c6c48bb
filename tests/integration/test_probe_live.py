# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Live tests of the resumption probe against real servers on 127.0.0.1.

Starts `openssl s_server` and `nginx` (non-daemon, private prefix) on
ephemeral ports.  Skipped only when the `openssl` or `nginx` binary is
missing.  Run with: PYTHONPATH=.build python3 -m pytest tests/integration -q
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

try:
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _probe
except ImportError:  # run from the repository without PYTHONPATH=.build
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                    '.build'))
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _probe

ProbeError = _probe.ProbeError

OPENSSL = shutil.which('openssl')
NGINX = shutil.which('nginx') or ('/usr/sbin/nginx' if os.access('/usr/sbin/nginx', os.X_OK) else None)

needs_openssl = pytest.mark.skipif(OPENSSL is None, reason='the openssl binary is not installed')
needs_nginx = pytest.mark.skipif(OPENSSL is None or NGINX is None, reason='the openssl or nginx binary is not installed')

KEY_NAME = '00112233445566778899aabbccddeeff'
OTHER_KEY_NAME = 'ffeeddccbbaa99887766554433221100'
# 80-byte nginx keys: name16 | hmac32 | aes32.  Test keys, generated per run, in memory.
KEY = binascii.unhexlify(KEY_NAME) + os.urandom(64)
OTHER_KEY = binascii.unhexlify(OTHER_KEY_NAME) + os.urandom(64)


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _wait_port(port, proc, what, log=None, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            detail = ''
            if log and os.path.exists(log):
                with open(log) as f:
                    detail = f.read()
            raise AssertionError('%s exited with %s: %s' % (what, proc.returncode, detail))
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError('%s did not listen on %d' % (what, port))


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope='module')
def workdir():
    base = '/dev/shm' if os.path.isdir('/dev/shm') else None
    path = tempfile.mkdtemp(prefix='probe-live-', dir=base)
    os.chmod(path, 0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def cert(workdir):
    if OPENSSL is None:
        pytest.skip('the openssl binary is not installed')
    key = os.path.join(workdir, 'key.pem')
    crt = os.path.join(workdir, 'cert.pem')
    subprocess.run([OPENSSL, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                    '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=localhost',
                    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return crt, key


@pytest.fixture
def s_server(cert, workdir):
    """Factory: start `openssl s_server -www` with extra arguments; returns the port."""
    procs = []

    def start(*extra):
        port = _free_port()
        log = os.path.join(workdir, 's_server-%d.log' % port)
        with open(log, 'wb') as out:
            proc = subprocess.Popen([OPENSSL, 's_server', '-accept', '127.0.0.1:%d' % port, '-cert', cert[0],
                                     '-key', cert[1], '-www', '-quiet'] + list(extra),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        _wait_port(port, proc, 's_server', log)
        return port

    yield start
    for proc in procs:
        _stop(proc)


NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        ssl_session_ticket_key {ticket_key};
        ssl_session_timeout 300s;
        {extra}
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def _ticket_key_file(directory, key):
    """An 80-byte nginx key file (mode 0600, on /dev/shm when it exists)."""
    assert len(key) == 80
    path = os.path.join(directory, 'ticket.key')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return path


@pytest.fixture
def nginx(cert, workdir):
    """Factory: start nginx (daemon off) with an 80-byte ticket ``key``; returns the port."""
    if NGINX is None:
        pytest.skip('the nginx binary is not installed')
    procs = []

    def start(key, extra=''):
        port = _free_port()
        directory = tempfile.mkdtemp(prefix='nginx-%d-' % port, dir=workdir)
        os.mkdir(os.path.join(directory, 'tmp'))
        conf = os.path.join(directory, 'nginx.conf')
        with open(conf, 'w') as f:
            f.write(NGINX_CONF.format(dir=directory, port=port, cert=cert[0], key=cert[1],
                                      ticket_key=_ticket_key_file(directory, key), extra=extra))
        log = os.path.join(directory, 'error.log')
        with open(os.path.join(directory, 'stderr.log'), 'wb') as out:
            proc = subprocess.Popen([NGINX, '-p', directory, '-c', conf, '-e', log, '-g', 'daemon off;'],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        _wait_port(port, proc, 'nginx', log)
        return port

    yield start
    for proc in procs:
        _stop(proc)


@pytest.fixture
def private_dirs(monkeypatch):
    """Record the private temp directories the probe creates."""
    created = []
    original = _probe.PrivateDir.__enter__

    def recording_enter(self):
        result = original(self)
        created.append(self.path)
        return result

    monkeypatch.setattr(_probe.PrivateDir, '__enter__', recording_enter)
    return created


def _probe_local(port, **kwargs):
    kwargs.setdefault('validate_certs', False)
    kwargs.setdefault('server_name', 'localhost')
    kwargs.setdefault('timeout', 5)
    return _probe.probe('127.0.0.1', port, **kwargs)


def _assert_no_secret(result):
    text = json.dumps(result)
    for marker in ('Master-Key', 'Resumption PSK', 'BEGIN SSL SESSION', 'SSL-Session'):
        assert marker not in text


# --- (a) s_server with tickets --------------------------------------------------------

@needs_openssl
def test_s_server_with_tickets(s_server, private_dirs):
    port = s_server()
    result = _probe_local(port)
    assert result['endpoint'] == '127.0.0.1:%d' % port
    v12, v13 = result['versions']['TLSv1.2'], result['versions']['TLSv1.3']
    assert v12['offered'] and v13['offered']
    assert v12['version'] == 'TLSv1.2' and v13['version'] == 'TLSv1.3'
    assert v12['ticket_issued'] is True and v12['ticket_resumed'] is True
    assert v12['session_id_resumed'] is True        # s_server keeps an internal session cache
    assert v13['ticket_issued'] is True and v13['psk_resumed'] is True
    assert v12['ticket_lifetime_hint'] == 7200 and v13['ticket_lifetime_hint'] == 7200
    assert v12['ticket_length'] > 32 and v13['ticket_length'] > 32
    assert len(v12['ticket_key_name']) == 32
    assert v12['ticket_key_name'] == v13['ticket_key_name']    # one ticket key for both versions
    assert v13['early_data_accepted'] is False and v13['early_data'] == 'not_sent'
    assert v12['psk_resumed'] is None and v13['ticket_resumed'] is None and v13['session_id_resumed'] is None
    assert result['session_out'] is None and result['session_in'] is None and result['attempts'] is None
    _assert_no_secret(result)
    assert private_dirs and not any(os.path.exists(p) for p in private_dirs)


@needs_openssl
def test_checks_limit_the_probe(s_server):
    port = s_server()
    result = _probe_local(port, tls_versions=['TLSv1.2'], checks=['session_id'])
    assert list(result['versions']) == ['TLSv1.2']
    v12 = result['versions']['TLSv1.2']
    assert v12['session_id_resumed'] is True
    assert v12['ticket_resumed'] is None and v12['ticket_key_name'] is None


@needs_openssl
def test_request_none(s_server):
    port = s_server()
    v13 = _probe_local(port, request='none', tls_versions=['TLSv1.3'])['versions']['TLSv1.3']
    assert v13['psk_resumed'] is True and v13['ticket_key_name']


# --- (b) tickets off: session IDs (and TLS 1.3 stateful tickets) -----------------------

@needs_openssl
def test_s_server_no_ticket(s_server):
    port = s_server('-no_ticket')
    result = _probe_local(port)
    v12, v13 = result['versions']['TLSv1.2'], result['versions']['TLSv1.3']
    assert v12['ticket_issued'] is False and v12['ticket_resumed'] is False
    assert v12['ticket_key_name'] is None and v12['ticket_length'] == 0
    assert v12['session_id_resumed'] is True
    # TLS 1.3 with SSL_OP_NO_TICKET: a stateful ticket (a 32-byte session ID) backed by the cache.
    assert v13['ticket_issued'] is True and v13['ticket_length'] == 32
    assert v13['psk_resumed'] is True


# --- (c) no cache, no tickets: nothing resumes -----------------------------------------

@needs_openssl
def test_s_server_no_cache_no_ticket(s_server):
    port = s_server('-no_ticket', '-no_cache')
    result = _probe_local(port)
    v12, v13 = result['versions']['TLSv1.2'], result['versions']['TLSv1.3']
    assert v12['session_id_resumed'] is False
    assert v12['ticket_resumed'] is False
    assert v13['psk_resumed'] is False


# --- versions, errors ---------------------------------------------------------------------

@needs_openssl
def test_version_not_offered(s_server):
    port = s_server('-tls1_3')
    result = _probe_local(port)
    v12, v13 = result['versions']['TLSv1.2'], result['versions']['TLSv1.3']
    assert v12['offered'] is False and 'protocol version' in v12['error']
    assert v12['ticket_resumed'] is None
    assert v13['offered'] is True and v13['psk_resumed'] is True


@needs_openssl
def test_no_version_offered_fails(s_server):
    port = s_server('-tls1_3')
    with pytest.raises(ProbeError, match='offers none of TLSv1.2'):
        _probe_local(port, tls_versions=['TLSv1.2'])


def test_unreachable_port():
    port = _free_port()
    with pytest.raises(ProbeError) as exc:
        _probe_local(port)
    assert str(exc.value).startswith('cannot connect to 127.0.0.1:%d: ' % port)


def test_plaintext_server_fails():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(('127.0.0.1', 0))
    server.listen(8)
    port = server.getsockname()[1]
    proc = subprocess.Popen([sys.executable, '-c', (
        'import socket,sys\n'
        's=socket.fromfd(%d, socket.AF_INET, socket.SOCK_STREAM)\n'
        'while True:\n'
        '    c,a=s.accept(); c.recv(4096); c.sendall(b"HTTP/1.0 400 Bad Request\\r\\n\\r\\n"); c.close()\n'
    ) % server.fileno()], pass_fds=[server.fileno()])
    try:
        with pytest.raises(ProbeError, match='offers none of TLSv1.2, TLSv1.3'):
            _probe_local(port, timeout=2)
    finally:
        _stop(proc)
        server.close()


@needs_openssl
def test_certificate_validation(s_server, cert):
    port = s_server()
    with pytest.raises(ProbeError, match='^certificate verification failed: '):
        _probe_local(port, validate_certs=True)
    result = _probe_local(port, validate_certs=True, ca_path=cert[0], tls_versions=['TLSv1.3'])
    assert result['versions']['TLSv1.3']['psk_resumed'] is True
    # The openssl client validates too: a session file needs s_client.
    with pytest.raises(ProbeError, match='^certificate verification failed: '):
        _probe_local(port, validate_certs=True, ca_path=cert[0], server_name='other.example')


# --- (d) nginx with a known ticket key name --------------------------------------------------

@needs_nginx
def test_nginx_ticket_key_name(nginx):
    port = nginx(KEY)
    result = _probe_local(port)
    v12, v13 = result['versions']['TLSv1.2'], result['versions']['TLSv1.3']
    assert v12['ticket_key_name'] == KEY_NAME
    assert v13['ticket_key_name'] == KEY_NAME
    assert v12['ticket_resumed'] is True and v13['psk_resumed'] is True
    assert v12['ticket_lifetime_hint'] == 300 and v13['ticket_lifetime_hint'] == 300
    assert v12['session_id_resumed'] is False          # no ssl_session_cache configured
    assert v13['max_early_data'] == 0 and v13['early_data_accepted'] is False
    _assert_no_secret(result)


@needs_nginx
def test_nginx_early_data_on(nginx):
    port = nginx(KEY, 'ssl_early_data on;')
    v13 = _probe_local(port, tls_versions=['TLSv1.3'], checks=['early_data'])['versions']['TLSv1.3']
    assert v13['max_early_data'] == 16384
    assert v13['early_data'] == 'accepted' and v13['early_data_accepted'] is True


@needs_nginx
def test_nginx_session_cache(nginx):
    port = nginx(KEY, 'ssl_session_cache shared:probe:1m;')
    v12 = _probe_local(port, tls_versions=['TLSv1.2'])['versions']['TLSv1.2']
    assert v12['session_id_resumed'] is True and v12['ticket_resumed'] is True


# --- (e) a saved session resumes on a node with the same key, not on another ---------------------

@needs_nginx
@pytest.mark.parametrize('version', ['TLSv1.2', 'TLSv1.3'])
def test_session_out_in_across_nodes(nginx, workdir, version, private_dirs):
    node1, node2, node3 = nginx(KEY), nginx(KEY), nginx(OTHER_KEY)
    session = os.path.join(workdir, 'session-%s.pem' % version)
    out = _probe_local(node1, tls_versions=[version], session_out=session)
    assert out['session_out'] == {
        'path': session, 'version': version, 'ticket_key_name': KEY_NAME,
        'ticket_length': out['versions'][version]['ticket_length'], 'ticket_lifetime_hint': 300}
    st = os.lstat(session)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600

    same = _probe_local(node2, session_in=session, attempts=3)
    assert same['versions'] == {}
    assert same['session_in']['resumed'] is True
    assert same['session_in']['version'] == version and same['session_in']['negotiated_version'] == version
    assert same['session_in']['ticket_key_name'] == KEY_NAME
    assert same['attempts'] == {'version': version, 'total': 3, 'resumed': 3, 'new': 0}

    other = _probe_local(node3, session_in=session, attempts=2)
    assert other['session_in']['resumed'] is False
    assert other['attempts'] == {'version': version, 'total': 2, 'resumed': 0, 'new': 2}
    for result in (out, same, other):
        _assert_no_secret(result)
    assert not any(os.path.exists(p) for p in private_dirs)


@needs_nginx
def test_attempts_without_session_in(nginx):
    port = nginx(KEY)
    result = _probe_local(port, attempts=4, checks=['psk'])
    assert result['attempts'] == {'version': 'TLSv1.3', 'total': 4, 'resumed': 4, 'new': 0}


@needs_openssl
def test_session_in_wrong_version_is_clear(s_server, workdir):
    port12 = s_server()
    session = os.path.join(workdir, 'session-12-only.pem')
    _probe_local(port12, tls_versions=['TLSv1.2'], session_out=session)
    port13 = s_server('-tls1_3')
    with pytest.raises(ProbeError, match='resumption handshake with 127.0.0.1:%d failed' % port13):
        _probe_local(port13, session_in=session)


@needs_openssl
def test_session_out_refused_on_disk(s_server, tmp_path):
    if _probe._filesystem_type(str(tmp_path)) in ('tmpfs', 'ramfs'):
        pytest.skip('the pytest tmp_path is on tmpfs here')
    port = s_server()
    target = tmp_path / 'session.pem'
    with pytest.raises(ProbeError, match='not on tmpfs or ramfs'):
        _probe_local(port, session_out=str(target))
    assert not target.exists()
