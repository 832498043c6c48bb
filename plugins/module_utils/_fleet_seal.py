# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Sealing a fleet state to a joining node (see _fleet).

Healing: a node out of step asks to join (an ephemeral X25519 key on its
store, only the public half leaves it); a node in step seals its state to
that public key (X25519 + HKDF + ChaCha20-Poly1305); the controller carries
the sealed blob, which it cannot open.

join_request makes the joining node's key (on its store, in memory only),
seal encrypts a chain to its public half, open_sealed decrypts with it and
destroys it. Nothing here ever returns, logs or prints key bytes or states:
only a join key's public half and sealed blobs leave a node.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import struct

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils._ratchet import Chain, decode_secret, hkdf, require_cryptography

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
except ImportError:  # pragma: no cover - require_cryptography() reports it
    pass

JOIN_FILE = 'fleet-join.key'
SEAL_MAGIC = b'HTJ1'
SEAL_AAD = b'hardened-tls-resumption fleet join v1'


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
    return hkdf(shared, b'join ' + eph_pub + recipient_pub, 32)


def _package(spec, chain, context=None):
    head = json.dumps({'epoch': spec.epoch, 'period': spec.period, 'context': context}, sort_keys=True).encode('utf-8')
    return struct.pack('>H', len(head)) + head + chain.serialize()


def _unpackage(data):
    try:
        n = struct.unpack('>H', data[:2])[0]
        head = json.loads(data[2:2 + n].decode('utf-8'))
        return head, Chain.parse(data[2 + n:])
    except (ValueError, struct.error, UnicodeDecodeError):
        raise ResumptionError('the sealed fleet state is damaged')


def seal(spec, chain, recipient_pub_b64, context=None):
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
    box = ChaCha20Poly1305(key).encrypt(b'\0' * 12, _package(spec, chain, context), SEAL_AAD)
    return base64.b64encode(SEAL_MAGIC + eph_pub + box).decode('ascii')


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
