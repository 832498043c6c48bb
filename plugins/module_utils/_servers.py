# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The server registry: everything the collection knows about a server, in one
record. The ring, the key files, the modules' choices and defaults, the
rotation's pick-up and the configuration test all ask here, and nothing else
branches on a server's name. Adding a server is one record here, one thin role
and one scenario (docs/adding-a-server.md).

A record holds:

- key_sizes: the key sizes its files can hold (bytes per key), default first;
- min_size: the fewest keys its ring may have (the most is _ring.MAX_SIZE);
- file_names(size): the files the configuration references, in its order;
- render(ring): {file name: bytes} of those files for a ring;
- service, config_test: its systemd unit and its configuration test;
- pick_up: how it takes new keys: 'reload' (configuration test, then a
  reload), 'runtime-api' (HAProxy's `set ssl tls-key`, a reload when that
  cannot be used) or 'file' (it re-reads its key file by itself: nothing to do);
- file_reader: 'root' when a root process reads the key files (they stay 0600
  root), 'group' when the server reads them after dropping privileges: the
  server's files (only those) are readable by one group, and the store and ring
  directories may be entered (not listed) by it;
- needs_period: its files carry times (lighttpd's activation and expiry), so
  the ring must know its period;
- server_keys: it can make its own key at each reload (no key file at all);
- start_render(ring): for a server that keeps keys only from what it loaded
  (lighttpd), the files to show it while it starts: the key that encrypts now,
  since the usual files hand over the next one (see docs/lighttpd.md);
  reload_steps: the argument lists of its reload, run between the start
  files and the hand-over (its unit's ExecReload is replaced).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import struct

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys

PICK_UPS = ('reload', 'runtime-api', 'file')
FILE_READERS = ('root', 'group')


class Server(object):
    __slots__ = ('name', 'key_sizes', 'min_size', 'file_names', 'render', 'service', 'config_test', 'pick_up',
                 'file_reader', 'needs_period', 'server_keys', 'min_period', 'layout', 'start_render', 'reload_steps')

    def __init__(self, name, key_sizes, min_size, file_names, render, service, config_test, pick_up,
                 file_reader='root', needs_period=False, server_keys=False, min_period=10, layout='',
                 start_render=None, reload_steps=None):
        if pick_up not in PICK_UPS or file_reader not in FILE_READERS:
            raise ValueError('bad server record %s' % name)
        self.name = name
        self.key_sizes = tuple(key_sizes)
        self.min_size = min_size
        self.file_names = file_names
        self.render = render
        self.service = service
        self.config_test = list(config_test)
        self.pick_up = pick_up
        self.file_reader = file_reader
        self.needs_period = needs_period
        self.server_keys = server_keys
        self.min_period = min_period
        self.layout = layout
        self.start_render = start_render
        self.reload_steps = [list(s) for s in (reload_steps or [])]

    @property
    def default_key_size(self):
        return self.key_sizes[0]

    def check(self, key_size, size, period=None):
        """Refuse what this server cannot take (the ring's own limits are _ring's)."""
        if key_size not in self.key_sizes:
            raise ResumptionError('key_size must be %s for server %s: %s (got %r)'
                                  % (' or '.join(str(s) for s in self.key_sizes), self.name, self.layout, key_size))
        if size < self.min_size:
            raise ResumptionError('size must be at least %d for server %s: %s (got %r)' % (self.min_size, self.name, self.layout, size))
        if period is not None and period < self.min_period:
            raise ResumptionError('period must be at least %d s for server %s: %s (got %r)'
                                  % (self.min_period, self.name, self.layout, period))


# ---------------------------------------------------------------- nginx

def roles(size):
    """Role of each ring member, oldest first: previous(-N)..., current, next."""
    prev = ['previous-%d' % i if i > 1 else 'previous' for i in range(size - 2, 0, -1)]
    return prev + ['current', 'next']


def _nginx_files(size):
    # nginx encrypts with the first ssl_session_ticket_key given; the others decrypt.
    rs = roles(size)
    return ['current.key', 'next.key'] + ['%s.key' % r for r in reversed(rs[:-2])]


def _nginx_render(ring):
    by_role = dict(zip(roles(ring.size), [m.key for m in ring.members]))
    return dict((n, _keys.nginx_bytes(by_role[n[:-len('.key')]])) for n in _nginx_files(ring.size))


# ---------------------------------------------------------------- Apache httpd

def _apache_render(ring):
    return {'ticket.key': _keys.apache_bytes(ring.current.key)}


# ---------------------------------------------------------------- HAProxy

def _haproxy_render(ring):
    return {'tls-ticket-keys': _keys.haproxy_bytes([m.key for m in ring.members])}


# ---------------------------------------------------------------- lighttpd

LIGHTTPD_FILE = 'ticket.stek'
# src/mod_openssl.c, mod_openssl_session_ticket_key_file(): int32 format version (0), int32
# activation time, int32 expiration time (host byte order), then name 16, HMAC 32, AES 32.
LIGHTTPD_RECORD = struct.Struct('=iii')
# lighttpd looks at the file when the clock is a multiple of 64 s (mod_openssl_handle_trigger), and
# only when its mtime (whole seconds) is newer than its last load: a key handed over at the start
# of a period is loaded before it activates when the period is longer than that, with a few
# seconds for the timer and the mtime's whole second.
LIGHTTPD_CHECK_INTERVAL = 64
LIGHTTPD_MIN_PERIOD = LIGHTTPD_CHECK_INTERVAL + 6


def lighttpd_times(ring):
    """(activation, expiration) of the ring's next key: it starts encrypting when the
    current key's period ends, and decrypts until two periods after that (one
    period as the current key, one as the previous key)."""
    start = ring.rotated_at + ring.period
    return int(start), int(start + 2 * ring.period)


def lighttpd_record(key, active, expire):
    if key.size != 80:
        raise ResumptionError('lighttpd (ssl.stek-file) takes 80-byte keys only, not %d' % key.size)
    return LIGHTTPD_RECORD.pack(0, active, expire) + key.name + key.hmac + key.aes


def lighttpd_parse(data):
    """(key, activation, expiration) of a stek file."""
    if len(data) != LIGHTTPD_RECORD.size + 80:
        raise ResumptionError('a lighttpd stek file is exactly 92 bytes, not %d' % len(data))
    version, active, expire = LIGHTTPD_RECORD.unpack(data[:LIGHTTPD_RECORD.size])
    if version != 0:
        raise ResumptionError('a lighttpd stek file of format %d is not understood' % version)
    rest = data[LIGHTTPD_RECORD.size:]
    return _keys.TicketKey(rest[:16], rest[48:80], rest[16:48]), active, expire


def _lighttpd_render(ring):
    if ring.period is None:
        raise ResumptionError('a lighttpd ring needs its period (the key file carries activation and expiration times)')
    active, expire = lighttpd_times(ring)
    return {LIGHTTPD_FILE: lighttpd_record(ring.members[-1].key, active, expire)}


def _lighttpd_start_render(ring):
    """The file lighttpd reads when it starts (as root, once): the current key, active
    since the ring's rotation and decrypting until one period after the next rotation.
    Shown only while it starts; the hand-over puts the next key back."""
    if ring.period is None:
        raise ResumptionError('a lighttpd ring needs its period (the key file carries activation and expiration times)')
    start = int(ring.rotated_at)
    return {LIGHTTPD_FILE: lighttpd_record(ring.current.key, start, start + 2 * int(ring.period))}


# ---------------------------------------------------------------- the registry

SERVERS = dict((s.name, s) for s in (
    Server('nginx', key_sizes=(80, 48), min_size=2, file_names=_nginx_files, render=_nginx_render,
           service='nginx', config_test=['nginx', '-t', '-q'], pick_up='reload',
           layout='ssl_session_ticket_key files of 48 or 80 bytes, the first one encrypts'),
    Server('apache', key_sizes=(48,), min_size=2, file_names=lambda size: ['ticket.key'], render=_apache_render,
           service='apache2', config_test=['apachectl', '-t'], pick_up='reload', server_keys=True,
           layout='SSLSessionTicketKeyFile takes one 48-byte key'),
    Server('haproxy', key_sizes=(80, 48), min_size=3, file_names=lambda size: ['tls-ticket-keys'], render=_haproxy_render,
           service='haproxy', config_test=['haproxy', '-c', '-q', '-f', '/etc/haproxy/haproxy.cfg'], pick_up='runtime-api',
           layout='it uses the last three keys of tls-ticket-keys'),
    Server('lighttpd', key_sizes=(80,), min_size=3, file_names=lambda size: [LIGHTTPD_FILE], render=_lighttpd_render,
           service='lighttpd', config_test=['lighttpd', '-tt', '-f', '/etc/lighttpd/lighttpd.conf'], pick_up='file',
           file_reader='group', needs_period=True, min_period=LIGHTTPD_MIN_PERIOD, start_render=_lighttpd_start_render,
           reload_steps=[['/usr/sbin/lighttpd', '-tt', '-f', '/etc/lighttpd/lighttpd.conf'], ['/bin/kill', '-USR1', '$MAINPID']],
           layout='ssl.stek-file holds one 80-byte key, and lighttpd keeps the last three it loaded; it looks at the '
                  'file every %d s, so a period must be at least %d s' % (LIGHTTPD_CHECK_INTERVAL, LIGHTTPD_MIN_PERIOD)),
))
NAMES = ('nginx', 'apache', 'haproxy', 'lighttpd')


def get(name):
    try:
        return SERVERS[name]
    except (KeyError, TypeError):
        raise ResumptionError('server must be one of %s, got %r' % (', '.join(NAMES), name))


def default_key_size(name):
    return get(name).default_key_size


def all_key_sizes():
    return tuple(sorted(set(s for srv in SERVERS.values() for s in srv.key_sizes)))
