#!/usr/bin/env python3
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""How the hot paths scale with 1, 2 and 3 API hosts on a Galera cluster.

One command, as root, in the virtualenv that has heat_deploy and gunicorn::

    python tools/bench/cluster_scale.py [--seconds 5] [--rounds 1]

1. brings up the cluster environment of heat_deploy/tests/cluster
   (environment.Cluster: three API hosts with 2 sync gunicorn workers
   each, HAProxy, three Galera nodes, each a network namespace on this
   machine) under its own prefix and subnet (``hds``, 10.215.0.0/24), so
   it never meets the test clusters (``hdc``, ``hdf``); ``--keep`` leaves
   it up afterwards (the next run reuses it), ``--reuse`` takes a running
   one as it is and neither starts nor stops anything (what
   heat_deploy/tests/cluster/test_scale_quick.py does with the test
   cluster);
2. makes the fixtures of tools/bench/bench.py through the load balancer
   (bench.Fixtures and bench.Paths over a connection to the cluster's
   database): a pool of IN_PROGRESS deployments for the PUTs, CFN_SIGNAL
   deployments seeded before each window and each signalled once, and a
   server with 10 deployments whose signed metadata URL and ETag the
   agent's polls use;
3. drives each path (``put``, ``signal``, ``agent_304``, and
   ``agent_200``, the same poll without If-None-Match, which the
   extrapolation needs for the polls that find new metadata) with wrk, for
   each concurrency: at one API host directly (the single host, measured
   in the same run), then through HAProxy with 1, 2 and 3 API hosts
   enabled (the others in maintenance on HAProxy's admin socket; all are
   enabled again at the end, whatever happens);
4. sweeps the PUT's concurrency through HAProxy with 3 hosts to find
   where the throughput stops growing, and which processes' CPU is then
   the limit;
5. prints one markdown table, the sweep, and an extrapolation of the CPU
   that 100,000 servers polling every 30 s would need; ``--json PATH``
   also writes every window's figures.

Over each measured window it reads, at its two edges, the user + system
CPU time of the cluster's own processes (from /proc/<pid>/stat of the
pids in the environment's pidfiles and of gunicorn's workers): the
gunicorns of the API hosts, the three mariadbd, HAProxy; the machine's
busy time (/proc/stat); and each Galera node's counters: statements
(Questions + Com_admin_commands), certification failures and brute-force
aborts (write conflicts between nodes), and the time flow control paused
replication.

What the figures can say: on one machine every "host" shares the same
cores with the database nodes, HAProxy and the load generator, so more
API hosts cannot add throughput here. The ratio to the single host shows
the cost of HAProxy and whether anything serialises across hosts (Galera
certification, flow control, row locks); the CPU milliseconds per request
of each kind of process are what carries over to a machine of another
size, and the extrapolation is built from them alone. When other work
keeps the machine's cores busy too (``busy`` near the core count with
little of it ours), the scheduler shares them per process, and more
gunicorn workers take a larger share: a ratio above 1 then says that, not
that hosts add capacity. The idle rates before the windows and ``busy``
say how loaded the machine was.

``--quick`` (about half a minute on a running cluster: 0.5 s windows, 2
clients, the Python load generator, one round) checks that the tool
works; it asserts nothing about speed. The exit status is 1 if any answer
was not the one expected.
"""

import argparse
import datetime
import json
import math
import os
import signal
import statistics
import sys
import time
from urllib import parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# bench and loadgen are siblings; the cluster environment is in the tree.
for _path in (HERE, ROOT):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench  # noqa: E402
import loadgen  # noqa: E402

from heat_deploy.tests.cluster import environment  # noqa: E402

DEFAULT_PREFIX = 'hds'
DEFAULT_SUBNET = '10.215.0'
API_HOSTS = environment.API_HOSTS
DB_NODES = environment.DB_NODES
DIRECT_HOST = API_HOSTS[0]

PATHS = (
    ('put', 'PUT deployment'),
    ('signal', 'signal (capability URL)'),
    ('agent_304', 'agent metadata, 304'),
    ('agent_200', 'agent metadata, 200'),
)
LABELS = dict(PATHS)
# Where the load goes: one API host without HAProxy, or HAProxy with the
# first N hosts enabled.
VIAS = (('direct', 1), ('lb', 1), ('lb', 2), ('lb', 3))

# The agents' poll the issue sizes: 100,000 servers every 30 s, most of
# them finding nothing new.
SERVERS = 100000
POLL_INTERVAL = 30.0
SHARE_304 = 0.95
# A sync worker is one process with one thread: at most one core.
TARGET_UTILISATION = 0.7
# Concurrency steps that gain less than this are past the knee.
KNEE_GAIN = 1.10
# Requests per second assumed before a path's first window, to size its
# pool of one-use paths; later windows use twice the best rate seen.
FIRST_RATE_GUESS = 600.0
# On a shared machine one window can run several times faster than the
# one before: never size a pool for less than this rate.
MIN_RATE_GUESS = 200.0
STAT_NAMES = ('Questions', 'Com_admin_commands', 'wsrep_local_cert_failures',
              'wsrep_local_bf_aborts', 'wsrep_flow_control_paused_ns')

log = bench.log


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Throughput of the hot paths with 1, 2 and 3 API hosts '
                    'behind HAProxy on a Galera cluster, against one host '
                    'measured directly in the same run (root only).')
    parser.add_argument('--prefix', default=DEFAULT_PREFIX,
                        help='the cluster\'s name prefix (default %s)'
                             % DEFAULT_PREFIX)
    parser.add_argument('--subnet', default=DEFAULT_SUBNET,
                        help='first three octets of its /24 (default %s)'
                             % DEFAULT_SUBNET)
    parser.add_argument('--workdir',
                        help='its work directory (default '
                             '/tmp/PREFIX-cluster)')
    parser.add_argument('--keep', action='store_true',
                        help='leave the cluster up at the end (a later run '
                             'reuses it)')
    parser.add_argument('--reuse', action='store_true',
                        help='use the cluster as it runs: start nothing, '
                             'stop nothing, rewrite no configuration (for '
                             'a test cluster)')
    parser.add_argument('--quick', action='store_true',
                        help='a smoke run: 0.5 s windows, c=2, sweep 2,4, '
                             'one round, the Python load generator')
    parser.add_argument('--seconds', '-d', type=float,
                        help='measured seconds per window (default 5)')
    parser.add_argument('--warmup', type=float,
                        help='unmeasured seconds before each window '
                             '(default 1)')
    parser.add_argument('--rounds', '-r', type=int,
                        help='rounds; figures are medians (default 1)')
    parser.add_argument('--concurrency', '-c',
                        help='comma-separated client counts (default 8,32)')
    parser.add_argument('--saturation',
                        help='client counts of the PUT sweep with 3 hosts '
                             '(default 8,32,64)')
    parser.add_argument('--paths',
                        help='comma-separated subset of %s'
                             % ','.join(name for name, _label in PATHS))
    parser.add_argument('--loadgen', choices=('auto', 'wrk', 'python'),
                        help='load generator (default auto: wrk if it is '
                             'on PATH; python with --quick)')
    parser.add_argument('--json', metavar='PATH',
                        help='also write the figures as JSON to PATH')
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {'seconds': 0.5 if quick else 5.0,
                'warmup': 0.2 if quick else 1.0,
                'rounds': 1,
                'concurrency': '2' if quick else '8,32',
                'saturation': '2,4' if quick else '8,32,64',
                'loadgen': 'python' if quick else 'auto'}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ('concurrency', 'saturation'):
        try:
            counts = [int(value) for value in getattr(args, name).split(',')]
        except ValueError:
            parser.error('--%s takes comma-separated integers' % name)
        if min(counts) < 1:
            parser.error('--%s must be at least 1' % name)
        setattr(args, name, counts)
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1:
        parser.error('--seconds must be positive, --warmup not negative, '
                     '--rounds at least 1')
    names = [name for name, _label in PATHS]
    args.paths = args.paths.split(',') if args.paths else names
    unknown = set(args.paths) - set(names)
    if unknown:
        parser.error('unknown paths: %s' % ', '.join(sorted(unknown)))
    if args.loadgen == 'auto':
        args.loadgen = 'wrk' if loadgen.wrk_path() else 'python'
    if args.loadgen == 'wrk' and not loadgen.wrk_path():
        parser.error('wrk is not on PATH (apt-get install wrk)')
    return args


# CPU and Galera counters at the edges of a window

def _cpu_seconds(pid):
    stat = bench._proc_stat(pid)
    if stat is None:
        return None
    # Fields 14 and 15 of /proc/<pid>/stat: utime and stime.
    return (int(stat[11]) + int(stat[12])) / float(bench.CLK_TCK)


def _children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _machine_busy_seconds():
    """CPU seconds all cores spent not idle since boot."""
    with open('/proc/stat') as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is
    # already in user).
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / float(bench.CLK_TCK)


class Probe(object):
    """Reads the cluster's processes' CPU and its Galera counters."""

    GROUPS = ('api', 'db', 'lb')

    def __init__(self, cluster):
        self.cluster = cluster
        # CPU seconds per second of each process and statements per
        # second with no load: health checks, the workers' sweeps,
        # Galera's own work. Subtracted from the figures per request, so
        # that they are what one more request costs.
        self.idle = None

    def measure_idle(self, seconds):
        start = self.snapshot()
        time.sleep(seconds)
        end = self.snapshot()
        wall = end['time'] - start['time']
        self.idle = {
            'cpu': {group: {name: (end['cpu'][group][name]
                                   - start['cpu'][group].get(name, 0.0))
                            / wall for name in end['cpu'][group]}
                    for group in self.GROUPS},
            'statements': self._statements(start, end) / wall,
            'machine': (end['machine'] - start['machine']) / wall,
        }
        return self.idle

    @staticmethod
    def _statements(start, end):
        return sum(end['galera'][node][name]
                   - start['galera'][node].get(name, 0)
                   for node in DB_NODES
                   for name in ('Questions', 'Com_admin_commands'))

    def members(self):
        """{group: {name: [pids]}}: each API host's gunicorn master and
        workers, each mariadbd, HAProxy.
        """
        members = {'api': {}, 'db': {}, 'lb': {}}
        for host in API_HOSTS:
            master = self.cluster.pid(host)
            if master is not None:
                members['api'][host] = [master] + _children(master)
        for node in DB_NODES:
            pid = self.cluster.pid(node)
            if pid is not None:
                members['db'][node] = [pid]
        pid = self.cluster.pid('lb')
        if pid is not None:
            members['lb']['lb'] = [pid]
        return members

    def galera(self):
        counters = {}
        for node in DB_NODES:
            rows = self.cluster.sql(
                node, 'SHOW GLOBAL STATUS WHERE Variable_name IN (%s)'
                % ', '.join(["'%s'" % name for name in STAT_NAMES]),
                database=None)
            counters[node] = {name: int(value) for name, value in rows}
        return counters

    def snapshot(self):
        members = self.members()
        cpu = {group: {name: sum(_cpu_seconds(pid) or 0.0 for pid in pids)
                       for name, pids in named.items()}
               for group, named in members.items()}
        return {'time': time.monotonic(), 'machine': _machine_busy_seconds(),
                'cpu': cpu, 'galera': self.galera(),
                'pids': {group: {name: tuple(pids)
                                 for name, pids in named.items()}
                         for group, named in members.items()}}

    def figures(self, start, end, requests):
        """What the cluster did between two snapshots: cores used in all,
        and CPU ms and statements per request net of the idle rates.
        """
        wall = end['time'] - start['time']
        idle = self.idle or {'cpu': {}, 'statements': 0.0}
        figures = {'wall_s': round(wall, 3), 'cores': {},
                   'ms_per_request': {}, 'member_ms_per_request': {}}
        changed = [name for group in self.GROUPS
                   for name, pids in end['pids'][group].items()
                   if start['pids'][group].get(name) != pids]
        if changed:
            # A worker that was replaced took its CPU time with it.
            log('processes changed during the window: %s; their CPU '
                'figures are low', ', '.join(changed))
            figures['processes_changed'] = changed

        def per_request(used, idle_rate):
            if not requests:
                return None
            return max(0.0, used - idle_rate * wall) * 1000.0 / requests

        ours = 0.0
        for group in self.GROUPS:
            used = {name: end['cpu'][group][name]
                    - start['cpu'][group].get(name, 0.0)
                    for name in end['cpu'][group]}
            idle_rates = idle['cpu'].get(group, {})
            total = sum(used.values())
            ours += total
            figures['cores'][group] = total / wall
            figures['ms_per_request'][group] = per_request(
                total, sum(idle_rates.values()))
            for name, seconds in used.items():
                figures['member_ms_per_request'][name] = per_request(
                    seconds, idle_rates.get(name, 0.0))
        busy = end['machine'] - start['machine']
        figures['cores']['machine'] = busy / wall
        # The load generator, the other clusters and whatever else runs.
        figures['cores']['other'] = (busy - ours) / wall
        figures['db_statements_per_request'] = (
            (self._statements(start, end) - idle['statements'] * wall)
            / float(requests) if requests else None)
        figures['write_conflicts'] = sum(
            end['galera'][node][name] - start['galera'][node].get(name, 0)
            for node in DB_NODES
            for name in ('wsrep_local_cert_failures',
                         'wsrep_local_bf_aborts'))
        paused = max(end['galera'][node]['wsrep_flow_control_paused_ns']
                     - start['galera'][node].get(
                         'wsrep_flow_control_paused_ns', 0)
                     for node in DB_NODES)
        figures['flow_control_paused_pct'] = paused / 1e9 / wall * 100.0
        return figures


# The cluster

class Topology(object):
    """Which API hosts HAProxy sends requests to."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.enabled = None

    def enable(self, count):
        """The first ``count`` API hosts ready, the others in
        maintenance (HAProxy sends them nothing new).
        """
        if count == self.enabled:
            return
        for index, host in enumerate(API_HOSTS):
            state = 'ready' if index < count else 'maint'
            answer = self.cluster.lb_command(
                'set server api_hosts/%s state %s' % (host, state)).strip()
            if answer:
                raise environment.ClusterError(
                    'HAProxy refused to set %s %s: %s' % (host, state,
                                                          answer))
        # A host leaving maintenance takes requests once its check passed.
        for host in API_HOSTS[:count]:
            self.cluster.wait_lb('api_hosts', host)
        self.enabled = count

    def restore(self):
        self.enabled = None
        self.enable(len(API_HOSTS))


class Endpoint(object):
    """Where bench.check sends its request."""

    def __init__(self, name, url):
        self.name = name
        self.url = url


def connect_database(cluster):
    """bench.Database on the cluster's heat_deploy database, through the
    load balancer's MySQL frontend of api1 (Galera node db1).
    """
    url = parse.urlsplit(cluster.database_url(API_HOSTS[0]))
    db = bench.Database('mysql', url)
    # The cluster's own database: bench.Database would create and drop a
    # fresh one; here it is only opened (created stays False, so its drop
    # only closes the connection).
    db.name = url.path.strip('/')
    db.open()
    return db


# The paths

class Targets(object):
    """The loadgen.Target of each path, from bench's fixtures."""

    def __init__(self, fixtures):
        self.fixtures = fixtures
        self.bench_paths = bench.Paths(fixtures)
        poll = self.bench_paths.static['agent_304']
        self.full_poll = loadgen.Target('GET', poll.paths)

    def target(self, path, count):
        """``count``: how many one-use paths the window may take."""
        if path == 'signal':
            return self.bench_paths.target('signal', count)
        if path == 'put':
            # bench cycles its pool from neighbouring offsets, so two
            # clients often update one row at once: on one server that
            # is a short lock wait, on Galera with two writer nodes a
            # certification conflict. An agent reports only its own
            # deployment: each client here takes its own rows. With
            # ``once`` wrk gives thread t the lines t, t+T, t+2T... of the
            # list, and the Python clients consecutive lines, so the pool
            # repeated (its size a multiple of any thread count wrk
            # picks) keeps concurrent PUTs on distinct rows.
            put = self.bench_paths.static['put']
            repeats = max(1, int(math.ceil(count / float(len(put.paths)))))
            return loadgen.Target('PUT', put.paths * repeats, body=put.body,
                                  headers=put.headers, once=True)
        if path == 'agent_304':
            return self.bench_paths.static['agent_304']
        return self.full_poll


def pool_size(args, rate, concurrency):
    """One-use paths enough for twice ``rate`` over warm-up and window."""
    window = (math.ceil(args.warmup) + math.ceil(args.seconds)
              if args.loadgen == 'wrk' else args.warmup + args.seconds)
    return int(rate * window * 2) + 20 * (concurrency + 1)


def check_every_host(cluster, targets, fixtures, paths):
    """One request of each path on each API host and through HAProxy;
    raises if an answer is not the one expected.
    """
    endpoints = [Endpoint(host, cluster.api_url(host)) for host in API_HOSTS]
    endpoints.append(Endpoint('lb', cluster.lb_url))
    for path in paths:
        target = targets.target(path, len(endpoints))
        for index, endpoint in enumerate(endpoints):
            bench.check(endpoint, target, index % len(target.paths))
        if path == 'signal':
            fixtures.drop_signalled()


# Measuring

def measure(args, probe, url, target, concurrency):
    """One window; returns its figures."""
    edges = {}
    result, _generator = loadgen.drive(
        url, target, concurrency, args.warmup, args.seconds,
        on_start=lambda: edges.__setitem__('start', probe.snapshot()),
        on_end=lambda: edges.__setitem__('end', probe.snapshot()),
        generator=args.loadgen)
    figures = probe.figures(edges['start'], edges['end'], result.requests)
    figures.update({
        'requests': result.requests,
        'seconds': round(result.seconds, 3),
        'requests_per_s': result.requests_per_s,
        'p50_ms': result.p50_ms,
        'p99_ms': result.p99_ms,
        'errors': result.errors,
        'unexpected': sum(result.errors.values()),
    })
    if result.exhausted:
        log('the pool of one-use paths ran out after %.1f s; the window '
            'was shorter', result.seconds)
        figures['exhausted'] = True
    return figures


def via_label(via, hosts):
    if via == 'direct':
        return '%s direct' % DIRECT_HOST
    return 'lb, %d host%s' % (hosts, '' if hosts == 1 else 's')


def run(args, cluster, topology, probe, targets, fixtures):
    """Every round, path, concurrency and topology, then the sweep;
    returns {(section, path, concurrency, via, hosts): [windows]}.
    """
    windows = {}
    best_rates = {}

    def one(section, path, concurrency, via, hosts, number):
        if via == 'lb':
            topology.enable(hosts)
        url = cluster.api_url(DIRECT_HOST) if via == 'direct' \
            else cluster.lb_url
        rate = max(best_rates.get(path, FIRST_RATE_GUESS), MIN_RATE_GUESS)
        target = targets.target(path, pool_size(args, rate, concurrency))
        figures = measure(args, probe, url, target, concurrency)
        if path == 'signal':
            fixtures.drop_signalled()
        best_rates[path] = max(best_rates.get(path, 0.0),
                               figures['requests_per_s'])
        figures['round'] = number
        windows.setdefault((section, path, concurrency, via, hosts),
                           []).append(figures)
        log('round %d/%d %-10s %-24s c=%-3d %-13s %8.1f req/s  p99 %7.1f '
            'ms  API %s DB %s ms/req  busy %s cores  unexpected %d',
            number + 1, args.rounds, section, LABELS[path], concurrency,
            via_label(via, hosts), figures['requests_per_s'],
            figures['p99_ms'] or 0,
            _fmt(figures['ms_per_request']['api'], 2),
            _fmt(figures['ms_per_request']['db'], 2),
            _fmt(figures['cores']['machine'], 2), figures['unexpected'])

    for number in range(args.rounds):
        # Alternate the order, so that no topology always runs first.
        order = VIAS if number % 2 == 0 else VIAS[::-1]
        for path in args.paths:
            for concurrency in args.concurrency:
                for via, hosts in order:
                    one('scale', path, concurrency, via, hosts, number)
        if 'put' in args.paths:
            for concurrency in args.saturation:
                one('saturation', 'put', concurrency, 'lb', len(API_HOSTS),
                    number)
    return windows


def _median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def summarise(rounds):
    """Medians over the rounds of every figure; unexpected answers and
    write conflicts are totals.
    """
    summary = {}
    for name in ('requests_per_s', 'p50_ms', 'p99_ms',
                 'db_statements_per_request', 'flow_control_paused_pct'):
        summary[name] = _median([window[name] for window in rounds])
    for name in ('cores', 'ms_per_request', 'member_ms_per_request'):
        keys = set()
        for window in rounds:
            keys.update(window[name])
        summary[name] = {key: _median([window[name].get(key)
                                       for window in rounds])
                         for key in sorted(keys)}
    summary['unexpected'] = sum(window['unexpected'] for window in rounds)
    errors = {}
    for window in rounds:
        for status, count in window['errors'].items():
            errors[status] = errors.get(status, 0) + count
    summary['errors'] = errors
    summary['write_conflicts'] = sum(window['write_conflicts']
                                     for window in rounds)
    summary['rounds'] = rounds
    return summary


def results_of(args, windows):
    """Rows of the scale table, with the ratio to the single host: the
    median over the rounds of each round's ratio, the two measured in
    the same round.
    """
    rows = []
    for path in args.paths:
        for concurrency in args.concurrency:
            single = windows.get(('scale', path, concurrency, 'direct', 1))
            for via, hosts in VIAS:
                rounds = windows.get(('scale', path, concurrency, via,
                                      hosts))
                if not rounds:
                    continue
                row = {'path': path, 'label': LABELS[path],
                       'concurrency': concurrency, 'via': via,
                       'hosts': hosts}
                row.update(summarise(rounds))
                row['ratio_to_single_host'] = _median([
                    window['requests_per_s'] / base['requests_per_s']
                    for window, base in zip(rounds, single or [])
                    if base['requests_per_s']])
                rows.append(row)
    return rows


def saturation_of(args, windows):
    """The PUT sweep with 3 hosts: each step's gain, the knee, and what
    used the CPU there.
    """
    steps = []
    for concurrency in args.saturation:
        rounds = windows.get(('saturation', 'put', concurrency, 'lb',
                              len(API_HOSTS)))
        if rounds:
            step = {'concurrency': concurrency}
            step.update(summarise(rounds))
            steps.append(step)
    if not steps:
        return None
    knee = steps[-1]
    reached = False
    best = 0.0
    for previous, step in zip(steps, steps[1:]):
        best = max(best, previous['requests_per_s'] or 0.0)
        step['gain'] = ((step['requests_per_s'] or 0.0) / best
                        if best else None)
    for previous, step in zip(steps, steps[1:]):
        if step['gain'] is not None and step['gain'] < KNEE_GAIN:
            knee, reached = previous, True
            break
    cores = knee['cores']
    ours = {group: cores.get(group) or 0.0 for group in Probe.GROUPS}
    limit = max(ours, key=ours.get)
    nproc = os.cpu_count() or 1
    # Every Galera node applies every write: the busiest node is the one
    # that saturates first when each has a machine of its own.
    node_ms = {node: knee['member_ms_per_request'].get(node)
               for node in DB_NODES}
    busiest = max((ms for ms in node_ms.values() if ms is not None),
                  default=None)
    return {
        'steps': steps,
        'knee_concurrency': knee['concurrency'],
        # False: still growing at the largest concurrency measured.
        'knee_reached': reached,
        'knee_requests_per_s': knee['requests_per_s'],
        'machine_busy_cores': cores.get('machine'),
        'nproc': nproc,
        'largest_consumer': limit,
        'cores_by_group': ours,
        'other_cores': cores.get('other'),
        'db_node_ms_per_put': node_ms,
        # A node with this machine's cores to itself.
        'db_node_saturates_at_put_per_s': (nproc * 1000.0 / busiest
                                           if busiest else None),
        'api_saturates_at_put_per_s': (
            nproc * 1000.0 / knee['ms_per_request']['api']
            if knee['ms_per_request'].get('api') else None),
    }


def _best(rows, path, via, hosts):
    """The row of a path and topology at its best concurrency."""
    candidates = [row for row in rows if row['path'] == path
                  and row['via'] == via and row['hosts'] == hosts
                  and row['requests_per_s']]
    return max(candidates, key=lambda row: row['requests_per_s'],
               default=None)


def extrapolation_of(rows):
    """The CPU that SERVERS agents polling every POLL_INTERVAL would need,
    from the CPU per request measured here (not from the rates, which
    only say what two shared cores do).
    """
    polls = SERVERS / POLL_INTERVAL
    single_304 = _best(rows, 'agent_304', 'direct', 1)
    single_200 = _best(rows, 'agent_200', 'direct', 1)
    lb_304 = _best(rows, 'agent_304', 'lb', len(API_HOSTS))
    lb_200 = _best(rows, 'agent_200', 'lb', len(API_HOSTS))
    if single_304 is None:
        return None
    # Without a measured full answer, count it as a 304 (a lower bound).
    single_200 = single_200 or single_304
    lb_200 = lb_200 or lb_304

    def mix(row_304, row_200, group):
        if row_304 is None:
            return None
        ours = row_304['ms_per_request'].get(group)
        theirs = row_200['ms_per_request'].get(group)
        if ours is None or theirs is None:
            return None
        return SHARE_304 * ours + (1 - SHARE_304) * theirs

    api_ms = mix(single_304, single_200, 'api')
    db_ms = mix(single_304, single_200, 'db')
    lb_ms = mix(lb_304, lb_200, 'lb')
    api_cores = polls * api_ms / 1000.0 if api_ms is not None else None
    statements = single_304.get('db_statements_per_request')
    return {
        'servers': SERVERS, 'poll_interval_s': POLL_INTERVAL,
        'polls_per_s': polls, 'share_304': SHARE_304,
        'api_ms_per_304': single_304['ms_per_request'].get('api'),
        'api_ms_per_200': single_200['ms_per_request'].get('api'),
        'api_ms_per_poll': api_ms,
        'api_cores': api_cores,
        # Two sync workers per host, each at most one core, kept below
        # TARGET_UTILISATION for latency.
        'api_hosts_2_workers': (
            int(math.ceil(api_cores / (bench.WORKERS * TARGET_UTILISATION)))
            if api_cores is not None else None),
        'single_host_304_per_s_here': single_304['requests_per_s'],
        'db_ms_per_poll': db_ms,
        'db_cores': polls * db_ms / 1000.0 if db_ms is not None else None,
        'db_statements_per_304': statements,
        'db_statements_per_s': (polls * statements
                                if statements is not None else None),
        'lb_ms_per_poll': lb_ms,
        'lb_cores': polls * lb_ms / 1000.0 if lb_ms is not None else None,
    }


# The report

def _fmt(value, digits=1):
    return bench._fmt(value, digits)


def markdown(header, lines):
    out = ['| ' + ' | '.join(header) + ' |',
           '|' + '|'.join('---' if index == 0 else '---:'
                          for index in range(len(header))) + '|']
    out += ['| ' + ' | '.join(line) + ' |' for line in lines]
    return '\n'.join(out)


def scale_table(rows):
    header = ['path', 'c', 'via', 'req/s', 'p50', 'p99', 'unexp.',
              'x single', 'API ms', 'DB ms', 'LB ms', 'stmts', 'API cores',
              'DB cores', 'busy', 'confl.', 'fc %']
    lines = []
    for row in rows:
        ms = row['ms_per_request']
        cores = row['cores']
        lines.append([
            row['label'], str(row['concurrency']),
            via_label(row['via'], row['hosts']),
            _fmt(row['requests_per_s']), _fmt(row['p50_ms']),
            _fmt(row['p99_ms']), str(row['unexpected']),
            _fmt(row['ratio_to_single_host'], 2), _fmt(ms.get('api'), 2),
            _fmt(ms.get('db'), 2), _fmt(ms.get('lb'), 2),
            _fmt(row['db_statements_per_request'], 1),
            _fmt(cores.get('api'), 2), _fmt(cores.get('db'), 2),
            _fmt(cores.get('machine'), 2), str(row['write_conflicts']),
            _fmt(row['flow_control_paused_pct'], 1)])
    return markdown(header, lines)


def saturation_report(saturation):
    header = ['PUT, lb, 3 hosts: c', 'req/s', 'gain', 'p99', 'API cores',
              'DB cores', 'LB cores', 'other', 'busy', 'DB ms', 'confl.',
              'fc %']
    lines = []
    for step in saturation['steps']:
        cores = step['cores']
        lines.append([
            str(step['concurrency']), _fmt(step['requests_per_s']),
            _fmt(step.get('gain'), 2), _fmt(step['p99_ms']),
            _fmt(cores.get('api'), 2), _fmt(cores.get('db'), 2),
            _fmt(cores.get('lb'), 2), _fmt(cores.get('other'), 2),
            _fmt(cores.get('machine'), 2),
            _fmt(step['ms_per_request'].get('db'), 2),
            str(step['write_conflicts']),
            _fmt(step['flow_control_paused_pct'], 1)])
    out = [markdown(header, lines), '']
    out.append(
        '%s c=%d, %s PUT/s; the machine is then %s of %d cores busy, '
        'the largest consumer of ours being %s (API %s, DB %s, LB %s '
        'cores; the load generator and other processes %s).' % (
            'Throughput stops growing (the next step gains < %d%%) at'
            % round((KNEE_GAIN - 1) * 100)
            if saturation['knee_reached']
            else 'Throughput still grows at the largest concurrency '
            'measured,',
            saturation['knee_concurrency'],
            _fmt(saturation['knee_requests_per_s']),
            _fmt(saturation['machine_busy_cores'], 2), saturation['nproc'],
            {'api': 'the API hosts\' gunicorns', 'db': 'the mariadbd nodes',
             'lb': 'HAProxy'}[saturation['largest_consumer']],
            _fmt(saturation['cores_by_group']['api'], 2),
            _fmt(saturation['cores_by_group']['db'], 2),
            _fmt(saturation['cores_by_group']['lb'], 2),
            _fmt(saturation['other_cores'], 2)))
    out.append(
        'Every Galera node applies every write (DB ms per PUT by node: %s): '
        'a node with %d cores to itself would saturate near %s PUT/s, the '
        'API at %s PUT/s per %d cores (from CPU per request; an '
        'extrapolation, not a measurement).' % (
            ', '.join('%s %s' % (node, _fmt(ms, 2)) for node, ms in
                      saturation['db_node_ms_per_put'].items()),
            saturation['nproc'],
            _fmt(saturation['db_node_saturates_at_put_per_s'], 0),
            _fmt(saturation['api_saturates_at_put_per_s'], 0),
            saturation['nproc']))
    return '\n'.join(out)


def extrapolation_report(figures):
    return '\n'.join([
        'Extrapolation, from the CPU per request measured on this %d-core '
        'machine (not a capacity):' % (os.cpu_count() or 1),
        '- %d servers polling every %d s: %s polls/s, %d%% answered 304 '
        'and %d%% 200.' % (figures['servers'], figures['poll_interval_s'],
                           _fmt(figures['polls_per_s'], 0),
                           round(figures['share_304'] * 100),
                           round((1 - figures['share_304']) * 100)),
        '- API: %s ms CPU per 304, %s ms per 200, %s ms per poll: %s cores '
        'of gunicorn workers busy; with 2 sync workers per host (one core '
        'each at most) at %d%%, %s API hosts. (One host answered %s 304/s '
        'here, sharing %d cores with everything else.)' % (
            _fmt(figures['api_ms_per_304'], 2),
            _fmt(figures['api_ms_per_200'], 2),
            _fmt(figures['api_ms_per_poll'], 2),
            _fmt(figures['api_cores'], 1),
            round(TARGET_UTILISATION * 100),
            figures['api_hosts_2_workers'],
            _fmt(figures['single_host_304_per_s_here'], 0),
            os.cpu_count() or 1),
        '- Database: %s statements per 304 (counted on the nodes, net of '
        'the idle rate; one SELECT of the server\'s row), %s '
        'statements/s; %s ms mariadbd CPU per poll, %s cores in all, '
        'spread over the nodes (reads are not replicated: each node serves '
        'the polls of its API hosts).' % (
            _fmt(figures['db_statements_per_304'], 2),
            _fmt(figures['db_statements_per_s'], 0),
            _fmt(figures['db_ms_per_poll'], 2),
            _fmt(figures['db_cores'], 2)),
        '- HAProxy: %s ms per poll, %s cores.' % (
            _fmt(figures['lb_ms_per_poll'], 3),
            _fmt(figures['lb_cores'], 2)),
    ])


CAVEATS = (
    'On one machine every API host, Galera node, HAProxy and the load '
    'generator share the same cores: more API hosts cannot add throughput '
    'here. "x single" (req/s over the single host measured directly in the '
    'same round) shows the cost of HAProxy and of spreading the load, and '
    'whether anything serialises across hosts (confl.: Galera '
    'certification failures and brute-force aborts; fc %: the longest time '
    'a node\'s flow control paused replication). Writes are replicated '
    'to all three nodes in every row, the single host\'s included. When '
    'other work also keeps the cores busy (busy near the core count, '
    'little of it ours), more gunicorn workers take a larger share of '
    'them: a ratio above 1 then says that, not that hosts add capacity.')


def legend():
    return ('req/s: answers per second; p50, p99: latency in ms; unexp.: '
            'answers other than 200/304 (and signals not "applied"), all '
            'rounds; API/DB/LB ms: CPU ms (user + system) per request of '
            'all gunicorn processes / the three mariadbd / HAProxy, and '
            'stmts: statements per request on all nodes, both net of the '
            'idle rates measured before the windows; cores: CPU seconds per '
            'second over the window; busy: the whole machine, other '
            'clusters and the load generator included.')


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt('signal %d' % signum)


def main(argv=None):
    args = parse_args(argv)
    began = time.monotonic()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    cluster = environment.Cluster(args.workdir, prefix=args.prefix,
                                  subnet=args.subnet)
    if args.reuse:
        missing = [name for name in API_HOSTS + DB_NODES + ('lb',)
                   if not cluster.running(name)]
        if missing:
            log('--reuse: not running in %s: %s', cluster.workdir,
                ', '.join(missing))
            return 2
    else:
        log('bringing up the cluster %s (%s.0/24) in %s', args.prefix,
            args.subnet, cluster.workdir)
        log('cluster up in %.0f s', cluster.up())
    topology = Topology(cluster)
    db = None
    try:
        cluster.wait_api_up()
        db = connect_database(cluster)
        fixtures = bench.Fixtures(db, cluster.lb_url, cluster.signing_key,
                                  args.quick)
        # A multiple of any thread count wrk picks (see Targets.target).
        fixtures.make(put_pool=16 if args.quick else 256)
        targets = Targets(fixtures)
        check_every_host(cluster, targets, fixtures, args.paths)
        probe = Probe(cluster)
        idle = probe.measure_idle(0.5 if args.quick else 3.0)
        host = bench.host_info(db, args.loadgen)
        for name in ('round_trips_from', 'server_statements_from'):
            host.pop(name, None)
        host['idle'] = idle
        log('%s; %s; %s s windows (+%s s warm-up), %d round(s), c=%s, '
            'sweep c=%s; idle: API %s DB %s LB %s cores, machine %s, %s '
            'statements/s',
            host['database_version'], args.loadgen, args.seconds,
            args.warmup, args.rounds,
            ','.join(map(str, args.concurrency)),
            ','.join(map(str, args.saturation)),
            *[_fmt(sum(idle['cpu'][group].values()), 3)
              for group in Probe.GROUPS],
            _fmt(idle['machine'], 2), _fmt(idle['statements'], 1))
        windows = run(args, cluster, topology, probe, targets, fixtures)
        host['loadavg_end'] = os.getloadavg()
        rows = results_of(args, windows)
        saturation = saturation_of(args, windows)
        extrapolation = extrapolation_of(rows)
        elapsed = time.monotonic() - began
        print('heat_deploy on %d API hosts (gunicorn, %d sync workers '
              'each) behind HAProxy, 3-node Galera (%s), one machine: %s, '
              '%s CPUs (%s), %s' % (len(API_HOSTS), bench.WORKERS,
                                    host['database_version'], host['date'],
                                    host['nproc'], host['cpu_model'],
                                    args.loadgen))
        print()
        print(scale_table(rows))
        print()
        print(legend())
        print(CAVEATS)
        if saturation:
            print()
            print(saturation_report(saturation))
        if extrapolation:
            print()
            print(extrapolation_report(extrapolation))
        if args.json:
            document = {
                'settings': {
                    'seconds': args.seconds, 'warmup': args.warmup,
                    'rounds': args.rounds, 'concurrency': args.concurrency,
                    'saturation': args.saturation, 'paths': args.paths,
                    'quick': args.quick, 'loadgen': args.loadgen,
                    'prefix': args.prefix, 'subnet': args.subnet,
                    'statistic': 'median over rounds; unexpected answers '
                                 'and write conflicts are totals'},
                'host': host, 'results': rows, 'saturation': saturation,
                'extrapolation': extrapolation,
                'elapsed_s': round(elapsed, 1),
                'finished': datetime.datetime.now(
                    datetime.timezone.utc).isoformat(timespec='seconds')}
            with open(args.json, 'w') as out:
                json.dump(document, out, indent=2, default=str)
        log('done in %.0f s', elapsed)
        unexpected = sum(row['unexpected'] for row in rows) + sum(
            step['unexpected'] for step in (saturation or {}).get('steps',
                                                                  []))
        if unexpected:
            log('%d unexpected answers; API host logs: %s', unexpected,
                ', '.join(cluster.log_path(host) for host in API_HOSTS))
        return 1 if unexpected else 0
    finally:
        # Cleanup must not be cut short by a second ^C.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if cluster.running('lb'):
                topology.restore()
        finally:
            if db is not None:
                db.drop()
            if not (args.keep or args.reuse):
                log('bringing the cluster down')
                cluster.down()


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log('interrupted')
        sys.exit(130)
