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

"""HEAT_SIGNAL through a real Keystone, with the unmodified agents."""

import os
import time

from cryptography import fernet
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests
import sqlalchemy as sa

from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import agents
from heat_deploy.tests.functional.fixtures import keystone
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional import keystone_case

SCRIPT = ('#!/bin/sh\necho "hello $foo"\n'
          'echo -n done > $heat_outputs_path.result\n')


class TestHeatSignal(keystone_case.ProjectMemberCase):

    script = SCRIPT
    #: [heat_signal] stack_user_role; None keeps the default.
    stack_user_role = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keystone = keystone.start_shared()
        heat_signal = {}
        if cls.stack_user_role:
            roles = cls.keystone.admin_client.roles
            if not roles.list(name=cls.stack_user_role):
                roles.create(cls.stack_user_role)
            heat_signal['stack_user_role'] = cls.stack_user_role
        try:
            cls.server = service.RunningServer(sections={
                'api': {'auth_strategy': 'keystone'},
                'keystone_authtoken': cls.keystone.auth_token_options(),
                'signal': {
                    'enabled_transports': 'CFN_SIGNAL,NO_SIGNAL,HEAT_SIGNAL',
                    'encryption_keys': fernet.Fernet.generate_key().decode()},
                'heat_signal': cls.keystone.heat_signal_options(
                    **heat_signal),
            })
            cls.server.setUp()
        except Exception:
            cls.keystone.cleanUp()
            raise
        cls.keystone.register_orchestration(
            'http://127.0.0.1:%d/v1/%%(tenant_id)s' % cls.server.port)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanUp()
        cls.keystone.cleanUp()
        super().tearDownClass()

    def stack_project_id(self):
        [project] = self.keystone.admin_client.projects.list(
            domain=self.keystone.stack_user_domain_id,
            name='heat_deploy-' + self.project_id)
        return project.id

    def deploy(self):
        deployment = self.request('POST', '/software_deployments', json={
            'config_id': self.source['id'], 'server_id': self.server_id,
            'input_values': {'foo': 'world',
                             'deploy_signal_transport': 'HEAT_SIGNAL'}})
        return deployment['software_deployment']

    def inputs(self, config):
        return {item['name']: item.get('value') for item in config['inputs']}

    def metadata_url(self):
        settings = self.request('GET', '/servers/%s/os-collect-config'
                                % self.server_id)
        return settings['os-collect-config']['request']['metadata_url']

    def keystone_user(self, deployment_id):
        return self.keystone.admin_client.users.list(
            domain=self.keystone.stack_user_domain_id,
            name='hd-' + deployment_id)

    def test_deployment_gets_its_own_keystone_user(self):
        deployment = self.deploy()
        self.assertEqual('IN_PROGRESS', deployment['status'])
        derived = self.request('GET', '/software_configs/'
                               + deployment['config_id'])['software_config']
        inputs = self.inputs(derived)
        [user] = self.keystone_user(deployment['id'])
        self.assertEqual(user.id, inputs['deploy_user_id'])
        self.assertEqual(self.keystone.endpoint + '/v3',
                         inputs['deploy_auth_url'])
        self.assertEqual(self.stack_project_id(),
                         inputs['deploy_project_id'])
        self.assertEqual(keystone.REGION, inputs['deploy_region_name'])
        self.assertEqual('software_deployments/' + deployment['id'],
                         inputs['deploy_stack_id'])
        # The password is for the server only.
        self.assertEqual('***', inputs['deploy_password'])
        metadata = self.request('GET', '/software_deployments/metadata/'
                                + self.server_id)['metadata']
        self.assertEqual('***', self.inputs(metadata[0])['deploy_password'])
        # The stack user project may see the deployment, as in Heat.
        self.request('DELETE', '/software_deployments/' + deployment['id'],
                     status=204)
        self.assertEqual([], self.keystone_user(deployment['id']))

    def test_password_reaches_the_server_encrypted_at_rest(self):
        deployment = self.deploy()
        document = requests.get(self.metadata_url(), timeout=30).json()
        password = self.inputs(document['deployments'][0])['deploy_password']
        self.assertNotEqual('***', password)
        # It is the user's real password.
        auth = v3.Password(auth_url=self.keystone.auth_url,
                           user_id=self.keystone_user(deployment['id'])[0].id,
                           password=password,
                           project_id=self.stack_project_id())
        self.assertTrue(ks_session.Session(auth=auth).get_token())
        engine = sa.create_engine(db_fixture.shared_migrated_database())
        self.addCleanup(engine.dispose)
        with engine.connect() as connection:
            stored = connection.execute(sa.text(
                'SELECT config FROM software_config WHERE id = :id'),
                {'id': deployment['config_id']}).scalar()
        self.assertIn('deploy_password', stored)
        self.assertNotIn(password, stored)

    def test_unmodified_agent_signals_through_keystone(self):
        if not os.environ.get(agents.HEAT_AGENTS_SRC_ENV):
            self.skipTest('%s is not set; tox sets it'
                          % agents.HEAT_AGENTS_SRC_ENV)
        deployment = self.deploy()
        sandbox = self.useFixture(agents.AgentSandbox())
        url = self.metadata_url()
        run = sandbox.run_once(url)
        self.assertEqual(0, run.returncode, run)
        shown = self.request('GET', '/software_deployments/'
                             + deployment['id'])['software_deployment']
        self.assertEqual('COMPLETE', shown['status'], run)
        self.assertEqual('Outputs received', shown['status_reason'])
        self.assertEqual('hello world\n',
                         shown['output_values']['deploy_stdout'])
        self.assertEqual('done', shown['output_values']['result'])
        password = self.inputs(requests.get(url, timeout=30).json()[
            'deployments'][0])['deploy_password']
        self.assertNotIn(password, self.server.log())

    def test_a_stack_user_signals_only_its_own_deployment(self):
        mine, other = self.deploy(), self.deploy()
        token, stack_project = self._login_as_server(mine)
        signal = ('%s/v1/%s/stacks/software_deployments/%%s/resources/'
                  'deployment/signal' % (self.server.url, stack_project))
        resp = requests.post(signal % other['id'], json={},
                             headers={'X-Auth-Token': token}, timeout=30)
        self.assertEqual(404, resp.status_code, resp.text)
        resp = requests.post(signal % mine['id'],
                             json={'deploy_status_code': 0},
                             headers={'X-Auth-Token': token}, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('applied', resp.json()['signal'])
        # The stack user cannot list or show through the normal API.
        resp = requests.get('%s/v1/%s/software_deployments/%s' % (
            self.server.url, stack_project, mine['id']),
            headers={'X-Auth-Token': token}, timeout=30)
        self.assertEqual(403, resp.status_code, resp.text)

    def _login_as_server(self, deployment):
        """The deployment's own credentials, as its server gets them."""
        document = requests.get(self.metadata_url(), timeout=30).json()
        config = [item for item in document['deployments']
                  if item['id'] == deployment['config_id']][0]
        inputs = self.inputs(config)
        auth = v3.Password(auth_url=inputs['deploy_auth_url'],
                           user_id=inputs['deploy_user_id'],
                           password=inputs['deploy_password'],
                           project_id=inputs['deploy_project_id'])
        return (ks_session.Session(auth=auth).get_token(),
                inputs['deploy_project_id'])

    def _credentials(self, deployment):
        """The inputs of the deployment's current config, as its server
        gets them through the metadata URL (password in clear).
        """
        document = requests.get(self.metadata_url(), timeout=30).json()
        [config] = [item for item in document['deployments']
                    if item['id'] == deployment['config_id']]
        return self.inputs(config)

    @staticmethod
    def _token(inputs):
        auth = v3.Password(auth_url=inputs['deploy_auth_url'],
                           user_id=inputs['deploy_user_id'],
                           password=inputs['deploy_password'],
                           project_id=inputs['deploy_project_id'])
        return ks_session.Session(auth=auth).get_token()

    def _resource_signal(self, inputs, token, body):
        return requests.post(
            '%s/v1/%s/stacks/%s/resources/%s/signal'
            % (self.server.url, inputs['deploy_project_id'],
               inputs['deploy_stack_id'], inputs['deploy_resource_name']),
            json=body, headers={'X-Auth-Token': token}, timeout=30)

    def test_rerun_gives_the_new_attempt_new_credentials(self):
        deployment = self.deploy()
        old = self._credentials(deployment)
        # A token of the first attempt's server, not yet used here (so in
        # no token cache of heat_deploy's).
        old_token = self._token(old)

        rerun = self.request(
            'POST', '/software_deployments/%s/actions' % deployment['id'],
            json={'rerun': {}})['software_deployment']
        # The new password revoked the user's tokens. Keystone's revocation
        # events are accurate to the second only: a token issued in the
        # second of the change counts as revoked too (tempest waits as
        # well). Keystone runs on this host, with this clock.
        revoked_in = int(time.time())
        self.assertEqual(deployment['id'], rerun['id'])
        self.assertNotEqual(deployment['config_id'], rerun['config_id'])
        self.assertEqual(('IN_PROGRESS', 'Deploy data available'),
                         (rerun['status'], rerun['status_reason']))
        # The first attempt's derived config went with it; the new one
        # holds the password for the server only, as the first did.
        self.request('GET', '/software_configs/' + deployment['config_id'],
                     status=404)
        derived = self.request('GET', '/software_configs/'
                               + rerun['config_id'])['software_config']
        self.assertEqual('***', self.inputs(derived)['deploy_password'])

        new = self._credentials(rerun)
        # The same Keystone user, with a new password.
        self.assertEqual(old['deploy_user_id'], new['deploy_user_id'])
        self.assertNotEqual(old['deploy_password'], new['deploy_password'])
        # The first attempt's server can no longer log in, and the token
        # it had is revoked with its password: it cannot signal.
        self.assertRaises(ks_exc.Unauthorized, self._token, old)
        resp = self._resource_signal(old, old_token,
                                     {'deploy_status_code': 0})
        self.assertEqual(401, resp.status_code, resp.text)
        shown = self.request('GET', '/software_deployments/'
                             + deployment['id'])['software_deployment']
        self.assertEqual('IN_PROGRESS', shown['status'])

        # The new attempt's credentials signal it.
        while int(time.time()) <= revoked_in:
            time.sleep(0.1)
        resp = self._resource_signal(
            new, self._token(new),
            {'deploy_status_code': 0, 'deploy_stdout': 'ran again',
             'deploy_stderr': ''})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('applied', resp.json()['signal'])
        shown = self.request('GET', '/software_deployments/'
                             + deployment['id'])['software_deployment']
        self.assertEqual(('COMPLETE', 'Outputs received'),
                         (shown['status'], shown['status_reason']))
        self.assertEqual('ran again',
                         shown['output_values']['deploy_stdout'])
        attempts = self.request('GET', '/software_deployments/%s/attempts'
                                % deployment['id'])['attempts']
        self.assertEqual(
            [(2, rerun['config_id'], 'COMPLETE'),
             (1, deployment['config_id'], 'FAILED')],
            [(a['number'], a['config_id'], a['status'])
             for a in attempts])
        self.assertEqual('Superseded by attempt 2.',
                         attempts[1]['status_reason'])

    def test_servers_of_one_tenant_cannot_read_another_tenants(self):
        a_server = self.server_id
        self.deploy()
        self.use_project('b_member')
        b_deployment = self.deploy()
        token, b_stack_project = self._login_as_server(b_deployment)
        metadata = requests.get(
            '%s/v1/%s/software_deployments/metadata/%s'
            % (self.server.url, b_stack_project, a_server),
            headers={'X-Auth-Token': token}, timeout=30)
        self.assertEqual(200, metadata.status_code, metadata.text)
        self.assertEqual([], metadata.json()['metadata'])


class TestHeatSignalWithAnotherStackUserRole(TestHeatSignal):
    """[heat_signal] stack_user_role is the role everywhere: Keystone
    grants, policy defaults and what a stack user may see and signal.
    """

    stack_user_role = 'deployment_agent'

    test_deployment_gets_its_own_keystone_user = None
    test_password_reaches_the_server_encrypted_at_rest = None
    test_servers_of_one_tenant_cannot_read_another_tenants = None
