# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet mode: the nodes of one trust context share their ticket keys, which
rotate at the same period boundaries on every node with no controller online.

Generation arithmetic: g(now) = floor((now - epoch) / period), the same on
every node whose clock is right. A ring of size N at generation g holds the
keys of g-(N-2) .. g+1 (previous..., current = g, next = g+1).

Ratchet: a 32-byte state S_h belongs to a generation h.
    S_h+1 = HKDF-SHA256(ikm=S_h, salt=R, info=LABEL 'ratchet' | h+1)
where R is the concatenation of the reseed randomness staged for h+1 (empty
when none). The key of generation h in a layout of key_size bytes is
    K_h   = HKDF-SHA256(ikm=S_h, salt='', info=LABEL 'ticket key' | key_size | h)
taken as the canonical name|AES|HMAC and rendered per server by _keys.
A node keeps the state of its ring's OLDEST member (S_g-(N-2)) and nothing
older: the state only moves forward and the directory that held the old one is
overwritten and removed, so a node compromised at generation g gives away the
keys it holds (g-(N-2) .. g+1) and those after, but no key of g-(N-2)-1
(g-2 with N=3) or older.

Seeding: a fresh seed from the controller, with an anchor generation a, gives
S_a = HKDF(ikm=seed, info=LABEL 'seed' | a).
Reseeding is staged: randomness R for generation e (e in the future of every
node: no node holds K_e yet) is kept beside the state until the state passes e;
every node mixes it in at the step to e, so K_e and later keys change on every
node at once, and a stolen state stops being useful at generation e.

Healing: a node out of step asks to join (an ephemeral X25519 key on its
store, only the public half leaves it); a node in step seals its state to
that public key (X25519 + HKDF + ChaCha20-Poly1305); the controller carries
the sealed blob, which it cannot open.

Nothing here ever returns, logs or prints key bytes or states.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import json
import os
import struct
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the module reports it
    HAS_CRYPTOGRAPHY = False

STATE_LEN = 32
SEED_LEN = 32
LABEL = b'hardened-tls-resumption fleet v1 '
STATE_FILE = 'fleet.bin'
JOIN_FILE = 'fleet-join.key'
MAGIC = b'HTF1'
SEAL_MAGIC = b'HTJ1'
SEAL_AAD = b'hardened-tls-resumption fleet join v1'
MIN_PERIOD = 10
MAX_PERIOD = 7 * 24 * 3600


def require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise ResumptionError('fleet mode needs the Python cryptography package on this host (Debian: apt install python3-cryptography)')


def check_fleet(epoch, period):
    if not isinstance(period, int) or isinstance(period, bool) or period < MIN_PERIOD or period > MAX_PERIOD:
        raise ResumptionError('period must be from %d seconds to 7 days (%d s), got %r' % (MIN_PERIOD, MAX_PERIOD, period))
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise ResumptionError('epoch must be a number of seconds since 1970 (0 or more), got %r' % (epoch,))


def generation(now, epoch, period):
    """g = floor((now - epoch) / period)."""
    return int((int(now) - epoch) // period)


def boundary(gen, epoch, period):
    """When generation gen starts (epoch seconds)."""
    return epoch + gen * period


def ring_generations(gen, size):
    """Generations a ring of size keys holds at generation gen, oldest first."""
    return list(range(gen - (size - 2), gen + 2))


def reseed_generation(now, epoch, period, margin):
    """The first generation a reseed planned at now may change: every node whose
    clock is at most margin seconds ahead (run time plus skew) has not yet
    derived its key (a node derives K_e when it enters e-1)."""
    return generation(now + margin, epoch, period) + 2


def _q(n):
    return struct.pack('>q', n)


def _hkdf(ikm, info, length, salt=None):
    require_cryptography()
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=LABEL + info).derive(ikm)


def decode_secret(value, what, length=SEED_LEN):
    """bytes of a base64 option (seeds arrive base64 in module arguments)."""
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = base64.b64decode(value or '', validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ResumptionError('%s must be base64 (the value is not shown)' % what)
    if length is not None and len(raw) != length:
        raise ResumptionError('%s must be %d bytes of randomness (base64), got %d bytes' % (what, length, len(raw)))
    return raw


def new_seed():
    """Fresh randomness for a seed or a reseed, base64 (controller side, in memory)."""
    return base64.b64encode(os.urandom(SEED_LEN)).decode('ascii')


class Chain(object):
    """A ratchet state S at generation gen, with staged reseeds {generation: randomness}."""

    __slots__ = ('gen', 'state', 'pending')

    def __init__(self, gen, state, pending=None):
        if len(state) != STATE_LEN:
            raise ResumptionError('a fleet ratchet state must be %d bytes' % STATE_LEN)
        self.gen = int(gen)
        self.state = bytes(state)
        self.pending = dict((int(e), bytes(r)) for e, r in (pending or {}).items() if int(e) > self.gen)

    def __repr__(self):
        return 'Chain(gen=%d, pending=%s)' % (self.gen, sorted(self.pending))

    @classmethod
    def from_seed(cls, seed, anchor):
        return cls(anchor, _hkdf(seed, b'seed ' + _q(anchor), STATE_LEN))

    def stage(self, gen, randomness):
        """A new chain with randomness mixed in at the step to gen."""
        if gen <= self.gen:
            raise ResumptionError('a reseed must take effect after the state it mixes into')
        pending = dict(self.pending)
        pending[gen] = pending.get(gen, b'') + bytes(randomness)
        return Chain(self.gen, self.state, pending)

    def _step(self, state, to):
        return _hkdf(state, b'ratchet ' + _q(to), STATE_LEN, salt=self.pending.get(to))

    def advance(self, to):
        """The chain at generation to (one way: earlier states cannot be computed from it)."""
        if to < self.gen:
            raise ResumptionError('the fleet state cannot go back from generation %d to %d' % (self.gen, to))
        state = self.state
        for h in range(self.gen + 1, to + 1):
            state = self._step(state, h)
        return Chain(to, state, self.pending)

    def keys(self, gens, key_size):
        """{generation: TicketKey} for every generation in gens that is not older than the state."""
        _keys.check_key_size(key_size)
        wanted = sorted(set(h for h in gens if h >= self.gen))
        out = {}
        state, h = self.state, self.gen
        for target in wanted:
            while h < target:
                h += 1
                state = self._step(state, h)
            out[h] = _keys.TicketKey.from_canonical(_hkdf(state, b'ticket key ' + struct.pack('>H', key_size) + _q(h), key_size))
        return out

    def names(self, gens, key_size):
        return dict((h, k.name_hex) for h, k in self.keys(gens, key_size).items())

    def serialize(self):
        out = [MAGIC, _q(self.gen), self.state, struct.pack('>H', len(self.pending))]
        for e in sorted(self.pending):
            r = self.pending[e]
            out.extend([_q(e), struct.pack('>H', len(r)), r])
        return b''.join(out)

    @classmethod
    def parse(cls, data):
        try:
            if data[:4] != MAGIC:
                raise ValueError('magic')
            gen = struct.unpack('>q', data[4:12])[0]
            state = data[12:12 + STATE_LEN]
            pos = 12 + STATE_LEN
            count = struct.unpack('>H', data[pos:pos + 2])[0]
            pos += 2
            pending = {}
            for dummy in range(count):
                e = struct.unpack('>q', data[pos:pos + 8])[0]
                n = struct.unpack('>H', data[pos + 8:pos + 10])[0]
                pending[e] = data[pos + 10:pos + 10 + n]
                if len(pending[e]) != n:
                    raise ValueError('short')
                pos += 10 + n
            if pos != len(data) or len(state) != STATE_LEN:
                raise ValueError('length')
        except (ValueError, struct.error):
            raise ResumptionError('the fleet ratchet state is damaged')
        return cls(gen, state, pending)


class Spec(object):
    """What a node's fleet ring looks like: layout and clock."""

    def __init__(self, server, key_size, size, epoch, period, offset=0):
        _ring.check_spec(server, key_size, size)
        check_fleet(epoch, period)
        if size < 3:
            raise ResumptionError('size must be at least 3 in fleet mode (previous, current and next keys)')
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise ResumptionError('time_offset must be a whole number of seconds, got %r' % (offset,))
        self.server = server
        self.key_size = key_size
        self.size = size
        self.epoch = epoch
        self.period = period
        self.offset = offset

    @classmethod
    def from_config(cls, cfg):
        fleet = cfg.get('fleet') or {}
        return cls(cfg['server'], cfg['key_size'], cfg['size'], fleet.get('epoch', 0), cfg['period'], fleet.get('time_offset', 0))

    def now(self, now=None):
        return (int(time.time()) if now is None else int(now)) + self.offset

    def generation(self, now=None):
        return generation(self.now(now), self.epoch, self.period)


def fleet_meta(spec, chain, origin, since, spent_through=None):
    meta = {
        'origin': origin,
        'epoch': spec.epoch,
        'period': spec.period,
        'state_generation': chain.gen,
        'pending': sorted(chain.pending),
        'since': since,
    }
    if spent_through is not None:
        meta['spent_through'] = spent_through
    return meta


def build(spec, chain, gen, now, old=None, since=None, spent_through=None, carry_spent=True):
    """(ring, chain) at generation gen from a chain: every member the chain can
    derive is derived; older ones (a chain that starts later) keep the old
    ring's key of that generation or get a random one. The chain returned is
    advanced to the ring's oldest member (what the node keeps).

    spent_through: after the clock went back, the keys this node already used up
    to that generation (while its clock was ahead) are never derived again: they
    would decrypt its old tickets past the two-period bound. Random keys stand in
    for them until the ring has moved past that generation. It is carried from
    the old ring (a join keeps it; a new seed, whose keys were never used, does not)."""
    if spent_through is None and carry_spent and old is not None and old.fleet:
        spent_through = old.fleet.get('spent_through')
    gens = ring_generations(gen, spec.size)
    if spent_through is not None and gens[0] > spent_through:
        spent_through = None
    if chain.gen < gens[0]:
        chain = chain.advance(gens[0])
    derived = chain.keys(gens, spec.key_size)
    if spent_through is not None:
        derived = dict((h, k) for h, k in derived.items() if h > spent_through)
    before = {}
    if old is not None and old.key_size == spec.key_size:
        before = dict((m.generation, m) for m in old.members)
    members = []
    for h in gens:
        if h in derived:
            key = derived[h]
        elif h in before:
            key = before[h].key
        else:
            key = _keys.TicketKey.generate(spec.key_size)
        prev = before.get(h)
        created = prev.created if prev is not None and prev.key.name == key.name else now
        members.append(_ring.Member(h, key, created))
    created_at = old.created_at if old is not None else now
    rotated_at = old.rotated_at if old is not None and old.generation == gen else boundary(gen, spec.epoch, spec.period)
    if since is None:
        since = (old.fleet or {}).get('since', now) if old is not None and old.fleet else now
    ring = _ring.Ring(spec.server, spec.key_size, spec.size, members, rotated_at, created_at,
                      fleet_meta(spec, chain, 'fleet', since, spent_through))
    return ring, chain


def local_ring(spec, gen, now, old=None):
    """A ring of random keys at generation gen (a node with no fleet state: after a
    reboot it serves at once; its tickets resume on itself until it is healed).
    Keeps the old ring's keys of the generations it still holds."""
    before = {}
    if old is not None and old.key_size == spec.key_size and old.fleet is None:
        before = dict((m.generation, m) for m in old.members)
    members = []
    for h in ring_generations(gen, spec.size):
        if h in before:
            members.append(before[h])
        else:
            members.append(_ring.Member(h, _keys.TicketKey.generate(spec.key_size), now))
    created_at = old.created_at if old is not None else now
    return _ring.Ring(spec.server, spec.key_size, spec.size, members, boundary(gen, spec.epoch, spec.period), created_at)


def load(store):
    """(ring, chain): chain is None for a ring without fleet state (a local ring).
    Raises ResumptionError when the ring or its state is damaged."""
    ring = _ring.load(store)
    if ring is None or not ring.fleet:
        return ring, None
    try:
        chain = Chain.parse(_fs.read_nofollow(os.path.join(store, _ring.ACTIVE, STATE_FILE)))
    except (OSError, IOError):
        raise ResumptionError('the fleet state of the ring in %s is missing' % store)
    if chain.gen != ring.fleet.get('state_generation'):
        raise ResumptionError('the fleet state of the ring in %s does not match its metadata' % store)
    return ring, chain


def _load_or_none(store, spec=None):
    """(ring, chain, damaged). With spec, a chain of another clock (epoch or period
    changed) is dropped: its generations mean other times, the node is out of step."""
    try:
        ring, chain = load(store)
    except ResumptionError:
        return None, None, True
    if spec is not None and chain is not None and (
            ring.fleet.get('period') != spec.period or ring.fleet.get('epoch') != spec.epoch):
        ring.fleet = None
        return ring, None, 'stale'
    return ring, chain, False


def _same_layout(ring, spec):
    return ring.server == spec.server and ring.key_size == spec.key_size and ring.size == spec.size


def commit(store, ring, chain, uid=None, gid=None):
    extra = None if chain is None else {STATE_FILE: chain.serialize()}
    return _ring.commit(store, ring, uid, gid, extra=extra)


def _current(store, spec, now=None):
    """(action, before, ring, chain): the ring at the wall-clock generation, computed
    in memory (nothing written). chain is None for a local ring."""
    now_s = spec.now(now)
    gen = generation(now_s, spec.epoch, spec.period)
    ring, chain, damaged = _load_or_none(store, spec)
    before = ring
    if ring is None:
        return ('rebuilt' if damaged else 'created'), before, local_ring(spec, gen, now_s), None
    same = _same_layout(ring, spec) and damaged != 'stale'
    if same and ring.generation > gen:
        if ring.generation - gen <= 1:
            return 'none', before, ring, chain     # back by less than a period: the ring absorbs it
        # More than one period behind its ring: waiting would keep one key encrypting for as long as
        # the clock is behind. The ring is rebuilt at the clock's generation with none of the keys
        # this node has used (random ones stand in for them); the state, which cannot go back, is
        # kept, so the node rejoins the fleet by itself once the clock has passed those generations.
        if chain is None:
            return 'clock-behind', before, local_ring(spec, gen, now_s), None
        new, chain = build(spec, chain, gen, now_s, spent_through=ring.generation)
        return 'clock-behind', before, new, chain
    if chain is None:
        if same and ring.generation == gen:
            return 'none', before, ring, None
        return ('rotated' if same else 'rebuilt'), before, local_ring(spec, gen, now_s, old=ring if same else None), None
    if same and ring.generation == gen:
        return ('none' if _ring.files_match(store, ring) else 'repaired'), before, ring, chain
    ring, chain = build(spec, chain, gen, now_s, old=ring)
    return ('rotated' if same else 'rebuilt'), before, ring, chain


def expire_join_key(store, period, wall=None):
    """Overwrite and remove a join key older than nine tenths of a period: a heal takes one
    Ansible run, and an unfinished one must not leave a key that, with a captured sealed
    blob, would open an old fleet state. The timer polls every tenth of a period, so a
    join key never outlives one period. Returns whether one was removed."""
    path = os.path.join(store, JOIN_FILE)
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if (wall if wall is not None else time.time()) - st.st_mtime < period * 0.9:
        return False
    _fs.shred(path)
    return True


def tick(store, spec, now=None, check_mode=False, uid=None, gid=None):
    """What the timer runs (and every module call first): bring the ring to the
    wall-clock generation. A no-op (nothing written) when the generation did not
    change. Returns (action, before, ring)."""
    if not check_mode:
        expire_join_key(store, spec.period)
    action, before, ring, chain = _current(store, spec, now)
    if action != 'none' and not check_mode:
        commit(store, ring, chain, uid, gid)
    elif not check_mode:
        _ring.cleanup(store)
    return action, before, ring


def seed(store, spec, seed_value, anchor, now=None, check_mode=False, uid=None, gid=None):
    """Replace whatever the node holds with the chain of a fresh seed anchored at
    generation anchor (the controller picks an anchor at or before every node's
    oldest ring generation)."""
    raw = decode_secret(seed_value, 'seed')
    now_s = spec.now(now)
    gen = generation(now_s, spec.epoch, spec.period)
    ring, dummy, dummy2 = _load_or_none(store)
    # A new chain: none of its keys was ever used here, whatever the old ring had spent.
    new, chain = build(spec, Chain.from_seed(raw, anchor), gen, now_s, old=ring, since=now_s, carry_spent=False)
    if not check_mode:
        commit(store, new, chain, uid, gid)
    return 'seeded', ring, new


def reseed(store, spec, randomness, at, now=None, check_mode=False, uid=None, gid=None):
    """Stage randomness to be mixed in at generation at. Refused when this node
    already holds (or is due to derive) the key of that generation: mixing then
    would put this node out of step. The ring's key files do not change."""
    raw = decode_secret(randomness, 'reseed')
    dummy, before, ring, chain = _current(store, spec, now)
    if chain is None:
        raise ResumptionError('this node holds no fleet state to reseed (it is out of step: heal it first)')
    newest = max(ring.generation, spec.generation(now)) + 1
    if at <= newest:
        raise ResumptionError(_too_late(at, newest))
    chain = chain.stage(at, raw)
    ring.fleet = fleet_meta(spec, chain, 'fleet', (ring.fleet or {}).get('since', spec.now(now)))
    if not check_mode:
        commit(store, ring, chain, uid, gid)
    return 'reseeded', before, ring


def _too_late(at, newest):
    return ('reseed_generation %d is not in this node\'s future: it already holds the key of generation %d; '
            'its clock is ahead of the controller\'s plan by more than the margin (reseed_margin), or the plan is stale'
            % (at, newest))


# ---------------------------------------------------------------- healing

def join_request(store, check_mode=False):
    """Create an ephemeral X25519 key on the store; return its public half (base64)."""
    require_cryptography()
    _fs.require_memory_fs(store)
    if check_mode:
        return None
    priv = X25519PrivateKey.generate()
    raw = priv.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    _fs.secure_write(os.path.join(store, JOIN_FILE), raw, 0o600)
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(pub).decode('ascii')


def _seal_key(shared, eph_pub, recipient_pub):
    return _hkdf(shared, b'join ' + eph_pub + recipient_pub, 32)


def _package(spec, chain):
    head = json.dumps({'epoch': spec.epoch, 'period': spec.period}, sort_keys=True).encode('ascii')
    return struct.pack('>H', len(head)) + head + chain.serialize()


def _unpackage(data):
    try:
        n = struct.unpack('>H', data[:2])[0]
        head = json.loads(data[2:2 + n].decode('ascii'))
        return head, Chain.parse(data[2 + n:])
    except (ValueError, struct.error, UnicodeDecodeError):
        raise ResumptionError('the sealed fleet state is damaged')


def seal(spec, chain, recipient_pub_b64):
    """The chain sealed to one joining node's public key (base64 blob only it can open)."""
    require_cryptography()
    recipient_pub = decode_secret(recipient_pub_b64, 'a join public key', 32)
    try:
        recipient = X25519PublicKey.from_public_bytes(recipient_pub)
    except ValueError:
        raise ResumptionError('a join public key is not an X25519 key')
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = _seal_key(eph.exchange(recipient), eph_pub, recipient_pub)
    box = ChaCha20Poly1305(key).encrypt(b'\0' * 12, _package(spec, chain), SEAL_AAD)
    return base64.b64encode(SEAL_MAGIC + eph_pub + box).decode('ascii')


def export(store, spec, recipients, now=None, uid=None, gid=None):
    """{host: sealed blob} of this node's state (brought to the wall-clock generation
    first), for each recipient {host: join public key}. Refused when this node holds
    no fleet state."""
    tick(store, spec, now, uid=uid, gid=gid)
    ring, chain = load(store)
    if chain is None:
        raise ResumptionError('this node holds no fleet state to share (it is out of step itself)')
    return ring, dict((host, seal(spec, chain, pub)) for host, pub in sorted(recipients.items()))


def open_sealed(store, blob):
    """(head, chain) from a sealed blob, with this node's join key; the join key is destroyed."""
    require_cryptography()
    raw = decode_secret(blob, 'sealed', None)
    path = os.path.join(store, JOIN_FILE)
    try:
        priv_raw = _fs.read_nofollow(path)
    except (OSError, IOError):
        raise ResumptionError('this node has no pending join request (run fleet_ring with state=status and join_request=true first)')
    try:
        if raw[:4] != SEAL_MAGIC or len(raw) < 4 + 32 + 16:
            raise ResumptionError('sealed is not a sealed fleet state')
        priv = X25519PrivateKey.from_private_bytes(priv_raw)
        eph_pub = raw[4:36]
        recipient_pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = _seal_key(priv.exchange(X25519PublicKey.from_public_bytes(eph_pub)), eph_pub, recipient_pub)
        try:
            data = ChaCha20Poly1305(key).decrypt(b'\0' * 12, raw[36:], SEAL_AAD)
        except Exception:  # cryptography.exceptions.InvalidTag
            raise ResumptionError('sealed was not sealed for this node\'s join request (or it was altered)')
    finally:
        _fs.shred(path)
    return _unpackage(data)


def join(store, spec, blob, now=None, check_mode=False, uid=None, gid=None):
    """Replace this node's ring with the fleet's, from a blob sealed to its join request."""
    if check_mode:
        ring, dummy, dummy2 = _load_or_none(store)
        return 'joined', ring, ring
    head, chain = open_sealed(store, blob)
    if head.get('epoch') != spec.epoch or head.get('period') != spec.period:
        raise ResumptionError('the fleet state comes from a ring with another epoch or period (%r, %r); this node has %r, %r'
                              % (head.get('epoch'), head.get('period'), spec.epoch, spec.period))
    now_s = spec.now(now)
    gen = generation(now_s, spec.epoch, spec.period)
    ring, dummy, dummy2 = _load_or_none(store)
    new, chain = build(spec, chain, gen, now_s, old=ring, since=now_s)
    commit(store, new, chain, uid, gid)
    return 'joined', ring, new


# ---------------------------------------------------------------- status and plan

def status(store, spec, now=None, lookahead=0):
    """Names and generations only: what the playbook compares across nodes.

    chain: {generation: key name} from the state's generation to the ring's next
    key plus lookahead generations (with staged reseeds applied), so two nodes
    that disagree about a reseed to come differ already."""
    now_s = spec.now(now)
    gen = generation(now_s, spec.epoch, spec.period)
    ring, chain, damaged = _load_or_none(store, spec)
    out = {
        'now': now_s,
        'epoch': spec.epoch,
        'period': spec.period,
        'wall_generation': gen,
        'next_boundary': boundary(gen + 1, spec.epoch, spec.period),
        'damaged': damaged is True,
        'origin': 'none' if ring is None else ('fleet' if chain is not None else 'local'),
        'ring': None if ring is None else ring.summary(store),
        'chain': {},
    }
    if chain is not None:
        top = max(gen, ring.generation) + 1 + max(0, int(lookahead))
        top = max([top] + list(chain.pending))
        names = chain.names(range(chain.gen, top + 1), spec.key_size)
        # Members older than the state (kept from before a join) are in the ring, not the chain.
        out['chain'] = dict((str(h), n) for h, n in sorted(names.items()))
    return out


def agree(a, b):
    """Whether two status chains ({generation: name}) agree where both have a name
    (and overlap at all)."""
    common = set(a) & set(b)
    return bool(common) and all(a[h] == b[h] for h in common)


def plan(statuses, hosts, margin=120):
    """What a run does, from the status of each reachable node.

    statuses: {host: status result}; hosts: every node of the fleet (inventory
    order), reachable or not. Returns a dict (no secrets):
    reference (a node in step whose state heals the others, or None), in_step,
    out_of_step (nodes to heal), unreachable, seed (True when no node holds fleet
    state: seed everyone), anchor (the seed's generation), reseed_generation."""
    reachable = [h for h in hosts if h in statuses]
    fleet = [h for h in reachable if statuses[h].get('origin') == 'fleet' and statuses[h].get('chain')]
    best, best_class = None, []
    for c in fleet:
        cls = [h for h in fleet if agree(statuses[c]['chain'], statuses[h]['chain'])]
        if len(cls) > len(best_class):
            best, best_class = c, cls
    out = {
        'reference': best,
        'in_step': best_class,
        'out_of_step': [h for h in reachable if h not in best_class],
        'unreachable': [h for h in hosts if h not in statuses],
        'seed': best is None,
        'anchor': None,
        'reseed_generation': None,
    }
    if not reachable:
        return out
    gens = [int(statuses[h]['wall_generation']) for h in reachable]
    sizes = [int((statuses[h].get('ring') or {}).get('size') or 3) for h in reachable]
    out['anchor'] = min(gens) - (max(sizes) - 2) - 1
    out['reseed_generation'] = max(
        reseed_generation(int(statuses[h]['now']), int(statuses[h].get('epoch', 0)), int(statuses[h]['period']), margin)
        for h in reachable)
    return out
