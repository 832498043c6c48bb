# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: figures side by side in one run (--parts picks some of them).

cross     1. cross-node resumption through a round-robin TCP balancer over 3 nginx
             nodes: shared ring (fleet mode) vs per-node rings vs tickets off with
             a per-node cache
rotation  2. resumption of tickets younger than one period across a rotation: this
             collection (nginx, HAProxy, Apache) vs one key file replaced and reloaded
rate      3. handshakes per second, full vs resumed, hardened vs Debian's stock nginx
fleet     4. the fleet-size curve (--fleet-sizes, default 1,6,12,24 nginx nodes in
             fleet mode; "ansible", its old name, still selects it). For each size,
             in turn: first converge of playbooks/site.yml, idempotent rerun, reseed
             (playbooks/rotate.yml), each with its wall seconds, the controller's CPU
             seconds (ansible-playbook and everything it reaped, from wait4), the
             nodes' own CPU seconds (their cgroups), the docker daemon's and the rest
             of the machine's, all also per node, and the forks (min(nodes, 12) unless
             --fleet-forks); the nodes' CPU while idle for min(30 s, one period)
             (nginx and the fleet timers, which poll every period // 10 s); then
             bench/serve.yml (site, one certificate, balancer; not counted),
             cross-node resumption through a round-robin balancer over all nodes
             (TLS 1.2 ticket, TLS 1.3 PSK, at least 2 attempts per node), memory
             per node (cgroup, median and max), and three period boundaries
             with no Ansible run: after each, how many nodes served the key the
             fleet's rings agree on (read from the tickets they issue; names are
             compared, never printed). Ratios of the cost per node, largest size vs
             smallest.
sim       5. the fleet simulator, scripts/fleet_sim.py (bench_rows, format_table,
             plot_in_step): its table, its rows in the JSON, its panel in fleet.png;
             n/a while that file is missing.

Parts 1 to 3: six containers (bench-*, the demo image: servers baked in, no apt)
on the docker network hardened-tls: three nginx nodes, bench-lb (TCP balancer;
also Debian's stock nginx, later the naive single-key setup), bench-apache (also
runs the client, scripts/bench_client.py), bench-haproxy. The nodes are
reconfigured between the variants of part 1 (per-node rings, then tickets off,
then a shared ring); they are removed before part 4. Part 4 starts, per size,
bench-fleet-01.. and bench-fleet-lb (balancer and client), each limited by
--fleet-memory, --fleet-cpus and --fleet-cpu-shares (recorded), and removes them
before the next size; a size whose containers' memory limits exceed 90 % of the
memory available is skipped and reported. Every loop is bounded in count and
time (playbooks: 300 s + 30 s per node; the unattended part: one period per
boundary); everything started is removed at the end, also on failure.
Writes bench/results/bench.json, bench/results/table.txt, the playbooks' logs,
bench/results/rotation.png (part 2) and bench/results/fleet.png (part 4: cost
per node against fleet size; part 5: the simulator's share of nodes in step).
"""

from __future__ import absolute_import, division, print_function

import argparse
import concurrent.futures
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, 'bench', 'results')
NETWORK = os.environ.get('HARDENED_TLS_NETWORK', 'hardened-tls')
IMAGE = os.environ.get('BENCH_IMAGE', 'hardened-tls/demo:trixie')
PREFIX = 'bench-'
NA = 'n/a (not built yet)'
START = time.time()


def log(msg):
    print('[bench %4ds] %s' % (time.time() - START, msg), flush=True)


def run(args, check=True, capture=True, timeout=1800, env=None):
    p = subprocess.run(args, stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None,
                       timeout=timeout, env=env, universal_newlines=True, check=False)
    if check and p.returncode != 0:
        raise RuntimeError('%s failed (rc %d):\n%s' % (' '.join(args[:4]), p.returncode, (p.stdout or '')[-3000:]))
    return p


def site_has(group):
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as f:
        return re.search(r'^\s*hosts:\s*([^\s]*[:,])?%s([:,]|\s*$)' % re.escape(group), f.read(), re.M) is not None


def role_exists(name):
    return os.path.isfile(os.path.join(ROOT, 'roles', name, 'tasks', 'main.yml'))


# ----------------------------------------------------------------- containers

def start(names, limits=None):
    """Starts systemd containers of the demo image; `limits` are more `docker run`
    options (memory, CPU). Returns the names that did not finish booting in time
    (one deadline for all of them: they boot at the same time)."""
    for n in names:
        run(['docker', 'rm', '-f', n], check=False)
        run(['docker', 'run', '-d', '--name', n, '--hostname', n, '--network', NETWORK,
             '--label', 'org.hardened-tls.bench=1'] + list(limits or []) +
            ['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--cgroupns', 'host',
             '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/run/lock',
             IMAGE, '/sbin/init'])
    deadline = time.time() + 60 + 3 * len(names)
    late = []
    for n in names:
        while True:
            out = run(['docker', 'exec', n, 'systemctl', 'is-system-running'], check=False, timeout=60).stdout.strip()
            if out in ('running', 'degraded'):
                break
            if time.time() > deadline:
                late.append(n)
                break
            time.sleep(1)
    return late


def pmap(fn, items, workers=8):
    """fn over items in a few threads (docker exec is mostly waiting); results in order."""
    items = list(items)
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(items))) as ex:
        return list(ex.map(fn, items))


def remove_all():
    ids = run(['docker', 'ps', '-aq', '--filter', 'label=org.hardened-tls.bench=1']).stdout.split()
    if ids:
        run(['docker', 'rm', '-f'] + ids)


def client(*args, timeout=600, container=None):
    out = run(['docker', 'exec', container or CLIENT, 'python3', '/usr/local/bin/bench_client.py'] + [str(a) for a in args],
              timeout=timeout).stdout
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------- ansible

def ansible_env(forks=20, profile=False):
    env = dict(os.environ)
    env.update({'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.build'), 'ANSIBLE_PIPELINING': 'True',
                'ANSIBLE_FORKS': str(forks), 'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'yaml'})
    if profile:
        # Per-task times (a summary at the end of the log): what a larger fleet costs more of.
        env.update({'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks', 'PROFILE_TASKS_TASK_OUTPUT_LIMIT': '8'})
    return env


def write_inventory(path, groups, hostvars=None, extra=None):
    inv = {'all': {'vars': {'ansible_connection': 'community.docker.docker', 'ansible_pipelining': True,
                            'ansible_python_interpreter': '/usr/bin/python3'},
                   'children': {}}}
    inv['all']['vars'].update(extra or {})
    for g, hosts in groups.items():
        inv['all']['children'][g] = {'hosts': dict((h, (hostvars or {}).get(h) or {}) for h in hosts)}
    with open(path, 'w') as f:
        json.dump(inv, f, indent=1)   # JSON is YAML
    return path


def slowest_tasks(out, count=3):
    """The profile_tasks summary (task name ----- 12.34s), slowest first."""
    tasks = re.findall(r'^(\S.*?) -{2,} (\d+\.\d+)s\s*$', out, re.M)
    return [[name.strip(), float(sec)] for name, sec in tasks][:count]


def playbook(inventory, book, forks=20, extra=None, timeout=900, profile=False):
    """Runs one playbook; its output goes to a log under bench/results as it runs.
    Also returns the controller's CPU seconds (user + system of ansible-playbook
    and every process it reaped: its forks and their `docker exec` clients, from
    wait4) and its largest resident set."""
    args = ['ansible-playbook', '-i', inventory, book]
    for k, v in (extra or {}).items():
        args += ['-e', '%s=%s' % (k, v)]
    t0 = time.time()
    logname = '%s-%d.log' % (os.path.splitext(os.path.basename(book))[0], int(t0 * 1000) % 10 ** 10)
    path = os.path.join(RESULTS, logname)
    log('  ansible-playbook %s (forks %d; follow bench/results/%s)' % (os.path.relpath(book, ROOT), forks, logname))
    with open(path, 'w') as f:
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, env=ansible_env(forks, profile),
                             start_new_session=True)

        def kill():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            dummy, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            kill()          # stopped (signal, Ctrl-C): no orphaned forks left behind
            raise
        finally:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.time() - t0
    with open(path) as f:
        out = f.read()
    rc = p.returncode
    recap = re.findall(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', out, re.M)
    changed = sum(int(r[2]) for r in recap)
    failed = sum(int(r[3]) + int(r[4]) for r in recap)
    if rc != 0:
        log('%s failed (rc %d%s; full output: bench/results/%s): %s'
            % (book, rc, ', timed out' if elapsed >= timeout else '', logname, out[-2000:]))
    res = {'seconds': round(elapsed, 1), 'changed': changed, 'failed': failed, 'rc': rc,
           'cpu_seconds': round(usage.ru_utime + usage.ru_stime, 1), 'maxrss_mib': round(usage.ru_maxrss / 1024.0, 1),
           'failed_hosts': sorted(r[0] for r in recap if int(r[3]) + int(r[4])), 'log': logname}
    if profile:
        res['slowest_tasks'] = slowest_tasks(out)
    return res


# ----------------------------------------------------------------- parts

NODES = [PREFIX + 'node%d' % i for i in (1, 2, 3)]
LB = PREFIX + 'lb'
APACHE = PREFIX + 'apache'
HAPROXY = PREFIX + 'haproxy'
CLIENT = APACHE
LB_PORT = 4431
SITE = 'www.bench.test'


def node_inventory(name, period, mode):
    """The three nodes alone, in the group (and mode) of one variant of part 1."""
    groups = {'tls_nginx': [], 'tls_fleet_nginx': []}
    groups['tls_fleet_nginx' if mode == 'fleet' else 'tls_nginx'] = NODES
    hostvars = dict((h, {'nginx_resumption_mode': 'cache_only' if mode == 'cache_only' else 'rotated'}) for h in NODES)
    extra = {'nginx_resumption_period': period, 'nginx_resumption_install': False,
             'key_ring_fleet_reseed_margin': max(period * 2, 30)}
    return write_inventory(os.path.join(RESULTS, 'inventory-%s.json' % name), groups, hostvars, extra)


def setup_site(period):
    groups = {'tls_nginx': list(NODES), 'tls_fleet_nginx': [], 'tls_apache': [], 'tls_haproxy': [],
              'bench_servers': NODES + [LB], 'bench_lb': [LB], 'bench_all': NODES + [LB]}
    services = dict((h, ['nginx']) for h in NODES)
    services[LB] = ['haproxy', 'nginx']
    if site_has('tls_apache') and role_exists('apache'):
        groups['tls_apache'] = [APACHE]
        services[APACHE] = ['apache2']
    if site_has('tls_haproxy') and role_exists('haproxy'):
        groups['tls_haproxy'] = [HAPROXY]
        services[HAPROXY] = ['haproxy']
    groups['bench_servers'] += groups['tls_apache'] + groups['tls_haproxy']
    groups['bench_all'] += groups['tls_apache'] + groups['tls_haproxy']
    hostvars = {}
    for h in groups['bench_all']:
        server = 'apache' if h == APACHE else 'haproxy' if h == HAPROXY else 'nginx'
        hostvars[h] = {'tls_site_server': server, 'bench_services': services[h]}
    extra = {'nginx_resumption_period': period, 'apache_resumption_period': period, 'haproxy_resumption_period': period,
             'tls_site_name': SITE, 'bench_nodes': NODES, 'bench_lb_port': LB_PORT,
             'nginx_resumption_install': False, 'apache_resumption_install': False, 'haproxy_resumption_install': False}
    inv = write_inventory(os.path.join(RESULTS, 'inventory.json'), groups, hostvars, extra)
    names = groups['bench_all'] if APACHE in groups['bench_all'] else groups['bench_all'] + [APACHE]
    log('starting %d containers: %s' % (len(names), ' '.join(names)))
    start(names)
    run(['docker', 'cp', os.path.join(ROOT, 'scripts', 'bench_client.py'), CLIENT + ':/usr/local/bin/bench_client.py'])
    log('converging them (bench/setup.yml imports playbooks/site.yml; nodes with per-node rings)')
    res = playbook(inv, os.path.join(ROOT, 'bench', 'setup.yml'))
    lost = res.pop('failed_hosts')
    if res['rc'] != 0 and (not lost or set(lost) - set([APACHE, HAPROXY])):
        raise RuntimeError('bench setup failed (hosts %s)' % ', '.join(lost or ['?']))
    for h in lost:
        # Part 2 goes on without a server whose role failed here; the table says so.
        log('setup failed on %s: part 2 goes on without it' % h)
        groups['failed'] = groups.get('failed', []) + [h]
        groups['tls_apache' if h == APACHE else 'tls_haproxy'] = []
    log('converged in %ss' % res['seconds'])
    return groups


def reconfigure(name, period, mode):
    log('reconfiguring the three nodes for %s (playbooks/site.yml)' % name)
    res = playbook(node_inventory(name, period, mode), os.path.join(ROOT, 'playbooks', 'site.yml'), forks=3)
    res.pop('failed_hosts')
    if res['rc'] != 0:
        raise RuntimeError('reconfiguring the nodes for %s failed' % name)
    log('reconfigured in %ss (changed=%d)' % (res['seconds'], res['changed']))
    return res


def part_cross(name, attempts):
    out = {}
    for v in ('TLSv1.2', 'TLSv1.3'):
        r = client('cross', LB, LB_PORT, v, attempts, timeout=120)
        out[v] = r
        log('cross-node %-8s %s: %d/%d resumed' % (name, v, r['resumed'], r['attempts']))
    return out


def naive_setup(period):
    """Debian's stock nginx on bench-lb gets one ticket key file (on its /run
    tmpfs, never leaving the container) that a script replaces and reloads."""
    conf = ('ssl_session_cache shared:naive:10m;\nssl_session_timeout %ds;\nssl_session_tickets on;\n'
            'ssl_session_ticket_key /run/naive/ticket.key;\n' % period)
    run(['docker', 'exec', LB, 'sh', '-c',
         'install -d -m 0700 /run/naive && umask 077 && head -c 80 /dev/urandom > /run/naive/ticket.key && '
         'printf "%s" "$0" > /etc/nginx/conf.d/naive-ticket.conf && nginx -t -q && nginx -s reload', conf])
    time.sleep(1)


def ring_generation(host, ring):
    p = run(['docker', 'exec', host, '/usr/local/lib/hardened-tls-resumption/hardened-tls-ring', '--config',
             '/etc/hardened-tls-resumption/rings/%s.json' % ring, 'status'], check=False)
    try:
        return json.loads(p.stdout)['ring']['generation']
    except (ValueError, KeyError, TypeError):
        return None


def part_rotation(groups, period, version='TLSv1.3'):
    """Runs all subjects at once for 2.5 periods; the naive key is replaced at 1.5 periods."""
    subjects = {'nginx (this collection)': (NODES[0], 443, 'nginx'),
                'one key file replaced + reload': (LB, 443, None)}
    subjects['HAProxy (this collection)'] = (groups['tls_haproxy'][0], 443, 'haproxy') if groups['tls_haproxy'] else None
    subjects['Apache (this collection)'] = (groups['tls_apache'][0], 443, 'apache') if groups['tls_apache'] else None
    unavailable = dict((n, 'setup failed (see bench/results/setup-*.log)') for n, h in
                       (('HAProxy (this collection)', HAPROXY), ('Apache (this collection)', APACHE))
                       if h in groups.get('failed', []))
    duration = period * 2.5
    results, events = {}, {}
    threads = []

    def go(name, host, port):
        results[name] = client('rotation', host, port, version, duration, period, 1.0, timeout=duration + 120)

    t_start = time.time()
    for name, s in subjects.items():
        if s is None:
            results[name] = unavailable.get(name, NA)
            continue
        th = threading.Thread(target=go, args=(name, s[0], s[1]))
        th.start()
        threads.append(th)
        events[name] = []
    last = dict((n, ring_generation(s[0], s[2])) for n, s in subjects.items() if s and s[2])
    naive_done = False
    deadline = t_start + duration + 180
    while any(t.is_alive() for t in threads) and time.time() < deadline:
        now = time.time() - t_start
        if not naive_done and now >= period * 1.5:
            run(['docker', 'exec', LB, 'sh', '-c',
                 'umask 077 && head -c 80 /dev/urandom > /run/naive/ticket.key.new && '
                 'mv /run/naive/ticket.key.new /run/naive/ticket.key && nginx -s reload'])
            events['one key file replaced + reload'].append(round(now, 1))
            naive_done = True
        for n, s in subjects.items():
            if s and s[2]:
                g = ring_generation(s[0], s[2])
                if g is not None and last.get(n) is not None and g != last[n]:
                    events[n].append(round(now, 1))
                last[n] = g
        time.sleep(0.5)
    for th in threads:
        th.join(timeout=max(1.0, deadline - time.time()))
    out = {}
    for name in subjects:
        r = results.get(name)
        if r is None:
            out[name] = 'client failed'
            continue
        if not isinstance(r, dict):
            out[name] = r
            continue
        # Count only after the pool holds sessions of every age (after one period).
        steady = [x for x in r['timeline'] if x[0] >= period]
        offered = sum(x[1] for x in steady)
        resumed = sum(x[2] for x in steady)
        out[name] = {'version': version, 'offered': offered, 'resumed': resumed, 'failures': offered - resumed,
                     'rotations_at': events.get(name, []), 'timeline': r['timeline']}
        log('rotation %-32s %d failures of %d offered (rotations at %s s)'
            % (name, offered - resumed, offered, events.get(name)))
    return out


def part_rate(seconds, rounds):
    """Handshake rates, one client, sequential. Single 5-second runs on two shared
    cores swing by tens of percent, so every cell is measured `rounds` times,
    the two configurations alternating (their order swapped each round), and
    the median is reported with the runs kept in the JSON."""
    subjects = [('hardened (this collection)', NODES[0]), ('Debian stock nginx', LB)]
    runs = dict((name, {}) for name, host in subjects)
    for i in range(rounds):
        for v in ('TLSv1.2', 'TLSv1.3'):
            for mode in ('full', 'resumed'):
                for name, host in (subjects if i % 2 == 0 else subjects[::-1]):
                    r = client('rate', host, 443, v, mode, seconds, timeout=seconds + 60)
                    runs[name].setdefault('%s %s' % (v, mode), []).append(r)
                    log('rate round %d/%d %-28s %s %-7s %6.1f/s (%d resumed of %d)'
                        % (i + 1, rounds, name, v, mode, r['per_second'], r['resumed'], r['handshakes']))
    out = {}
    for name, cells in runs.items():
        out[name] = {}
        for cell, rs in cells.items():
            rates = sorted(r['per_second'] for r in rs)
            out[name][cell] = {'per_second': rates[len(rates) // 2], 'min': rates[0], 'max': rates[-1],
                               'runs': rs, 'resumed': sum(r['resumed'] for r in rs),
                               'handshakes': sum(r['handshakes'] for r in rs)}
    return out


# ----------------------------------------------------------------- fleet-size curve

FLEET_LB = PREFIX + 'fleet-lb'
RING = 'nginx'   # nginx_resumption_ring_name: /etc/hardened-tls-resumption/rings/nginx.json
RING_CMD = ['/usr/local/lib/hardened-tls-resumption/hardened-tls-ring', '--config',
            '/etc/hardened-tls-resumption/rings/%s.json' % RING]


def fleet_names(count):
    return [PREFIX + 'fleet-%02d' % i for i in range(1, count + 1)]


def fleet_poll(period):
    """How often a fleet ring's timer polls: the collection's own _timer.fleet_poll
    (found through .build, the Makefile's symlink tree)."""
    build = os.path.join(ROOT, '.build')
    if build not in sys.path:
        sys.path.insert(0, build)
    from ansible_collections.hardened_tls.resumption.plugins.module_utils._timer import fleet_poll as poll  # pylint: disable=import-outside-toplevel
    return poll(period)


def mem_available():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) * 1024
    return None


def host_cpu():
    """(busy, total) jiffies of all CPUs of this machine (/proc/stat)."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def docker_daemon_cpu():
    """CPU seconds used so far by dockerd, containerd and the containers' shims:
    every task on every node is one `docker exec` through them."""
    total = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index('(') + 1:st.rindex(')')]
        if comm in ('dockerd', 'containerd') or comm.startswith('containerd-shim'):
            fields = st[st.rindex(')') + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / float(os.sysconf('SC_CLK_TCK'))


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def cgroup_figures(names):
    """Per container, read from the host's cgroups (v1 or v2; cgroupfs or systemd
    driver): memory in use without the inactive file cache (bytes; what docker
    stats shows), anonymous memory alone, OOM kills, CPU seconds so far."""
    ids = run(['docker', 'inspect', '-f', '{{.Name}} {{.Id}}'] + list(names), check=False).stdout.split('\n')
    out = {}
    for line in ids:
        if ' ' not in line:
            continue
        name, cid = line.strip().lstrip('/').split(' ', 1)
        fig = {}
        for mem in ('/sys/fs/cgroup/memory/docker/%s' % cid, '/sys/fs/cgroup/memory/system.slice/docker-%s.scope' % cid):
            usage = _read(mem + '/memory.usage_in_bytes')
            if usage is not None:
                stat = dict(l.split() for l in (_read(mem + '/memory.stat') or '').splitlines() if ' ' in l)
                oom = dict(l.split() for l in (_read(mem + '/memory.oom_control') or '').splitlines() if ' ' in l)
                fig.update({'mem': int(usage) - int(stat.get('total_inactive_file', 0)),
                            'anon': int(stat.get('total_rss', 0)) + int(stat.get('total_shmem', 0)),
                            'oom_kills': int(oom.get('oom_kill', 0))})
                break
        for cpu in ('/sys/fs/cgroup/cpuacct/docker/%s' % cid, '/sys/fs/cgroup/cpu,cpuacct/docker/%s' % cid,
                    '/sys/fs/cgroup/cpuacct/system.slice/docker-%s.scope' % cid):
            ns = _read(cpu + '/cpuacct.usage')
            if ns is not None:
                fig['cpu'] = int(ns) / 1e9
                break
        for v2 in ('/sys/fs/cgroup/system.slice/docker-%s.scope' % cid, '/sys/fs/cgroup/docker/%s' % cid):
            current = _read(v2 + '/memory.current')
            if current is None:
                continue
            stat = dict(l.split() for l in (_read(v2 + '/memory.stat') or '').splitlines() if ' ' in l)
            events = dict(l.split() for l in (_read(v2 + '/memory.events') or '').splitlines() if ' ' in l)
            fig.update({'mem': int(current) - int(stat.get('inactive_file', 0)),
                        'anon': int(stat.get('anon', 0)) + int(stat.get('shmem', 0)),
                        'oom_kills': int(events.get('oom_kill', 0))})
            cpu = dict(l.split() for l in (_read(v2 + '/cpu.stat') or '').splitlines() if ' ' in l)
            if 'usage_usec' in cpu:
                fig['cpu'] = int(cpu['usage_usec']) / 1e6
            break
        out[name] = fig
    missing = [n for n in names if 'mem' not in out.get(n, {})]
    if missing:
        # No cgroup file found: docker stats knows the memory (not the CPU seconds).
        st = run(['docker', 'stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}'] + missing, check=False).stdout
        units = {'B': 1, 'KiB': 1024, 'MiB': 1024 ** 2, 'GiB': 1024 ** 3}
        for m in re.finditer(r'^(\S+) ([\d.]+)(B|KiB|MiB|GiB) /', st, re.M):
            out.setdefault(m.group(1), {})['mem'] = int(float(m.group(2)) * units[m.group(3)])
    return out


def memory_summary(hosts):
    figs = cgroup_figures(hosts)
    return {'in_use': spread([mib(figs[h]['mem']) for h in hosts if 'mem' in figs.get(h, {})]),
            'anon': spread([mib(figs[h]['anon']) for h in hosts if 'anon' in figs.get(h, {})]),
            'oom_kills': sum(figs.get(h, {}).get('oom_kills', 0) for h in hosts)}


def mib(n):
    return round(n / 1048576.0, 1)


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'median': round(statistics.median(values), 1), 'max': round(max(values), 1), 'min': round(min(values), 1)}


def measured(step, inv, book, hosts, forks, timeout):
    """One playbook run, with what it cost: controller CPU (wait4), the nodes' own
    CPU (their cgroups), the docker daemon's CPU and how busy the machine was."""
    before = (cgroup_figures(hosts), docker_daemon_cpu(), host_cpu())
    r = playbook(inv, book, forks=forks, timeout=timeout, profile=True)
    after = (cgroup_figures(hosts), docker_daemon_cpu(), host_cpu())
    n = len(hosts)
    nodes_cpu = sum(after[0].get(h, {}).get('cpu', 0) - before[0].get(h, {}).get('cpu', 0) for h in hosts)
    busy, total = after[2][0] - before[2][0], after[2][1] - before[2][1]
    busy_s = busy / float(os.sysconf('SC_CLK_TCK'))
    docker_cpu = after[1] - before[1]
    r.update({'seconds_per_node': round(r['seconds'] / n, 2), 'cpu_seconds_per_node': round(r['cpu_seconds'] / n, 2),
              'nodes_cpu_seconds': round(nodes_cpu, 1), 'docker_cpu_seconds': round(docker_cpu, 1),
              'host_busy_percent': round(100.0 * busy / total, 1) if total else None,
              'machine_cpu_seconds': round(busy_s, 1),
              # What else ran meanwhile (other containers, other users of this machine).
              'other_cpu_seconds': round(max(0.0, busy_s - r['cpu_seconds'] - nodes_cpu - docker_cpu), 1),
              'loadavg_1min_after': round(os.getloadavg()[0], 2)})
    failed = ', FAILED on %s' % ', '.join(r['failed_hosts'] or ['?']) if r['rc'] else ''
    log('  %s: %.1fs wall, controller CPU %.1fs, nodes CPU %.1fs, docker CPU %.1fs, machine %s%% busy, other work %.1f CPU s'
        ' (changed=%d%s)' % (step, r['seconds'], r['cpu_seconds'], r['nodes_cpu_seconds'], r['docker_cpu_seconds'],
                             r['host_busy_percent'], r['other_cpu_seconds'], r['changed'], failed))
    return r


def served_key_names(hosts):
    """The name of the ticket key each node encrypts with now, read from a TLS 1.2
    ticket it issues (the first 16 bytes of an nginx ticket are the key's name;
    names are public, every ticket carries one). Only compared, never printed."""
    script = ('for h in "$@"; do n=$(timeout 4 openssl s_client -connect "$h:443" -servername %s -tls1_2 '
              '-sess_out /dev/null </dev/null 2>/dev/null | grep -A1 "TLS session ticket:" | tail -n1); '
              'echo "$h ${n:-none}"; done' % SITE)
    out = run(['docker', 'exec', FLEET_LB, 'sh', '-c', script, 'sh'] + list(hosts), check=False,
              timeout=30 + 5 * len(hosts)).stdout
    names = {}
    for line in out.splitlines():
        h, rest = (line.split(' ', 1) + [''])[:2]
        m = re.match(r'\s*0000 - ((?:[0-9a-f]{2}[ -]){15}[0-9a-f]{2})', rest)
        names[h] = re.sub(r'[ -]', '', m.group(1)) if m else None
    return dict((h, names.get(h)) for h in hosts)


def ring_status(host):
    """The node's fleet ring as its own rotation command reports it (names and
    generations, no key), and the generation nginx last picked up."""
    p = run(['docker', 'exec', host, 'sh', '-c', '"$@" status; echo; cat /run/hardened-tls-resumption/%s.json 2>/dev/null'
             % RING, 'sh'] + RING_CMD, check=False, timeout=60)
    docs = []
    for line in p.stdout.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            pass
    st = docs[0] if docs and isinstance(docs[0], dict) else {}
    ring, fleet = st.get('ring') or {}, st.get('fleet') or {}
    picked = docs[1].get('picked_up_generation') if len(docs) > 1 and isinstance(docs[1], dict) else None
    return {'generation': ring.get('generation'), 'name': ring.get('current_key_name'), 'origin': fleet.get('origin'),
            'wall_generation': fleet.get('wall_generation'), 'next_boundary': fleet.get('next_boundary'),
            'picked_up_generation': picked}


def mode(values):
    values = [v for v in values if v]
    return max(sorted(set(values)), key=values.count) if values else None


def unattended(hosts, period, boundaries=3):
    """No Ansible run: after each of the next `boundaries` period boundaries, until
    0.8 period after it (bounded, before the next one), reads each node's ring (its
    own rotation command: names and generations, no key) until it is at the
    wall-clock generation, and the name of the key its tickets carry, until it is
    the key the nodes' rings agree on for that generation. Counts the nodes that
    served it and by when (the probe round that saw it: an upper bound, a round
    probes every node still pending). Key names are compared here and reduced to
    counts; none is printed or stored."""
    first = ring_status(hosts[0])
    if not first.get('next_boundary') or first.get('wall_generation') is None:
        return {'error': 'no fleet status on %s' % hosts[0]}
    out = []
    previous = None
    for k in range(boundaries):
        b = first['next_boundary'] + k * period
        gen = first['wall_generation'] + 1 + k
        if b - time.time() > period + 10:        # bounded: never more than a period per boundary
            return {'error': 'next boundary %ds away (clock?)' % (b - time.time()), 'boundaries': out}
        time.sleep(max(0.0, b + fleet_poll(period) + 1 - time.time()))
        deadline = b + 0.8 * period
        rings, ok_after, probes = {}, {}, 0
        common = None
        while True:
            behind = [h for h in hosts if (rings.get(h) or {}).get('generation') != gen]
            rings.update(zip(behind, pmap(ring_status, behind)))
            at_gen = [h for h in hosts if rings[h].get('generation') == gen]
            common = mode(rings[h].get('name') for h in at_gen)
            todo = [h for h in at_gen if h not in ok_after]
            if todo and common:
                served = served_key_names(todo)
                probes += 1
                for h in todo:
                    if served[h] == common and rings[h].get('name') == common:
                        ok_after[h] = round(time.time() - b, 1)
            if len(ok_after) == len(hosts) or time.time() > deadline:
                break
            time.sleep(1)
        at_gen = [h for h in hosts if rings[h].get('generation') == gen]
        lat = sorted(ok_after.values())
        row = {'boundary': k + 1, 'generation': gen, 'nodes': len(hosts), 'served_common_key': len(ok_after),
               'ring_at_generation': len(at_gen), 'ring_common_key': sum(1 for h in at_gen if rings[h].get('name') == common),
               'distinct_ring_keys': len(set(rings[h].get('name') for h in at_gen)),
               'fleet_origin': sum(1 for h in hosts if rings[h].get('origin') == 'fleet'),
               'key_changed': bool(common and common != previous), 'probe_rounds': probes,
               'served_after_s': {'median': lat[len(lat) // 2], 'max': lat[-1]} if lat else None,
               'not_serving': sorted(h for h in hosts if h not in ok_after)}
        previous = common
        out.append(row)
        log('  boundary %d: %d of %d nodes served the common key (seen by %ss after the boundary); rings at the '
            'generation: %d, agreeing: %d%s'
            % (k + 1, row['served_common_key'], len(hosts), lat[-1] if lat else '-', row['ring_at_generation'],
               row['ring_common_key'], '' if row['key_changed'] else '; THE KEY DID NOT CHANGE'))
    return {'boundaries': out, 'rotated_each_boundary': all(r['key_changed'] for r in out),
            'all_served_each_boundary': all(r['served_common_key'] == len(hosts) for r in out)}


def failed_units(hosts):
    out = pmap(lambda h: run(['docker', 'exec', h, 'systemctl', 'list-units', '--failed', '--plain', '--no-legend'],
                             check=False, timeout=60).stdout.split(), hosts)
    units = {}
    for words in out:
        for w in words:
            if w.endswith(('.service', '.timer', '.mount')):
                units[w] = units.get(w, 0) + 1
    return units


def fleet_size(count, period, args):
    hosts = fleet_names(count)
    forks = args.fleet_forks if args.fleet_forks > 0 else min(count, 12)
    limits = ['--memory', args.fleet_memory, '--memory-swap', args.fleet_memory, '--cpus', str(args.fleet_cpus),
              '--cpu-shares', str(args.fleet_cpu_shares)]
    r = {'nodes': count, 'forks': forks, 'limits': ' '.join(limits), 'loadavg_1min_before': round(os.getloadavg()[0], 2),
         'mem_available_mib_before': mib(mem_available() or 0)}
    t_size = time.time()
    log('fleet of %d: starting %d node containers and %s (%s)' % (count, count, FLEET_LB, ' '.join(limits)))
    late = start(hosts + [FLEET_LB], limits)
    r['boot_seconds'] = round(time.time() - t_size, 1)
    if late:
        raise RuntimeError('%d containers did not boot in time: %s' % (len(late), ', '.join(late[:5])))
    # The image enables nginx, apache2 and haproxy: whichever binds port 80 first
    # wins. Only nginx runs on a node, only HAProxy (the balancer) on bench-fleet-lb.
    pmap(lambda h: run(['docker', 'exec', h, 'sh', '-c', 'systemctl disable -q --now apache2 haproxy && systemctl reset-failed && systemctl restart nginx'],
                       timeout=120), hosts, workers=6)
    run(['docker', 'exec', FLEET_LB, 'sh', '-c', 'systemctl disable -q --now apache2 nginx && systemctl reset-failed'],
        timeout=120)
    run(['docker', 'cp', os.path.join(ROOT, 'scripts', 'bench_client.py'), FLEET_LB + ':/usr/local/bin/bench_client.py'])
    r['mem_available_mib_booted'] = mib(mem_available() or 0)
    extra = {'nginx_resumption_period': period, 'nginx_resumption_install': False,
             'key_ring_fleet_reseed_margin': max(period * 2, 30), 'tls_site_name': SITE, 'tls_site_server': 'nginx',
             'bench_nodes': hosts, 'bench_lb_port': LB_PORT}
    inv = write_inventory(os.path.join(RESULTS, 'inventory-fleet%d.json' % count),
                          {'tls_fleet_nginx': hosts, 'bench_servers': hosts, 'bench_lb': [FLEET_LB]}, extra=extra)
    site = os.path.join(ROOT, 'playbooks', 'site.yml')
    rotate = os.path.join(ROOT, 'playbooks', 'rotate.yml')
    timeout = 300 + 30 * count
    r['first converge'] = measured('first converge', inv, site, hosts, forks, timeout)
    r['memory_mib_after_converge'] = memory_summary(hosts)
    if r['first converge']['rc']:
        raise RuntimeError('first converge of %d nodes failed (bench/results/%s)' % (count, r['first converge']['log']))
    r['idempotent rerun'] = measured('idempotent rerun', inv, site, hosts, forks, timeout)
    r['reseed'] = measured('reseed', inv, rotate, hosts, forks, timeout) if os.path.isfile(rotate) else NA
    # What the nodes cost with no Ansible run: nginx idle and the fleet timers, which poll every
    # period // 10 s (2 s at the bench's 20 s period; 60 s at periods of 10 min and more).
    idle = min(30, period)
    before = cgroup_figures(hosts)
    time.sleep(idle)
    after = cgroup_figures(hosts)
    used = sum(after.get(h, {}).get('cpu', 0) - before.get(h, {}).get('cpu', 0) for h in hosts)
    r['idle'] = {'seconds': idle, 'timer_poll_seconds': fleet_poll(period), 'nodes_cpu_seconds': round(used, 2),
                 'cpu_seconds_per_node_per_minute': round(used / count * 60.0 / idle, 2),
                 'machine_share_percent': round(100.0 * used / idle / (os.cpu_count() or 1), 1)}
    log('  idle for %ds (no Ansible run): the nodes used %.1f CPU s (%.2f per node per minute, %.1f %% of the machine)'
        % (idle, used, r['idle']['cpu_seconds_per_node_per_minute'], r['idle']['machine_share_percent']))
    log('fleet of %d: serving the site and configuring the balancer (bench/serve.yml, not counted)' % count)
    sv = playbook(inv, os.path.join(ROOT, 'bench', 'serve.yml'), forks=forks, timeout=timeout)
    r['serve_seconds'] = sv['seconds']
    if sv['rc']:
        raise RuntimeError('bench/serve.yml failed on %d nodes (bench/results/%s)' % (count, sv['log']))
    attempts = max(args.attempts, 2 * count)
    r['cross'] = {}
    for v in ('TLSv1.2', 'TLSv1.3'):
        c = client('cross', FLEET_LB, LB_PORT, v, attempts, timeout=120 + attempts, container=FLEET_LB)
        r['cross'][v] = c
        log('  cross-node %s through the balancer over %d nodes: %d/%d resumed' % (v, count, c['resumed'], c['attempts']))
    log('fleet of %d: 3 period boundaries with no Ansible run (about %ds)' % (count, 4 * period))
    r['unattended'] = unattended(hosts, period)
    r['memory_mib_end'] = memory_summary(hosts)
    r['mem_available_mib_end'] = mib(mem_available() or 0)
    r['failed_units'] = failed_units(hosts)
    r['size_seconds'] = round(time.time() - t_size, 1)
    return r


def part_fleet(period, args):
    """The fleet-size curve: for each size, its own containers, removed before the next size."""
    if not site_has('tls_fleet_nginx'):
        return NA
    out = {'sizes': {}, 'period': period, 'errors': {}}
    limit = args.fleet_memory
    units = {'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}
    limit_bytes = int(limit[:-1]) * units[limit[-1].lower()] if limit[-1].lower() in units else int(limit)
    for count in args.fleet_sizes:
        hosts = fleet_names(count)
        need = (count + 1) * limit_bytes
        avail = mem_available() or need
        if need > avail * 0.9:
            out['errors'][str(count)] = ('not run: %d containers x %s = %d MiB, more than 90 %% of the %d MiB available'
                                         % (count + 1, limit, mib(need), mib(avail)))
            log('fleet of %d: %s' % (count, out['errors'][str(count)]))
            continue
        try:
            out['sizes'][str(count)] = fleet_size(count, period, args)
            log('fleet of %d done in %ss' % (count, out['sizes'][str(count)]['size_seconds']))
        except (Exception, KeyboardInterrupt, SystemExit) as e:  # pylint: disable=broad-except
            out['errors'][str(count)] = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            log('fleet of %d FAILED: %s' % (count, e))
            if not isinstance(e, Exception):
                raise
        finally:
            if not args.keep:
                run(['docker', 'rm', '-f'] + hosts + [FLEET_LB], check=False, timeout=300)
    return out


# ----------------------------------------------------------------- simulator

SIM_API = ('bench_rows', 'format_table', 'plot_in_step')


def load_fleet_sim():
    """scripts/fleet_sim.py (the fleet simulator), or a reason it cannot be used."""
    path = os.path.join(ROOT, 'scripts', 'fleet_sim.py')
    if not os.path.isfile(path):
        return None, 'n/a: scripts/fleet_sim.py is not there (the fleet simulator: %s)' % ', '.join(SIM_API)
    here = os.path.dirname(path)
    sys.path.insert(0, here)
    try:
        import fleet_sim  # pylint: disable=import-outside-toplevel,import-error
    except Exception as e:  # pylint: disable=broad-except
        return None, 'scripts/fleet_sim.py does not import: %s: %s' % (type(e).__name__, e)
    finally:
        # fleet_sim puts .build on the path itself: take out only what was put here.
        if here in sys.path:
            sys.path.remove(here)
    missing = [f for f in SIM_API if not callable(getattr(fleet_sim, f, None))]
    if missing:
        return None, 'scripts/fleet_sim.py lacks %s' % ', '.join(missing)
    return fleet_sim, None


def part_sim(nodes, seed):
    sim, why = load_fleet_sim()
    if sim is None:
        log('sim: %s' % why)
        return why
    t0 = time.time()
    rows = sim.bench_rows(nodes=nodes, seed=seed)
    text = sim.format_table(rows)
    log('sim: %d rows for %d simulated nodes in %.1fs' % (len(rows), nodes, time.time() - t0))
    return {'nodes': nodes, 'seed': seed, 'rows': rows, 'table': text, 'seconds': round(time.time() - t0, 1)}


# ----------------------------------------------------------------- output

def fmt_cross(c):
    if not isinstance(c, dict):
        return str(c)
    return ', '.join('%s %d/%d' % (v.replace('TLSv', 'TLS '), r['resumed'], r['attempts']) for v, r in sorted(c.items()))


def header(results):
    load, cpus = results['loadavg_at_start'][0], results['cpus']
    lines = ['make bench, %s, rotation period %ss, %d CPUs, load average at start %s'
             % (results['started'], results['period'], cpus, ' '.join('%.2f' % x for x in results['loadavg_at_start']))]
    if load > cpus:
        lines.append('PROVISIONAL: the 1-minute load average (%.2f) was above the core count (%d) when the bench started;'
                     ' other work shared the CPUs, so rates and timings are low and noisy.' % (load, cpus))
    return lines


STEPS = ('first converge', 'idempotent rerun', 'reseed')


def ratio(big, small, key):
    if not (isinstance(big, dict) and isinstance(small, dict)) or not small.get(key):
        return None
    return big[key] / small[key]


def step_cpu(x):
    """Every CPU second a step cost on this machine: controller, nodes, docker daemon."""
    return x['cpu_seconds'] + x.get('nodes_cpu_seconds', 0) + x.get('docker_cpu_seconds', 0)


def contended(r):
    """Other work (not this bench) took more than 10 % of the machine's CPU during a step of this size."""
    return any(isinstance(r.get(x), dict) and r[x].get('machine_cpu_seconds')
               and r[x].get('other_cpu_seconds', 0) > 0.1 * r[x]['machine_cpu_seconds'] for x in STEPS)


def fleet_table(fleet, add):
    """Section 4: the fleet-size curve, a row per size."""
    if not isinstance(fleet, dict):
        add('4. Fleet-size curve, fleet mode')
        add('   %s' % fleet)
        return
    sizes = sorted(fleet['sizes'].values(), key=lambda r: r['nodes'])
    limits = sizes[0]['limits'] if sizes else ''
    add('4. Fleet-size curve, fleet mode (period %ss; each node: %s; wall seconds, controller CPU seconds)'
        % (fleet['period'], limits or '?'))
    add('   %5s %5s | %-20s | %-20s | %-20s | %-9s | %-15s | %s'
        % ('', '', 'first converge', 'idempotent rerun', 'reseed', 'changed', 'resumed via LB', 'MiB/node'))
    add('   %5s %5s | %s | %s | %s | %-9s | %7s %7s | %6s %5s'
        % ('nodes', 'forks', *(['%6s %6s %6s' % ('wall', '/node', 'CPU/n')] * 3), 'c/r/s', 'TLS1.2', 'TLS1.3', 'median', 'max'))
    for r in sizes:
        cells = []
        for step in STEPS:
            x = r.get(step)
            cells.append('%6.1f %6.2f %6.2f' % (x['seconds'], x['seconds_per_node'], x['cpu_seconds_per_node'])
                         if isinstance(x, dict) else '%-20s' % 'n/a')
        changed = '/'.join(str(r[s]['changed']) + ('!' if r[s]['rc'] else '') if isinstance(r.get(s), dict) else '-'
                           for s in STEPS)
        cross = ['%d/%d' % (r['cross'][v]['resumed'], r['cross'][v]['attempts']) if v in r.get('cross', {}) else '-'
                 for v in ('TLSv1.2', 'TLSv1.3')]
        mem = (r.get('memory_mib_after_converge') or {}).get('in_use') or {}
        add('   %4d%s %5d | %s | %s | %s | %-9s | %7s %7s | %6s %5s'
            % (r['nodes'], '*' if contended(r) else ' ', r['forks'], cells[0], cells[1], cells[2], changed, cross[0],
               cross[1], mem.get('median', '-'), mem.get('max', '-')))
    for count, err in sorted(fleet.get('errors', {}).items(), key=lambda x: int(x[0])):
        add('   %5s nodes: %s' % (count, err))
    if any(contended(r) for r in sizes):
        add('   * other work (not this bench) used more than 10 % of the machine\'s CPU during a step of this size: '
            'its wall seconds are inflated (see the CPU lines below)')
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        parts = []
        for step in STEPS:
            x, y = big.get(step), small.get(step)
            w = ratio(x, y, 'seconds_per_node')
            c = ratio(x, y, 'cpu_seconds_per_node')
            if w is not None and c is not None:
                a = (step_cpu(x) / big['nodes']) / (step_cpu(y) / small['nodes']) if step_cpu(y) else float('nan')
                parts.append('%s wall x%.2f, controller CPU x%.2f, all CPU x%.2f' % (step.split()[-1], w, c, a))
        add('   cost per node, %d vs %d node%s: %s' % (big['nodes'], small['nodes'], '' if small['nodes'] == 1 else 's',
                                                       '; '.join(parts)))
    for r in sizes:
        u = r.get('unattended') or {}
        if not u.get('boundaries'):
            add('   unattended, %d nodes: %s' % (r['nodes'], u.get('error', 'not run')))
            continue
        counts = [b['served_common_key'] for b in u['boundaries']]
        late = [b['served_after_s']['max'] for b in u['boundaries'] if b.get('served_after_s')]
        add('   unattended, %d node%s, no Ansible run: %d of %d served the common key at %s of %d boundaries (%s; '
            'all seen by %s s after the boundary)%s'
            % (r['nodes'], '' if r['nodes'] == 1 else 's', min(counts), r['nodes'],
               'each' if len(set(counts)) == 1 else 'the worst', len(counts), ', '.join(str(c) for c in counts),
               max(late) if late else '-', '' if u.get('rotated_each_boundary') else '; THE KEY DID NOT CHANGE AT EVERY BOUNDARY'))
    if sizes:
        big = sizes[-1]
        conv = big.get('first converge') or {}
        end = big.get('memory_mib_end') or {}
        add('   CPU seconds during each step: controller + nodes + docker daemon + other work (machine busy %)')
        add('   %5s   %-30s %-30s %-30s %s' % ('nodes', STEPS[0], STEPS[1], STEPS[2], 'idle nodes, CPU s/node/min'))
        for r in sizes:
            idle = r.get('idle') or {}
            add('   %5d   %s %s' % (r['nodes'], ' '.join('%-30s' % (
                '%s+%s+%s+%s (%.0f%%)' % (r[x]['cpu_seconds'], r[x]['nodes_cpu_seconds'], r[x]['docker_cpu_seconds'],
                                          r[x]['other_cpu_seconds'], r[x]['host_busy_percent'] or 0)
                if isinstance(r.get(x), dict) and 'other_cpu_seconds' in r[x] else '-') for x in STEPS),
                '%s (%s %% of the machine)' % (idle['cpu_seconds_per_node_per_minute'], idle['machine_share_percent'])
                if idle else '-'))
        add('   controller peak RSS at %d nodes: %s MiB' % (big['nodes'], conv.get('maxrss_mib')))
        add('   at %d nodes, at the end: MiB/node in use median %s max %s (anonymous median %s), limit %s, OOM kills %s; '
            'host memory available %s MiB' % (big['nodes'], (end.get('in_use') or {}).get('median'),
                                              (end.get('in_use') or {}).get('max'), (end.get('anon') or {}).get('median'),
                                              big['limits'].split()[1], end.get('oom_kills'), big.get('mem_available_mib_end')))
        slow = conv.get('slowest_tasks') or []
        if slow:
            add('   slowest tasks of that converge: %s' % '; '.join('%s %.1fs' % (n.split(' : ')[-1], t) for n, t in slow))
        fails = dict((r['nodes'], r.get('failed_units')) for r in sizes if r.get('failed_units'))
        if fails:
            add('   failed units at the end: %s' % '; '.join(
                '%d nodes: %s' % (n, ', '.join('%s on %d' % kv for kv in sorted(u.items()))) for n, u in sorted(fails.items())))


def table(results):
    lines = header(results) + ['']
    add = lines.append
    parts = set(results.get('parts') or PARTS)
    if 'cross' in parts:
        add('1. Cross-node resumption through a round-robin TCP balancer over 3 nginx nodes (resumed/attempts)')
        for k, label in (('shared', 'shared ring (fleet mode)'), ('pernode', 'per-node rings'),
                         ('cache', 'tickets off, per-node cache (Mozilla)')):
            add('   %-40s %s' % (label, fmt_cross(results['cross'].get(k, 'not run'))))
    if 'rotation' in parts:
        add('2. Resumption failures across a rotation (tickets younger than one period, TLS 1.3, after the first period)')
        for k, r in results['rotation'].items():
            add('   %-40s %s' % (k, '%d failed of %d offered (rotations at %s s)'
                                 % (r['failures'], r['offered'], ', '.join('%.0f' % t for t in r['rotations_at']) or 'none')
                                 if isinstance(r, dict) else r))
    if 'rate' in parts:
        add('3. Handshakes per second (one client, sequential; median of %s runs, the two configurations alternating)'
            % results.get('rate_rounds', '?'))
        add('   %-40s %14s %14s %14s %14s' % ('', 'TLS1.2 full', 'TLS1.2 resumed', 'TLS1.3 full', 'TLS1.3 resumed'))
        for k, r in results['rate'].items():
            cells = ('TLSv1.2 full', 'TLSv1.2 resumed', 'TLSv1.3 full', 'TLSv1.3 resumed')
            add('   %-40s %s' % (k, ' '.join('%14.1f' % r[c]['per_second'] for c in cells)))
            add('   %-40s %s' % ('  (min-max)', ' '.join(
                '%14s' % ('%.0f-%.0f' % (r[c].get('min', 0), r[c].get('max', 0))) for c in cells)))
    if 'fleet' in parts:
        fleet_table(results.get('fleet', 'not run'), add)
    if 'sim' in parts:
        add('5. Fleet simulator (scripts/fleet_sim.py)')
        sim = results.get('sim', 'not run')
        if isinstance(sim, dict):
            add('   %d simulated nodes, seed %s (%ss)' % (sim['nodes'], sim['seed'], sim['seconds']))
            for line in str(sim['table']).rstrip('\n').splitlines():
                add('   ' + line)
        else:
            add('   %s' % sim)
    if results.get('error'):
        add('')
        add('INCOMPLETE: %s' % results['error'])
    return '\n'.join(l.rstrip() for l in lines) + '\n'


def pyplot():
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        log('matplotlib missing (make bench installs requirements-bench.txt): no chart')
        return None
    return plt


# Series that coincide (two subjects at 100 %) must each stay visible: every
# series gets its own line style and marker, the ones drawn first are wider and
# lie underneath (a wide band with the narrower lines on top), and the markers
# of series i sit on every n-th point starting at i, so they never cover each other.
SERIES_STYLES = [('-', 'o', 7.0), ('--', 's', 4.5), ('-.', '^', 2.8), (':', 'D', 1.6)]


def chart(results, period, path):
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    subjects = list(results['rotation'].items())
    for i, (name, r) in enumerate(subjects):
        style, marker, width = SERIES_STYLES[i % len(SERIES_STYLES)]
        if not isinstance(r, dict):
            ax.plot([], [], linestyle=style, marker=marker, label='%s: %s' % (name, r))
            continue
        pts = [(t, ok / n) for t, n, ok in r['timeline'] if n]
        line, = ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], label=name, linestyle=style, linewidth=width,
                        marker=marker, markersize=5, markevery=(i, len(subjects)), alpha=0.85, zorder=2 + i,
                        solid_capstyle='butt')
        for t in r['rotations_at']:
            ax.axvline(t, color=line.get_color(), linestyle=':', linewidth=1, zorder=1)
    ax.axvspan(0, period, color='0.9', label='filling (sessions of every age)', zorder=0)
    ax.set_xlabel('seconds (dotted verticals: key rotation / replacement)')
    ax.set_ylabel('% of offered tickets resumed')
    ax.set_title('Resumption of tickets younger than one period (%ss) across a rotation' % period)
    ax.set_ylim(-5, 108)
    ax.legend(loc='lower left', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fleet_chart(results, path):
    """bench/results/fleet.png: the fleet-size curve (seconds per node against the
    number of nodes) and, next to it, the simulator's share of nodes in step."""
    fleet, sim = results.get('fleet'), results.get('sim')
    sizes = sorted(fleet['sizes'].values(), key=lambda r: r['nodes']) if isinstance(fleet, dict) else []
    sim_mod = load_fleet_sim()[0] if isinstance(sim, dict) else None
    if not sizes and sim_mod is None:
        return None
    plt = pyplot()
    if plt is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    if sizes:
        xs = [r['nodes'] for r in sizes]
        for i, step in enumerate(STEPS):
            style, marker, width = SERIES_STYLES[i]
            rows = [r for r in sizes if isinstance(r.get(step), dict)]
            line, = left.plot([r['nodes'] for r in rows], [r[step]['seconds_per_node'] for r in rows], marker=marker,
                              linestyle='-', linewidth=2, label='%s: wall s / node' % step)
            left.plot([r['nodes'] for r in rows], [r[step]['cpu_seconds_per_node'] for r in rows], marker=marker,
                      linestyle='--', linewidth=1.5, color=line.get_color(), label='%s: controller CPU s / node' % step)
        left.set_xscale('log', base=2)
        left.set_yscale('log')
        left.set_xticks(xs)
        left.set_xticklabels(['%d%s\n(forks %d)' % (r['nodes'], '*' if contended(r) else '', r['forks']) for r in sizes])
        note = '  (*: other work took > 10 % of the CPU meanwhile)' if any(contended(r) for r in sizes) else ''
        left.set_xlabel('nodes in the fleet' + note)
        left.set_ylabel('seconds per node (log)')
        left.set_title('Ansible cost per node against fleet size (period %ss)' % fleet['period'])
        left.grid(True, which='both', alpha=0.3)
        left.legend(fontsize=7, loc='best', framealpha=0.8)
    else:
        left.text(0.5, 0.5, 'fleet part: %s' % (fleet if not isinstance(fleet, dict) else 'no size ran'),
                  ha='center', va='center', transform=left.transAxes, fontsize=9)
        left.set_axis_off()
    if sim_mod is not None:
        try:
            sim_mod.plot_in_step(right, sim['rows'])
        except Exception as e:  # pylint: disable=broad-except
            log('sim: plot_in_step failed: %s' % e)
            right.text(0.5, 0.5, 'fleet_sim.plot_in_step failed:\n%s' % e, ha='center', va='center',
                       transform=right.transAxes, fontsize=9)
        if not right.get_title():
            right.set_title('Simulated fleet of %d nodes: share in step' % sim['nodes'])
    else:
        right.text(0.5, 0.5, 'fleet simulator: %s' % (sim if isinstance(sim, str) else 'not run'), ha='center',
                   va='center', transform=right.transAxes, fontsize=9, wrap=True)
        right.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def on_signal(signum, frame):
    raise SystemExit('stopped by signal %d' % signum)


PARTS = ('cross', 'rotation', 'rate', 'fleet', 'sim')


def sizes_arg(text):
    try:
        sizes = sorted(set(int(x) for x in text.split(',') if x.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError('comma-separated node counts, like 1,6,12,24')
    if not sizes or sizes[0] < 1 or sizes[-1] > 64:
        raise argparse.ArgumentTypeError('node counts from 1 to 64')
    return sizes


def json_default(o):
    """numpy numbers and arrays, tuples of the simulator's rows."""
    if hasattr(o, 'tolist'):
        return o.tolist()
    return str(o)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--period', type=int, default=20, help='rotation period of the bench rings (s, >= 10)')
    ap.add_argument('--attempts', type=int, default=30,
                    help='resumptions through the balancer per config (the fleet part: at least 2 per node)')
    ap.add_argument('--rate-seconds', type=float, default=5, help='seconds per handshake-rate measurement')
    ap.add_argument('--rate-rounds', type=int, default=3, help='measurements per cell (the median is reported)')
    ap.add_argument('--parts', default=','.join(PARTS),
                    help='comma-separated parts to run: %s ("ansible" is the old name of fleet)' % ', '.join(PARTS))
    ap.add_argument('--fleet-period', type=int, default=0,
                    help='rotation period of the fleet part (s, >= 10; 0: --period). Its timers poll every period // 10 s '
                         '(at least 1, at most 60): at 20 s, 24 idle nodes keep a good part of two cores busy')
    ap.add_argument('--fleet-sizes', type=sizes_arg, default=sizes_arg('1,6,12,24'),
                    help='node counts of the fleet-size curve (default 1,6,12,24)')
    ap.add_argument('--fleet-forks', type=int, default=0, help='Ansible forks of the fleet part (0: min(nodes, 12))')
    ap.add_argument('--fleet-memory', default='384m', help='memory limit of each fleet container (docker --memory)')
    ap.add_argument('--fleet-cpus', type=float, default=1.0, help='CPU limit of each fleet container (docker --cpus)')
    ap.add_argument('--fleet-cpu-shares', type=int, default=512, help='CPU weight of each fleet container')
    ap.add_argument('--sim-nodes', type=int, default=10000, help='nodes of the simulated fleet (part sim)')
    ap.add_argument('--sim-seed', type=int, default=1, help='seed of the simulator (part sim)')
    ap.add_argument('--keep', action='store_true', help='leave the containers running')
    args = ap.parse_args()
    parts = set(p.strip() for p in args.parts.split(',') if p.strip())
    if 'ansible' in parts:
        parts = (parts - {'ansible'}) | {'fleet'}
    if parts - set(PARTS):
        ap.error('unknown part(s) %s; parts: %s' % (', '.join(sorted(parts - set(PARTS))), ', '.join(PARTS)))
    if args.period < 10 or 0 < args.fleet_period < 10:
        ap.error('--period and --fleet-period must be at least 10 s (the roles refuse less)')
    os.makedirs(RESULTS, exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    if parts - {'sim'}:
        run(['bash', os.path.join(ROOT, 'scripts', 'ensure-docker.sh')])
        run(['bash', os.path.join(ROOT, 'scripts', 'build-images.sh'), 'trixie'],
            env=dict(os.environ, HARDENED_TLS_IMAGE_REPO=IMAGE.split(':')[0],
                     HARDENED_TLS_EXTRA_PACKAGES='nginx apache2 haproxy python3-cryptography'))
    load = os.getloadavg()
    results = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'period': args.period,
               'cpus': os.cpu_count(), 'loadavg_at_start': [round(x, 2) for x in load], 'parts': sorted(parts),
               'cross': {}, 'rotation': {}, 'rate': {}, 'rate_rounds': args.rate_rounds, 'fleet': 'not run',
               'sim': 'not run', 'reconfigure': {}}
    for line in header(results):
        log(line)
    rc = 0
    try:
        if parts - {'sim'}:
            remove_all()
        if parts & {'cross', 'rotation', 'rate'}:
            groups = setup_site(args.period)
            if 'rate' in parts:
                results['rate'] = part_rate(args.rate_seconds, max(1, args.rate_rounds))
            if 'cross' in parts:
                results['cross']['pernode'] = part_cross('per-node', args.attempts)
            if 'rotation' in parts:
                naive_setup(args.period)
                results['rotation'] = part_rotation(groups, args.period)
            if 'cross' in parts:
                results['reconfigure']['cache'] = reconfigure('cache', args.period, 'cache_only')
                results['cross']['cache'] = part_cross('cache', args.attempts)
                if site_has('tls_fleet_nginx'):
                    results['reconfigure']['shared'] = reconfigure('shared', args.period, 'fleet')
                    results['cross']['shared'] = part_cross('shared', args.attempts)
                else:
                    results['cross']['shared'] = NA
            if not args.keep:
                remove_all()
        if 'fleet' in parts:
            results['fleet'] = part_fleet(args.fleet_period or args.period, args)
            if isinstance(results['fleet'], dict) and results['fleet']['errors']:
                rc = 1
    except (Exception, SystemExit, KeyboardInterrupt) as e:  # pylint: disable=broad-except
        results['error'] = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        log('FAILED: %s' % e)
        rc = 1
    finally:
        if not args.keep and parts - {'sim'}:
            log('removing the bench containers')
            remove_all()
    if 'sim' in parts and not results.get('error'):
        try:
            results['sim'] = part_sim(args.sim_nodes, args.sim_seed)
        except Exception as e:  # pylint: disable=broad-except
            results['sim'] = 'FAILED: %s: %s' % (type(e).__name__, e)
            log('sim %s' % results['sim'])
            rc = 1
    results['loadavg_at_end'] = [round(x, 2) for x in os.getloadavg()]
    results['seconds'] = round(time.time() - START, 1)
    with open(os.path.join(RESULTS, 'bench.json'), 'w') as f:
        json.dump(results, f, indent=1, sort_keys=True, default=json_default)
    text = table(results)
    with open(os.path.join(RESULTS, 'table.txt'), 'w') as f:
        f.write(text)
    pngs = [chart(results, args.period, os.path.join(RESULTS, 'rotation.png')) if results['rotation'] else None,
            fleet_chart(results, os.path.join(RESULTS, 'fleet.png'))]
    print()
    print(text)
    print('load average at start %s, at end %s (%d CPUs); bench took %ds'
          % (results['loadavg_at_start'], results['loadavg_at_end'], results['cpus'], results['seconds']))
    print('saved: bench/results/bench.json, bench/results/table.txt%s'
          % ''.join(', ' + os.path.relpath(p, ROOT) for p in pngs if p))
    return rc


if __name__ == '__main__':
    sys.exit(main())
