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

"""The real Zaqar of the functional tests does what they rely on.

A Keystone user creates a queue, posts and claims over v2, and posts and
claims over v1.1 with zaqarclient's v1 client, as heat-agents'
heat-config-notify does; the catalog names Zaqar as ``messaging``; the
fixture's Redis database is its own, and empty again once it stops.
"""

import testtools
from zaqarclient.queues.v1 import client as zaqar_v1

from heat_deploy.tests.functional.fixtures import keystone as keystone_fixture
from heat_deploy.tests.functional.fixtures import zaqar as zaqar_fixture


class ZaqarFixtureTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keystone = keystone_fixture.start_shared()

    @classmethod
    def tearDownClass(cls):
        cls.keystone.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if not zaqar_fixture.configured_python():
            self.skipTest('%s is not set; tox sets it (tools/fetch-zaqar.sh)'
                          % zaqar_fixture.PYTHON_ENV)
        self.zaqar = self.useFixture(zaqar_fixture.ZaqarFixture(
            self.keystone))

    def test_v2_queue_post_and_claim(self):
        session = self.keystone.session_for('a_member')
        url = session.get_endpoint(service_type='messaging',
                                   interface='public')
        self.assertEqual(self.zaqar.endpoint, url)
        headers = self.zaqar.headers()
        queue = url + '/v2/queues/fixture-v2'
        self.assertEqual(201, session.put(queue, headers=headers).status_code)
        session.post(queue + '/messages', headers=headers, json={
            'messages': [{'body': {'deploy_status_code': 0}, 'ttl': 600}]})
        claimed = session.post(queue + '/claims', headers=headers,
                               json={'ttl': 60, 'grace': 60})
        self.assertEqual(201, claimed.status_code)
        [message] = claimed.json()['messages']
        self.assertEqual({'deploy_status_code': 0}, message['body'])
        # Claimed: nobody else gets it.
        again = session.post(queue + '/claims', headers=headers,
                             json={'ttl': 60, 'grace': 60})
        self.assertEqual(204, again.status_code)
        self.assertLess(0, self.zaqar.redis.keys())

    def test_v1_1_as_heat_config_notify_posts(self):
        session = self.keystone.session_for('a_member')
        client = zaqar_v1.Client(self.zaqar.endpoint, version=1.1, conf={
            'auth_opts': {'backend': 'keystone', 'options': {
                'os_auth_token': session.get_token(),
                'os_project_id': session.get_project_id()}}})
        queue = client.queue('fixture-v1-1')
        queue.post({'body': {'deploy_stdout': 'hi'}, 'ttl': 600})
        [message] = list(queue.claim(ttl=60, grace=60))
        self.assertEqual({'deploy_stdout': 'hi'}, message.body)
        message.delete()
        self.assertEqual([], list(queue.claim(ttl=60, grace=60)))

    def test_tokens_are_checked(self):
        session = self.keystone.session_for('a_member')
        resp = session.get(self.zaqar.url_v2 + '/queues', authenticated=False,
                           headers=dict(self.zaqar.headers(),
                                        **{'X-Auth-Token': 'bogus'}),
                           raise_exc=False)
        self.assertEqual(401, resp.status_code)

    def test_stopping_empties_its_redis_database(self):
        other = zaqar_fixture.ZaqarFixture(self.keystone, register=False)
        other.setUp()
        try:
            self.assertNotEqual(self.zaqar.redis.number, other.redis.number)
            session = self.keystone.session_for('b_member')
            session.post(other.url_v2 + '/queues/q/messages',
                         headers=other.headers(),
                         json={'messages': [{'body': 1}]})
            self.assertLess(0, other.redis.keys())
            redis = other.redis
        finally:
            other.cleanUp()
        self.assertEqual(0, redis.keys())
