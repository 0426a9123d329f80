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

"""The real Keystone of the functional tests does what they rely on.

Tokens of the test users carry the expected project and roles, as the
service user sees them through ``GET /v3/auth/tokens``; revocation works; the
catalog has the orchestration endpoint; and keystonemiddleware's auth_token,
configured from :meth:`KeystoneFixture.auth_token_options`, accepts and
rejects tokens as heat_deploy's pipeline needs.
"""

import os
import time

import fixtures
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3 as identity_v3
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as keystone_client
from keystonemiddleware import auth_token
import requests
import testtools
import webob
import webob.dec

from heat_deploy.tests.functional.fixtures import keystone as keystone_fixture

# Written into the catalog only; nothing listens there and no test calls it.
ORCHESTRATION_URL = 'http://127.0.0.1:8004/v1/%(tenant_id)s'

IDENTITY_HEADERS = ('X-Identity-Status', 'X-Project-Id', 'X-Roles',
                    'X-User-Name', 'X-Is-Admin-Project')


@webob.dec.wsgify
def echo_identity(req):
    """The application behind auth_token: shows what it was told."""
    return webob.Response(json_body={
        name: req.headers.get(name) for name in IDENTITY_HEADERS})


class KeystoneFixtureTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One Keystone for the class: starting it is the slow part.
        cls.keystone = keystone_fixture.start_shared()
        try:
            cls.keystone.register_orchestration(ORCHESTRATION_URL)
            # What a service does with a user's token: validate it with
            # its own service credentials.
            cls.service_session = cls.keystone.session_for('heat_deploy')
        except Exception:
            cls.keystone.cleanUp()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.keystone.cleanUp()
        super().tearDownClass()

    def validate(self, token):
        """GET /v3/auth/tokens as the service user: the token's body.

        A 404 (unknown or revoked token) raises keystoneauth1's NotFound.
        """
        response = self.service_session.get(
            self.keystone.auth_url + '/auth/tokens',
            headers={'X-Subject-Token': token})
        return response.json()['token']

    def test_started_quickly_on_loopback(self):
        self.assertTrue(self.keystone.auth_url.startswith(
            'http://127.0.0.1:%d/' % self.keystone.port))
        self.assertLess(self.keystone.startup_seconds, 60)
        version = requests.get(self.keystone.auth_url, timeout=10).json()
        self.assertEqual('stable', version['version']['status'])

    def test_tokens_carry_project_and_roles(self):
        k = self.keystone
        # Roles imply each other: admin -> manager -> member -> reader.
        expected = {
            'a_reader': (k.project_a_id, {'reader'}),
            'a_member': (k.project_a_id, {'member', 'reader'}),
            'a_admin': (k.project_a_id,
                        {'admin', 'manager', 'member', 'reader'}),
            'b_member': (k.project_b_id, {'member', 'reader'}),
            'heat_deploy': (k.service_project_id,
                            {'admin', 'service', 'manager', 'member',
                             'reader'}),
        }
        for user, (project_id, roles) in expected.items():
            token, token_project_id = k.token_for(user)
            self.assertEqual(project_id, token_project_id, user)
            body = self.validate(token)
            self.assertEqual(user, body['user']['name'])
            self.assertEqual(k.user_ids[user], body['user']['id'])
            self.assertEqual(project_id, body['project']['id'], user)
            self.assertEqual(roles, {r['name'] for r in body['roles']}, user)

    def test_add_user(self):
        k = self.keystone
        user_id = k.add_user('b_reader_extra', project='project_b',
                             roles=['reader'])
        self.addCleanup(k.admin_client.users.delete, user_id)
        token, project_id = k.token_for('b_reader_extra')
        self.assertEqual(k.project_b_id, project_id)
        body = self.validate(token)
        self.assertEqual(user_id, body['user']['id'])
        self.assertEqual(['reader'], [r['name'] for r in body['roles']])

    def test_only_the_admin_project_is_admin(self):
        # heat_deploy's context_is_admin wants is_admin_project:True too.
        token, _ = self.keystone.token_for('admin')
        self.assertIs(True, self.validate(token)['is_admin_project'])
        token, _ = self.keystone.token_for('a_admin')
        self.assertIs(False, self.validate(token)['is_admin_project'])

    def test_stack_domain_admin_manages_stack_users(self):
        # What Heat does with its stack_domain_admin: a project and a user
        # with heat_stack_user in the stack user domain.
        k = self.keystone
        token, project_id = k.token_for(k.stack_domain_admin)
        self.assertIsNone(project_id)
        domain_admin = keystone_client.Client(
            session=k.session_for(k.stack_domain_admin),
            interface='public', region_name=k.region)
        project = domain_admin.projects.create(
            'stack-project', k.stack_user_domain_id)
        self.addCleanup(domain_admin.projects.delete, project.id)
        user = domain_admin.users.create(
            'stack-user', domain=k.stack_user_domain_id,
            password='stack-user-password', default_project=project.id)
        self.addCleanup(domain_admin.users.delete, user.id)
        domain_admin.roles.grant(k.heat_stack_user_role_id, user=user.id,
                                 project=project.id)

        # heat-config-notify logs in by user id and project id.
        stack_user = ks_session.Session(auth=identity_v3.Password(
            auth_url=k.auth_url, user_id=user.id,
            password='stack-user-password', project_id=project.id))
        body = self.validate(stack_user.get_token())
        self.assertEqual(['heat_stack_user'],
                         [role['name'] for role in body['roles']])
        self.assertEqual(project.id, body['project']['id'])

        # Keystone's policy is enforced: a project member may not do it.
        member = keystone_client.Client(
            session=k.session_for('a_member'), interface='public',
            region_name=k.region)
        self.assertRaises(ks_exceptions.Forbidden, member.users.create,
                          'intruder', domain=k.stack_user_domain_id)

    def test_revoked_token_is_rejected(self):
        token, _ = self.keystone.token_for('a_member')
        self.validate(token)
        self.keystone.revoke(token)
        self.assertRaises(ks_exceptions.NotFound, self.validate, token)
        # Other tokens of the same user stay valid.
        other, _ = self.keystone.token_for('a_member')
        self.validate(other)

    def _token_response(self, user, project_id):
        # The raw POST /v3/auth/tokens, as heat-config-notify's client
        # library sends it, to see the catalog exactly as Keystone gives it.
        k = self.keystone
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': k.passwords[user]}}},
            'scope': {'project': {'id': project_id}}}}
        response = requests.post(k.auth_url + '/auth/tokens', json=body,
                                 timeout=10)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()['token']

    def test_catalog_has_orchestration_endpoints(self):
        k = self.keystone
        catalog = self._token_response('a_member', k.project_a_id)['catalog']
        orchestration = [service for service in catalog
                         if service['type'] == 'orchestration']
        self.assertEqual(1, len(orchestration), catalog)
        url = 'http://127.0.0.1:8004/v1/%s' % k.project_a_id
        self.assertEqual(
            {('public', url, 'RegionOne'), ('internal', url, 'RegionOne'),
             ('admin', url, 'RegionOne')},
            {(e['interface'], e['url'], e['region_id'])
             for e in orchestration[0]['endpoints']})
        # Each project sees its own id in the URL.
        self.assertEqual(
            'http://127.0.0.1:8004/v1/%s' % k.project_b_id,
            k.session_for('b_member').get_endpoint(
                service_type='orchestration', interface='public'))

    def test_register_orchestration_again_replaces_endpoints(self):
        k = self.keystone
        self.addCleanup(k.register_orchestration, ORCHESTRATION_URL)
        service_id = k.register_orchestration(
            'http://127.0.0.1:8005/v1/%(tenant_id)s')
        self.assertEqual(service_id,
                         k.register_orchestration(
                             'http://127.0.0.1:8006/v1/%(tenant_id)s'))
        self.assertEqual(
            'http://127.0.0.1:8006/v1/%s' % k.project_a_id,
            k.session_for('a_reader').get_endpoint(
                service_type='orchestration', interface='internal'))

    def _auth_token_middleware(self):
        # As heat_deploy runs it: the options in its configuration file.
        # (A project name of its own: oslo.config also reads the
        # configuration directories named after it, e.g. /etc/<project>/.)
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, 'heat-deploy.conf')
        with open(path, 'w') as conf:
            conf.write('[keystone_authtoken]\n')
            for name, value in self.keystone.auth_token_options().items():
                conf.write('%s = %s\n' % (name, value))
        return auth_token.AuthProtocol(echo_identity, {
            'oslo_config_project': 'heat_deploy_keystone_fixture_test',
            'oslo_config_file': path})

    def _call(self, middleware, token=None, project_id='x'):
        headers = {'X-Auth-Token': token} if token else {}
        return webob.Request.blank(
            '/v1/%s/software_configs' % project_id,
            headers=headers).get_response(middleware)

    def test_auth_token_accepts_valid_tokens(self):
        middleware = self._auth_token_middleware()
        token, project_id = self.keystone.token_for('a_member')
        response = self._call(middleware, token, project_id)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(
            {'X-Identity-Status': 'Confirmed', 'X-Project-Id': project_id,
             'X-User-Name': 'a_member', 'X-Is-Admin-Project': 'False'},
            {name: value for name, value in response.json.items()
             if name != 'X-Roles'})
        self.assertEqual({'member', 'reader'},
                         set(response.json['X-Roles'].split(',')))

        token, project_id = self.keystone.token_for('admin')
        response = self._call(middleware, token, project_id)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual('True', response.json['X-Is-Admin-Project'])
        self.assertIn('admin', response.json['X-Roles'].split(','))

    def test_auth_token_rejects_bad_tokens(self):
        middleware = self._auth_token_middleware()
        for token in (None, 'not-a-token', 'gAAAAABnotafernettoken'):
            response = self._call(middleware, token)
            self.assertEqual(401, response.status_int, token)
            self.assertIn('Keystone uri="%s"' % self.keystone.endpoint,
                          response.headers['WWW-Authenticate'])

        token, project_id = self.keystone.token_for('a_reader')
        self.keystone.revoke(token)
        self.assertEqual(401,
                         self._call(middleware, token, project_id).status_int)

    def test_auth_token_drops_revoked_token_after_cache_time(self):
        middleware = self._auth_token_middleware()
        token, project_id = self.keystone.token_for('b_member')
        self.assertEqual(200,
                         self._call(middleware, token, project_id).status_int)
        self.keystone.revoke(token)
        # auth_token may serve its cached answer for token_cache_time.
        deadline = time.monotonic() + self.keystone.token_cache_time + 5
        while self._call(middleware, token, project_id).status_int != 401:
            self.assertLess(time.monotonic(), deadline,
                            'revoked token still accepted')
            time.sleep(0.5)
