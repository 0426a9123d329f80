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

"""ZAQAR_MESSAGE through a real Zaqar and a real Keystone.

heat_deploy runs under gunicorn (two processes) and reaches Zaqar through
the catalog, where the ``messaging`` endpoint is a TCP proxy of this test's
own: cutting it is Zaqar going away for heat_deploy alone. The tests read
the queues straight from Zaqar, as the server would, with the credentials
of the server's os-collect-config settings.
"""

import os
import subprocess
import time
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests

from heat_deploy.signal import zaqar_message
from heat_deploy.tests.functional.fixtures import agents
from heat_deploy.tests.functional.fixtures import keystone
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional import keystone_case

SCRIPT = ('#!/bin/sh\necho "hello $foo"\n'
          'echo -n done > $heat_outputs_path.result\n')
# Seconds to wait for the post that follows a commit.
POST_WAIT = 20


class TestZaqarMessage(keystone_case.ZaqarCase):

    script = SCRIPT
    access_log = True

    def choose(self, transport, server_id=None):
        """PUT the server's transport; returns its new settings."""
        return self.request(
            'PUT', '/servers/%s/os-collect-config'
            % (server_id or self.server_id),
            json={'software_config_transport': transport}
        )['os-collect-config']

    def settings(self, server_id=None):
        return self.request('GET', '/servers/%s/os-collect-config'
                            % (server_id or self.server_id)
                            )['os-collect-config']

    def deploy(self, transport='NO_SIGNAL', **input_values):
        return self.request('POST', '/software_deployments', json={
            'config_id': self.source['id'], 'server_id': self.server_id,
            'input_values': dict(
                {'foo': 'world', 'deploy_signal_transport': transport},
                **input_values)})['software_deployment']

    def server_session(self, zaqar_settings, project_id=None):
        """A keystoneauth session with a server's queue credentials."""
        return ks_session.Session(auth=v3.Password(
            auth_url=zaqar_settings['auth_url'],
            user_id=zaqar_settings['user_id'],
            password=zaqar_settings['password'],
            project_id=project_id or zaqar_settings['project_id']))

    def queue_url(self, zaqar_settings):
        return '%s/queues/%s' % (self.zaqar.url_v2,
                                 zaqar_settings['queue_id'])

    def peek(self, zaqar_settings):
        """The bodies in the server's queue, oldest first, left there."""
        resp = self.server_session(zaqar_settings).get(
            self.queue_url(zaqar_settings) + '/messages',
            headers=self.zaqar.headers(),
            params={'echo': 'true', 'limit': 10})
        if resp.status_code == 204 or not resp.content:
            return []
        return [message['body'] for message in resp.json()['messages']]

    def pop(self, zaqar_settings):
        """Take the oldest message, as os-collect-config's collector does.
        """
        resp = self.server_session(zaqar_settings).delete(
            self.queue_url(zaqar_settings) + '/messages',
            headers=self.zaqar.headers(), params={'pop': 1})
        messages = resp.json().get('messages', []) if resp.content else []
        return messages[0]['body'] if messages else None

    def wait_for_document(self, zaqar_settings, config_id=None,
                          timeout=POST_WAIT, settings=None):
        """The latest document in the queue, once there is one (holding
        ``config_id`` and these os-collect-config ``settings``, if given).
        """
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.peek(zaqar_settings)
            if bodies and (config_id is None or config_id in [
                    item['id'] for item in bodies[-1]['deployments']]) and (
                    settings is None
                    or settings == bodies[-1]['os-collect-config']):
                return bodies[-1]
            if time.monotonic() > deadline:
                self.fail('No document with %s in the queue after %d s: %r'
                          % (config_id, timeout, bodies))
            time.sleep(0.2)

    def sweep(self):
        """One heat-deploy-worker --once pass over the server's database."""
        return subprocess.run(
            service.console_script('heat-deploy-worker', '--config-file',
                                   self.server.conf_file, '--once'),
            capture_output=True, text=True, timeout=120,
            env=service.command_env())

    def stack_objects(self, tenant, server_id):
        """(users, projects) of a server's queue in the domain."""
        name = zaqar_message.queue_name(tenant, server_id)
        client = self.keystone.admin_client
        domain = self.keystone.stack_user_domain_id
        return (client.users.list(domain=domain, name=name),
                client.projects.list(domain=domain, name=name))

    def _server_log(self):
        with open(self.server.log_path) as log:
            return log.read()

    def test_settings_and_the_document_posted_on_change(self):
        settings = self.choose('ZAQAR_MESSAGE')
        self.assertEqual('zaqar', settings['collectors'][-1])
        self.assertNotIn('request', settings)
        block = settings['zaqar']
        self.assertEqual(
            {'queue_id', 'user_id', 'password', 'project_id', 'auth_url',
             'region_name'}, set(block))
        self.assertEqual(self.keystone.auth_url, block['auth_url'])
        self.assertEqual(keystone.REGION, block['region_name'])
        [user], [project] = self.stack_objects(self.project_id,
                                               self.server_id)
        self.assertEqual((user.id, project.id),
                         (block['user_id'], block['project_id']))
        # Asking again gives the same credentials.
        self.assertEqual(settings, self.settings())

        deployment = self.deploy()
        document = self.wait_for_document(block, deployment['config_id'])
        self.assertEqual(settings, document['os-collect-config'])
        [config] = document['deployments']
        self.assertEqual('script', config['group'])
        # A change posts the new document; the one the server did not
        # take yet goes, so the collector's pop gets the latest.
        second = self.deploy()
        self.wait_for_document(block, second['config_id'])
        [latest] = self.peek(block)
        self.assertEqual(
            sorted([deployment['config_id'], second['config_id']]),
            sorted(item['id'] for item in latest['deployments']))
        self.assertEqual(latest, self.pop(block))
        # The delete of a deployment is a change too.
        self.request('DELETE', '/software_deployments/' + second['id'],
                     status=204)
        after_delete = self.wait_for_document(block)
        self.assertEqual([deployment['config_id']],
                         [item['id'] for item in after_delete['deployments']])
        log = self._server_log()
        self.assertNotIn(block['password'], log)
        self.assertNotIn('hello $foo', log)

    def test_the_default_transport_of_new_servers(self):
        # The option's default leaves servers polling.
        settings = self.settings()
        self.assertEqual(['request', 'local'], settings['collectors'])
        self.assertEqual(([], []), self.stack_objects(self.project_id,
                                                      self.server_id))

    def test_no_other_server_reads_the_queue(self):
        mine = self.choose('ZAQAR_MESSAGE')['zaqar']
        self.wait_for_document(mine, self.deploy()['config_id'])
        sibling = self.choose('ZAQAR_MESSAGE', str(uuid.uuid4()))['zaqar']
        self.use_project('b_member')
        stranger = self.choose('ZAQAR_MESSAGE')['zaqar']
        self.assertNotEqual(mine['queue_id'], sibling['queue_id'])
        for other in (sibling, stranger):
            # Its token cannot be scoped to my project...
            self.assertRaises(
                ks_exc.Unauthorized,
                self.server_session(other, mine['project_id']).get_token)
            # ...and in its own project my queue's name holds nothing.
            resp = self.server_session(other).get(
                self.queue_url(mine) + '/messages',
                headers=self.zaqar.headers(), params={'echo': 'true'})
            self.assertIn(resp.status_code, (200, 204), resp.text)
            self.assertEqual([], resp.json().get('messages', [])
                             if resp.content else [])
        # Nothing was taken from my queue.
        self.assertEqual(1, len(self.peek(mine)))

    def test_zaqar_down_delays_the_post_and_loses_nothing(self):
        block = self.choose('ZAQAR_MESSAGE')['zaqar']
        self.wait_for_document(block, self.deploy()['config_id'])
        self.pop(block)
        self.proxy.cut()
        self.addCleanup(self.proxy.restore)
        # The API answers as ever; the post fails in the background.
        deployment = self.deploy()
        self.assertEqual(block, self.settings()['zaqar'])
        time.sleep(1)
        self.assertEqual([], self.peek(block))
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        # The sweep tried, said why for the operator, and goes on.
        self.assertIn('ZAQAR_MESSAGE post failed: Zaqar popping messages',
                      run.stdout + run.stderr)
        self.assertIn('Posted or retired the Zaqar queues of 0 server(s)',
                      run.stdout)
        # So did the API process that made the change.
        self.assertIn('ZAQAR_MESSAGE post failed', self._server_log())
        self.assertEqual([], self.peek(block))
        self.proxy.restore()
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertIn('Posted or retired the Zaqar queues of', run.stdout)
        document = self.wait_for_document(block, deployment['config_id'],
                                          timeout=1)
        self.assertEqual(2, len(document['deployments']))
        self.assertNotIn('Traceback', self._server_log())
        # Posted: the next sweep leaves it alone.
        self.sweep()
        self.assertEqual(1, len(self.peek(block)))

    def test_polling_server_learns_its_queue_from_its_metadata_url(self):
        url = self.settings()['request']['metadata_url']
        first = requests.get(url, timeout=30)
        self.assertEqual(['request', 'local'],
                         first.json()['os-collect-config']['collectors'])
        block = self.choose('ZAQAR_MESSAGE')['zaqar']
        # The URL still answers, with a new ETag and the queue's settings.
        second = requests.get(url, timeout=30, headers={
            'If-None-Match': first.headers['ETag']})
        self.assertEqual(200, second.status_code)
        self.assertEqual(block, second.json()['os-collect-config']['zaqar'])
        # ...and the queue has the same document.
        self.assertEqual(second.json()['os-collect-config'],
                         self.wait_for_document(block)['os-collect-config'])

    def test_switching_back_retires_queue_user_and_project(self):
        block = self.choose('ZAQAR_MESSAGE')['zaqar']
        self.wait_for_document(block, self.deploy()['config_id'])
        settings = self.choose('POLL_TEMP_URL')
        url = settings['request']['metadata_url']
        # The queue tells the server where to poll now.
        document = self.wait_for_document(block, settings=settings)
        self.assertEqual(1, len(self.peek(block)))
        # Not taken yet: the queue stays.
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertEqual(([1], [1]), tuple(
            [len(found)] for found in self.stack_objects(self.project_id,
                                                         self.server_id)))
        self.assertEqual(document, self.pop(block))
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertEqual(([], []), self.stack_objects(self.project_id,
                                                      self.server_id))
        self.assertRaises(ks_exc.Unauthorized,
                          self.server_session(block).get_token)
        served = requests.get(url, timeout=30).json()
        self.assertEqual(settings, served['os-collect-config'])
        self.assertEqual(1, len(served['deployments']))
        # And back again: a new user, the document in its queue.
        block = self.choose('ZAQAR_MESSAGE')['zaqar']
        self.assertEqual(1, len(self.wait_for_document(block)['deployments']))

    def test_a_deployment_can_move_its_server(self):
        deployment = self.request('POST', '/software_deployments', json={
            'config_id': self.source['id'], 'server_id': self.server_id,
            'software_config_transport': 'ZAQAR_MESSAGE',
            'input_values': {'foo': 'x',
                             'deploy_signal_transport': 'NO_SIGNAL'}}
        )['software_deployment']
        settings = self.settings()
        self.assertEqual('zaqar', settings['collectors'][-1])
        document = self.wait_for_document(settings['zaqar'],
                                          deployment['config_id'])
        self.assertEqual(settings, document['os-collect-config'])
        # Without the field the server keeps its transport.
        self.deploy()
        self.assertEqual(settings, self.settings())

    def test_revoking_gives_the_queue_user_a_new_password(self):
        old = self.choose('ZAQAR_MESSAGE')['zaqar']
        self.wait_for_document(old, self.deploy()['config_id'])
        self.request('DELETE', '/servers/%s/os-collect-config'
                     % self.server_id, status=204)
        self.assertRaises(ks_exc.Unauthorized,
                          self.server_session(old).get_token)
        new = self.settings()['zaqar']
        self.assertNotEqual(old['password'], new['password'])
        self.assertEqual(dict(old, password=new['password']), new)
        # Keystone refuses tokens made in the second their user's password
        # changed: the server would simply try again.
        time.sleep(1.1)
        document = self.wait_for_document(new, settings=self.settings())
        self.assertEqual(new['password'],
                         document['os-collect-config']['zaqar']['password'])
        self.assertNotIn(new['password'], self._server_log())

    def test_choosing_is_validated(self):
        resp = self.session.put(
            self.base + '/servers/%s/os-collect-config' % self.server_id,
            json={'software_config_transport': 'POLL_SERVER_CFN'},
            timeout=60)
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertIn('software_config_transport', resp.text)
        resp = self.session.post(self.base + '/software_deployments', json={
            'config_id': self.source['id'], 'server_id': self.server_id,
            'software_config_transport': 'POLL_SERVER_HEAT'}, timeout=60)
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertIn('software_config_transport', resp.text)


class TestZaqarMessageAgents(TestZaqarMessage):
    """The unmodified agents: os-collect-config's zaqar collector."""

    def setUp(self):
        super().setUp()
        if not os.environ.get(agents.HEAT_AGENTS_SRC_ENV):
            self.skipTest('%s is not set; tox sets it'
                          % agents.HEAT_AGENTS_SRC_ENV)
        self.sandbox = self.useFixture(agents.AgentSandbox())

    def test_a_deployment_runs_with_no_request_to_heat_deploy(self):
        block = self.choose('ZAQAR_MESSAGE')['zaqar']
        deployment = self.deploy('ZAQAR_SIGNAL')
        self.wait_for_document(block, deployment['config_id'])
        seen = len(self.server.requests_seen())
        run = self.sandbox.run_zaqar_once(block)
        self.assertEqual(0, run.returncode, run)
        # The server asked heat_deploy nothing: it read the queue and
        # signalled over Zaqar.
        self.assertEqual(seen, len(self.server.requests_seen()), run)
        self.assertEqual([deployment['config_id']],
                         self.sandbox.deployed_ids(), run)
        shown = self.show(deployment)
        self.assertEqual(('COMPLETE', 'Outputs received'),
                         (shown['status'], shown['status_reason']), run)
        self.assertEqual('hello world\n',
                         shown['output_values']['deploy_stdout'])
        self.assertEqual('done', shown['output_values']['result'])
        # The rendered os-collect-config.conf keeps the zaqar collector.
        self.assertEqual(block, self.sandbox.rendered_zaqar_settings())
        self.assertEqual('zaqar', self.sandbox.rendered_collect_config()
                         .get('DEFAULT', 'collectors'))
        # Nothing new in the queue: a cycle changes nothing.
        run = self.sandbox.run_zaqar_once(block)
        self.assertEqual(0, run.returncode, run)
        self.assertEqual([deployment['config_id']],
                         self.sandbox.deployed_ids(), run)

    def test_a_polling_server_moves_to_its_queue(self):
        url = self.settings()['request']['metadata_url']
        first = self.deploy('ZAQAR_SIGNAL', foo='polled')
        run = self.sandbox.run_once(url)
        self.assertEqual(0, run.returncode, run)
        self.assertEqual('COMPLETE', self.show(first)['status'], run)
        # The move: the next poll brings the queue's settings, which
        # heat-agents' template writes to os-collect-config.conf.
        block = self.choose('ZAQAR_MESSAGE')['zaqar']
        run = self.sandbox.run_once(url)
        self.assertEqual(0, run.returncode, run)
        written = self.sandbox.rendered_zaqar_settings()
        self.assertEqual(block, written, run)
        # os-collect-config would now restart with that file: the zaqar
        # collector, and nothing asked of heat_deploy.
        second = self.deploy('ZAQAR_SIGNAL', foo='queued')
        self.wait_for_document(block, second['config_id'])
        seen = len(self.server.requests_seen())
        run = self.sandbox.run_zaqar_once(written)
        self.assertEqual(0, run.returncode, run)
        self.assertEqual(seen, len(self.server.requests_seen()), run)
        shown = self.show(second)
        self.assertEqual(('COMPLETE', 'hello queued\n'),
                         (shown['status'],
                          shown['output_values']['deploy_stdout']), run)

        # And back: the queue's last document names the URL again.
        settings = self.choose('POLL_TEMP_URL')
        self.wait_for_document(block, settings=settings)
        run = self.sandbox.run_zaqar_once(written)
        self.assertEqual(0, run.returncode, run)
        rendered = self.sandbox.rendered_collect_config()
        self.assertEqual(settings['request']['metadata_url'],
                         rendered.get('request', 'metadata_url'), run)
        third = self.deploy('ZAQAR_SIGNAL', foo='polled again')
        run = self.sandbox.run_once(rendered.get('request', 'metadata_url'))
        self.assertEqual(0, run.returncode, run)
        self.assertEqual('hello polled again\n', self.show(third)[
            'output_values']['deploy_stdout'], run)
        # The queue was taken: the sweep retires it.
        run = self.sweep()
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertEqual(([], []), self.stack_objects(self.project_id,
                                                      self.server_id))

    # The class's other tests run once, in TestZaqarMessage.
    test_settings_and_the_document_posted_on_change = None
    test_the_default_transport_of_new_servers = None
    test_no_other_server_reads_the_queue = None
    test_zaqar_down_delays_the_post_and_loses_nothing = None
    test_polling_server_learns_its_queue_from_its_metadata_url = None
    test_a_deployment_can_move_its_server = None
    test_revoking_gives_the_queue_user_a_new_password = None
    test_switching_back_retires_queue_user_and_project = None
    test_choosing_is_validated = None
