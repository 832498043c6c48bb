# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: figures side by side in one run.

1. cross-node resumption through a round-robin TCP balancer over 3 nginx nodes:
   shared ring (fleet mode) vs per-node rings vs tickets off with a per-node cache
2. resumption of tickets younger than one period across a rotation: this
   collection (nginx, HAProxy, Apache) vs one key file replaced and reloaded
3. handshakes per second, full vs resumed, hardened vs Debian's stock nginx
4. Ansible cost: first converge, idempotent rerun, reseed (playbooks/rotate.yml),
   for 1 node and for 6 nodes

Six containers (bench-*, the demo image: servers baked in, no apt) on the docker
network hardened-tls: three nginx nodes, bench-lb (TCP balancer; also Debian's
stock nginx, later the naive single-key setup), bench-apache (also runs the
client, scripts/bench_client.py), bench-haproxy. The nodes are reconfigured
between the variants of part 1 (per-node rings, then tickets off, then a shared
ring). Part 4 starts 1 then 6 more containers briefly. Every loop is bounded in
count and time; everything started is removed at the end, also on failure.
Writes bench/results/bench.json, bench/results/table.txt and
bench/results/rotation.png.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import signal
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

def start(names):
    for n in names:
        run(['docker', 'rm', '-f', n], check=False)
        run(['docker', 'run', '-d', '--name', n, '--hostname', n, '--network', NETWORK,
             '--label', 'org.hardened-tls.bench=1',
             '--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', '--cgroupns', 'host',
             '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/run/lock',
             IMAGE, '/sbin/init'])
    for n in names:
        for dummy in range(60):
            out = run(['docker', 'exec', n, 'systemctl', 'is-system-running'], check=False).stdout.strip()
            if out in ('running', 'degraded'):
                break
            time.sleep(1)


def remove_all():
    ids = run(['docker', 'ps', '-aq', '--filter', 'label=org.hardened-tls.bench=1']).stdout.split()
    if ids:
        run(['docker', 'rm', '-f'] + ids)


def client(*args, timeout=600):
    out = run(['docker', 'exec', CLIENT, 'python3', '/usr/local/bin/bench_client.py'] + [str(a) for a in args],
              timeout=timeout).stdout
    return json.loads(out.strip().splitlines()[-1])


# ----------------------------------------------------------------- ansible

def ansible_env(forks=20):
    env = dict(os.environ)
    env.update({'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.build'), 'ANSIBLE_PIPELINING': 'True',
                'ANSIBLE_FORKS': str(forks), 'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'yaml'})
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


def playbook(inventory, book, forks=20, extra=None):
    """Runs one playbook; its output goes to a log under bench/results as it runs."""
    args = ['ansible-playbook', '-i', inventory, book]
    for k, v in (extra or {}).items():
        args += ['-e', '%s=%s' % (k, v)]
    t0 = time.time()
    logname = '%s-%d.log' % (os.path.splitext(os.path.basename(book))[0], int(t0))
    path = os.path.join(RESULTS, logname)
    log('  ansible-playbook %s (forks %d; follow bench/results/%s)' % (os.path.relpath(book, ROOT), forks, logname))
    with open(path, 'w') as f:
        rc = subprocess.call(args, stdout=f, stderr=subprocess.STDOUT, env=ansible_env(forks), timeout=900)
    elapsed = time.time() - t0
    with open(path) as f:
        out = f.read()
    p = subprocess.CompletedProcess(args, rc, out)
    recap = re.findall(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', p.stdout, re.M)
    changed = sum(int(r[2]) for r in recap)
    failed = sum(int(r[3]) + int(r[4]) for r in recap)
    if p.returncode != 0:
        log('%s failed (full output: bench/results/%s): %s' % (book, logname, p.stdout[-2000:]))
    return {'seconds': round(elapsed, 1), 'changed': changed, 'failed': failed, 'rc': p.returncode,
            'failed_hosts': sorted(r[0] for r in recap if int(r[3]) + int(r[4]))}


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


def part_ansible(period):
    if not site_has('tls_fleet_nginx'):
        return NA
    load = os.getloadavg()[0]
    rotate = os.path.join(ROOT, 'playbooks', 'rotate.yml')
    out = {}
    for count in (1, 6):
        hosts = [PREFIX + 'cost%d' % i for i in range(1, count + 1)]
        log('ansible cost, %d node(s): starting containers' % count)
        start(hosts)
        # The image enables nginx, apache2 and haproxy: whichever binds port 80
        # first wins. Only nginx may run here (as on the nodes of bench/setup.yml).
        for h in hosts:
            run(['docker', 'exec', h, 'sh', '-c', 'systemctl disable --now apache2 haproxy && systemctl restart nginx'],
                timeout=120)
        inv = write_inventory(os.path.join(RESULTS, 'inventory-cost%d.json' % count), {'tls_fleet_nginx': hosts},
                              extra={'nginx_resumption_period': period, 'nginx_resumption_install': False,
                                     'key_ring_fleet_reseed_margin': max(period * 2, 30)})
        site = os.path.join(ROOT, 'playbooks', 'site.yml')
        r = {'forks': count}
        r['first converge'] = playbook(inv, site, forks=count)
        r['idempotent rerun'] = playbook(inv, site, forks=count)
        r['reseed'] = playbook(inv, rotate, forks=count) if os.path.isfile(rotate) else NA
        r['loadavg_1min_before'] = round(load, 2)
        load = os.getloadavg()[0]
        out['%d node%s' % (count, 's' if count > 1 else '')] = r
        log('ansible cost %d node(s): %s' % (count, json.dumps(r)))
        run(['docker', 'rm', '-f'] + hosts)
    return out


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


def table(results):
    lines = header(results) + ['']
    add = lines.append
    add('1. Cross-node resumption through a round-robin TCP balancer over 3 nginx nodes (resumed/attempts)')
    for k, label in (('shared', 'shared ring (fleet mode)'), ('pernode', 'per-node rings'),
                     ('cache', 'tickets off, per-node cache (Mozilla)')):
        add('   %-40s %s' % (label, fmt_cross(results['cross'].get(k, 'not run'))))
    add('2. Resumption failures across a rotation (tickets younger than one period, TLS 1.3, after the first period)')
    for k, r in results['rotation'].items():
        add('   %-40s %s' % (k, '%d failed of %d offered (rotations at %s s)'
                             % (r['failures'], r['offered'], ', '.join('%.0f' % t for t in r['rotations_at']) or 'none')
                             if isinstance(r, dict) else r))
    add('3. Handshakes per second (one client, sequential; median of %s runs, the two configurations alternating)'
        % results.get('rate_rounds', '?'))
    add('   %-40s %14s %14s %14s %14s' % ('', 'TLS1.2 full', 'TLS1.2 resumed', 'TLS1.3 full', 'TLS1.3 resumed'))
    for k, r in results['rate'].items():
        cells = ('TLSv1.2 full', 'TLSv1.2 resumed', 'TLSv1.3 full', 'TLSv1.3 resumed')
        add('   %-40s %s' % (k, ' '.join('%14.1f' % r[c]['per_second'] for c in cells)))
        add('   %-40s %s' % ('  (min-max)', ' '.join('%14s' % ('%.0f-%.0f' % (r[c].get('min', 0), r[c].get('max', 0))) for c in cells)))
    add('4. Ansible cost, fleet mode (wall seconds; changed tasks)')
    if not isinstance(results['ansible'], dict):
        add('   %s' % results['ansible'])
    else:
        for k, r in results['ansible'].items():
            add('   %-8s forks=%-2d %s' % (k, r['forks'], '  '.join(
                '%s %s' % (step, r[step] if not isinstance(r[step], dict) else '%.1fs (changed=%d%s)' % (
                    r[step]['seconds'], r[step]['changed'], ', FAILED' if r[step]['failed'] or r[step]['rc'] else
                    ', NOT IDEMPOTENT' if step == 'idempotent rerun' and r[step]['changed'] else ''))
                for step in ('first converge', 'idempotent rerun', 'reseed'))))
    if results.get('error'):
        add('')
        add('INCOMPLETE: %s' % results['error'])
    return '\n'.join(lines) + '\n'


def chart(results, period, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        log('matplotlib missing (make bench installs requirements-bench.txt): no chart')
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, r in results['rotation'].items():
        if not isinstance(r, dict):
            ax.plot([], [], label='%s: %s' % (name, NA))
            continue
        pts = [(t, ok / n) for t, n, ok in r['timeline'] if n]
        line, = ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], label=name, linewidth=1.5)
        for t in r['rotations_at']:
            ax.axvline(t, color=line.get_color(), linestyle=':', linewidth=1)
    ax.axvspan(0, period, color='0.9', label='filling (sessions of every age)')
    ax.set_xlabel('seconds (dotted: key rotation / replacement)')
    ax.set_ylabel('% of offered tickets resumed')
    ax.set_title('Resumption of tickets younger than one period (%ss) across a rotation' % period)
    ax.set_ylim(-5, 105)
    ax.legend(loc='lower left', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def on_signal(signum, frame):
    raise SystemExit('stopped by signal %d' % signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--period', type=int, default=20, help='rotation period of the bench rings (s, >= 10)')
    ap.add_argument('--attempts', type=int, default=30, help='resumptions through the balancer per config')
    ap.add_argument('--rate-seconds', type=float, default=5, help='seconds per handshake-rate measurement')
    ap.add_argument('--rate-rounds', type=int, default=3, help='measurements per cell (the median is reported)')
    ap.add_argument('--parts', default='cross,rotation,rate,ansible', help='comma-separated parts to run')
    ap.add_argument('--keep', action='store_true', help='leave the containers running')
    args = ap.parse_args()
    parts = set(args.parts.split(','))
    os.makedirs(RESULTS, exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    run(['bash', os.path.join(ROOT, 'scripts', 'ensure-docker.sh')])
    run(['bash', os.path.join(ROOT, 'scripts', 'build-images.sh'), 'trixie'],
        env=dict(os.environ, HARDENED_TLS_IMAGE_REPO=IMAGE.split(':')[0],
                 HARDENED_TLS_EXTRA_PACKAGES='nginx apache2 haproxy python3-cryptography'))
    load = os.getloadavg()
    results = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'period': args.period,
               'cpus': os.cpu_count(), 'loadavg_at_start': [round(x, 2) for x in load],
               'cross': {}, 'rotation': {}, 'rate': {}, 'rate_rounds': args.rate_rounds, 'ansible': 'not run', 'reconfigure': {}}
    for line in header(results):
        log(line)
    rc = 0
    try:
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
        if 'ansible' in parts:
            results['ansible'] = part_ansible(args.period)
    except (Exception, SystemExit, KeyboardInterrupt) as e:  # pylint: disable=broad-except
        results['error'] = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        log('FAILED: %s' % e)
        rc = 1
    finally:
        if not args.keep:
            log('removing the bench containers')
            remove_all()
    results['loadavg_at_end'] = [round(x, 2) for x in os.getloadavg()]
    results['seconds'] = round(time.time() - START, 1)
    with open(os.path.join(RESULTS, 'bench.json'), 'w') as f:
        json.dump(results, f, indent=1, sort_keys=True)
    text = table(results)
    with open(os.path.join(RESULTS, 'table.txt'), 'w') as f:
        f.write(text)
    png = chart(results, args.period, os.path.join(RESULTS, 'rotation.png')) if results['rotation'] else None
    print()
    print(text)
    print('load average at start %s, at end %s (%d CPUs); bench took %ds'
          % (results['loadavg_at_start'], results['loadavg_at_end'], results['cpus'], results['seconds']))
    print('saved: bench/results/bench.json, bench/results/table.txt%s' % (', ' + os.path.relpath(png, ROOT) if png else ''))
    return rc


if __name__ == '__main__':
    sys.exit(main())
