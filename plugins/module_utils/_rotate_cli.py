# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The command the systemd units run on the host: the same module_utils the
modules use, copied there by hardened_tls.resumption.rotation_timer.

    hardened-tls-ring --config /etc/hardened-tls-resumption/rings/NAME.json ACTION

rotate: advance the ring one generation, then make the server pick it up.
ensure: create the ring when the store is empty (at boot, before the server).
status: print the ring's metadata (key names, never key bytes).
server-start, server-started, server-reloaded: around a start or reload of a
server that keeps only the keys it loaded from its file (lighttpd, see
docs/lighttpd.md): show it the key that encrypts now while it starts, then hand
the next key over again (after a start, once the server has read its file;
after a reload, a few seconds later). Nothing for the other servers.

A ring whose configuration says "keys": "server" holds no keys at all: the
server makes a fresh random key each time it is reloaded (Apache's own OpenSSL
key, see docs/apache-tls13.md), so rotate only reloads it, after its
configuration test, and counts the generations in a state file under
/run/hardened-tls-resumption (no key in it).

A ring in fleet mode (its configuration has a "fleet" entry, see _fleet) is
not rotated by a count of periods but brought to the generation of the wall
clock, g = floor((now - epoch) / period): the timer polls, and the command
writes nothing unless g changed. At boot (ensure), an empty store gets a local
ring of random keys at generation g, so the server starts at once.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import subprocess
import sys
import time

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fleet
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _fs
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _metrics
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _servers
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _reload
from ansible_collections.hardened_tls.resumption.plugins.module_utils import _ring


def run(args):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    return p.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def load_config(path):
    with open(path, 'r') as f:
        return json.load(f)


def key_owner(cfg):
    """(uid, gid) of the key files: root's, or for a server that reads its key file as a
    group (lighttpd) that group, looked up by name on every run."""
    return _fs.resolve_ids(None, cfg.get('group'))


def act_fleet(cfg, action, runner=run, now=None):
    store = cfg['store']
    spec = _fleet.Spec.from_config(cfg)
    if action == 'status':
        st = _fleet.status(store, spec, now)
        ring = st.pop('ring')
        return {'ring': ring, 'fleet': st}
    uid, gid = key_owner(cfg)
    _fs.require_store(store, uid, gid=gid)
    with _ring.StoreLock(store):
        done, before, ring = _fleet.tick(store, spec, now, uid=uid, gid=gid)
    how = 'none'
    # ensure runs in the boot unit, ordered before the server: asking the server to
    # reload from there would wait for the boot unit itself. The server reads the
    # ring when it starts; a role that installs the unit reloads the server itself.
    if done != 'none' and action == 'rotate':
        how = pick_up(runner, cfg, before, ring, now)
    return {'action': done, 'generation': ring.generation, 'current_key_name': ring.current.key.name_hex, 'pick_up': how,
            'origin': 'fleet' if ring.fleet else 'local'}


STATE_DIR = '/run/hardened-tls-resumption'


def _state_path(cfg, state_dir):
    return os.path.join(state_dir or STATE_DIR, '%s.json' % cfg['name'])


def load_server_state(cfg, state_dir=None):
    """What the rotation knows of the server ({} before the first run): the generation and time
    of its last pick-up (and of a keys=server ring's last reload), the last failure."""
    try:
        data = _fs.read_nofollow(_state_path(cfg, state_dir))
    except (OSError, IOError):
        return {}
    try:
        state = json.loads(data.decode('utf-8'))
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def save_server_state(cfg, state, state_dir=None):
    state_dir = state_dir or STATE_DIR
    try:
        os.mkdir(state_dir, 0o700)
    except OSError:
        pass
    st = os.lstat(state_dir)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o022:
        raise ResumptionError('%s must be a directory owned by this user that nobody else can write' % state_dir)
    _fs.secure_write(_state_path(cfg, state_dir), (json.dumps(state, sort_keys=True) + '\n').encode('utf-8'), mode=0o600)


def _now(now):
    return int(now if now is not None else time.time())


def pick_up(runner, cfg, before, ring, now=None, state_dir=None):
    """Make the server use the ring and remember when it did. A failed pick-up is remembered
    too and raised with how old the keys the server still holds are: the unit fails (visible
    in systemctl --failed, where OnFailure= can act on it)."""
    try:
        how = _reload.pick_up(runner, cfg, before, ring)
    except ResumptionError as e:
        state = load_server_state(cfg, state_dir)
        state.update({'last_failure_at': _now(now), 'last_failure': str(e)[:500]})
        save_server_state(cfg, state, state_dir)
        held = ''
        if 'picked_up_at' in state:
            held = ('; the server still holds the keys of generation %d, picked up %d s ago (the ring is at generation %d)'
                    % (state['picked_up_generation'], _now(now) - int(state['picked_up_at']), ring.generation))
        raise ResumptionError('%s%s' % (e, held))
    if not how.startswith('skipped'):
        state = load_server_state(cfg, state_dir)
        state.update({'picked_up_generation': ring.generation, 'picked_up_at': _now(now), 'pick_up': how})
        save_server_state(cfg, state, state_dir)
    return how


def server_summary(state, ring, now=None):
    """What the server holds, as far as the rotation knows (status)."""
    if 'picked_up_at' not in state:
        return {'picked_up_generation': None, 'picked_up_at': None, 'generations_behind': None, 'keys_held_for_seconds': None,
                'last_failure_at': state.get('last_failure_at'), 'last_failure': state.get('last_failure')}
    return {'picked_up_generation': state['picked_up_generation'], 'picked_up_at': state['picked_up_at'],
            'generations_behind': ring.generation - int(state['picked_up_generation']),
            'keys_held_for_seconds': _now(now) - int(state['picked_up_at']),
            'last_failure_at': state.get('last_failure_at'), 'last_failure': state.get('last_failure')}


def server_ring_summary(cfg, state):
    return {'name': cfg['name'], 'keys': 'server', 'server': cfg['server'], 'store': None, 'size': 1,
            'generation': int(state.get('generation', 0)), 'rotated_at': state.get('rotated_at'),
            'current_key_name': None, 'members': []}


def act_server_keys(cfg, action, runner=run, now=None, state_dir=None):
    """A ring with no keys: the server makes its own at each reload."""
    state = load_server_state(cfg, state_dir)
    if action == 'status':
        return {'ring': server_ring_summary(cfg, state)}
    how = 'none'
    done = 'none'
    if action == 'rotate':
        how = _reload.pick_up(runner, cfg, None, None)
        if not how.startswith('skipped'):
            done = 'rotated'
            state.update({'generation': int(state.get('generation', 0)) + 1, 'rotated_at': _now(now)})
            save_server_state(cfg, state, state_dir)
    return {'action': done, 'generation': int(state.get('generation', 0)), 'current_key_name': None, 'pick_up': how,
            'keys': 'server'}


def act(cfg, action, runner=run, now=None):
    if action in ('server-start', 'server-started', 'server-reloaded'):
        if cfg.get('keys') == 'server' or _servers.get(cfg['server']).start_render is None:
            return {'action': 'none', 'start_files': []}
        return act_start(cfg, action, now)
    if cfg.get('keys') == 'server':
        return act_server_keys(cfg, action, runner, now)
    if cfg.get('fleet'):
        return act_fleet(cfg, action, runner, now)
    store = cfg['store']
    if action == 'status':
        ring = _ring.load(store)
        if ring is None:
            return {'ring': None}
        return {'ring': ring.summary(store), 'server': server_summary(load_server_state(cfg), ring, now)}
    state = 'rotated' if action == 'rotate' else 'present'
    uid, gid = key_owner(cfg)
    _fs.require_store(store, uid, gid=gid)
    with _ring.StoreLock(store):
        before = _ring.load_or_none(store)[0]
        done, ring = _ring.ensure(store, cfg['server'], cfg['key_size'], cfg['size'], state=state, now=now,
                                  uid=uid, gid=gid, period=cfg.get('period'))
    how = 'none'
    if done != 'none':
        how = pick_up(runner, cfg, before, ring, now)
    return {'action': done, 'generation': ring.generation, 'current_key_name': ring.current.key.name_hex, 'pick_up': how}


ACTIONS = ('rotate', 'ensure', 'status', 'server-start', 'server-started', 'server-reloaded')
# After a reload (lighttpd: SIGUSR1, a graceful restart that reads the file again when it
# is done): seconds before the hand-over. A file written in the same second as a load is
# never loaded again, so the hand-over comes at least a second after it.
HANDOVER_DELAY = 3
# After a start: the server reads its start files once, as root, at some time after the
# fork (Type=simple units), seconds later on a loaded machine or at boot. The hand-over waits
# until every start file was read (its access time passed its modification time), at most
# START_READ_WAIT seconds, then until the second after the read's second is over.
START_READ_WAIT = 60
START_READ_POLL = 0.05


def start_files_read(paths, stat_fn=os.stat):
    """The latest access time (ns) of the files if each was read since it was written, else None.
    Only stat(): reading them here would count as the server's read."""
    latest = 0
    for path in paths:
        st = stat_fn(path)
        if st.st_atime_ns <= st.st_mtime_ns:
            return None
        latest = max(latest, st.st_atime_ns)
    return latest


def wait_start_read(paths, clock=time.time, sleep=time.sleep, stat_fn=os.stat, wait=START_READ_WAIT):
    """Wait until the server read its start files (see START_READ_WAIT). Returns the seconds
    it took the server to read them, or None when the wait ended without a read (the files
    gone, or never read: the hand-over comes anyway, as it did after a fixed delay)."""
    began = clock()
    while True:
        try:
            read_ns = start_files_read(paths, stat_fn)
        except OSError:
            return None
        if read_ns is not None:
            break
        if clock() - began >= wait:
            return None
        sleep(START_READ_POLL)
    # lighttpd loads a file again only when its mtime (whole seconds) is newer than its
    # last load: hand over in a later second than the read's, with one to spare.
    until = read_ns // 10 ** 9 + 2
    while clock() < until:
        sleep(until - clock())
    return max(0.0, read_ns / 1e9 - began)


def act_start(cfg, action, now=None, sleep=time.sleep, clock=time.time, stat_fn=os.stat):
    """server-start: bring the ring to date and show the server its start files.
    server-started: once the server read them (wait_start_read), put the usual files back (the next key).
    server-reloaded: after HANDOVER_DELAY, the same."""
    store = cfg['store']
    waited = None
    if action == 'server-reloaded':
        sleep(HANDOVER_DELAY)
    elif action == 'server-started':
        ring = _ring.load_or_none(store)[0]
        if ring is not None:
            names = sorted(_servers.get(cfg['server']).start_render(ring))
            waited = wait_start_read([os.path.join(store, _ring.ACTIVE, n) for n in names], clock, sleep, stat_fn)
    uid, gid = key_owner(cfg)
    _fs.require_store(store, uid, gid=gid)
    with _ring.StoreLock(store):
        if cfg.get('fleet'):
            done, before, ring = _fleet.tick(store, _fleet.Spec.from_config(cfg), now, uid=uid, gid=gid)
        else:
            done, ring = _ring.ensure(store, cfg['server'], cfg['key_size'], cfg['size'], state='present', now=now,
                                      uid=uid, gid=gid, period=cfg.get('period'))
        shown = _ring.show_start_files(store, ring, uid, gid) if action == 'server-start' else []
    result = {'action': done, 'generation': ring.generation, 'current_key_name': ring.current.key.name_hex,
              'start_files': shown}
    if action == 'server-started':
        result['start_read_after'] = None if waited is None else round(waited, 3)
    return result


def main(argv=None, out=sys.stdout, runner=run):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 3 or argv[0] != '--config' or argv[2] not in ACTIONS:
        sys.stderr.write('usage: hardened-tls-ring --config FILE %s\n' % '|'.join(ACTIONS))
        return 2
    try:
        cfg = load_config(argv[1])
    except (OSError, IOError, ValueError) as e:
        sys.stderr.write('hardened-tls-ring: %s\n' % (e,))
        return 1
    try:
        result = act(cfg, argv[2], runner=runner)
    except (ResumptionError, OSError, IOError, ValueError, KeyError) as e:
        sys.stderr.write('hardened-tls-ring: %s\n' % (e,))
        report_metrics(cfg, argv[2], failed=True)
        return 1
    report_metrics(cfg, argv[2], result)
    out.write(json.dumps(result, sort_keys=True) + '\n')
    return 0


MOVED = ('rotated', 'clock-behind')


def report_metrics(cfg, action, result=None, failed=False, now=None, state_dir=None, mountinfo=None):
    """Count the run in the ring's state and rewrite its textfile for node_exporter
    (docs/metrics.md). Never fails the run: a problem is said on stderr."""
    if action == 'status':
        return None
    try:
        now_s = _now(now)
        state = load_server_state(cfg, state_dir)
        state['last_run_at'] = now_s
        if failed:
            state['failures'] = int(state.get('failures', 0)) + 1
        elif result and result.get('action') in MOVED:
            state['rotations'] = int(state.get('rotations', 0)) + 1
        save_server_state(cfg, state, state_dir)
        directory = cfg.get('metrics_dir', _metrics.DEFAULT_DIR)
        if not directory or not os.path.isdir(directory):
            return None
        period = int(cfg.get('period') or 0)
        if cfg.get('keys') == 'server':
            values, key_name = _metrics.server_key_values(state, period, now_s), None
        else:
            store = cfg['store']
            ring = _ring.load_or_none(store)[0]
            mount = _fs.mount_at(store, _fs.read_mountinfo(mountinfo) if mountinfo else _fs.read_mountinfo())
            swappable = _fs.swappable(mount) if mount is not None and _fs.is_memory_mount(mount) else None
            wall = _fleet.Spec.from_config(cfg).generation(now_s) if cfg.get('fleet') else None
            values = _metrics.ring_values(ring, state, period, now_s, swappable, wall)
            key_name = ring.current.key.name_hex if ring is not None else None
        path = os.path.join(directory, _metrics.file_name(cfg['name']))
        _fs.secure_write(path, _metrics.render(values, cfg['name'], cfg['server'], key_name), mode=0o644)
        return path
    except (ResumptionError, OSError, IOError, ValueError, KeyError) as e:
        sys.stderr.write('hardened-tls-ring: metrics not written: %s\n' % (e,))
        return None
