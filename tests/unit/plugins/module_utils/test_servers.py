# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import struct
import sys

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers


def test_every_server_has_one_complete_record():
    assert set(_servers.SERVERS) == set(_servers.NAMES)
    for name in _servers.NAMES:
        srv = _servers.get(name)
        assert srv.name == name
        assert srv.key_sizes and set(srv.key_sizes) <= set(_keys.KEY_SIZES)
        assert _ring.MIN_SIZE <= srv.min_size <= _ring.MAX_SIZE
        assert srv.service and srv.config_test and srv.pick_up in _servers.PICK_UPS
        for size in range(srv.min_size, _ring.MAX_SIZE + 1):
            ring = _ring.new_ring(name, srv.default_key_size, size, 1700000000, period=max(srv.min_period, 3600))
            files = ring.render()
            assert sorted(files) == sorted(srv.file_names(size))
            assert all(isinstance(v, bytes) and v for v in files.values())


@pytest.mark.parametrize('server', ['caddy', 'Nginx', '', None])
def test_unknown_servers_are_refused_naming_all(server):
    with pytest.raises(ResumptionError, match='server must be one of nginx, apache, haproxy, lighttpd'):
        _servers.get(server)


@pytest.mark.parametrize('server, key_size, size, period, message', [
    ('apache', 80, 3, None, 'key_size must be 48 for server apache'),
    ('haproxy', 80, 2, None, 'size must be at least 3 for server haproxy'),
    ('lighttpd', 48, 3, 600, 'key_size must be 80 for server lighttpd'),
    ('lighttpd', 80, 2, 600, 'size must be at least 3 for server lighttpd'),
    ('lighttpd', 80, 3, 60, 'period must be at least 70 s for server lighttpd'),
])
def test_refusals_come_from_the_record(server, key_size, size, period, message):
    with pytest.raises(ResumptionError, match=message):
        _ring.check_spec(server, key_size, size, period)


def test_reload_and_timer_tables_follow_the_registry():
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _reload, _timer
    assert _reload.METHODS[:len(_servers.NAMES)] == _servers.NAMES
    assert _reload.DEFAULT_SERVICE['lighttpd'] == 'lighttpd' and _reload.DEFAULT_SERVICE['apache'] == 'apache2'
    assert _reload.CONFIG_TEST['nginx'] == ['nginx', '-t', '-q']
    assert _timer.SERVER_KEY_RELOADS == ('apache', 'command')
    assert _servers.default_key_size('apache') == 48 and _servers.default_key_size('lighttpd') == 80
    assert _servers.all_key_sizes() == (48, 80)


# ---------------------------------------------------------------- lighttpd's stek record

def test_lighttpd_record_layout():
    key = _keys.TicketKey(b'N' * 16, b'A' * 32, b'H' * 32)
    rec = _servers.lighttpd_record(key, 1700000100, 1700000300)
    assert len(rec) == 92
    # Host byte order, as lighttpd reads it into an int array.
    assert struct.unpack('=iii', rec[:12]) == (0, 1700000100, 1700000300)
    assert rec[:4] == b'\0\0\0\0'
    assert rec[4:8] == (1700000100).to_bytes(4, sys.byteorder)
    assert rec[12:28] == b'N' * 16 and rec[28:60] == b'H' * 32 and rec[60:92] == b'A' * 32
    back, active, expire = _servers.lighttpd_parse(rec)
    assert back == key and (active, expire) == (1700000100, 1700000300)


def test_lighttpd_file_hands_over_the_next_key_one_period_ahead():
    ring = _ring.new_ring('lighttpd', 80, 3, 1700000000, period=600)
    files = ring.render()
    assert list(files) == ['ticket.stek']
    key, active, expire = _servers.lighttpd_parse(files['ticket.stek'])
    assert key == ring.members[-1].key
    # It starts encrypting when the current key's period ends and decrypts one period more.
    assert active == 1700000600 and expire == 1700001800
    nxt = _ring.rotate(ring, 1700000600)
    key2, active2, expire2 = _servers.lighttpd_parse(nxt.render()['ticket.stek'])
    assert key2 == nxt.members[-1].key and active2 == 1700001200 and expire2 == 1700002400


def test_lighttpd_refuses_a_ring_without_period_and_other_sizes():
    ring = _ring.new_ring('lighttpd', 80, 3, 1700000000, period=600)
    ring.period = None
    with pytest.raises(ResumptionError, match='needs its period'):
        ring.render()
    with pytest.raises(ResumptionError, match='92 bytes'):
        _servers.lighttpd_parse(b'x' * 91)
    with pytest.raises(ResumptionError, match='format 1'):
        _servers.lighttpd_parse(struct.pack('=iii', 1, 0, 0) + b'k' * 80)
    with pytest.raises(ResumptionError, match='80-byte keys only'):
        _servers.lighttpd_record(_keys.TicketKey.generate(48), 0, 0)
