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

"""The deployment lifecycle, end to end: deadlines, cancel, re-run, attempts.

heat_deploy runs under gunicorn on a database of its own (on the backend
that HEAT_DEPLOY_TEST_DB names) with [deployment] max_attempts_kept = 3;
the tests use its HTTP API as clients and in-server agents do, and run the
real ``heat-deploy-worker --once`` and ``heat-deploy-manage purge``
commands against the same database. The database is this module's alone
because the worker and purge act on every deployment in it, and the tests
check the exact counts they print; each test deletes what it created.

Deadlines are 1 or 2 seconds, and a test waits for one to pass by sleeping
until that long after the response that started the attempt (the server
started it before answering), plus a margin.
"""

from concurrent import futures
import datetime
import functools
import os
import re
import subprocess
import threading
import time
import uuid

import fixtures
import requests
import testtools
from testtools import content

from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import service

BACKEND = os.environ.get(db_fixture.BACKEND_ENV, 'sqlite')
GUNICORN_WORKERS = 4
# Attempts each deployment keeps, the current one included.
KEEP = 3
HTTP_TIMEOUT = 30
COMMAND_TIMEOUT = 120
HEADERS = {'X-Auth-Token': 't'}
# Added to a deadline before a test looks: the server's clock, the
# database's rounding and the sleep itself may each be a little late.
MARGIN = 0.3
# A failing test shows the start of what the server logged meanwhile.
LOG_DETAIL = 8000
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
ISO_TIME = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'

# What an agent (heat-config-notify) posts when the script succeeded.
OUTPUTS = {'deploy_stdout': 'done', 'deploy_stderr': '',
           'deploy_status_code': 0, 'result': 'ok'}
RACE_ROUNDS = 10
SWEPT = 40

TIMED_OUT = 'Deployment timed out after %d seconds'
NOT_FETCHED = 'Deployment was not fetched by its server within %d seconds'
CANCELLED = 'Deployment cancelled.'
REFUSED = ('Deployment %s is no longer waiting for this signal (%s); it was '
           'not applied. Its output values are kept as late_output_values '
           'of attempt %d.')
NOT_CANCELLABLE = ('Deployment %s is %s (%s); only an IN_PROGRESS '
                   'deployment can be cancelled.')


def parse_time(text):
    return datetime.datetime.strptime(text, TIME_FORMAT)


def seconds_between(earlier, later):
    """Whole seconds from one API timestamp to another."""
    return int((parse_time(later) - parse_time(earlier)).total_seconds())


def sleep_until(moment):
    """Sleep until time.monotonic() reaches ``moment``."""
    remaining = moment - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


class _Service(fixtures.Fixture):
    """A freshly migrated database and heat_deploy on it under gunicorn."""

    def _setUp(self):
        url = db_fixture.migrated_database(self, BACKEND)
        self.server = self.useFixture(service.RunningServer(
            sections={'database': {'connection': url},
                      'deployment': {'max_attempts_kept': str(KEEP)}},
            workers=GUNICORN_WORKERS))


class TestLifecycle(testtools.TestCase):
    """One server for every test (starting one takes seconds); each test
    has a project of its own and deletes its deployments at the end.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = _Service()
        cls.service.setUp()
        cls.server = cls.service.server

    @classmethod
    def tearDownClass(cls):
        cls.service.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.tenant = uuid.uuid4().hex
        self.base = self.server.endpoint(self.tenant)
        # Only this test's part of the shared server's log is its own.
        self.log_offset = os.path.getsize(self.server.log_path)
        self.addDetail('gunicorn-log', content.Content(
            content.UTF8_TEXT,
            lambda: [self._log()[:LOG_DETAIL].encode('utf-8')]))
        self.source_id = self.api('POST', '/software_configs', {
            'name': 'install', 'group': 'script', 'config': 'true',
            'outputs': [{'name': 'result'}]}).json()['software_config']['id']

    # Helpers: the HTTP API

    def _log(self):
        """What the server logged since this test started."""
        with open(self.server.log_path) as log_file:
            log_file.seek(self.log_offset)
            return log_file.read()

    def assertCleanLog(self):
        self.assertNotIn('Traceback', self._log())

    @staticmethod
    def request(method, url, body=None, token=True):
        """A request as a client (token) or an in-server agent sends it."""
        return requests.request(method, url, json=body,
                                headers=HEADERS if token else {},
                                timeout=HTTP_TIMEOUT)

    def api(self, method, path, body=None, expected=200):
        """A request to the project's API that must answer ``expected``."""
        resp = self.request(method, self.base + path, body)
        self.assertEqual(expected, resp.status_code, resp.text)
        return resp

    def _create(self, body):
        deployment = self.api('POST', '/software_deployments', body).json()[
            'software_deployment']
        self.addCleanup(self.api, 'DELETE',
                        '/software_deployments/' + deployment['id'],
                        expected=204)
        return deployment

    def deploy(self, server_id='server-1', **fields):
        """A derived deployment, as Heat's resource creates it: its
        transport (CFN_SIGNAL) named by the deploy_signal_transport input.
        """
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
        """(the deployment, its ETag)."""
        resp = self.api('GET', '/software_deployments/' + deployment_id)
        return resp.json()['software_deployment'], resp.headers['ETag']

    def listed(self, query=''):
        return self.api('GET', '/software_deployments' + query).json()[
            'software_deployments']

    def attempts(self, deployment_id):
        return self.api('GET', '/software_deployments/%s/attempts'
                        % deployment_id).json()['attempts']

    def action(self, deployment_id, body, expected=200):
        return self.api('POST', '/software_deployments/%s/actions'
                        % deployment_id, body, expected=expected)

    def cancel(self, deployment_id, expected=200):
        return self.action(deployment_id, {'cancel': {}}, expected)

    def rerun(self, deployment_id):
        return self.action(deployment_id, {'rerun': {}}).json()[
            'software_deployment']

    def signal_url(self, deployment):
        """The deploy_signal_id input of the deployment's derived config."""
        config = self.api('GET', '/software_configs/'
                          + deployment['config_id']).json()['software_config']
        [url] = [item['value'] for item in config['inputs']
                 if item['name'] == 'deploy_signal_id']
        return url

    def signal(self, url, body):
        """A signal through a capability URL, as heat-config-notify sends
        it: no token.
        """
        return self.request('POST', url, body, token=False)

    def metadata_url(self, server_id):
        """The signed metadata URL os-collect-config polls."""
        return self.api('GET', '/servers/%s/os-collect-config'
                        % server_id).json()['os-collect-config'][
            'request']['metadata_url']

    def agent_config_ids(self, url):
        """Config ids of the server's document at its metadata URL."""
        resp = self.request('GET', url, token=False)
        self.assertEqual(200, resp.status_code, resp.text)
        return [config['id'] for config in resp.json()['deployments']]

    def metadata_config_ids(self, server_id):
        """Config ids of GET .../software_deployments/metadata/{server}."""
        return [config['id'] for config in self.api(
            'GET', '/software_deployments/metadata/' + server_id).json()[
            'metadata']]

    @staticmethod
    def together(*calls):
        """Make the calls in threads released at the same instant.

        :returns: their results, in the order of the calls.
        """
        barrier = threading.Barrier(len(calls), timeout=HTTP_TIMEOUT)

        def run(call):
            barrier.wait()
            return call()

        with futures.ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(run, calls))

    # Helpers: what responses must say

    def assertFault(self, resp, status, error_type, message):
        self.assertEqual(status, resp.status_code, resp.text)
        error = resp.json()['error']
        self.assertEqual((error_type, message),
                         (error['type'], error['message']))

    def assertRefused(self, resp, deployment_id, reason, attempt):
        """A 409 refusal of a signal for an attempt that ended."""
        self.assertFault(resp, 409, 'SignalRefused',
                         REFUSED % (deployment_id, reason, attempt))

    def assertState(self, deployment, status, reason, outputs=None):
        self.assertEqual((status, reason, outputs),
                         (deployment['status'], deployment['status_reason'],
                          deployment['output_values']))

    def assertSecondsAfter(self, seconds, earlier, later):
        """``later`` is ``seconds`` after ``earlier``, to the second.

        An attempt starts a moment after the deployment is created, and
        timestamps are shown in whole seconds, so the difference may be a
        second more.
        """
        self.assertIn(seconds_between(earlier, later),
                      (seconds, seconds + 1), (earlier, later))

    # Helpers: the commands

    def run_command(self, *args):
        result = subprocess.run(service.console_script(*args),
                                capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT,
                                env=service.command_env())
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout

    def worker_once(self):
        """Run heat-deploy-worker --once; returns the count it printed."""
        return self.stored_count(self.run_command(
            'heat-deploy-worker', '--config-file', self.server.conf_file,
            '--once'))

    def stored_count(self, stdout):
        """The count the worker printed last; its log lines (one per
        deadline stored) come before it on stdout.
        """
        match = re.search(r'^Stored (\d+) passed deadline\(s\)\. '
                          r'Published 0 notification\(s\)\. Posted 0 '
                          r'webhook\(s\)\.\n\Z',
                          stdout, re.MULTILINE)
        self.assertIsNotNone(match, stdout)
        return int(match.group(1))

    # Create and PUT: the timeout fields

    def test_derived_deployment_gets_the_default_deadline(self):
        deployment = self.deploy()
        self.assertEqual((3600, 0, None),
                         (deployment['timeout'],
                          deployment['delivery_timeout'],
                          deployment['delivered_time']))
        self.assertSecondsAfter(3600, deployment['creation_time'],
                                deployment['deadline_time'])
        self.assertEqual(deployment, self.show(deployment['id'])[0])

    def test_plain_deployment_gets_no_deadline(self):
        deployment = self.deploy_plain()
        self.assertEqual(
            ('IN_PROGRESS', 0, 0, None, None),
            (deployment['status'], deployment['timeout'],
             deployment['delivery_timeout'], deployment['deadline_time'],
             deployment['delivered_time']))

    def test_explicit_timeouts_are_honoured(self):
        derived = self.deploy(timeout=120, delivery_timeout=60)
        self.assertEqual((120, 60), (derived['timeout'],
                                     derived['delivery_timeout']))
        # Not fetched yet: the delivery deadline comes first.
        self.assertSecondsAfter(60, derived['creation_time'],
                                derived['deadline_time'])
        # 0 is no deadline, not the default; null is the default.
        without = self.deploy(timeout=0)
        self.assertEqual((0, None), (without['timeout'],
                                     without['deadline_time']))
        defaulted = self.deploy(timeout=None, delivery_timeout=None)
        self.assertEqual((3600, 0), (defaulted['timeout'],
                                     defaulted['delivery_timeout']))
        plain = self.deploy_plain(timeout=30)
        self.assertEqual((30, 0), (plain['timeout'],
                                   plain['delivery_timeout']))
        self.assertSecondsAfter(30, plain['creation_time'],
                                plain['deadline_time'])

    def test_bad_timeouts_are_400_naming_the_field(self):
        deployment = self.deploy()
        cases = [
            (-1, 'must be at least 0.'),
            (604801, 'must be no more than 604800.'),
            ('5', 'must be an integer, not a JSON string.'),
            (True, 'must be an integer, not a JSON boolean.'),
            (1.5, 'must be an integer, not a JSON number.'),
        ]
        for field in ('timeout', 'delivery_timeout'):
            for value, problem in cases:
                message = 'The field "%s" %s' % (field, problem)
                resp = self.request('POST', self.base
                                    + '/software_deployments', {
                                        'config_id': self.source_id,
                                        'server_id': 's', field: value})
                self.assertFault(resp, 400, 'HTTPBadRequest', message)
                resp = self.request('PUT', '%s/software_deployments/%s' % (
                    self.base, deployment['id']), {field: value})
                self.assertFault(resp, 400, 'HTTPBadRequest', message)
        self.assertEqual([deployment['id']],
                         [item['id'] for item in self.listed()])
        self.assertEqual((deployment, '"1"'), self.show(deployment['id']))

    def test_put_timeout_moves_the_deadline_of_the_current_attempt(self):
        deployment = self.deploy()
        path = '/software_deployments/' + deployment['id']
        moved = self.api('PUT', path, {'timeout': 120}).json()[
            'software_deployment']
        self.assertEqual(120, moved['timeout'])
        # Counted from the attempt's start, not from the PUT.
        self.assertEqual(
            seconds_between(deployment['deadline_time'],
                            moved['deadline_time']), 120 - 3600)
        removed = self.api('PUT', path, {'timeout': 0}).json()[
            'software_deployment']
        self.assertEqual((0, None), (removed['timeout'],
                                     removed['deadline_time']))
        # Absent: no change.
        kept = self.api('PUT', path, {'status_reason': 'still going'}).json()[
            'software_deployment']
        self.assertEqual((0, None), (kept['timeout'], kept['deadline_time']))

    # Deadlines

    def test_run_deadline_fails_the_deployment_in_every_view(self):
        waiting = self.deploy(server_id='server-1')
        doomed = self.deploy(server_id='server-2', timeout=2)
        started = time.monotonic()
        self.assertState(doomed, 'IN_PROGRESS', 'Deploy data available')
        self.assertSecondsAfter(2, doomed['creation_time'],
                                doomed['deadline_time'])
        sleep_until(started + 2 + MARGIN)

        reason = TIMED_OUT % 2
        shown, etag = self.show(doomed['id'])
        self.assertState(shown, 'FAILED', reason)
        # The deadline that ended it.
        self.assertEqual(doomed['deadline_time'], shown['deadline_time'])
        # No worker ran: the view computed it, nothing was stored.
        self.assertEqual('"1"', etag)
        listed = {item['id']: item for item in self.listed()}
        self.assertEqual(shown, listed[doomed['id']])
        self.assertEqual('IN_PROGRESS', listed[waiting['id']]['status'])
        self.assertEqual([doomed['id']], [
            item['id'] for item in self.listed('?status=FAILED')])
        self.assertEqual([waiting['id']], [
            item['id'] for item in self.listed('?status=IN_PROGRESS')])
        [attempt] = self.attempts(doomed['id'])
        self.assertSecondsAfter(0, doomed['creation_time'],
                                attempt.pop('start_time'))
        self.assertEqual({
            'number': 1, 'config_id': doomed['config_id'],
            'action': 'CREATE', 'status': 'FAILED', 'status_reason': reason,
            'output_values': None, 'delivered_time': None,
            'end_time': doomed['deadline_time']}, attempt)

        # The worker stores it once: the row changes (its ETag), what the
        # views show does not.
        self.assertEqual(1, self.worker_once())
        stored, etag = self.show(doomed['id'])
        self.assertEqual('"2"', etag)
        self.assertState(stored, 'FAILED', reason)
        self.assertEqual(doomed['deadline_time'], stored['deadline_time'])
        self.assertEqual(0, self.worker_once())
        self.assertEqual('"2"', self.show(doomed['id'])[1])
        shown, etag = self.show(waiting['id'])
        self.assertEqual(('IN_PROGRESS', '"1"'), (shown['status'], etag))

    def test_delivery_deadline_fails_only_what_its_server_never_fetched(self):
        unfetched = self.deploy(server_id='server-1', delivery_timeout=2)
        fetched = self.deploy(server_id='server-2', delivery_timeout=2)
        started = time.monotonic()
        self.assertSecondsAfter(2, unfetched['creation_time'],
                                unfetched['deadline_time'])
        url = self.metadata_url('server-2')
        self.assertEqual([fetched['config_id']], self.agent_config_ids(url))
        delivered, etag = self.show(fetched['id'])
        self.assertIsNotNone(delivered['delivered_time'])
        # Fetched, only the run deadline is left.
        self.assertSecondsAfter(3600, fetched['creation_time'],
                                delivered['deadline_time'])
        sleep_until(started + 2 + MARGIN)

        shown = self.show(unfetched['id'])[0]
        self.assertState(shown, 'FAILED', NOT_FETCHED % 2)
        self.assertEqual((unfetched['deadline_time'], None),
                         (shown['deadline_time'], shown['delivered_time']))
        self.assertEqual(NOT_FETCHED % 2,
                         self.attempts(unfetched['id'])[0]['status_reason'])
        # Only the first fetch of the attempt counts.
        self.assertEqual([fetched['config_id']], self.agent_config_ids(url))
        self.assertEqual((delivered, etag), self.show(fetched['id']))
        self.assertEqual('Deploy data available', delivered['status_reason'])

        self.assertEqual(1, self.worker_once())
        self.assertState(self.show(unfetched['id'])[0], 'FAILED',
                         NOT_FETCHED % 2)
        self.assertEqual((delivered, etag), self.show(fetched['id']))

    def test_a_stack_users_fetch_counts_as_delivery(self):
        by_reader = self.deploy(server_id='server-1')
        by_stack_user = self.deploy(server_id='server-2')
        for deployment, role in ((by_reader, 'reader'),
                                 (by_stack_user, 'heat_stack_user')):
            resp = requests.get(
                '%s/software_deployments/metadata/%s' % (
                    self.base, deployment['server_id']),
                headers=dict(HEADERS, **{'X-Roles': role}),
                timeout=HTTP_TIMEOUT)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertEqual([deployment['config_id']], [
                config['id'] for config in resp.json()['metadata']])
        self.assertIsNone(self.show(by_reader['id'])[0]['delivered_time'])
        self.assertIsNotNone(
            self.show(by_stack_user['id'])[0]['delivered_time'])

    def test_late_signal_is_refused_and_kept_as_late_outputs(self):
        deployment = self.deploy(timeout=1)
        started = time.monotonic()
        url = self.signal_url(deployment)
        sleep_until(started + 1 + MARGIN)
        reason = TIMED_OUT % 1

        self.assertRefused(self.signal(url, OUTPUTS), deployment['id'],
                           reason, 1)
        self.assertState(self.show(deployment['id'])[0], 'FAILED', reason)
        [attempt] = self.attempts(deployment['id'])
        self.assertEqual(OUTPUTS, attempt['late_output_values'])
        self.assertState(attempt, 'FAILED', reason)

        # The authenticated signal route refuses it the same way; what a
        # later signal carries is merged in.
        resp = self.request('POST', '%s/software_deployments/%s/signal' % (
            self.base, deployment['id']), {'result': 'later'})
        self.assertRefused(resp, deployment['id'], reason, 1)
        self.assertState(self.show(deployment['id'])[0], 'FAILED', reason)
        self.assertEqual(dict(OUTPUTS, result='later'),
                         self.attempts(deployment['id'])[0][
                             'late_output_values'])

        # A passed deadline ended the attempt: nothing left to cancel.
        self.assertFault(
            self.cancel(deployment['id'], expected=409), 409,
            'DeploymentStateConflict',
            NOT_CANCELLABLE % (deployment['id'], 'FAILED', reason))

    def test_put_after_the_deadline_is_applied(self):
        # One deadline only the views know of, one the worker stored: a PUT
        # does the same to both.
        viewed = self.deploy(server_id='server-1', timeout=1)
        swept = self.deploy(server_id='server-2', timeout=1)
        reopened = self.deploy(server_id='server-3', timeout=1)
        started = time.monotonic()
        sleep_until(started + 1 + MARGIN)
        done = {'status': 'COMPLETE', 'status_reason': 'Finished by hand',
                'output_values': {'result': 'manual'}}

        after = {viewed['id']: self.api(
            'PUT', '/software_deployments/' + viewed['id'], done).json()[
            'software_deployment']}
        # The PUT ended one; the worker stores the other two.
        self.assertEqual(2, self.worker_once())
        self.assertEqual('"2"', self.show(swept['id'])[1])
        after[swept['id']] = self.api(
            'PUT', '/software_deployments/' + swept['id'], done).json()[
            'software_deployment']
        for deployment in (viewed, swept):
            put = after[deployment['id']]
            self.assertState(put, 'COMPLETE', 'Finished by hand',
                             {'result': 'manual'})
            # The PUT ended the attempt, not the deadline.
            self.assertIsNone(put['deadline_time'])
            self.assertEqual(put, self.show(deployment['id'])[0])
            self.assertEqual([(1, 'COMPLETE', 'Finished by hand')], [
                (item['number'], item['status'], item['status_reason'])
                for item in self.attempts(deployment['id'])])
            # A signal finds a finished deployment, as it would without
            # deadlines: ignored, not refused.
            resp = self.signal(self.signal_url(deployment), OUTPUTS)
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertEqual({'deployment_id': deployment['id'],
                              'signal': 'ignored', 'status': 'COMPLETE'},
                             resp.json())
            self.assertEqual(put, self.show(deployment['id'])[0])

        # status IN_PROGRESS starts a new attempt with a new deadline.
        put = self.api('PUT', '/software_deployments/' + reopened['id'], {
            'status': 'IN_PROGRESS', 'status_reason': 'Trying again'}).json()[
            'software_deployment']
        self.assertState(put, 'IN_PROGRESS', 'Trying again')
        self.assertLess(parse_time(reopened['deadline_time']),
                        parse_time(put['deadline_time']))
        self.assertEqual(
            [(2, 'IN_PROGRESS', 'Trying again'), (1, 'FAILED', TIMED_OUT % 1)],
            [(item['number'], item['status'], item['status_reason'])
             for item in self.attempts(reopened['id'])])

    # Cancel

    def test_cancel_ends_the_attempt_and_hides_its_config(self):
        deployment = self.deploy(server_id='server-1')
        other = self.deploy(server_id='server-1')
        url = self.metadata_url('server-1')
        both = sorted([deployment['config_id'], other['config_id']])
        self.assertEqual(both, sorted(self.metadata_config_ids('server-1')))
        self.assertEqual(both, sorted(self.agent_config_ids(url)))

        resp = self.cancel(deployment['id'])
        cancelled = resp.json()['software_deployment']
        self.assertState(cancelled, 'FAILED', CANCELLED)
        self.assertIsNone(cancelled['deadline_time'])
        self.assertEqual((cancelled, resp.headers['ETag']),
                         self.show(deployment['id']))
        self.assertEqual([other['config_id']],
                         self.metadata_config_ids('server-1'))
        self.assertEqual([other['config_id']], self.agent_config_ids(url))

        resp = self.signal(self.signal_url(deployment), OUTPUTS)
        self.assertRefused(resp, deployment['id'], 'Deployment cancelled', 1)
        self.assertState(self.show(deployment['id'])[0], 'FAILED',
                         CANCELLED)
        [attempt] = self.attempts(deployment['id'])
        self.assertState(attempt, 'FAILED', CANCELLED)
        self.assertIsNotNone(attempt['end_time'])
        self.assertEqual(OUTPUTS, attempt['late_output_values'])

        self.assertFault(
            self.cancel(deployment['id'], expected=409), 409,
            'DeploymentStateConflict',
            NOT_CANCELLABLE % (deployment['id'], 'FAILED', CANCELLED))
        self.assertEqual('IN_PROGRESS', self.show(other['id'])[0]['status'])

        # Run again, the deployment is back in its server's metadata.
        again = self.rerun(deployment['id'])
        self.assertEqual(sorted([again['config_id'], other['config_id']]),
                         sorted(self.agent_config_ids(url)))

    def test_an_action_body_names_exactly_one_known_action(self):
        deployment = self.deploy()
        cases = [
            ({}, 'The request body must name one action: cancel or rerun.'),
            ({'cancel': {}, 'rerun': {}}, 'The request body must name '
                                          'exactly one action (cancel or '
                                          'rerun).'),
            ({'stop': {}}, 'The request body does not take the key(s) '
                           '"stop"; it takes cancel, rerun.'),
        ]
        for body, message in cases:
            self.assertFault(self.action(deployment['id'], body, 400), 400,
                             'HTTPBadRequest', message)
        self.assertEqual((deployment, '"1"'), self.show(deployment['id']))

    # Re-run

    def test_rerun_of_an_in_progress_deployment(self):
        deployment = self.deploy()
        old_url = self.signal_url(deployment)
        again = self.rerun(deployment['id'])
        self.assertNotEqual(deployment['config_id'], again['config_id'])
        self.assertState(again, 'IN_PROGRESS', 'Deploy data available')
        self.assertEqual(404, self.request(
            'GET', '%s/software_configs/%s' % (
                self.base, deployment['config_id'])).status_code)
        new_url = self.signal_url(again)
        self.assertIn('attempt=2', new_url)
        self.assertNotIn('attempt=', old_url)

        second, first = self.attempts(deployment['id'])
        self.assertEqual(
            (2, again['config_id'], 'IN_PROGRESS', None),
            (second['number'], second['config_id'], second['status'],
             second['end_time']))
        self.assertEqual(
            (1, deployment['config_id'], 'FAILED', 'Superseded by attempt 2.'),
            (first['number'], first['config_id'], first['status'],
             first['status_reason']))
        self.assertIsNotNone(first['end_time'])

        old_outputs = {'result': 'old'}
        self.assertRefused(self.signal(old_url, old_outputs),
                           deployment['id'], 'Superseded by attempt 2', 1)
        self.assertEqual((again, '"2"'), self.show(deployment['id']))
        self.assertEqual(old_outputs,
                         self.attempts(deployment['id'])[1][
                             'late_output_values'])

        resp = self.signal(new_url, OUTPUTS)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('applied', resp.json()['signal'])
        self.assertState(self.show(deployment['id'])[0], 'COMPLETE',
                         'Outputs received', OUTPUTS)
        second, first = self.attempts(deployment['id'])
        self.assertState(second, 'COMPLETE', 'Outputs received', OUTPUTS)
        self.assertNotIn('late_output_values', second)
        self.assertEqual(old_outputs, first['late_output_values'])

    def test_rerun_of_a_completed_deployment(self):
        deployment = self.deploy()
        resp = self.signal(self.signal_url(deployment), OUTPUTS)
        self.assertEqual(200, resp.status_code, resp.text)
        again = self.rerun(deployment['id'])
        # The outputs stay until the new attempt reports, as in Heat.
        self.assertState(again, 'IN_PROGRESS', 'Deploy data available',
                         OUTPUTS)
        second, first = self.attempts(deployment['id'])
        self.assertEqual((2, 'IN_PROGRESS'),
                         (second['number'], second['status']))
        self.assertEqual(1, first['number'])
        self.assertState(first, 'COMPLETE', 'Outputs received', OUTPUTS)
        self.assertNotIn('late_output_values', first)

    def test_rerun_after_the_deadline_restarts_it(self):
        deployment = self.deploy(timeout=1)
        started = time.monotonic()
        sleep_until(started + 1 + MARGIN)
        again = self.rerun(deployment['id'])
        self.assertState(again, 'IN_PROGRESS', 'Deploy data available')
        self.assertLess(parse_time(deployment['deadline_time']),
                        parse_time(again['deadline_time']))
        self.assertEqual(
            [(2, 'IN_PROGRESS', 'Deploy data available'),
             (1, 'FAILED', TIMED_OUT % 1)],
            [(item['number'], item['status'], item['status_reason'])
             for item in self.attempts(deployment['id'])])

    def test_rerun_of_a_plain_deployment_is_409(self):
        deployment = self.deploy_plain()
        resp = self.action(deployment['id'], {'rerun': {}}, 409)
        self.assertFault(
            resp, 409, 'DeploymentStateConflict',
            'Deployment %s runs config %s as it is, so the service cannot '
            'make a new config to run it again; PUT a new config_id (with '
            'status IN_PROGRESS) instead.'
            % (deployment['id'], self.source_id))
        self.assertEqual((deployment, '"1"'), self.show(deployment['id']))

    def test_only_the_newest_attempts_are_kept(self):
        deployment = self.deploy()
        first_url = self.signal_url(deployment)
        for _ in range(5):
            self.rerun(deployment['id'])
        attempts = self.attempts(deployment['id'])
        self.assertEqual([6, 5, 4], [item['number'] for item in attempts])
        before = self.show(deployment['id'])
        resp = self.signal(first_url, OUTPUTS)
        self.assertFault(
            resp, 409, 'SignalRefused',
            'Deployment %s is no longer waiting for this signal (Superseded '
            'by attempt 6); it was not applied. Attempt 1 is no longer kept, '
            'so its output values were dropped.' % deployment['id'])
        self.assertEqual(before, self.show(deployment['id']))
        self.assertEqual(attempts, self.attempts(deployment['id']))

    # Races and the worker

    def test_cancel_racing_a_signal_has_one_winner(self):
        outcomes = []
        # Which side won each round, shown if the test fails.
        self.addDetail('outcomes', content.Content(
            content.UTF8_TEXT, lambda: [repr(outcomes).encode('utf-8')]))
        for _ in range(RACE_ROUNDS):
            deployment = self.deploy()
            cancel, signal = self.together(
                lambda: self.request(
                    'POST', '%s/software_deployments/%s/actions' % (
                        self.base, deployment['id']), {'cancel': {}}),
                functools.partial(self.signal, self.signal_url(deployment),
                                  OUTPUTS))
            outcome = (cancel.status_code, signal.status_code)
            outcomes.append(outcome)
            self.assertIn(outcome, [(200, 409), (409, 200)],
                          'cancel: %s\nsignal: %s' % (cancel.text,
                                                      signal.text))
            shown = self.show(deployment['id'])[0]
            [attempt] = self.attempts(deployment['id'])
            if cancel.status_code == 200:
                self.assertRefused(signal, deployment['id'],
                                   'Deployment cancelled', 1)
                self.assertState(shown, 'FAILED', CANCELLED)
                self.assertEqual(OUTPUTS, attempt['late_output_values'])
            else:
                self.assertFault(
                    cancel, 409, 'DeploymentStateConflict',
                    NOT_CANCELLABLE % (deployment['id'], 'COMPLETE',
                                       'Outputs received'))
                self.assertState(shown, 'COMPLETE', 'Outputs received',
                                 OUTPUTS)
                self.assertNotIn('late_output_values', attempt)
        self.assertCleanLog()

    def test_two_workers_store_each_deadline_once(self):
        deployments = [self.deploy(server_id='server-%d' % number,
                                   timeout=1)
                       for number in range(SWEPT)]
        started = time.monotonic()
        sleep_until(started + 1 + MARGIN)
        workers = [subprocess.Popen(
            service.console_script('heat-deploy-worker', '--config-file',
                                   self.server.conf_file, '--once'),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=service.command_env()) for _ in range(2)]
        counts = []
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=COMMAND_TIMEOUT)
            self.assertEqual(0, worker.returncode, stderr)
            counts.append(self.stored_count(stdout))
        self.assertEqual(SWEPT, sum(counts), counts)
        listed = {item['id']: item
                  for item in self.listed('?status=FAILED')}
        self.assertEqual(sorted(item['id'] for item in deployments),
                         sorted(listed))
        for deployment in deployments:
            shown, etag = self.show(deployment['id'])
            self.assertState(shown, 'FAILED', TIMED_OUT % 1)
            # Stored exactly once: one write after the create.
            self.assertEqual('"2"', etag)
        self.assertEqual(0, self.worker_once())
        self.assertCleanLog()

    def test_purge_removes_only_earlier_attempts(self):
        rerun = self.deploy(server_id='server-1')
        for _ in range(2):
            self.rerun(rerun['id'])
        once = self.deploy(server_id='server-2')
        self.assertEqual(200, self.signal(self.signal_url(once),
                                          OUTPUTS).status_code)
        self.assertEqual([3, 2, 1], [
            item['number'] for item in self.attempts(rerun['id'])])
        before = [self.show(item['id'])[0] for item in (rerun, once)]
        once_attempts = self.attempts(once['id'])

        pattern = r'Removed %d attempt\(s\) that ended before %s\.\n'
        stdout = self.run_command(
            'heat-deploy-manage', '--config-file', self.server.conf_file,
            'purge', '--older-than', '0')
        self.assertRegex(stdout.splitlines(True)[0],
                         '^%s$' % (pattern % (2, ISO_TIME)))
        [current] = self.attempts(rerun['id'])
        self.assertEqual((3, 'IN_PROGRESS'),
                         (current['number'], current['status']))
        # A current attempt stays even when it ended before the cut-off.
        self.assertEqual(once_attempts, self.attempts(once['id']))
        self.assertEqual(before,
                         [self.show(item['id'])[0] for item in (rerun, once)])
        stdout = self.run_command(
            'heat-deploy-manage', '--config-file', self.server.conf_file,
            'purge', '--older-than', '0')
        self.assertRegex(stdout.splitlines(True)[0],
                         '^%s$' % (pattern % (0, ISO_TIME)))
