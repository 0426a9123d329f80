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

"""Several API hosts and workers on a Galera cluster, in network namespaces.

One machine, run as root, plays seven hosts, each a Linux network
namespace with one veth into a bridge that lives in a switch namespace
of its own; the root namespace gets one veth into the same bridge, so
the tests (and an operator's curl) reach every host::

    namespace    address         listens on
    <p>-sw       (bridge br0)    -
    root ns      10.213.0.1      - (the tests)
    <p>-lb       10.213.0.10     8004 API; 3306, 3307, 3308 MySQL for
                                 api1, api2, api3
    <p>-api1..3  10.213.0.11-13  8004 gunicorn (heat_deploy.wsgi.api)
    <p>-db1..3   10.213.0.21-23  3306 mariadbd, 4567 Galera, 4568 IST,
                                 4444 rsync SST, 9200 Galera health

``<p>`` is the prefix (``hdc`` by default). Every process binds the
address of its own namespace, so nothing listens on the machine's own
addresses and the MariaDB on 127.0.0.1:3306 is never involved.

Galera: the machine's /usr/sbin/mariadbd, one data directory per node
under the work directory, galera-4's libgalera_smm.so, SST by rsync.
``up`` bootstraps db1 with --wsrep-new-cluster when no node runs (with
fresh data directories: this is a test environment), then joins db2 and
db3 one after the other (two joiners at once would queue on one donor),
and waits for a cluster of 3 with every node Synced.

HAProxy (in <p>-lb, own configuration file in the work directory, never
the system service):

* API, port 8004: round robin over the three hosts, health-checked with
  ``GET /healthcheck`` every 500 ms (fall 2, rise 2), ``option
  redispatch`` and ``retries 3``. ``retry-on conn-failure empty-response
  response-timeout`` applies to every method but POST and PATCH: a
  connection refused never reached the application, so it is retried for
  every method, but an empty response or a timeout may follow a commit,
  and only requests that may be repeated (GET, HEAD, PUT, DELETE) are
  sent again then (``http-request disable-l7-retry`` for the others).
* MySQL, one frontend per API host: api N connects to port 3306+N-1 and
  writes to db N, the two others being ``backup`` (HAProxy uses the first
  backup that is up). A Galera node that accepts TCP but is not Synced
  (a joiner, a donor blocked by rsync, a node cut off from the primary
  component) must not take queries, and a plain TCP or mysql-check
  cannot see that: each database host runs a small health responder
  (``clustercheck``, below, started from this module) on port 9200 that
  answers 200 only when its node is Synced, Primary and ready, and
  HAProxy checks it with ``option httpchk`` (inter 500 ms, fall 2, rise
  2). ``on-marked-down shutdown-sessions`` closes the connections of a
  node that went down, so pooled connections do not keep talking to it;
  ``on-marked-up shutdown-backup-sessions`` sends api N back to db N
  when db N returns.

heat_deploy: the schema is migrated once (``heat-deploy-manage db sync``
run in api1), then each API host runs gunicorn with 2 sync workers bound
to its address, with its own configuration file: [database] connection
through its MySQL frontend of the load balancer, ``mysql_wsrep_sync_wait
= 1`` (causal reads: a read waits until the node has applied what the
cluster committed before it), noauth, one signing key on every host, and
the public endpoint set to the load balancer so capability URLs point
through HAProxy. Sync workers rather than gthread: each request arrives
on a new connection (sync workers do not keep connections alive), so a
host that died is seen by HAProxy as a refused connection, which it
retries for every method, instead of as an empty answer on a reused idle
connection, which it must not retry for a POST; this is also what the
benchmark measures. heat-deploy-worker runs on api1 and api2.

Every process started is recorded in a pidfile under ``<workdir>/run``
(pid and start time, so a recycled pid is never signalled); ``down``
stops those, then deletes the namespaces and the root veth named with the
prefix, and nothing else. ``up`` and ``down`` may be repeated.

Galera's failure detection is shortened (evs.suspect_timeout 3 s,
evs.inactive_timeout 6 s: the peers share a bridge), so a node cut off is
out of the primary component within seconds. While the remaining nodes
form the new view, every node stalls; /healthcheck asks the database, so
HAProxy's API check allows 5 s (``timeout check``) before it counts a
check as failed: a stall is not a dead host, and a dead host refuses
connections, which is seen at once.

Tests use :class:`Cluster` (see heat_deploy.tests.cluster.base);
``tools/cluster.py`` is the command line over :func:`main`. What tests
call:

* where: ``lb_url``, ``api_url(host)``, ``address(host)``,
  ``mysql_port(api_host)``, ``database_url(api_host)``,
  ``conf_path(api_host)``, ``log_path(name)``, ``pid(name)``,
  ``running(name)``;
* API hosts: ``kill_api(host)`` (SIGKILL to gunicorn's master and
  workers), ``start_api(host)`` (waits for /healthcheck),
  ``stop_api(host)`` (SIGTERM, graceful), ``drain_api(host)`` and
  ``ready_api(host)`` (out of and back into HAProxy's rotation),
  ``restart_api(host, graceful=True)`` (graceful: drain, stop, start,
  ready: the rolling restart that fails no request), ``reload_api(host)``
  (SIGHUP), ``healthy(host)``;
* workers: ``stop_worker(host, sig=SIGTERM)``, ``start_worker(host)``,
  ``worker_name(host)``;
* Galera: ``stop_db(node)`` (SIGTERM), ``kill_db(node)`` (SIGKILL),
  ``start_db(node)`` (joins, waits for Synced; returns a log offset for
  ``state_transfer(node, offset)``, 'IST' or 'SST'), ``wait_synced(node,
  cluster_size)``, ``wait_cluster(size)``, ``db_state(node)``,
  ``wsrep_status(node)``, ``sql(node, statement, args, causal=True)``
  (through the node's socket, so it works while the node is cut off);
* network: ``cut_network(host)``, ``restore_network(host)``, ``with
  network_cut(host):``, ``cut_network_for(host, seconds)``;
* HAProxy: ``lb_server_states()``, ``lb_server_stat(backend, server)``,
  ``wait_lb(backend, server, up)``
  (backends ``api_hosts`` and ``mysql_api1..3``), ``wait_api_up()``,
  ``lb_command(command)`` (the admin socket);
* the whole: ``up()`` (also heals: starts what is stopped, reconnects
  what is cut), ``down()``, ``status()``.
"""

import argparse
import concurrent.futures
import contextlib
import http.server
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pymysql
import requests

WORKDIR_ENV = 'HEAT_DEPLOY_TEST_CLUSTER_WORKDIR'
DEFAULT_PREFIX = 'hdc'
DEFAULT_SUBNET = '10.213.0'
API_HOSTS = ('api1', 'api2', 'api3')
DB_NODES = ('db1', 'db2', 'db3')
WORKER_HOSTS = ('api1', 'api2')
HOST_NUMBERS = {'lb': 10, 'api1': 11, 'api2': 12, 'api3': 13,
                'db1': 21, 'db2': 22, 'db3': 23}
ROOT_NUMBER = 1
API_PORT = 8004
MYSQL_PORT = 3306
CLUSTERCHECK_PORT = 9200
DATABASE = 'heat_deploy'
GUNICORN_WORKERS = 2
DB_USER = 'mysql'

MARIADBD = '/usr/sbin/mariadbd'
INSTALL_DB = '/usr/bin/mariadb-install-db'
GALERA_LIBRARY = '/usr/lib/galera/libgalera_smm.so'
SST_RSYNC = '/usr/bin/wsrep_sst_rsync'
HAPROXY_CANDIDATES = ('/usr/sbin/haproxy', '/usr/bin/haproxy')

# Bounded waits, in seconds.
BOOTSTRAP_TIMEOUT = 90
JOIN_TIMEOUT = 180
DB_STOP_TIMEOUT = 60
API_START_TIMEOUT = 60
API_STOP_TIMEOUT = 40
MIGRATE_TIMEOUT = 300
LB_TIMEOUT = 20
PROCESS_STOP_TIMEOUT = 15
LOG_TAIL = 3000

GALERA_OK_STATE = '4'   # wsrep_local_state of a Synced node


class ClusterError(Exception):
    """The environment could not be brought to the state asked for."""


class ClusterUnavailable(ClusterError):
    """This machine cannot run the environment (tests skip on it)."""


def venv_bin(name):
    """A console script of the environment of the running interpreter.

    Not resolved through symbolic links: a virtualenv's python is often a
    link to the system one, and the scripts are beside the link.
    """
    return os.path.join(os.path.dirname(sys.executable), name)


def haproxy_binary():
    for path in HAPROXY_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which('haproxy')


def missing_requirements():
    """Why this machine cannot run the environment: a list, empty if it
    can.
    """
    reasons = []
    if os.geteuid() != 0:
        reasons.append('not root (network namespaces need root)')
    if not shutil.which('ip'):
        reasons.append('iproute2 (ip) is not installed')
    if not haproxy_binary():
        reasons.append('haproxy is not installed (apt-get install haproxy)')
    for path, package in ((MARIADBD, 'mariadb-server'),
                          (INSTALL_DB, 'mariadb-server'),
                          (GALERA_LIBRARY, 'galera-4'),
                          (SST_RSYNC, 'mariadb-server'),
                          (shutil.which('rsync') or '/usr/bin/rsync',
                           'rsync')):
        if not os.path.exists(path):
            reasons.append('%s is missing (apt-get install %s)'
                           % (path, package))
    for script in ('gunicorn', 'heat-deploy-manage', 'heat-deploy-worker'):
        if not os.access(venv_bin(script), os.X_OK):
            reasons.append('%s is missing (pip install the project and '
                           'gunicorn in this virtualenv)' % venv_bin(script))
    return reasons


def tail(path, size=LOG_TAIL):
    """The end of a log file, for error messages."""
    try:
        with open(path, 'rb') as log_file:
            log_file.seek(0, os.SEEK_END)
            log_file.seek(max(0, log_file.tell() - size))
            return log_file.read().decode('utf-8', 'replace')
    except OSError as err:
        return '(no log: %s)' % err


def _run(argv, check=True, timeout=60, **kwargs):
    result = subprocess.run(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=timeout,
                            universal_newlines=True, **kwargs)
    if check and result.returncode != 0:
        raise ClusterError('%s failed (%d):\n%s'
                           % (' '.join(argv), result.returncode,
                              result.stdout))
    return result


def _start_time(pid):
    """The start time of a process (clock ticks after boot), or None if
    it is gone or a zombie.
    """
    try:
        with open('/proc/%d/stat' % pid) as stat_file:
            stat = stat_file.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields that
    # follow it start after its last ')'.
    fields = stat[stat.rindex(')') + 2:].split()
    if fields[0] == 'Z':
        return None
    return fields[19]


def _reap(pid):
    """Collect a child of this process that ended, so it is not taken
    for alive.
    """
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class Cluster(object):
    """The environment under one work directory and one name prefix.

    :param workdir: where configuration, data, logs and pidfiles go.
    :param prefix: names of the namespaces and links (at most 6
        characters: interface names are limited to 15).
    :param subnet: the first three octets of the private /24.
    :param sections: extra heat_deploy configuration for every API host
        and worker, {section: {option: value}}.
    """

    def __init__(self, workdir=None, prefix=DEFAULT_PREFIX,
                 subnet=DEFAULT_SUBNET, sections=None):
        if not prefix or len(prefix) > 6 or not prefix.isalnum():
            raise ValueError('prefix must be 1 to 6 letters or digits: %r'
                             % prefix)
        self.prefix = prefix
        self.subnet = subnet
        self.workdir = os.path.abspath(
            workdir or '/tmp/%s-cluster' % prefix)
        self.sections = sections or {}
        self.run_dir = os.path.join(self.workdir, 'run')

    # Topology --------------------------------------------------------

    def address(self, host):
        """The address of a host (lb, api1..3, db1..3, or root)."""
        if host == 'root':
            return '%s.%d' % (self.subnet, ROOT_NUMBER)
        return '%s.%d' % (self.subnet, HOST_NUMBERS[host])

    def netns(self, host):
        return '%s-%s' % (self.prefix, host)

    @property
    def switch_netns(self):
        return '%s-sw' % self.prefix

    def switch_port(self, host):
        """The switch's side of a host's veth."""
        return '%s-%s-sw' % (self.prefix, host)

    @property
    def root_link(self):
        return '%s-root' % self.prefix

    @property
    def lb_url(self):
        """The API as clients see it: through HAProxy."""
        return 'http://%s:%d' % (self.address('lb'), API_PORT)

    def api_url(self, host):
        """One API host, directly."""
        return 'http://%s:%d' % (self.address(host), API_PORT)

    def mysql_port(self, api_host):
        """The port of the lb's MySQL frontend of an API host."""
        return MYSQL_PORT + API_HOSTS.index(api_host)

    def host_dir(self, host):
        return os.path.join(self.workdir, host)

    def log_path(self, name):
        """The log of a process: mariadbd of db1 is 'db1', its health
        responder 'db1-check', haproxy 'lb', gunicorn of api1 'api1', the
        worker on api1 'api1-worker'.
        """
        host = name.split('-')[0]
        if name in DB_NODES:
            return os.path.join(self.host_dir(host), 'error.log')
        return os.path.join(self.host_dir(host), '%s.log' % name)

    def _netns_exec(self, host, argv):
        return ['ip', 'netns', 'exec', self.netns(host)] + list(argv)

    def _existing_netns(self):
        result = _run(['ip', 'netns', 'list'])
        return {line.split()[0] for line in result.stdout.splitlines()
                if line.strip()}

    def _our_netns(self):
        mine = {self.switch_netns} | {self.netns(host)
                                      for host in HOST_NUMBERS}
        return sorted(mine & self._existing_netns())

    def _link_exists(self, name, netns=None):
        argv = ['ip'] + (['-n', netns] if netns else []) + [
            'link', 'show', 'dev', name]
        return _run(argv, check=False).returncode == 0

    def _check_subnet_free(self):
        """Refuse a subnet the machine routes already (other than through
        our own root veth).
        """
        result = _run(['ip', '-o', '-4', 'route', 'show', 'to', 'match',
                       self.address('root')])
        for line in result.stdout.splitlines():
            if line.startswith('default'):
                continue
            if ('dev %s ' % self.root_link) not in line + ' ':
                raise ClusterError(
                    '%s.0/24 is already routed on this machine (%s); '
                    'choose another --subnet' % (self.subnet, line.strip()))

    def network_up(self):
        """Create the namespaces, the bridge and the veths (idempotent)."""
        existing = self._existing_netns()
        if self.root_link not in existing:
            self._check_subnet_free()
        sw = self.switch_netns
        if sw not in existing:
            _run(['ip', 'netns', 'add', sw])
        _run(['ip', '-n', sw, 'link', 'set', 'lo', 'up'])
        if not self._link_exists('br0', sw):
            _run(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge'])
        _run(['ip', '-n', sw, 'link', 'set', 'br0', 'up'])
        for host in HOST_NUMBERS:
            ns = self.netns(host)
            if ns not in existing:
                _run(['ip', 'netns', 'add', ns])
            _run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
            if not self._link_exists('eth0', ns):
                if self._link_exists(self.switch_port(host), sw):
                    _run(['ip', '-n', sw, 'link', 'del',
                          self.switch_port(host)])
                _run(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type',
                      'veth', 'peer', 'name', self.switch_port(host),
                      'netns', sw])
            _run(['ip', '-n', ns, 'addr', 'replace',
                  '%s/24' % self.address(host), 'dev', 'eth0'])
            _run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
            _run(['ip', '-n', sw, 'link', 'set', self.switch_port(host),
                  'master', 'br0', 'up'])
        if not self._link_exists(self.root_link):
            _run(['ip', 'link', 'add', self.root_link, 'type', 'veth',
                  'peer', 'name', '%s-root-sw' % self.prefix, 'netns', sw])
        _run(['ip', 'addr', 'replace', '%s/24' % self.address('root'),
              'dev', self.root_link])
        _run(['ip', 'link', 'set', self.root_link, 'up'])
        _run(['ip', '-n', sw, 'link', 'set', '%s-root-sw' % self.prefix,
              'master', 'br0', 'up'])

    def network_down(self):
        """Delete our namespaces (their veths go with them) and our root
        veth; nothing else.
        """
        for ns in self._our_netns():
            _run(['ip', 'netns', 'del', ns], check=False)
        if self._link_exists(self.root_link):
            _run(['ip', 'link', 'del', self.root_link], check=False)

    # Processes -------------------------------------------------------

    def _pidfile(self, name):
        return os.path.join(self.run_dir, '%s.pid' % name)

    def pid(self, name):
        """The pid of a process we started and that still runs, or None."""
        try:
            with open(self._pidfile(name)) as pidfile:
                pid, started = pidfile.read().split()
            pid = int(pid)
        except (OSError, ValueError):
            return None
        _reap(pid)
        if _start_time(pid) != started:
            return None
        return pid

    def running(self, name):
        return self.pid(name) is not None

    def _spawn(self, name, host, argv, env=None, cwd=None):
        """Start a process in a host's namespace, in a session of its own
        (its process group is its pid: a gunicorn and its workers are
        signalled together), with its output in its log.
        """
        os.makedirs(self.run_dir, exist_ok=True)
        os.makedirs(self.host_dir(host), exist_ok=True)
        log_path = self.log_path(name)
        with open(log_path, 'ab') as log_file:
            log_file.write(('--- %s starting: %s\n'
                            % (time.strftime('%H:%M:%S'), ' '.join(argv))
                            ).encode())
            log_file.flush()
            # ip netns exec execs the command: the pid is the command's.
            process = subprocess.Popen(
                self._netns_exec(host, argv), stdin=subprocess.DEVNULL,
                stdout=log_file, stderr=subprocess.STDOUT,
                env=env, cwd=cwd or self.host_dir(host),
                start_new_session=True)
        started = None
        deadline = time.monotonic() + 5
        while started is None and time.monotonic() < deadline:
            started = _start_time(process.pid)
            if started is None and process.poll() is not None:
                break
        if started is None:
            raise ClusterError('%s did not start:\n%s'
                               % (name, tail(log_path)))
        with open(self._pidfile(name), 'w') as pidfile:
            pidfile.write('%d %s\n' % (process.pid, started))
        return process.pid

    def _group_alive(self, pgid):
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % entry) as stat_file:
                    stat = stat_file.read()
            except OSError:
                continue
            fields = stat[stat.rindex(')') + 2:].split()
            if fields[0] != 'Z' and int(fields[2]) == pgid:
                return True
            if fields[0] == 'Z' and int(fields[2]) == pgid:
                _reap(int(entry))
        return False

    def _stop(self, name, sig=signal.SIGTERM, group=True,
              timeout=PROCESS_STOP_TIMEOUT, kill_after=True):
        """Signal a process we started (and its process group) and wait
        until it is gone; SIGKILL when it outlives the timeout.
        :returns: False if it was not running.
        """
        pid = self.pid(name)
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            gone = (not self._group_alive(pid) if group
                    else _start_time(pid) is None)
            if gone:
                break
            time.sleep(0.1)
        else:
            if not kill_after:
                raise ClusterError('%s (pid %d) did not stop within %d s '
                                   'of signal %d:\n%s'
                                   % (name, pid, timeout, sig,
                                      tail(self.log_path(name))))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while self._group_alive(pid):
                time.sleep(0.1)
        with contextlib.suppress(OSError):
            os.unlink(self._pidfile(name))
        return True

    # Galera ----------------------------------------------------------

    def _db_paths(self, node):
        base = self.host_dir(node)
        return {'cnf': os.path.join(base, 'my.cnf'),
                'data': os.path.join(base, 'data'),
                'socket': os.path.join(base, 'mysqld.sock'),
                'tmp': os.path.join(base, 'tmp')}

    def _write_db_cnf(self, node):
        paths = self._db_paths(node)
        address = self.address(node)
        members = ','.join(self.address(n) for n in DB_NODES)
        options = [
            # Not root: the rsync daemon of an SST runs as the server's
            # user, and as root it would drop to nobody and fail to write.
            ('user', DB_USER),
            ('datadir', paths['data']),
            ('socket', paths['socket']),
            ('pid-file', os.path.join(self.host_dir(node), 'mysqld.pid')),
            ('log-error', self.log_path(node)),
            # Not the shared /tmp: three servers (and three install-db at
            # once) must not meet in one directory.
            ('tmpdir', paths['tmp']),
            ('bind-address', address),
            ('port', MYSQL_PORT),
            ('skip-name-resolve', 'ON'),
            # Small: seven hosts share one test machine.
            ('performance_schema', 'OFF'),
            ('innodb_buffer_pool_size', '64M'),
            ('innodb_log_file_size', '32M'),
            ('max_connections', 300),
            ('character-set-server', 'utf8mb4'),
            ('collation-server', 'utf8mb4_general_ci'),
            ('default_storage_engine', 'InnoDB'),
            # What Galera requires.
            ('binlog_format', 'ROW'),
            ('innodb_autoinc_lock_mode', 2),
            ('wsrep_on', 'ON'),
            ('wsrep_provider', GALERA_LIBRARY),
            ('wsrep_cluster_name', '%s-galera' % self.prefix),
            ('wsrep_cluster_address', 'gcomm://%s' % members),
            ('wsrep_node_name', node),
            ('wsrep_node_address', address),
            ('wsrep_sst_method', 'rsync'),
            ('wsrep_slave_threads', 2),
            # A node that rejoins after a short stop catches up from a
            # peer's gcache (IST) rather than a full copy (SST): 64M holds
            # far more than a test writes.
            # Peers on one bridge answer in microseconds: a node cut off
            # is declared gone after 3 s rather than 5, and evicted
            # after 6 s rather than 15, so partition tests are short.
            ('wsrep_provider_options',
             '"gcache.size=64M; gmcast.listen_addr=tcp://%s:4567; '
             'ist.recv_addr=%s:4568; evs.suspect_timeout=PT3S; '
             'evs.inactive_timeout=PT6S; evs.inactive_check_period=PT1S"'
             % (address, address)),
        ]
        os.makedirs(self.host_dir(node), exist_ok=True)
        with open(paths['cnf'], 'w') as cnf:
            cnf.write('# Written by heat_deploy.tests.cluster.environment\n'
                      '[mysqld]\n')
            for name, value in options:
                cnf.write('%s = %s\n' % (name, value))
            cnf.write('\n[client]\nsocket = %s\n' % paths['socket'])
        return paths['cnf']

    def _give_to_db_user(self, node):
        """The node's directory, its log included, to the server's user
        (the log is opened by us first, then by mariadbd).
        """
        user = pwd.getpwnam(DB_USER)
        with open(self.log_path(node), 'ab'):
            pass
        for directory, subdirectories, files in os.walk(
                self.host_dir(node)):
            for name in [directory] + [os.path.join(directory, entry)
                                       for entry in subdirectories + files]:
                os.lchown(name, user.pw_uid, user.pw_gid)

    def _install_db(self, node):
        paths = self._db_paths(node)
        for directory in ('data', 'tmp'):
            shutil.rmtree(paths[directory], ignore_errors=True)
            os.makedirs(paths[directory])
        cnf = self._write_db_cnf(node)
        self._give_to_db_user(node)
        # install-db runs mariadbd --bootstrap, which must not try to
        # join a cluster.
        _run([INSTALL_DB, '--defaults-file=%s' % cnf, '--user=%s' % DB_USER,
              '--auth-root-authentication-method=normal',
              '--skip-test-db', '--wsrep-on=OFF'], timeout=120)

    def sql(self, node, statement, args=None, database=DATABASE,
            causal=False, timeout=10):
        """Run one statement on one database node, through its socket
        (which works while its network is cut); returns the rows.

        :param causal: wait until the node has applied every write the
            cluster committed before this read (wsrep_sync_wait = 1), to
            compare the nodes' rows.
        """
        paths = self._db_paths(node)
        connection = pymysql.connect(
            unix_socket=paths['socket'], user='root', database=database,
            connect_timeout=timeout, read_timeout=timeout,
            write_timeout=timeout, autocommit=True)
        try:
            with connection.cursor() as cursor:
                if causal:
                    cursor.execute('SET SESSION wsrep_sync_wait = 1')
                cursor.execute(statement, args)
                return cursor.fetchall()
        finally:
            connection.close()

    def wsrep_status(self, node):
        """{wsrep status variable: value} of one node."""
        rows = self.sql(node, "SHOW GLOBAL STATUS LIKE 'wsrep%%'",
                        database=None)
        return dict(rows)

    def db_state(self, node):
        """(synced, description) of a node, never raising."""
        if not self.running(node):
            return False, 'mariadbd is not running'
        try:
            status = self.wsrep_status(node)
        except pymysql.MySQLError as err:
            return False, 'no answer: %s' % err
        synced = (status.get('wsrep_local_state') == GALERA_OK_STATE and
                  status.get('wsrep_cluster_status') == 'Primary' and
                  status.get('wsrep_ready') == 'ON')
        return synced, ('%s, %s, cluster size %s'
                        % (status.get('wsrep_local_state_comment'),
                           status.get('wsrep_cluster_status'),
                           status.get('wsrep_cluster_size')))

    def wait_synced(self, node, cluster_size=None, timeout=JOIN_TIMEOUT):
        """Wait until a node is Synced in the primary component (and, if
        given, sees a cluster of that size).
        """
        deadline = time.monotonic() + timeout
        while True:
            synced, description = self.db_state(node)
            if synced and cluster_size is not None:
                size = self.wsrep_status(node).get('wsrep_cluster_size')
                synced = size == str(cluster_size)
            if synced:
                return
            if not self.running(node):
                raise ClusterError('Galera node %s exited:\n%s'
                                   % (node, tail(self.log_path(node))))
            if time.monotonic() > deadline:
                raise ClusterError(
                    'Galera node %s is not Synced%s after %d s (%s):\n%s'
                    % (node, ' in a cluster of %s' % cluster_size
                       if cluster_size else '', timeout, description,
                       tail(self.log_path(node))))
            time.sleep(0.3)

    def wait_cluster(self, size=len(DB_NODES), timeout=JOIN_TIMEOUT):
        """Wait until every running node is Synced in a cluster of size."""
        for node in DB_NODES:
            if self.running(node):
                self.wait_synced(node, cluster_size=size, timeout=timeout)

    def log_offset(self, name):
        """The size of a log now, to look only at what follows."""
        try:
            return os.path.getsize(self.log_path(name))
        except OSError:
            return 0

    def state_transfer(self, node, since=0):
        """How the node got its state after log offset ``since``: 'IST',
        'SST' or None (read from its error log).
        """
        with open(self.log_path(node), 'rb') as log_file:
            log_file.seek(since)
            text = log_file.read().decode('utf-8', 'replace')
        if 'IST received' in text or 'Receiving IST' in text:
            return 'IST'
        if 'SST received' in text or 'SST succeeded' in text:
            return 'SST'
        return None

    def start_db(self, node, bootstrap=False, wait=True,
                 timeout=JOIN_TIMEOUT):
        """Start a Galera node: a new cluster (bootstrap) or joining the
        others, then wait until it is Synced.

        :returns: the offset of its log where this start begins (see
            state_transfer).
        """
        if self.running(node):
            if wait:
                self.wait_synced(node, timeout=timeout)
            return self.log_offset(node)
        cnf = self._write_db_cnf(node)
        self._give_to_db_user(node)
        offset = self.log_offset(node)
        argv = [MARIADBD, '--defaults-file=%s' % cnf]
        if bootstrap:
            argv.append('--wsrep-new-cluster')
        self._spawn(node, node, argv)
        if wait:
            self.wait_synced(node, timeout=timeout)
        return offset

    def stop_db(self, node, timeout=DB_STOP_TIMEOUT):
        """Stop a Galera node cleanly (SIGTERM), as an operator does; it
        leaves the cluster and keeps its position for IST.
        """
        self._stop(node, signal.SIGTERM, group=False, timeout=timeout,
                   kill_after=False)

    def kill_db(self, node):
        """SIGKILL a Galera node (a crash)."""
        self._stop(node, signal.SIGKILL, group=False)

    def _start_galera(self):
        running = [node for node in DB_NODES if self.running(node)]
        if not running:
            with concurrent.futures.ThreadPoolExecutor(len(DB_NODES)) as ex:
                list(ex.map(self._install_db, DB_NODES))
            self.start_db(DB_NODES[0], bootstrap=True,
                          timeout=BOOTSTRAP_TIMEOUT)
            # TCP clients come from other hosts: root from anywhere, no
            # password, only ever on these private addresses.
            for statement in (
                    "CREATE USER IF NOT EXISTS 'root'@'%%'",
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' "
                    "WITH GRANT OPTION",
                    'CREATE DATABASE IF NOT EXISTS %s '
                    'CHARACTER SET utf8mb4' % DATABASE):
                self.sql(DB_NODES[0], statement, database=None)
        for node in DB_NODES:
            self.start_db(node)
        self.wait_cluster()

    # Database health responder (runs in each db namespace) -----------

    def _start_clustercheck(self, node):
        if self.running('%s-check' % node):
            return
        self._spawn('%s-check' % node, node, [
            sys.executable, '-m', 'heat_deploy.tests.cluster.environment',
            'clustercheck', '--socket', self._db_paths(node)['socket'],
            '--bind', self.address(node), '--port', str(CLUSTERCHECK_PORT)])

    # HAProxy ---------------------------------------------------------

    @property
    def haproxy_socket(self):
        return os.path.join(self.host_dir('lb'), 'haproxy.sock')

    def _write_haproxy_cfg(self):
        lb = self.address('lb')
        lines = [
            '# Written by heat_deploy.tests.cluster.environment',
            'global',
            '    log stderr format raw local0 info',
            '    stats socket %s mode 600 level admin' % self.haproxy_socket,
            '    maxconn 4000',
            '',
            'defaults',
            '    log global',
            '    timeout connect 1s',
            '    timeout client 60s',
            '    timeout server 60s',
            '    timeout check 1s',
            '    default-server inter 500ms fastinter 500ms downinter 500ms'
            ' fall 2 rise 2',
            '',
            'frontend api',
            '    mode http',
            '    option httplog',
            '    bind %s:%d' % (lb, API_PORT),
            '    default_backend api_hosts',
            '',
            'backend api_hosts',
            '    mode http',
            '    balance roundrobin',
            # /healthcheck asks the database. While Galera forms a new
            # view (a node cut off: 3 s here) every node stalls, and a
            # 1 s check timeout took out every API host at once: 503 for
            # all. A stall is not a dead host; a refused connection is
            # still seen at once.
            '    timeout check 5s',
            '    option httpchk',
            '    http-check send meth GET uri /healthcheck',
            '    http-check expect status 200',
            '    option redispatch 1',
            '    retries 3',
            '    retry-on conn-failure empty-response response-timeout',
            # A POST or PATCH that got no answer may have committed: only
            # a refused connection is retried for them.
            '    http-request disable-l7-retry if METH_POST',
            '    http-request disable-l7-retry if { method PATCH }',
        ]
        for host in API_HOSTS:
            lines.append('    server %s %s:%d check'
                         % (host, self.address(host), API_PORT))
        for host in API_HOSTS:
            preferred = DB_NODES[API_HOSTS.index(host)]
            lines += [
                '',
                'listen mysql_%s' % host,
                '    mode tcp',
                '    option tcplog',
                '    bind %s:%d' % (lb, self.mysql_port(host)),
                # Pooled connections sit idle between requests.
                '    timeout client 1h',
                '    timeout server 1h',
                '    option httpchk',
                '    http-check send meth GET uri /',
                '    http-check expect status 200',
            ]
            for node in DB_NODES:
                lines.append(
                    '    server %s %s:%d check port %d%s '
                    'on-marked-down shutdown-sessions '
                    'on-marked-up shutdown-backup-sessions'
                    % (node, self.address(node), MYSQL_PORT,
                       CLUSTERCHECK_PORT,
                       '' if node == preferred else ' backup'))
        path = os.path.join(self.host_dir('lb'), 'haproxy.cfg')
        os.makedirs(self.host_dir('lb'), exist_ok=True)
        with open(path, 'w') as cfg:
            cfg.write('\n'.join(lines) + '\n')
        return path

    def _start_haproxy(self):
        if self.running('lb'):
            return
        cfg = self._write_haproxy_cfg()
        _run([haproxy_binary(), '-c', '-f', cfg])
        # -db: in the foreground, so the pid is HAProxy's and its log
        # (stderr) goes to lb.log.
        with contextlib.suppress(OSError):
            os.unlink(self.haproxy_socket)
        self._spawn('lb', 'lb', [haproxy_binary(), '-db', '-f', cfg])
        deadline = time.monotonic() + LB_TIMEOUT
        while not os.path.exists(self.haproxy_socket):
            if not self.running('lb') or time.monotonic() > deadline:
                raise ClusterError('HAProxy did not start:\n%s'
                                   % tail(self.log_path('lb')))
            time.sleep(0.1)

    def lb_command(self, command):
        """A command on HAProxy's admin socket; returns its answer."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(self.haproxy_socket)
            sock.sendall(command.encode() + b'\n')
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b''.join(chunks).decode()

    def lb_server_stat(self, backend, server):
        """One server's row of HAProxy's ``show stat``, {field: value}
        (status, scur: requests in progress, qcur: queued, stot: total
        sessions...).
        """
        text = self.lb_command('show stat')
        header = text.splitlines()[0].lstrip('# ').split(',')
        for line in text.splitlines()[1:]:
            row = dict(zip(header, line.split(',')))
            if row.get('pxname') == backend and row.get('svname') == server:
                return row
        raise ClusterError('HAProxy has no server %s/%s' % (backend, server))

    def lb_server_states(self):
        """{(backend, server): (status, last check)} as HAProxy sees
        them: status UP, DOWN, 'UP 1/2' (going down), MAINT...; the last
        check L7OK, L7STS (an error status), L4CON (refused), INI (none
        yet)...
        """
        text = self.lb_command('show stat')
        header = text.splitlines()[0].lstrip('# ').split(',')
        states = {}
        for line in text.splitlines()[1:]:
            if not line.strip():
                continue
            row = dict(zip(header, line.split(',')))
            if row['svname'] in ('FRONTEND', 'BACKEND'):
                continue
            states[(row['pxname'], row['svname'])] = (
                row['status'], row['check_status'].lstrip('* '))
        return states

    def wait_lb(self, backend, server, up=True, timeout=LB_TIMEOUT):
        """Wait until HAProxy marks a server of a backend (api_hosts, or
        mysql_api1..3) up (after a check that passed: a server is UP
        before its first check) or down.
        """
        deadline = time.monotonic() + timeout
        while True:
            status, check = self.lb_server_states().get(
                (backend, server), (None, None))
            if up and status == 'UP' and check == 'L7OK':
                return
            if not up and status == 'DOWN':
                return
            if time.monotonic() > deadline:
                raise ClusterError('HAProxy still sees %s/%s as %s (last '
                                   'check %s) after %d s (waited for %s):'
                                   '\n%s'
                                   % (backend, server, status, check,
                                      timeout, 'UP' if up else 'DOWN',
                                      tail(self.log_path('lb'))))
            time.sleep(0.2)

    # heat_deploy -----------------------------------------------------

    @property
    def signing_key(self):
        """One signing key for every host, kept in the work directory so
        that a restarted host signs as the others do.
        """
        path = os.path.join(self.workdir, 'signing-key')
        if not os.path.exists(path):
            os.makedirs(self.workdir, exist_ok=True)
            with open(path, 'w') as key_file:
                key_file.write(secrets.token_hex(32))
        with open(path) as key_file:
            return key_file.read().strip()

    def database_url(self, api_host):
        return ('mysql+pymysql://root@%s:%d/%s?charset=utf8mb4'
                % (self.address('lb'), self.mysql_port(api_host), DATABASE))

    def conf_path(self, api_host):
        return os.path.join(self.host_dir(api_host), 'heat-deploy.conf')

    def _write_api_conf(self, api_host):
        sections = {
            'DEFAULT': {'debug': 'false'},
            'database': {'connection': self.database_url(api_host),
                         'mysql_wsrep_sync_wait': '1'},
            'api': {'auth_strategy': 'noauth',
                    'public_endpoint': self.lb_url},
            'signal': {'signing_keys': self.signing_key},
        }
        for section, options in self.sections.items():
            sections.setdefault(section, {}).update(options)
        path = self.conf_path(api_host)
        os.makedirs(self.host_dir(api_host), exist_ok=True)
        with open(path, 'w') as conf:
            for section, options in sections.items():
                conf.write('[%s]\n' % section)
                for name, value in options.items():
                    conf.write('%s = %s\n' % (name, value))
                conf.write('\n')
        return path

    def _service_env(self, api_host):
        env = dict(os.environ)
        env['HEAT_DEPLOY_CONFIG_FILE'] = self.conf_path(api_host)
        return env

    def migrate(self):
        """heat-deploy-manage db sync, once, from api1."""
        conf = self._write_api_conf(API_HOSTS[0])
        env = self._service_env(API_HOSTS[0])
        env.pop('HEAT_DEPLOY_CONFIG_FILE')
        result = _run(self._netns_exec(API_HOSTS[0], [
            venv_bin('heat-deploy-manage'), '--config-file', conf, 'db',
            'sync']), check=False, timeout=MIGRATE_TIMEOUT, env=env,
            cwd=self.host_dir(API_HOSTS[0]))
        if result.returncode != 0:
            raise ClusterError('heat-deploy-manage db sync on %s failed '
                               '(%d):\n%s' % (API_HOSTS[0],
                                              result.returncode,
                                              result.stdout[-LOG_TAIL:]))

    def healthy(self, api_host):
        """Whether an API host answers /healthcheck with 200 directly."""
        try:
            return requests.get(self.api_url(api_host) + '/healthcheck',
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_api(self, api_host, wait=True, timeout=API_START_TIMEOUT):
        """Start an API host's gunicorn and wait for its /healthcheck."""
        if not self.running(api_host):
            self._write_api_conf(api_host)
            self._spawn(api_host, api_host, [
                venv_bin('gunicorn'), '--workers', str(GUNICORN_WORKERS),
                '--worker-class', 'sync',
                '--bind', '%s:%d' % (self.address(api_host), API_PORT),
                '--timeout', '60', '--graceful-timeout', '30',
                # Three gunicorns on one machine must not share the
                # control socket in $HOME.
                '--no-control-socket',
                'heat_deploy.wsgi.api:application'],
                env=self._service_env(api_host))
        if not wait:
            return
        deadline = time.monotonic() + timeout
        while not self.healthy(api_host):
            if not self.running(api_host):
                raise ClusterError('gunicorn of %s exited:\n%s'
                                   % (api_host,
                                      tail(self.log_path(api_host))))
            if time.monotonic() > deadline:
                raise ClusterError('%s does not answer /healthcheck after '
                                   '%d s:\n%s' % (api_host, timeout,
                                                  tail(self.log_path(
                                                      api_host))))
            time.sleep(0.2)

    def kill_api(self, api_host):
        """SIGKILL an API host's gunicorn master and workers at once (a
        crash); returns when none of them is left.
        """
        if not self._stop(api_host, signal.SIGKILL):
            raise ClusterError('%s is not running' % api_host)

    def stop_api(self, api_host, timeout=API_STOP_TIMEOUT):
        """Stop an API host gracefully: SIGTERM to gunicorn, which closes
        its socket and lets the workers finish their requests.
        """
        self._stop(api_host, signal.SIGTERM, timeout=timeout,
                   kill_after=False)

    def drain_api(self, api_host, timeout=API_STOP_TIMEOUT):
        """Take an API host out of HAProxy's rotation without failing a
        request: ``set server api_hosts/<host> state drain`` (HAProxy
        sends it no new request), then wait until it has no request in
        progress or queued.

        Stopping gunicorn without this fails requests: SIGTERM closes its
        listening socket at once, and the connections HAProxy had opened
        that no worker had accepted yet (in the accept queue while both
        sync workers were busy) are reset after HAProxy sent the request,
        which it must not send again for a POST.
        """
        self.lb_command('set server api_hosts/%s state drain' % api_host)
        deadline = time.monotonic() + timeout
        while True:
            stat = self.lb_server_stat('api_hosts', api_host)
            if stat['scur'] == '0' and stat['qcur'] in ('0', ''):
                return
            if time.monotonic() > deadline:
                raise ClusterError('%s still has %s requests in progress '
                                   'after %d s of drain'
                                   % (api_host, stat['scur'], timeout))
            time.sleep(0.1)

    def ready_api(self, api_host, timeout=LB_TIMEOUT):
        """Put a drained API host back in HAProxy's rotation and wait
        until HAProxy sees it UP.
        """
        self.lb_command('set server api_hosts/%s state ready' % api_host)
        self.wait_lb('api_hosts', api_host, timeout=timeout)

    def restart_api(self, api_host, graceful=True):
        """Restart an API host; returns once HAProxy sends it requests
        again (graceful) or it answers /healthcheck (not graceful).

        Graceful is the rolling restart procedure, which fails no request:
        drain it in HAProxy (drain_api), SIGTERM gunicorn, start it, put
        it back (ready_api). Not graceful: SIGKILL (a crash) and start.
        """
        if graceful:
            self.drain_api(api_host)
            self.stop_api(api_host)
        else:
            self.kill_api(api_host)
        self.start_api(api_host)
        if graceful:
            self.ready_api(api_host)

    def reload_api(self, api_host):
        """SIGHUP: gunicorn starts new workers and retires the old ones
        gracefully, without closing its socket.
        """
        pid = self.pid(api_host)
        if pid is None:
            raise ClusterError('%s is not running' % api_host)
        os.kill(pid, signal.SIGHUP)

    def worker_name(self, api_host):
        return '%s-worker' % api_host

    def start_worker(self, api_host):
        """Start heat-deploy-worker on an API host."""
        name = self.worker_name(api_host)
        if self.running(name):
            return
        conf = self._write_api_conf(api_host)
        env = self._service_env(api_host)
        env.pop('HEAT_DEPLOY_CONFIG_FILE')
        self._spawn(name, api_host, [venv_bin('heat-deploy-worker'),
                                     '--config-file', conf], env=env)
        time.sleep(0.5)
        if not self.running(name):
            raise ClusterError('heat-deploy-worker on %s exited:\n%s'
                               % (api_host, tail(self.log_path(name))))

    def stop_worker(self, api_host, sig=signal.SIGTERM):
        """Stop heat-deploy-worker on an API host (SIGTERM: it finishes
        its sweep; SIGKILL: a crash).
        """
        self._stop(self.worker_name(api_host), sig)

    # Network faults --------------------------------------------------

    def cut_network(self, host):
        """Take a host off the network: its switch port goes down, so
        nothing gets in or out (its processes keep running).
        """
        _run(['ip', '-n', self.switch_netns, 'link', 'set',
              self.switch_port(host), 'down'])

    def restore_network(self, host):
        _run(['ip', '-n', self.switch_netns, 'link', 'set',
              self.switch_port(host), 'up'])

    @contextlib.contextmanager
    def network_cut(self, host):
        """with cluster.network_cut('db3'): ... (restored on the way
        out, whatever happens).
        """
        self.cut_network(host)
        try:
            yield
        finally:
            self.restore_network(host)

    def wait_api_up(self, timeout=LB_TIMEOUT):
        """Wait until HAProxy has every running API host UP."""
        for host in API_HOSTS:
            if self.running(host):
                self.wait_lb('api_hosts', host, timeout=timeout)

    def cut_network_for(self, host, seconds):
        with self.network_cut(host):
            time.sleep(seconds)

    # The whole -------------------------------------------------------

    def up(self):
        """Bring everything up (idempotent); returns the seconds taken."""
        reasons = missing_requirements()
        if reasons:
            raise ClusterUnavailable('; '.join(reasons))
        began = time.monotonic()
        os.makedirs(self.run_dir, exist_ok=True)
        self.network_up()
        self._start_galera()
        for node in DB_NODES:
            self._start_clustercheck(node)
        self._start_haproxy()
        for host in API_HOSTS:
            self.wait_lb('mysql_%s' % host, DB_NODES[API_HOSTS.index(host)])
        if not all(self.running(host) for host in API_HOSTS):
            self.migrate()
        for host in API_HOSTS:
            self.start_api(host, wait=False)
        for host in API_HOSTS:
            self.start_api(host)
            # Undo a drain_api that was not followed by ready_api.
            self.ready_api(host)
        for host in WORKER_HOSTS:
            self.start_worker(host)
        return time.monotonic() - began

    def process_names(self):
        names = []
        for host in WORKER_HOSTS:
            names.append(self.worker_name(host))
        names += list(API_HOSTS) + ['lb']
        names += ['%s-check' % node for node in DB_NODES]
        names += list(DB_NODES)
        return names

    def down(self):
        """Stop what we started and remove our namespaces (idempotent)."""
        for name in self.process_names():
            if name in DB_NODES:
                self._stop(name, signal.SIGTERM, group=False,
                           timeout=DB_STOP_TIMEOUT)
            else:
                self._stop(name)
        self.network_down()

    def status(self):
        """A description of everything, as a dict."""
        report = {'workdir': self.workdir, 'lb_url': self.lb_url,
                  'namespaces': self._our_netns(), 'processes': {},
                  'galera': {}, 'haproxy': {}}
        for name in self.process_names():
            report['processes'][name] = self.pid(name)
        for node in DB_NODES:
            report['galera'][node] = self.db_state(node)[1]
        if self.running('lb'):
            try:
                report['haproxy'] = {
                    '%s/%s' % key: '%s (%s)' % value
                    for key, value in self.lb_server_states().items()}
            except OSError as err:
                report['haproxy'] = str(err)
        return report


# The Galera health responder ------------------------------------------


def clustercheck(socket_path, bind, port):
    """Answer HTTP 200 while the local node is Synced, Primary and ready,
    503 otherwise; HAProxy checks it.

    One connection to the node, kept between checks: three frontends
    check each node twice a second, and a new connection for each check
    cost a third of a core per responder, which the benchmarks counted as
    load on the machine. A connection that fails is made anew at the
    next check.
    """
    node = {'connection': None}
    lock = threading.Lock()

    def read_status():
        if node['connection'] is None:
            node['connection'] = pymysql.connect(
                unix_socket=socket_path, user='root', connect_timeout=1,
                read_timeout=1, autocommit=True)
        try:
            with node['connection'].cursor() as cursor:
                cursor.execute(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN "
                    "('wsrep_local_state', 'wsrep_cluster_status', "
                    "'wsrep_ready', 'wsrep_local_state_comment')")
                return dict(cursor.fetchall())
        except pymysql.MySQLError:
            connection, node['connection'] = node['connection'], None
            connection.close()
            raise

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            try:
                with lock:
                    status = read_status()
                synced = (status.get('wsrep_local_state') == GALERA_OK_STATE
                          and status.get('wsrep_cluster_status') == 'Primary'
                          and status.get('wsrep_ready') == 'ON')
                body = '%s %s\n' % (status.get('wsrep_local_state_comment'),
                                    status.get('wsrep_cluster_status'))
            except pymysql.MySQLError as err:
                synced, body = False, 'no answer: %s\n' % err
            self.send_response(200 if synced else 503)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('Content-Length', str(len(body.encode())))
            self.send_header('Connection', 'close')
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format, *args):
            # Two checks a second per frontend: only failures are news.
            if args and str(args[1]) != '200':
                sys.stderr.write('%s %s\n' % (time.strftime('%H:%M:%S'),
                                              format % args))

    server = http.server.ThreadingHTTPServer((bind, port), Handler)
    server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='API hosts, HAProxy and a Galera cluster in network '
                    'namespaces (run as root).')
    parser.add_argument('action', choices=('up', 'down', 'status',
                                           'clustercheck'))
    parser.add_argument('--workdir', default=os.environ.get(WORKDIR_ENV),
                        help='default $%s, or else /tmp/PREFIX-cluster'
                             % WORKDIR_ENV)
    parser.add_argument('--prefix', default=DEFAULT_PREFIX)
    parser.add_argument('--subnet', default=DEFAULT_SUBNET,
                        help='first three octets of the private /24 '
                             '(default %s)' % DEFAULT_SUBNET)
    parser.add_argument('--purge', action='store_true',
                        help='down: also remove the work directory')
    parser.add_argument('--socket', help=argparse.SUPPRESS)
    parser.add_argument('--bind', help=argparse.SUPPRESS)
    parser.add_argument('--port', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.action == 'clustercheck':
        clustercheck(args.socket, args.bind, args.port)
        return 0
    cluster = Cluster(args.workdir, prefix=args.prefix, subnet=args.subnet)
    if args.action == 'down' and os.geteuid() != 0:
        # Nothing of ours can exist: only root makes namespaces.
        print('down: not root, nothing to do')
        return 0
    try:
        if args.action == 'up':
            seconds = cluster.up()
            print('up in %.1f s; API through HAProxy: %s'
                  % (seconds, cluster.lb_url))
        elif args.action == 'down':
            cluster.down()
            if args.purge:
                shutil.rmtree(cluster.workdir, ignore_errors=True)
            print('down')
        else:
            print(json.dumps(cluster.status(), indent=2))
    except ClusterError as err:
        print('%s: %s' % (args.action, err), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
