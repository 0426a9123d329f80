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

"""Requests released together against gunicorn: first uses, deletes, quotas.

Each test starts real clients at the same instant (a threading.Barrier)
against heat_deploy under several gunicorn workers, on the database that
HEAT_DEPLOY_TEST_DB names. Whatever the interleaving, no request may fail
with a 5xx, the service log shows no traceback, and the outcome is one that
some serial order of the same requests would give:

* the first fetches of a new server's os-collect-config settings all
  succeed and agree on one metadata URL;
* a PUT naming a config that is being deleted either wins (the delete is
  refused) or loses (the PUT is refused), never both nor neither;
* the first creates in a new project never exceed the quota.
"""

from concurrent import futures
import os
import threading
import uuid

import requests
import testtools
from testtools import content

from heat_deploy.tests.functional.fixtures import service

WORKERS = 4
TIMEOUT = 30
HEADERS = {'X-Auth-Token': 't'}
# A failing test shows the start of what the server logged meanwhile.
LOG_DETAIL = 8000

# Race 1: fresh servers, and clients fetching each one's settings at once.
SERVERS = 10
FETCHERS = 16
# Race 2: rounds of a DELETE of a config against a PUT naming it.
ROUNDS = 15
# Race 3: fresh projects, and clients creating in each one at once.
PROJECTS = 5
CREATORS = 12
QUOTA = 3


class _RaceTest(testtools.TestCase):
    """One gunicorn for the class; a fresh project for each test."""

    SECTIONS = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = service.RunningServer(sections=cls.SECTIONS,
                                           workers=WORKERS)
        cls.server.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanUp()
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

    def _log(self):
        """What the server logged since this test started."""
        with open(self.server.log_path) as log_file:
            log_file.seek(self.log_offset)
            return log_file.read()

    def assertCleanLog(self):
        self.assertNotIn('Traceback', self._log())

    def together(self, count, call):
        """call(number) in count threads released at the same instant.

        :returns: the results, in the order of the numbers.
        """
        barrier = threading.Barrier(count, timeout=TIMEOUT)

        def run(number):
            barrier.wait()
            return call(number)

        with futures.ThreadPoolExecutor(count) as pool:
            return list(pool.map(run, range(count)))

    def assertNoServerError(self, responses):
        self.assertEqual(
            [], [(resp.request.method, resp.url, resp.status_code, resp.text)
                 for resp in responses if resp.status_code >= 500])

    def request(self, method, url, body=None):
        return requests.request(method, url, json=body, headers=HEADERS,
                                timeout=TIMEOUT)

    def create(self, base, collection, body):
        """POST a config or deployment; returns its id."""
        resp = self.request('POST', '%s/%ss' % (base, collection), body)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()[collection]['id']


class TestFirstUseAndDelete(_RaceTest):
    """Races 1 and 2: they share a server with the default settings."""

    def test_first_fetches_of_a_new_server_agree_on_one_url(self):
        for _ in range(SERVERS):
            url = '%s/servers/%s/os-collect-config' % (
                self.base, uuid.uuid4())
            responses = self.together(
                FETCHERS, lambda number: self.request('GET', url))
            self.assertNoServerError(responses)
            self.assertEqual(
                [200] * FETCHERS, [resp.status_code for resp in responses],
                [resp.text for resp in responses])
            urls = {resp.json()['os-collect-config']['request']
                    ['metadata_url'] for resp in responses}
            self.assertEqual(1, len(urls), urls)
            # The URL they agree on is the one the service accepts.
            resp = requests.get(urls.pop(), timeout=TIMEOUT)
            self.assertEqual(200, resp.status_code, resp.text)
        self.assertCleanLog()

    def test_either_the_put_or_the_delete_wins(self):
        outcomes = []
        # Which side won each round, shown if the test fails.
        self.addDetail('outcomes', content.Content(
            content.UTF8_TEXT, lambda: [repr(outcomes).encode('utf-8')]))
        for _ in range(ROUNDS):
            doomed = self.create(self.base, 'software_config', {'name': 'a'})
            kept = self.create(self.base, 'software_config', {'name': 'b'})
            deployment_url = '%s/software_deployments/%s' % (
                self.base, self.create(self.base, 'software_deployment', {
                    'config_id': kept, 'server_id': 's',
                    'status': 'IN_PROGRESS'}))

            def race(number):
                if number == 0:
                    return self.request(
                        'DELETE', '%s/software_configs/%s' % (self.base,
                                                              doomed))
                return self.request('PUT', deployment_url,
                                    {'config_id': doomed})

            delete, put = self.together(2, race)
            self.assertNoServerError([delete, put])
            outcome = (delete.status_code, put.status_code)
            self.assertIn(outcome, [(409, 200), (204, 400)],
                          'DELETE: %s\nPUT: %s' % (delete.text, put.text))
            if put.status_code == 200:
                self.assertEqual('InvalidRestrictedAction',
                                 delete.json()['error']['type'], delete.text)
                expected = doomed
            else:
                message = put.json()['error']['message']
                self.assertIn('not found', message)
                self.assertIn(doomed, message)
                expected = kept
            outcomes.append(outcome)
            shown = self.request('GET', deployment_url)
            self.assertEqual(200, shown.status_code, shown.text)
            config_id = shown.json()['software_deployment']['config_id']
            self.assertEqual(expected, config_id)
            # The deployment never names a config that is gone.
            resp = self.request('GET', '%s/software_configs/%s'
                                % (self.base, config_id))
            self.assertEqual(200, resp.status_code, resp.text)
        self.assertCleanLog()


class TestFirstCreatesUnderQuota(_RaceTest):
    """Race 3: a server with small quotas."""

    SECTIONS = {'quota': {
        'max_software_configs_per_tenant': str(QUOTA),
        'max_software_deployments_per_tenant': str(QUOTA)}}

    def assertQuotaHeld(self, responses):
        self.assertNoServerError(responses)
        codes = [resp.status_code for resp in responses]
        self.assertEqual(QUOTA, codes.count(200), codes)
        self.assertEqual(CREATORS - QUOTA, codes.count(400), codes)
        for resp in responses:
            if resp.status_code == 400:
                self.assertEqual('RequestLimitExceeded',
                                 resp.json()['error']['type'], resp.text)

    def listed(self, base, collection):
        resp = self.request('GET', '%s/%s' % (base, collection))
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()[collection]

    def test_first_config_creates_of_a_project(self):
        for _ in range(PROJECTS):
            base = self.server.endpoint(uuid.uuid4().hex)
            responses = self.together(CREATORS, lambda number: self.request(
                'POST', base + '/software_configs', {'name': 'c%d' % number}))
            self.assertQuotaHeld(responses)
            self.assertEqual(QUOTA,
                             len(self.listed(base, 'software_configs')))
        self.assertCleanLog()

    def test_first_deployment_creates_of_a_project(self):
        for _ in range(PROJECTS):
            base = self.server.endpoint(uuid.uuid4().hex)
            # Counts against the config quota, not the deployment one.
            config_id = self.create(base, 'software_config', {'name': 'c'})
            responses = self.together(CREATORS, lambda number: self.request(
                'POST', base + '/software_deployments', {
                    'config_id': config_id, 'server_id': 's%d' % number,
                    'status': 'IN_PROGRESS'}))
            self.assertQuotaHeld(responses)
            self.assertEqual(QUOTA,
                             len(self.listed(base, 'software_deployments')))
            self.assertEqual([config_id], [
                item['id'] for item in self.listed(base, 'software_configs')])
        self.assertCleanLog()
