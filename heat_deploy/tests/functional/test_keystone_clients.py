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

"""The real clients through a real Keystone, as a cloud's users run them.

python-heatclient, openstacksdk and the ``openstack`` CLI log in with a
password and find heat_deploy through the catalog (service type
``orchestration``, endpoint ``http://HOST:PORT/v1/%(tenant_id)s``): no
endpoint override, no admin_token. Each completes a config and deployment
lifecycle as project A's member; a reader is refused what only members may
do. heat_deploy runs under gunicorn with ``[api] auth_strategy = keystone``
(see doc/source/keystone.rst).
"""

import os
import uuid

import fixtures
from heatclient import client as heat_client
from heatclient import exc as heat_exc
import openstack
from openstack import exceptions as sdk_exc
import testtools
from testtools import content
import yaml

from heat_deploy.tests.functional.fixtures import cli
from heat_deploy.tests.functional.fixtures import keystone as keystone_fixture
from heat_deploy.tests.functional.fixtures import service

SCRIPT = '#!/bin/sh\necho "deployed $foo"\n'
INPUTS = [{'name': 'foo', 'type': 'String', 'default': 'bar'}]
OUTPUTS = [{'name': 'result', 'type': 'String', 'error_output': False}]
AGENT_OUTPUTS = {'deploy_stdout': 'deployed fooooo\n', 'deploy_stderr': '',
                 'deploy_status_code': 0, 'result': 'fooooo'}


class TestClientsThroughKeystone(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keystone = keystone_fixture.start_shared()
        cls.addClassCleanup(cls.keystone.cleanUp)
        cls.server = service.RunningServer(sections={
            'api': {'auth_strategy': 'keystone'},
            'keystone_authtoken': cls.keystone.auth_token_options(),
        })
        cls.server.setUp()
        cls.addClassCleanup(cls.server.cleanUp)
        cls.keystone.register_orchestration(
            'http://127.0.0.1:%d/v1/%%(tenant_id)s' % cls.server.port)

    def setUp(self):
        super().setUp()
        self.addOnException(self._attach_server_log)

    def _attach_server_log(self, exc_info):
        self.addDetail('heat-deploy-log',
                       content.text_content(self.server.log()))

    def heat(self, user):
        """heatclient with a keystoneauth session: endpoint from the
        catalog.
        """
        return heat_client.Client('1', session=self.keystone.session_for(user))

    def test_heatclient_finds_heat_deploy_in_the_catalog(self):
        hc = self.heat('a_member')
        self.assertEqual(
            '%s/v1/%s' % (self.server.url, self.keystone.project_a_id),
            self.keystone.session_for('a_member').get_endpoint(
                service_type='orchestration', interface='public'))
        server_id = str(uuid.uuid4())

        config = hc.software_configs.create(
            name='10-hc', group='script', config=SCRIPT, inputs=INPUTS,
            outputs=OUTPUTS)
        self.assertEqual(config.to_dict(),
                         hc.software_configs.get(config.id).to_dict())
        self.assertIn(config.id,
                      [c.id for c in hc.software_configs.list()])

        deployment = hc.software_deployments.create(
            config_id=config.id, server_id=server_id,
            input_values={'foo': 'fooooo'}, action='CREATE',
            status='IN_PROGRESS', status_reason='Deploy data available')
        shown = hc.software_deployments.get(deployment.id)
        self.assertEqual('IN_PROGRESS', shown.status)
        self.assertEqual(
            [deployment.id],
            [d.id for d in hc.software_deployments.list(
                server_id=server_id)])
        metadata = hc.software_deployments.metadata(server_id=server_id)
        self.assertEqual([config.id], [c['id'] for c in metadata])
        self.assertEqual(SCRIPT, metadata[0]['config'])

        updated = hc.software_deployments.update(
            deployment.id, status='COMPLETE', output_values=AGENT_OUTPUTS,
            status_reason='Outputs received')
        self.assertEqual('COMPLETE', updated.status)
        self.assertEqual(AGENT_OUTPUTS, hc.software_deployments.get(
            deployment.id).output_values)

        # A reader reads, and may not change anything.
        reader = self.heat('a_reader')
        self.assertEqual(deployment.id,
                         reader.software_deployments.get(deployment.id).id)
        self.assertRaises(heat_exc.HTTPForbidden,
                          reader.software_deployments.delete, deployment.id)
        self.assertRaises(heat_exc.HTTPForbidden,
                          reader.software_configs.create, config='x')
        # Project B's member, in its own project, sees none of it.
        other = self.heat('b_member')
        self.assertRaises(heat_exc.HTTPNotFound,
                          other.software_deployments.get, deployment.id)
        self.assertEqual([], other.software_deployments.metadata(
            server_id=server_id))

        hc.software_deployments.delete(deployment.id)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_deployments.get, deployment.id)
        hc.software_configs.delete(config.id)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_configs.get, config.id)

    def test_openstacksdk_with_a_password(self):
        k = self.keystone
        conn = openstack.connect(
            auth_url=k.auth_url, username='a_member',
            password=k.passwords['a_member'], project_name='project_a',
            user_domain_name='Default', project_domain_name='Default',
            region_name=k.region, load_yaml_config=False,
            load_envvars=False)
        self.addCleanup(conn.close)
        orchestration = conn.orchestration
        server_id = str(uuid.uuid4())

        config = orchestration.create_software_config(
            name='10-sdk', group='script', config=SCRIPT, inputs=INPUTS,
            outputs=OUTPUTS)
        self.assertEqual(config.to_dict(), orchestration.get_software_config(
            config.id).to_dict())
        self.assertIn(config.id,
                      [c.id for c in orchestration.software_configs()])

        deployment = orchestration.create_software_deployment(
            config_id=config.id, server_id=server_id,
            input_values={'foo': 'fooooo'}, action='CREATE',
            status='IN_PROGRESS', status_reason='Deploy data available')
        self.assertEqual(deployment.to_dict(),
                         orchestration.get_software_deployment(
                             deployment.id).to_dict())
        self.assertEqual(
            [deployment.id],
            [d.id for d in orchestration.software_deployments(
                server_id=server_id)])

        orchestration.update_software_deployment(
            deployment, status='COMPLETE', output_values=AGENT_OUTPUTS,
            status_reason='Outputs received')
        fetched = orchestration.get_software_deployment(deployment.id)
        self.assertEqual('COMPLETE', fetched.status)
        self.assertEqual(AGENT_OUTPUTS, fetched.output_values)

        # The SDK has no metadata call: the session of the connection
        # reaches the same endpoint through the catalog.
        metadata = orchestration.get(
            '/software_deployments/metadata/%s' % server_id).json()
        self.assertEqual([config.id],
                         [c['id'] for c in metadata['metadata']])

        orchestration.delete_software_deployment(deployment.id)
        self.assertRaises(sdk_exc.NotFoundException,
                          orchestration.get_software_deployment,
                          deployment.id)
        orchestration.delete_software_config(config.id)
        self.assertRaises(sdk_exc.NotFoundException,
                          orchestration.get_software_config, config.id)

    # The openstack CLI.

    def _auth_args(self, user):
        k = self.keystone
        return ['--os-auth-url', k.auth_url,
                '--os-identity-api-version', '3',
                '--os-username', user, '--os-password', k.passwords[user],
                '--os-project-name', 'project_a',
                '--os-user-domain-name', 'Default',
                '--os-project-domain-name', 'Default',
                '--os-region-name', k.region]

    def cli(self, user, *args, expect_failure=False):
        """``openstack ARGS`` as a user, logging in with its password."""
        return cli.openstack(self, self._auth_args(user), *args,
                             expect_failure=expect_failure)

    def cli_json(self, user, *args):
        return cli.openstack_json(self, self._auth_args(user), *args)

    def test_openstack_cli_with_a_password(self):
        directory = self.useFixture(fixtures.TempDir()).path
        script = os.path.join(directory, 'script.sh')
        with open(script, 'w') as out:
            out.write(SCRIPT)
        definition = os.path.join(directory, 'definition.yaml')
        with open(definition, 'w') as out:
            yaml.safe_dump({'inputs': INPUTS, 'outputs': OUTPUTS}, out)
        server_id = str(uuid.uuid4())

        # POSTs the config as a template to /validate first.
        config = self.cli_json(
            'a_member', 'software', 'config', 'create', '--config-file',
            script, '--definition-file', definition, '--group', 'script',
            '-f', 'json', 'cli-source')
        self.assertEqual(SCRIPT, config['config'])
        listed = self.cli_json('a_member', 'software', 'config', 'list',
                               '-f', 'json')
        self.assertIn(config['id'], [c['id'] for c in listed])

        # Derives a config on the client, then creates the deployment.
        deployment = self.cli_json(
            'a_member', 'software', 'deployment', 'create', '--config',
            config['id'], '--server', server_id, '--signal-transport',
            'NO_SIGNAL', '--input-value', 'foo=fooooo', '-f', 'json',
            '10-cli')
        self.assertEqual(server_id, deployment['server_id'])
        shown = self.cli_json('a_member', 'software', 'deployment', 'show',
                              '-f', 'json', deployment['id'])
        self.assertEqual(deployment['config_id'], shown['config_id'])
        listed = self.cli_json('a_member', 'software', 'deployment', 'list',
                               '--server', server_id, '-f', 'json')
        self.assertEqual([deployment['id']], [d['id'] for d in listed])
        # A reader runs the read-only commands too.
        metadata = self.cli_json('a_reader', 'software', 'deployment',
                                 'metadata', 'show', server_id)
        self.assertEqual([deployment['config_id']],
                         [c['id'] for c in metadata])
        self.assertEqual('10-cli', metadata[0]['name'])
        # (The CLI prints no reason; heatclient got a 403.)
        output = self.cli('a_reader', 'software', 'deployment', 'delete',
                          deployment['id'], expect_failure=True)
        self.assertIn('failed to delete', output)
        self.assertEqual(deployment['id'], self.heat(
            'a_member').software_deployments.get(deployment['id']).id)

        # The CLI has no deployment update: heatclient reports outputs as
        # an agent's caller would, with the same catalog lookup.
        self.heat('a_member').software_deployments.update(
            deployment['id'], status='COMPLETE',
            output_values=AGENT_OUTPUTS, status_reason='Outputs received')
        output = self.cli('a_member', 'software', 'deployment', 'output',
                          'show', deployment['id'], '--all')
        self.assertIn('  result: fooooo\n', output)

        # Deletes the deployment and its derived config.
        self.assertEqual('', self.cli('a_member', 'software', 'deployment',
                                      'delete', deployment['id']))
        output = self.cli('a_member', 'software', 'deployment', 'show',
                          deployment['id'], expect_failure=True)
        self.assertIn('Software Deployment not found', output)
        self.assertEqual('', self.cli('a_member', 'software', 'config',
                                      'delete', config['id']))
        output = self.cli('a_member', 'software', 'config', 'show',
                          config['id'], expect_failure=True)
        self.assertIn('Configuration not found', output)
