# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the hardening proofs (molecule/hardening): docker access, an
out-of-band key recorder, the forensic search, Ansible runs with captured
output, and a bounded TLS load generator.

Key material handled here stays in this process's memory: the recorder reads
the stores through ``docker exec`` pipes, the search gets its needles through
a pipe (never a file), and nothing here prints a key byte, in any form.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
STORES = '/run/hardened-tls'
RING_CMD = '/usr/local/lib/hardened-tls-resumption/hardened-tls-ring'
RING_CONF = '/etc/hardened-tls-resumption/rings/%s.json'


# ---------------------------------------------------------------- docker

def docker(args, data=None, timeout=300, check=True):
    p = subprocess.run(['docker'] + list(args), input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
    if check and p.returncode != 0:
        err = p.stderr.decode('utf-8', 'replace').strip()[-500:]
        raise AssertionError('docker %s failed (rc=%d): %s' % (' '.join(args[:3]), p.returncode, err))
    return p


def dexec(container, argv, data=None, timeout=300, check=True):
    """Run argv in the container; returns the CompletedProcess (bytes)."""
    return docker(['exec'] + (['-i'] if data is not None else []) + [container] + list(argv), data=data,
                  timeout=timeout, check=check)


def sh(container, script, check=True, timeout=300):
    """A shell script in the container; returns stdout as text."""
    p = dexec(container, ['sh', '-c', script], check=check, timeout=timeout)
    return p.stdout.decode('utf-8', 'replace')


def published_port(container, port):
    out = docker(['port', container, '%d/tcp' % port]).stdout.decode().split()
    for line in out:
        if line.startswith('127.0.0.1:'):
            return int(line.rsplit(':', 1)[1])
    raise AssertionError('%s: port %d is not published on 127.0.0.1 (%s)' % (container, port, out))


def ring_status(container, ring='nginx'):
    out = dexec(container, [RING_CMD, '--config', RING_CONF % ring, 'status']).stdout
    return json.loads(out.decode())['ring']


def wait_for(what, predicate, timeout, interval=0.5):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError('timed out after %ds waiting for %s (last: %r)' % (timeout, what, last))


def wait_generation(container, above, timeout, ring='nginx'):
    def check():
        try:
            st = ring_status(container, ring)
        except (AssertionError, ValueError):
            return None
        return st if st and st['generation'] > above else None
    return wait_for('%s ring %s generation > %d' % (container, ring, above), check, timeout)


def wait_systemd(container, timeout=120):
    def up():
        p = dexec(container, ['systemctl', 'is-system-running'], check=False, timeout=30)
        state = p.stdout.decode().strip()
        return state if state in ('running', 'degraded') else None
    return wait_for('%s systemd up' % container, up, timeout, interval=1)


def journal(container, unit, since_cursor=None):
    argv = ['journalctl', '--no-pager', '-o', 'cat', '-u', unit]
    if since_cursor:
        argv += ['--after-cursor', since_cursor]
    return dexec(container, argv, check=False).stdout.decode('utf-8', 'replace')


def journal_until(container, unit, since_cursor, needles, timeout=20):
    """The unit's journal since the cursor, read again (every 0.5 s, at most timeout s) until
    every needle is in it: journald writes a unit's output some time after the unit ended,
    seconds later on a loaded machine. Returns the last read; the caller asserts."""
    deadline = time.time() + timeout
    while True:
        log = journal(container, unit, since_cursor)
        if all(n in log for n in needles) or time.time() >= deadline:
            return log
        time.sleep(0.5)


def journal_cursor(container):
    out = dexec(container, ['journalctl', '--no-pager', '-n', '0', '--show-cursor'], check=False).stdout.decode()
    for line in out.splitlines():
        if line.startswith('-- cursor: '):
            return line[len('-- cursor: '):].strip()
    return None


def drop_store(container, ring='nginx', timeout=120):
    """Lose a ring's store out of band (as a reboot would, without restarting the
    server): stop its timer, then its mount unit (which stops the units that
    require it); the next converge mounts the store again and creates every key
    anew, under the recorder's eyes. Retried: a read of the store (the recorder)
    can make an unmount fail with EBUSY for a moment."""
    store = '%s/%s' % (STORES, ring)
    mount = dexec(container, ['systemd-escape', '-p', '--suffix=mount', store]).stdout.decode().strip()
    dexec(container, ['systemctl', 'stop', 'hardened-tls-rotate-%s.timer' % ring])

    def gone():
        dexec(container, ['systemctl', 'stop', mount], check=False)
        return dexec(container, ['findmnt', '-n', '--mountpoint', store], check=False).returncode != 0
    wait_for('%s store %s unmounted' % (container, store), gone, timeout, interval=0.5)
    dexec(container, ['systemctl', 'reset-failed', mount], check=False)


# ---------------------------------------------------------------- keys

class KeyRecorder(object):
    """Reads every ring of /run/hardened-tls out of band (docker exec + tar to a
    pipe), over and over, and keeps each key and each rendered file in memory."""

    def __init__(self, containers, interval=0.3):
        self.containers = list(containers)
        self.interval = interval
        self.keys = {}        # canonical bytes -> (container, name_hex)
        self.files = {}       # rendered server files and other store secrets: bytes -> (container, file name)
        self.skipped = 0      # blobs read while being shredded (zero runs): not secrets
        self.snapshots = 0
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, name='key-recorder')
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(30)
        for c in self.containers:
            self.snapshot(c)

    def _loop(self):
        while not self._stop.is_set():
            for c in self.containers:
                self.snapshot(c)
            self._stop.wait(self.interval)

    def snapshot(self, container):
        try:
            p = docker(['exec', container, 'tar', '-C', STORES, '--ignore-failed-read', '-cf', '-', '.'],
                       timeout=30, check=False)
        except subprocess.TimeoutExpired:
            self.errors += 1
            return
        if not p.stdout:
            self.errors += 1
            return
        try:
            self._parse(container, p.stdout)
        except (tarfile.TarError, EOFError, ValueError, ResumptionError):
            # a file read while a rotation was still writing it (a new ring
            # directory is filled before the `active` link moves to it)
            self.errors += 1
        self.snapshots += 1

    def _add_file(self, container, name, data):
        if not looks_secret(data):
            self.skipped += 1
            return
        self.files.setdefault(data, (container, name))

    def _parse(self, container, blob):
        tf = tarfile.open(fileobj=io.BytesIO(blob), mode='r:')
        contents = {}
        for member in tf.getmembers():
            if member.isfile():
                f = tf.extractfile(member)
                contents[member.name] = f.read() if f else b''
        with self._lock:
            for path, data in contents.items():
                base = os.path.basename(path)
                if base == 'keys.bin':
                    meta = contents.get(os.path.join(os.path.dirname(path), 'ring.json'))
                    size = json.loads(meta.decode())['key_size'] if meta else (80 if len(data) % 80 == 0 else 48)
                    for i in range(0, len(data) - size + 1, size):
                        self._add_key(container, _keys.TicketKey.from_canonical(data[i:i + size]))
                elif base.endswith('.key') and len(data) in (48, 80):
                    self._add_file(container, base, data)
                    self._add_key(container, _keys.nginx_parse(data))
                elif base == 'ticket.key' and len(data) == 48:
                    self._add_file(container, base, data)
                    self._add_key(container, _keys.apache_parse(data))
                elif base == 'tls-ticket-keys':
                    # Only a whole file: one caught half-written is a short prefix of
                    # base64 text that would match anywhere (raises, counted as a read error).
                    parsed = _keys.haproxy_parse(data)
                    if not parsed or not data.endswith(b'\n'):
                        continue
                    self._add_file(container, base, data)
                    for k in parsed:
                        self._add_key(container, k)
                elif (16 <= len(data) <= 4096 and len(set(data)) > 1 and not base.endswith('.json')
                      and base not in ('.lock', 'filler')):
                    # any other secret of a store (a fleet ratchet state, a join key...): searched whole.
                    # Not the tmpfs-full test's filler (zeros): no secret is constant or that large.
                    self._add_file(container, base, data)

    def _add_key(self, container, key):
        if not (looks_secret(key.aes) and looks_secret(key.hmac)):
            self.skipped += 1
            return
        self.keys.setdefault(key.canonical(), (container, key.name_hex))

    def key_objects(self):
        with self._lock:
            return [_keys.TicketKey.from_canonical(c) for c in self.keys]

    def summary(self):
        with self._lock:
            per = {}
            for c, dummy in self.keys.values():
                per[c] = per.get(c, 0) + 1
            return {'keys': len(self.keys), 'per_container': per, 'rendered_files': len(self.files),
                    'snapshots': self.snapshots, 'read_errors': self.errors, 'skipped': self.skipped}

    def file_origins(self):
        """The recorded files in a stable order, with where each was first seen (no content)."""
        with self._lock:
            return [(data, self.files[data]) for data in sorted(self.files)]


def looks_secret(data):
    """False for bytes read while a rotation was shredding the file (zeros written
    over it before the unlink) or zero-padded by tar (a file that shrank while read):
    8 zero bytes in a row occur in random key material with odds of about 2^-64 per offset,
    and such a blob, searched, matches every zero-padded structure on disk."""
    return b'\0' * 8 not in data


# ---------------------------------------------------------------- needles

def b64_fragments(secret):
    """Base64 text that any base64 encoding of a stream holding `secret` must
    contain, whatever the secret's offset in that stream (3 alignments)."""
    frags = []
    for k in range(3):
        enc = base64.b64encode(b'\0' * k + secret)
        start = {0: 0, 1: 2, 2: 3}[k]
        total = k + len(secret)
        full = (total // 3) * 4
        rem = total % 3
        end = full + {0: 0, 1: 1, 2: 2}[rem]
        frags.append(enc[start:end])
    return frags


class Needles(object):
    """Search patterns for a set of secrets, by form. Each pattern is ASCII
    (no newline) so it can go to grep -F through a pipe:
      raw  - hex of the secret, matched in the hex view of the data (even offsets);
      hex  - hex of the secret, matched in the lower-cased data (both cases);
      b64  - base64 fragments, matched in the data with base64url mapped to base64."""

    def __init__(self):
        self.items = []   # (pattern, form, label)

    def add_secret(self, secret, label):
        h = binascii.hexlify(secret)
        self.items.append((h, 'raw', label))
        self.items.append((h, 'hex', label))
        for i, frag in enumerate(b64_fragments(secret)):
            self.items.append((frag, 'b64', label))

    def add_key(self, key, label, files=()):
        self.add_secret(key.aes, label + ':aes')
        self.add_secret(key.hmac, label + ':hmac')

    def patterns(self):
        return sorted(set(p for p, dummy, dummy2 in self.items))

    def lookup(self, pattern):
        return [(f, l) for p, f, l in self.items if p == pattern]


_B64URL = bytes.maketrans(b'-_', b'+/')
VIEWS = ('raw', 'hex', 'b64')


def views(chunk):
    return {'raw': binascii.hexlify(chunk), 'hex': chunk.lower(), 'b64': chunk.translate(_B64URL)}


class Search(object):
    """Feeds data sources to one grep -F per call (patterns through a pipe) and
    maps hits back to (source, view, form, label). Counts files and bytes."""

    CHUNK = 8 * 1024 * 1024
    OVERLAP = 256

    def __init__(self, needles):
        self.needles = needles
        self.files = 0
        self.bytes = 0
        self.hits = []
        self.by_source = {}

    def run(self, source_name, iterator):
        """iterator yields (path, bytes-chunk-iterator)."""
        pats = b'\n'.join(self.needles.patterns()) + b'\n'
        rfd, wfd = os.pipe()
        env = dict(os.environ, LC_ALL='C')
        proc = subprocess.Popen(['grep', '-F', '-a', '-o', '-b', '-f', '/dev/fd/%d' % rfd],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                pass_fds=(rfd,), env=env)
        os.close(rfd)
        writer = threading.Thread(target=self._write_patterns, args=(wfd, pats))
        writer.start()
        segments = []   # (stream offset, path, view, file offset of chunk start)
        out_holder = {}
        reader = threading.Thread(target=lambda: out_holder.setdefault('out', proc.stdout.read()))
        reader.start()
        pos = 0
        files = nbytes = 0
        try:
            for path, chunks in iterator:
                files += 1
                offset = 0
                tail = b''
                for chunk in chunks:
                    data = tail + chunk
                    start = offset - len(tail)
                    nbytes += len(chunk)
                    for view, vdata in views(data).items():
                        segments.append((pos, path, view, start))
                        proc.stdin.write(vdata + b'\n')
                        pos += len(vdata) + 1
                    offset += len(chunk)
                    tail = data[-self.OVERLAP:]
            proc.stdin.close()
        except BrokenPipeError:
            pass
        reader.join()
        writer.join()
        proc.wait()
        if proc.returncode not in (0, 1):
            raise AssertionError('grep failed: %s' % proc.stderr.read().decode('utf-8', 'replace'))
        self.files += files
        self.bytes += nbytes
        self.by_source[source_name] = {'files': files, 'bytes': nbytes}
        self._collect(source_name, out_holder.get('out', b''), segments)

    @staticmethod
    def _write_patterns(fd, pats):
        try:
            view = memoryview(pats)
            while view:
                n = os.write(fd, view)
                view = view[n:]
        finally:
            os.close(fd)

    def _collect(self, source_name, out, segments):
        import bisect
        starts = [s[0] for s in segments]
        seen = set()
        for line in out.splitlines():
            off, dummy, match = line.partition(b':')
            off = int(off)
            i = bisect.bisect_right(starts, off) - 1
            seg_start, path, view, file_start = segments[i]
            rel = off - seg_start
            for form, label in self.needles.lookup(match):
                if form != view:
                    continue
                if view == 'raw':
                    if rel % 2:
                        continue
                    rel_file = file_start + rel // 2
                else:
                    rel_file = file_start + rel
                keyid = (source_name, path, form, label, rel_file)
                if keyid in seen:
                    continue
                seen.add(keyid)
                self.hits.append({'source': source_name, 'path': path, 'form': form, 'label': label, 'offset': rel_file})


# ---------------------------------------------------------------- data sources

def file_chunks(path, size=Search.CHUNK):
    def gen():
        try:
            with open(path, 'rb') as f:
                while True:
                    chunk = f.read(size)
                    if not chunk:
                        break
                    yield chunk
        except (IOError, OSError):
            return
    return gen()


def walk_files(top, skip=()):
    """Regular files under top (no symlinks followed, no other file systems skipped)."""
    for root, dirs, files in os.walk(top):
        # Python virtualenvs (pyvenv.cfg) hold installed packages, not what a run wrote: skipped and counted.
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip
                   and not os.path.exists(os.path.join(root, d, 'pyvenv.cfg'))]
        for name in files:
            full = os.path.join(root, name)
            try:
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
            except OSError:
                continue
            yield full, file_chunks(full)


def memory_source(named_blobs):
    for name, blob in named_blobs:
        yield name, iter([blob])


# Package caches of apt: files fetched from the Debian mirror, which cannot hold
# a key of ours. Skipped in the writable layers (and counted as skipped).
PACKAGE_CACHES = ('/var/cache/apt/', '/var/lib/apt/lists/')


def container_changed_paths(container, skipped=None):
    """Added or changed paths of the container's writable layer (docker diff),
    without the package caches (their number goes to skipped['files'])."""
    out = docker(['diff', container]).stdout.decode('utf-8', 'replace')
    paths = []
    for line in out.splitlines():
        kind, dummy, path = line.partition(' ')
        if kind not in ('A', 'C'):
            continue
        if (path + '/').startswith(PACKAGE_CACHES):
            if skipped is not None:
                skipped['files'] = skipped.get('files', 0) + 1
            continue
        paths.append(path)
    return paths


def container_tar_source(container, paths):
    """Files of the container streamed as a tar through a pipe, read in memory."""
    if not paths:
        return
    listing = ('\n'.join(p.lstrip('/') for p in paths) + '\n').encode()
    proc = subprocess.Popen(['docker', 'exec', '-i', container, 'tar', '-C', '/', '--no-recursion',
                             '--ignore-failed-read', '-cf', '-', '-T', '-'],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def feed():
        try:
            proc.stdin.write(listing)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    t = threading.Thread(target=feed)
    t.start()
    tf = tarfile.open(fileobj=proc.stdout, mode='r|')
    for member in tf:
        if not member.isfile():
            continue
        f = tf.extractfile(member)
        if f is None:
            continue

        def chunks(f=f):
            while True:
                chunk = f.read(Search.CHUNK)
                if not chunk:
                    break
                yield chunk
        yield '/' + member.name, chunks()
    t.join()
    proc.wait()


# ---------------------------------------------------------------- ansible

def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.build'),
        'ANSIBLE_PIPELINING': 'True',
        'ANSIBLE_FORCE_COLOR': 'False',
        'ANSIBLE_NOCOLOR': 'True',
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_PYTHON_INTERPRETER': 'auto_silent',
    })
    for k in ('ANSIBLE_STDOUT_CALLBACK', 'ANSIBLE_CONFIG'):
        env.pop(k, None)
    env.update(extra or {})
    return env


def ansible_playbook(playbook, inventory, extra_vars=None, verbosity=3, limit=None, env=None, timeout=900,
                     check=True):
    """Run a playbook; its whole output (-vvv) is returned in memory, never written to a file."""
    argv = ['ansible-playbook', '-i', inventory, playbook]
    if verbosity:
        argv.append('-' + 'v' * verbosity)
    if extra_vars:
        argv += ['-e', json.dumps(extra_vars)]
    if limit:
        argv += ['--limit', limit]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ansible_env(env),
                       timeout=timeout, cwd=ROOT, check=False)
    if check and p.returncode != 0:
        tail = p.stdout.decode('utf-8', 'replace')[-4000:]
        raise AssertionError('%s failed (rc=%d):\n%s' % (os.path.basename(playbook), p.returncode, tail))
    return p


def ssh_inventory(path, hosts, key):
    """An inventory reaching the containers over SSH (published 22 on 127.0.0.1)."""
    lines = ['all:', '  hosts:']
    for h in hosts:
        lines += [
            '    %s:' % h,
            '      ansible_connection: ssh',
            '      ansible_host: 127.0.0.1',
            '      ansible_port: %d' % published_port(h, 22),
            '      ansible_user: root',
            '      ansible_ssh_private_key_file: %s' % key,
            '      ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"',
            '      ansible_ssh_pipelining: true',
        ]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


# ---------------------------------------------------------------- TLS clients

def client_context(version):
    """The bench's client context (one TLS version, no verification: the demo
    certificates are self-signed)."""
    if os.path.join(ROOT, 'scripts') not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import bench_client
    return bench_client.context(version)


def https_get(ctx, port, session=None, timeout=5):
    """One HTTPS request; returns (session, reused). Raises on any failure."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname='localhost', session=session) as s:
            s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
            data = b''
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(b'HTTP/1.1 200'):
                raise AssertionError('unexpected answer %r' % data[:40])
            return s.session, s.session_reused


class Load(object):
    """Bounded handshake load on one port: `threads` workers for `seconds`.
    Each worker alternates full handshakes with resumptions of a session it
    holds while that session is younger than max_age, then takes a fresh one."""

    def __init__(self, port, threads, seconds, max_age):
        self.port = port
        self.threads = threads
        self.seconds = seconds
        self.max_age = max_age
        self.lock = threading.Lock()
        self.counts = {'full': 0, 'full_failed': 0, 'resume_attempts': 0, 'resumed': 0, 'resume_failed': 0}
        self.errors = []
        self._workers = []

    def _count(self, key, err=None):
        with self.lock:
            self.counts[key] += 1
            if err is not None and len(self.errors) < 10:
                self.errors.append(err)

    def _work(self, version, deadline):
        ctx = client_context(version)
        held = None
        held_at = 0
        while time.time() < deadline:
            try:
                sess, dummy = https_get(ctx, self.port)
                self._count('full')
            except Exception as e:  # pylint: disable=broad-except
                self._count('full_failed', '%s full: %s' % (version, e))
                continue
            now = time.time()
            if held is None or now - held_at >= self.max_age:
                held, held_at = sess, now
                continue
            try:
                dummy, reused = https_get(ctx, self.port, session=held)
                self._count('resume_attempts')
                if reused:
                    self._count('resumed')
                else:
                    with self.lock:
                        if len(self.errors) < 10:
                            self.errors.append('%s ticket aged %.1fs not resumed' % (version, time.time() - held_at))
            except Exception as e:  # pylint: disable=broad-except
                self._count('resume_failed', '%s resume: %s' % (version, e))

    def start(self):
        deadline = time.time() + self.seconds
        for i in range(self.threads):
            t = threading.Thread(target=self._work, args=('TLSv1.3' if i % 2 else 'TLSv1.2', deadline))
            t.daemon = True
            t.start()
            self._workers.append(t)
        return self

    def join(self):
        for t in self._workers:
            t.join(self.seconds + 60)
        return self.counts
