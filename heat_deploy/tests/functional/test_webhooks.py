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

"""Webhooks, end to end: notify_url through the HTTP API, signed posts by
the real worker to a receiver on loopback, retries, refusals.

heat_deploy runs under gunicorn on a database of its own (on the backend
that HEAT_DEPLOY_TEST_DB names) with [webhooks] allowed_hosts = 127.0.0.1,
localhost and an empty denied_networks, so the worker may post to the
receiver these tests run in a thread (http.server on 127.0.0.1). The
tests run the real ``heat-deploy-worker --once`` against the server's
configuration file and check the exact counts it prints; each test leaves
no delivery due, so the next one's counts are its own.

Two more servers show the refusals of a stricter configuration: one with
webhooks disabled (the default, no allowed_hosts) and one that allows the
host name ``localhost`` but keeps the default denied_networks, so that
the name is accepted while the addresses it resolves to are not.
"""

import collections
import datetime
import http.server
import json
import os
import re
import subprocess
import threading
import time
from urllib import parse
import uuid

from cryptography import fernet
import fixtures
import requests
import sqlalchemy as sa
import testtools
from testtools import content

from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import service
from heat_deploy import webhooks

BACKEND = os.environ.get(db_fixture.BACKEND_ENV, 'sqlite')
HTTP_TIMEOUT = 30
COMMAND_TIMEOUT = 120
HEADERS = {'X-Auth-Token': 't'}
# Seconds before a failed delivery's second try; its third waits twice as
# long ([webhooks] retry_delay).
RETRY_DELAY = 1
MAX_ATTEMPTS = 3
# How long a test runs the worker, at most, for the tries it expects.
WORK_TIMEOUT = 60
# Added to a deadline before a test looks.
MARGIN = 0.3
LOG_DETAIL = 8000
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
ISO_TIME = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'
SECRET = re.compile(r'^[A-Za-z0-9_-]{43}$')
WORKER_COUNTS = re.compile(
    r'^Stored (\d+) passed deadline\(s\)\. Published (\d+) '
    r'notification\(s\)\. Posted (\d+) webhook\(s\)\.\n\Z', re.MULTILINE)

OUTPUTS = {'deploy_stdout': 'done', 'deploy_stderr': '',
           'deploy_status_code': 0, 'result': 'ok'}
TIMED_OUT = 'Deployment timed out after %d seconds'
CANCELLED = 'Deployment cancelled.'

INVALID = 'Data supplied was not valid: '
NOT_ALLOWED = (INVALID + 'The notify_url\'s host %s is not one this service '
               'may send webhooks to; the operator\'s [webhooks] '
               'allowed_hosts decides which hosts may receive them.')
USERINFO = (INVALID + 'The notify_url must not contain a user name or '
            'password; put any token the receiver needs in its path or '
            'query.')
NOT_HTTP = ('The field "notify_url" does not have the expected form '
            '(^https?://).')
DISABLED = (INVALID + 'Webhooks are disabled: this service accepts no '
            'notify_url because its operator allows no receiving host '
            '([webhooks] allowed_hosts is empty).')
SECRET_ALONE = (INVALID + 'A notify_secret signs the posts to a notify_url; '
                'give the notify_url too.')


def parse_time(text):
    return datetime.datetime.strptime(text, TIME_FORMAT)


def seconds_between(earlier, later):
    """Whole seconds from one API timestamp to another."""
    return int((parse_time(later) - parse_time(earlier)).total_seconds())


def utc_text(unix_time):
    """An API timestamp (whole seconds, UTC) of a Unix time."""
    return datetime.datetime.fromtimestamp(
        int(unix_time), datetime.timezone.utc).strftime(TIME_FORMAT)


def sleep_until(moment):
    """Sleep until time.monotonic() reaches ``moment``."""
    remaining = moment - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


# What the receiver got: its arrival (Unix and monotonic time), the path
# and query, the headers and the exact bytes of the body.
Post = collections.namedtuple('Post', 'time monotonic target headers body')


class Receiver(fixtures.Fixture):
    """A webhook receiver: http.server on 127.0.0.1 in a thread.

    It records every POST and answers each path with the statuses
    scripted for it with :meth:`answer`, in order, then 200.
    """

    def _setUp(self):
        self.posts = []
        self.scripts = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                path = parse.urlsplit(self.path).path
                with receiver.lock:
                    script = receiver.scripts.get(path)
                    status = script.pop(0) if script else 200
                    receiver.posts.append(Post(
                        time.time(), time.monotonic(), self.path,
                        dict(self.headers), body))
                self.send_response(status)
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'ok')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.shutdown)

    def url(self, host='127.0.0.1'):
        """A new URL of this receiver, with a path and token of its own.

        :returns: (the URL, its path).
        """
        path = '/hooks/%s' % uuid.uuid4().hex
        return ('http://%s:%d%s?token=%s' % (host, self.port, path,
                                             uuid.uuid4().hex), path)

    def answer(self, path, *statuses):
        with self.lock:
            self.scripts[path] = list(statuses)

    def received(self, path):
        """The POSTs to a path, in the order they came."""
        with self.lock:
            return [post for post in self.posts
                    if parse.urlsplit(post.target).path == path]


class _Service(fixtures.Fixture):
    """A freshly migrated database and heat_deploy on it under gunicorn,
    sending webhooks to loopback.
    """

    def __init__(self, webhook_options):
        super().__init__()
        self.webhook_options = webhook_options

    def _setUp(self):
        self.key = fernet.Fernet.generate_key().decode('ascii')
        self.database_url = db_fixture.migrated_database(self, BACKEND)
        self.server = self.useFixture(service.RunningServer(
            sections={'database': {'connection': self.database_url},
                      'signal': {'encryption_keys': self.key},
                      'webhooks': self.webhook_options},
            workers=2))


class TestWebhooks(testtools.TestCase):
    """One server for every test (starting one takes seconds); each test
    has a project of its own, deletes its deployments at the end and
    leaves no delivery due.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = _Service({
            'allowed_hosts': '127.0.0.1,localhost',
            'denied_networks': '',
            'retry_delay': str(RETRY_DELAY),
            'max_attempts': str(MAX_ATTEMPTS),
            'timeout': '5'})
        cls.service.setUp()
        cls.server = cls.service.server

    @classmethod
    def tearDownClass(cls):
        cls.service.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.receiver = self.useFixture(Receiver())
        self.use_server(self.server)
        self.worker_output = []
        self.addDetail('worker-output', content.Content(
            content.UTF8_TEXT,
            lambda: ['\n'.join(self.worker_output)[-LOG_DETAIL:]
                     .encode('utf-8')]))

    def use_server(self, server):
        """Make the helpers talk to ``server``, with a new project."""
        self.tenant = uuid.uuid4().hex
        self.base = server.endpoint(self.tenant)
        self.conf_file = server.conf_file
        log_offset = os.path.getsize(server.log_path)
        # What the server logged during the test, read at its end: a
        # server the test started is gone when the details are read.
        log = []
        self.addCleanup(lambda: log.append(self._log(server, log_offset)))
        self.addDetail('gunicorn-log-%d' % server.port, content.Content(
            content.UTF8_TEXT,
            lambda: [(log[0] if log else self._log(server, log_offset))[
                :LOG_DETAIL].encode('utf-8')]))
        self.source_id = self.api('POST', '/software_configs', {
            'name': 'install', 'group': 'script', 'config': 'true',
            'outputs': [{'name': 'result'}]}).json()['software_config']['id']

    @staticmethod
    def _log(server, offset):
        with open(server.log_path) as log_file:
            log_file.seek(offset)
            return log_file.read()

    # Helpers: the HTTP API

    @staticmethod
    def request(method, url, body=None, token=True):
        return requests.request(method, url, json=body,
                                headers=HEADERS if token else {},
                                timeout=HTTP_TIMEOUT)

    def api(self, method, path, body=None, expected=200):
        resp = self.request(method, self.base + path, body)
        self.assertEqual(expected, resp.status_code, resp.text)
        return resp

    def _create(self, body):
        deployment = self.api('POST', '/software_deployments', body).json()[
            'software_deployment']
        self.addCleanup(self._delete, deployment['id'])
        return deployment

    def _delete(self, deployment_id):
        # The test may have deleted it.
        resp = self.request('DELETE', '%s/software_deployments/%s'
                            % (self.base, deployment_id))
        self.assertIn(resp.status_code, (204, 404), resp.text)

    def deploy(self, server_id='server-1', **fields):
        """A derived CFN_SIGNAL deployment, IN_PROGRESS."""
        return self._create(dict({
            'config_id': self.source_id, 'server_id': server_id,
            'input_values': {'deploy_signal_transport': 'CFN_SIGNAL'}},
            **fields))

    def deploy_plain(self, **fields):
        """A deployment of the config as it is, IN_PROGRESS."""
        return self._create(dict({
            'config_id': self.source_id, 'server_id': 'server-1',
            'status': 'IN_PROGRESS'}, **fields))

    def show(self, deployment_id):
        return self.api('GET', '/software_deployments/'
                        + deployment_id).json()['software_deployment']

    def put(self, deployment_id, body):
        return self.api('PUT', '/software_deployments/' + deployment_id,
                        body).json()['software_deployment']

    def listed(self):
        return self.api('GET', '/software_deployments').json()[
            'software_deployments']

    def attempts(self, deployment_id):
        return self.api('GET', '/software_deployments/%s/attempts'
                        % deployment_id).json()['attempts']

    def cancel(self, deployment_id):
        return self.api('POST', '/software_deployments/%s/actions'
                        % deployment_id, {'cancel': {}}).json()[
            'software_deployment']

    def signal_url(self, deployment):
        """The deploy_signal_id input of the deployment's derived config."""
        config = self.api('GET', '/software_configs/'
                          + deployment['config_id']).json()['software_config']
        [url] = [item['value'] for item in config['inputs']
                 if item['name'] == 'deploy_signal_id']
        return url

    def metadata_url(self, server_id):
        """The signed metadata URL os-collect-config polls."""
        return self.api('GET', '/servers/%s/os-collect-config'
                        % server_id).json()['os-collect-config'][
            'request']['metadata_url']

    def deliveries(self, deployment_id):
        """webhook_deliveries of each attempt, newest attempt first; None
        where an attempt has none.
        """
        return [attempt.get('webhook_deliveries')
                for attempt in self.attempts(deployment_id)]

    def assertFault(self, resp, status, error_type, message):
        self.assertEqual(status, resp.status_code, resp.text)
        error = resp.json()['error']
        self.assertEqual((error_type, message),
                         (error['type'], error['message']))

    def assertSigned(self, post, secret):
        """The post is signed with ``secret``, and only with it."""
        header = post.headers[webhooks.SIGNATURE_HEADER]
        self.assertTrue(webhooks.verify(secret, header, post.body),
                        header)
        self.assertFalse(webhooks.verify(secret + 'x', header, post.body))
        self.assertFalse(webhooks.verify(secret, header, post.body + b' '))
        timestamp = int(re.match(r'^t=(\d+),v1=[0-9a-f]{64}$',
                                 header).group(1))
        self.assertLessEqual(abs(timestamp - post.time), 2)

    def assertPost(self, post, target, secret, event, deployment):
        """A webhook of ``event`` for ``deployment`` (its show form)."""
        self.assertEqual(target, post.target)
        self.assertEqual(
            ('application/json', webhooks.USER_AGENT,
             '127.0.0.1:%d' % self.receiver.port),
            (post.headers['Content-Type'], post.headers['User-Agent'],
             post.headers['Host']))
        self.assertSigned(post, secret)
        self.assertEqual(
            {'event': 'software_deployment.' + event,
             'software_deployment': dict(deployment, notify_url='***')},
            json.loads(post.body))

    # Helpers: the worker

    def worker_once(self, conf_file=None):
        """Run heat-deploy-worker --once; returns the counts it printed:
        (deadlines stored, notifications published, webhooks posted).
        """
        result = subprocess.run(
            service.console_script('heat-deploy-worker', '--config-file',
                                   conf_file or self.conf_file, '--once'),
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
            env=service.command_env())
        self.worker_output.append(result.stdout + result.stderr)
        self.assertEqual(0, result.returncode, result.stderr)
        match = WORKER_COUNTS.search(result.stdout)
        self.assertIsNotNone(match, result.stdout)
        return tuple(int(count) for count in match.groups())

    def work_until(self, done):
        """Run the worker until ``done()`` is true; returns the webhooks
        each run posted.
        """
        deadline = time.monotonic() + WORK_TIMEOUT
        posted = []
        while not done():
            self.assertLess(time.monotonic(), deadline,
                            'the worker did not get there: %s' % posted)
            stored, published, count = self.worker_once()
            self.assertEqual((0, 0), (stored, published))
            posted.append(count)
        return posted

    def delivery_rows(self, database_url, deployment_id):
        """(next_try_at, tries) of a deployment's deliveries, in order."""
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as connection:
                return [(next_try_at, json.loads(tries))
                        for next_try_at, tries in connection.execute(
                            sa.text('SELECT next_try_at, tries FROM '
                                    'webhook_delivery WHERE deployment_id '
                                    '= :id ORDER BY id'),
                            {'id': deployment_id})]
        finally:
            engine.dispose()

    # The API

    def test_notify_url_in_each_view_and_the_secret_once(self):
        url, _path = self.receiver.url()
        created = self.deploy(notify_url=url)
        secret = created.pop('notify_secret')
        self.assertRegex(secret, SECRET)
        self.assertEqual(url, created['notify_url'])
        self.assertEqual(created, self.show(created['id']))
        self.assertEqual([dict(created, notify_url='***')], self.listed())

        # A given secret is kept and shown once.
        given = 'my-own-secret-0123456789'
        plain = self.deploy_plain(server_id='server-2', notify_url=url,
                                  notify_secret=given)
        self.assertEqual((url, given),
                         (plain.pop('notify_url'), plain.pop('notify_secret')))
        shown = self.show(plain['id'])
        self.assertEqual(url, shown.pop('notify_url'))
        self.assertEqual(plain, shown)

        # A PUT of a new secret alone shows it once and keeps the URL.
        rotated = 'the-rotated-secret-98765'
        after = self.put(created['id'], {'notify_secret': rotated})
        self.assertEqual((url, rotated),
                         (after['notify_url'], after['notify_secret']))
        self.assertEqual(dict(after, notify_secret=None),
                         dict(self.show(created['id']), notify_secret=None))
        self.assertNotIn('notify_secret', self.show(created['id']))
        # A new URL alone gets a new secret.
        new_url, _path = self.receiver.url()
        moved = self.put(created['id'], {'notify_url': new_url})
        self.assertEqual(new_url, moved['notify_url'])
        self.assertRegex(moved['notify_secret'], SECRET)
        self.assertNotIn(moved['notify_secret'], (secret, rotated))
        # A PUT without them keeps both and shows no secret.
        kept = self.put(created['id'], {'status_reason': 'still going'})
        self.assertEqual(new_url, kept['notify_url'])
        self.assertNotIn('notify_secret', kept)

        # A deployment without a webhook shows neither field.
        without = self.deploy_plain(server_id='server-3')
        self.assertNotIn('notify_url', without)
        self.assertNotIn('notify_secret', without)
        self.assertEqual(
            {created['id']: '***', plain['id']: '***', without['id']: None},
            {item['id']: item.get('notify_url') for item in self.listed()})

        # The server's views never carry the URL, its token or a secret.
        everything = (url, new_url, parse.urlsplit(url).query,
                      parse.urlsplit(new_url).query, secret, rotated,
                      moved['notify_secret'], given, '/hooks/')
        views = [
            self.api('GET', '/software_deployments/metadata/server-1').text,
            self.api('GET', '/software_deployments/metadata/server-2').text,
            self.request('GET', self.metadata_url('server-1'),
                         token=False).text,
            self.api('GET', '/software_configs/'
                     + created['config_id']).text,
            self.api('GET', '/software_deployments/%s/attempts'
                     % created['id']).text,
        ]
        for text in views:
            for value in everything:
                self.assertNotIn(value, text)
            self.assertNotIn('notify', text)
        # The list shows only that there is one.
        text = self.api('GET', '/software_deployments').text
        for value in everything:
            self.assertNotIn(value, text)
        with open(self.server.log_path) as log_file:
            log = log_file.read()
        for value in (secret, rotated, moved['notify_secret'], given,
                      parse.urlsplit(url).query):
            self.assertNotIn(value, log)

        # Nothing ended: nothing to post.
        self.assertEqual((0, 0, 0), self.worker_once())
        self.assertEqual([], self.receiver.posts)

    def test_refused_urls_are_400(self):
        deployment = self.deploy_plain()
        port = self.receiver.port
        cases = [
            ('http://example.com/hook', 'Invalid',
             NOT_ALLOWED % 'example.com'),
            ('https://10.0.0.1:%d/hook' % port, 'Invalid',
             NOT_ALLOWED % '10.0.0.1'),
            ('http://127.0.0.1.nip.io:%d/hook' % port, 'Invalid',
             NOT_ALLOWED % '127.0.0.1.nip.io'),
            ('http://user:s3kr1t@127.0.0.1:%d/hook' % port, 'Invalid',
             USERINFO),
            ('http://token@localhost:%d/hook' % port, 'Invalid', USERINFO),
            ('ftp://127.0.0.1:%d/hook' % port, 'HTTPBadRequest', NOT_HTTP),
            ('file:///etc/passwd', 'HTTPBadRequest', NOT_HTTP),
        ]
        for url, error_type, message in cases:
            resp = self.request('POST', self.base + '/software_deployments',
                                {'config_id': self.source_id,
                                 'server_id': 'server-1',
                                 'notify_url': url})
            self.assertFault(resp, 400, error_type, message)
            self.assertNotIn('s3kr1t', resp.text)
            resp = self.request('PUT', '%s/software_deployments/%s'
                                % (self.base, deployment['id']),
                                {'notify_url': url})
            self.assertFault(resp, 400, error_type, message)
        resp = self.request('POST', self.base + '/software_deployments', {
            'config_id': self.source_id, 'server_id': 'server-1',
            'notify_secret': 'a-secret-without-a-url'})
        self.assertFault(resp, 400, 'Invalid', SECRET_ALONE)
        resp = self.request('PUT', '%s/software_deployments/%s' % (
            self.base, deployment['id']),
            {'notify_secret': 'a-secret-without-a-url'})
        self.assertFault(resp, 400, 'Invalid', SECRET_ALONE)
        # Nothing was created or changed.
        self.assertEqual([deployment], self.listed())
        self.assertEqual(deployment, self.show(deployment['id']))

    def test_webhooks_are_disabled_by_default(self):
        default = self.useFixture(service.RunningServer(workers=1))
        self.use_server(default)
        url, _path = self.receiver.url()
        resp = self.request('POST', self.base + '/software_deployments', {
            'config_id': self.source_id, 'server_id': 'server-1',
            'notify_url': url})
        self.assertFault(resp, 400, 'Invalid', DISABLED)
        self.assertEqual([], self.listed())

    # Terminal events

    def test_terminal_events_are_posted_once_and_signed(self):
        hooks = {name: self.receiver.url() for name in (
            'complete', 'failed', 'put', 'timeout', 'cancel', 'quiet')}

        def create(name, **fields):
            deployment = self.deploy(notify_url=hooks[name][0], **fields)
            return deployment, deployment['notify_secret']

        completing, complete_secret = create('complete')
        failing, failed_secret = create('failed')
        cancelled, old_cancel_secret = create('cancel')
        quiet, _quiet_secret = create('quiet')
        put = self.deploy_plain(notify_url=hooks['put'][0])
        put_secret = put['notify_secret']

        # Events that end no attempt post nothing: create, update, rerun,
        # a signal to a deployment that is not waiting, delete.
        self.put(quiet['id'], {'status_reason': 'still going'})
        self.api('POST', '/software_deployments/%s/actions' % quiet['id'],
                 {'rerun': {}})
        cancel_secret = 'a-new-secret-for-cancel'
        self.put(cancelled['id'], {'notify_secret': cancel_secret})
        self.assertEqual((0, 0, 0), self.worker_once())

        # timeout: the worker stores the passed deadline, below.
        timing_out, timeout_secret = create('timeout', timeout=1)
        started = time.monotonic()
        # complete: a signal through the CFN_SIGNAL URL, as the agent
        # sends it.
        resp = self.request('POST', self.signal_url(completing), OUTPUTS,
                            token=False)
        self.assertEqual(200, resp.status_code, resp.text)
        # failed: the authenticated signal route, which shows the URL
        # masked.
        resp = self.api('POST', '/software_deployments/%s/signal'
                        % failing['id'],
                        dict(OUTPUTS, deploy_status_code=1))
        answer = resp.json()['software_deployment']
        self.assertEqual(('FAILED', '***'),
                         (answer['status'], answer['notify_url']))
        self.assertNotIn('notify_secret', answer)
        # failed too: a PUT that ends the attempt.
        self.put(put['id'], {'status': 'FAILED', 'status_reason': 'no'})
        # cancel.
        self.cancel(cancelled['id'])
        # Signals to deployments that no longer wait, and a deployment
        # deleted, post nothing.
        resp = self.request('POST', self.signal_url(completing), OUTPUTS,
                            token=False)
        self.assertEqual((200, 'ignored'),
                         (resp.status_code, resp.json()['signal']))
        self.assertEqual([None, None], self.deliveries(quiet['id']))
        self.api('DELETE', '/software_deployments/' + quiet['id'],
                 expected=204)
        sleep_until(started + 1 + MARGIN)
        before = time.time()
        self.assertEqual((1, 0, 5), self.worker_once())
        after = time.time()
        self.assertEqual((0, 0, 0), self.worker_once())

        expected = [
            ('complete', completing, complete_secret, 'complete'),
            ('failed', failing, failed_secret, 'failed'),
            ('put', put, put_secret, 'failed'),
            ('timeout', timing_out, timeout_secret, 'timeout'),
            ('cancel', cancelled, cancel_secret, 'cancel'),
        ]
        self.assertEqual(5, len(self.receiver.posts))
        for name, deployment, secret, event in expected:
            url, path = hooks[name]
            [post] = self.receiver.received(path)
            shown = self.show(deployment['id'])
            self.assertPost(post, url[url.index(path):], secret, event,
                            shown)
            self.assertLessEqual(before, post.time)
            self.assertLessEqual(post.time, after)
            [[delivery]] = self.deliveries(deployment['id'])
            self.assertEqual({'event': event, 'tries': [
                {'time': delivery['tries'][0]['time'], 'result': 200}]},
                delivery)
            self.assertIn(delivery['tries'][0]['time'],
                          (utc_text(post.time), utc_text(post.time - 1)))
        # The secret of the webhook's time: the old one no longer signs.
        [post] = self.receiver.received(hooks['cancel'][1])
        self.assertFalse(webhooks.verify(
            old_cancel_secret, post.headers[webhooks.SIGNATURE_HEADER],
            post.body))
        # What each post says.
        self.assertEqual(
            [('COMPLETE', 'Outputs received'),
             ('FAILED', 'deploy_status_code : Deployment exited with '
                        'non-zero status code: 1'),
             ('FAILED', 'no'),
             ('FAILED', TIMED_OUT % 1),
             ('FAILED', CANCELLED)],
            [(body['status'], body['status_reason']) for body in (
                json.loads(
                    self.receiver.received(hooks[name][1])[0].body)[
                    'software_deployment']
                for name, _d, _s, _e in expected)])
        self.assertEqual([], self.receiver.received(hooks['quiet'][1]))
        # The worker's output shows no URL path, token or secret.
        output = '\n'.join(self.worker_output)
        for name, _deployment, secret, _event in expected:
            url, path = hooks[name]
            self.assertNotIn(path, output)
            self.assertNotIn(parse.urlsplit(url).query, output)
            self.assertNotIn(secret, output)

    # Retries

    def test_failed_posts_are_retried_with_backoff(self):
        url, path = self.receiver.url()
        self.receiver.answer(path, 500, 500)
        deployment = self.deploy_plain(notify_url=url)
        self.cancel(deployment['id'])

        posted = self.work_until(
            lambda: len(self.receiver.received(path)) == 3)
        self.assertEqual(3, sum(posted), posted)
        self.assertLessEqual(set(posted), {0, 1})
        [[delivery]] = self.deliveries(deployment['id'])
        tries = delivery['tries']
        self.assertEqual(('cancel', [500, 500, 200]),
                         (delivery['event'],
                          [item['result'] for item in tries]))
        for item in tries:
            self.assertRegex(item['time'], ISO_TIME)
        # The second try waited retry_delay, the third twice that.
        self.assertGreaterEqual(
            seconds_between(tries[0]['time'], tries[1]['time']),
            RETRY_DELAY)
        self.assertGreaterEqual(
            seconds_between(tries[1]['time'], tries[2]['time']),
            2 * RETRY_DELAY)
        first, second, third = self.receiver.received(path)
        # A try is made at least the delay after the one before began;
        # the arrivals may be some milliseconds closer than that.
        self.assertGreaterEqual(second.monotonic - first.monotonic,
                                RETRY_DELAY - 0.1)
        self.assertGreaterEqual(third.monotonic - second.monotonic,
                                2 * RETRY_DELAY - 0.1)
        # Each try sends the same body, signed at its own time.
        secret = deployment['notify_secret']
        self.assertEqual(first.body, second.body)
        self.assertEqual(first.body, third.body)
        for post in (first, second, third):
            self.assertSigned(post, secret)
        shown = self.show(deployment['id'])
        self.assertPost(third, url[url.index(path):], secret, 'cancel',
                        shown)
        # Delivered: no more tries.
        self.assertEqual([(None, tries)], self.delivery_rows(
            self.service.database_url, deployment['id']))
        self.assertEqual((0, 0, 0), self.worker_once())
        self.assertEqual(3, len(self.receiver.received(path)))

    def test_tries_stop_at_max_attempts(self):
        # One receiver always answers 500, the other URL's port is closed.
        url, path = self.receiver.url()
        self.receiver.answer(path, *[500] * (MAX_ATTEMPTS + 2))
        closed = 'http://127.0.0.1:%d/hooks/closed' % service.free_port()
        answering = self.deploy_plain(notify_url=url)
        refusing = self.deploy_plain(notify_url=closed)
        self.cancel(answering['id'])
        self.cancel(refusing['id'])

        def done():
            return all(len(self.deliveries(deployment['id'])[0][0]['tries'])
                       == MAX_ATTEMPTS
                       for deployment in (answering, refusing))

        posted = self.work_until(done)
        self.assertEqual(2 * MAX_ATTEMPTS, sum(posted), posted)
        [[answered]] = self.deliveries(answering['id'])
        [[failed]] = self.deliveries(refusing['id'])
        self.assertEqual(
            [500] * MAX_ATTEMPTS,
            [item['result'] for item in answered['tries']])
        self.assertEqual(
            [webhooks.DELIVERY_FAILED] * MAX_ATTEMPTS,
            [item['result'] for item in failed['tries']])
        for tries in (answered['tries'], failed['tries']):
            self.assertGreaterEqual(
                seconds_between(tries[0]['time'], tries[1]['time']),
                RETRY_DELAY)
            self.assertGreaterEqual(
                seconds_between(tries[1]['time'], tries[2]['time']),
                2 * RETRY_DELAY)
        # Given up: nothing is due any more, whatever the time.
        for deployment, delivery in ((answering, answered),
                                     (refusing, failed)):
            self.assertEqual([(None, delivery['tries'])], self.delivery_rows(
                self.service.database_url, deployment['id']))
        self.assertEqual((0, 0, 0), self.worker_once())
        self.assertEqual(MAX_ATTEMPTS, len(self.receiver.received(path)))
        self.assertEqual(MAX_ATTEMPTS, len(self.receiver.posts))
        self.assertIn('Webhook to http://127.0.0.1:%d/*** failed: no '
                      'address of its host accepted a connection.'
                      % parse.urlsplit(closed).port,
                      '\n'.join(self.worker_output))

    # Request forgery

    def test_an_allowed_name_resolving_to_a_denied_network(self):
        strict = self.useFixture(_Service({
            'allowed_hosts': 'localhost', 'max_attempts': '1'}))
        self.use_server(strict.server)
        url, path = self.receiver.url(host='localhost')
        deployment = self.deploy_plain(notify_url=url)
        self.assertEqual(url, deployment['notify_url'])
        # The address itself is not an allowed host name.
        loopback, _path = self.receiver.url()
        resp = self.request('POST', self.base + '/software_deployments', {
            'config_id': self.source_id, 'server_id': 'server-1',
            'notify_url': loopback})
        self.assertFault(resp, 400, 'Invalid', NOT_ALLOWED % '127.0.0.1')

        self.cancel(deployment['id'])
        self.assertEqual((0, 0, 1), self.worker_once(strict.server.conf_file))
        self.assertEqual((0, 0, 0), self.worker_once(strict.server.conf_file))
        [[delivery]] = self.deliveries(deployment['id'])
        self.assertEqual(
            ('cancel', [webhooks.DELIVERY_FAILED]),
            (delivery['event'],
             [item['result'] for item in delivery['tries']]))
        self.assertEqual([], self.receiver.posts)
        output = '\n'.join(self.worker_output)
        self.assertRegex(
            output, r'Webhook to http://localhost:%d/\*\*\* not sent: its '
                    r'host resolves to [^\n]*127\.0\.0\.1[^\n]*, in '
                    r'\[webhooks\] denied_networks\.' % self.receiver.port)
        self.assertNotIn(path, output)
