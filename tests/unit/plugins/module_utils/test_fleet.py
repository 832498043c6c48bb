# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import shutil
import tempfile

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring


P = 20
NOW = 1700000000          # generation 85000000 with period 20, start of a period
SEED = base64.b64encode(b'\x01' * 32).decode('ascii')
SEED2 = base64.b64encode(b'\x02' * 32).decode('ascii')


SHM = '/dev/shm'


@pytest.fixture
def stores(shm_store):
    """A factory of empty tmpfs directories (one per simulated node)."""
    made = []

    def make():
        path = tempfile.mkdtemp(prefix='hardened-tls-fleet-', dir=SHM)
        os.chmod(path, 0o700)
        made.append(path)
        return path
    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def spec(server='nginx', key_size=80, size=3, offset=0, period=P, epoch=0):
    return _fleet.Spec(server, key_size, size, epoch, period, offset)


def names(store):
    return [(m.generation, m.key.name_hex) for m in _ring.load(store).members]


def by_gen(store):
    return dict(names(store))


# ---------------------------------------------------------------- arithmetic

@pytest.mark.parametrize('now, epoch, period, gen', [
    (0, 0, 20, 0), (19, 0, 20, 0), (20, 0, 20, 1), (1700000000, 0, 20, 85000000),
    (1700000019, 0, 20, 85000000), (1700000000, 1699999990, 20, 0), (1699999989, 1699999990, 20, -1),
    (86399, 0, 43200, 1), (86400, 0, 43200, 2),
])
def test_generation(now, epoch, period, gen):
    assert _fleet.generation(now, epoch, period) == gen
    assert _fleet.boundary(gen, epoch, period) <= now < _fleet.boundary(gen + 1, epoch, period)


@pytest.mark.parametrize('size, gens', [(3, [9, 10, 11]), (4, [8, 9, 10, 11]), (5, [7, 8, 9, 10, 11])])
def test_ring_generations(size, gens):
    assert _fleet.ring_generations(10, size) == gens


@pytest.mark.parametrize('now, margin, expected', [
    (NOW, 0, 85000002), (NOW + 19, 0, 85000002), (NOW, 20, 85000003), (NOW + 1, 20, 85000003), (NOW, 120, 85000008),
])
def test_reseed_generation(now, margin, expected):
    assert _fleet.reseed_generation(now, 0, P, margin) == expected


@pytest.mark.parametrize('kw, msg', [
    (dict(period=9), 'period must be from 10'), (dict(period=604801), 'period must be'),
    (dict(epoch=-1), 'epoch must be'), (dict(size=2), 'at least 3 in fleet mode'),
    (dict(server='caddy'), 'server must be one of'), (dict(key_size=64), 'key_size must be 48 or 80'),
    (dict(server='apache', key_size=80), 'key_size must be 48 for server apache'),
])
def test_spec_refuses(kw, msg):
    with pytest.raises(ResumptionError, match=msg):
        spec(**kw)


def test_spec_offset_shifts_clock():
    assert spec(offset=25).generation(NOW) == 85000001
    assert spec(offset=-1).generation(NOW) == 84999999
    with pytest.raises(ResumptionError, match='time_offset'):
        spec(offset=1.5)


@pytest.mark.parametrize('value, msg', [
    ('not base64!', 'must be base64'), (base64.b64encode(b'x' * 31).decode(), 'must be 32 bytes'), ('', 'must be 32 bytes'),
])
def test_decode_secret_refuses_without_echo(value, msg):
    with pytest.raises(ResumptionError, match=msg) as e:
        _fleet.decode_secret(value, 'seed')
    assert value[:8] not in str(e.value) or not value


# ---------------------------------------------------------------- the ratchet

def test_chain_is_deterministic_and_one_way():
    a = _fleet.Chain.from_seed(b'\x01' * 32, 10)
    b = _fleet.Chain.from_seed(b'\x01' * 32, 10)
    assert a.names(range(10, 15), 80) == b.names(range(10, 15), 80)
    assert a.advance(13).names([13, 14], 80) == dict((h, n) for h, n in a.names(range(10, 15), 80).items() if h >= 13)
    # A state gives nothing older than itself.
    assert set(a.advance(13).keys(range(10, 15), 80)) == {13, 14}
    with pytest.raises(ResumptionError, match='cannot go back'):
        a.advance(9)
    # Every generation its own key, every state its own bytes.
    keys = a.keys(range(10, 20), 80)
    assert len(set(k.canonical() for k in keys.values())) == 10
    assert a.advance(11).state != a.state


def test_chain_differs_by_seed_anchor_and_size():
    a = _fleet.Chain.from_seed(b'\x01' * 32, 10)
    assert a.names([12], 80) != _fleet.Chain.from_seed(b'\x02' * 32, 10).names([12], 80)
    assert a.names([12], 80) != _fleet.Chain.from_seed(b'\x01' * 32, 11).names([12], 80)
    assert a.names([12], 80)[12] != a.names([12], 48)[12]
    k48 = a.keys([12], 48)[12]
    assert len(k48.canonical()) == 48 and len(k48.aes) == 16


def test_staged_reseed_changes_keys_from_its_generation_only():
    a = _fleet.Chain.from_seed(b'\x01' * 32, 10)
    b = a.stage(14, b'\x09' * 32)
    na, nb = a.names(range(10, 18), 80), b.names(range(10, 18), 80)
    assert [h for h in range(10, 18) if na[h] == nb[h]] == [10, 11, 12, 13]
    # The same reseed on another node gives the same keys; after the state passes it, it is dropped.
    assert _fleet.Chain.from_seed(b'\x01' * 32, 10).stage(14, b'\x09' * 32).names(range(10, 18), 80) == nb
    assert b.advance(14).pending == {}
    assert b.advance(13).pending == {14: b'\x09' * 32}
    with pytest.raises(ResumptionError):
        a.stage(10, b'\x09' * 32)


def test_chain_serialization_round_trip_and_damage():
    c = _fleet.Chain.from_seed(b'\x01' * 32, -3).stage(5, b'\x07' * 32).stage(5, b'\x08' * 32).stage(9, b'\x01' * 32)
    d = _fleet.Chain.parse(c.serialize())
    assert (d.gen, d.state, d.pending) == (c.gen, c.state, c.pending)
    for bad in (b'', b'XXXX' + c.serialize()[4:], c.serialize()[:-1], c.serialize() + b'\0'):
        with pytest.raises(ResumptionError, match='damaged'):
            _fleet.Chain.parse(bad)
    assert 'state' not in repr(c) or '\\x01' not in repr(c)


# ---------------------------------------------------------------- nodes (stores)

def test_seed_gives_every_node_the_same_ring_whatever_its_layout(stores):
    a, b, h = stores(), stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999998, now=NOW)
    _fleet.seed(b, spec(), SEED, 84999998, now=NOW + 5)
    _fleet.seed(h, spec(server='haproxy'), SEED, 84999998, now=NOW)
    assert names(a) == names(b) == names(h)
    assert [g for g, n in names(a)] == [84999999, 85000000, 85000001]
    ring = _ring.load(a)
    assert ring.fleet['origin'] == 'fleet' and ring.fleet['state_generation'] == 84999999
    # nginx and HAProxy files carry the same keys, each in its layout.
    hap = _keys.haproxy_parse(open(os.path.join(h, 'active', 'tls-ticket-keys'), 'rb').read())
    cur = _keys.nginx_parse(open(os.path.join(a, 'active', 'current.key'), 'rb').read())
    assert hap[1] == cur
    # The state file is 0600 on the store and no key bytes are in the metadata.
    st = os.stat(os.path.join(a, 'active', _fleet.STATE_FILE))
    assert st.st_mode & 0o777 == 0o600
    meta = open(os.path.join(a, 'active', 'ring.json')).read()
    assert base64.b64encode(cur.aes).decode() not in meta and cur.aes.hex() not in meta


def test_tick_follows_the_wall_clock_and_destroys_the_old_state(stores):
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    _fleet.seed(b, spec(), SEED, 84999990, now=NOW)
    old_dir = os.readlink(os.path.join(a, 'active'))
    assert _fleet.tick(a, spec(), now=NOW + 19)[0] == 'none'
    assert os.readlink(os.path.join(a, 'active')) == old_dir
    assert _fleet.tick(a, spec(), now=NOW + 20)[0] == 'rotated'
    assert not os.path.exists(os.path.join(a, old_dir))
    # b skips two boundaries (timer late, host suspended): same keys as a, which took them one by one.
    _fleet.tick(a, spec(), now=NOW + 40)
    _fleet.tick(a, spec(), now=NOW + 60)
    assert _fleet.tick(b, spec(), now=NOW + 61)[0] == 'rotated'
    assert names(a) == names(b)
    assert [g for g, n in names(b)] == [85000002, 85000003, 85000004]
    assert _ring.load(b).fleet['state_generation'] == 85000002


def test_forward_secrecy_bound(stores):
    """What a node holds at generation g derives no key of g-2 or older."""
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    reference = _fleet.Chain.from_seed(base64.b64decode(SEED), 84999990).names(range(84999990, 85000010), 80)
    _fleet.tick(a, spec(), now=NOW + 5 * P)
    g = 85000005
    ring, chain = _fleet.load(a)
    assert chain.gen == g - 1
    held = set(k.name_hex for k in chain.keys(range(g - 10, g + 5), 80).values()) | set(m.key.name_hex for m in ring.members)
    assert reference[g - 1] in held and reference[g] in held and reference[g + 1] in held
    assert not held & set(reference[h] for h in range(84999990, g - 1))
    # Nothing older than the state survives anywhere in the store.
    blob = b''.join(open(os.path.join(r, f), 'rb').read() for r, d, fs in os.walk(a) for f in fs)
    assert bytes.fromhex(reference[g - 2]) not in blob


@pytest.mark.parametrize('skew', [1, 10, 19, -19])
def test_skew_below_one_period_keeps_resumption(stores, skew):
    """A ticket from either node decrypts on the other: its key is in the other's ring."""
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    _fleet.seed(b, spec(offset=skew), SEED, 84999990, now=NOW)
    for t in range(NOW, NOW + 3 * P, 3):
        _fleet.tick(a, spec(), now=t)
        _fleet.tick(b, spec(offset=skew), now=t)
        ra, rb = _ring.load(a), _ring.load(b)
        na, nb = set(n for g, n in names(a)), set(n for g, n in names(b))
        assert ra.current.key.name_hex in nb and rb.current.key.name_hex in na


def test_skew_of_more_than_one_period_breaks_resumption(stores):
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    _fleet.seed(b, spec(offset=2 * P), SEED, 84999990, now=NOW)
    assert _ring.load(b).current.key.name_hex not in set(n for g, n in names(a))


def test_clock_going_back_less_than_a_period_keeps_the_ring(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW + P)
    before = names(a)
    assert _fleet.tick(a, spec(), now=NOW + P // 2)[0] == 'none'
    assert names(a) == before


@pytest.mark.parametrize('back', [2 * P + 5, 30 * 24 * 3600])
def test_clock_going_back_more_than_a_period_stops_the_stale_key(stores, back):
    # Issue 13: a 30-day step back kept one key encrypting, with no error.
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW + back)
    _fleet.seed(b, spec(), SEED, 84999990, now=NOW)
    stale = _ring.load(a)
    action, before, ring = _fleet.tick(a, spec(), now=NOW)
    assert action == 'clock-behind'
    assert ring.generation == _fleet.generation(NOW, 0, P)
    # none of the keys it held (the one encrypting and its previous) encrypts or decrypts any more
    assert not set(m.key.name for m in stale.members[:-1]) & set(m.key.name for m in _ring.load(a).members)
    assert _ring.load(a).current.key.name != stale.current.key.name
    assert _fleet.tick(a, spec(), now=NOW)[0] == 'none'
    used = set(m.key.name for m in stale.members[:-1])
    # while the clock catches up, the keys it used never come back (they would outlive the bound)...
    for t in range(NOW, NOW + min(back, 6 * P) + P, P // 2):
        _fleet.tick(a, spec(), now=t)
        assert not used & set(m.key.name for m in _ring.load(a).members), t
    # ...and the state is kept: once the clock has passed them, the node is back in step by itself
    t = NOW + back + 2 * P
    for node in (a, b):
        _fleet.tick(node, spec(), now=t)
    assert names(a) == names(b)


def test_reseed_is_staged_and_consistent(stores):
    a, b, c = stores(), stores(), stores()
    for s in (a, b, c):
        _fleet.seed(s, spec(), SEED, 84999990, now=NOW)
    e = _fleet.reseed_generation(NOW, 0, P, 20)
    files_before = open(os.path.join(a, 'active', 'current.key'), 'rb').read()
    assert _fleet.reseed(a, spec(), SEED2, e, now=NOW)[0] == 'reseeded'
    assert _fleet.reseed(b, spec(), SEED2, e, now=NOW + 15)[0] == 'reseeded'
    # The key files do not change now.
    assert open(os.path.join(a, 'active', 'current.key'), 'rb').read() == files_before
    assert _ring.load(a).fleet['pending'] == [e]
    # Up to e-1 nobody differs (c missed the reseed); from e the reseeded nodes differ from c.
    for t in range(NOW, NOW + 8 * P, 5):
        for s in (a, b, c):
            _fleet.tick(s, spec(), now=t)
        assert names(a) == names(b)
        if _fleet.generation(t, 0, P) + 1 < e:
            assert names(a) == names(c)
    assert by_gen(a)[_ring.load(a).generation] != by_gen(c)[_ring.load(c).generation]
    assert _ring.load(a).fleet['pending'] == []
    st = _fleet.status(a, spec(), now=NOW + 8 * P)
    assert st['chain'] and _fleet.status(c, spec(), now=NOW + 8 * P)['chain'] != st['chain']


def test_reseed_refused_too_late_or_without_state(stores):
    a, c = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    with pytest.raises(ResumptionError, match='not in this node.s future'):
        _fleet.reseed(a, spec(), SEED2, 85000001, now=NOW)
    _fleet.tick(c, spec(), now=NOW)
    with pytest.raises(ResumptionError, match='no fleet state to reseed'):
        _fleet.reseed(c, spec(), SEED2, 85000005, now=NOW)
    assert _ring.load(a).fleet['pending'] == []


def test_check_mode_writes_nothing(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    link = os.readlink(os.path.join(a, 'active'))
    _fleet.seed(a, spec(), SEED2, 84999990, now=NOW, check_mode=True)
    _fleet.reseed(a, spec(), SEED2, 85000005, now=NOW, check_mode=True)
    _fleet.tick(a, spec(), now=NOW + 100, check_mode=True)
    assert os.readlink(os.path.join(a, 'active')) == link


def test_empty_store_gets_a_local_ring_at_the_wall_generation(stores):
    a = stores()
    action, before, ring = _fleet.tick(a, spec(), now=NOW)
    assert action == 'created' and before is None and ring.fleet is None
    assert ring.generation == 85000000
    assert _fleet.tick(a, spec(), now=NOW + 5)[0] == 'none'
    first = names(a)
    assert _fleet.tick(a, spec(), now=NOW + P)[0] == 'rotated'
    # The local ring rotates at the same boundaries, keeping its keys still in the ring.
    assert names(a)[:2] == first[1:]
    assert _fleet.status(a, spec(), now=NOW + P)['origin'] == 'local'


def test_join_heals_a_node_without_the_controller_seeing_a_state(stores):
    a, c = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    _fleet.reseed(a, spec(), SEED2, 85000006, now=NOW)
    _fleet.tick(c, spec(), now=NOW)                    # rebooted: local ring
    pub = _fleet.join_request(c)
    ring, sealed = _fleet.export(a, spec(), {'c': pub}, now=NOW)
    blob = base64.b64decode(sealed['c'])
    # The fleet scenario looks for this prefix in verbose output to prove no sealed state is printed.
    assert sealed['c'].startswith('SFRKM')
    dummy, chain = _fleet.load(a)
    assert chain.state not in blob and b'\x02' * 32 not in blob
    assert _fleet.join(c, spec(), sealed['c'], now=NOW + 3)[0] == 'joined'
    assert names(a) == names(c)
    assert not os.path.exists(os.path.join(c, _fleet.JOIN_FILE))
    # The staged reseed came along.
    for t in (NOW + 5 * P, NOW + 9 * P):
        _fleet.tick(a, spec(), now=t)
        _fleet.tick(c, spec(), now=t)
        assert names(a) == names(c)
    # A blob opens once: the join key is gone.
    with pytest.raises(ResumptionError, match='no pending join request'):
        _fleet.join(c, spec(), sealed['c'], now=NOW)


def test_join_refuses_foreign_or_altered_blobs(stores):
    a, c, d = stores(), stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    pub_c = _fleet.join_request(c)
    _fleet.join_request(d)
    dummy, sealed = _fleet.export(a, spec(), {'c': pub_c}, now=NOW)
    with pytest.raises(ResumptionError, match='not sealed for this node'):
        _fleet.join(d, spec(), sealed['c'], now=NOW)
    _fleet.join_request(c)
    raw = bytearray(base64.b64decode(sealed['c']))
    raw[-1] ^= 1
    with pytest.raises(ResumptionError):
        _fleet.join(c, spec(), base64.b64encode(bytes(raw)).decode(), now=NOW)
    pub_c = _fleet.join_request(c)
    dummy, sealed = _fleet.export(a, spec(), {'c': pub_c}, now=NOW)
    with pytest.raises(ResumptionError, match='another epoch or period'):
        _fleet.join(c, spec(period=30), sealed['c'], now=NOW)


def test_export_refused_without_state(stores):
    c = stores()
    _fleet.tick(c, spec(), now=NOW)
    with pytest.raises(ResumptionError, match='no fleet state to share'):
        _fleet.export(c, spec(), {'x': base64.b64encode(b'\x09' * 32).decode()}, now=NOW)


def test_damaged_state_is_rebuilt_as_local(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    os.unlink(os.path.join(a, 'active', _fleet.STATE_FILE))
    with pytest.raises(ResumptionError, match='missing'):
        _fleet.load(a)
    assert _fleet.status(a, spec(), now=NOW)['damaged']
    assert _fleet.tick(a, spec(), now=NOW)[0] == 'rebuilt'
    assert _fleet.status(a, spec(), now=NOW)['origin'] == 'local'


def test_layout_change_rederives_from_the_state(stores):
    a, b = stores(), stores()
    c = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    _fleet.seed(b, spec(key_size=48), SEED, 84999990, now=NOW)
    _fleet.seed(c, spec(), SEED, 84999990, now=NOW)
    # Another key size: every key of the ring is derived again from the state on the store.
    assert _fleet.tick(a, spec(key_size=48), now=NOW)[0] == 'rebuilt'
    assert names(a) == names(b)
    assert _fleet.tick(a, spec(), now=NOW)[0] == 'rebuilt'
    assert names(a) == names(c)


def test_status_names_only(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    st = _fleet.status(a, spec(), now=NOW, lookahead=3)
    assert st['origin'] == 'fleet' and st['wall_generation'] == 85000000
    assert sorted(int(g) for g in st['chain']) == list(range(84999999, 85000005))
    text = json.dumps(st)
    ring, chain = _fleet.load(a)
    assert base64.b64encode(chain.state).decode() not in text and chain.state.hex() not in text


def test_a_new_period_drops_the_old_chain(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    assert _fleet.status(a, spec(period=30), now=NOW)['origin'] == 'local'
    action, before, ring = _fleet.tick(a, spec(period=30), now=NOW)
    assert action == 'rebuilt' and ring.fleet is None and ring.generation == NOW // 30
    assert _fleet.load(a)[1] is None


# ---------------------------------------------------------------- join keys do not outlive a period (issue 13)

def test_an_unfinished_heal_leaves_no_join_key_past_a_period(stores):
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    pub = _fleet.join_request(b)
    path = os.path.join(b, _fleet.JOIN_FILE)
    assert os.path.exists(path)
    dummy, sealed = _fleet.export(a, spec(), {'b': pub}, now=NOW)
    # The heal stops here (the run was interrupted). A tick within the period keeps the key...
    _fleet.tick(b, spec(), now=NOW)
    assert os.path.exists(path)
    # ...the timer's first tick once it is 0.9 period old overwrites and removes it.
    st = os.stat(path)
    os.utime(path, (st.st_atime - P * 0.9, st.st_mtime - P * 0.9))
    _fleet.tick(b, spec(), now=NOW)
    assert not os.path.exists(path)
    # A captured sealed blob opens nothing any more.
    with pytest.raises(ResumptionError, match='no pending join request'):
        _fleet.join(b, spec(), sealed['b'], now=NOW + P)


def test_a_join_within_the_period_still_heals(stores):
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    pub = _fleet.join_request(b)
    dummy, sealed = _fleet.export(a, spec(), {'b': pub}, now=NOW)
    _fleet.tick(b, spec(), now=NOW)
    assert _fleet.join(b, spec(), sealed['b'], now=NOW)[0] == 'joined'
    assert names(a) == names(b)
    assert not os.path.exists(os.path.join(b, _fleet.JOIN_FILE))


def test_a_heal_does_not_bring_back_a_key_used_while_the_clock_was_ahead(stores):
    a, b = stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW + 2 * P)
    _fleet.seed(b, spec(), SEED, 84999990, now=NOW)
    stale = _ring.load(a)
    used = set(m.key.name for m in stale.members[:-1])
    assert _fleet.tick(a, spec(), now=NOW)[0] == 'clock-behind'
    # one period later the fleet's ring overlaps the generations this node used while ahead
    pub = _fleet.join_request(a)
    dummy, sealed = _fleet.export(b, spec(), {'a': pub}, now=NOW + P)
    assert used & set(m.key.name for m in _ring.load(b).members)
    assert _fleet.join(a, spec(), sealed['a'], now=NOW + P)[0] == 'joined'
    assert not used & set(m.key.name for m in _ring.load(a).members)
    # a fresh seed of a new chain carries nothing over
    _fleet.seed(a, spec(), SEED2, 84999990, now=NOW + 2 * P)
    _fleet.seed(b, spec(), SEED2, 84999990, now=NOW + 2 * P)
    assert names(a) == names(b)


# ---------------------------------------------------------------- one fleet, one trust context (issue 13)

def test_the_context_is_recorded_by_a_seed_and_kept_by_every_later_change(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW, context='web_eu')
    assert _fleet.status(a, spec(), now=NOW)['context'] == 'web_eu'
    assert _fleet.tick(a, spec(), now=NOW + 3 * P)[0] == 'rotated'
    _fleet.reseed(a, spec(), SEED2, 85000010, now=NOW + 3 * P)
    assert _fleet.tick(a, spec(), now=NOW + 4 * P)[0] == 'rotated'
    # The clock going back more than a period rebuilds the ring: the context stays.
    assert _fleet.tick(a, spec(), now=NOW)[0] == 'clock-behind'
    st = _fleet.status(a, spec(), now=NOW)
    assert st['origin'] == 'fleet' and st['context'] == 'web_eu'
    assert _fleet.status(stores(), spec(), now=NOW)['context'] is None


def test_a_reseed_keeps_the_spent_keys_out(stores):
    a = stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW)
    _fleet.tick(a, spec(), now=NOW + 5 * P)
    assert _fleet.tick(a, spec(), now=NOW)[0] == 'clock-behind'
    spent = _ring.load(a).fleet['spent_through']
    _fleet.reseed(a, spec(), SEED2, 85000010, now=NOW)
    assert _ring.load(a).fleet['spent_through'] == spent


def test_a_join_takes_the_context_of_its_fleet_and_refuses_another(stores):
    a, b, c = stores(), stores(), stores()
    _fleet.seed(a, spec(), SEED, 84999990, now=NOW, context='web_eu')
    pub = _fleet.join_request(b)
    dummy, sealed = _fleet.export(a, spec(), {'b': pub}, now=NOW)
    before = names(b) if _ring.load(b) is not None else None
    with pytest.raises(ResumptionError, match="fleet 'web_eu'; this node belongs to fleet 'web_us'"):
        _fleet.join(b, spec(), sealed['b'], now=NOW, context='web_us')
    assert (names(b) if _ring.load(b) is not None else None) == before
    # The join key is spent either way: a second try needs a new request.
    assert not os.path.exists(os.path.join(b, _fleet.JOIN_FILE))
    pub = _fleet.join_request(c)
    dummy, sealed = _fleet.export(a, spec(), {'c': pub}, now=NOW)
    assert _fleet.join(c, spec(), sealed['c'], now=NOW, context='web_eu')[0] == 'joined'
    st = _fleet.status(c, spec(), now=NOW)
    assert st['context'] == 'web_eu' and st['chain'] == _fleet.status(a, spec(), now=NOW)['chain']
