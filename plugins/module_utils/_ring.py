# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A ring of ticket keys kept in a memory-only key store.

A ring of size N holds one ``next`` key (decrypts only, so that every node has
it before anyone encrypts with it), one ``current`` key (encrypts) and N-2
``previous`` keys (decrypt only). A rotation drops the oldest previous key
(overwritten, then removed), and moves every other key one step.

On disk (tmpfs), a ring is a directory ``ring-<generation>-<random>`` holding
``ring.json`` (metadata, no key bytes), ``keys.bin`` (canonical bytes) and the
server's own files; the symlink ``active`` points at it. Replacing that
symlink with rename() is the only commit point, so a rotation killed at any
moment leaves the old ring or the new one, never a mix.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import hashlib
import json
import os
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers

ACTIVE = 'active'
META = 'ring.json'
KEYS = 'keys.bin'
LOCK = '.lock'
DIR_PREFIX = 'ring-'
MIN_SIZE = 2
# Next, current and one previous key at most: a second previous key would decrypt tickets more
# than two periods after it stopped encrypting (RFC 9325 3.4; issue 13).
MAX_SIZE = 3
FORMAT = 1


def check_spec(server, key_size, size, period=None):
    srv = _servers.get(server)
    _keys.check_key_size(key_size)
    if not isinstance(size, int) or isinstance(size, bool) or size < MIN_SIZE or size > MAX_SIZE:
        raise ResumptionError('size (keys in the ring) must be from %d to %d (next, current and one previous key: more would '
                              'outlive the two-period bound), got %r' % (MIN_SIZE, MAX_SIZE, size))
    srv.check(key_size, size, period)
    return srv


roles = _servers.roles


def server_file_names(server, size):
    """File names a server configuration references, in configuration order."""
    return _servers.get(server).file_names(size)


def server_paths(store, server, size):
    return [os.path.join(store, ACTIVE, n) for n in server_file_names(server, size)]


class Member(object):
    __slots__ = ('generation', 'key', 'created')

    def __init__(self, generation, key, created):
        self.generation = generation
        self.key = key
        self.created = created


class Ring(object):
    def __init__(self, server, key_size, size, members, rotated_at, created_at, fleet=None, period=None):
        self.server = server
        self.key_size = key_size
        self.size = size
        self.members = members          # oldest first; [-2] is current, [-1] is next
        self.rotated_at = rotated_at    # when the current key started to encrypt
        self.created_at = created_at
        self.fleet = fleet              # fleet mode metadata (no secrets), or None: see _fleet
        self.period = period            # seconds, kept for servers whose files carry times (lighttpd), or None

    @property
    def current(self):
        return self.members[-2]

    @property
    def generation(self):
        return self.current.generation

    def render(self):
        """The server's files: a dict of file name to bytes."""
        return _servers.get(self.server).render(self)

    def digest(self):
        """SHA-256 of the canonical key bytes: lets load() notice damaged keys (kept in the store only)."""
        return hashlib.sha256(b''.join(m.key.canonical() for m in self.members)).hexdigest()

    def metadata(self):
        meta = {
            'format': FORMAT,
            'server': self.server,
            'key_size': self.key_size,
            'size': self.size,
            'generation': self.generation,
            'rotated_at': self.rotated_at,
            'created_at': self.created_at,
            'members': [
                {'role': r, 'generation': m.generation, 'name': m.key.name_hex, 'created': m.created}
                for r, m in zip(roles(self.size), self.members)
            ],
        }
        if self.fleet is not None:
            meta['fleet'] = self.fleet
        if self.period is not None:
            meta['period'] = self.period
        return meta

    def summary(self, store):
        """What modules return: names and times, never key bytes."""
        meta = self.metadata()
        result = {
            'store': store,
            'server': self.server,
            'key_size': self.key_size,
            'size': self.size,
            'generation': self.generation,
            'rotated_at': self.rotated_at,
            'created_at': self.created_at,
            'current_key_name': self.current.key.name_hex,
            'members': meta['members'],
            'files': server_paths(store, self.server, self.size),
        }
        if self.fleet is not None:
            result['fleet'] = self.fleet
        if self.period is not None:
            result['period'] = self.period
        return result


def random_keys(key_size):
    def source(generation):
        return _keys.TicketKey.generate(key_size)
    return source


def new_ring(server, key_size, size, now, keysource=None, generation=1, period=None):
    """A ring whose current key has the given generation; every member a fresh key."""
    check_spec(server, key_size, size, period)
    keysource = keysource or random_keys(key_size)
    gens = range(generation - (size - 2), generation + 2)
    members = [Member(g, keysource(g), now) for g in gens]
    return Ring(server, key_size, size, members, now, now, period=period)


def rotate(ring, now, keysource=None, steps=1):
    """A new ring advanced by steps generations (old members fall out)."""
    keysource = keysource or random_keys(ring.key_size)
    members = list(ring.members)
    for dummy in range(steps):
        g = members[-1].generation + 1
        members = members[1:] + [Member(g, keysource(g), now)]
    return Ring(ring.server, ring.key_size, ring.size, members, now, ring.created_at, period=ring.period)


def resize(ring, size, now, keysource=None):
    """Grow (fresh older keys) or shrink (drop oldest) a ring, keeping its current and next keys."""
    check_spec(ring.server, ring.key_size, size)
    keysource = keysource or random_keys(ring.key_size)
    members = list(ring.members)
    while len(members) > size:
        members.pop(0)
    while len(members) < size:
        g = members[0].generation - 1
        members.insert(0, Member(g, keysource(g), now))
    return Ring(ring.server, ring.key_size, size, members, ring.rotated_at, ring.created_at, period=ring.period)


def load(store):
    """The ring the store holds, or None when it holds none.

    Raises ResumptionError when the ring is damaged (the caller may rebuild it).
    """
    active = os.path.join(store, ACTIVE)
    if not os.path.lexists(active):
        return None
    if not os.path.islink(active):
        raise ResumptionError('%s is not a symbolic link to a ring directory' % active)
    target = os.readlink(active)
    if '/' in target or not target.startswith(DIR_PREFIX):
        raise ResumptionError('%s points outside the store' % active)
    directory = os.path.join(store, target)
    try:
        meta = json.loads(_fs.read_nofollow(os.path.join(directory, META)).decode('utf-8'))
        raw = _fs.read_nofollow(os.path.join(directory, KEYS))
    except (OSError, IOError, ValueError) as e:
        raise ResumptionError('the ring in %s is damaged: %s' % (store, getattr(e, 'strerror', None) or e.__class__.__name__))
    try:
        if meta.get('format') != FORMAT:
            raise ResumptionError('the ring in %s has an unknown format' % store)
        key_size = meta['key_size']
        size = meta['size']
        check_spec(meta['server'], key_size, size)
        if len(raw) != key_size * size or len(meta['members']) != size:
            raise ResumptionError('the ring in %s is damaged: wrong number of keys' % store)
        members = []
        for i, m in enumerate(meta['members']):
            key = _keys.TicketKey.from_canonical(raw[i * key_size:(i + 1) * key_size])
            if key.name_hex != m['name']:
                raise ResumptionError('the ring in %s is damaged: key names do not match' % store)
            members.append(Member(int(m['generation']), key, m['created']))
        ring = Ring(meta['server'], key_size, size, members, meta['rotated_at'], meta['created_at'], meta.get('fleet'),
                    meta.get('period'))
        if meta.get('digest') != ring.digest():
            raise ResumptionError('the ring in %s is damaged: key bytes do not match their digest' % store)
        return ring
    except (KeyError, TypeError, ValueError):
        raise ResumptionError('the ring in %s is damaged: bad metadata' % store)


def load_or_none(store):
    """(ring, damaged): the store's ring, or None (damaged True when there was one that
    could not be read: the caller rebuilds it)."""
    try:
        return load(store), False
    except ResumptionError:
        return None, True


def files_match(store, ring):
    """Whether the server files in the active directory hold exactly what the ring renders."""
    for name, data in ring.render().items():
        try:
            if _fs.read_nofollow(os.path.join(store, ACTIVE, name)) != data:
                return False
        except (OSError, IOError):
            return False
    return True


def _random_suffix():
    return binascii.hexlify(os.urandom(4)).decode('ascii')


def commit(store, ring, uid=None, gid=None, extra=None):
    """Write the ring into a new directory and make it the active one, atomically.
    Then destroy the directory it replaced (and any leftovers of killed runs).

    extra: more files for the ring directory ({name: bytes}, 0600), committed and
    destroyed with the ring (the fleet ratchet state, see _fleet).

    A server that reads its key files after dropping privileges (file_reader
    'group' in _servers: lighttpd) gets them 0640 with group gid, and the ring
    directory 0710 (the group may enter it, not list it); every other file of the
    ring stays 0600."""
    _fs.require_memory_fs(store)
    shared = _servers.get(ring.server).file_reader == 'group' and gid is not None
    name = '%s%d-%s' % (DIR_PREFIX, ring.generation, _random_suffix())
    directory = os.path.join(store, name)
    os.mkdir(directory, 0o700)
    try:
        os.chmod(directory, 0o710 if shared else 0o700)
        if uid is not None or gid is not None:
            os.chown(directory, -1 if uid is None else uid, -1 if gid is None else gid)
        for fname, data in sorted(ring.render().items()):
            _fs.secure_write(os.path.join(directory, fname), data, 0o640 if shared else 0o600, uid, gid)
        for fname, data in sorted((extra or {}).items()):
            _fs.secure_write(os.path.join(directory, fname), data, 0o600, uid, gid)
        _fs.secure_write(os.path.join(directory, KEYS), b''.join(m.key.canonical() for m in ring.members), 0o600, uid, gid)
        meta = ring.metadata()
        meta['digest'] = ring.digest()
        _fs.secure_write(os.path.join(directory, META), json.dumps(meta, sort_keys=True).encode('utf-8'), 0o600, uid, gid)
        link = os.path.join(store, '.%s.tmp-%s' % (ACTIVE, _random_suffix()))
        os.symlink(name, link)
        try:
            os.rename(link, os.path.join(store, ACTIVE))
        except BaseException:
            os.unlink(link)
            raise
    except BaseException:
        _fs.shred_tree(directory)
        raise
    cleanup(store)
    return name


def show_start_files(store, ring, uid=None, gid=None):
    """Replace the server's files in the active ring directory by what it must read while it
    starts (_servers start_render: lighttpd's current key), in place and atomically, with a
    fresh time stamp. Returns the names written ([] for a server that needs none). The
    ring itself does not change; ensure() finds the files differ and puts the usual ones
    back (the hand-over)."""
    srv = _servers.get(ring.server)
    if srv.start_render is None:
        return []
    shared = srv.file_reader == 'group' and gid is not None
    directory = os.path.join(store, ACTIVE)
    names = []
    for fname, data in sorted(srv.start_render(ring).items()):
        _fs.secure_write(os.path.join(directory, fname), data, 0o640 if shared else 0o600, uid, gid)
        names.append(fname)
    return names


def cleanup(store):
    """Destroy ring directories that are not active and temporary links. Returns how many."""
    active = os.path.join(store, ACTIVE)
    keep = os.readlink(active) if os.path.islink(active) else None
    removed = 0
    for entry in os.listdir(store):
        full = os.path.join(store, entry)
        if entry.startswith(DIR_PREFIX) and entry != keep:
            _fs.shred_tree(full)
            removed += 1
        elif entry.startswith('.%s.tmp-' % ACTIVE) or entry.startswith('.') and '.tmp-' in entry:
            _fs.shred_tree(full)
            removed += 1
    return removed


def destroy(store):
    """Overwrite and remove every key of the store."""
    if not os.path.isdir(store):
        return 0
    return _fs.shred_contents(store)


class _NoLock(object):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def store_lock(store, check_mode=False):
    """The store's lock (StoreLock), or nothing in check mode (which writes nothing)."""
    return _NoLock() if check_mode else StoreLock(store)


class StoreLock(object):
    """An exclusive lock on a store (a lock file inside it), shared by the modules and the timer."""

    def __init__(self, store):
        self.path = os.path.join(store, LOCK)
        self.fd = None

    def __enter__(self):
        import fcntl
        self.fd = _fs.open_nofollow(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *args):
        os.close(self.fd)
        self.fd = None


def ensure(store, server, key_size, size, state='present', rotate_after=None, now=None,
           check_mode=False, keysource=None, uid=None, gid=None, period=None):
    """Bring the store's ring to the wanted state.

    state: present (create a missing ring, repair damaged files, adapt size),
    rotated (advance one generation; with rotate_after, only when the current
    key has encrypted for at least that many seconds).

    period: the rotation period, kept in the ring for a server whose files carry
    times (lighttpd; required there), ignored for the others.

    Returns (action, ring) where action is one of none, created, rebuilt,
    repaired, resized, rotated, and ring is the ring after the action.
    """
    srv = check_spec(server, key_size, size, period)
    if not srv.needs_period:
        period = None
    elif period is None:
        raise ResumptionError('a %s ring needs period (its key file carries activation and expiration times)' % server)
    if state not in ('present', 'rotated'):
        raise ResumptionError('state must be present or rotated, got %r' % (state,))
    if rotate_after is not None and (not isinstance(rotate_after, int) or rotate_after <= 0):
        raise ResumptionError('rotate_after must be a positive number of seconds, got %r' % (rotate_after,))
    if not os.path.isdir(store):
        raise ResumptionError('%s is not a directory: create the key store first (hardened_tls.resumption.tmpfs_keystore)' % store)
    _fs.require_memory_fs(store)
    now = int(time.time()) if now is None else now

    ring, damaged = load_or_none(store)

    action = 'none'
    if ring is None:
        ring = new_ring(server, key_size, size, now, keysource, period=period)
        action = 'rebuilt' if damaged else 'created'
    elif ring.server != server or ring.key_size != key_size:
        ring = new_ring(server, key_size, size, now, keysource, generation=ring.generation + 1, period=period)
        action = 'rebuilt'
    else:
        # A new period changes the times in a lighttpd file (repaired below when nothing else changes).
        ring.period = period
        if ring.size != size:
            ring = resize(ring, size, now, keysource)
            action = 'resized'
        if state == 'rotated' and (rotate_after is None or now - ring.rotated_at >= rotate_after):
            ring = rotate(ring, now, keysource)
            action = 'rotated'
        elif action == 'none' and not files_match(store, ring):
            action = 'repaired'

    if action != 'none' and not check_mode:
        commit(store, ring, uid, gid)
    elif not check_mode:
        cleanup(store)
    return action, ring
