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

"""Many real clients at once against gunicorn: no lost update, quotas hold."""

from concurrent import futures
import uuid

import requests
import testtools

from heat_deploy.tests.functional.fixtures import service

WRITERS = 8
ROUNDS = 5


class TestConcurrentWriters(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(service.RunningServer(sections={
            'quota': {'max_software_configs_per_tenant': '5'}}))
        self.tenant = uuid.uuid4().hex
        self.base = self.server.endpoint(self.tenant)
        self.headers = {'X-Auth-Token': 't',
                        'Content-Type': 'application/json'}

    def _post(self, path, body):
        return requests.post(self.base + path, json=body,
                             headers=self.headers, timeout=30)

    def _deployment(self):
        config = self._post('/software_configs', {'name': 'c'}).json()
        resp = self._post('/software_deployments', {
            'config_id': config['software_config']['id'],
            'server_id': 'server', 'status': 'IN_PROGRESS'})
        self.assertEqual(200, resp.status_code, resp.text)
        return self.base + '/software_deployments/' + \
            resp.json()['software_deployment']['id']

    def test_if_match_writers_never_lose_an_update(self):
        url = self._deployment()

        def writer(number):
            session = requests.Session()
            conflicts = 0
            for round_number in range(ROUNDS):
                while True:
                    current = session.get(url, headers=self.headers,
                                          timeout=30)
                    outputs = dict(
                        current.json()['software_deployment']
                        ['output_values'] or {})
                    outputs['w%d_%d' % (number, round_number)] = True
                    resp = session.put(
                        url, json={'output_values': outputs},
                        headers=dict(self.headers,
                                     **{'If-Match': current.headers['ETag']}),
                        timeout=30)
                    if resp.status_code == 200:
                        break
                    self.assertEqual(412, resp.status_code, resp.text)
                    conflicts += 1
            return conflicts

        with futures.ThreadPoolExecutor(WRITERS) as pool:
            conflicts = sum(pool.map(writer, range(WRITERS)))
        final = requests.get(url, headers=self.headers, timeout=30)
        outputs = final.json()['software_deployment']['output_values']
        expected = {'w%d_%d' % (n, r) for n in range(WRITERS)
                    for r in range(ROUNDS)}
        self.assertEqual(expected, set(outputs))
        # Every successful PUT bumped the generation exactly once.
        self.assertEqual('"%d"' % (1 + WRITERS * ROUNDS),
                         final.headers['ETag'])
        # The writers really raced; otherwise this test proves nothing.
        self.assertGreater(conflicts, 0)

    def test_plain_writers_are_applied_atomically(self):
        url = self._deployment()

        def writer(number):
            resp = requests.put(url, headers=self.headers, timeout=30,
                                json={'status_reason': 'writer %d' % number,
                                      'action': 'A%d' % number})
            self.assertEqual(200, resp.status_code, resp.text)
            return resp.headers['ETag']

        with futures.ThreadPoolExecutor(WRITERS) as pool:
            etags = list(pool.map(writer, range(WRITERS * 2)))
        # Each write got its own generation: none was merged or lost.
        self.assertEqual(len(etags), len(set(etags)))
        final = requests.get(url, headers=self.headers, timeout=30).json()
        deployment = final['software_deployment']
        # Both fields come from the same writer: no torn update.
        self.assertEqual(deployment['action'][1:],
                         deployment['status_reason'].split()[-1])

    def test_quota_holds_under_concurrent_creates(self):
        def create(number):
            return self._post('/software_configs',
                              {'name': 'c%d' % number}).status_code

        with futures.ThreadPoolExecutor(WRITERS) as pool:
            codes = list(pool.map(create, range(20)))
        self.assertEqual(5, codes.count(200), codes)
        self.assertEqual(15, codes.count(400), codes)
        listed = requests.get(self.base + '/software_configs',
                              headers=self.headers, timeout=30).json()
        self.assertEqual(5, len(listed['software_configs']))


class TestConcurrentSignals(testtools.TestCase):

    def test_concurrent_signals_apply_exactly_once(self):
        server = self.useFixture(service.RunningServer())
        base = server.endpoint(uuid.uuid4().hex)
        headers = {'X-Auth-Token': 't'}
        config = requests.post(base + '/software_configs', headers=headers,
                               json={'outputs': [{'name': 'who'}]},
                               timeout=30).json()['software_config']
        deployment = requests.post(
            base + '/software_deployments', headers=headers, timeout=30,
            json={'config_id': config['id'], 'server_id': 's',
                  'signal_transport': 'CFN_SIGNAL'}).json()
        derived = requests.get(
            base + '/software_configs/'
            + deployment['software_deployment']['config_id'],
            headers=headers, timeout=30).json()['software_config']
        url = [item['value'] for item in derived['inputs']
               if item['name'] == 'deploy_signal_id'][0]

        def signal(number):
            resp = requests.post(url, timeout=30, json={
                'who': 'agent %d' % number, 'deploy_stdout': str(number),
                'deploy_status_code': 0})
            self.assertEqual(200, resp.status_code, resp.text)
            return resp.json()['signal']

        with futures.ThreadPoolExecutor(WRITERS) as pool:
            results = list(pool.map(signal, range(WRITERS * 2)))
        self.assertEqual(1, results.count('applied'), results)
        shown = requests.get(
            base + '/software_deployments/'
            + deployment['software_deployment']['id'],
            headers=headers, timeout=30).json()['software_deployment']
        self.assertEqual('COMPLETE', shown['status'])
        # All outputs come from the one signal that was applied.
        number = shown['output_values']['deploy_stdout']
        self.assertEqual('agent %s' % number, shown['output_values']['who'])
