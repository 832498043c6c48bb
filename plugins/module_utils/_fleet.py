# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleet mode: the nodes of one trust context share their ticket keys, which
rotate at the same period boundaries on every node with no controller online.

The operations on a node's store are here: tick (what the timer runs), seed,
reseed, export and join (healing), status, and the rings they build. The rest
lives beside it:

* _ratchet: generation arithmetic and the ratchet (Chain): how states and keys
  are derived, pure computation;
* _fleet_seal: join keys and sealing a state to a joining node (X25519 +
  ChaCha20-Poly1305);
* plugins/plugin_utils/_fleet_plan: the controller's plan from the nodes'
  status (not copied to the hosts).

Their names used by the modules and tests stay importable from here.

A node keeps the state of its ring's OLDEST member (S_g-(N-2), see _ratchet)
in the ring's directory (STATE_FILE) and nothing older: the state only moves
forward and the directory that held the old one is overwritten and removed, so
a node compromised at generation g gives away the keys it holds (g-(N-2) ..
g+1) and those after, but no key of g-(N-2)-1 (g-2 with N=3) or older.

Nothing here ever returns, logs or prints key bytes or states.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring
from ansible_collections.hardened_tls.resumption.plugins.module_utils._fleet_seal import JOIN_FILE, open_sealed, seal
from ansible_collections.hardened_tls.resumption.plugins.module_utils._ratchet import Chain, boundary, decode_secret, generation, ring_generations

# Moved to _ratchet and _fleet_seal; still used as _fleet.<name> by the fleet_ring module and the tests.
from ansible_collections.hardened_tls.resumption.plugins.module_utils._fleet_seal import (  # noqa: F401 pylint: disable=unused-import
    join_request,
)
from ansible_collections.hardened_tls.resumption.plugins.module_utils._ratchet import (  # noqa: F401 pylint: disable=unused-import
    require_cryptography,
    reseed_generation,
)

STATE_FILE = 'fleet.bin'
MIN_PERIOD = 10
MAX_PERIOD = 7 * 24 * 3600


def check_fleet(epoch, period):
    if not isinstance(period, int) or isinstance(period, bool) or period < MIN_PERIOD or period > MAX_PERIOD:
        raise ResumptionError('period must be from %d seconds to 7 days (%d s), got %r' % (MIN_PERIOD, MAX_PERIOD, period))
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise ResumptionError('epoch must be a number of seconds since 1970 (0 or more), got %r' % (epoch,))


class Spec(object):
    """What a node's fleet ring looks like: layout and clock."""

    def __init__(self, server, key_size, size, epoch, period, offset=0):
        check_fleet(epoch, period)
        _ring.check_spec(server, key_size, size, period)
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


def fleet_meta(spec, chain, origin, since, spent_through=None, context=None):
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
    if context is not None:
        meta['context'] = context
    return meta


def build(spec, chain, gen, now, old=None, since=None, spent_through=None, carry_spent=True, context=None):
    """(ring, chain) at generation gen from a chain: every member the chain can
    derive is derived; older ones (a chain that starts later) keep the old
    ring's key of that generation or get a random one. The chain returned is
    advanced to the ring's oldest member (what the node keeps).

    spent_through: after the clock went back, the keys this node already used up
    to that generation (while its clock was ahead) are never derived again: they
    would decrypt its old tickets past the two-period bound. Random keys stand in
    for them until the ring has moved past that generation. It is carried from
    the old ring (a join keeps it; a new seed, whose keys were never used, does not).

    context: the fleet (trust context, usually an inventory group) the state belongs
    to; a seed and a join set it, every other change keeps the old ring's."""
    if context is None and old is not None and old.fleet:
        context = old.fleet.get('context')
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
                      fleet_meta(spec, chain, 'fleet', since, spent_through, context), period=spec.period)
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
    return _ring.Ring(spec.server, spec.key_size, spec.size, members, boundary(gen, spec.epoch, spec.period), created_at,
                      period=spec.period)


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
        new, chain = build(spec, chain, gen, now_s, spent_through=ring.generation, context=ring.fleet.get('context'))
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


def seed(store, spec, seed_value, anchor, now=None, check_mode=False, uid=None, gid=None, context=None):
    """Replace whatever the node holds with the chain of a fresh seed anchored at
    generation anchor (the controller picks an anchor at or before every node's
    oldest ring generation)."""
    raw = decode_secret(seed_value, 'seed')
    now_s = spec.now(now)
    gen = generation(now_s, spec.epoch, spec.period)
    ring, dummy, dummy2 = _load_or_none(store)
    # A new chain: none of its keys was ever used here, whatever the old ring had spent.
    new, chain = build(spec, Chain.from_seed(raw, anchor), gen, now_s, old=ring, since=now_s, carry_spent=False,
                       context=context)
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
    old = ring.fleet or {}
    ring.fleet = fleet_meta(spec, chain, 'fleet', old.get('since', spec.now(now)), old.get('spent_through'), old.get('context'))
    if not check_mode:
        commit(store, ring, chain, uid, gid)
    return 'reseeded', before, ring


def _too_late(at, newest):
    return ('reseed_generation %d is not in this node\'s future: it already holds the key of generation %d; '
            'its clock is ahead of the controller\'s plan by more than the margin (reseed_margin), or the plan is stale'
            % (at, newest))


# ---------------------------------------------------------------- healing (sealing: _fleet_seal)

def export(store, spec, recipients, now=None, uid=None, gid=None):
    """{host: sealed blob} of this node's state (brought to the wall-clock generation
    first), for each recipient {host: join public key}. Refused when this node holds
    no fleet state."""
    tick(store, spec, now, uid=uid, gid=gid)
    ring, chain = load(store)
    if chain is None:
        raise ResumptionError('this node holds no fleet state to share (it is out of step itself)')
    context = ring.fleet.get('context')
    return ring, dict((host, seal(spec, chain, pub, context)) for host, pub in sorted(recipients.items()))


def join(store, spec, blob, now=None, check_mode=False, uid=None, gid=None, context=None):
    """Replace this node's ring with the fleet's, from a blob sealed to its join request.
    With context, a state from another fleet (trust context) is refused."""
    if check_mode:
        ring, dummy, dummy2 = _load_or_none(store)
        return 'joined', ring, ring
    head, chain = open_sealed(store, blob)
    if head.get('epoch') != spec.epoch or head.get('period') != spec.period:
        raise ResumptionError('the fleet state comes from a ring with another epoch or period (%r, %r); this node has %r, %r'
                              % (head.get('epoch'), head.get('period'), spec.epoch, spec.period))
    if context is not None and head.get('context') not in (None, context):
        raise ResumptionError('the fleet state comes from fleet %r; this node belongs to fleet %r (one trust context each): '
                              'nothing changed' % (head.get('context'), context))
    if context is None:
        context = head.get('context')
    now_s = spec.now(now)
    gen = generation(now_s, spec.epoch, spec.period)
    ring, dummy, dummy2 = _load_or_none(store)
    new, chain = build(spec, chain, gen, now_s, old=ring, since=now_s, context=context)
    commit(store, new, chain, uid, gid)
    return 'joined', ring, new


# ---------------------------------------------------------------- status (the plan: plugin_utils/_fleet_plan)

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
        'context': ring.fleet.get('context') if chain is not None else None,
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


# ---------------------------------------------------------------- the module's work

def names_of(ring):
    """(generation, key name) of each member, or None: what tells a change of the server's files."""
    return None if ring is None else [(m.generation, m.key.name_hex) for m in ring.members]


def act(p, spec, store, uid, gid, check):
    """What fleet_ring does with its parameters p: (status result, ring before, ring after)."""
    extra = {}
    if p['state'] == 'status':
        st = status(store, spec, lookahead=p['lookahead'])
        if p['join_request']:
            pub = join_request(store, check_mode=check)
            if pub is not None:
                extra['join_public_key'] = pub
        st.update(extra)
        st['action'] = 'status'
        return st, None, _ring.load(store) if st['ring'] is not None else None
    if p['seed'] is not None:
        action, before, ring = seed(store, spec, p['seed'], p['seed_generation'], check_mode=check, uid=uid, gid=gid,
                                    context=p['context'])
    elif p['reseed'] is not None:
        action, before, ring = reseed(store, spec, p['reseed'], p['reseed_generation'], check_mode=check, uid=uid, gid=gid)
    elif p['sealed'] is not None:
        action, before, ring = join(store, spec, p['sealed'], check_mode=check, uid=uid, gid=gid, context=p['context'])
    elif p['export_to']:
        if check:
            action, before, ring = tick(store, spec, check_mode=True)
        else:
            before = _ring.load(store)
            ring, sealed = export(store, spec, p['export_to'], uid=uid, gid=gid)
            extra['sealed'] = sealed
        action = 'exported'
    else:
        action, before, ring = tick(store, spec, check_mode=check, uid=uid, gid=gid)
    st = status(store, spec) if not check else {'now': spec.now(), 'wall_generation': spec.generation(),
                                                'origin': 'fleet' if ring.fleet else 'local'}
    st.pop('ring', None)
    st.pop('chain', None)
    st.update(extra)
    st['action'] = action
    return st, before, ring
