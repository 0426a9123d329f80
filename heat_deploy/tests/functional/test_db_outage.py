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

"""The database goes away under load and comes back: gunicorn rides it out.

heat_deploy runs under gunicorn with its database behind a
:class:`~heat_deploy.tests.functional.fixtures.tcpproxy.TCPProxy`. Client
threads keep working while the proxy is cut for a few seconds and then
restored. The service must answer 503 with Heat's fault body and a
Retry-After header while the database is away (never 500, never hang),
serve again within two seconds of the database coming back, lose nothing
it said it had stored, and log no traceback.

Only MariaDB and PostgreSQL are behind a network link, so the test runs
when HEAT_DEPLOY_TEST_DB is ``mysql`` or ``postgresql`` and skips on SQLite.
"""

from concurrent import futures
import dataclasses
import os
import threading
import time
import uuid

import requests
from sqlalchemy.engine import url as sa_url
import testtools
from testtools import content

from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional.fixtures import tcpproxy

DEFAULT_PORTS = {'mysql': 3306, 'postgresql': 5432}

CLIENTS = 4
# Seconds: normal load, then the outage, then load after the restore.
BEFORE_CUT = 1.5
OUTAGE = 4.0
AFTER_RESTORE = 6.0
# The service must serve a /v1 request within this many seconds of the
# database coming back.
RECOVERY = 2.0
# Per client thread, whatever the timing: bounds the rows written too.
MAX_REQUESTS = 400
PAUSE = 0.01
# (connect, read) seconds. A request that hangs longer fails the test: a
# service whose database is away must say so, not keep the caller waiting.
TIMEOUT = (2, 5)

FAULT_KEYS = {'code', 'title', 'explanation', 'error'}


@dataclasses.dataclass
class Call:
    """One request of a client thread, with monotonic start and end."""

    kind: str
    start: float
    end: float
    status: int = None
    headers: dict = None
    body: object = None
    error: str = None
    sent: object = None

    @property
    def v1(self):
        return self.kind != 'healthcheck'

    def describe(self, origin):
        what = self.error
        if what is None:
            error = (self.body.get('error')
                     if isinstance(self.body, dict) else None)
            if isinstance(error, dict):
                what = '%s %s: %s' % (self.status, error.get('type'),
                                      error.get('message'))
            else:
                what = '%s %s' % (self.status, str(self.body)[:200])
        return '%s at +%.2fs..+%.2fs: %s' % (
            self.kind, self.start - origin, self.end - origin, what)


def _backend():
    return os.environ.get(db_fixture.BACKEND_ENV, 'sqlite')


class TestDatabaseOutage(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if _backend() not in DEFAULT_PORTS:
            self.skipTest('the database outage is simulated by cutting a TCP '
                          'link, which SQLite does not have; run with %s=mysql'
                          ' or %s=postgresql' % (db_fixture.BACKEND_ENV,
                                                 db_fixture.BACKEND_ENV))
        self.addOnException(self._attach)
        url = sa_url.make_url(db_fixture.shared_migrated_database())
        self.proxy = self.useFixture(tcpproxy.TCPProxy(
            url.host or '127.0.0.1',
            url.port or DEFAULT_PORTS[url.get_backend_name()]))
        through_proxy = url.set(host='127.0.0.1', port=self.proxy.port)
        # Nothing else is tuned: oslo.db already pings a pooled connection
        # before handing it out (pool_pre_ping), which is what replaces the
        # connections the cut killed. Retry options are left at their
        # defaults, as a deployment would have them.
        self.server = self.useFixture(service.RunningServer(sections={
            'database': {'connection': through_proxy.render_as_string(
                hide_password=False)}}))
        self.base = self.server.endpoint(uuid.uuid4().hex)
        self.headers = {'X-Auth-Token': 't'}
        config = self._ok(requests.post(
            self.base + '/software_configs', json={'name': 'target'},
            headers=self.headers, timeout=30))['software_config']
        self.deployment_url = '%s/software_deployments/%s' % (
            self.base, self._ok(requests.post(
                self.base + '/software_deployments', headers=self.headers,
                timeout=30, json={'config_id': config['id'],
                                  'server_id': 'server'}))
            ['software_deployment']['id'])

    def _ok(self, resp):
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def _call(self, session, kind, number):
        """Make one request of the given kind; returns a :class:`Call`."""
        if kind == 'create':
            args = ('POST', self.base + '/software_configs')
            json = {'name': 'outage-%s' % number, 'config': 'echo hi'}
        elif kind == 'list':
            args = ('GET', self.base + '/software_configs')
            json = None
        elif kind == 'update':
            args = ('PUT', self.deployment_url)
            json = {'status_reason': number}
        else:
            args = ('GET', self.server.url + '/healthcheck')
            json = None
        call = Call(kind, time.monotonic(), None, sent=json)
        try:
            resp = session.request(*args, json=json, headers=self.headers,
                                   timeout=TIMEOUT)
        except requests.RequestException as err:
            call.error = '%s: %s' % (type(err).__name__, err)
        else:
            call.status = resp.status_code
            call.headers = dict(resp.headers)
            try:
                call.body = resp.json()
            except ValueError:
                call.body = resp.text[:500]
        call.end = time.monotonic()
        return call

    def _client(self, number, stop):
        """One client thread's loop; client 0 is the only writer of the
        deployment, so its last successful PUT is the expected state.
        """
        if number == 0:
            kinds = ('update', 'healthcheck')
        else:
            kinds = ('create', 'list', 'create', 'healthcheck')
        session = requests.Session()
        calls = []
        for index in range(MAX_REQUESTS):
            if stop.is_set():
                break
            kind = kinds[(index + number) % len(kinds)]
            calls.append(self._call(session, kind,
                                    'client %d call %d' % (number, index)))
            time.sleep(PAUSE)
        return calls

    def _run_load(self):
        stop = threading.Event()
        self.origin = time.monotonic()
        with futures.ThreadPoolExecutor(CLIENTS) as pool:
            clients = [pool.submit(self._client, number, stop)
                       for number in range(CLIENTS)]
            try:
                time.sleep(BEFORE_CUT)
                self.proxy.cut()
                # From here on no byte reaches the database.
                self.cut_done = time.monotonic()
                time.sleep(OUTAGE)
                self.proxy.restore()
                # A request started from here on can reach it again.
                self.restored_at = time.monotonic()
                time.sleep(AFTER_RESTORE)
            finally:
                self.proxy.restore()
                stop.set()
            calls = []
            for client in clients:
                calls.extend(client.result(timeout=30))
        calls.sort(key=lambda call: call.start)
        return calls

    def _fault_problems(self, call):
        """What is wrong with a /v1 503, as a list of strings."""
        problems = []
        content_type = call.headers.get('Content-Type', '')
        if not content_type.startswith('application/json'):
            problems.append('Content-Type is %r' % content_type)
        if not call.headers.get('Retry-After', '').strip():
            problems.append('no Retry-After header')
        body = call.body
        if not isinstance(body, dict) or not FAULT_KEYS <= set(body):
            return problems + ['not a Heat fault body']
        error = body['error']
        if body['code'] != 503:
            problems.append('code is %r' % body['code'])
        if not (isinstance(body['title'], str)
                and isinstance(body['explanation'], str)):
            problems.append('title or explanation is not a string')
        if not isinstance(error, dict):
            return problems + ['error is not an object']
        if not (isinstance(error.get('type'), str) and error['type']):
            problems.append('error.type missing')
        if not isinstance(error.get('message'), str):
            problems.append('error.message missing')
        if 'traceback' not in error or error['traceback'] is not None:
            problems.append('error.traceback is not null')
        return problems

    def _attach(self, exc_info):
        """Add the timeline, proxy counters and gunicorn log on failure."""
        calls = getattr(self, 'calls', None)
        if calls:
            origin = self.origin
            summary = ['cut at +%.2fs, restored at +%.2fs; '
                       'calls other than 200:' % (
                           self.cut_done - origin,
                           self.restored_at - origin)]
            summary.extend(call.describe(origin) for call in calls
                           if call.error or call.status != 200)
            self.addDetail('calls', content.text_content(
                '\n'.join(summary)))
        proxy = getattr(self, 'proxy', None)
        if proxy is not None:
            self.addDetail('proxy', content.text_content(
                'forwarded %d connections, dropped %d'
                % (proxy.accepted, proxy.dropped)))
        server = getattr(self, 'server', None)
        if server is not None:
            with open(server.log_path) as log_file:
                self.addDetail('gunicorn-log', content.text_content(
                    log_file.read()[-20000:]))

    def test_database_outage_under_load(self):
        calls = self.calls = self._run_load()
        origin = self.origin

        def problem_list(title, bad):
            return ['%s:' % title] + [
                '  ' + call.describe(origin) for call in bad[:10]] + (
                ['  ... and %d more' % (len(bad) - 10)]
                if len(bad) > 10 else [])

        problems = []
        # The gunicorn master and its workers are still there.
        if self.server.process.poll() is not None:
            problems.append('gunicorn exited with %s'
                            % self.server.process.returncode)
        # Every request got an answer in time: no connection error, no hang.
        failed = [call for call in calls if call.error]
        if failed:
            problems += problem_list('requests without a response', failed)
        # 503 is the only 5xx; the requests are valid, so nothing else but
        # a 2xx is right either (a 404 during the outage would be a lie).
        wrong = [call for call in calls if call.status is not None
                 and not (200 <= call.status < 300 or call.status == 503)]
        if wrong:
            problems += problem_list('statuses other than 2xx and 503', wrong)
        bad_faults = [call for call in calls
                      if call.v1 and call.status == 503
                      and self._fault_problems(call)]
        for call in bad_faults[:5]:
            problems.append('bad 503 fault (%s): %s' % (
                '; '.join(self._fault_problems(call)),
                call.describe(origin)))

        # During the cut: the /v1 routes and /healthcheck answer 503.
        inside = [call for call in calls if call.start >= self.cut_done
                  and call.end <= self.restored_at]
        if not [call for call in inside if call.v1 and call.status == 503]:
            problems.append('no /v1 request got a 503 during the cut')
        health = [call for call in inside if not call.v1]
        if not health:
            problems.append('no healthcheck ran during the cut')
        healthy = [call for call in health if call.status != 503]
        if healthy:
            problems += problem_list('healthchecks not 503 during the cut',
                                     healthy)

        # After the restore: a /v1 2xx soon, then no 5xx at all.
        served = [call.end for call in calls
                  if call.v1 and call.start >= self.restored_at
                  and call.status is not None and 200 <= call.status < 300]
        if not served:
            problems.append('no /v1 request succeeded after the restore')
        else:
            first = min(served)
            if first - self.restored_at > RECOVERY:
                problems.append(
                    'first /v1 2xx %.2fs after the restore (limit %.1fs)'
                    % (first - self.restored_at, RECOVERY))
            late = [call for call in calls if call.start >= first
                    and call.status is not None and call.status >= 500]
            if late:
                problems += problem_list('5xx after service resumed', late)

        # Nothing that was acknowledged is lost.
        listed = requests.get(self.base + '/software_configs',
                              headers=self.headers, timeout=30)
        self.assertEqual(200, listed.status_code, listed.text)
        listed_ids = {config['id']
                      for config in listed.json()['software_configs']}
        created = [call for call in calls
                   if call.kind == 'create' and call.status == 200]
        lost = [call for call in created
                if call.body['software_config']['id'] not in listed_ids]
        if lost:
            problems += problem_list('acknowledged configs missing', lost)
        updates = [call for call in calls
                   if call.kind == 'update' and call.status == 200]
        if not updates:
            problems.append('no deployment update succeeded')
        else:
            expected = updates[-1].sent['status_reason']
            shown = requests.get(self.deployment_url, headers=self.headers,
                                 timeout=30)
            self.assertEqual(200, shown.status_code, shown.text)
            actual = shown.json()['software_deployment']['status_reason']
            if actual != expected:
                problems.append('deployment status_reason is %r, the last '
                                'acknowledged update set %r'
                                % (actual, expected))

        # The outage is an expected condition, not a crash.
        with open(self.server.log_path) as log_file:
            tracebacks = [line for line in log_file
                          if 'Traceback' in line]
        if tracebacks:
            problems.append('gunicorn log has %d Traceback lines'
                            % len(tracebacks))

        if problems:
            self.fail('\n'.join(problems))
