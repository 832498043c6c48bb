# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import fcntl
import json
import os
import stat
import struct

import pytest

from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._keys import TicketKey

NOW = 1700000000
SPECS = [('nginx', 48, 3), ('nginx', 80, 2), ('nginx', 80, 3), ('apache', 48, 2), ('apache', 48, 3),
         ('haproxy', 48, 3), ('haproxy', 80, 3)]


def counting(key_size):
    """A key source whose key names tell the generation (and whose secrets differ from the name)."""
    half = (key_size - 16) // 2

    def source(g):
        name = struct.pack('>q', g) + b'NAMENAME'
        return TicketKey(name, struct.pack('>q', g) * (half // 8), struct.pack('>q', ~g) * (half // 8))
    return source


def snapshot(store):
    """Everything in a directory tree: {relpath: (kind, mode, content-or-link)}."""
    out = {}
    for root, dirs, files in os.walk(store):
        for name in dirs + files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, store)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ('link', None, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ('dir', stat.S_IMODE(st.st_mode), None)
            else:
                with open(full, 'rb') as f:
                    out[rel] = ('file', stat.S_IMODE(st.st_mode), f.read())
    return out


def all_bytes(store):
    return b'\n'.join(v[2] for v in snapshot(store).values() if v[0] == 'file')


def read(store, name):
    with open(os.path.join(store, _ring.ACTIVE, name), 'rb') as f:
        return f.read()


def active_dir(store):
    return os.path.join(store, os.readlink(os.path.join(store, _ring.ACTIVE)))


def ring_dirs(store):
    return sorted(e for e in os.listdir(store) if e.startswith(_ring.DIR_PREFIX))


def members(ring):
    return [(m.generation, m.key.canonical()) for m in ring.members]


# ---------------------------------------------------------------- spec, roles, names

@pytest.mark.parametrize('server, key_size, size', SPECS + [('nginx', 48, 2), ('apache', 48, 3), ('haproxy', 48, 3)])
def test_check_spec_accepts(server, key_size, size):
    _ring.check_spec(server, key_size, size)


@pytest.mark.parametrize('server, key_size, size, message', [
    ('nginx', 48, 1, 'size .* must be from 2 to 3 .*, got 1'),
    # issue 13: a ring of 4 to 8 kept previous keys N-2 periods, past the two-period bound
    ('nginx', 48, 4, 'size .* must be from 2 to 3 .*outlive the two-period bound.*, got 4'),
    ('nginx', 80, 6, 'must be from 2 to 3 .*, got 6'),
    ('haproxy', 80, 4, 'must be from 2 to 3 .*, got 4'),
    ('apache', 48, 8, 'must be from 2 to 3 .*, got 8'),
    ('nginx', 48, 9, 'size .* must be from 2 to 3 .*, got 9'),
    ('nginx', 48, 0, 'must be from 2 to 3'),
    ('nginx', 48, True, 'must be from 2 to 3 .*, got True'),
    ('nginx', 48, '3', 'must be from 2 to 3'),
    ('nginx', 48, 3.0, 'must be from 2 to 3'),
    ('nginx', 48, None, 'must be from 2 to 3'),
    ('apache', 80, 3, 'key_size must be 48 for server apache'),
    ('haproxy', 48, 2, 'size must be at least 3 for server haproxy'),
    ('haproxy', 80, 2, 'size must be at least 3 for server haproxy'),
    ('caddy', 48, 3, 'server must be one of'),
    ('nginx', 64, 3, 'key_size must be 48 or 80'),
])
def test_check_spec_refuses(server, key_size, size, message):
    with pytest.raises(ResumptionError, match=message):
        _ring.check_spec(server, key_size, size)


@pytest.mark.parametrize('size, expected', [
    (2, ['current', 'next']),
    (3, ['previous', 'current', 'next']),
    (4, ['previous-2', 'previous', 'current', 'next']),
    (5, ['previous-3', 'previous-2', 'previous', 'current', 'next']),
    (8, ['previous-6', 'previous-5', 'previous-4', 'previous-3', 'previous-2', 'previous', 'current', 'next']),
])
def test_roles(size, expected):
    assert _ring.roles(size) == expected


@pytest.mark.parametrize('server, size, expected', [
    ('nginx', 2, ['current.key', 'next.key']),
    ('nginx', 3, ['current.key', 'next.key', 'previous.key']),
    ('nginx', 4, ['current.key', 'next.key', 'previous.key', 'previous-2.key']),
    ('nginx', 5, ['current.key', 'next.key', 'previous.key', 'previous-2.key', 'previous-3.key']),
    ('apache', 2, ['ticket.key']),
    ('apache', 5, ['ticket.key']),
    ('haproxy', 3, ['tls-ticket-keys']),
    ('haproxy', 6, ['tls-ticket-keys']),
])
def test_server_file_names(server, size, expected):
    assert _ring.server_file_names(server, size) == expected


def test_server_paths():
    assert _ring.server_paths('/run/tls-keys/nginx', 'nginx', 3) == [
        '/run/tls-keys/nginx/active/current.key', '/run/tls-keys/nginx/active/next.key', '/run/tls-keys/nginx/active/previous.key']


# ---------------------------------------------------------------- ring in memory

@pytest.mark.parametrize('size', [2, 3])
@pytest.mark.parametrize('generation', [1, 10])
def test_new_ring(size, generation):
    ring = _ring.new_ring('nginx', 48, size, NOW, generation=generation)
    assert ring.size == size == len(ring.members)
    assert [m.generation for m in ring.members] == list(range(generation - size + 2, generation + 2))
    assert ring.generation == generation
    assert ring.current is ring.members[-2]
    assert ring.current.generation == generation
    assert ring.members[-1].generation == generation + 1
    assert ring.rotated_at == ring.created_at == NOW
    assert all(m.created == NOW for m in ring.members)
    assert len(set(m.key.name for m in ring.members)) == size
    assert all(m.key.size == 48 for m in ring.members)


def test_new_ring_uses_keysource():
    ring = _ring.new_ring('haproxy', 80, 3, NOW, keysource=counting(80), generation=5)
    assert [m.key for m in ring.members] == [counting(80)(g) for g in (4, 5, 6)]


@pytest.mark.parametrize('server, key_size, size', SPECS)
def test_rotate(server, key_size, size):
    ring = _ring.new_ring(server, key_size, size, NOW)
    after = _ring.rotate(ring, NOW + 60)
    assert after is not ring
    assert after.generation == ring.generation + 1
    assert [m.generation for m in after.members] == [m.generation + 1 for m in ring.members]
    assert members(after)[:-1] == members(ring)[1:]
    assert after.members[-1].key.name not in [m.key.name for m in ring.members]
    assert after.current.key == ring.members[-1].key   # next became current
    assert after.members[-3].key == ring.current.key if size >= 3 else True
    assert ring.members[0].key not in [m.key for m in after.members]   # the oldest fell out
    assert after.rotated_at == NOW + 60
    assert after.members[-1].created == NOW + 60
    assert after.created_at == NOW
    # the ring given is untouched
    assert ring.generation == 1 and ring.rotated_at == NOW


@pytest.mark.parametrize('steps', [1, 2, 3, 5])
def test_rotate_steps(steps):
    ring = _ring.new_ring('nginx', 48, 3, NOW, keysource=counting(48))
    after = _ring.rotate(ring, NOW, keysource=counting(48), steps=steps)
    assert [m.generation for m in after.members] == [g + steps for g in (0, 1, 2)]
    assert [m.key for m in after.members] == [counting(48)(g + steps) for g in (0, 1, 2)]


@pytest.mark.parametrize('before, after', [(2, 3), (3, 2), (3, 3)])
def test_resize_keeps_current_and_next(before, after):
    ring = _ring.new_ring('nginx', 80, before, NOW, generation=7)
    resized = _ring.resize(ring, after, NOW + 5)
    assert resized.size == after == len(resized.members)
    assert resized.current.key == ring.current.key
    assert resized.members[-1].key == ring.members[-1].key
    assert resized.generation == 7
    assert [m.generation for m in resized.members] == list(range(7 - after + 2, 9))
    assert resized.rotated_at == ring.rotated_at
    common = min(before, after)
    assert members(resized)[-common:] == members(ring)[-common:]


def test_resize_refuses_bad_size():
    ring = _ring.new_ring('haproxy', 48, 3, NOW)
    with pytest.raises(ResumptionError, match='at least 3 for server haproxy'):
        _ring.resize(ring, 2, NOW)


@pytest.mark.parametrize('size', [2, 3])
@pytest.mark.parametrize('key_size', [48, 80])
def test_render_nginx(size, key_size):
    ring = _ring.new_ring('nginx', key_size, size, NOW)
    files = ring.render()
    names = _ring.server_file_names('nginx', size)
    assert sorted(files) == sorted(names)
    by_role = dict(zip(_ring.roles(size), ring.members))
    for name in names:
        assert files[name] == _keys.nginx_bytes(by_role[name[:-4]].key)
        assert len(files[name]) == key_size
    assert files['current.key'] == _keys.nginx_bytes(ring.current.key)
    assert files['next.key'] == _keys.nginx_bytes(ring.members[-1].key)
    if size >= 3:
        assert files['previous.key'] == _keys.nginx_bytes(ring.members[-3].key)
    if size >= 4:
        assert files['previous-2.key'] == _keys.nginx_bytes(ring.members[-4].key)


@pytest.mark.parametrize('size', [3])
@pytest.mark.parametrize('key_size', [48, 80])
def test_render_haproxy_previous_current_next(size, key_size):
    ring = _ring.new_ring('haproxy', key_size, size, NOW)
    data = ring.render()['tls-ticket-keys']
    lines = data.decode('ascii').splitlines()
    assert len(lines) == size
    assert [base64.b64decode(x) for x in lines] == [m.key.canonical() for m in ring.members]
    # HAProxy encrypts with the penultimate line: it must be the current key.
    assert base64.b64decode(lines[-2]) == ring.current.key.canonical()
    assert base64.b64decode(lines[-1]) == ring.members[-1].key.canonical()


@pytest.mark.parametrize('size', [2, 3])
def test_render_apache_current_only(size):
    ring = _ring.new_ring('apache', 48, size, NOW)
    files = ring.render()
    assert list(files) == ['ticket.key']
    k = ring.current.key
    assert files['ticket.key'] == k.name + k.hmac + k.aes


def test_metadata_and_summary_carry_no_key_bytes():
    ring = _ring.new_ring('nginx', 80, 3, NOW, generation=3)
    meta = ring.metadata()
    summary = ring.summary('/run/tls-keys/x')
    text = json.dumps([meta, summary])
    for m in ring.members:
        for secret in (m.key.aes, m.key.hmac, m.key.canonical()):
            assert binascii.hexlify(secret).decode() not in text
            assert base64.b64encode(secret).decode() not in text
    assert [x['name'] for x in meta['members']] == [m.key.name_hex for m in ring.members]
    assert [x['role'] for x in meta['members']] == ['previous', 'current', 'next']
    assert [x['generation'] for x in meta['members']] == [2, 3, 4]
    assert meta['generation'] == summary['generation'] == 3
    assert summary['current_key_name'] == ring.current.key.name_hex
    assert summary['files'] == _ring.server_paths('/run/tls-keys/x', 'nginx', 3)
    assert summary['store'] == '/run/tls-keys/x'


# ---------------------------------------------------------------- commit and load (tmpfs)

@pytest.mark.parametrize('server, key_size, size', SPECS)
def test_commit_load_round_trip(shm_store, server, key_size, size):
    ring = _ring.new_ring(server, key_size, size, NOW, generation=4)
    name = _ring.commit(shm_store, ring)
    assert name.startswith('ring-4-')
    assert os.readlink(os.path.join(shm_store, 'active')) == name
    loaded = _ring.load(shm_store)
    assert members(loaded) == members(ring)
    assert (loaded.server, loaded.key_size, loaded.size, loaded.generation) == (server, key_size, size, 4)
    assert (loaded.rotated_at, loaded.created_at) == (NOW, NOW)
    assert [m.created for m in loaded.members] == [NOW] * size
    assert _ring.files_match(shm_store, loaded)


@pytest.mark.parametrize('server, key_size, size', SPECS)
def test_commit_layout_and_modes(shm_store, server, key_size, size):
    ring = _ring.new_ring(server, key_size, size, NOW)
    _ring.commit(shm_store, ring)
    d = active_dir(shm_store)
    assert ring_dirs(shm_store) == [os.path.basename(d)]
    assert sorted(os.listdir(shm_store)) == sorted(['active', os.path.basename(d)])
    assert stat.S_IMODE(os.lstat(d).st_mode) == 0o700
    expected = sorted(_ring.server_file_names(server, size) + ['keys.bin', 'ring.json'])
    assert sorted(os.listdir(d)) == expected
    for f in expected:
        st = os.lstat(os.path.join(d, f))
        assert stat.S_ISREG(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600, f
    for name, data in ring.render().items():
        assert read(shm_store, name) == data
    assert read(shm_store, 'keys.bin') == b''.join(m.key.canonical() for m in ring.members)
    meta = read(shm_store, 'ring.json')
    for m in ring.members:
        assert binascii.hexlify(m.key.aes) not in meta
        assert binascii.hexlify(m.key.hmac) not in meta
        assert m.key.aes not in meta


def test_commit_umask_does_not_matter(shm_store):
    old = os.umask(0)
    try:
        _ring.commit(shm_store, _ring.new_ring('nginx', 48, 3, NOW))
    finally:
        os.umask(old)
    for rel, (kind, mode, dummy) in snapshot(shm_store).items():
        if kind == 'dir':
            assert mode == 0o700, rel
        elif kind == 'file':
            assert mode == 0o600, rel


def test_load_empty_store(shm_store):
    assert _ring.load(shm_store) is None


@pytest.mark.parametrize('server', ['nginx', 'haproxy', 'apache'])
def test_rotation_reaches_the_files(shm_store, server):
    ring = _ring.new_ring(server, 48, 3, NOW)
    _ring.commit(shm_store, ring)
    if server == 'nginx':
        before = dict((n, read(shm_store, n)) for n in ('current.key', 'next.key'))
    _ring.commit(shm_store, _ring.rotate(ring, NOW + 1))
    if server == 'nginx':
        assert read(shm_store, 'current.key') == before['next.key']
        assert read(shm_store, 'previous.key') == before['current.key']
    elif server == 'haproxy':
        parsed = _keys.haproxy_parse(read(shm_store, 'tls-ticket-keys'))
        assert parsed[:2] == [ring.current.key, ring.members[-1].key]
        assert parsed[-2] == ring.members[-1].key
    else:
        assert _keys.apache_parse(read(shm_store, 'ticket.key')) == ring.members[-1].key


def test_dropped_key_is_shredded(shm_store, monkeypatch):
    ring = _ring.new_ring('nginx', 48, 3, NOW)
    _ring.commit(shm_store, ring)
    old_dir = active_dir(shm_store)
    old_files = dict((f, open(os.path.join(old_dir, f), 'rb').read()) for f in os.listdir(old_dir))
    dropped = ring.members[0].key

    seen = {}
    real_unlink = os.unlink

    def spy(path, *args, **kwargs):
        if not os.path.islink(path):
            with open(path, 'rb') as f:
                seen[path] = f.read()
        return real_unlink(path, *args, **kwargs)
    monkeypatch.setattr(os, 'unlink', spy)
    _ring.commit(shm_store, _ring.rotate(ring, NOW + 1))
    monkeypatch.undo()

    assert not os.path.exists(old_dir)
    assert len(ring_dirs(shm_store)) == 1
    for f, content in old_files.items():
        assert seen[os.path.join(old_dir, f)] == b'\0' * len(content), f
    everything = all_bytes(shm_store)
    for secret in (dropped.canonical(), _keys.nginx_bytes(dropped), dropped.aes, dropped.hmac):
        assert secret not in everything


# ---------------------------------------------------------------- ensure

def test_ensure_created_then_none(shm_store):
    action, ring = _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    assert action == 'created'
    assert ring.generation == 1
    snap = snapshot(shm_store)
    action, again = _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW + 100)
    assert action == 'none'
    assert members(again) == members(ring)
    assert snapshot(shm_store) == snap


@pytest.mark.parametrize('server, key_size, size', SPECS)
def test_ensure_rotated(shm_store, server, key_size, size):
    dummy, ring = _ring.ensure(shm_store, server, key_size, size, now=NOW)
    action, after = _ring.ensure(shm_store, server, key_size, size, state='rotated', now=NOW + 10)
    assert action == 'rotated'
    assert after.generation == ring.generation + 1
    assert after.current.key == ring.members[-1].key
    assert after.rotated_at == NOW + 10
    loaded = _ring.load(shm_store)
    assert members(loaded) == members(after)
    assert _ring.files_match(shm_store, loaded)
    assert len(ring_dirs(shm_store)) == 1


def test_ensure_rotated_each_time(shm_store):
    _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    names = set()
    for i in range(1, 5):
        action, ring = _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', now=NOW + i)
        assert action == 'rotated'
        assert ring.generation == 1 + i
        names.add(ring.current.key.name)
    assert len(names) == 4


@pytest.mark.parametrize('elapsed, expected', [(0, 'none'), (3599, 'none'), (3600, 'rotated'), (100000, 'rotated')])
def test_ensure_rotate_after(shm_store, elapsed, expected):
    _ring.ensure(shm_store, 'haproxy', 48, 3, now=NOW)
    before = _ring.load(shm_store)
    action, ring = _ring.ensure(shm_store, 'haproxy', 48, 3, state='rotated', rotate_after=3600, now=NOW + elapsed)
    assert action == expected
    assert ring.generation == (2 if expected == 'rotated' else 1)
    assert _ring.load(shm_store).generation == ring.generation
    if expected == 'none':
        assert members(_ring.load(shm_store)) == members(before)


def test_ensure_rotate_after_counts_from_last_rotation(shm_store):
    _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', now=NOW + 5000)
    assert _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', rotate_after=3600, now=NOW + 8000)[0] == 'none'
    assert _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', rotate_after=3600, now=NOW + 8600)[0] == 'rotated'


@pytest.mark.parametrize('before, after', [(2, 3), (3, 2)])
def test_ensure_resized(shm_store, before, after):
    dummy, ring = _ring.ensure(shm_store, 'nginx', 48, before, now=NOW)
    action, resized = _ring.ensure(shm_store, 'nginx', 48, after, now=NOW + 1)
    assert action == 'resized'
    assert resized.size == after
    assert resized.current.key == ring.current.key
    assert resized.members[-1].key == ring.members[-1].key
    assert resized.generation == ring.generation
    assert sorted(os.listdir(active_dir(shm_store))) == sorted(_ring.server_file_names('nginx', after) + ['keys.bin', 'ring.json'])
    assert read(shm_store, 'current.key') == _keys.nginx_bytes(ring.current.key)
    assert _ring.ensure(shm_store, 'nginx', 48, after, now=NOW + 2)[0] == 'none'


def test_ensure_resized_and_rotated(shm_store):
    dummy, ring = _ring.ensure(shm_store, 'nginx', 48, 2, now=NOW)
    action, after = _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', now=NOW + 1)
    assert action == 'rotated'
    assert after.size == 3
    assert after.current.key == ring.members[-1].key


@pytest.mark.parametrize('first, second', [
    (('nginx', 48, 3), ('haproxy', 48, 3)),
    (('nginx', 48, 3), ('nginx', 80, 3)),
    (('haproxy', 80, 3), ('apache', 48, 3)),
    (('apache', 48, 2), ('nginx', 48, 3)),
])
def test_ensure_rebuilt_on_spec_change(shm_store, first, second):
    dummy, ring = _ring.ensure(shm_store, *first, now=NOW)
    action, rebuilt = _ring.ensure(shm_store, *second, now=NOW + 1)
    assert action == 'rebuilt'
    assert (rebuilt.server, rebuilt.key_size, rebuilt.size) == second
    assert rebuilt.generation == ring.generation + 1
    old_names = set(m.key.name for m in ring.members)
    assert not old_names & set(m.key.name for m in rebuilt.members)
    loaded = _ring.load(shm_store)
    assert (loaded.server, loaded.key_size) == second[:2]
    assert sorted(os.listdir(active_dir(shm_store))) == sorted(_ring.server_file_names(second[0], second[2]) + ['keys.bin', 'ring.json'])
    everything = all_bytes(shm_store)
    for m in ring.members:
        assert m.key.canonical() not in everything


@pytest.mark.parametrize('server, victim, how', [
    ('nginx', 'current.key', 'delete'),
    ('nginx', 'next.key', 'corrupt'),
    ('nginx', 'previous.key', 'truncate'),
    ('haproxy', 'tls-ticket-keys', 'delete'),
    ('haproxy', 'tls-ticket-keys', 'corrupt'),
    ('apache', 'ticket.key', 'corrupt'),
    ('apache', 'ticket.key', 'truncate'),
])
def test_ensure_repaired(shm_store, server, victim, how):
    dummy, ring = _ring.ensure(shm_store, server, 48, 3, now=NOW)
    path = os.path.join(shm_store, 'active', victim)
    good = read(shm_store, victim)
    if how == 'delete':
        os.unlink(path)
    elif how == 'truncate':
        with open(path, 'wb') as f:
            f.write(good[:10])
    else:
        with open(path, 'wb') as f:
            f.write(b'\xaa' * len(good))
    action, repaired = _ring.ensure(shm_store, server, 48, 3, now=NOW + 1)
    assert action == 'repaired'
    assert members(repaired) == members(ring)
    assert read(shm_store, victim) == good
    assert len(ring_dirs(shm_store)) == 1
    assert _ring.ensure(shm_store, server, 48, 3, now=NOW + 2)[0] == 'none'


def _damage_truncate_keys(store):
    p = os.path.join(active_dir(store), 'keys.bin')
    with open(p, 'r+b') as f:
        f.truncate(100)


def _damage_zero_keys(store):
    p = os.path.join(active_dir(store), 'keys.bin')
    size = os.path.getsize(p)
    with open(p, 'wb') as f:
        f.write(b'\0' * size)


def _damage_delete_keys(store):
    os.unlink(os.path.join(active_dir(store), 'keys.bin'))


def _damage_meta_garbage(store):
    with open(os.path.join(active_dir(store), 'ring.json'), 'wb') as f:
        f.write(b'{not json')


def _damage_meta_missing_field(store):
    p = os.path.join(active_dir(store), 'ring.json')
    with open(p) as f:
        meta = json.load(f)
    del meta['members']
    with open(p, 'w') as f:
        json.dump(meta, f)


def _damage_meta_format(store):
    p = os.path.join(active_dir(store), 'ring.json')
    with open(p) as f:
        meta = json.load(f)
    meta['format'] = 99
    with open(p, 'w') as f:
        json.dump(meta, f)


def _damage_flip_secret_byte(store):
    # Names stay intact: only the digest in ring.json can tell.
    p = os.path.join(store, 'active', 'keys.bin')
    with open(p, 'rb') as f:
        data = bytearray(f.read())
    data[20] ^= 0xff
    with open(p, 'wb') as f:
        f.write(bytes(data))


def _damage_active_outside(store):
    os.unlink(os.path.join(store, 'active'))
    os.symlink('/etc', os.path.join(store, 'active'))


def _damage_active_dangling(store):
    os.unlink(os.path.join(store, 'active'))
    os.symlink('ring-42-gone', os.path.join(store, 'active'))


@pytest.mark.parametrize('damage', [
    _damage_truncate_keys, _damage_zero_keys, _damage_delete_keys, _damage_meta_garbage, _damage_flip_secret_byte,
    _damage_meta_missing_field, _damage_meta_format, _damage_active_outside, _damage_active_dangling,
])
def test_ensure_rebuilt_when_damaged(shm_store, damage):
    dummy, ring = _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    damage(shm_store)
    with pytest.raises(ResumptionError, match='damaged|unknown format|outside the store'):
        _ring.load(shm_store)
    action, rebuilt = _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW + 1)
    assert action == 'rebuilt'
    assert not set(m.key.name for m in ring.members) & set(m.key.name for m in rebuilt.members)
    assert members(_ring.load(shm_store)) == members(rebuilt)
    assert len(ring_dirs(shm_store)) == 1
    assert os.path.isdir('/etc')


def test_load_refuses_active_directory(shm_store):
    os.mkdir(os.path.join(shm_store, 'active'))
    with pytest.raises(ResumptionError, match='is not a symbolic link'):
        _ring.load(shm_store)


@pytest.mark.parametrize('prepare, state', [
    (None, 'present'),
    (None, 'rotated'),
    ('ring', 'rotated'),
    ('ring', 'present-resize'),
    ('ring', 'present-rebuild'),
    ('damaged-file', 'present'),
    ('leftovers', 'present'),
])
def test_ensure_check_mode_writes_nothing(shm_store, prepare, state):
    size, server = 3, 'nginx'
    if prepare:
        _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    if prepare == 'damaged-file':
        os.unlink(os.path.join(shm_store, 'active', 'next.key'))
    if prepare == 'leftovers':
        os.mkdir(os.path.join(shm_store, 'ring-99-dead'))
        with open(os.path.join(shm_store, 'ring-99-dead', 'keys.bin'), 'wb') as f:
            f.write(b'k' * 48)
    if state == 'present-resize':
        size, state = 2, 'present'
    if state == 'present-rebuild':
        server, state = 'haproxy', 'present'
    snap = snapshot(shm_store)
    action, ring = _ring.ensure(shm_store, server, 48, size, state=state, now=NOW + 1, check_mode=True)
    expected = {
        (None, 'present'): 'created', (None, 'rotated'): 'created', ('ring', 'rotated'): 'rotated',
        ('ring', 'present'): 'resized' if size == 2 else 'rebuilt', ('damaged-file', 'present'): 'repaired',
        ('leftovers', 'present'): 'none',
    }[(prepare, state)]
    assert action == expected
    assert ring.size == size and ring.server == server
    assert snapshot(shm_store) == snap


def test_ensure_cleans_leftovers(shm_store):
    _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    keep = os.readlink(os.path.join(shm_store, 'active'))
    os.mkdir(os.path.join(shm_store, 'ring-99-dead'))
    with open(os.path.join(shm_store, 'ring-99-dead', 'keys.bin'), 'wb') as f:
        f.write(b'k' * 48)
    os.symlink('ring-99-dead', os.path.join(shm_store, '.active.tmp-dead'))
    with open(os.path.join(shm_store, '.next.key.tmp-abc'), 'wb') as f:
        f.write(b'k' * 48)
    with _ring.StoreLock(shm_store):
        pass
    assert _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW + 1)[0] == 'none'
    assert sorted(os.listdir(shm_store)) == sorted(['.lock', 'active', keep])


def test_ensure_refuses_disk(tmp_path):
    from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
    if _fs.is_memory_mount(_fs.mount_of(str(tmp_path), _fs.read_mountinfo())):
        pytest.skip('tmp_path is on a memory file system here')
    with pytest.raises(ResumptionError) as e:
        _ring.ensure(str(tmp_path), 'nginx', 48, 3)
    assert str(tmp_path) in str(e.value)
    assert 'persistent storage' in str(e.value)
    assert 'tmpfs or ramfs' in str(e.value)
    assert os.listdir(str(tmp_path)) == []
    with pytest.raises(ResumptionError, match='persistent storage'):
        _ring.commit(str(tmp_path), _ring.new_ring('nginx', 48, 3, NOW))
    assert os.listdir(str(tmp_path)) == []


def test_ensure_refuses_missing_store(shm_store):
    with pytest.raises(ResumptionError, match='is not a directory: create the key store first'):
        _ring.ensure(os.path.join(shm_store, 'missing'), 'nginx', 48, 3)
    assert os.listdir(shm_store) == []


@pytest.mark.parametrize('kwargs, message', [
    ({'state': 'absent'}, 'state must be present or rotated'),
    ({'rotate_after': 0}, 'rotate_after must be a positive'),
    ({'rotate_after': -5}, 'rotate_after must be a positive'),
    ({'rotate_after': '3600'}, 'rotate_after must be a positive'),
    ({'rotate_after': 1.5}, 'rotate_after must be a positive'),
])
def test_ensure_refuses_options(shm_store, kwargs, message):
    with pytest.raises(ResumptionError, match=message):
        _ring.ensure(shm_store, 'nginx', 48, 3, **kwargs)
    assert os.listdir(shm_store) == []


def test_ensure_refuses_bad_spec_before_touching(shm_store):
    with pytest.raises(ResumptionError, match='key_size must be 48 for server apache'):
        _ring.ensure(shm_store, 'apache', 80, 3)
    assert os.listdir(shm_store) == []


# ---------------------------------------------------------------- crash safety

@pytest.mark.parametrize('fail_on', ['first-file', 'meta', 'commit-point'])
@pytest.mark.parametrize('exc', [OSError(28, 'No space left on device'), KeyboardInterrupt()])
def test_crash_during_commit_keeps_old_ring(shm_store, monkeypatch, fail_on, exc):
    _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    before = _ring.load(shm_store)
    snap = snapshot(shm_store)
    real_rename = os.rename

    def rename(src, dst):
        target = os.path.basename(dst)
        if (fail_on == 'commit-point' and target == 'active') or \
           (fail_on == 'meta' and target == 'ring.json') or \
           (fail_on == 'first-file' and target != 'active'):
            raise exc
        return real_rename(src, dst)
    monkeypatch.setattr(os, 'rename', rename)
    with pytest.raises(type(exc)):
        _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', now=NOW + 1)
    monkeypatch.undo()
    assert snapshot(shm_store) == snap
    assert members(_ring.load(shm_store)) == members(before)
    assert _ring.files_match(shm_store, before)
    assert _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW + 2)[0] == 'none'


def test_killed_before_cleanup_is_cleaned_next_run(shm_store, monkeypatch):
    _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    old = os.readlink(os.path.join(shm_store, 'active'))
    monkeypatch.setattr(_ring, 'cleanup', lambda store: 0)
    _ring.ensure(shm_store, 'nginx', 48, 3, state='rotated', now=NOW + 1)
    monkeypatch.undo()
    assert old in os.listdir(shm_store)          # the old ring survived the "kill"
    new = os.readlink(os.path.join(shm_store, 'active'))
    assert _ring.load(shm_store).generation == 2
    assert _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW + 2)[0] == 'none'
    assert ring_dirs(shm_store) == [new]


# ---------------------------------------------------------------- lock, destroy, cleanup

def test_store_lock(shm_store):
    with _ring.StoreLock(shm_store) as lock:
        path = os.path.join(shm_store, '.lock')
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        fd = os.open(path, os.O_RDWR)
        try:
            with pytest.raises((BlockingIOError, OSError)):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        assert lock.fd is not None
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_store_lock_refuses_symlink(shm_store, tmp_path):
    target = tmp_path / 'elsewhere'
    target.write_bytes(b'')
    os.symlink(str(target), os.path.join(shm_store, '.lock'))
    with pytest.raises(OSError):
        with _ring.StoreLock(shm_store):
            pass


def test_destroy(shm_store):
    _ring.ensure(shm_store, 'nginx', 48, 3, now=NOW)
    with _ring.StoreLock(shm_store):
        pass
    assert _ring.destroy(shm_store) == 3   # active, ring dir, .lock
    assert os.listdir(shm_store) == []
    assert _ring.destroy(os.path.join(shm_store, 'missing')) == 0
