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

"""ZAQAR_SIGNAL through a real Zaqar and a real Keystone.

heat_deploy runs under gunicorn (two processes) and reaches Zaqar through
the catalog, where the ``messaging`` endpoint is a TCP proxy of this test's
own: cutting it is Zaqar going away for heat_deploy alone. The tests post
to Zaqar directly, as the deployment's server would, with the credentials
the server gets from its metadata URL.
"""

import concurrent.futures
import os
import subprocess
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests

from heat_deploy.tests.functional.fixtures import agents
from heat_deploy.tests.functional.fixtures import keystone
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional import keystone_case

SCRIPT = ('#!/bin/sh\necho "hello $foo"\n'
          'echo -n done > $heat_outputs_path.result\n'
          'exit ${exit_code:-0}\n')


class TestZaqarSignal(keystone_case.ZaqarCase):

    script = SCRIPT
    source_inputs = ({'name': 'foo'},
                     {'name': 'exit_code', 'default': '0'})

    def deploy(self, **input_values):
        return self.request('POST', '/software_deployments', json={
            'config_id': self.source['id'], 'server_id': self.server_id,
            'input_values': dict(
                {'foo': 'world', 'deploy_signal_transport': 'ZAQAR_SIGNAL'},
                **input_values)})['software_deployment']

    def assert_stdout(self, deployment, stdout, *details):
        """Shown COMPLETE, with this deploy_stdout."""
        shown = self.show(deployment)
        self.assertEqual(('COMPLETE', stdout),
                         (shown['status'],
                          shown['output_values']['deploy_stdout']), *details)

    def metadata_url(self):
        settings = self.request('GET', '/servers/%s/os-collect-config'
                                % self.server_id)
        return settings['os-collect-config']['request']['metadata_url']

    def server_inputs(self, deployment):
        """The inputs of the deployment's current config, as its server
        reads them (password in clear).
        """
        document = requests.get(self.metadata_url(), timeout=30).json()
        [config] = [item for item in document['deployments']
                    if item['id'] == deployment['config_id']]
        return {item['name']: item.get('value') for item in config['inputs']}

    def server_queue(self, inputs, project_id=None):
        """(keystoneauth session, queue URL) of the server's credentials,
        straight to Zaqar.
        """
        session = ks_session.Session(auth=v3.Password(
            auth_url=inputs['deploy_auth_url'],
            user_id=inputs['deploy_user_id'],
            password=inputs['deploy_password'],
            project_id=project_id or inputs['deploy_project_id']))
        return session, '%s/queues/%s' % (self.zaqar.url_v2,
                                          inputs['deploy_queue_id'])

    def post(self, inputs, *bodies):
        session, queue = self.server_queue(inputs)
        session.post(queue + '/messages', headers=self.zaqar.headers(),
                     json={'messages': [{'body': body, 'ttl': 600}
                                        for body in bodies]})

    def queue_names(self, project_id):
        session = ks_session.Session(auth=v3.Password(
            auth_url=self.keystone.auth_url,
            username=self.keystone.stack_domain_admin,
            password=self.keystone.stack_domain_admin_password,
            user_domain_id=self.keystone.stack_user_domain_id,
            project_id=project_id))
        found = session.get(self.zaqar.url_v2 + '/queues',
                            headers=self.zaqar.headers()).json()
        return sorted(queue['name'] for queue in found.get('queues', []))

    def stack_objects(self, deployment_id):
        """(users, projects) named after the deployment in the domain."""
        client = self.keystone.admin_client
        domain = self.keystone.stack_user_domain_id
        return (client.users.list(domain=domain, name='hd-' + deployment_id),
                client.projects.list(domain=domain,
                                     name='hd-' + deployment_id))

    def sweep(self):
        """One heat-deploy-worker --once pass over the server's database."""
        return subprocess.run(
            service.console_script('heat-deploy-worker', '--config-file',
                                   self.server.conf_file, '--once'),
            capture_output=True, text=True, timeout=120,
            env=service.command_env())

    def test_deployment_gets_its_own_queue_user_and_project(self):
        deployment = self.deploy()
        self.assertEqual('IN_PROGRESS', deployment['status'])
        derived = self.request('GET', '/software_configs/'
                               + deployment['config_id'])['software_config']
        shown = {item['name']: item.get('value')
                 for item in derived['inputs']}
        self.assertEqual('***', shown['deploy_password'])
        self.assertEqual(deployment['id'] + '-1', shown['deploy_queue_id'])
        self.assertEqual(self.keystone.auth_url, shown['deploy_auth_url'])
        self.assertEqual(keystone.REGION, shown['deploy_region_name'])
        [user], [project] = self.stack_objects(deployment['id'])
        self.assertEqual(user.id, shown['deploy_user_id'])
        self.assertEqual(project.id, shown['deploy_project_id'])
        self.assertEqual([deployment['id'] + '-1'],
                         self.queue_names(project.id))

    def test_posted_outputs_are_applied_once_on_show(self):
        deployment = self.deploy()
        inputs = self.server_inputs(deployment)
        self.post(inputs, {'deploy_status_code': 0, 'deploy_stdout': 'hi',
                           'deploy_stderr': '', 'result': 'done'})
        shown = self.show(deployment)
        self.assertEqual(('COMPLETE', 'Outputs received'),
                         (shown['status'], shown['status_reason']))
        self.assertEqual('hi', shown['output_values']['deploy_stdout'])
        self.assertEqual('done', shown['output_values']['result'])
        # Deleted once applied: nobody can claim it again.
        session, queue = self.server_queue(inputs)
        claim = session.post(queue + '/claims', headers=self.zaqar.headers(),
                             json={'ttl': 60, 'grace': 60})
        self.assertEqual(204, claim.status_code, claim.text)
        self.assertEqual(shown, self.show(deployment))
        self.assertNotIn(inputs['deploy_password'], self.server.log())

    def test_a_failed_script_fails_the_deployment(self):
        deployment = self.deploy()
        self.post(self.server_inputs(deployment),
                  {'deploy_status_code': 3, 'deploy_stdout': '',
                   'deploy_stderr': 'boom'})
        shown = self.show(deployment)
        self.assertEqual(('FAILED', 'deploy_status_code : Deployment exited '
                                    'with non-zero status code: 3'),
                         (shown['status'], shown['status_reason']))

    def test_delete_removes_queue_user_and_project(self):
        deployment = self.deploy()
        [project] = self.stack_objects(deployment['id'])[1]
        self.request('DELETE', '/software_deployments/' + deployment['id'],
                     status=204)
        self.assertEqual(([], []), self.stack_objects(deployment['id']))
        self.assertEqual([], self.queue_names_as_admin(project.id))

    def queue_names_as_admin(self, project_id):
        """The project's queues, asked as the cloud admin (who may name
        any project to Zaqar).
        """
        session = self.keystone.session_for(keystone.ADMIN_USER)
        found = session.get(
            self.zaqar.url_v2 + '/queues', headers=dict(
                self.zaqar.headers(), **{'X-Project-ID': project_id}))
        return sorted(queue['name']
                      for queue in (found.json() if found.content
                                    else {}).get('queues', []))

    def test_a_new_action_gets_a_new_queue_and_password(self):
        deployment = self.deploy()
        old = self.server_inputs(deployment)
        updated = self.request(
            'PUT', '/software_deployments/' + deployment['id'],
            json={'action': 'UPDATE'})['software_deployment']
        new = self.server_inputs(updated)
        # Keystone revokes a user's tokens when its password changes, by
        # the second: a token made in that same second is refused too (a
        # server gets its new config later than that).
        time.sleep(1.1)
        self.assertEqual(deployment['id'] + '-2', new['deploy_queue_id'])
        self.assertEqual(old['deploy_user_id'], new['deploy_user_id'])
        self.assertEqual(old['deploy_project_id'], new['deploy_project_id'])
        self.assertEqual([new['deploy_queue_id']],
                         self.queue_names(new['deploy_project_id']))
        self.assertRaises(ks_exc.Unauthorized,
                          self.server_queue(old)[0].get_token)
        self.post(new, {'deploy_status_code': 0, 'deploy_stdout': 'again'})
        self.assert_stdout(updated, 'again')

    def test_concurrent_readers_apply_each_message_once(self):
        deployment = self.deploy()
        inputs = self.server_inputs(deployment)
        self.request('POST', '/software_deployments/%s/actions'
                     % deployment['id'], json={'cancel': {}})
        # Refused (cancelled) and kept as late outputs: each message leaves
        # its own key there, and each application is logged once.
        keys = ['message_%02d' % number for number in range(30)]
        for start in range(0, len(keys), 10):
            self.post(inputs, *[{key: 1} for key in keys[start:start + 10]])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            sweeps = [pool.submit(self.sweep) for _ in range(2)]
            shows = [pool.submit(self.show, deployment) for _ in range(24)]
            for future in shows:
                future.result()
            swept = [future.result() for future in sweeps]
        for _ in range(3):
            # Whatever no reader had claimed yet (10 per claim).
            self.show(deployment)
        attempts = self.request('GET', '/software_deployments/%s/attempts'
                                % deployment['id'])['attempts']
        late = attempts[0].get('late_output_values') or {}
        self.assertEqual(keys, sorted(late))
        applied = self._server_log().count(
            'Pulled signal of deployment %s' % deployment['id']) + sum(
            run.stderr.count('Pulled signal of deployment %s'
                             % deployment['id']) for run in swept)
        self.assertEqual(len(keys), applied)

    def _server_log(self):
        with open(self.server.log_path) as log:
            return log.read()

    def test_zaqar_down_answers_the_stored_state_and_loses_nothing(self):
        deployment = self.deploy()
        self.post(self.server_inputs(deployment),
                  {'deploy_status_code': 0, 'deploy_stdout': 'later'})
        self.proxy.cut()
        self.addCleanup(self.proxy.restore)
        shown = self.show(deployment)
        self.assertEqual('IN_PROGRESS', shown['status'])
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertIn('could not be reached', self._server_log())
        # A new deployment cannot be set up meanwhile: a clear 502.
        resp = self.session.post(self.base + '/software_deployments', json={
            'config_id': self.source['id'], 'server_id': self.server_id,
            'input_values': {'deploy_signal_transport': 'ZAQAR_SIGNAL'}},
            timeout=60)
        self.assertEqual(502, resp.status_code, resp.text)
        self.assertIn('Zaqar', resp.json()['error']['message'])
        self.proxy.restore()
        self.assert_stdout(deployment, 'later')

    def test_the_worker_applies_what_nobody_shows(self):
        deployment = self.deploy()
        self.post(self.server_inputs(deployment), {'deploy_status_code': 0})
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertIn('Applied pulled signals to', run.stdout)
        listed = self.request('GET', '/software_deployments')
        [mine] = [item for item in listed['software_deployments']
                  if item['id'] == deployment['id']]
        self.assertEqual('COMPLETE', mine['status'])

    def test_no_other_server_reads_the_queue(self):
        mine = self.deploy()
        my_inputs = self.server_inputs(mine)
        self.post(my_inputs, {'deploy_status_code': 0})
        # A server of the same tenant, and one of another tenant.
        sibling = self.server_inputs(self.deploy())
        self.use_project('b_member')
        stranger = self.server_inputs(self.deploy())
        for other in (sibling, stranger):
            # Its token cannot be scoped to my project...
            self.assertRaises(
                ks_exc.Unauthorized,
                self.server_queue(other, my_inputs['deploy_project_id'])[0]
                .get_token)
            # ...and in its own project my queue's name holds nothing.
            session, _ = self.server_queue(other)
            claim = session.post(
                '%s/queues/%s/claims' % (self.zaqar.url_v2,
                                         my_inputs['deploy_queue_id']),
                headers=self.zaqar.headers(), json={'ttl': 60, 'grace': 60})
            self.assertEqual(204, claim.status_code, claim.text)
        self.use_project('a_member')
        self.assertEqual('COMPLETE', self.show(mine)['status'])


class TestZaqarSignalAgents(TestZaqarSignal):
    """The unmodified agents, heat-config-notify posting over v1.1."""

    def setUp(self):
        super().setUp()
        if not os.environ.get(agents.HEAT_AGENTS_SRC_ENV):
            self.skipTest('%s is not set; tox sets it'
                          % agents.HEAT_AGENTS_SRC_ENV)
        self.sandbox = self.useFixture(agents.AgentSandbox())

    def run_agents(self):
        run = self.sandbox.run_once(self.metadata_url())
        self.assertEqual(0, run.returncode, run)
        return run

    def test_agent_runs_and_signals(self):
        deployment = self.deploy()
        run = self.run_agents()
        shown = self.show(deployment)
        self.assertEqual(('COMPLETE', 'Outputs received'),
                         (shown['status'], shown['status_reason']), run)
        self.assertEqual('hello world\n',
                         shown['output_values']['deploy_stdout'])
        self.assertEqual('done', shown['output_values']['result'])

        # A new action: the agent runs the new config and signals again.
        updated = self.request(
            'PUT', '/software_deployments/' + deployment['id'],
            json={'action': 'UPDATE',
                  'input_values': {'foo': 'again',
                                   'deploy_signal_transport':
                                       'ZAQAR_SIGNAL'}})['software_deployment']
        self.assertEqual('IN_PROGRESS', updated['status'])
        run = self.run_agents()
        self.assert_stdout(updated, 'hello again\n', run)

    def test_failing_script_ends_failed(self):
        deployment = self.deploy(exit_code='3')
        run = self.run_agents()
        shown = self.show(deployment)
        self.assertEqual(('FAILED', 'deploy_status_code : Deployment exited '
                                    'with non-zero status code: 3'),
                         (shown['status'], shown['status_reason']), run)

    # The class's other tests run once, in TestZaqarSignal.
    test_deployment_gets_its_own_queue_user_and_project = None
    test_posted_outputs_are_applied_once_on_show = None
    test_a_failed_script_fails_the_deployment = None
    test_delete_removes_queue_user_and_project = None
    test_a_new_action_gets_a_new_queue_and_password = None
    test_concurrent_readers_apply_each_message_once = None
    test_zaqar_down_answers_the_stored_state_and_loses_nothing = None
    test_the_worker_applies_what_nobody_shows = None
    test_no_other_server_reads_the_queue = None
