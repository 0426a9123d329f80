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

"""Faults under load: an API host killed, a Galera node stopped or cut
off, every API host restarted one after the other, each while client
threads go on through the load balancer.

The load (``_Load``): 16 threads through HAProxy for a bounded time,

* 6 writers read-modify-write the outputs of 3 deployments (two writers
  on each) with GET then If-Match PUT, each PUT adding one key;
* 6 signallers send the signal of a CFN_SIGNAL deployment through its
  capability URL, then two copies of signals already answered (which Heat
  answers 'ignored');
* 4 pollers poll the metadata URLs of the signalled servers with
  If-None-Match, as os-collect-config does.

Every HTTP request is recorded (start, end, kind, method, status or
error). The client's retry rule: a request that got no answer (a
connection error or a timeout) or a 502, 503 or 504 is sent once more,
and only once, after the answer's Retry-After (the service's 503 says 2
s; at most 5 s) or else 1 s. Every request of the load may be
repeated: GETs; If-Match PUTs (the If-Match guards against applying it
twice: a copy of a PUT that committed is refused 412); and signals (a
copy of a signal that was applied is answered 'ignored').

After the load, whatever the fault: every key of a PUT answered 200 is in
the deployment's outputs (no lost update), each signalled deployment was
applied at most once, and one answered 'applied' is COMPLETE with the
signal's outputs, and every Galera node holds the same rows. Each test
adds a summary (requests, statuses, failures with their times relative to
the fault) as the detail 'fault-summary' and logs it.
"""

import collections
import concurrent.futures
import logging
import threading
import time
import uuid

import requests
from testtools import content

from heat_deploy.tests.cluster import base
from heat_deploy.tests.cluster import environment

LOG = logging.getLogger(__name__)

API_HOSTS = environment.API_HOSTS
DB_NODES = environment.DB_NODES

WRITER_THREADS = 6
OUTPUT_DEPLOYMENTS = 3
SIGNAL_THREADS = 6
POLL_THREADS = 4
LOAD_THREADS = WRITER_THREADS + SIGNAL_THREADS + POLL_THREADS
# CFN_SIGNAL deployments made before the load, for one signal each: on
# one server of each of SIGNAL_TENANTS tenants (each derived config counts
# in its tenant's config quota), whose metadata the pollers poll.
SIGNAL_TENANTS = 20
SIGNAL_DEPLOYMENTS_PER_TENANT = base.CONFIG_QUOTA - 10
SIGNAL_DEPLOYMENTS = SIGNAL_TENANTS * SIGNAL_DEPLOYMENTS_PER_TENANT
# (connect, read) seconds: every request is bounded; a Galera view change
# stalls writes for a few seconds, far less than this.
REQUEST_TIMEOUT = (3, 20)
# The pause before the retry: the Retry-After of the answer (the
# service's 503 says 2 s), at most RETRY_AFTER_MAX, or RETRY_PAUSE.
RETRY_PAUSE = 1.0
RETRY_AFTER_MAX = 5.0
RETRIED_STATUSES = (502, 503, 504)
# The load runs this long before the fault.
WARM_UP = 4.0
TAIL = 4.0


def _tenant(what):
    return '%s-%s' % (what, uuid.uuid4().hex[:10])


Attempt = collections.namedtuple(
    'Attempt', 'started ended kind method status error retry')


def _retry_pause(response):
    try:
        return min(float(response.headers['Retry-After']), RETRY_AFTER_MAX)
    except (AttributeError, KeyError, ValueError):
        return RETRY_PAUSE


def _failed(attempt):
    return attempt.status is None or attempt.status >= 500


class _Load(object):
    """Client threads through the load balancer, recording every request.

    :param cluster: the environment.Cluster.
    :param tenant: the prefix of the tenants the load makes (the
        deployments written to are in ``tenant-o``, those signalled in
        ``tenant-s00``...).
    """

    def __init__(self, cluster, tenant):
        self.cluster = cluster
        self.tenant = tenant
        self.outputs_tenant = '%s-o' % tenant
        self.signal_tenants = ['%s-s%02d' % (tenant, number)
                               for number in range(SIGNAL_TENANTS)]
        self.headers = {'X-Auth-Token': base.TOKEN}
        self.lock = threading.Lock()
        self.attempts = []
        # Operations (a request and its retry) that failed even so.
        self.failed_operations = []
        self.stopping = threading.Event()
        self.threads = []
        self.thread_errors = []
        self.started = None
        self.stopped = None
        # deployment id -> keys of the PUTs answered 200.
        self.written = collections.defaultdict(set)
        self.puts_uncertain = 0
        # deployment id -> [signal answers ('applied'/'ignored')]
        self.signal_answers = collections.defaultdict(list)
        self.signal_unanswered = set()
        self.signal_pool = collections.deque()
        self.signalled = []
        self.pool_exhausted_at = None
        self.output_deployments = []
        self.signal_urls = {}
        self.metadata_urls = []

    # Requests ---------------------------------------------------------

    def url(self, path, tenant=None):
        return '%s/v1/%s%s' % (self.cluster.lb_url,
                               tenant or self.outputs_tenant, path)

    def send(self, session, kind, method, url, **kwargs):
        """One operation: a request, repeated once by the client's retry
        rule; every attempt is recorded. Returns the last response, or
        None if the last attempt got none.
        """
        kwargs.setdefault('timeout', REQUEST_TIMEOUT)
        for retry in (False, True):
            started = time.monotonic()
            response, error = None, None
            try:
                response = session.request(method, url, **kwargs)
            except requests.RequestException as err:
                error = '%s: %s' % (type(err).__name__, str(err)[-160:])
            attempt = Attempt(started, time.monotonic(), kind, method,
                              response.status_code if response is not None
                              else None, error, retry)
            with self.lock:
                self.attempts.append(attempt)
            if not (error or attempt.status in RETRIED_STATUSES):
                return response
            if retry:
                with self.lock:
                    self.failed_operations.append(attempt)
                return response
            time.sleep(_retry_pause(response))

    # What the load works on --------------------------------------------

    def prepare(self):
        """Make the deployments and URLs the load uses (no fault yet)."""
        session = requests.Session()
        session.headers.update(self.headers)

        def made(response):
            if response.status_code != 200:
                raise AssertionError('%s %s answered %d: %s'
                                     % (response.request.method,
                                        response.request.url,
                                        response.status_code,
                                        response.text[:500]))
            return response.json()

        def config(outputs, tenant=None):
            return made(session.post(
                self.url('/software_configs', tenant), json={
                    'name': 'load', 'group': 'script', 'config': 'true',
                    'outputs': [{'name': name} for name in outputs]},
                timeout=30))['software_config']['id']

        plain = config(())
        for number in range(OUTPUT_DEPLOYMENTS):
            self.output_deployments.append(made(session.post(
                self.url('/software_deployments'), json={
                    'config_id': plain, 'server_id': 'outputs-%d' % number,
                    'action': 'CREATE', 'status': 'IN_PROGRESS'},
                timeout=30))['software_deployment']['id'])
        with_result = {tenant: config(('result',), tenant)
                       for tenant in self.signal_tenants}

        def signal_deployment(number):
            tenant = self.signal_tenants[number % SIGNAL_TENANTS]
            own = requests.Session()
            own.headers.update(self.headers)
            created = made(own.post(
                self.url('/software_deployments', tenant), json={
                    'config_id': with_result[tenant], 'server_id': 'server',
                    'action': 'CREATE', 'signal_transport': 'CFN_SIGNAL',
                    'timeout': 3600}, timeout=30))['software_deployment']
            derived = made(own.get(self.url('/software_configs/%s'
                                            % created['config_id'], tenant),
                                   timeout=30))['software_config']
            inputs = {item['name']: item.get('value')
                      for item in derived['inputs']}
            return created['id'], inputs['deploy_signal_id']

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for deployment_id, url in pool.map(signal_deployment,
                                               range(SIGNAL_DEPLOYMENTS)):
                self.signal_urls[deployment_id] = url
                self.signal_pool.append(deployment_id)
                # Capability URLs name the load balancer.
                if not url.startswith(self.cluster.lb_url + '/'):
                    raise AssertionError('signal URL %s is not through %s'
                                         % (url, self.cluster.lb_url))
        for tenant in self.signal_tenants:
            settings = made(session.get(self.url(
                '/servers/server/os-collect-config', tenant),
                timeout=30))['os-collect-config']
            self.metadata_urls.append(settings['request']['metadata_url'])

    # The threads -------------------------------------------------------

    def _thread(self, target, *args):
        def run():
            session = requests.Session()
            session.headers.update(self.headers)
            try:
                target(session, *args)
            except Exception as err:
                LOG.exception('load thread failed')
                with self.lock:
                    self.thread_errors.append(repr(err))
        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()

    def writer(self, session, number):
        deployment_id = self.output_deployments[number % OUTPUT_DEPLOYMENTS]
        url = self.url('/software_deployments/%s' % deployment_id)
        written = 0
        while not self.stopping.is_set():
            current = self.send(session, 'read', 'GET', url)
            if current is None or current.status_code != 200:
                continue
            key = 'w%02d-%05d' % (number, written)
            outputs = dict(current.json()['software_deployment']
                           ['output_values'] or {}, **{key: number})
            answer = self.send(
                session, 'if-match put', 'PUT', url,
                headers={'If-Match': current.headers['ETag']},
                json={'status': 'IN_PROGRESS', 'output_values': outputs})
            if answer is not None and answer.status_code == 200:
                with self.lock:
                    self.written[deployment_id].add(key)
                written += 1
            elif answer is None or answer.status_code != 412:
                with self.lock:
                    self.puts_uncertain += 1
                written += 1

    def signaller(self, session, number):
        turn = 0
        while not self.stopping.is_set():
            second_copy = turn % 3 != 0
            turn += 1
            with self.lock:
                deployment_id = None
                if second_copy and self.signalled:
                    deployment_id = self.signalled[
                        (number * 7919 + len(self.attempts))
                        % len(self.signalled)]
                elif self.signal_pool:
                    deployment_id = self.signal_pool.popleft()
                elif self.pool_exhausted_at is None:
                    self.pool_exhausted_at = time.monotonic()
                if deployment_id is None and self.signalled:
                    deployment_id = self.signalled[
                        number % len(self.signalled)]
            if deployment_id is None:
                time.sleep(0.1)
                continue
            answer = self.send(session, 'signal', 'POST',
                               self.signal_urls[deployment_id],
                               json={'deploy_status_code': 0,
                                     'result': 'of-%s' % deployment_id})
            with self.lock:
                if answer is not None and answer.status_code == 200:
                    self.signal_answers[deployment_id].append(
                        answer.json()['signal'])
                    if deployment_id not in self.signalled:
                        self.signalled.append(deployment_id)
                else:
                    self.signal_unanswered.add(deployment_id)

    def poller(self, session, number):
        etags = {}
        turn = number
        while not self.stopping.is_set():
            url = self.metadata_urls[turn % len(self.metadata_urls)]
            turn += 1
            headers = {'If-None-Match': etags[url]} if url in etags else {}
            answer = self.send(session, 'metadata poll', 'GET', url,
                               headers=headers)
            if answer is not None and answer.status_code == 200:
                etags[url] = answer.headers['ETag']

    def start(self):
        self.started = time.monotonic()
        for number in range(WRITER_THREADS):
            self._thread(self.writer, number)
        for number in range(SIGNAL_THREADS):
            self._thread(self.signaller, number)
        for number in range(POLL_THREADS):
            self._thread(self.poller, number)

    def stop(self):
        self.stopping.set()
        # A request and its retry at most.
        deadline = time.monotonic() + 2 * sum(REQUEST_TIMEOUT) + 10
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.stopped = time.monotonic()
        alive = [thread for thread in self.threads if thread.is_alive()]
        if alive:
            raise AssertionError('%d load threads still run after stop'
                                 % len(alive))

    # Figures -------------------------------------------------------------

    def failed_attempts(self):
        with self.lock:
            return [attempt for attempt in self.attempts
                    if _failed(attempt)]

    def attempts_between(self, start, end):
        with self.lock:
            return [attempt for attempt in self.attempts
                    if start <= attempt.started < end]

    def summary(self, title, fault_at, events):
        """The figures of a run as text, times in seconds after the
        fault.
        """
        with self.lock:
            attempts = list(self.attempts)
        lines = ['%s: %d threads for %.1f s, %d requests (%d of them '
                 'client retries), %d operations failed after the retry'
                 % (title, LOAD_THREADS, self.stopped - self.started,
                    len(attempts), sum(1 for a in attempts if a.retry),
                    len(self.failed_operations))]
        kinds = collections.defaultdict(collections.Counter)
        for attempt in attempts:
            kinds[attempt.kind][attempt.status or attempt.error.split(':')[0]
                                ] += 1
        for kind, statuses in sorted(kinds.items()):
            lines.append('  %s: %s' % (kind, dict(statuses)))
        lines.append('  load started %+.2f s, stopped %+.2f s'
                     % (self.started - fault_at, self.stopped - fault_at))
        for name, when in events:
            lines.append('  %s at %+.2f s' % (name, when - fault_at))
        signals = collections.Counter(
            answer for answers in self.signal_answers.values()
            for answer in answers)
        lines.append('  signals: %d deployments signalled, answers %s, %d '
                     'with no answer; pool %s'
                     % (len(self.signal_answers), dict(signals),
                        len(self.signal_unanswered),
                        'exhausted at %+.2f s'
                        % (self.pool_exhausted_at - fault_at)
                        if self.pool_exhausted_at else 'not exhausted'))
        lines.append('  if-match puts: %d answered 200, %d uncertain'
                     % (sum(len(keys) for keys in self.written.values()),
                        self.puts_uncertain))
        failed = [attempt for attempt in attempts if _failed(attempt)]
        lines.append('  failed requests: %d' % len(failed))
        for attempt in failed[:40]:
            lines.append('    %+.2f..%+.2f s %s %s%s: %s'
                         % (attempt.started - fault_at,
                            attempt.ended - fault_at, attempt.kind,
                            attempt.method,
                            ' (retry)' if attempt.retry else '',
                            attempt.status or attempt.error))
        if len(failed) > 40:
            lines.append('    ... %d more' % (len(failed) - 40))
        return '\n'.join(lines)


class _FaultTestCase(base.ClusterTestCase):
    """A load, a fault under it, and the checks every fault shares."""

    def setUp(self):
        super().setUp()
        self.tenant = _tenant('faults')
        self.load = _Load(self.cluster, self.tenant)
        self.load.prepare()
        self.events = []
        self.addCleanup(self._stop_load)

    def _stop_load(self):
        if not self.load.stopping.is_set():
            self.load.stop()

    def event(self, name):
        """Note the time of a step of the fault."""
        now = time.monotonic()
        self.events.append((name, now))
        return now

    def report(self, title, fault_at):
        text = self.load.summary(title, fault_at, self.events)
        self.addDetail('fault-summary', content.text_content(text))
        LOG.info('%s', text)
        return text

    def sessions(self, api_host):
        """How many requests HAProxy has sent an API host so far."""
        return int(self.cluster.lb_server_stat('api_hosts', api_host)['stot'])

    def assertLoadRan(self, start, end, at_least=50):
        """The load went on over [start, end): the test proves something."""
        answered = [attempt for attempt in self.load.attempts_between(
            start, end) if attempt.status is not None]
        self.assertGreaterEqual(len(answered), at_least,
                                'requests answered in a %.1f s window'
                                % (end - start))

    def assertNoThreadErrors(self):
        self.assertEqual([], self.load.thread_errors)

    def assertNoLostUpdate(self):
        """Every key of a PUT answered 200 is stored, as the API and every
        Galera node show it.
        """
        session = requests.Session()
        session.headers.update(self.load.headers)
        for deployment_id in self.load.output_deployments:
            shown = session.get(self.load.url('/software_deployments/%s'
                                              % deployment_id), timeout=30)
            self.assertStatus(200, shown)
            stored = set(shown.json()['software_deployment']
                         ['output_values'] or {})
            missing = self.load.written[deployment_id] - stored
            self.assertEqual(set(), missing,
                             'keys of PUTs answered 200 missing from %s'
                             % deployment_id)
        self.assertGreater(sum(len(keys) for keys in
                               self.load.written.values()), 0)

    def assertSignalsStored(self):
        """A deployment is applied at most once; one answered 'applied',
        or 'ignored' (some copy was applied, if only one answered 503 that
        committed), is COMPLETE with the signal's outputs.
        """
        applied = [deployment_id for deployment_id, answers
                   in self.load.signal_answers.items()
                   if 'applied' in answers]
        self.assertGreater(len(applied), 0)
        for deployment_id, answers in self.load.signal_answers.items():
            self.assertLessEqual(answers.count('applied'), 1,
                                 '%s: %s' % (deployment_id, answers))
        rows = self.cluster.sql(
            DB_NODES[1], 'SELECT id, status, output_values FROM '
            'software_deployment WHERE tenant LIKE %s',
            (self.tenant + '-%',), causal=True)
        stored = {row[0]: (row[1], row[2]) for row in rows}
        for deployment_id in self.load.signal_answers:
            status, outputs = stored[deployment_id]
            self.assertEqual('COMPLETE', status, deployment_id)
            self.assertIn('of-%s' % deployment_id, outputs or '')

    def assertNodesAgree(self):
        """Every Galera node holds the same rows of the load's tenant."""
        statement = ('SELECT id, status, generation, output_values FROM '
                     'software_deployment WHERE tenant LIKE %s ORDER BY id')
        rows = {node: self.cluster.sql(node, statement,
                                       (self.tenant + '-%',), causal=True)
                for node in DB_NODES}
        self.assertEqual(OUTPUT_DEPLOYMENTS + SIGNAL_DEPLOYMENTS,
                         len(rows[DB_NODES[0]]))
        for node in DB_NODES[1:]:
            self.assertEqual(rows[DB_NODES[0]], rows[node],
                             '%s and %s differ' % (DB_NODES[0], node))

    def assertNoOperationFailed(self):
        self.assertEqual([], self.load.failed_operations[:10],
                         '%d operations failed after the client retry'
                         % len(self.load.failed_operations))

    def assertAfterLoad(self):
        self.assertNoThreadErrors()
        self.assertNoLostUpdate()
        self.assertSignalsStored()
        self.assertNodesAgree()


class TestApiHostKilled(_FaultTestCase):

    host = API_HOSTS[1]

    def test_killed_api_host_fails_only_requests_in_flight(self):
        """SIGKILL one API host's gunicorn under load: HAProxy routes
        around it; the only failed requests are those in flight at the
        kill (none started more than 2 s after it); once started again,
        the host takes requests again.
        """
        self.addCleanup(self.cluster.wait_api_up)
        self.addCleanup(self.cluster.start_api, self.host)
        self.load.start()
        time.sleep(WARM_UP)
        kill_at = self.event('kill_api(%s)' % self.host)
        self.cluster.kill_api(self.host)
        killed = self.event('killed')
        self.cluster.wait_lb('api_hosts', self.host, up=False)
        self.event('HAProxy marks %s DOWN' % self.host)
        time.sleep(3)
        self.event('start_api(%s)' % self.host)
        self.cluster.start_api(self.host)
        self.cluster.wait_lb('api_hosts', self.host)
        up_at = self.event('HAProxy marks %s UP' % self.host)
        sessions_before = self.sessions(self.host)
        time.sleep(TAIL)
        sessions_after = self.sessions(self.host)
        self.event('load stops')
        self.load.stop()
        self.report('kill_api(%s)' % self.host, kill_at)

        self.assertLoadRan(killed, killed + 3)
        failed = self.load.failed_attempts()
        late = [attempt for attempt in failed
                if attempt.started > killed + 2.0]
        self.assertEqual([], late, 'failed requests started more than 2 s '
                                   'after the kill')
        self.assertEqual(
            [], [attempt for attempt in failed
                 if attempt.status not in (None, 502, 503)
                 or attempt.error and 'Timeout' in attempt.error],
            'failures other than a connection error, 502 or 503')
        # At most one per thread: what each had in flight.
        self.assertLessEqual(len(failed), LOAD_THREADS)
        self.assertNoOperationFailed()
        # It serves again: HAProxy sent it requests of the load.
        self.assertGreater(sessions_after - sessions_before, 10)
        self.assertLoadRan(up_at, up_at + TAIL)
        self.assertAfterLoad()


class _SwitchWatch(object):
    """Polls HAProxy's view of the Galera nodes (every 0.1 s) and notes
    when it marks one UP or DOWN in a backend (mysql_api1..3): the
    moments it moves an API host's database connections.
    """

    def __init__(self, cluster):
        self.cluster = cluster
        self.switches = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _states(self):
        return {key: value[0].split()[0] for key, value
                in self.cluster.lb_server_states().items()
                if key[0].startswith('mysql_')}

    def _watch(self):
        states = self._states()
        while not self.stopping.wait(0.1):
            now = self._states()
            for key, state in now.items():
                if state != states.get(key):
                    self.switches.append((time.monotonic(),
                                          '%s/%s %s' % (key + (state,))))
            states = now

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(10)


class _GaleraFaultTestCase(_FaultTestCase):
    """A Galera node out of the cluster under load: db1, which api1
    writes to (HAProxy's mysql_api1 prefers it).
    """

    node = DB_NODES[0]
    api_host = API_HOSTS[0]
    # A 5xx may come this long before HAProxy is seen marking a node DOWN
    # (the node refuses queries at once; HAProxy needs two failed checks,
    # 500 ms apart, each allowed 1 s) or UP, and this long after.
    BEFORE_SWITCH = 2.5
    AFTER_SWITCH = 0.5

    def setUp(self):
        super().setUp()
        self.watch = _SwitchWatch(self.cluster)
        self.watch.start()
        self.addCleanup(self.watch.stop)

    @property
    def backend(self):
        return 'mysql_%s' % self.api_host

    def report(self, title, fault_at):
        self.watch.stop()
        self.events.extend((('HAProxy: %s' % switch), when)
                           for when, switch in self.watch.switches)
        self.events.sort(key=lambda event: event[1])
        return super().report(title, fault_at)

    def assertServerErrorsOnlyAtSwitches(self):
        """The only 5xx are the service's 503 (never a 500, and never an
        answer of HAProxy's), to requests in progress when HAProxy moved an
        API host's database connections from one Galera node to another
        (see BEFORE_SWITCH); and the client's retry answered each.
        """
        failed = self.load.failed_attempts()
        self.assertEqual([], [attempt for attempt in failed
                              if attempt.status != 503],
                         'failures other than a 503 of the service')
        switches = [when for when, _switch in self.watch.switches]
        self.assertNotEqual([], switches)
        outside = [attempt for attempt in failed
                   if not any(attempt.started <= when + self.AFTER_SWITCH
                              and attempt.ended >= when - self.BEFORE_SWITCH
                              for when in switches)]
        self.assertEqual([], outside,
                         '503s away from HAProxy switching nodes')
        self.assertLessEqual(len(failed), LOAD_THREADS * len(switches))
        self.assertNoOperationFailed()


class TestGaleraNodeStopped(_GaleraFaultTestCase):

    def test_stopped_galera_node_under_load(self):
        """stop_db(db1) under load, then start_db(db1): writes go on; the
        only 5xx are 503s of requests in progress when HAProxy moved an API
        host's connections (api1 off db1 and back; the API host of the
        donor of db1's IST off it and back) and the client's retry
        answered each; no update
        is lost; db1 rejoins by IST and holds the rows the others do.
        """
        self.addCleanup(self.cluster.wait_lb, self.backend, self.node)
        self.addCleanup(self.cluster.wait_cluster)
        self.addCleanup(self.cluster.start_db, self.node)
        self.load.start()
        time.sleep(WARM_UP)
        stop_at = self.event('stop_db(%s)' % self.node)
        self.cluster.stop_db(self.node)
        self.event('stopped')
        self.cluster.wait_lb(self.backend, self.node, up=False)
        down_at = self.event('HAProxy marks %s/%s DOWN'
                             % (self.backend, self.node))
        self.cluster.wait_cluster(size=2)
        self.event('cluster of 2 Synced')
        time.sleep(4)
        start_at = self.event('start_db(%s)' % self.node)
        offset = self.cluster.start_db(self.node)
        self.event('%s Synced' % self.node)
        self.cluster.wait_lb(self.backend, self.node)
        up_at = self.event('HAProxy marks %s/%s UP'
                           % (self.backend, self.node))
        time.sleep(TAIL)
        self.event('load stops')
        self.load.stop()
        self.report('stop_db(%s)' % self.node, stop_at)

        self.assertEqual('IST', self.cluster.state_transfer(self.node,
                                                            offset))
        self.cluster.wait_cluster(size=3)
        self.assertLoadRan(down_at, start_at)
        self.assertLoadRan(up_at, up_at + TAIL)
        self.assertServerErrorsOnlyAtSwitches()
        self.assertAfterLoad()


class TestGaleraNodeCutOff(_GaleraFaultTestCase):

    cut_seconds = 10

    def test_galera_node_cut_off_under_load(self):
        """db1's network cut for 10 s under load: as for a stopped node,
        the only 5xx are 503s of requests in progress when HAProxy moved an
        API host's connections (api1 off db1 and back, and the donor's API
        host off the donor and back) and the client's retry answered each;
        no update is lost; db1 catches up by IST.
        """
        self.addCleanup(self.cluster.wait_lb, self.backend, self.node)
        self.addCleanup(self.cluster.wait_cluster)
        self.addCleanup(self.cluster.restore_network, self.node)
        offset = self.cluster.log_offset(self.node)
        self.load.start()
        time.sleep(WARM_UP)
        with self.cluster.network_cut(self.node):
            cut_at = self.event('cut_network(%s)' % self.node)
            self.cluster.wait_lb(self.backend, self.node, up=False)
            down_at = self.event('HAProxy marks %s/%s DOWN'
                                 % (self.backend, self.node))
            time.sleep(max(0, cut_at + self.cut_seconds - time.monotonic()))
            restore_at = self.event('restore_network(%s)' % self.node)
        self.cluster.wait_synced(self.node, cluster_size=3, timeout=90)
        self.event('%s Synced in a cluster of 3' % self.node)
        self.cluster.wait_lb(self.backend, self.node)
        up_at = self.event('HAProxy marks %s/%s UP'
                           % (self.backend, self.node))
        time.sleep(TAIL)
        self.event('load stops')
        self.load.stop()
        self.report('cut_network(%s) for %d s' % (self.node,
                                                  self.cut_seconds), cut_at)

        self.assertEqual('IST', self.cluster.state_transfer(self.node,
                                                            offset))
        self.cluster.wait_cluster(size=3)
        self.assertLoadRan(down_at, restore_at)
        self.assertLoadRan(up_at, up_at + TAIL)
        self.assertServerErrorsOnlyAtSwitches()
        self.assertAfterLoad()


class TestRollingRestart(_FaultTestCase):

    def test_rolling_restart_fails_no_request(self):
        """Every API host restarted one after the other under load, by
        the procedure of environment.Cluster.restart_api (drain in
        HAProxy, SIGTERM, start, ready): not one request fails, not even
        one the client would have retried.
        """
        self.addCleanup(self.cluster.wait_api_up)
        for host in API_HOSTS:
            self.addCleanup(self.cluster.ready_api, host)
            self.addCleanup(self.cluster.start_api, host)
        self.load.start()
        time.sleep(WARM_UP)
        began = self.event('rolling restart')
        sessions_when_ready = {}
        for host in API_HOSTS:
            self.event('drain_api(%s)' % host)
            self.cluster.drain_api(host)
            self.event('stop_api(%s)' % host)
            self.cluster.stop_api(host)
            self.event('start_api(%s)' % host)
            self.cluster.start_api(host)
            self.event('ready_api(%s)' % host)
            self.cluster.ready_api(host)
            ready_at = self.event('HAProxy marks %s UP' % host)
            sessions_when_ready[host] = self.sessions(host)
            # The others served the load while it restarted.
            self.assertLoadRan(ready_at - 3, ready_at)
        time.sleep(TAIL)
        self.event('load stops')
        self.load.stop()
        self.report('rolling restart', began)

        for host in API_HOSTS:
            self.assertGreater(self.sessions(host) - sessions_when_ready[host],
                               10, '%s serves again' % host)

        self.assertEqual([], self.load.failed_attempts())
        self.assertNoOperationFailed()
        self.assertAfterLoad()
