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

"""The real, unmodified OpenStack clients against heat_deploy.

python-heatclient, openstacksdk and the ``openstack`` CLI are pointed at a
heat_deploy running under gunicorn (noauth) exactly as a user points them at
Heat (see clients-and-agents.md). Each test class shares one server; each
test works in its own project, so tests depend neither on each other nor on
their order.
"""

import itertools
import os
import re
import uuid

import fixtures
from heatclient import client as heat_client
from heatclient import exc as heat_exc
import openstack
from openstack import exceptions as sdk_exc
import requests
import testtools
from testtools import content
import yaml

from heat_deploy.tests.functional.fixtures import cli
from heat_deploy.tests.functional.fixtures import service

# Heat's timestamp format: no fractional seconds, a literal Z.
TIMESTAMP = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
CONFIG_KEYS = {'id', 'name', 'group', 'config', 'inputs', 'outputs',
               'options', 'creation_time'}
CONFIG_SUMMARY_KEYS = {'id', 'name', 'group', 'creation_time'}
DEPLOYMENT_KEYS = {'id', 'config_id', 'server_id', 'input_values',
                   'output_values', 'action', 'status', 'status_reason',
                   'creation_time', 'timeout', 'delivery_timeout',
                   'deadline_time', 'delivered_time'}

SCRIPT = '#!/bin/sh\necho "Writing to /tmp/$bar"\necho $foo > /tmp/$bar\n'
INPUTS = [
    {'name': 'foo', 'description': 'what to write'},
    {'name': 'bar', 'type': 'String', 'default': 'baaaaa'},
]
OUTPUTS = [{'name': 'result', 'description': 'what was written'}]
OPTIONS = {'timeout': 300}
# What Heat stores and returns for INPUTS and OUTPUTS: a type is always
# there, and outputs always say whether they are error outputs.
NORMALISED_INPUTS = [
    {'name': 'foo', 'description': 'what to write', 'type': 'String'},
    {'name': 'bar', 'type': 'String', 'default': 'baaaaa'},
]
NORMALISED_OUTPUTS = [{'name': 'result', 'description': 'what was written',
                       'type': 'String', 'error_output': False}]

# The script hook's outputs, as in the issue that reported the update bug.
AGENT_OUTPUTS = {
    'deploy_stdout': 'Writing to /tmp/baaaaa\nWritten to /tmp/baaaaa\n',
    'deploy_stderr': '+ echo Writing to /tmp/baaaaa\n...',
    'deploy_status_code': 0,
    'result': 'The file /tmp/baaaaa contains fooooo for server ... during '
              'CREATE',
}


class ServerTestCase(testtools.TestCase):
    """One heat_deploy under gunicorn per class; one project per test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Starting gunicorn costs about a second: share it in the class.
        cls.server = service.RunningServer()
        cls.server.setUp()
        cls.addClassCleanup(cls.server.cleanUp)

    def setUp(self):
        super().setUp()
        self.tenant = uuid.uuid4().hex
        self.endpoint = self.server.endpoint(self.tenant)
        # A client error message rarely says why; the server's log does.
        self.addOnException(self._attach_server_log)

    def _attach_server_log(self, exc_info):
        self.addDetail('gunicorn-log',
                       content.text_content(self.server.log()))

    def heat(self, token='t'):
        """python-heatclient as documented: an endpoint and a token."""
        return heat_client.Client('1', endpoint=self.endpoint, token=token)

    def assertTimestamp(self, value):
        self.assertIsNotNone(value)
        self.assertRegex(value, TIMESTAMP)


class TestHeatclient(ServerTestCase):
    """python-heatclient 5.3 (``heatclient.client.Client('1', ...)``)."""

    def _config(self, hc, name='a-config', **kwargs):
        fields = dict(name=name, group='script', config=SCRIPT,
                      inputs=INPUTS, outputs=OUTPUTS, options=OPTIONS)
        fields.update(kwargs)
        return hc.software_configs.create(**fields)

    def test_script_config_create_and_get_return_full_config(self):
        hc = self.heat()
        created = self._config(hc).to_dict()

        self.assertEqual(CONFIG_KEYS, set(created))
        uuid.UUID(created['id'])
        self.assertEqual('a-config', created['name'])
        self.assertEqual('script', created['group'])
        self.assertEqual(SCRIPT, created['config'])
        self.assertEqual(NORMALISED_INPUTS, created['inputs'])
        self.assertEqual(NORMALISED_OUTPUTS, created['outputs'])
        self.assertEqual(OPTIONS, created['options'])
        self.assertTimestamp(created['creation_time'])
        self.assertEqual(created,
                         hc.software_configs.get(created['id']).to_dict())

    def test_structured_config_keeps_json_config(self):
        hc = self.heat()
        structured = {'foo': [1, {'bar': 'baz'}], 'flag': True, 'none': None,
                      'nested': {'get_input': 'foo'}}
        created = hc.software_configs.create(
            name='structured', group='Heat::Ungrouped', config=structured)

        self.assertEqual(structured, created.config)
        fetched = hc.software_configs.get(created.id).to_dict()
        self.assertEqual(structured, fetched['config'])
        # Absent inputs/outputs/options come back empty, not null.
        self.assertEqual([], fetched['inputs'])
        self.assertEqual([], fetched['outputs'])
        self.assertEqual({}, fetched['options'])

    def test_config_list_is_newest_first_summary_paged_by_limit_marker(self):
        hc = self.heat()
        ids = [self._config(hc, name='config-%d' % i).id for i in range(3)]
        newest_first = ids[::-1]

        listed = hc.software_configs.list()
        self.assertEqual(newest_first, [c.id for c in listed])
        for config in listed:
            self.assertEqual(CONFIG_SUMMARY_KEYS, set(config.to_dict()))
            self.assertTimestamp(config.creation_time)

        self.assertEqual(newest_first[:1],
                         [c.id for c in hc.software_configs.list(limit=1)])
        self.assertEqual(
            newest_first[1:2],
            [c.id for c in hc.software_configs.list(
                limit=1, marker=newest_first[0])])
        self.assertEqual(
            newest_first[2:],
            [c.id for c in hc.software_configs.list(
                limit=2, marker=newest_first[1])])
        self.assertEqual(
            [], hc.software_configs.list(marker=newest_first[2]))

    def test_config_delete_then_get_and_delete_raise_not_found(self):
        hc = self.heat()
        config_id = self._config(hc).id

        hc.software_configs.delete(config_id)

        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_configs.get, config_id)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_configs.delete, config_id)
        self.assertEqual([], hc.software_configs.list())

    def test_deployment_create_get_list_and_metadata(self):
        hc = self.heat()
        server_id = str(uuid.uuid4())
        config_b = self._config(hc, name='02-b').to_dict()
        config_a = self._config(hc, name='01-a').to_dict()

        first = hc.software_deployments.create(
            config_id=config_b['id'], server_id=server_id,
            input_values={'foo': 'fooooo'}, action='CREATE',
            status='IN_PROGRESS', status_reason='Deploy data available'
        ).to_dict()

        # No updated_time until the deployment is updated.
        self.assertEqual(DEPLOYMENT_KEYS, set(first))
        uuid.UUID(first['id'])
        self.assertEqual(config_b['id'], first['config_id'])
        self.assertEqual(server_id, first['server_id'])
        self.assertEqual({'foo': 'fooooo'}, first['input_values'])
        self.assertIsNone(first['output_values'])
        self.assertEqual('CREATE', first['action'])
        self.assertEqual('IN_PROGRESS', first['status'])
        self.assertEqual('Deploy data available', first['status_reason'])
        self.assertTimestamp(first['creation_time'])
        self.assertEqual(
            first, hc.software_deployments.get(first['id']).to_dict())

        second = hc.software_deployments.create(
            config_id=config_a['id'], server_id=server_id, action='CREATE',
            status='COMPLETE', status_reason='').to_dict()
        elsewhere = hc.software_deployments.create(
            config_id=config_a['id'], server_id=str(uuid.uuid4()),
            action='CREATE', status='COMPLETE').to_dict()

        # Deployments are listed oldest first.
        self.assertEqual(
            [first, second],
            [d.to_dict() for d in
             hc.software_deployments.list(server_id=server_id)])
        self.assertEqual(
            [first['id'], second['id'], elsewhere['id']],
            [d.id for d in hc.software_deployments.list()])

        # The metadata is the server's full configs, sorted by config name.
        self.assertEqual([config_a, config_b],
                         hc.software_deployments.metadata(server_id=server_id))
        self.assertEqual(
            [], hc.software_deployments.metadata(server_id='no-such-server'))

    def test_deployment_update_with_agent_outputs_round_trips(self):
        hc = self.heat()
        config_id = self._config(hc).id
        server_id = str(uuid.uuid4())
        deployment = hc.software_deployments.create(
            config_id=config_id, server_id=server_id,
            input_values={'foo': 'fooooo'}, action='CREATE',
            status='IN_PROGRESS', status_reason='Deploy data available')

        # The exact call from the issue.
        updated = hc.software_deployments.update(
            deployment.id, status='COMPLETE', output_values={
                'deploy_stdout':
                    'Writing to /tmp/baaaaa\nWritten to /tmp/baaaaa\n',
                'deploy_stderr': '+ echo Writing to /tmp/baaaaa\n...',
                'deploy_status_code': 0,
                'result': 'The file /tmp/baaaaa contains fooooo for server '
                          '... during CREATE'},
            status_reason='Outputs received').to_dict()

        fetched = hc.software_deployments.get(deployment.id).to_dict()
        self.assertEqual(updated, fetched)
        self.assertEqual(DEPLOYMENT_KEYS | {'updated_time'}, set(fetched))
        self.assertEqual(AGENT_OUTPUTS, fetched['output_values'])
        self.assertEqual('COMPLETE', fetched['status'])
        self.assertEqual('Outputs received', fetched['status_reason'])
        self.assertTimestamp(fetched['updated_time'])
        # Fields the update did not name are unchanged.
        self.assertEqual(config_id, fetched['config_id'])
        self.assertEqual(server_id, fetched['server_id'])
        self.assertEqual({'foo': 'fooooo'}, fetched['input_values'])
        self.assertEqual('CREATE', fetched['action'])
        self.assertEqual(deployment.creation_time, fetched['creation_time'])

    def test_deployment_delete_then_not_found_and_config_kept(self):
        hc = self.heat()
        config_id = self._config(hc).id
        server_id = str(uuid.uuid4())
        deployment_id = hc.software_deployments.create(
            config_id=config_id, server_id=server_id, action='CREATE',
            status='COMPLETE').id

        hc.software_deployments.delete(deployment_id)

        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_deployments.get, deployment_id)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_deployments.delete, deployment_id)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_deployments.update, deployment_id,
                          status='COMPLETE')
        self.assertEqual(
            [], hc.software_deployments.list(server_id=server_id))
        self.assertEqual(
            [], hc.software_deployments.metadata(server_id=server_id))
        # Heat never deletes the deployment's config with it; now that
        # nothing references it, it can be deleted.
        hc.software_configs.get(config_id)
        hc.software_configs.delete(config_id)

    def test_unknown_ids_raise_not_found(self):
        hc = self.heat()
        unknown = str(uuid.uuid4())
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_configs.get, unknown)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_configs.delete, unknown)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_deployments.get, unknown)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_deployments.delete, unknown)

    def test_missing_token_raises_unauthorized(self):
        # Without a session, heatclient sends no X-Auth-Token header at all
        # when it has no token.
        no_token = heat_client.Client('1', endpoint=self.endpoint)
        self.assertRaises(heat_exc.HTTPUnauthorized,
                          no_token.software_configs.list)
        hc = self.heat(token='')
        self.assertRaises(heat_exc.HTTPUnauthorized,
                          hc.software_configs.list)
        self.assertRaises(heat_exc.HTTPUnauthorized,
                          hc.software_configs.create, name='x',
                          group='script', config='')
        self.assertRaises(heat_exc.HTTPUnauthorized,
                          hc.software_deployments.list)
        # And nothing was created by the refused call.
        self.assertEqual([], self.heat().software_configs.list())


class TestOpenstackSDK(ServerTestCase):
    """openstacksdk 4.22 (``conn.orchestration``)."""

    def setUp(self):
        super().setUp()
        conn = openstack.connect(
            auth_type='admin_token',
            auth={'endpoint': self.endpoint, 'token': 't'},
            load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        self.orchestration = conn.orchestration

    def _config(self, name='sdk-config', **kwargs):
        fields = dict(name=name, group='script', config=SCRIPT,
                      inputs=INPUTS, outputs=OUTPUTS, options=OPTIONS)
        fields.update(kwargs)
        return self.orchestration.create_software_config(**fields)

    def test_config_create_get_and_delete(self):
        created = self._config()

        uuid.UUID(created.id)
        self.assertEqual('sdk-config', created.name)
        self.assertEqual('script', created.group)
        self.assertEqual(SCRIPT, created.config)
        self.assertEqual(NORMALISED_INPUTS, created.inputs)
        self.assertEqual(NORMALISED_OUTPUTS, created.outputs)
        self.assertEqual(OPTIONS, created.options)
        self.assertTimestamp(created.created_at)

        fetched = self.orchestration.get_software_config(created.id)
        self.assertEqual(created.to_dict(), fetched.to_dict())

        self.assertIsNone(self.orchestration.delete_software_config(created))
        self.assertRaises(sdk_exc.NotFoundException,
                          self.orchestration.get_software_config, created.id)
        self.assertRaises(sdk_exc.NotFoundException,
                          self.orchestration.delete_software_config,
                          created.id, ignore_missing=False)
        # ignore_missing (the default) swallows the 404.
        self.assertIsNone(
            self.orchestration.delete_software_config(created.id))

    def test_config_generator_pages_through_all_configs_newest_first(self):
        ids = [self._config(name='config-%d' % i).id for i in range(5)]
        newest_first = ids[::-1]

        # With a limit the SDK pages with limit/marker until a page comes
        # back empty. islice bounds the generator: a service that ignored
        # the marker would repeat pages instead of ending.
        for limit in (1, 2, 5):
            paged = list(itertools.islice(
                self.orchestration.software_configs(limit=limit), 11))
            self.assertEqual(newest_first, [c.id for c in paged],
                             'limit=%d' % limit)
        # Without a limit, one request returns everything.
        listed = list(itertools.islice(
            self.orchestration.software_configs(), 11))
        self.assertEqual(newest_first, [c.id for c in listed])
        self.assertEqual(['config-%d' % i for i in range(4, -1, -1)],
                         [c.name for c in listed])

    def test_deployment_create_get_list_update_and_delete(self):
        config = self._config()
        server_id = str(uuid.uuid4())

        created = self.orchestration.create_software_deployment(
            config_id=config.id, server_id=server_id,
            input_values={'foo': 'fooooo'}, action='CREATE',
            status='IN_PROGRESS', status_reason='Deploy data available')
        uuid.UUID(created.id)
        self.assertEqual(config.id, created.config_id)
        self.assertEqual(server_id, created.server_id)
        self.assertEqual({'foo': 'fooooo'}, created.input_values)
        self.assertIsNone(created.output_values)
        self.assertEqual('IN_PROGRESS', created.status)
        self.assertTimestamp(created.created_at)
        self.assertIsNone(created.updated_at)

        fetched = self.orchestration.get_software_deployment(created.id)
        self.assertEqual(created.to_dict(), fetched.to_dict())

        other = self.orchestration.create_software_deployment(
            config_id=config.id, server_id=str(uuid.uuid4()),
            action='CREATE', status='COMPLETE')
        # The SDK filters server_id itself, on the full list it fetched;
        # the heatclient tests cover the service's own filter.
        self.assertEqual(
            [created.id],
            [d.id for d in self.orchestration.software_deployments(
                server_id=server_id)])
        self.assertEqual(
            [created.id, other.id],
            [d.id for d in self.orchestration.software_deployments()])

        updated = self.orchestration.update_software_deployment(
            created, status='COMPLETE', output_values=AGENT_OUTPUTS,
            status_reason='Outputs received')
        self.assertEqual('COMPLETE', updated.status)
        fetched = self.orchestration.get_software_deployment(created.id)
        self.assertEqual(AGENT_OUTPUTS, fetched.output_values)
        self.assertEqual('COMPLETE', fetched.status)
        self.assertEqual('Outputs received', fetched.status_reason)
        self.assertEqual({'foo': 'fooooo'}, fetched.input_values)
        self.assertEqual('CREATE', fetched.action)
        self.assertTimestamp(fetched.updated_at)

        self.assertIsNone(
            self.orchestration.delete_software_deployment(created.id))
        self.assertRaises(sdk_exc.NotFoundException,
                          self.orchestration.get_software_deployment,
                          created.id)
        self.assertRaises(sdk_exc.NotFoundException,
                          self.orchestration.delete_software_deployment,
                          created.id, ignore_missing=False)
        self.assertEqual(
            [], list(self.orchestration.software_deployments(
                server_id=server_id)))


class TestOpenstackCLI(ServerTestCase):
    """The ``openstack`` CLI (python-openstackclient 10.5 + heatclient)."""

    def setUp(self):
        super().setUp()
        self.directory = self.useFixture(fixtures.TempDir()).path

    def _auth_args(self):
        return ['--os-auth-type', 'admin_token', '--os-endpoint',
                self.endpoint, '--os-token', 'cli-token']

    def cli(self, *args, expect_failure=False):
        """Run ``openstack ARGS`` against this project; returns stdout."""
        return cli.openstack(self, self._auth_args(), *args,
                             expect_failure=expect_failure)

    def cli_json(self, *args):
        return cli.openstack_json(self, self._auth_args(), *args)

    def _write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, 'w') as out:
            out.write(text)
        return path

    def test_cli_software_config_lifecycle(self):
        script = self._write('script.sh', SCRIPT)
        definition = self._write('definition.yaml', yaml.safe_dump(
            {'inputs': INPUTS, 'outputs': OUTPUTS, 'options': OPTIONS}))

        # This first POSTs the config as a template to /validate.
        created = self.cli_json(
            'software', 'config', 'create', '--config-file', script,
            '--definition-file', definition, '--group', 'script',
            '-f', 'json', 'cli-config')
        self.assertEqual(CONFIG_KEYS, set(created))
        self.assertEqual('cli-config', created['name'])
        self.assertEqual('script', created['group'])
        self.assertEqual(SCRIPT, created['config'])
        self.assertEqual(NORMALISED_INPUTS, created['inputs'])
        self.assertEqual(NORMALISED_OUTPUTS, created['outputs'])
        self.assertEqual(OPTIONS, created['options'])
        self.assertTimestamp(created['creation_time'])

        shown = self.cli_json('software', 'config', 'show', '-f', 'json',
                              created['id'])
        self.assertEqual(created, shown)

        listed = self.cli_json('software', 'config', 'list', '-f', 'json')
        self.assertEqual(
            [{'id': created['id'], 'name': 'cli-config', 'group': 'script',
              'creation_time': created['creation_time']}], listed)

        self.assertEqual('', self.cli('software', 'config', 'delete',
                                      created['id']))
        # Checked with heatclient: every CLI call costs 1-2 s.
        self.assertRaises(heat_exc.HTTPNotFound,
                          self.heat().software_configs.get, created['id'])

    def test_cli_software_deployment_lifecycle(self):
        hc = self.heat()
        source = hc.software_configs.create(
            name='source', group='script', config=SCRIPT, inputs=INPUTS,
            outputs=OUTPUTS, options=OPTIONS)
        server_id = str(uuid.uuid4())

        # The CLI derives a config from the source on the client, then
        # creates the deployment IN_PROGRESS with it.
        created = self.cli_json(
            'software', 'deployment', 'create', '--config', source.id,
            '--server', server_id, '--signal-transport', 'NO_SIGNAL',
            '--input-value', 'foo=fooooo', '-f', 'json', '10-deploy')
        self.assertEqual(server_id, created['server_id'])
        self.assertEqual('UPDATE', created['action'])
        self.assertEqual('IN_PROGRESS', created['status'])
        self.assertNotEqual(source.id, created['config_id'])
        deployment_id = created['id']
        derived_id = created['config_id']

        shown = self.cli_json('software', 'deployment', 'show', '-f', 'json',
                              deployment_id)
        self.assertEqual(deployment_id, shown['id'])
        self.assertEqual(derived_id, shown['config_id'])
        self.assertEqual(server_id, shown['server_id'])
        self.assertEqual('IN_PROGRESS', shown['status'])
        self.assertEqual('UPDATE', shown['action'])
        self.assertEqual({}, shown['input_values'])
        self.assertTimestamp(shown['creation_time'])

        listed = self.cli_json('software', 'deployment', 'list',
                               '--server', server_id, '-f', 'json')
        self.assertEqual(
            [{'id': deployment_id, 'config_id': derived_id,
              'server_id': server_id, 'action': 'UPDATE',
              'status': 'IN_PROGRESS'}], listed)

        # "metadata show" always prints JSON (it has no -f option).
        metadata = self.cli_json('software', 'deployment', 'metadata',
                                 'show', server_id)
        self.assertEqual(1, len(metadata), metadata)
        derived = metadata[0]
        self.assertEqual(derived_id, derived['id'])
        self.assertEqual('10-deploy', derived['name'])
        self.assertEqual('script', derived['group'])
        self.assertEqual(SCRIPT, derived['config'])
        self.assertEqual(NORMALISED_OUTPUTS, derived['outputs'])
        values = {i['name']: i.get('value') for i in derived['inputs']}
        self.assertEqual({'foo': 'fooooo', 'bar': 'baaaaa',
                          'deploy_server_id': server_id,
                          'deploy_action': 'UPDATE',
                          'deploy_signal_transport': 'NO_SIGNAL'}, values)

        # Report the outputs as an agent would, then read them back.
        response = requests.put(
            '%s/software_deployments/%s' % (self.endpoint, deployment_id),
            json={'status': 'COMPLETE', 'status_reason': 'Outputs received',
                  'output_values': AGENT_OUTPUTS},
            headers={'X-Auth-Token': 't'}, timeout=30)
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual('application/json',
                         response.headers['Content-Type'])
        self.assertEqual(
            AGENT_OUTPUTS,
            response.json()['software_deployment']['output_values'])
        output = self.cli('software', 'deployment', 'output', 'show',
                          deployment_id, '--all')
        self.assertIn('output_values:', output)
        self.assertIn('  deploy_stdout: |\n'
                      '    Writing to /tmp/baaaaa\n'
                      '    Written to /tmp/baaaaa\n', output)
        self.assertIn('  deploy_stderr: |\n'
                      '    + echo Writing to /tmp/baaaaa\n'
                      '    ...\n', output)
        self.assertIn('  deploy_status_code: 0\n', output)
        self.assertIn('  result: %s\n' % AGENT_OUTPUTS['result'], output)

        # Deleting the deployment also deletes its derived config; a
        # failure there is only printed, so check stdout and the config.
        self.assertEqual('', self.cli('software', 'deployment', 'delete',
                                      deployment_id))
        output = self.cli('software', 'deployment', 'show', deployment_id,
                          expect_failure=True)
        self.assertIn('Software Deployment not found: %s' % deployment_id,
                      output)
        self.assertRaises(heat_exc.HTTPNotFound,
                          hc.software_configs.get, derived_id)
        self.assertEqual([], hc.software_deployments.list())
        # The source config is the user's and stays.
        self.assertEqual(source.id, hc.software_configs.get(source.id).id)
