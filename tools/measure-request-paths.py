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

"""Measure three hot request paths of heat_deploy under gunicorn and MariaDB.

A small before/after check, not a benchmark. The tool

1. creates a fresh MariaDB database ``hd_measure_<random>`` (utf8mb4,
   utf8mb4_bin) on the loopback server and migrates it with
   ``heat-deploy-manage --config-file F db sync``;
2. starts ``gunicorn --workers 2 --no-control-socket
   heat_deploy.wsgi.api:application`` on a free 127.0.0.1 port, with noauth
   and the config quota lifted, and waits for ``/healthcheck``;
3. seeds a project with one deployment (IN_PROGRESS, server ``server-0``)
   and a server ``server-m`` with 10 deployments of 10 configs;
4. drives each path with N concurrent clients (a thread pool, one
   ``requests.Session`` per thread, closed loop) for D seconds after a 1 s
   warm-up:

   * ``PUT  /v1/{t}/software_deployments/{id}`` (status and outputs),
   * ``GET  /v1/{t}/software_deployments/metadata/server-m``,
   * ``POST /v1/{t}/software_configs``;

5. prints requests/s, p50 and p99 latency (ms) and the count of non-2xx
   answers (connection errors count as non-2xx) per path;
6. stops gunicorn and drops the database whatever happens.

With ``--rounds R`` the three paths are measured R times, interleaved, and
each figure is the median over the rounds; the non-2xx column is the total
over all rounds. Only requests that start after the warm-up and finish
within the D seconds are counted.

The gunicorn and heat-deploy-manage that run are those of ``--venv`` (by
default the virtualenv of the python running this tool), started outside
the repository so that the venv's installed heat_deploy is what is measured;
the code location and its ``git describe`` are printed to stderr.

Usage::

    # the code installed in the venv running the tool
    /work/venv/bin/python tools/measure-request-paths.py --rounds 3

    # another checkout installed in another venv (e.g. a baseline commit)
    /work/venv/bin/python tools/measure-request-paths.py \\
        --venv /tmp/hd-baseline-venv --rounds 3 --concurrency 8 --seconds 10

    # machine-readable output
    tools/measure-request-paths.py --json > figures.json

Needs a MariaDB/MySQL server on 127.0.0.1:3306 where root may log in
without a password (``--mysql-url`` to change; loopback only), and
requests, SQLAlchemy and PyMySQL in the python running the tool.
"""

import argparse
import collections
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests
import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url
from sqlalchemy import pool as sa_pool

DEFAULT_MYSQL_URL = 'mysql+pymysql://root@127.0.0.1:3306/'
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')
HEADERS = {'X-Auth-Token': 't', 'Content-Type': 'application/json'}
WORKERS = 2
METADATA_SERVER = 'server-m'
METADATA_DEPLOYMENTS = 10

# Every step is bounded in time.
START_TIMEOUT = 60      # gunicorn until /healthcheck answers 200
STOP_TIMEOUT = 10       # SIGTERM to gunicorn, then SIGKILL of its group
MIGRATE_TIMEOUT = 300   # heat-deploy-manage db sync
REQUEST_TIMEOUT = 30    # one HTTP request
SQL_TIMEOUT = 60        # CREATE / DROP DATABASE


def log(message, *args):
    print(message % args if args else message, file=sys.stderr, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Measure PUT, metadata GET and config POST of '
                    'heat_deploy under gunicorn (2 workers) and MariaDB.')
    parser.add_argument(
        '--venv', metavar='DIR',
        help='virtualenv whose bin/gunicorn and bin/heat-deploy-manage run '
             'the service (default: the one of the python running this '
             'tool, %s)' % os.path.dirname(os.path.dirname(sys.executable)))
    parser.add_argument('--concurrency', '-c', type=int, default=8,
                        help='concurrent clients per path (default 8)')
    parser.add_argument('--seconds', '-d', type=float, default=10.0,
                        help='measured seconds per path and round '
                             '(default 10)')
    parser.add_argument('--warmup', type=float, default=1.0,
                        help='unmeasured seconds before each measurement '
                             '(default 1)')
    parser.add_argument('--rounds', '-r', type=int, default=1,
                        help='rounds; each figure is the median '
                             '(default 1)')
    parser.add_argument('--json', action='store_true',
                        help='print JSON instead of a table')
    parser.add_argument('--mysql-url', default=DEFAULT_MYSQL_URL,
                        help='SQLAlchemy URL of the MariaDB server, used to '
                             'create and drop the database (default %s; '
                             'loopback hosts only)' % DEFAULT_MYSQL_URL)
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error('--concurrency must be at least 1')
    if args.seconds <= 0 or args.warmup < 0:
        parser.error('--seconds must be positive, --warmup not negative')
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    url = sa_url.make_url(args.mysql_url)
    if url.get_backend_name() != 'mysql':
        parser.error('--mysql-url must be a mysql+pymysql:// URL')
    if (url.host or 'localhost') not in LOOPBACK_HOSTS:
        parser.error('--mysql-url must name a loopback host (%s)'
                     % ', '.join(LOOPBACK_HOSTS))
    bindir = (os.path.join(os.path.abspath(args.venv), 'bin') if args.venv
              else os.path.dirname(sys.executable))
    args.gunicorn = os.path.join(bindir, 'gunicorn')
    args.manage = os.path.join(bindir, 'heat-deploy-manage')
    args.python = os.path.join(bindir, 'python')
    for path in (args.gunicorn, args.manage, args.python):
        if not os.access(path, os.X_OK):
            parser.error('%s is missing; install gunicorn and heat_deploy '
                         'in that virtualenv or pass --venv' % path)
    return args


class Database:
    """A fresh MariaDB database, dropped by drop()."""

    def __init__(self, admin_url):
        self.admin_url = sa_url.make_url(admin_url).set(database=None)
        self.name = 'hd_measure_%s' % secrets.token_hex(6)
        self.engine = sa.create_engine(
            self.admin_url, isolation_level='AUTOCOMMIT',
            poolclass=sa_pool.NullPool,
            connect_args={'connect_timeout': 10,
                          'read_timeout': SQL_TIMEOUT,
                          'write_timeout': SQL_TIMEOUT})

    @property
    def url(self):
        return self.admin_url.set(database=self.name).render_as_string(
            hide_password=False)

    def create(self):
        with self.engine.connect() as connection:
            connection.exec_driver_sql(
                'CREATE DATABASE %s CHARACTER SET utf8mb4 '
                'COLLATE utf8mb4_bin' % self.name)

    def drop(self):
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql(
                    'DROP DATABASE IF EXISTS %s' % self.name)
        finally:
            self.engine.dispose()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_conf_file(path, database_url):
    sections = {
        'DEFAULT': {'debug': 'false'},
        'database': {'connection': database_url},
        'api': {'auth_strategy': 'noauth'},
        'signal': {'signing_keys': secrets.token_urlsafe(32)},
        'quota': {'max_software_configs_per_tenant': '-1'},
    }
    with open(path, 'w') as conf_file:
        for section, options in sections.items():
            conf_file.write('[%s]\n' % section)
            for name, value in options.items():
                conf_file.write('%s = %s\n' % (name, value))
            conf_file.write('\n')
    os.chmod(path, 0o600)


def child_env(conf_file):
    """The environment of the service: only the venv's code, no leaks."""
    env = dict(os.environ, HEAT_DEPLOY_CONFIG_FILE=conf_file)
    for name in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP'):
        env.pop(name, None)
    return env


def describe_code(args, env, workdir):
    """Where the venv's heat_deploy lives and its git describe."""
    info = {'venv_bin': os.path.dirname(args.gunicorn)}
    try:
        out = subprocess.run(
            [args.python, '-c', 'import os, heat_deploy; '
             'print(os.path.dirname(os.path.dirname('
             'os.path.abspath(heat_deploy.__file__))))'],
            cwd=workdir, env=env, capture_output=True, text=True,
            timeout=60, check=True)
        info['heat_deploy'] = out.stdout.strip()
        out = subprocess.run(
            ['git', '-C', info['heat_deploy'], 'describe', '--always',
             '--dirty', '--abbrev=7'],
            capture_output=True, text=True, timeout=30)
        if out.returncode == 0:
            info['git'] = out.stdout.strip()
    except (OSError, subprocess.SubprocessError) as err:
        info['error'] = str(err)
    return info


def migrate(args, conf_file, env, workdir):
    out = subprocess.run(
        [args.manage, '--config-file', conf_file, 'db', 'sync'],
        cwd=workdir, env=env, capture_output=True, text=True,
        timeout=MIGRATE_TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError('heat-deploy-manage db sync failed (%d):\n%s%s'
                           % (out.returncode, out.stdout, out.stderr))


class Server:
    """gunicorn serving heat_deploy on a free loopback port."""

    def __init__(self, args, env, workdir):
        self.args = args
        self.env = env
        self.workdir = workdir
        self.log_path = os.path.join(workdir, 'gunicorn.log')
        self.process = None
        self.url = None

    def start(self):
        port = free_port()
        self.url = 'http://127.0.0.1:%d' % port
        with open(self.log_path, 'wb') as log_file:
            # cwd outside any checkout: gunicorn puts its cwd first on
            # sys.path, which must not shadow the venv's heat_deploy.
            # A session of its own, so that a ^C reaches only this tool and
            # the whole group can be killed if it does not stop.
            self.process = subprocess.Popen(
                [self.args.gunicorn, '--workers', str(WORKERS),
                 '--bind', '127.0.0.1:%d' % port, '--no-control-socket',
                 'heat_deploy.wsgi.api:application'],
                cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.url + '/healthcheck',
                                timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError('gunicorn did not serve /healthcheck within %ds:'
                           '\n%s' % (START_TIMEOUT, self.log_tail()))

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        # Workers of a master that died or hung: kill the whole group.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log('gunicorn (pid %d) did not exit', self.process.pid)

    def log_tail(self, size=5000):
        try:
            with open(self.log_path, errors='replace') as log_file:
                return log_file.read()[-size:]
        except OSError:
            return ''


def call(session, method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    response = session.request(method, url, data=data,
                               timeout=REQUEST_TIMEOUT)
    if not 200 <= response.status_code < 300:
        raise RuntimeError('%s %s: %d %s' % (method, url,
                                             response.status_code,
                                             response.text[:2000]))
    return response.json()


def seed(base):
    """A project with the objects the measured paths use."""
    tenant = uuid.uuid4().hex
    root = '%s/v1/%s' % (base, tenant)
    with requests.Session() as session:
        session.headers.update(HEADERS)

        def make_config(name):
            return call(session, 'POST', root + '/software_configs', {
                'name': name, 'group': 'script',
                'config': '#!/bin/sh\necho %s' % name,
                'inputs': [{'name': 'a', 'default': '1'}],
                'outputs': [{'name': 'result'}],
            })['software_config']['id']

        def make_deployment(config_id, server_id):
            return call(session, 'POST', root + '/software_deployments', {
                'config_id': config_id, 'server_id': server_id,
                'action': 'CREATE', 'status': 'IN_PROGRESS',
                'status_reason': 'Deploy data available',
                'input_values': {'a': '2'},
            })['software_deployment']['id']

        deployment_id = make_deployment(make_config('put-target'),
                                        'server-0')
        for index in range(METADATA_DEPLOYMENTS):
            make_deployment(make_config('m-%02d' % index), METADATA_SERVER)
    return root, deployment_id


def paths(root, deployment_id):
    """(label, method, url, body bytes) of each measured path."""
    return [
        ('PUT /software_deployments/{id}', 'PUT',
         '%s/software_deployments/%s' % (root, deployment_id),
         json.dumps({'status': 'IN_PROGRESS', 'status_reason': 'r',
                     'output_values': {'deploy_stdout': 'x',
                                       'result': 'y'}}).encode()),
        ('GET /software_deployments/metadata/%s' % METADATA_SERVER, 'GET',
         '%s/software_deployments/metadata/%s' % (root, METADATA_SERVER),
         None),
        ('POST /software_configs', 'POST', root + '/software_configs',
         json.dumps({'name': 'c', 'config': '#!/bin/sh\necho hi',
                     'inputs': [{'name': 'a'}],
                     'outputs': [{'name': 'b'}]}).encode()),
    ]


def percentile(ordered, pct):
    """Nearest-rank percentile of a sorted list, or None if it is empty."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100.0 * len(ordered)) - 1)]


def drive(method, url, body, concurrency, warmup, seconds):
    """Closed-loop load from `concurrency` threads; returns the figures."""
    stop = threading.Event()
    start = time.monotonic() + 0.05
    measure_from = start + warmup
    measure_until = measure_from + seconds
    results = [None] * concurrency

    def worker(index):
        latencies = []
        statuses = collections.Counter()
        with requests.Session() as session:
            session.headers.update(HEADERS)
            while not stop.is_set():
                began = time.monotonic()
                if began >= measure_until:
                    break
                try:
                    response = session.request(method, url, data=body,
                                               timeout=REQUEST_TIMEOUT)
                    status = response.status_code
                except requests.RequestException as err:
                    status = type(err).__name__
                ended = time.monotonic()
                if began >= measure_from and ended <= measure_until:
                    latencies.append(ended - began)
                    statuses[status] += 1
        results[index] = (latencies, statuses)

    threads = [threading.Thread(target=worker, args=(index,), daemon=True)
               for index in range(concurrency)]
    try:
        time.sleep(max(0.0, start - time.monotonic()))
        for thread in threads:
            thread.start()
        for thread in threads:
            # Bounded: every request has REQUEST_TIMEOUT.
            thread.join(timeout=max(0.0, measure_until - time.monotonic())
                        + REQUEST_TIMEOUT + 5)
    finally:
        stop.set()
    latencies = []
    statuses = collections.Counter()
    for result in results:
        if result is not None:
            latencies.extend(result[0])
            statuses.update(result[1])
    latencies.sort()
    non_2xx = {str(status): count for status, count in statuses.items()
               if not (isinstance(status, int) and 200 <= status < 300)}
    return {
        'requests': len(latencies),
        'requests_per_s': round(len(latencies) / seconds, 2),
        'p50_ms': _ms(percentile(latencies, 50)),
        'p99_ms': _ms(percentile(latencies, 99)),
        'non_2xx': sum(non_2xx.values()),
        'non_2xx_statuses': non_2xx,
    }


def _ms(value):
    return None if value is None else round(value * 1000.0, 2)


def _median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def measure(args, base):
    root, deployment_id = seed(base)
    targets = paths(root, deployment_id)
    # One request each first: a tool or setup error is not a figure.
    with requests.Session() as session:
        session.headers.update(HEADERS)
        for _label, method, url, body in targets:
            response = session.request(method, url, data=body,
                                       timeout=REQUEST_TIMEOUT)
            if not 200 <= response.status_code < 300:
                raise RuntimeError('%s %s answered %d: %s'
                                   % (method, url, response.status_code,
                                      response.text[:2000]))
    rounds = {label: [] for label, _m, _u, _b in targets}
    for number in range(1, args.rounds + 1):
        for label, method, url, body in targets:
            figures = drive(method, url, body, args.concurrency,
                            args.warmup, args.seconds)
            log('round %d/%d %-44s %8.1f req/s  p50 %7.1f ms  '
                'p99 %7.1f ms  non-2xx %d', number, args.rounds, label,
                figures['requests_per_s'], figures['p50_ms'] or 0.0,
                figures['p99_ms'] or 0.0, figures['non_2xx'])
            rounds[label].append(figures)
    summary = []
    for label, _m, _u, _b in targets:
        per_round = rounds[label]
        statuses = collections.Counter()
        for figures in per_round:
            statuses.update(figures['non_2xx_statuses'])
        summary.append({
            'path': label,
            'requests_per_s': _median(f['requests_per_s']
                                      for f in per_round),
            'p50_ms': _median(f['p50_ms'] for f in per_round),
            'p99_ms': _median(f['p99_ms'] for f in per_round),
            'non_2xx': sum(f['non_2xx'] for f in per_round),
            'non_2xx_statuses': dict(statuses),
            'rounds': per_round,
        })
    return summary


def print_table(summary):
    def fmt(value):
        return '-' if value is None else '%.1f' % value
    header = ('path', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx')
    rows = [(row['path'], fmt(row['requests_per_s']), fmt(row['p50_ms']),
             fmt(row['p99_ms']), str(row['non_2xx'])) for row in summary]
    width = max(len(row[0]) for row in [header] + rows)
    line = '%-*s  %10s  %8s  %8s  %8s'
    print(line % ((width,) + header))
    for row in rows:
        print(line % ((width,) + row))


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt('signal %d' % signum)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = tempfile.mkdtemp(prefix='hd-measure-')
    database = Database(args.mysql_url)
    server = None
    try:
        conf_file = os.path.join(workdir, 'heat-deploy.conf')
        env = child_env(conf_file)
        code = describe_code(args, env, workdir)
        log('code: %s', ', '.join('%s=%s' % item for item in code.items()))
        database.create()
        write_conf_file(conf_file, database.url)
        migrate(args, conf_file, env, workdir)
        server = Server(args, env, workdir)
        server.start()
        log('gunicorn --workers %d at %s, database %s; c=%d, %gs per path '
            '(+%gs warm-up), %d round(s)', WORKERS, server.url,
            database.name, args.concurrency, args.seconds, args.warmup,
            args.rounds)
        host = {'cpus': os.cpu_count(), 'loadavg_start': os.getloadavg()}
        summary = measure(args, server.url)
        host['loadavg_end'] = os.getloadavg()
        # Other processes on the machine skew the figures; say how busy
        # it was so that before/after runs can be judged.
        log('host: %d CPUs, load average %s at start, %s at end',
            host['cpus'], '/'.join('%.2f' % v for v in host['loadavg_start']),
            '/'.join('%.2f' % v for v in host['loadavg_end']))
        if args.json:
            json.dump({
                'settings': {'concurrency': args.concurrency,
                             'seconds': args.seconds,
                             'warmup': args.warmup,
                             'rounds': args.rounds,
                             'workers': WORKERS,
                             'statistic': 'median over rounds; non_2xx '
                                          'is the total'},
                'code': code,
                'host': host,
                'paths': summary,
            }, sys.stdout, indent=2)
            print()
        else:
            print_table(summary)
        for row in summary:
            if row['non_2xx']:
                log('%s: non-2xx answers %s', row['path'],
                    row['non_2xx_statuses'])
        return 0
    except Exception:
        if server is not None:
            log('gunicorn log (tail):\n%s', server.log_tail())
        raise
    finally:
        # Cleanup is bounded in time; a second ^C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if server is not None:
                server.stop()
        finally:
            try:
                database.drop()
            finally:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log('interrupted')
        sys.exit(130)
