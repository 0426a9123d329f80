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

"""Notifications end to end, on a real RabbitMQ.

heat_deploy runs under gunicorn on a database of its own (on the backend
that HEAT_DEPLOY_TEST_DB names) with [notifications] enabled: its API
writes the outbox and names no broker. Each test listens with a real
oslo.messaging notification listener on a topic of its own and runs the
real ``heat-deploy-worker`` with the server's configuration file plus one
of the test's own, which names that topic, the publisher host and the
transport URL: the broker itself, or a link of the test's between the
worker and the broker, which the test cuts or slows down.

The database is this module's alone because the worker publishes every
pending event in it. Each test starts by marking as sent what earlier
tests left unpublished, and checks the events written after that point:
the outbox rows, what the worker says it published and what the listener
got must agree exactly.

A test that must know that nothing more is on its way publishes a
sentinel (a new config) last: the queue is first in, first out, so when
the sentinel arrives everything published before it has arrived.
"""

import datetime
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
from urllib import parse
import uuid

import fixtures
from oslo_utils import timeutils
import requests
import sqlalchemy as sa
import testtools
from testtools import content

from heat_deploy.db import models
from heat_deploy.operations import delivery
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import notifications
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional.fixtures import tcpproxy

BACKEND = os.environ.get(db_fixture.BACKEND_ENV, 'sqlite')
HEADERS = {'X-Auth-Token': 't'}
HTTP_TIMEOUT = 30
COMMAND_TIMEOUT = 60
# Seconds a test waits for notifications (or a looping worker's log line)
# before it fails.
ARRIVAL = 20
# Added to a deadline before a test looks (see test_lifecycle).
MARGIN = 0.5
# Deployments a project may own: low, so that one more is over quota.
QUOTA = 3
# Events written before a worker is killed, and how many must have
# arrived when it is.
KILL_EVENTS = 60
KILL_AFTER = 5
# Seconds the slow link holds back each answer of the broker: every
# publish waits for the broker's confirmation, so it takes that long.
SLOW_ANSWER = 0.05
# Events two workers race for.
RACE_EVENTS = 50
RACE_ANSWER = 0.02

SUMMARY = re.compile(r'^Stored (\d+) passed deadline\(s\)\. Published (\d+) '
                     r'notification\(s\)\. Posted (\d+) webhook\(s\)\.$')
CONFIG_KEYS = {'version', 'tenant_id', 'user_id', 'config_id',
               'creation_time'}
DEPLOYMENT_KEYS = {'version', 'tenant_id', 'user_id', 'deployment_id',
                   'server_id', 'config_id', 'action', 'status',
                   'status_reason', 'attempt', 'creation_time',
                   'updated_time', 'output_names'}
# The user of the API calls ([api] auth_strategy = noauth); signals
# through a signed URL and the worker act for nobody.
API_USER = 'noauth'
NOBODY = None
TIMED_OUT = 'Deployment timed out after %d seconds'

Outbox = models.EventOutbox.__table__
Lease = models.WorkerLease.__table__


def broker_address():
    """(host, port) of the test broker."""
    url = parse.urlsplit(notifications.RABBIT_URL)
    return url.hostname or '127.0.0.1', url.port or 5672


def through(port):
    """The test broker's transport URL with another port on 127.0.0.1."""
    url = parse.urlsplit(notifications.RABBIT_URL)
    credentials = url.netloc.rpartition('@')[0]
    return parse.urlunsplit(url._replace(
        netloc='%s@127.0.0.1:%d' % (credentials, port)))


class _SlowLink(fixtures.Fixture):
    """Forward 127.0.0.1:port to a target, holding back every chunk the
    target sends for ``delay`` seconds (what the client sends passes at
    once).

    Connections are few (a worker's); every thread is a daemon, and the
    cleanup stops them and closes every socket.
    """

    def __init__(self, target, delay):
        super().__init__()
        self.target = target
        self.delay = delay

    def _setUp(self):
        self._stopping = threading.Event()
        self._threads = []
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self.addCleanup(self._stop)
        self._start(self._accept, listener)

    def _start(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name='slowlink-%d' % self.port)
        self._threads.append(thread)
        thread.start()

    def _stop(self):
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(5)

    def _accept(self, listener):
        while not self._stopping.is_set():
            if not select.select([listener], [], [], 0.1)[0]:
                continue
            client, _ = listener.accept()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._start(self._pump, client, upstream, 0)
            self._start(self._pump, upstream, client, self.delay)

    def _pump(self, source, sink, delay):
        try:
            while not self._stopping.is_set():
                if not select.select([source], [], [], 0.1)[0]:
                    continue
                data = source.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # The other pump sees the end too; whichever ends last closes.
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            source.close()


class _Service(fixtures.Fixture):
    """A freshly migrated database and heat_deploy on it under gunicorn,
    writing notifications.
    """

    def _setUp(self):
        self.database_url = db_fixture.migrated_database(self, BACKEND)
        self.server = self.useFixture(service.RunningServer(
            sections={'database': {'connection': self.database_url},
                      'notifications': {'enabled': 'true'},
                      'quota': {'max_software_deployments_per_tenant':
                                str(QUOTA)}}))


class TestNotifications(testtools.TestCase):
    """One server and database for every test (starting them takes
    seconds); each test has a project, a topic and a listener of its own.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = _Service()
        cls.service.setUp()
        cls.server = cls.service.server
        cls.engine = sa.create_engine(cls.service.database_url)

    @classmethod
    def tearDownClass(cls):
        cls.engine.dispose()
        cls.service.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.tenant = uuid.uuid4().hex
        self.base = self.server.endpoint(self.tenant)
        self.log_offset = os.path.getsize(self.server.log_path)
        self.addDetail('gunicorn-log', content.Content(
            content.UTF8_TEXT, lambda: [self._log().encode('utf-8')]))
        self.outputs = []
        self.addDetail('worker-runs', content.Content(
            content.UTF8_TEXT,
            lambda: ['\n\n'.join(self.outputs).encode('utf-8')]))
        self.first_event = self._forget_earlier_events()
        self.listener = self.useFixture(notifications.NotificationListener())
        self.addDetail('received', content.Content(
            content.UTF8_TEXT, lambda: [json.dumps(
                [vars(item) for item in self.listener.received],
                indent=1, default=str).encode('utf-8')]))
        self.publisher_host = 'notify-test-%s' % uuid.uuid4().hex[:8]
        self.worker_conf = self.write_worker_conf(
            notifications.RABBIT_URL)

    def _log(self):
        with open(self.server.log_path) as log_file:
            log_file.seek(self.log_offset)
            return log_file.read()

    def _forget_earlier_events(self):
        """Mark as sent what earlier tests left unpublished, free the
        leases; returns the id from which the events are this test's.
        """
        with self.engine.begin() as connection:
            connection.execute(sa.update(Outbox).where(
                Outbox.c.sent_at.is_(None)).values(
                sent_at=timeutils.utcnow()))
            connection.execute(sa.update(Lease).values(
                holder=None, expires_at=None))
            last = connection.execute(sa.select(
                sa.func.max(Outbox.c.id))).scalar()
        return (last or 0) + 1

    # Helpers: the HTTP API

    @staticmethod
    def request(method, url, body=None, token=True, headers=None):
        return requests.request(
            method, url, json=body, timeout=HTTP_TIMEOUT,
            headers=dict(HEADERS if token else {}, **(headers or {})))

    def api(self, method, path, body=None, expected=200, headers=None):
        resp = self.request(method, self.base + path, body, headers=headers)
        self.assertEqual(expected, resp.status_code, resp.text)
        return resp

    def create_config(self, name='source', **fields):
        return self.api('POST', '/software_configs', dict(
            {'name': name, 'group': 'script', 'config': 'true',
             'outputs': [{'name': 'result'}]}, **fields)).json()[
            'software_config']

    def create_deployment(self, config_id, **fields):
        return self.api('POST', '/software_deployments', dict(
            {'config_id': config_id, 'server_id': 'server-1'},
            **fields)).json()['software_deployment']

    def show(self, deployment_id):
        """The deployment as the API shows it now, with its attempt."""
        resp = self.api('GET', '/software_deployments/' + deployment_id)
        deployment = resp.json()['software_deployment']
        deployment['attempt'] = self.api(
            'GET', '/software_deployments/%s/attempts'
            % deployment_id).json()['attempts'][0]['number']
        deployment['etag'] = resp.headers['ETag']
        return deployment

    def action(self, deployment_id, body):
        return self.api('POST', '/software_deployments/%s/actions'
                        % deployment_id, body).json()['software_deployment']

    def signal_url(self, deployment_id):
        """The deploy_signal_id input of the deployment's derived config
        (the URL of its current attempt).
        """
        deployment = self.show(deployment_id)
        config = self.api('GET', '/software_configs/'
                          + deployment['config_id']).json()['software_config']
        [url] = [item['value'] for item in config['inputs']
                 if item['name'] == 'deploy_signal_id']
        return url

    def signal(self, url, body, expected=200):
        """A signal as heat-config-notify sends it: no token."""
        resp = self.request('POST', url, body, token=False)
        self.assertEqual(expected, resp.status_code, resp.text)
        return resp

    # Helpers: payloads

    def config_event(self, event, config):
        return ('software_config.' + event, {
            'version': '1.0', 'tenant_id': self.tenant, 'user_id': API_USER,
            'config_id': config['id'],
            'creation_time': config['creation_time']})

    def deployment_event(self, event, deployment, user_id=API_USER):
        """An expected deployment event, from the API's view after it."""
        return ('software_deployment.' + event, {
            'version': '1.0', 'tenant_id': self.tenant, 'user_id': user_id,
            'deployment_id': deployment['id'],
            'server_id': deployment['server_id'],
            'config_id': deployment['config_id'],
            'action': deployment['action'],
            'status': deployment['status'],
            'status_reason': deployment['status_reason'],
            'attempt': deployment['attempt'],
            'creation_time': deployment['creation_time'],
            'updated_time': deployment.get('updated_time'),
            'output_names': sorted(deployment['output_values'] or {})})

    # Helpers: the outbox and the worker

    def outbox(self):
        """This test's outbox rows, in the order they were written."""
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(Outbox).where(Outbox.c.id >= self.first_event)
                .order_by(Outbox.c.id)).all()

    def lease(self):
        """(holder, expires_at) of the notifications lease."""
        with self.engine.connect() as connection:
            return tuple(connection.execute(
                sa.select(Lease.c.holder, Lease.c.expires_at).where(
                    Lease.c.name == delivery.NOTIFICATIONS)).one())

    def write_worker_conf(self, transport_url, **deployment):
        """The test's part of the worker's configuration; returns the
        worker's --config-file arguments (the server's file, then it).
        """
        directory = self.useFixture(fixtures.TempDir()).path
        path = service.write_conf_file(directory, {
            'notifications': {'enabled': 'true',
                              'publisher_host': self.publisher_host},
            'oslo_messaging_notifications': {
                'driver': 'messagingv2', 'transport_url': transport_url,
                'topics': self.listener.topic},
            'deployment': deployment,
        })
        return ['--config-file', self.server.conf_file,
                '--config-file', path]

    def run_worker(self, conf, *args):
        """Run heat-deploy-worker to its end; returns the result."""
        started = time.monotonic()
        result = subprocess.run(
            service.console_script('heat-deploy-worker', *conf) + list(args),
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
            env=service.command_env())
        self.outputs.append(
            'heat-deploy-worker %s: exit %s after %.1f s\n--- stdout\n%s'
            '--- stderr\n%s' % (' '.join(args), result.returncode,
                                time.monotonic() - started, result.stdout,
                                result.stderr))
        return result

    def summary(self, result):
        """(stored, published, posted) the worker printed last."""
        self.assertEqual(0, result.returncode, result.stderr)
        match = SUMMARY.match(result.stdout.splitlines()[-1])
        self.assertIsNotNone(match, result.stdout)
        return tuple(int(count) for count in match.groups())

    def worker_once(self, conf=None, stored=0):
        """Run heat-deploy-worker --once; returns how many notifications
        it published.
        """
        stored_, published, posted = self.summary(
            self.run_worker(conf or self.worker_conf, '--once'))
        self.assertEqual((stored, 0), (stored_, posted))
        return published

    def start_worker(self, conf):
        """Start a looping heat-deploy-worker; returns (process, log
        path). The cleanup kills it if it still runs.
        """
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'worker.log')
        log_file = open(path, 'w')
        self.addCleanup(log_file.close)
        process = subprocess.Popen(service.console_script('heat-deploy-worker',
                                                          *conf),
                                   stdout=log_file,
                                   stderr=subprocess.STDOUT,
                                   env=service.command_env())
        # Cleanups run last first: the process ends, then its log is
        # kept, then the file goes.
        self.addCleanup(self._keep_log, path, process.pid)
        self.addCleanup(self._end_process, process)
        return process, path

    def _keep_log(self, path, pid):
        with open(path) as log_file:
            text = log_file.read()
        self.addDetail('worker-log-%d' % pid, content.text_content(text))

    @staticmethod
    def _end_process(process):
        if process.poll() is None:
            process.kill()
            process.wait(COMMAND_TIMEOUT)

    def wait_for_log(self, path, text):
        deadline = time.monotonic() + ARRIVAL
        while time.monotonic() < deadline:
            with open(path) as log_file:
                if text in log_file.read():
                    return
            time.sleep(0.1)
        self.fail('The worker did not log %r within %d s' % (text, ARRIVAL))

    def sentinel(self):
        """Publish a new config's event last; returns everything the
        listener got, the sentinel last.
        """
        config = self.create_config('sentinel')
        self.assertEqual(1, self.worker_once())
        received = self.listener.wait_for(
            lambda got: any(item.payload.get('config_id') == config['id']
                            for item in got), ARRIVAL)
        self.assertEqual(config['id'],
                         received[-1].payload.get('config_id')
                         if received else None,
                         'The sentinel did not arrive last')
        return received

    # Assertions

    def assertEnvelopes(self, received):
        """Every notification is an INFO one from heat-deploy.<host>, with
        its message_id and timestamp, and its payload has the documented
        keys.
        """
        for item in received:
            self.assertEqual(
                ('info', 'heat-deploy.' + self.publisher_host,
                 {'message_id', 'timestamp'}),
                (item.priority, item.publisher_id, set(item.metadata)),
                item)
            keys = (CONFIG_KEYS if item.event_type.startswith(
                'software_config.') else DEPLOYMENT_KEYS)
            self.assertEqual(keys, set(item.payload), item)

    def assertPublished(self, expected, published):
        """The outbox holds exactly the expected events, in order; the
        worker published them all and each arrived once, in order, as
        the outbox row says.

        :param expected: [(event_type, payload)].
        :param published: the count the worker printed.
        """
        rows = self.outbox()
        self.assertEqual(expected, [(row.event_type, row.payload)
                                    for row in rows])
        self.assertEqual(len(expected), published)
        self.assertEqual([], [row.id for row in rows if row.sent_at is None])
        received = self.listener.wait_for_count(len(expected), ARRIVAL)
        self.assertEqual(
            [(row.message_id, str(row.created_at), row.event_type,
              row.payload) for row in rows],
            [(item.message_id, item.metadata['timestamp'], item.event_type,
              item.payload) for item in received])
        self.assertEnvelopes(received)
        return received

    def assertNoSecret(self, received, *secrets):
        blob = json.dumps([vars(item) for item in received], default=str)
        for secret in secrets:
            self.assertNotIn(secret, blob)

    def assertOrder(self, received, deployment_id, events):
        self.assertEqual(
            ['software_deployment.' + event for event in events],
            [item.event_type for item in received
             if item.payload.get('deployment_id') == deployment_id])

    # 1. Every event type, once, with its payload

    def test_config_events(self):
        kept = self.create_config('kept')
        removed = self.create_config('removed')
        self.api('DELETE', '/software_configs/' + removed['id'],
                 expected=204)
        self.assertPublished([self.config_event('create', kept),
                              self.config_event('create', removed),
                              self.config_event('delete', removed)],
                             self.worker_once())

    def test_events_of_a_deployment_its_client_ends(self):
        """A plain deployment (no transport): the client's PUTs end it."""
        source = self.create_config()
        secret_input = 'input-%s' % uuid.uuid4().hex
        secret_output = 'output-%s' % uuid.uuid4().hex
        done = self.create_deployment(
            source['id'], status='IN_PROGRESS',
            input_values={'password': secret_input})
        expected = [self.config_event('create', source),
                    self.deployment_event('create', self.show(done['id']))]
        path = '/software_deployments/' + done['id']
        self.api('PUT', path, {'status_reason': 'Half way'})
        expected.append(self.deployment_event('update',
                                              self.show(done['id'])))
        # A PUT that ends the IN_PROGRESS attempt: update, then complete.
        self.api('PUT', path, {'status': 'COMPLETE',
                               'output_values': {'result': secret_output}})
        after = self.show(done['id'])
        self.assertEqual(('COMPLETE', {'result': secret_output}),
                         (after['status'], after['output_values']))
        expected += [self.deployment_event('update', after),
                     self.deployment_event('complete', after)]
        # A PUT of a deployment that already ended ends nothing.
        self.api('PUT', path, {'status': 'COMPLETE', 'status_reason': 'Again'})
        last = self.show(done['id'])
        expected.append(self.deployment_event('update', last))
        self.api('DELETE', path, expected=204)
        expected.append(self.deployment_event('delete', last))
        broken = self.create_deployment(source['id'], status='IN_PROGRESS')
        expected.append(self.deployment_event('create',
                                              self.show(broken['id'])))
        self.api('PUT', '/software_deployments/' + broken['id'],
                 {'status': 'FAILED', 'status_reason': 'Broke'})
        after = self.show(broken['id'])
        expected += [self.deployment_event('update', after),
                     self.deployment_event('failed', after)]

        received = self.assertPublished(expected, self.worker_once())
        self.assertOrder(received, done['id'], [
            'create', 'update', 'update', 'complete', 'update', 'delete'])
        self.assertOrder(received, broken['id'],
                         ['create', 'update', 'failed'])
        self.assertEqual(['result'], received[4].payload['output_names'])
        self.assertNoSecret(received, secret_input, secret_output)

    def test_events_of_a_signalled_deployment(self):
        """A derived deployment (CFN_SIGNAL, as Heat creates it): signals
        end its attempts, a re-run and a cancel start and end others.
        """
        source = self.create_config()
        secret_input = 'input-%s' % uuid.uuid4().hex
        secret_outputs = ['stdout-%s' % uuid.uuid4().hex,
                          'result-%s' % uuid.uuid4().hex,
                          'stderr-%s' % uuid.uuid4().hex]
        deployment = self.create_deployment(source['id'], input_values={
            'deploy_signal_transport': 'CFN_SIGNAL',
            'password': secret_input})
        deployment_id = deployment['id']
        # Derived: the service made a config of its own, and tells nothing
        # of it.
        self.assertNotEqual(source['id'], deployment['config_id'])
        expected = [self.config_event('create', source),
                    self.deployment_event('create',
                                          self.show(deployment_id))]
        first_url = self.signal_url(deployment_id)
        self.signal(first_url, {
            'deploy_stdout': secret_outputs[0], 'deploy_stderr': '',
            'deploy_status_code': 0, 'result': secret_outputs[1]})
        after = self.show(deployment_id)
        self.assertEqual('COMPLETE', after['status'])
        expected += [self.deployment_event('signal', after, NOBODY),
                     self.deployment_event('complete', after, NOBODY)]
        self.action(deployment_id, {'rerun': {}})
        after = self.show(deployment_id)
        self.assertEqual(('IN_PROGRESS', 2), (after['status'],
                                              after['attempt']))
        expected.append(self.deployment_event('rerun', after))
        second_url = self.signal_url(deployment_id)
        self.signal(second_url, {
            'deploy_stdout': '', 'deploy_stderr': secret_outputs[2],
            'deploy_status_code': 1})
        after = self.show(deployment_id)
        self.assertEqual('FAILED', after['status'])
        expected += [self.deployment_event('signal', after, NOBODY),
                     self.deployment_event('failed', after, NOBODY)]
        self.action(deployment_id, {'rerun': {}})
        expected.append(self.deployment_event('rerun',
                                              self.show(deployment_id)))
        self.action(deployment_id, {'cancel': {}})
        last = self.show(deployment_id)
        self.assertEqual(('FAILED', 3), (last['status'], last['attempt']))
        expected.append(self.deployment_event('cancel', last))
        self.api('DELETE', '/software_deployments/' + deployment_id,
                 expected=204)
        expected.append(self.deployment_event('delete', last))

        received = self.assertPublished(expected, self.worker_once())
        self.assertOrder(received, deployment_id, [
            'create', 'signal', 'complete', 'rerun', 'signal', 'failed',
            'rerun', 'cancel', 'delete'])
        # Output names, never their values.
        self.assertEqual(
            ['deploy_status_code', 'deploy_stderr', 'deploy_stdout',
             'result'], received[3].payload['output_names'])
        signatures = [parse.parse_qs(parse.urlsplit(url).query)[
            'signature'][0] for url in (first_url, second_url)]
        self.assertNoSecret(received, secret_input, first_url, second_url,
                            *(signatures + secret_outputs))

    def test_events_of_a_deployment_without_signal(self):
        """NO_SIGNAL: created COMPLETE, re-run COMPLETE; each tells only
        that it happened (no separate complete event).
        """
        source = self.create_config()
        deployment = self.create_deployment(source['id'], input_values={
            'deploy_signal_transport': 'NO_SIGNAL'})
        created = self.show(deployment['id'])
        self.assertEqual('COMPLETE', created['status'])
        self.action(deployment['id'], {'rerun': {}})
        after = self.show(deployment['id'])
        self.assertEqual(('COMPLETE', 2), (after['status'],
                                           after['attempt']))
        received = self.assertPublished(
            [self.config_event('create', source),
             self.deployment_event('create', created),
             self.deployment_event('rerun', after)],
            self.worker_once())
        self.assertOrder(received, deployment['id'], ['create', 'rerun'])

    def test_timeout_events(self):
        """A passed deadline is told once, by the sweep or by the next
        write (here a late signal), with no separate failed event.
        """
        source = self.create_config()
        swept = self.create_deployment(source['id'], timeout=1, input_values={
            'deploy_signal_transport': 'CFN_SIGNAL'})
        signalled = self.create_deployment(
            source['id'], server_id='server-2', timeout=1,
            input_values={'deploy_signal_transport': 'CFN_SIGNAL'})
        started = time.monotonic()
        # From the answers: a GET after the deadline would show it passed.
        expected = [self.config_event('create', source),
                    self.deployment_event('create', dict(swept, attempt=1)),
                    self.deployment_event('create',
                                          dict(signalled, attempt=1))]
        url = self.signal_url(signalled['id'])
        remaining = started + 1 + MARGIN - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        self.signal(url, {'deploy_status_code': 0}, expected=409)
        after = self.show(signalled['id'])
        self.assertEqual(('FAILED', TIMED_OUT % 1),
                         (after['status'], after['status_reason']))
        expected.append(self.deployment_event('timeout', after, NOBODY))
        published = self.worker_once(stored=1)
        after = self.show(swept['id'])
        self.assertEqual(('FAILED', TIMED_OUT % 1),
                         (after['status'], after['status_reason']))
        expected.append(self.deployment_event('timeout', after, NOBODY))
        self.assertPublished(expected, published)

    # 2. A change rolled back tells nothing

    def test_rolled_back_changes_send_nothing(self):
        source = self.create_config()
        first = self.create_deployment(source['id'], status='IN_PROGRESS')
        expected = [self.config_event('create', source),
                    self.deployment_event('create', self.show(first['id']))]
        for server in range(2, QUOTA + 1):
            created = self.create_deployment(
                source['id'], server_id='server-%d' % server)
            expected.append(self.deployment_event('create',
                                                  self.show(created['id'])))
        stale = self.show(first['id'])['etag']
        path = '/software_deployments/' + first['id']
        self.api('PUT', path, {'status_reason': 'Changed'},
                 headers={'If-Match': stale})
        expected.append(self.deployment_event('update',
                                              self.show(first['id'])))

        # None of these changes anything.
        for body in ({'status_reason': 'Lost'},
                     {'status': 'COMPLETE'},
                     {'timeout': 60}):
            self.api('PUT', path, body, expected=412,
                     headers={'If-Match': stale})
        resp = self.request('POST', self.base + '/software_deployments', {
            'config_id': source['id'], 'server_id': 'one-too-many'})
        self.assertEqual((400, 'RequestLimitExceeded'),
                         (resp.status_code, resp.json()['error']['type']))
        self.api('DELETE', '/software_configs/' + source['id'],
                 expected=409)
        self.assertEqual(len(expected), len(self.outbox()))

        received = self.assertPublished(expected, self.worker_once())
        self.assertEqual(received, self.sentinel()[:-1])

    # 3. The broker goes away and comes back

    def test_broker_outage_loses_nothing(self):
        proxy = self.useFixture(tcpproxy.TCPProxy(*broker_address()))
        conf = self.write_worker_conf(through(proxy.port),
                                      sweep_interval=1)
        before = self.create_config('before')
        self.assertEqual(1, self.worker_once(conf))
        self.listener.wait_for_count(1, ARRIVAL)

        proxy.cut()
        source = self.create_config()
        deployment = self.create_deployment(source['id'],
                                            status='IN_PROGRESS')
        self.api('PUT', '/software_deployments/' + deployment['id'],
                 {'status': 'COMPLETE'})
        self.api('DELETE', '/software_deployments/' + deployment['id'],
                 expected=204)
        written = self.outbox()[1:]
        self.assertEqual(
            ['software_config.create', 'software_deployment.create',
             'software_deployment.update', 'software_deployment.complete',
             'software_deployment.delete'],
            [row.event_type for row in written])

        # --once fails at once (no retries: the next run tries again),
        # names the step on one line, and keeps every event. The socket
        # error after it depends on when the cut link closes (connection
        # reset, or invalid argument).
        started = time.monotonic()
        failed = self.run_worker(conf, '--once')
        self.assertLess(time.monotonic() - started, COMMAND_TIMEOUT / 2)
        self.assertEqual(1, failed.returncode)
        self.assertNotIn('Published', failed.stdout)
        self.assertNotIn('Traceback', failed.stdout + failed.stderr)
        self.assertRegex(failed.stderr.splitlines()[-1],
                         r'^heat-deploy-worker: Publishing notifications '
                         r'failed: \S.*$')
        self.assertEqual(written, self.outbox()[1:])
        self.assertEqual((None, None), self.lease())

        # A looping worker logs the failure and tries again each sweep...
        worker, log_path = self.start_worker(conf)
        self.wait_for_log(log_path, 'Publishing notifications failed, '
                                    'trying again in 1 s')
        self.assertEqual(1, len(self.listener.received))
        # ... and publishes everything, in order, once the broker is back.
        proxy.restore()
        received = self.listener.wait_for_count(1 + len(written), ARRIVAL)
        worker.send_signal(signal.SIGTERM)
        self.assertEqual(0, worker.wait(COMMAND_TIMEOUT))
        self.assertEqual(
            [before['id']] + [row.message_id for row in written],
            [received[0].payload['config_id']]
            + [item.message_id for item in received[1:]])
        self.assertEqual([], [row.id for row in self.outbox()
                              if row.sent_at is None])
        self.assertEqual((None, None), self.lease())
        self.assertEqual(received, self.sentinel()[:-1])
        self.assertEnvelopes(received)

    # 4. A worker killed while it publishes

    def test_killed_worker_loses_nothing(self):
        for number in range(KILL_EVENTS):
            self.create_config('config-%d' % number)
        written = self.outbox()
        self.assertEqual(KILL_EVENTS, len(written))
        link = self.useFixture(_SlowLink(broker_address(), SLOW_ANSWER))
        worker, _log = self.start_worker(self.write_worker_conf(
            through(link.port), sweep_interval=1))
        self.assertEqual(
            KILL_AFTER,
            len(self.listener.wait_for_count(KILL_AFTER, ARRIVAL)[
                :KILL_AFTER]))
        worker.kill()
        self.assertEqual(-signal.SIGKILL, worker.wait(COMMAND_TIMEOUT))
        unsent = [row for row in self.outbox() if row.sent_at is None]
        # It died while publishing: what it had published is not marked.
        self.assertNotEqual([], unsent, 'The worker killed while it '
                            'published had marked every event sent')

        # Its lease keeps the others out until it expires, within
        # LEASE_SECONDS.
        holder, expires_at = self.lease()
        self.assertIsNotNone(holder)
        self.assertLessEqual(
            expires_at - timeutils.utcnow(),
            datetime.timedelta(seconds=delivery.LEASE_SECONDS))
        self.assertEqual(0, self.worker_once())
        self.assertEqual(holder, self.lease()[0])
        # Instead of waiting for that, the test moves the expiry to the
        # past, as if the time had passed.
        with self.engine.begin() as connection:
            connection.execute(sa.update(Lease).where(
                Lease.c.name == delivery.NOTIFICATIONS,
                Lease.c.holder == holder).values(
                expires_at=timeutils.utcnow()
                - datetime.timedelta(seconds=1)))
        self.assertEqual(len(unsent), self.worker_once())
        self.assertEqual((None, None), self.lease())

        received = self.sentinel()[:-1]
        # What the dead worker published (in order, from the oldest), then
        # all it had not marked sent, once more, in order.
        ids = [row.message_id for row in written]
        got = [item.message_id for item in received]
        dead = got[:len(got) - len(unsent)]
        self.assertEqual(ids[:len(dead)], dead)
        self.assertEqual([row.message_id for row in unsent],
                         got[len(dead):])
        self.assertGreaterEqual(len(dead), KILL_AFTER)
        self.assertEqual(set(ids), set(got))
        # Fewer than a batch: the dead worker had marked none, so all it
        # published came twice.
        self.assertEqual(ids, [row.message_id for row in unsent])
        self.assertEqual(len(ids) + len(dead), len(got))
        # Duplicates are the same message: the same message_id, type and
        # payload.
        by_id = {row.message_id: row for row in written}
        for item in received:
            row = by_id[item.message_id]
            self.assertEqual((row.event_type, row.payload),
                             (item.event_type, item.payload))
        self.assertEnvelopes(received)

    # 5. Two workers at once

    def test_two_workers_publish_each_event_once(self):
        for number in range(RACE_EVENTS // 2):
            config = self.create_config('config-%d' % number)
            self.api('DELETE', '/software_configs/' + config['id'],
                     expected=204)
        written = self.outbox()
        self.assertEqual(RACE_EVENTS, len(written))
        # Publishing through a slow link takes a second or more: the
        # second worker comes while the first publishes.
        link = self.useFixture(_SlowLink(broker_address(), RACE_ANSWER))
        conf = self.write_worker_conf(through(link.port))
        workers = [subprocess.Popen(
            service.console_script('heat-deploy-worker', *conf) + ['--once'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=service.command_env()) for _ in range(2)]
        for worker in workers:
            self.addCleanup(self._end_process, worker)
        counts = []
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=COMMAND_TIMEOUT)
            self.outputs.append('--- stdout\n%s--- stderr\n%s'
                                % (stdout, stderr))
            self.assertEqual(0, worker.returncode, stderr)
            match = SUMMARY.match(stdout.splitlines()[-1])
            self.assertIsNotNone(match, stdout)
            counts.append(int(match.group(2)))
        # One published them all, the other found the lease taken.
        self.assertEqual([0, RACE_EVENTS], sorted(counts))
        self.assertEqual((None, None), self.lease())
        received = self.sentinel()[:-1]
        self.assertEqual([row.message_id for row in written],
                         [item.message_id for item in received])
        self.assertEnvelopes(received)
