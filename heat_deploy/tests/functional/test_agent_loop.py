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

from concurrent import futures
import os
import time
import uuid

import requests
import sqlalchemy as sa
import testtools

from heat_deploy.db import models
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import agents
from heat_deploy.tests.functional.fixtures import service

SCRIPT = '''#!/bin/sh
echo "Writing to /tmp/$foo during $deploy_action"
echo "The file contains $foo for $deploy_server_id during $deploy_action" \
    > ${heat_outputs_path}.result
echo "+ to stderr" >&2
exit ${exit_code:-0}
'''

# Runs past its deployment's deadline: it says it started, then waits until
# the test releases it (never more than a minute, so it cannot hang a run).
SLOW_SCRIPT = '''#!/bin/sh
touch "$started_file"
i=0
while [ ! -e "$release_file" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo "Finished after the deadline"
echo "late result" > ${heat_outputs_path}.result
'''
# Seconds the slow deployment may run; the script outlives them.
SLOW_TIMEOUT = 3
# Seconds any wait of the slow test may take before it fails.
WAIT_LIMIT = 60


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

    def wait_for(self, what, predicate, limit=WAIT_LIMIT):
        """Poll ``predicate`` until it returns a true value; returns it."""
        deadline = time.monotonic() + limit
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail('%s did not happen within %d s' % (what, limit))
            time.sleep(0.1)

    def stored_status(self, deployment):
        """The status in the deployment's row, as no view computes it."""
        engine = sa.create_engine(db_fixture.shared_migrated_database())
        try:
            with engine.connect() as connection:
                return connection.execute(
                    sa.select(models.SoftwareDeployment.status).where(
                        models.SoftwareDeployment.id == deployment['id'])
                ).scalar_one()
        finally:
            engine.dispose()

    def _run_past_the_deadline(self, transport):
        slow = self.post('/software_configs', {
            'name': 'slow', 'group': 'script', 'config': SLOW_SCRIPT,
            'inputs': [{'name': 'started_file'}, {'name': 'release_file'}],
            'outputs': [{'name': 'result'}]})['software_config']
        started = os.path.join(self.sandbox.tmp_dir, 'started')
        release = os.path.join(self.sandbox.tmp_dir, 'release')
        deployment = self.post('/software_deployments', {
            'config_id': slow['id'], 'server_id': self.server_id,
            'signal_transport': transport, 'timeout': SLOW_TIMEOUT,
            'input_values': {'started_file': started,
                             'release_file': release}}
        )['software_deployment']
        self.assertEqual('IN_PROGRESS', deployment['status'])
        self.assertEqual(SLOW_TIMEOUT, deployment['timeout'])
        self.assertIsNotNone(deployment['deadline_time'])
        self.assertIsNone(deployment['delivered_time'])

        # The agent cycle runs in the background, exactly as run_agent
        # runs it; whatever happens, the script is released and the cycle
        # waited for (the sandbox kills a cycle that hangs).
        executor = futures.ThreadPoolExecutor(max_workers=1)
        self.addCleanup(executor.shutdown, wait=True)
        self.addCleanup(lambda: open(release, 'a').close())
        cycle = executor.submit(self.sandbox.run_once, self.metadata_url)

        self.wait_for('the agent starting the script',
                      lambda: os.path.exists(started) or cycle.done())
        self.assertFalse(cycle.done(), cycle.done() and cycle.result())
        # The agent fetched the deployment's config before it ran it.
        fetched = self.show(deployment)
        self.assertIsNotNone(fetched['delivered_time'], fetched)

        # While the script still runs, the deadline passes: every view
        # says so at once, with no worker to store it.
        def failed():
            shown = self.show(deployment)
            return shown if shown['status'] == 'FAILED' else None

        timed_out = self.wait_for('the deadline passing', failed)
        self.assertFalse(cycle.done(), 'the script ended before the '
                         'deadline; the test proves nothing')
        reason = 'Deployment timed out after %d seconds' % SLOW_TIMEOUT
        self.assertEqual(reason, timed_out['status_reason'])
        self.assertEqual(deployment['deadline_time'],
                         timed_out['deadline_time'])
        self.assertEqual(fetched['delivered_time'],
                         timed_out['delivered_time'])
        self.assertEqual('IN_PROGRESS', self.stored_status(deployment))

        # The script finishes; heat-config-notify's signal is refused.
        open(release, 'a').close()
        run = cycle.result(timeout=self.sandbox.timeout + WAIT_LIMIT)
        self.assertEqual(0, run.returncode, run)
        self.assertIn('Response <Response [409]>', run.output)
        notified = self.sandbox.notify_data(deployment['config_id'])
        self.assertIsNotNone(notified, run)
        self.assertEqual('late result\n', notified['result'])

        after = self.show(deployment)
        for field in ('status', 'status_reason', 'output_values',
                      'deadline_time', 'delivered_time', 'config_id'):
            self.assertEqual(timed_out[field], after[field], field)
        resp = self.session.get('%s/software_deployments/%s/attempts'
                                % (self.base, deployment['id']), timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        [attempt] = resp.json()['attempts']
        self.assertEqual(1, attempt['number'])
        self.assertEqual('FAILED', attempt['status'])
        self.assertEqual(reason, attempt['status_reason'])
        self.assertEqual(timed_out['output_values'],
                         attempt['output_values'])
        self.assertEqual(fetched['delivered_time'],
                         attempt['delivered_time'])
        self.assertEqual(timed_out['deadline_time'], attempt['end_time'])
        late = attempt['late_output_values']
        self.assertEqual('Finished after the deadline\n',
                         late['deploy_stdout'])
        self.assertEqual(0, late['deploy_status_code'])
        self.assertEqual('late result\n', late['result'])

    def test_cfn_signal_after_the_deadline_is_refused_and_kept(self):
        self._run_past_the_deadline('CFN_SIGNAL')

    def test_temp_url_signal_after_the_deadline_is_refused_and_kept(self):
        self._run_past_the_deadline('TEMP_URL_SIGNAL')
