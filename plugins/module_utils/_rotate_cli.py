# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The command the systemd units run on the host: the same module_utils the
modules use, copied there by hardened_tls.resumption.rotation_timer.

    hardened-tls-ring --config /etc/hardened-tls-resumption/rings/NAME.json rotate|ensure|status

rotate: advance the ring one generation, then make the server pick it up.
ensure: create the ring when the store is empty (at boot, before the server).
status: print the ring's metadata (key names, never key bytes).

A ring in fleet mode (its configuration has a "fleet" entry, see _fleet) is
not rotated by a count of periods but brought to the generation of the wall
clock, g = floor((now - epoch) / period): the timer polls, and the command
writes nothing unless g changed. At boot (ensure), an empty store gets a local
ring of random keys at generation g, so the server starts at once.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import subprocess
import sys

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _reload
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring


def run(args):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    return p.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def load_config(path):
    with open(path, 'r') as f:
        return json.load(f)


def act_fleet(cfg, action, runner=run, now=None):
    store = cfg['store']
    spec = _fleet.Spec.from_config(cfg)
    if action == 'status':
        st = _fleet.status(store, spec, now)
        ring = st.pop('ring')
        return {'ring': ring, 'fleet': st}
    with _ring.StoreLock(store):
        done, before, ring = _fleet.tick(store, spec, now, uid=cfg.get('uid'), gid=cfg.get('gid'))
    how = 'none'
    # ensure runs in the boot unit, ordered before the server: asking the server to
    # reload from there would wait for the boot unit itself. The server reads the
    # ring when it starts; a role that installs the unit reloads the server itself.
    if done != 'none' and action == 'rotate':
        how = _reload.pick_up(runner, cfg, before, ring)
    return {'action': done, 'generation': ring.generation, 'current_key_name': ring.current.key.name_hex, 'pick_up': how,
            'origin': 'fleet' if ring.fleet else 'local'}


def act(cfg, action, runner=run, now=None):
    if cfg.get('fleet'):
        return act_fleet(cfg, action, runner, now)
    store = cfg['store']
    if action == 'status':
        ring = _ring.load(store)
        return {'ring': None if ring is None else ring.summary(store)}
    state = 'rotated' if action == 'rotate' else 'present'
    with _ring.StoreLock(store):
        try:
            before = _ring.load(store)
        except ResumptionError:
            before = None
        done, ring = _ring.ensure(store, cfg['server'], cfg['key_size'], cfg['size'], state=state, now=now,
                                  uid=cfg.get('uid'), gid=cfg.get('gid'))
    how = 'none'
    if done != 'none':
        how = _reload.pick_up(runner, cfg, before, ring)
    return {'action': done, 'generation': ring.generation, 'current_key_name': ring.current.key.name_hex, 'pick_up': how}


def main(argv=None, out=sys.stdout):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 3 or argv[0] != '--config' or argv[2] not in ('rotate', 'ensure', 'status'):
        sys.stderr.write('usage: hardened-tls-ring --config FILE rotate|ensure|status\n')
        return 2
    try:
        result = act(load_config(argv[1]), argv[2])
    except (ResumptionError, OSError, IOError, ValueError, KeyError) as e:
        sys.stderr.write('hardened-tls-ring: %s\n' % (e,))
        return 1
    out.write(json.dumps(result, sort_keys=True) + '\n')
    return 0
