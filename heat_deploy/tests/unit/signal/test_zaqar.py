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

"""ZAQAR_SIGNAL's pure parts; tests/functional/test_keystone_zaqar_signal.py
runs it against a real Zaqar and Keystone.
"""

from cryptography import fernet
from oslo_config import cfg
import testtools

from heat_deploy import service
from heat_deploy.signal import base
from heat_deploy.signal import manager
from heat_deploy.signal import zaqar

DEPLOYMENT_ID = '5f1c2b2e-9d57-4c8e-9d6e-0a4b8f3c1e11'


def _info(attempt):
    return base.DeploymentInfo(DEPLOYMENT_ID, 'tenant', 'server', 'CREATE',
                               {}, None, 'ZAQAR_SIGNAL', None, attempt)


class TestNames(testtools.TestCase):

    def test_queue_of_each_attempt(self):
        self.assertEqual(DEPLOYMENT_ID + '-1', zaqar.queue_name(_info(1)))
        self.assertEqual(DEPLOYMENT_ID + '-12', zaqar.queue_name(_info(12)))
        # Zaqar: at most 64 of [A-Za-z0-9_-].
        name = zaqar.queue_name(_info(10 ** 9))
        self.assertLessEqual(len(name), 64)
        self.assertRegex(name, '^[A-Za-z0-9_-]+$')

    def test_project_is_named_as_the_user(self):
        self.assertEqual('hd-' + DEPLOYMENT_ID,
                         zaqar.project_name(DEPLOYMENT_ID))

    def test_versioned_endpoint(self):
        for url in ('http://z:8888', 'http://z:8888/', 'http://z:8888/v2',
                    'http://z:8888/v1.1/', 'http://z:8888/v1'):
            self.assertEqual('http://z:8888/v2',
                             zaqar.versioned_endpoint(url))
        self.assertEqual('https://z/messaging/v2',
                         zaqar.versioned_endpoint('https://z/messaging'))


class TestClaims(testtools.TestCase):

    def test_claimed_messages(self):
        answer = {'messages': [
            {'id': 'm1', 'ttl': 600, 'age': 1, 'body': {'a': 1},
             'href': '/v2/queues/q/messages/m1?claim_id=c1'},
            {'id': 'm2', 'ttl': 600, 'age': 1, 'body': 'text',
             'href': '/v2/queues/q/messages/m2?claim_id=c1'}]}
        self.assertEqual([('m1', 'c1', {'a': 1}), ('m2', 'c1', 'text')],
                         zaqar.claimed_messages(answer))

    def test_an_answer_without_claim_ids_is_refused(self):
        self.assertRaises(KeyError, zaqar.claimed_messages, {
            'messages': [{'id': 'm1', 'href': '/v2/queues/q/messages/m1'}]})

    def test_backend_error_keeps_details_for_the_operator(self):
        err = zaqar.backend_error('claiming messages of queue q', 'refused')
        self.assertEqual(502, err.code)
        self.assertNotIn('refused', err.user_fault_string)
        self.assertEqual('Zaqar claiming messages of queue q failed: '
                         'refused', err.operator_fault_string)


class TestDriver(testtools.TestCase):

    def _conf(self, **heat_signal):
        conf = service.make_conf()
        conf([], project='heat_deploy', default_config_files=[])
        manager.register_opts(conf, zaqar.ZaqarSignalDriver)
        for name, value in heat_signal.items():
            conf.set_override(name, value, group='heat_signal')
        return conf

    def test_needs_the_stack_user_settings(self):
        err = self.assertRaises(ValueError, zaqar.ZaqarSignalDriver,
                                self._conf())
        self.assertIn('must be set to enable ZAQAR_SIGNAL', str(err))

    def test_a_pull_transport_with_its_own_options(self):
        conf = self._conf(auth_url='http://ks:5000', stack_domain_admin='a',
                          stack_domain_admin_password='p',
                          region_name='RegionTwo')
        conf.set_override('encryption_keys',
                          [fernet.Fernet.generate_key().decode()],
                          group='signal')
        driver = zaqar.ZaqarSignalDriver(conf)
        self.assertTrue(driver.pull)
        self.assertEqual('RegionTwo', driver.region)
        self.assertEqual(60, conf.zaqar.claim_ttl)
        self.assertRaises(ValueError, conf.set_override, 'claim_ttl', 30,
                          group='zaqar')
        # No Keystone and nothing to read yet: nothing pulled, no request.
        self.assertIsNone(driver.fetch_outputs(None, _info(1)))

    def test_options_are_in_the_sample_config(self):
        groups = {group.name: opts
                  for group, opts in manager.list_transport_opts()}
        self.assertIn('zaqar', groups)
        self.assertIn('claim_ttl', [opt.name for opt in groups['zaqar']])
        self.assertIsInstance(groups['zaqar'][0], cfg.Opt)
