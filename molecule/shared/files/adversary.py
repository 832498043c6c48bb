# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A local user who is not root tries every path to a ticket key it can think of.
Run as that user (runuser -u USER -- python3 adversary.py STORE... [--socket-dir DIR] [--no-push] [--watch SECONDS]).

Tries, and counts what worked:
- secrets: a key file read from a store; a `show tls-keys *` answer with secret
  lines from any Unix socket under /run (HAProxy's stats sockets and whatever
  else listens there); /proc/PID/mem, environ or the open files of the servers
  and of the rotation command;
- accepted: a `set ssl tls-key` that a socket took (a key pushed by an outsider);
- replaced: an entry created in, or moved out of, a store or the directory of
  the collection's admin socket (so that a key could be redirected), or a
  symbolic link planted next to a store.
- journal: whether the user can read the system journal's files at all (the
  forensic search of the hardening scenario shows the journal holds no key);
- with --watch, for that many seconds more, every rotation command that starts
  (hardened-tls-ring) is attacked while it runs (rotate_seen counts them);
- same_user: what the /proc entries of a server process running as this very
  user gave away (nginx's workers run as www-data and are dumpable): the
  server's own user, the trust model's stated exception, counted apart.

Prints one JSON document of counts and of the paths that gave something away;
never a byte of what it read.
"""
import json
import os
import re
import socket
import stat
import sys
import time

SECRET_LINE = re.compile(r'(?m)^\S+\s+[A-Za-z0-9+/]{60,}={0,2}\s*$')
# Programs whose processes hold keys, matched by program name (see program()).
PROCESSES = ('nginx', 'apache2', 'haproxy', 'lighttpd', 'hardened-tls-ring')


def program(cmd):
    """The program a command line runs: the first word's base name ('nginx: worker process'
    gives nginx), or for a Python interpreter its script's (the rotation command runs as
    `python3 -I /usr/local/lib/hardened-tls-resumption/hardened-tls-ring ...`)."""
    words = [w.decode('utf-8', 'replace') for w in cmd if w]
    if not words:
        return ''
    first = os.path.basename(words[0].split(':')[0])
    if first.startswith('python'):
        scripts = [w for w in words[1:] if not w.startswith('-')]
        return os.path.basename(scripts[0]) if scripts else first
    return first


def sockets_under(top):
    found = []
    for root, dirs, files in os.walk(top, onerror=lambda e: None):
        for name in files + dirs:
            path = os.path.join(root, name)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                pass
    return sorted(found)


def talk(path, command):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(path)
        s.sendall(command.encode('ascii') + b'\n')
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b''.join(chunks).decode('utf-8', 'replace')
    finally:
        s.close()


def readable_files(top, tried):
    """Files under top this user can read a byte of (each one tried)."""
    found = []
    for root, dummy_dirs, files in os.walk(top, onerror=lambda e: None):
        for name in files:
            tried()
            try:
                with open(os.path.join(root, name), 'rb') as f:
                    if f.read(1):
                        found.append(os.path.join(root, name))
            except OSError:
                pass
    return found


def process_uid(pid):
    """Real uid of a process, or None."""
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def attack_processes(result, tried, attacked, only=None):
    """Read the memory, environment and open files of each process of PROCESSES
    (or only of the one named) not attacked yet; returns how many were new."""
    new = 0
    for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().split(b'\0')
        except OSError:
            continue
        name = program(cmd)
        if int(pid) in (os.getpid(), os.getppid()) or name not in ((only,) if only else PROCESSES):
            continue
        names = [name]
        if (pid, names[0]) in [a[:2] for a in attacked]:
            continue
        attacked.add((pid, names[0], 'first' if only is None else 'watch'))
        new += 1
        # A process of this very user (nginx's workers run as www-data and make themselves dumpable
        # for core files) is the server's own user: the stated exception of the trust model. What
        # it gives away is counted apart, not as a secret.
        found = result['same_user'] if process_uid(pid) == os.getuid() != 0 else result['secrets']
        tried()
        try:
            # A mapped, readable address first: a refused read there is a refusal, not a hole in the map.
            with open('/proc/%s/maps' % pid) as f:
                start = next(int(line.split('-')[0], 16) for line in f if line.split()[1].startswith('r'))
            with open('/proc/%s/mem' % pid, 'rb', 0) as f:
                f.seek(start)
                if f.read(1):
                    found.append('/proc/%s/mem' % pid)
        except (OSError, ValueError, OverflowError, StopIteration):
            pass
        tried()
        try:
            with open('/proc/%s/environ' % pid, 'rb') as f:
                f.read(1)
            found.append('/proc/%s/environ' % pid)
        except OSError:
            pass
        tried()
        try:
            os.listdir('/proc/%s/fd' % pid)
            found.append('/proc/%s/fd (listed)' % pid)
        except OSError:
            pass
    return new


def main():
    args = sys.argv[1:]
    socket_dirs = []
    stores = []
    push = True
    watch = 0.0
    while args:
        a = args.pop(0)
        if a == '--socket-dir':
            socket_dirs.append(args.pop(0))
        elif a == '--watch':
            watch = float(args.pop(0))
        elif a == '--no-push':
            push = False    # the root control run: it would push a real (zero) key
        else:
            stores.append(a)
    result = {'user': os.getuid(), 'tried': 0, 'secrets': [], 'accepted': [], 'replaced': [], 'connected': [],
              'journal': [], 'rotate_seen': 0, 'same_user': []}

    def tried():
        result['tried'] += 1

    # Key files in the stores (and anything below them).
    for store in stores:
        result['secrets'] += readable_files(store, tried)
        tried()
        try:
            os.listdir(store)
            result['secrets'].append(store + ' (listed)')
        except OSError:
            pass

    # Every Unix socket under /run: dump the keys, push a key.
    fake_key = 'A' * 107 + '='   # base64 of 80 zero bytes: accepted means a key was pushed by an outsider
    for path in sockets_under('/run'):
        tried()
        try:
            answer = talk(path, 'show tls-keys *')
        except OSError:
            continue
        result['connected'].append(path)
        if SECRET_LINE.search(answer):
            result['secrets'].append(path + ' (show tls-keys *)')
        refs = re.findall(r'\(([^)]+)\)', answer)
        for ref in (refs or ['/run/hardened-tls/haproxy/active/tls-ticket-keys']) if push else []:
            tried()
            try:
                if 'updated' in talk(path, 'set ssl tls-key %s %s' % (ref, fake_key)).lower():
                    result['accepted'].append(path)
            except OSError:
                pass

    # Replace or redirect: write next to the keys and the admin socket.
    for directory in stores + [os.path.dirname(s.rstrip('/')) for s in stores] + socket_dirs:
        for kind in ('file', 'symlink', 'rename'):
            tried()
            probe = os.path.join(directory, '.adversary-%d-%s' % (os.getpid(), kind))
            try:
                if kind == 'file':
                    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                elif kind == 'symlink':
                    os.symlink('/tmp', probe)
                else:
                    entries = [e for e in os.listdir(directory) if not e.startswith('.adversary')]
                    if not entries:
                        continue
                    os.rename(os.path.join(directory, entries[0]), probe)
                    os.rename(probe, os.path.join(directory, entries[0]))
                result['replaced'].append('%s (%s)' % (directory, kind))
                if kind != 'rename':
                    os.unlink(probe)
            except OSError:
                pass

    # The journal's files (systemd-journald, persistent or volatile).
    for top in ('/var/log/journal', '/run/log/journal'):
        result['journal'] += readable_files(top, tried)

    # The processes that hold keys: their memory, environment and open files.
    attacked = set()
    attack_processes(result, tried, attacked)
    deadline = time.time() + watch
    while time.time() < deadline:
        result['rotate_seen'] += attack_processes(result, tried, attacked, only='hardened-tls-ring')
        time.sleep(0.005)
    result['rotate_seen'] += len([p for p in attacked if p[1] == 'hardened-tls-ring' and p[2] == 'first'])
    result['counts'] = {'tried': result['tried'], 'secrets': len(result['secrets']),
                        'accepted': len(result['accepted']), 'replaced': len(result['replaced']),
                        'journal_readable': len(result['journal']), 'rotate_seen': result['rotate_seen'],
                        'same_user': len(result['same_user'])}
    print(json.dumps(result, sort_keys=True))


if __name__ == '__main__':
    main()
