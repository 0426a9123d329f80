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

"""Benchmark heat_deploy's hot paths against a raw-SQL floor, side by side.

One command (``tox -e bench``, or ``python tools/bench/bench.py``) on a
machine with MariaDB on 127.0.0.1:3306 (root, no password; see
``--mysql-url``) or PostgreSQL (``--database postgresql``):

1. creates a fresh database ``hd_bench_<random>`` and migrates it with
   ``heat-deploy-manage --config-file F db sync`` (F a temporary config:
   noauth, a random signing key);
2. starts four gunicorns (``--workers 2``, sync workers) on free loopback
   ports: heat_deploy with the default [quota], heat_deploy with the quota
   off (-1), and the floor (tools/bench/floor.py: bare WSGI, one database
   connection per worker, the same SQL) with and without its quota;
3. makes the fixtures through heat_deploy's API (a server with 10
   deployments, a pool of deployments to PUT, a CFN_SIGNAL deployment and
   the server's signed metadata URL) and seeds ``--rows`` more deployments
   (with their configs and servers) in bulk, with INSERT ... SELECT over a
   sequence;
4. drives each path, for each concurrency, on heat_deploy and on the floor
   in turn, with wrk when it is on PATH or else a Python client (closed
   loop: each client sends its next request once it has the answer), for a
   warm-up and a measured window; ``--rounds`` times, interleaved;
5. prints one table of medians over the rounds: requests per second, p50
   and p99 latency, CPU milliseconds per request (user + system time of
   the two gunicorn workers, from /proc/<pid>/stat, over the window,
   divided by the requests answered in it), database round trips per
   request (every command the workers' driver sent and waited for:
   queries, BEGIN, COMMIT, ROLLBACK, pings; counted in the workers by
   tools/bench/gunicorn_hooks.py), the ratio heat_deploy / floor of
   requests per second and of p99, and the answers that were not the
   expected status;
6. stops the servers and drops the database whatever happens.

The paths (the floor's SQL for each is in tools/bench/floor.py):

* ``put``: PUT /v1/{t}/software_deployments/{id} with status COMPLETE,
  status_reason and output_values, as an agent reports; the clients take
  a pool of deployments in turn, so they do not queue on one row lock.
* ``signal``: POST of a signal to a CFN_SIGNAL deployment's capability URL
  (/agent/v1/deployments/{id}/signal?expires&signature). Each deployment
  is signalled exactly once, so every signal measured is applied (a
  second one is only "ignored"); the deployments are copies of one made
  through the API, seeded before each window with their own derived
  configs and signal URLs, and the answer must say "applied".
* ``config`` and ``config_noquota``: POST /v1/{t}/software_configs with
  the default quota (a locked per-project row and a count) and with the
  quota off; the clients take a pool of projects in turn.
* ``metadata``: GET /v1/{t}/software_deployments/metadata/{server} of a
  server with 10 deployments.
* ``agent_304``: the agent's conditional GET of the server's signed
  metadata URL (from GET /v1/{t}/servers/{server}/os-collect-config) with
  If-None-Match naming its ETag, answered 304 Not Modified. Below the
  table, heat_deploy's 304 is also compared with the floor's full
  ``metadata`` GET.

The JSON output also has the database server's own count of statements
per request (MariaDB: global Questions + Com_admin_commands; PostgreSQL:
pg_stat_statements if it is loaded), which includes every other client of
that server: the tool measures their rate for a second before the run and
says if something else is busy there. Absolute figures depend on the
machine and on what else runs on it; the ratios, measured side by side,
move less.

``--quick`` (15 to 20 seconds: 0.5 s per path, c=2, one round, 200 rows,
the Python client) is what heat_deploy/tests/functional/test_bench.py
runs, so that the benchmark keeps working; ``--json`` prints the figures
as JSON. The exit status is 1 if any answer was not the expected one.
"""

import argparse
import datetime
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from urllib import parse
import uuid

import requests

import floor
import loadgen

DEFAULT_URLS = {
    'mysql': 'mysql+pymysql://root@127.0.0.1:3306/',
    'postgresql': 'postgresql+psycopg2://root@127.0.0.1:5432/postgres',
}
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')
HERE = os.path.dirname(os.path.abspath(__file__))
HOOKS = os.path.join(HERE, 'gunicorn_hooks.py')
WORKERS = 2
HEADERS = {'X-Auth-Token': 'bench', 'Content-Type': 'application/json'}
METADATA_SERVER = 'bench-meta'
METADATA_DEPLOYMENTS = 10
SIGNAL_SERVER = 'bench-signal'
CLK_TCK = os.sysconf('SC_CLK_TCK')

START_TIMEOUT = 90      # gunicorn until /healthcheck answers 200
STOP_TIMEOUT = 10       # SIGTERM to gunicorn, then SIGKILL of its group
MIGRATE_TIMEOUT = 300   # heat-deploy-manage db sync
REQUEST_TIMEOUT = 30    # one set-up request
FILLER_CHUNK = 50000    # rows per INSERT ... SELECT

PATHS = (
    ('put', 'PUT deployment'),
    ('signal', 'signal (capability URL)'),
    ('config', 'POST config, quota on'),
    ('config_noquota', 'POST config, quota off'),
    ('metadata', 'GET metadata (10 depl.)'),
    ('agent_304', 'agent metadata, 304'),
)
APPS = ('heat_deploy', 'floor')

SCRIPT = '#!/bin/sh\necho "deploying $a"\n'
OUTPUTS = {'deploy_stdout': 'deployed\n', 'deploy_stderr': '',
           'deploy_status_code': 0, 'result': 'ok'}


def log(message, *args):
    print(message % args if args else message, file=sys.stderr, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark heat_deploy (gunicorn, 2 sync workers) '
                    'against a raw-SQL floor on the same database.')
    parser.add_argument('--quick', action='store_true',
                        help='a few seconds in all: 0.5 s per path, c=2, '
                             'one round, 200 rows, the Python client '
                             '(what the functional test runs)')
    parser.add_argument('--seconds', '-d', type=float,
                        help='measured seconds per path, concurrency and '
                             'application (default 10)')
    parser.add_argument('--warmup', type=float,
                        help='unmeasured seconds before each window '
                             '(default 1)')
    parser.add_argument('--rounds', '-r', type=int,
                        help='rounds, interleaved; figures are medians '
                             '(default 3)')
    parser.add_argument('--concurrency', '-c',
                        help='comma-separated client counts (default 1,8)')
    parser.add_argument('--rows', type=_sizes,
                        help='deployments seeded besides the fixtures; '
                             'several comma-separated sizes (e.g. '
                             '1000,1000000) are measured one after the '
                             'other in the same database (default 1000)')
    parser.add_argument('--paths',
                        help='comma-separated subset of %s'
                             % ','.join(name for name, _label in PATHS))
    parser.add_argument('--loadgen', choices=('auto', 'wrk', 'python'),
                        help='load generator (default auto: wrk if it is '
                             'on PATH; python with --quick)')
    parser.add_argument('--json', action='store_true',
                        help='print JSON instead of the table')
    parser.add_argument('--json-out', metavar='FILE',
                        help='also write the JSON to FILE')
    parser.add_argument('--render', metavar='FILE',
                        help='print the table of a run saved with '
                             '--json-out, and nothing else')
    parser.add_argument('--trace', action='store_true',
                        help='no load: print the database commands of one '
                             'request of each path on each application')
    parser.add_argument('--database', choices=('mysql', 'postgresql'),
                        default='mysql', help='database server (default '
                                              'mysql, i.e. MariaDB)')
    parser.add_argument('--mysql-url', default=DEFAULT_URLS['mysql'],
                        help='URL of the MariaDB server used to create and '
                             'drop the database (default %s; loopback only)'
                             % DEFAULT_URLS['mysql'])
    parser.add_argument('--postgresql-url',
                        default=DEFAULT_URLS['postgresql'],
                        help='URL of the PostgreSQL server (default %s; '
                             'loopback only)' % DEFAULT_URLS['postgresql'])
    parser.add_argument('--venv', metavar='DIR',
                        help='virtualenv whose bin/gunicorn and '
                             'bin/heat-deploy-manage run the service '
                             '(default: the one of the python running this '
                             'tool); e.g. a baseline commit installed '
                             'elsewhere')
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {'seconds': 0.5 if quick else 10.0,
                'warmup': 0.2 if quick else 1.0,
                'rounds': 1 if quick else 3,
                'concurrency': '2' if quick else '1,8',
                'rows': [200] if quick else [1000],
                'loadgen': 'python' if quick else 'auto'}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    try:
        args.concurrency = [int(value) for value in
                            args.concurrency.split(',')]
    except ValueError:
        parser.error('--concurrency takes comma-separated integers')
    if min(args.concurrency) < 1:
        parser.error('--concurrency must be at least 1')
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1:
        parser.error('--seconds must be positive, --warmup not negative, '
                     '--rounds at least 1')
    names = [name for name, _label in PATHS]
    if args.paths:
        args.paths = args.paths.split(',')
        unknown = set(args.paths) - set(names)
        if unknown:
            parser.error('unknown paths: %s' % ', '.join(sorted(unknown)))
    else:
        args.paths = names
    if args.loadgen == 'wrk' and not loadgen.wrk_path():
        parser.error('wrk is not on PATH (apt-get install wrk)')
    args.url = _url(args.mysql_url if args.database == 'mysql'
                    else args.postgresql_url)
    if args.url.hostname not in LOOPBACK_HOSTS:
        parser.error('the database URL must name a loopback host (%s)'
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


def _sizes(text):
    try:
        sizes = sorted({int(value.replace('_', ''))
                        for value in text.split(',')})
    except ValueError:
        raise argparse.ArgumentTypeError('comma-separated integers')
    if sizes[0] < 0:
        raise argparse.ArgumentTypeError('sizes cannot be negative')
    return sizes


def _url(text):
    return parse.urlsplit(text)


# The database

class Database(object):
    """A fresh database on the server, its counters, and bulk inserts."""

    def __init__(self, kind, url):
        self.kind = kind
        self.host = url.hostname
        self.port = url.port or (3306 if kind == 'mysql' else 5432)
        self.user = parse.unquote(url.username or 'root')
        self.password = parse.unquote(url.password or '')
        self.admin_database = (url.path.strip('/') or None
                               if kind == 'mysql'
                               else url.path.strip('/') or 'postgres')
        self.name = 'hd_bench_%s' % secrets.token_hex(6)
        self.created = False
        self.conn = None
        self.statements = None   # what the server-side count is
        self.mysql = kind == 'mysql'

    # Connections

    def connect(self, database):
        if self.mysql:
            import pymysql
            return pymysql.connect(
                host=self.host, port=self.port, user=self.user,
                password=self.password, database=database,
                charset='utf8mb4', autocommit=True, connect_timeout=10)
        import psycopg2
        conn = psycopg2.connect(host=self.host, port=self.port,
                                user=self.user,
                                password=self.password or None,
                                dbname=database, connect_timeout=10)
        conn.autocommit = True
        return conn

    def create(self):
        admin = self.connect(self.admin_database)
        try:
            with admin.cursor() as cur:
                if self.mysql:
                    cur.execute('CREATE DATABASE %s CHARACTER SET utf8mb4 '
                                'COLLATE utf8mb4_bin' % self.name)
                else:
                    cur.execute("CREATE DATABASE %s ENCODING 'UTF8' "
                                "TEMPLATE template0" % self.name)
            self.created = True
        finally:
            admin.close()

    def drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # nosec - closing before the drop
                pass
            self.conn = None
        if not self.created:
            return
        admin = self.connect(self.admin_database)
        try:
            with admin.cursor() as cur:
                cur.execute('DROP DATABASE IF EXISTS %s%s' % (
                    self.name, '' if self.mysql else ' WITH (FORCE)'))
        finally:
            admin.close()

    def open(self):
        """The tool's own connection to the new database."""
        self.conn = self.connect(self.name)
        self.statements = self._statement_counter()

    def execute(self, sql, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            if cur.description is None:
                return None
            return cur.fetchall()

    def one(self, table, **where):
        """A row as a dict of column: raw value, or None."""
        with self.conn.cursor() as cur:
            condition = ' AND '.join('%s = %%s' % self.quote(name)
                                     for name in where)
            cur.execute('SELECT * FROM %s WHERE %s' % (table, condition),
                        list(where.values()))
            row = cur.fetchone()
            if row is None:
                return None
            return dict(zip([column[0] for column in cur.description],
                            row))

    def quote(self, name):
        return '`%s`' % name if self.mysql else '"%s"' % name

    def insert_many(self, table, columns, rows):
        if not rows:
            return
        names = ', '.join(self.quote(name) for name in columns)
        with self.conn.cursor() as cur:
            if self.mysql:
                # PyMySQL sends an executemany INSERT as multi-row INSERTs.
                cur.executemany('INSERT INTO %s (%s) VALUES (%s)' % (
                    table, names, ', '.join(['%s'] * len(columns))), rows)
            else:
                from psycopg2 import extras
                extras.execute_values(cur, 'INSERT INTO %s (%s) VALUES %%s'
                                      % (table, names), rows,
                                      page_size=1000)

    def version(self):
        return self.execute('SELECT VERSION()')[0][0]

    def service_url(self):
        """The [database] connection of heat_deploy."""
        driver = 'mysql+pymysql' if self.mysql else 'postgresql+psycopg2'
        auth = parse.quote(self.user, safe='')
        if self.password:
            auth += ':' + parse.quote(self.password, safe='')
        return '%s://%s@%s:%d/%s' % (driver, auth, self.host, self.port,
                                     self.name)

    def floor_settings(self):
        return {'backend': self.kind, 'host': self.host, 'port': self.port,
                'user': self.user, 'password': self.password,
                'database': self.name}

    # Round trips

    def _statement_counter(self):
        if self.mysql:
            return ('MariaDB global status Questions + Com_admin_commands '
                    '(every client of the server)')
        try:
            self.execute('CREATE EXTENSION IF NOT EXISTS '
                         'pg_stat_statements')
            self.execute('SELECT COUNT(*) FROM pg_stat_statements')
        except Exception as err:
            log('no server-side statement count: pg_stat_statements is '
                'not loaded (%s)', str(err).strip().splitlines()[0])
            return None
        return 'pg_stat_statements calls in the benchmark database'

    def counter(self):
        """Statements (round trips) so far, less this query; or None."""
        if self.statements is None:
            return None
        if self.mysql:
            rows = self.execute(
                "SHOW GLOBAL STATUS WHERE Variable_name IN "
                "('Questions', 'Com_admin_commands')")
            return sum(int(value) for _name, value in rows) - 1
        rows = self.execute(
            'SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements s '
            'JOIN pg_database d ON d.oid = s.dbid '
            'WHERE d.datname = current_database()')
        return int(rows[0][0]) - 1

    # SQL that differs

    def concat(self, *parts):
        if self.mysql:
            return 'CONCAT(%s)' % ', '.join(parts)
        return '(%s)' % ' || '.join('(%s)::text' % part for part in parts)

    def padded(self, expression, width=12):
        if self.mysql:
            return 'LPAD(%s, %d, \'0\')' % (expression, width)
        return 'lpad((%s)::text, %d, \'0\')' % (expression, width)

    def div(self, expression, divisor):
        if self.mysql:
            return '((%s) DIV %d)' % (expression, divisor)
        return '((%s) / %d)' % (expression, divisor)

    def sequence(self, first, last):
        if self.mysql:
            return 'seq_%d_to_%d AS s' % (first, last)
        return 'generate_series(%d, %d) AS s(seq)' % (first, last)


# The servers

def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Server(object):
    """A gunicorn with 2 sync workers on a free loopback port."""

    def __init__(self, name, args, app, env, workdir, pythonpath=None):
        self.name = name
        self.args = args
        self.app = app
        self.env = env
        self.workdir = workdir
        self.pythonpath = pythonpath
        self.log_path = os.path.join(workdir, '%s.log' % name)
        self.counters = os.path.join(workdir, 'counters-%s' % name)
        self.process = None
        self.port = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        self.port = free_port()
        os.mkdir(self.counters)
        argv = [self.args.gunicorn, '--config', HOOKS,
                '--workers', str(WORKERS), '--worker-class', 'sync',
                '--bind', '127.0.0.1:%d' % self.port, '--no-control-socket']
        if self.pythonpath:
            argv += ['--pythonpath', self.pythonpath]
        with open(self.log_path, 'wb') as log_file:
            # cwd outside any checkout: gunicorn puts its cwd first on
            # sys.path, which must not shadow the venv's heat_deploy. A
            # session of its own, so that the group can be killed.
            env = dict(self.env, BENCH_COUNTERS_DIR=self.counters)
            if self.args.trace:
                env['BENCH_TRACE'] = '1'
            self.process = subprocess.Popen(
                argv + [self.app], cwd=self.workdir, env=env,
                stdin=subprocess.DEVNULL, stdout=log_file,
                stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.url + '/healthcheck',
                                timeout=5).status_code == 200:
                    if len(self.workers()) == WORKERS:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError('%s did not serve /healthcheck within %ds:\n%s'
                           % (self.name, START_TIMEOUT, self.log_tail()))

    def workers(self):
        """Pids of the master's children (the workers)."""
        pid = self.process.pid
        try:
            with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
                return sorted(int(child) for child in f.read().split())
        except OSError:
            pass
        children = []
        for entry in os.listdir('/proc'):
            if entry.isdigit():
                stat = _proc_stat(int(entry))
                if stat is not None and int(stat[1]) == pid:
                    children.append(int(entry))
        return sorted(children)

    def cpu(self):
        """(CPU seconds of the workers so far, their pids)."""
        pids = self.workers()
        ticks = 0
        for pid in pids:
            stat = _proc_stat(pid)
            if stat is not None:
                # Fields 14 and 15 of /proc/<pid>/stat: utime and stime.
                ticks += int(stat[11]) + int(stat[12])
        return ticks / float(CLK_TCK), tuple(pids)

    def round_trips(self, pids):
        """Database round trips of these workers so far (counted by
        gunicorn_hooks.py).
        """
        total = 0
        for pid in pids:
            try:
                with open(os.path.join(self.counters, str(pid)),
                          'rb') as counter:
                    total += struct.unpack('<Q', counter.read(8))[0]
            except (OSError, struct.error):
                return None
        return total

    def trace_sizes(self):
        sizes = {}
        for pid in self.workers():
            path = os.path.join(self.counters, '%d.trace' % pid)
            sizes[path] = (os.path.getsize(path) if os.path.exists(path)
                           else 0)
        return sizes

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log('%s (pid %d) did not exit', self.name, self.process.pid)

    def log_tail(self, size=5000):
        try:
            with open(self.log_path, errors='replace') as log_file:
                return log_file.read()[-size:]
        except OSError:
            return ''


def _proc_stat(pid):
    """Fields of /proc/<pid>/stat after the command (state is [0])."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(')') + 2:].split()


def write_conf(path, db, signing_key, quota):
    sections = {
        'DEFAULT': {'debug': 'false'},
        'database': {'connection': db.service_url()},
        'api': {'auth_strategy': 'noauth'},
        'signal': {'signing_keys': signing_key},
    }
    if quota is not None:
        sections['quota'] = {'max_software_configs_per_tenant': quota,
                             'max_software_deployments_per_tenant': quota}
    with open(path, 'w') as conf_file:
        for section, options in sections.items():
            conf_file.write('[%s]\n' % section)
            for name, value in options.items():
                conf_file.write('%s = %s\n' % (name, value))
            conf_file.write('\n')
    os.chmod(path, 0o600)


def child_env(**extra):
    """The environment of the servers: only the venv's code, no leaks."""
    env = dict(os.environ, **extra)
    for name in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP'):
        env.pop(name, None)
    return env


def describe_code(args, workdir):
    """Where the measured heat_deploy lives, and its git describe."""
    info = {'venv_bin': os.path.dirname(args.gunicorn)}
    try:
        out = subprocess.run(
            [args.python, '-c', 'import os, heat_deploy; '
             'print(os.path.dirname(os.path.dirname('
             'os.path.abspath(heat_deploy.__file__))))'],
            cwd=workdir, env=child_env(), capture_output=True, text=True,
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


def migrate(args, conf_file, workdir):
    out = subprocess.run(
        [args.manage, '--config-file', conf_file, 'db', 'sync'],
        cwd=workdir, env=child_env(), capture_output=True, text=True,
        timeout=MIGRATE_TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError('heat-deploy-manage db sync failed (%d):\n%s%s'
                           % (out.returncode, out.stdout, out.stderr))


# Fixtures

class Fixtures(object):
    """What the paths need, made through the API and seeded in bulk."""

    def __init__(self, db, base_url, signing_key, quick):
        self.db = db
        self.base_url = base_url
        self.signing_key = signing_key
        self.tenant = 'bench-%s' % secrets.token_hex(4)
        self.put_pool = []
        self.config_tenants = ['bench-cfg-%s-%03d' % (self.tenant[6:], n)
                               for n in range(8 if quick else 256)]
        self.filler_rows = 0
        self.signalled = []
        self.signal_template = None
        self.signal_expires = None
        self.metadata_path = None
        self.metadata_etag = None
        self.session = requests.Session()
        self.session.headers.update(HEADERS)

    def call(self, method, path, body=None, tenant=None):
        url = '%s/v1/%s%s' % (self.base_url, tenant or self.tenant, path)
        response = self.session.request(
            method, url, data=None if body is None else json.dumps(body),
            timeout=REQUEST_TIMEOUT)
        if not 200 <= response.status_code < 300:
            raise RuntimeError('%s %s: %d %s' % (method, url,
                                                 response.status_code,
                                                 response.text[:2000]))
        return response

    def config(self, name, outputs=('result',)):
        return self.call('POST', '/software_configs', {
            'name': name, 'group': 'script', 'config': SCRIPT,
            'inputs': [{'name': 'a', 'default': '1'}],
            'outputs': [{'name': output} for output in outputs],
        }).json()['software_config']['id']

    def deployment(self, config_id, server_id, status='COMPLETE', **extra):
        body = dict({'config_id': config_id, 'server_id': server_id,
                     'action': 'CREATE', 'status': status,
                     'status_reason': 'Deploy data available',
                     'input_values': {'a': '2'}}, **extra)
        body = {name: value for name, value in body.items()
                if value is not None}
        return self.call('POST', '/software_deployments',
                         body).json()['software_deployment']

    def make(self, put_pool):
        """The fixtures made through the API."""
        for index in range(METADATA_DEPLOYMENTS):
            self.deployment(self.config('meta-%02d' % index),
                            METADATA_SERVER)
        put_config = self.config('put')
        self.put_pool = [
            self.deployment(put_config, 'bench-put-%03d' % index,
                            status='IN_PROGRESS')['id']
            for index in range(put_pool)]
        # A CFN_SIGNAL deployment: its derived config carries the signal
        # URL (deploy_signal_id); the signal pools are copies of it.
        created = self.deployment(
            self.config('signal'), SIGNAL_SERVER, status=None,
            signal_transport='CFN_SIGNAL', timeout=86400)
        derived = self.call('GET', '/software_configs/%s'
                            % created['config_id']).json()
        inputs = {item['name']: item.get('value')
                  for item in derived['software_config']['inputs']}
        signal_url = parse.urlsplit(inputs['deploy_signal_id'])
        query = dict(parse.parse_qsl(signal_url.query))
        self.signal_expires = query['expires']
        if floor.sign(self.signing_key, floor.signal_parts(
                'POST', created['id'], query['expires'],
                query.get('attempt', '1'))) != query['signature']:
            raise RuntimeError(
                'heat_deploy signs signal URLs differently from '
                'tools/bench/floor.py (signal_parts); update the floor.')
        self.signal_template = (
            self.db.one('software_deployment', id=created['id']),
            self.db.one('software_config', id=created['config_id']))
        # The server's signed metadata URL, and its ETag.
        settings = self.call('GET', '/servers/%s/os-collect-config'
                             % METADATA_SERVER).json()['os-collect-config']
        url = parse.urlsplit(settings['request']['metadata_url'])
        self.metadata_path = url.path + '?' + url.query
        response = self.session.get(self.base_url + self.metadata_path,
                                    timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        self.metadata_etag = response.headers['ETag']
        # The projects the config paths take in turn: their quota lock
        # rows, as their first create would make them.
        self.db.insert_many('project_quota_lock', ['project_id'],
                            [(tenant,) for tenant in self.config_tenants])

    def signal_pool(self, count):
        """``count`` fresh IN_PROGRESS CFN_SIGNAL deployments; returns
        their signal paths.
        """
        deployment, config = self.signal_template
        document = json.loads(config['config'])
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        configs, deployments, paths = [], [], []
        for _index in range(count):
            deployment_id, config_id = str(uuid.uuid4()), str(uuid.uuid4())
            query = parse.urlencode({
                'expires': self.signal_expires,
                'signature': floor.sign(self.signing_key, floor.signal_parts(
                    'POST', deployment_id, self.signal_expires, 1))})
            path = '/agent/v1/deployments/%s/signal?%s' % (deployment_id,
                                                           query)
            inputs = [dict(item, value=self.base_url + path)
                      if item['name'] == 'deploy_signal_id' else item
                      for item in document['inputs']]
            configs.append(dict(config, id=config_id, created_at=now,
                                config=json.dumps(dict(document,
                                                       inputs=inputs))))
            deployments.append(dict(deployment, id=deployment_id,
                                    config_id=config_id, created_at=now,
                                    started_at=now))
            paths.append(path)
        self.signalled.extend(zip((row['id'] for row in deployments),
                                  (row['id'] for row in configs)))
        for table, rows in (('software_config', configs),
                            ('software_deployment', deployments)):
            columns = list(rows[0])
            self.db.insert_many(table, columns,
                                [[row[name] for name in columns]
                                 for row in rows])
        return paths

    def drop_signalled(self):
        """Delete the signal pools' deployments and their configs, so
        that the table keeps the size measured.
        """
        pairs, self.signalled = self.signalled, []
        for start in range(0, len(pairs), 1000):
            chunk = pairs[start:start + 1000]
            marks = ', '.join(['%s'] * len(chunk))
            self.db.execute('DELETE FROM software_deployment WHERE id IN '
                            '(%s)' % marks, [pair[0] for pair in chunk])
            self.db.execute('DELETE FROM software_config WHERE id IN (%s)'
                            % marks, [pair[1] for pair in chunk])

    def drop_posted_configs(self):
        """Delete the configs the config paths created, so that each
        window starts with the projects as they were.
        """
        tenants = ', '.join(['%s'] * len(self.config_tenants))
        self.db.execute('DELETE FROM software_config WHERE tenant IN (%s)'
                        % tenants, self.config_tenants)
        # Their usage rows count them again as they are.
        self.db.execute('UPDATE project_quota_lock SET software_configs = '
                        '(SELECT COUNT(*) FROM software_config WHERE tenant '
                        '= project_quota_lock.project_id) WHERE project_id '
                        'IN (%s)' % tenants, self.config_tenants)

    def grow(self, rows):
        """Seed filler deployments up to ``rows``: 10 per server, one
        config per server, spread over 1000 projects.
        """
        first, last = self.filler_rows + 1, rows
        if last < first:
            return
        db = self.db
        config = db.one('software_config', tenant=self.tenant,
                        name='meta-00')
        deployment = db.one('software_deployment', config_id=config['id'])
        server = db.one('server_metadata', tenant=self.tenant,
                        server_id=METADATA_SERVER)
        outputs = json.dumps(OUTPUTS)

        def ids(kind, expression):
            return db.concat("'00000000-0000-4000-%s-'" % kind,
                             db.padded(expression))

        group = db.div('seq + 9', 10)     # the server (and config) number
        project = db.concat("'filler-'", 'MOD(%s, 1000)' % group)
        tables = [
            ('software_config', config,
             {'id': ids('9000', 'seq'), 'name': db.concat("'filler-'",
                                                          'seq'),
              'tenant': db.concat("'filler-'", 'MOD(seq, 1000)')},
             (first + 9) // 10, (last + 9) // 10),
            ('server_metadata', server,
             {'server_id': db.concat("'filler-server-'", 'seq'),
              'tenant': db.concat("'filler-'", 'MOD(seq, 1000)')},
             (first + 9) // 10, (last + 9) // 10),
            ('software_deployment', deployment,
             {'id': ids('8000', 'seq'), 'config_id': ids('9000', group),
              'server_id': db.concat("'filler-server-'", group),
              'tenant': project},
             first, last),
        ]
        started = time.monotonic()
        for table, template, overrides, low, high in tables:
            if (table != 'software_deployment'
                    and (first - 1) % 10 and low == (first + 9) // 10):
                low += 1    # that server was seeded with the last size
            columns = list(template)
            params = []
            expressions = []
            for name in columns:
                if name in overrides:
                    expressions.append(overrides[name])
                elif name == 'output_values':
                    expressions.append('%s')
                    params.append(outputs)
                else:
                    expressions.append('%s')
                    params.append(template[name])
            for chunk in range(low, high + 1, FILLER_CHUNK):
                end = min(high, chunk + FILLER_CHUNK - 1)
                db.execute('INSERT INTO %s (%s) SELECT %s FROM %s' % (
                    table, ', '.join(db.quote(name) for name in columns),
                    ', '.join(expressions), db.sequence(chunk, end)),
                    params)
        if not db.mysql:
            db.execute('ANALYZE')
        self.filler_rows = rows
        log('seeded %d deployments in %.1f s', last - first + 1,
            time.monotonic() - started)


# The paths

class Paths(object):
    """The loadgen.Target of each path for each application."""

    def __init__(self, fixtures):
        self.fixtures = fixtures
        tenant = fixtures.tenant
        put_body = json.dumps({'status': 'COMPLETE',
                               'status_reason': 'Outputs received',
                               'output_values': OUTPUTS}).encode()
        config_body = json.dumps({
            'name': 'bench', 'group': 'script', 'config': SCRIPT,
            'inputs': [{'name': 'a', 'default': '1'}],
            'outputs': [{'name': 'result'}]}).encode()
        self.static = {
            'put': loadgen.Target(
                'PUT', ['/v1/%s/software_deployments/%s' % (tenant, item)
                        for item in fixtures.put_pool],
                body=put_body, headers=HEADERS),
            'config': loadgen.Target(
                'POST', ['/v1/%s/software_configs' % item
                         for item in fixtures.config_tenants],
                body=config_body, headers=HEADERS),
            'metadata': loadgen.Target(
                'GET', ['/v1/%s/software_deployments/metadata/%s'
                        % (tenant, METADATA_SERVER)],
                headers={'X-Auth-Token': 'bench'}),
            'agent_304': loadgen.Target(
                'GET', [fixtures.metadata_path],
                headers={'If-None-Match': fixtures.metadata_etag},
                expect=304),
        }
        self.static['config_noquota'] = self.static['config']
        self.signal_body = json.dumps(OUTPUTS).encode()

    def target(self, path, signals=0):
        if path == 'signal':
            return loadgen.Target(
                'POST', self.fixtures.signal_pool(signals),
                body=self.signal_body,
                headers={'Content-Type': 'application/json'},
                once=True, expect_body=b'"applied"')
        return self.static[path]


def check(server, target, index=0):
    """One request; raises if its answer is not the expected one."""
    host, port = server.url[len('http://'):].split(':')
    with socket.create_connection((host, int(port)),
                                  timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(loadgen.build_request('%s:%s' % (host, port), target,
                                           target.paths[index]))
        status, _keep, body = loadgen.read_response(sock, target.method)
    if status != target.expect or (target.expect_body is not None
                                   and target.expect_body not in body):
        raise RuntimeError('%s %s on %s answered %s: %s' % (
            target.method, target.paths[0], server.name, status,
            body[:2000].decode('utf-8', 'replace')))


# Requests traced per path and application (--trace).
TRACED = 4


def trace(args, servers, paths):
    """Print the database commands of one request of each path."""
    for path in args.paths:
        for app in APPS:
            server = servers[app, path]
            target = paths.target(path, 2 * WORKERS + TRACED)
            # Warm both workers first: the first request of a worker
            # connects and builds what it caches.
            for index in range(2 * WORKERS):
                check(server, target, index % len(target.paths))
            # Which worker takes a request is the kernel's choice; of a few
            # requests, the one with the fewest commands is one that found
            # its worker's connections open (the steady state).
            traced = []
            for index in range(2 * WORKERS, 2 * WORKERS + TRACED):
                before = server.trace_sizes()
                check(server, target, index % len(target.paths))
                commands = []
                for trace_path, size in before.items():
                    with open(trace_path) as trace_file:
                        trace_file.seek(size)
                        commands += trace_file.read().splitlines()
                traced.append(commands)
            commands = min(traced, key=len)
            print('%s on %s: %d round trips' % (path, app, len(commands)))
            for command in commands:
                print('    ' + command)


# Measuring

def measure(args, db, target, server, concurrency):
    """One window; returns its figures."""
    edges = {}

    def snapshot(edge):
        cpu, pids = server.cpu()
        edges[edge] = (cpu, pids, server.round_trips(pids), db.counter())

    result, generator = loadgen.drive(
        server.url, target, concurrency, args.warmup, args.seconds,
        on_start=lambda: snapshot('start'), on_end=lambda: snapshot('end'),
        generator=args.loadgen)
    cpu0, pids0, trips0, db0 = edges['start']
    cpu1, pids1, trips1, db1 = edges['end']
    answered = result.requests
    same = answered and pids0 == pids1
    figures = {
        'requests': answered,
        'seconds': round(result.seconds, 3),
        'requests_per_s': result.requests_per_s,
        'p50_ms': result.p50_ms,
        'p99_ms': result.p99_ms,
        'cpu_ms': (cpu1 - cpu0) * 1000.0 / answered if same else None,
        'db_round_trips': ((trips1 - trips0) / float(answered)
                           if same and trips0 is not None
                           and trips1 is not None else None),
        # The server's own count, which includes its other clients.
        'db_statements_server': ((db1 - db0) / float(answered)
                                 if answered and db0 is not None
                                 else None),
        'errors': result.errors,
        'loadgen': generator,
    }
    if pids0 != pids1:
        log('%s: its workers changed during the window (%s -> %s); no CPU '
            'figure', server.name, pids0, pids1)
    if result.exhausted:
        log('%s: the signal pool ran out after %.1f s; the window was '
            'shorter', server.name, result.seconds)
        figures['exhausted'] = True
    return figures


def _median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def summarise(windows):
    """Medians over the rounds; errors are the total."""
    errors = {}
    for window in windows:
        for status, count in window['errors'].items():
            errors[status] = errors.get(status, 0) + count
    summary = {name: _median([window[name] for window in windows])
               for name in ('requests_per_s', 'p50_ms', 'p99_ms', 'cpu_ms',
                            'db_round_trips', 'db_statements_server')}
    summary['errors'] = errors
    summary['non_2xx'] = sum(errors.values())
    summary['rounds'] = windows
    return summary


def background(db, seconds=1.0):
    """Statements per second that other clients send the server."""
    before = db.counter()
    if before is None:
        return None
    time.sleep(seconds)
    return (db.counter() - before) / seconds


def run(args, db, fixtures, servers, paths):
    """Every size, round, path and concurrency; returns the results."""
    results = []
    rates = {}
    for rows in args.rows:
        fixtures.grow(rows)
        windows = {}
        for number in range(args.rounds):
            for path in args.paths:
                for concurrency in args.concurrency:
                    order = APPS if number % 2 == 0 else APPS[::-1]
                    for app in order:
                        server = servers[app, path]
                        signals = 0
                        if path == 'signal':
                            # Enough fresh deployments for twice the rate
                            # seen (of the signal, else of the PUT).
                            rate = rates.get((app, 'signal', concurrency),
                                             rates.get((app, 'put',
                                                        concurrency),
                                                       1500.0))
                            window = (math.ceil(args.warmup)
                                      + math.ceil(args.seconds)
                                      if args.loadgen != 'python'
                                      else args.warmup + args.seconds)
                            signals = int(rate * window * 2) + 20 * (
                                concurrency + 1)
                        target = paths.target(path, signals)
                        figures = measure(args, db, target, server,
                                          concurrency)
                        if path == 'signal':
                            fixtures.drop_signalled()
                        elif path.startswith('config'):
                            fixtures.drop_posted_configs()
                        rates[app, path, concurrency] = max(
                            figures['requests_per_s'], 1.0)
                        windows.setdefault((path, concurrency, app),
                                           []).append(figures)
                        log('rows %d round %d/%d %-24s c=%-2d %-11s '
                            '%8.1f req/s  p50 %6.1f  p99 %6.1f ms  '
                            'CPU %s ms  DB %s  errors %d', rows, number + 1,
                            args.rounds, path, concurrency, app,
                            figures['requests_per_s'],
                            figures['p50_ms'] or 0, figures['p99_ms'] or 0,
                            _fmt(figures['cpu_ms'], 2),
                            _fmt(figures['db_round_trips'], 1),
                            sum(figures['errors'].values()))
        count = db.execute('SELECT COUNT(*) FROM software_deployment')[0][0]
        for path, label in PATHS:
            if path not in args.paths:
                continue
            for concurrency in args.concurrency:
                row = {'path': path, 'label': label, 'rows': rows,
                       'deployments_in_database': count,
                       'concurrency': concurrency}
                for app in APPS:
                    row[app] = summarise(windows[path, concurrency, app])
                add_ratios(row)
                results.append(row)
    return results


def add_ratios(row):
    """heat_deploy / floor: the median of each round's ratio, since the
    two are measured back to back in a round and what else the machine
    does changes less within a round than between rounds.
    """
    pairs = list(zip(row['heat_deploy']['rounds'], row['floor']['rounds']))
    row['ratio'] = _median([_ratio(ours['requests_per_s'],
                                   floor_['requests_per_s'])
                            for ours, floor_ in pairs])
    row['p99_ratio'] = _median([_ratio(ours['p99_ms'], floor_['p99_ms'])
                                for ours, floor_ in pairs])
    row['ratio_of_medians'] = _ratio(row['heat_deploy']['requests_per_s'],
                                     row['floor']['requests_per_s'])


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


# Ratios the targets name: (label, path, compared with path, whose
# requests per second on that path).
_DERIVED = (
    ('heat_deploy agent 304 / floor metadata GET', 'agent_304', 'metadata',
     'floor'),
    ('heat_deploy POST config quota on / quota off', 'config',
     'config_noquota', 'heat_deploy'),
)


def derived(results):
    """Ratios across rows that the issue's targets name."""
    by_key = {(row['path'], row['rows'], row['concurrency']): row
              for row in results}
    lines = []
    for (path, rows, concurrency), row in sorted(by_key.items()):
        for name, ours, theirs, side in _DERIVED:
            other = by_key.get((theirs, rows, concurrency))
            if path != ours or other is None:
                continue
            lines.append({
                'name': name, 'rows': rows, 'concurrency': concurrency,
                'value': _ratio(row['heat_deploy']['requests_per_s'],
                                other[side]['requests_per_s'])})
    return lines


def _fmt(value, digits=1):
    if value is None:
        return '-'
    return '%.*f' % (digits, value)


def _rows_label(rows):
    for size, suffix in ((1000000, 'M'), (1000, 'k')):
        if rows >= size and rows % size == 0:
            return '%d%s' % (rows // size, suffix)
    return str(rows)


def table(results, derived_lines):
    """The text table."""
    header = ['path', 'rows', 'c']
    for app in APPS:
        header += ['%s req/s' % ('hd' if app == 'heat_deploy' else 'floor'),
                   'p50', 'p99', 'CPU', 'DB']
    header += ['ratio', 'p99x', 'non-2xx']
    lines = [header]
    for row in results:
        line = [row['label'], _rows_label(row['rows']),
                str(row['concurrency'])]
        for app in APPS:
            figures = row[app]
            line += [_fmt(figures['requests_per_s']),
                     _fmt(figures['p50_ms']), _fmt(figures['p99_ms']),
                     _fmt(figures['cpu_ms'], 2),
                     _fmt(figures['db_round_trips'])]
        line += [_fmt(row['ratio'], 2), _fmt(row['p99_ratio'], 1),
                 '%d/%d' % (row['heat_deploy']['non_2xx'],
                            row['floor']['non_2xx'])]
        lines.append(line)
    widths = [max(len(line[index]) for line in lines)
              for index in range(len(header))]
    out = []
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        out.append('  '.join(cells).rstrip())
    out.append('')
    out.append('req/s: answers per second; p50, p99: latency in ms; CPU: '
               'ms of gunicorn worker CPU per request;')
    out.append('DB: database round trips per request; ratio: heat_deploy '
               'req/s / floor req/s; p99x: heat_deploy p99 / floor p99')
    out.append('(both the median of the ratios of each round); non-2xx: '
               'unexpected answers, heat_deploy/floor, all rounds.')
    out.append('Other figures are medians over the rounds.')
    for line in derived_lines:
        out.append('%s (rows %s, c=%d): %s' % (
            line['name'], _rows_label(line['rows']), line['concurrency'],
            _fmt(line['value'], 2)))
    return '\n'.join(out)


def host_info(db, generator):
    model = None
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'date': datetime.datetime.now(datetime.timezone.utc).strftime(
                '%Y-%m-%d %H:%M UTC'),
            'nproc': os.cpu_count(), 'cpu_model': model,
            'database': db.kind, 'database_version': db.version(),
            'round_trips_from': 'the workers\' database driver '
                                '(tools/bench/gunicorn_hooks.py)',
            'server_statements_from': db.statements,
            'loadgen': generator, 'loadavg_start': os.getloadavg()}


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt('signal %d' % signum)


def render(path):
    """Print the table of a saved run."""
    with open(path) as saved:
        document = json.load(saved)
    results = document['results']
    for row in results:
        add_ratios(row)
    print(heading(document['host']))
    print(table(results, derived(results)))
    return 0


def heading(host):
    return ('heat_deploy vs floor, %s, %s CPUs (%s), %s, %s, gunicorn 2 '
            'sync workers each' % (host['date'], host['nproc'],
                                   host['cpu_model'],
                                   host['database_version'],
                                   host['loadgen']))


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        return render(args.render)
    began = time.monotonic()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = tempfile.mkdtemp(prefix='hd-bench-')
    db = Database(args.database, args.url)
    servers = {}
    try:
        code = describe_code(args, workdir)
        log('code: %s', ', '.join('%s=%s' % item for item in code.items()))
        db.create()
        db.open()
        signing_key = secrets.token_urlsafe(32)
        confs = {}
        for name, quota in (('heat_deploy', None),
                            ('heat_deploy_noquota', -1)):
            confs[name] = os.path.join(workdir, '%s.conf' % name)
            write_conf(confs[name], db, signing_key, quota)
        migrate(args, confs['heat_deploy'], workdir)
        floor_env = {'FLOOR_DATABASE': json.dumps(db.floor_settings()),
                     'FLOOR_SIGNING_KEY': signing_key}
        started = {
            'heat_deploy': Server(
                'heat_deploy', args, 'heat_deploy.wsgi.api:application',
                child_env(HEAT_DEPLOY_CONFIG_FILE=confs['heat_deploy']),
                workdir),
            'heat_deploy_noquota': Server(
                'heat_deploy_noquota', args,
                'heat_deploy.wsgi.api:application',
                child_env(HEAT_DEPLOY_CONFIG_FILE=confs[
                    'heat_deploy_noquota']), workdir),
            'floor': Server('floor', args, 'floor:application',
                            child_env(**floor_env), workdir,
                            pythonpath=HERE),
            'floor_noquota': Server(
                'floor_noquota', args, 'floor:application',
                child_env(FLOOR_CONFIG_QUOTA='-1', **floor_env), workdir,
                pythonpath=HERE),
        }
        servers['all'] = list(started.values())
        for server in started.values():
            server.start()
        for server in started.values():
            server.wait_ready()
        for path, _label in PATHS:
            for app in APPS:
                name = app + ('_noquota' if path == 'config_noquota'
                              else '')
                servers[app, path] = started[name]
        fixtures = Fixtures(db, started['heat_deploy'].url, signing_key,
                            args.quick)
        fixtures.make(put_pool=8 if args.quick else 64)
        paths = Paths(fixtures)
        for path in args.paths:
            for app in APPS:
                check(servers[app, path], paths.target(path, 1))
        if args.trace:
            trace(args, servers, paths)
            return 0
        busy = background(db)
        if busy is not None and busy > 2:
            log('note: other clients send the database server %.0f '
                'statements/s; CPU is shared with them, and the server-side '
                'statement count in --json includes them', busy)
        generator = args.loadgen
        if generator == 'auto':
            generator = 'wrk' if loadgen.wrk_path() else 'python'
        args.loadgen = generator
        host = host_info(db, generator)
        log('%s; gunicorn --workers %d; %s; %s s per window (+%s s '
            'warm-up), %d round(s), c=%s', host['database_version'],
            WORKERS, generator, args.seconds, args.warmup, args.rounds,
            ','.join(map(str, args.concurrency)))
        results = run(args, db, fixtures, servers, paths)
        host['loadavg_end'] = os.getloadavg()
        host['background_statements_per_s'] = busy
        derived_lines = derived(results)
        elapsed = time.monotonic() - began
        document = {
            'settings': {'seconds': args.seconds, 'warmup': args.warmup,
                         'rounds': args.rounds,
                         'concurrency': args.concurrency,
                         'rows': args.rows, 'workers': WORKERS,
                         'quick': args.quick, 'paths': args.paths,
                         'statistic': 'median over rounds; errors are the '
                                      'total'},
            'code': code, 'host': host, 'results': results,
            'derived': derived_lines, 'elapsed_s': round(elapsed, 1),
        }
        if args.json_out:
            with open(args.json_out, 'w') as out:
                json.dump(document, out, indent=2)
        if args.json:
            json.dump(document, sys.stdout, indent=2)
            print()
        else:
            print(heading(host))
            print(table(results, derived_lines))
        log('done in %.0f s', elapsed)
        failed = sum(row[app]['non_2xx'] for row in results for app in APPS)
        if failed:
            log('%d unexpected answers; see the gunicorn logs above', failed)
            for server in started.values():
                log('--- %s log (tail):\n%s', server.name,
                    server.log_tail(3000))
        return 1 if failed else 0
    except Exception:
        for server in servers.get('all', []):
            log('--- %s log (tail):\n%s', server.name, server.log_tail())
        raise
    finally:
        # Cleanup is bounded in time; a second ^C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            for server in servers.get('all', []):
                server.stop()
        finally:
            try:
                db.drop()
            finally:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log('interrupted')
        sys.exit(130)
