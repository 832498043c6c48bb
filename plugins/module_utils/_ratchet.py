# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet ratchet (see _fleet): generation arithmetic, the one-way chain of
states and the ticket keys derived from it. Pure computation, no files.

Generation arithmetic: g(now) = floor((now - epoch) / period), the same on
every node whose clock is right. A ring of size N at generation g holds the
keys of g-(N-2) .. g+1 (previous..., current = g, next = g+1).

Ratchet: a 32-byte state S_h belongs to a generation h.
    S_h+1 = HKDF-SHA256(ikm=S_h, salt=R, info=LABEL 'ratchet' | h+1)
where R is the concatenation of the reseed randomness staged for h+1 (empty
when none). The key of generation h in a layout of key_size bytes is
    K_h   = HKDF-SHA256(ikm=S_h, salt='', info=LABEL 'ticket key' | key_size | h)
taken as the canonical name|AES|HMAC and rendered per server by _keys.
A state gives the states and keys of its own and later generations, never of
earlier ones (what a node keeps, and so what a compromise gives away: _fleet).

Seeding: a fresh seed from the controller, with an anchor generation a, gives
S_a = HKDF(ikm=seed, info=LABEL 'seed' | a).
Reseeding is staged: randomness R for generation e (e in the future of every
node: no node holds K_e yet) is kept beside the state until the state passes e;
every node mixes it in at the step to e, so K_e and later keys change on every
node at once, and a stolen state stops being useful at generation e.

Nothing here ever returns, logs or prints key bytes or states.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import struct

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _keys

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the module reports it
    HAS_CRYPTOGRAPHY = False

STATE_LEN = 32
SEED_LEN = 32
LABEL = b'hardened-tls-resumption fleet v1 '
MAGIC = b'HTF1'


def require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise ResumptionError('fleet mode needs the Python cryptography package on this host (Debian: apt install python3-cryptography)')


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


def hkdf(ikm, info, length, salt=None):
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
        return cls(anchor, hkdf(seed, b'seed ' + _q(anchor), STATE_LEN))

    def stage(self, gen, randomness):
        """A new chain with randomness mixed in at the step to gen."""
        if gen <= self.gen:
            raise ResumptionError('a reseed must take effect after the state it mixes into')
        pending = dict(self.pending)
        pending[gen] = pending.get(gen, b'') + bytes(randomness)
        return Chain(self.gen, self.state, pending)

    def _step(self, state, to):
        return hkdf(state, b'ratchet ' + _q(to), STATE_LEN, salt=self.pending.get(to))

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
            out[h] = _keys.TicketKey.from_canonical(hkdf(state, b'ticket key ' + struct.pack('>H', key_size) + _q(h), key_size))
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
