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

"""The unmodified in-server agents deploy through heat_deploy, end to end.

os-collect-config polls the server's signed metadata URL, heat-agents'
55-heat-config runs the script hook, and heat-config-notify reports back
through the deployment's transport; no Heat, Swift or Keystone in between.
"""

import os
import uuid

import requests
import testtools

from heat_deploy.tests.functional.fixtures import agents
from heat_deploy.tests.functional.fixtures import service

SCRIPT = '''#!/bin/sh
echo "Writing to /tmp/$foo during $deploy_action"
echo "The file contains $foo for $deploy_server_id during $deploy_action" \
    > ${heat_outputs_path}.result
echo "+ to stderr" >&2
exit ${exit_code:-0}
'''


class TestAgentLoop(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.environ.get(agents.HEAT_AGENTS_SRC_ENV):
            raise cls.skipException(
                '%s is not set; tox sets it (tools/fetch-heat-agents.sh)'
                % agents.HEAT_AGENTS_SRC_ENV)
        cls.server = service.RunningServer()
        cls.server.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.sandbox = self.useFixture(agents.AgentSandbox())
        self.tenant = uuid.uuid4().hex
        self.server_id = str(uuid.uuid4())
        self.base = self.server.endpoint(self.tenant)
        self.session = requests.Session()
        self.session.headers['X-Auth-Token'] = 'user-token'
        self.source = self.post('/software_configs', {
            'name': 'write-file', 'group': 'script', 'config': SCRIPT,
            # The script hook exports inputs as environment variables and
            # accepts only strings (and JSON for lists and maps).
            'inputs': [{'name': 'foo'},
                       {'name': 'exit_code', 'default': '0'}],
            'outputs': [{'name': 'result'}]})['software_config']
        settings = self.session.get(
            '%s/servers/%s/os-collect-config' % (self.base, self.server_id),
            timeout=30).json()['os-collect-config']
        self.metadata_url = settings['request']['metadata_url']

    def post(self, path, body):
        resp = self.session.post(self.base + path, json=body, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def deploy(self, transport, **input_values):
        input_values.setdefault('foo', 'fooooo')
        return self.post('/software_deployments', {
            'config_id': self.source['id'], 'server_id': self.server_id,
            'signal_transport': transport,
            'input_values': input_values})['software_deployment']

    def show(self, deployment):
        return self.session.get(
            '%s/software_deployments/%s' % (self.base, deployment['id']),
            timeout=30).json()['software_deployment']

    def run_agent(self, force=False):
        run = self.sandbox.run_once(self.metadata_url, force=force)
        self.assertEqual(0, run.returncode, run)
        return run

    def assert_completed(self, deployment, action='CREATE'):
        run = self.run_agent()
        shown = self.show(deployment)
        self.assertEqual('COMPLETE', shown['status'], run)
        self.assertEqual('Outputs received', shown['status_reason'])
        outputs = shown['output_values']
        self.assertEqual(0, outputs['deploy_status_code'])
        self.assertEqual('Writing to /tmp/fooooo during %s\n' % action,
                         outputs['deploy_stdout'])
        self.assertIn('+ to stderr', outputs['deploy_stderr'])
        self.assertEqual('The file contains fooooo for %s during %s\n'
                         % (self.server_id, action), outputs['result'])
        return shown, run

    def test_cfn_signal(self):
        self.assert_completed(self.deploy('CFN_SIGNAL'))

    def test_temp_url_signal(self):
        self.assert_completed(self.deploy('TEMP_URL_SIGNAL'))

    def test_no_signal(self):
        deployment = self.deploy('NO_SIGNAL')
        self.assertEqual('COMPLETE', deployment['status'])
        run = self.run_agent()
        # The script ran; nothing was sent back and nothing changed.
        notified = self.sandbox.notify_data(deployment['config_id'])
        self.assertIsNotNone(notified, run)
        self.assertEqual(0, notified['deploy_status_code'])
        self.assertEqual(deployment, self.show(deployment))

    def test_failing_script_fails_with_heats_reason(self):
        deployment = self.deploy('CFN_SIGNAL', exit_code='3')
        run = self.run_agent()
        shown = self.show(deployment)
        self.assertEqual('FAILED', shown['status'], run)
        self.assertEqual('deploy_status_code : Deployment exited with '
                         'non-zero status code: 3', shown['status_reason'])
        self.assertEqual(3, shown['output_values']['deploy_status_code'])

    def test_deployed_config_is_not_run_again(self):
        deployment = self.deploy('CFN_SIGNAL')
        shown, run = self.assert_completed(deployment)
        self.assertEqual([deployment['config_id']],
                         self.sandbox.deployed_ids())
        again = self.run_agent(force=True)
        self.assertIn('already deployed', again.output)
        self.assertEqual(shown, self.show(deployment))

    def test_new_action_runs_the_agent_again(self):
        deployment = self.deploy('TEMP_URL_SIGNAL')
        self.assert_completed(deployment)
        resp = self.session.put(
            '%s/software_deployments/%s' % (self.base, deployment['id']),
            json={'action': 'UPDATE'}, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        updated = resp.json()['software_deployment']
        self.assertEqual('IN_PROGRESS', updated['status'])
        shown, run = self.assert_completed(updated, action='UPDATE')
        self.assertEqual(sorted([deployment['config_id'],
                                 updated['config_id']]),
                         self.sandbox.deployed_ids())
