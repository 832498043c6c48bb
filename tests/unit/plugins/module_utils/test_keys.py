# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._keys import TicketKey

NAME = b'N' * 16
AES16 = bytes(range(0x10, 0x20))
HMAC16 = bytes(range(0xa0, 0xb0))
AES32 = bytes(range(0x20, 0x40))
HMAC32 = bytes(range(0xc0, 0xe0))
PARTS = {48: (AES16, HMAC16), 80: (AES32, HMAC32)}


def key(size, name=NAME):
    aes, hmac = PARTS[size]
    return TicketKey(name, aes, hmac)


# The layouts as the servers' sources read them, written out by hand.
# nginx src/event/ngx_event_openssl.c: 48 = name|aes|hmac, 80 = name|hmac|aes.
# Apache modules/ssl/ssl_engine_config.c: 48 = name|hmac|aes.
# HAProxy include/haproxy/ssl_sock-t.h: name|aes|hmac, both sizes.
NGINX_48 = NAME + AES16 + HMAC16
NGINX_80 = NAME + HMAC32 + AES32
APACHE_48 = NAME + HMAC16 + AES16
HAPROXY_48 = NAME + AES16 + HMAC16
HAPROXY_80 = NAME + AES32 + HMAC32


@pytest.mark.parametrize('size, expected', [(48, NGINX_48), (80, NGINX_80)])
def test_nginx_layout(size, expected):
    data = _keys.nginx_bytes(key(size))
    assert len(data) == size
    assert data == expected


def test_nginx_80_is_not_haproxy_80():
    # The 80-byte orders of nginx and HAProxy are reverses of each other in their secret parts.
    assert _keys.nginx_bytes(key(80)) != base64.b64decode(_keys.haproxy_line(key(80)))


@pytest.mark.parametrize('size, expected', [(48, NGINX_48), (80, NGINX_80)])
def test_nginx_parse(size, expected):
    parsed = _keys.nginx_parse(expected)
    assert parsed.name == NAME
    assert parsed.aes == PARTS[size][0]
    assert parsed.hmac == PARTS[size][1]
    assert parsed == key(size)


def test_apache_layout():
    data = _keys.apache_bytes(key(48))
    assert data == APACHE_48
    assert data[16:32] == HMAC16
    assert data[32:48] == AES16


def test_apache_parse():
    parsed = _keys.apache_parse(APACHE_48)
    assert (parsed.name, parsed.aes, parsed.hmac) == (NAME, AES16, HMAC16)


def test_apache_refuses_80():
    with pytest.raises(ResumptionError, match='48-byte keys only'):
        _keys.apache_bytes(key(80))


@pytest.mark.parametrize('size', [0, 47, 49, 80, 96])
def test_apache_parse_refuses_sizes(size):
    with pytest.raises(ResumptionError, match='exactly 48 bytes, not %d' % size):
        _keys.apache_parse(b'\1' * size)


@pytest.mark.parametrize('size, expected', [(48, HAPROXY_48), (80, HAPROXY_80)])
def test_haproxy_line(size, expected):
    line = _keys.haproxy_line(key(size))
    assert line == base64.b64encode(expected).decode('ascii')
    assert '\n' not in line


@pytest.mark.parametrize('size', [48, 80])
def test_haproxy_file_keeps_order(size):
    keys = [key(size, name=bytes([i]) * 16) for i in (1, 2, 3, 4)]
    data = _keys.haproxy_bytes(keys)
    lines = data.decode('ascii').split('\n')
    assert lines[-1] == ''
    lines = lines[:-1]
    assert len(lines) == 4
    aes, hmac = PARTS[size]
    for i, line in enumerate(lines):
        assert base64.b64decode(line) == bytes([i + 1]) * 16 + aes + hmac


@pytest.mark.parametrize('size', [48, 80])
def test_haproxy_round_trip(size):
    keys = [TicketKey.generate(size) for dummy in range(3)]
    assert _keys.haproxy_parse(_keys.haproxy_bytes(keys)) == keys


def test_haproxy_parse_skips_comments_and_blank_lines():
    text = b'# a comment\n\n' + base64.b64encode(HAPROXY_48) + b'\n  \n'
    assert _keys.haproxy_parse(text) == [key(48)]


@pytest.mark.parametrize('text, message', [
    (b'not base64!!\n', 'not valid base64'),
    (base64.b64encode(b'x' * 50) + b'\n', 'key_size must be 48 or 80'),
    (base64.b64encode(HAPROXY_48) + b'\n' + base64.b64encode(HAPROXY_80) + b'\n', 'mixes 48- and 80-byte keys'),
])
def test_haproxy_parse_refusals(text, message):
    with pytest.raises(ResumptionError, match=message):
        _keys.haproxy_parse(text)


@pytest.mark.parametrize('server, size', [('nginx', 48), ('nginx', 80), ('apache', 48), ('haproxy', 48), ('haproxy', 80)])
def test_round_trip_random(server, size):
    k = TicketKey.generate(size)
    if server == 'nginx':
        assert _keys.nginx_parse(_keys.nginx_bytes(k)) == k
    elif server == 'apache':
        assert _keys.apache_parse(_keys.apache_bytes(k)) == k
    else:
        assert _keys.haproxy_parse(_keys.haproxy_bytes([k])) == [k]


@pytest.mark.parametrize('size', [48, 80])
def test_canonical_round_trip(size):
    k = key(size)
    assert k.canonical() == NAME + PARTS[size][0] + PARTS[size][1]
    assert TicketKey.from_canonical(k.canonical()) == k
    assert k.size == size


@pytest.mark.parametrize('size', [48, 80])
def test_generate_uses_randbytes(size):
    calls = []

    def rb(n):
        calls.append(n)
        return bytes([len(calls)]) * n

    k = TicketKey.generate(size, randbytes=rb)
    half = (size - 16) // 2
    assert calls == [16, half, half]
    assert k.name == b'\1' * 16
    assert k.aes == b'\2' * half
    assert k.hmac == b'\3' * half


def test_generate_random_keys_differ():
    a, b = TicketKey.generate(48), TicketKey.generate(48)
    assert a.name != b.name and a.aes != b.aes and a.hmac != b.hmac


@pytest.mark.parametrize('size', [0, 16, 32, 47, 49, 64, 79, 81, 96, '48', None])
def test_bad_key_size_refused(size):
    with pytest.raises(ResumptionError, match=r'key_size must be 48 or 80 bytes'):
        _keys.check_key_size(size)
    with pytest.raises(ResumptionError, match=r'key_size must be 48 or 80 bytes'):
        TicketKey.generate(size)


@pytest.mark.parametrize('size', [0, 47, 49, 64, 81])
@pytest.mark.parametrize('parse', [_keys.nginx_parse, TicketKey.from_canonical])
def test_parse_refuses_bad_sizes(parse, size):
    with pytest.raises(ResumptionError, match='key_size must be 48 or 80 bytes, got %d' % size):
        parse(b'\0' * size)


@pytest.mark.parametrize('name, aes, hmac, message', [
    (b'N' * 15, AES16, HMAC16, 'name must be 16 bytes'),
    (b'N' * 17, AES16, HMAC16, 'name must be 16 bytes'),
    (NAME, AES16, HMAC32, '16 or 32 bytes'),
    (NAME, b'a' * 24, b'h' * 24, '16 or 32 bytes'),
])
def test_ticket_key_refuses_bad_parts(name, aes, hmac, message):
    with pytest.raises(ResumptionError, match=message):
        TicketKey(name, aes, hmac)


@pytest.mark.parametrize('size', [48, 80])
def test_repr_never_shows_secrets(size):
    k = TicketKey.generate(size)
    for text in (repr(k), str(k), repr([k]), '%r' % (k,)):
        for secret in (k.aes, k.hmac, k.canonical()):
            assert binascii.hexlify(secret).decode() not in text
            assert binascii.hexlify(secret).decode().upper() not in text
            assert repr(secret) not in text
            assert base64.b64encode(secret).decode() not in text
        assert k.name_hex in text
        assert 'size=%d' % size in text


def test_name_hex():
    assert TicketKey(bytes(range(16)), AES16, HMAC16).name_hex == '000102030405060708090a0b0c0d0e0f'


def test_equality():
    assert key(48) == key(48)
    assert key(48) != key(48, name=b'M' * 16)
    assert key(48) != key(80)
    assert key(48) != NGINX_48
    with pytest.raises(TypeError):
        hash(key(48))
