# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ticket keys and the byte layouts each server expects (which server takes
which layout, and everything else about a server: _servers).

Layouts (see shared/reference/resumption-facts.md and the servers' sources):

- nginx, 48 bytes: name(16) | AES-128(16) | HMAC(16)
- nginx, 80 bytes: name(16) | HMAC(32) | AES-256(32)
  (src/event/ngx_event_openssl.c, ngx_ssl_session_ticket_keys)
- Apache httpd, 48 bytes only: name(16) | HMAC(16) | AES(16)
  (modules/ssl/ssl_engine_config.c, ssl_cmd_SSLSessionTicketKeyFile)
- HAProxy, 48 bytes: name(16) | AES(16) | HMAC(16); 80 bytes: name(16) |
  AES(32) | HMAC(32), base64 one key per line (include/haproxy/ssl_sock-t.h,
  struct tls_sess_key_128 / tls_sess_key_256)
- lighttpd, 80 bytes in a 92-byte record: version | activation | expiration
  (int32 each, host order) | name(16) | HMAC(32) | AES(32) (src/mod_openssl.c;
  written by _servers, which also knows the times)

The canonical form kept by the ring is the HAProxy order: name | AES | HMAC.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import os

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

KEY_SIZES = (48, 80)
NAME_LEN = 16


class TicketKey(object):
    """One ticket key: a 16-byte name, an AES key and an HMAC secret."""

    __slots__ = ('name', 'aes', 'hmac')

    def __init__(self, name, aes, hmac):
        if len(name) != NAME_LEN:
            raise ResumptionError('a ticket key name must be 16 bytes')
        if len(aes) != len(hmac) or len(aes) not in (16, 32):
            raise ResumptionError('a ticket key needs AES and HMAC parts of 16 or 32 bytes each')
        self.name = bytes(name)
        self.aes = bytes(aes)
        self.hmac = bytes(hmac)

    def __repr__(self):
        # Never show the secret parts, not even by accident in a traceback.
        return 'TicketKey(name=%s, size=%d)' % (self.name_hex, self.size)

    def __eq__(self, other):
        return isinstance(other, TicketKey) and self.canonical() == other.canonical()

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    @property
    def size(self):
        return NAME_LEN + len(self.aes) + len(self.hmac)

    @property
    def name_hex(self):
        return binascii.hexlify(self.name).decode('ascii')

    def canonical(self):
        return self.name + self.aes + self.hmac

    @classmethod
    def from_canonical(cls, data):
        check_key_size(len(data))
        half = (len(data) - NAME_LEN) // 2
        return cls(data[:NAME_LEN], data[NAME_LEN:NAME_LEN + half], data[NAME_LEN + half:])

    @classmethod
    def generate(cls, size, randbytes=os.urandom):
        check_key_size(size)
        half = (size - NAME_LEN) // 2
        return cls(randbytes(NAME_LEN), randbytes(half), randbytes(half))


def check_key_size(size):
    if size not in KEY_SIZES:
        raise ResumptionError('key_size must be 48 or 80 bytes, got %r' % (size,))


def nginx_bytes(key):
    """One nginx key file: 48 bytes name|AES|HMAC, 80 bytes name|HMAC|AES."""
    if key.size == 48:
        return key.name + key.aes + key.hmac
    return key.name + key.hmac + key.aes


def nginx_parse(data):
    check_key_size(len(data))
    if len(data) == 48:
        return TicketKey(data[:16], data[16:32], data[32:48])
    return TicketKey(data[:16], data[48:80], data[16:48])


def apache_bytes(key):
    """Apache's SSLSessionTicketKeyFile: 48 bytes name|HMAC|AES."""
    if key.size != 48:
        raise ResumptionError('Apache httpd (SSLSessionTicketKeyFile) takes 48-byte keys only, not %d' % key.size)
    return key.name + key.hmac + key.aes


def apache_parse(data):
    if len(data) != 48:
        raise ResumptionError('an Apache ticket key file is exactly 48 bytes, not %d' % len(data))
    return TicketKey(data[:16], data[32:48], data[16:32])


def haproxy_line(key):
    """One line of a HAProxy tls-ticket-keys file (base64 of name|AES|HMAC)."""
    return base64.b64encode(key.canonical()).decode('ascii')


def haproxy_bytes(keys):
    """A whole tls-ticket-keys file, keys given oldest first (previous, current, next)."""
    return ''.join(haproxy_line(k) + '\n' for k in keys).encode('ascii')


def haproxy_parse(data):
    keys = []
    try:
        text = data.decode('ascii')
    except UnicodeDecodeError:
        raise ResumptionError('a HAProxy tls-ticket-keys file holds only base64 lines (ASCII)')
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        try:
            raw = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise ResumptionError('a HAProxy tls-ticket-keys line is not valid base64')
        keys.append(TicketKey.from_canonical(raw))
    if len(set(len(k.canonical()) for k in keys)) > 1:
        raise ResumptionError('a HAProxy tls-ticket-keys file mixes 48- and 80-byte keys')
    return keys
