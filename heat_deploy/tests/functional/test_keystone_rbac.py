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

"""The RBAC matrix, checked against heat_deploy behind a real Keystone.

heat_deploy runs under gunicorn with ``[api] auth_strategy = keystone`` and
keystonemiddleware's options in its own configuration file; Keystone is the
real one of :mod:`fixtures.keystone`. Every cell of ``rbac_matrix.yaml``
(route x caller -> status) is a test of its own, named
``test_<route>__<caller>``, that sends the request with the caller's token
and checks the status, the error type and what the request did or did not
change. The same matrix, computed from the policy defaults, is published in
``doc/source/rbac.rst`` (``tools/gen-rbac-matrix.py``).

One Keystone and one heat_deploy serve the whole class (about 10 s to
start). Project A owns the objects the requests name; requests that change
or delete one get a fresh one, so the tests do not depend on their order.
"""

import os
import secrets
import time
import uuid

import requests
import testtools
from testtools import content
import yaml

from heat_deploy.signal import heat as heat_signal
from heat_deploy.tests.functional.fixtures import keystone as keystone_fixture
from heat_deploy.tests.functional.fixtures import service

MATRIX_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'rbac_matrix.yaml')
with open(MATRIX_FILE) as _matrix_file:
    MATRIX = yaml.safe_load(_matrix_file)

STACK_USER_PROJECT = 'a_stack_users'
REQUEST_TIMEOUT = 30

# What a stack user sends to signal (heat-config-notify's body).
SIGNAL_BODY = {'deploy_status_code': 0, 'deploy_stdout': 'ok',
               'deploy_stderr': ''}


def _fill(value, names):
    """Replace {placeholders} in the strings of a YAML value."""
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace('{%s}' % name, replacement)
        return value
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    return value


def start_keystone_and_server(test_class):
    """Keystone, then heat_deploy behind it, for a test class.

    Sets ``keystone`` and ``server`` on the class; both stop with the
    class's cleanups, also when setUpClass fails half-way.
    """
    keystone = keystone_fixture.start_shared()
    test_class.addClassCleanup(keystone.cleanUp)
    server = service.RunningServer(sections={
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': keystone.auth_token_options(),
    })
    server.setUp()
    test_class.addClassCleanup(server.cleanUp)
    # The port is known only now: register it, as an operator would.
    keystone.register_orchestration(
        'http://127.0.0.1:%d/v1/%%(tenant_id)s' % server.port)
    test_class.keystone = keystone
    test_class.server = server


class KeystoneServerTestCase(testtools.TestCase):
    """Shared helpers: requests with a token, the gunicorn log on failure."""

    def setUp(self):
        super().setUp()
        self.addOnException(self._attach_logs)

    def _attach_logs(self, exc_info):
        self.addDetail('heat-deploy-log',
                       content.text_content(self.server.log()))

    @classmethod
    def call(cls, method, path, token=None, body=None, headers=None):
        """Send a request to heat_deploy; ``path`` starts with /v1."""
        all_headers = {}
        if token is not None:
            all_headers['X-Auth-Token'] = token
        all_headers.update(headers or {})
        return requests.request(method, cls.server.url + path,
                                json=body, headers=all_headers,
                                timeout=REQUEST_TIMEOUT)

    @classmethod
    def ok(cls, response, status=200):
        """The JSON body of a response that must have this status."""
        if response.status_code != status:
            raise AssertionError('%s %s: expected %d, got %d: %s'
                                 % (response.request.method,
                                    response.request.url, status,
                                    response.status_code, response.text))
        return response.json() if status != 204 else None


class TestRBACMatrix(KeystoneServerTestCase):
    """Every cell of rbac_matrix.yaml; the test methods are made below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_keystone_and_server(cls)
        k = cls.keystone
        # A's stack user project, in the stack user domain, as Heat makes
        # one; its users have only heat_stack_user there.
        project = k.admin_client.projects.create(
            STACK_USER_PROJECT, k.stack_user_domain_id,
            description="project A's stack users")
        k.project_ids[STACK_USER_PROJECT] = project.id
        for name in ('a_stack_user', 'other_stack_user'):
            k.add_user(name, project=STACK_USER_PROJECT,
                       roles=['heat_stack_user'],
                       domain=k.stack_user_domain_id)
        cls.project_ids = {'a': k.project_a_id, 'b': k.project_b_id,
                           'stack': project.id,
                           'admin': k.admin_project_id}

        cls.tokens = {}
        for name, caller in MATRIX['callers'].items():
            token = caller.get('token', 'valid')
            if token == 'valid':
                cls.tokens[name] = k.token_for(caller['user'])[0]
            elif token == 'invalid':
                # Looks like a fernet token; Keystone does not know it.
                cls.tokens[name] = 'gAAAAAB' + secrets.token_urlsafe(120)
            elif token == 'revoked':
                # Revoked before heat_deploy ever sees it, so no cache of
                # heat_deploy's can still accept it.
                cls.tokens[name] = k.token_for(caller['user'])[0]
                k.revoke(cls.tokens[name])
            else:
                cls.tokens[name] = None
        cls.member_token = k.token_for('a_member')[0]

        # Project A's objects that the read-only requests name.
        cls.shared = cls.make_objects()

    # Project A's objects, made by A's member.

    @classmethod
    def make_config(cls, name='rbac-config'):
        return cls.ok(cls.call(
            'POST', '/v1/%s/software_configs' % cls.project_ids['a'],
            cls.member_token, {'name': name, 'group': 'script',
                               'config': '#!/bin/sh\necho %s\n' % name}
        ))['software_config']['id']

    @classmethod
    def make_deployment(cls, config_id, server_id):
        return cls.ok(cls.call(
            'POST', '/v1/%s/software_deployments' % cls.project_ids['a'],
            cls.member_token,
            {'config_id': config_id, 'server_id': server_id,
             'action': 'CREATE', 'status': 'IN_PROGRESS',
             'status_reason': 'Deploy data available',
             'stack_user_project_id': cls.project_ids['stack']}
        ))['software_deployment']['id']

    @classmethod
    def make_objects(cls):
        """A config, a deployment of it on a new server; their ids."""
        config_id = cls.make_config()
        server_id = str(uuid.uuid4())
        return {'config_id': config_id, 'server_id': server_id,
                'deployment_id': cls.make_deployment(config_id, server_id)}

    def a_member_get(self, path):
        return self.call('GET', '/v1/%s%s' % (self.project_ids['a'], path),
                         self.member_token)

    def metadata_url(self, server_id):
        """Project A's signed metadata URL of a server (as A's member)."""
        body = self.ok(self.a_member_get(
            '/servers/%s/os-collect-config' % server_id))
        return body['os-collect-config']['request']['metadata_url']

    # One cell.

    def forged_headers(self):
        """Identity headers a client has no business sending.

        They claim project A, admin roles and the admin project, the
        user id of A's admin and a confirmed (service) identity.
        """
        k = self.keystone
        project_id = self.project_ids['a']
        return {
            'X-Identity-Status': 'Confirmed',
            'X-Service-Identity-Status': 'Confirmed',
            'X-Roles': 'admin,manager,member,reader,heat_stack_user',
            'X-Role': 'admin',
            'X-Service-Roles': 'service,admin',
            'X-Project-Id': project_id,
            'X-Tenant-Id': project_id,
            'X-Tenant': project_id,
            'X-Project-Name': 'project_a',
            'X-Tenant-Name': 'project_a',
            'X-Project-Domain-Id': 'default',
            'X-User-Id': k.user_ids['a_admin'],
            'X-User': 'a_admin',
            'X-User-Name': 'a_admin',
            'X-User-Domain-Id': 'default',
            'X-Domain-Id': 'default',
            'X-Is-Admin-Project': 'True',
            'X-Service-User-Id': k.user_ids['heat_deploy'],
            'X-Service-Project-Id': k.service_project_id,
            'OpenStack-System-Scope': 'all',
        }

    def acting_project(self, caller):
        """The project a request of this caller acts on (if it may)."""
        if caller.get('is_admin_project') and caller.get('project'):
            return caller['project']  # context_is_admin: its own
        return caller['url']

    def check_cell(self, route_name, caller_name):
        route = MATRIX['routes'][route_name]
        caller = MATRIX['callers'][caller_name]
        expected = str(MATRIX['expected'][route_name][caller_name])
        effect = route.get('effect')

        # Fresh objects for requests that change them.
        objects = dict(self.shared)
        if effect == 'deletes_config':
            objects['config_id'] = self.make_config('to-delete')
        elif effect in ('updates_deployment', 'deletes_deployment',
                        'signals_deployment', 'cancels_deployment',
                        'reruns_deployment'):
            objects = self.make_objects()
        elif effect == 'revokes_metadata_url':
            objects['server_id'] = str(uuid.uuid4())
        before = {}
        if effect == 'revokes_metadata_url':
            before['url'] = self.metadata_url(objects['server_id'])
            self.ok(requests.get(before['url'], timeout=REQUEST_TIMEOUT))
        names = dict(objects, project=self.project_ids[caller['url']],
                     new_server_id=str(uuid.uuid4()),
                     stack_name=heat_signal.STACK_NAME,
                     stack_id=objects['deployment_id'],
                     resource_name=heat_signal.RESOURCE_NAME)

        token = self.tokens[caller_name]
        if route.get('own_deployment_only') and caller.get('owns_deployment'):
            # A user named as HEAT_SIGNAL names the one it makes for this
            # very deployment: the name alone grants nothing.
            user = heat_signal.user_name(objects['deployment_id'])
            self.keystone.add_user(user, project=STACK_USER_PROJECT,
                                   roles=['heat_stack_user'],
                                   domain=self.keystone.stack_user_domain_id)
            token = self.keystone.token_for(user)[0]
        headers = self.forged_headers() if caller.get('forged_headers') \
            else {}
        path = _fill(route['path'], names)
        body = _fill(route.get('body'), names)

        response = self.call(route['method'], path, token, body, headers)
        where = '%s %s as %s (%s)' % (route['method'], path, caller_name,
                                      caller['title'])
        self.addDetail('response', content.text_content(
            '%d %s\n%s' % (response.status_code, response.headers,
                           response.text)))
        self.assertEqual(expected.rstrip('t'), str(response.status_code),
                         '%s: expected %s, got %d: %s'
                         % (where, expected, response.status_code,
                            response.text))
        self.check_response(response, expected, where)
        self.check_effect(route, caller, response, objects, body, before,
                          where)

    def check_response(self, response, expected, where):
        status = response.status_code
        if status == 204:
            self.assertEqual(b'', response.content, where)
            return
        self.assertEqual('application/json',
                         response.headers.get('Content-Type', '')
                         .split(';')[0], where)
        doc = response.json()
        if status < 400:
            return
        self.assertEqual(status, doc.get('code'), where)
        error_type = doc['error']['type']
        if status == 401:
            # keystonemiddleware's challenge, in Heat's fault format.
            self.assertEqual('Keystone uri="%s"' % self.keystone.endpoint,
                             response.headers.get('WWW-Authenticate'),
                             where)
        elif expected == '403t':
            self.assertEqual('HTTPForbidden', error_type, where)
        elif status == 403:
            self.assertEqual('Forbidden', error_type, where)
            self.assertIn('You are not authorized to use',
                          doc['error']['message'], where)
        elif status == 404:
            self.assertIn(error_type, ('DeploymentNotFound',
                                       'SoftwareConfigNotFound'), where)
        elif status == 400:
            self.assertIn('not found', doc['error']['message'], where)
        elif status == 409:
            # An allowed_status of the matrix: the deployment cannot do
            # what the request asks.
            self.assertEqual('DeploymentStateConflict', error_type, where)

    def check_effect(self, route, caller, response, objects, body, before,
                     where):
        """What the request changed, or that a refused one changed nothing.

        Also: lists and metadata show another project's caller none of
        project A's objects, and creates land in the acting project.
        """
        effect = route.get('effect')
        done = response.status_code < 300
        acting = self.acting_project(caller) if done else None
        admin = bool(caller.get('is_admin_project') and caller.get('project'))
        sees_configs = admin or acting == 'a'
        sees_deployments = sees_configs or acting == 'stack'
        doc = response.json() if done and response.content else {}

        if effect == 'lists_configs' and done:
            ids = [c['id'] for c in doc['software_configs']]
            self.assertEqual(sees_configs, objects['config_id'] in ids, where)
        elif effect == 'lists_deployments' and done:
            ids = [d['id'] for d in doc['software_deployments']]
            self.assertEqual(sees_deployments,
                             objects['deployment_id'] in ids, where)
        elif effect == 'lists_metadata' and done:
            ids = [c['id'] for c in doc['metadata']]
            self.assertEqual([objects['config_id']] if sees_deployments
                             else [], ids, where)
        elif effect == 'creates_config' and done:
            created = doc['software_config']['id']
            self.assertEqual(
                200 if acting == 'a' else 404,
                self.a_member_get('/software_configs/%s'
                                  % created).status_code,
                '%s: project A %s the new config'
                % (where, 'should see' if acting == 'a' else 'sees'))
        elif effect == 'creates_deployment' and done:
            created = doc['software_deployment']['id']
            self.assertEqual(
                200 if acting == 'a' else 404,
                self.a_member_get('/software_deployments/%s'
                                  % created).status_code, where)
        elif effect == 'deletes_config':
            self.assertEqual(
                404 if done else 200,
                self.a_member_get('/software_configs/%s'
                                  % objects['config_id']).status_code,
                where)
        elif effect == 'deletes_deployment':
            self.assertEqual(
                404 if done else 200,
                self.a_member_get('/software_deployments/%s'
                                  % objects['deployment_id']).status_code,
                where)
        elif effect == 'updates_deployment':
            shown = self.ok(self.a_member_get(
                '/software_deployments/%s' % objects['deployment_id'])
            )['software_deployment']
            self.assertEqual(body['status_reason'] if done
                             else 'Deploy data available',
                             shown['status_reason'], where)
        elif effect == 'signals_deployment':
            shown = self.ok(self.a_member_get(
                '/software_deployments/%s' % objects['deployment_id'])
            )['software_deployment']
            self.assertEqual('COMPLETE' if done else 'IN_PROGRESS',
                             shown['status'], where)
            if done:
                self.assertEqual(body['deploy_stdout'],
                                 shown['output_values']['deploy_stdout'],
                                 where)
        elif effect == 'lists_attempts' and done:
            # The shared deployment never ran again: its one attempt.
            self.assertEqual(
                [(1, objects['config_id'], 'IN_PROGRESS')],
                [(a['number'], a['config_id'], a['status'])
                 for a in doc['attempts']], where)
        elif effect == 'cancels_deployment':
            shown = self.ok(self.a_member_get(
                '/software_deployments/%s' % objects['deployment_id'])
            )['software_deployment']
            self.assertEqual(
                ('FAILED', 'Deployment cancelled.') if done
                else ('IN_PROGRESS', 'Deploy data available'),
                (shown['status'], shown['status_reason']), where)
            if done:
                answered = doc['software_deployment']
                self.assertEqual(
                    (shown['status'], shown['status_reason']),
                    (answered['status'], answered['status_reason']), where)
            # A cancelled config leaves its server's metadata.
            metadata = self.ok(self.a_member_get(
                '/software_deployments/metadata/%s' % objects['server_id'])
            )['metadata']
            self.assertEqual([] if done else [objects['config_id']],
                             [c['id'] for c in metadata], where)
        elif effect == 'reruns_deployment':
            # Refused (a plain deployment cannot run again, see
            # allowed_status) or not allowed: the same attempt, unchanged.
            shown = self.ok(self.a_member_get(
                '/software_deployments/%s' % objects['deployment_id'])
            )['software_deployment']
            self.assertEqual(
                (objects['config_id'], 'IN_PROGRESS',
                 'Deploy data available'),
                (shown['config_id'], shown['status'],
                 shown['status_reason']), where)
            attempts = self.ok(self.a_member_get(
                '/software_deployments/%s/attempts'
                % objects['deployment_id']))['attempts']
            self.assertEqual([1], [a['number'] for a in attempts], where)
        elif effect == 'hands_out_metadata_url' and done:
            # The URL serves the acting project's deployments of the server
            # and nothing of anyone else's.
            url = doc['os-collect-config']['request']['metadata_url']
            served = self.ok(requests.get(url, timeout=REQUEST_TIMEOUT))
            ids = [c['id'] for c in served['deployments']]
            self.assertEqual([objects['config_id']] if acting == 'a'
                             else [], ids, where)
        elif effect == 'revokes_metadata_url':
            # Only project A's own revocation ends project A's URL.
            status = requests.get(before['url'],
                                  timeout=REQUEST_TIMEOUT).status_code
            if done and acting == 'a':
                self.assertNotEqual(200, status, where)
            else:
                self.assertEqual(200, status, where)

    # Not cells of the matrix.

    def test_tokens_carry_the_roles_of_the_matrix(self):
        # tools/gen-rbac-matrix.py evaluates the policy with the roles and
        # projects that rbac_matrix.yaml gives the callers: check them.
        session = self.keystone.session_for('heat_deploy')
        project_keys = {v: k for k, v in self.project_ids.items()}
        for name, caller in MATRIX['callers'].items():
            if caller.get('token', 'valid') != 'valid':
                continue
            token = session.get(
                self.keystone.auth_url + '/auth/tokens',
                headers={'X-Subject-Token': self.tokens[name]}
            ).json()['token']
            self.assertEqual(set(caller['roles']),
                             {r['name'] for r in token['roles']}, name)
            project = token.get('project', {}).get('id')
            self.assertEqual(caller.get('project'),
                             project_keys.get(project), name)
            if project:
                # (Domain-scoped tokens have no is_admin_project, which
                # keystonemiddleware reports as True.)
                self.assertEqual(caller.get('is_admin_project', False),
                                 token['is_admin_project'], name)

    def test_forged_project_headers_do_not_move_a_new_config(self):
        # A's member claims project B in every header that could name it:
        # the config is still project A's.
        b_project = self.project_ids['b']
        headers = {'X-Project-Id': b_project, 'X-Tenant-Id': b_project,
                   'X-Tenant': b_project, 'X-Project-Name': 'project_b'}
        config = self.ok(self.call(
            'POST', '/v1/%s/software_configs' % self.project_ids['a'],
            self.member_token, {'config': 'x', 'name': 'forged'}, headers)
        )['software_config']
        self.ok(self.a_member_get('/software_configs/%s' % config['id']))
        b_token = self.tokens['b_member']
        self.assertEqual(404, self.call(
            'GET', '/v1/%s/software_configs/%s' % (b_project, config['id']),
            b_token).status_code)
        # And with B's URL, A's member is refused before anything else.
        self.assertEqual(403, self.call(
            'GET', '/v1/%s/software_configs' % b_project, self.member_token,
            headers=headers).status_code)

    def test_service_token_does_not_change_the_user(self):
        # A valid service token (the service user's, with role service)
        # sets X-Service-* only: A's reader stays a reader.
        service_token = self.keystone.token_for('heat_deploy')[0]
        headers = {'X-Service-Token': service_token}
        reader = self.tokens['a_reader']
        base = '/v1/%s/software_configs' % self.project_ids['a']
        self.ok(self.call('GET', base, reader, headers=headers))
        response = self.call('POST', base, reader, {'config': 'x'}, headers)
        self.assertEqual(403, response.status_code, response.text)
        # A service token alone is no user token.
        self.assertEqual(401, self.call('GET', base,
                                        headers=headers).status_code)

    def test_b_member_deploys_its_own_config(self):
        b_project = self.project_ids['b']
        b_token = self.tokens['b_member']
        config = self.ok(self.call(
            'POST', '/v1/%s/software_configs' % b_project, b_token,
            {'config': 'x', 'name': 'b-config'}))['software_config']
        server_id = str(uuid.uuid4())
        deployment = self.ok(self.call(
            'POST', '/v1/%s/software_deployments' % b_project, b_token,
            {'config_id': config['id'], 'server_id': server_id}
        ))['software_deployment']
        metadata = self.ok(self.call(
            'GET', '/v1/%s/software_deployments/metadata/%s'
            % (b_project, server_id), b_token))['metadata']
        self.assertEqual([config['id']], [c['id'] for c in metadata])
        # Project A sees none of it.
        self.assertEqual(404, self.a_member_get(
            '/software_deployments/%s' % deployment['id']).status_code)
        self.assertEqual([], self.ok(self.a_member_get(
            '/software_deployments/metadata/%s' % server_id))['metadata'])

    def test_stack_user_project_id_shares_nothing_with_another_project(self):
        """A member naming another project as stack user project.

        Heat shows such a deployment to every caller of the named project,
        so B's member could put a config of its own into the metadata of
        project A's server, and A's member could change and delete B's
        deployment. heat_deploy shares it with that project's stack users
        (heat_stack_user) only.
        """
        a_project, b_project = self.project_ids['a'], self.project_ids['b']
        b_token = self.tokens['b_member']
        server_id = self.shared['server_id']
        config = self.ok(self.call(
            'POST', '/v1/%s/software_configs' % b_project, b_token,
            {'name': '00-injected', 'config': 'echo injected'}
        ))['software_config']
        response = self.call(
            'POST', '/v1/%s/software_deployments' % b_project, b_token,
            {'config_id': config['id'], 'server_id': server_id,
             'stack_user_project_id': a_project})
        if response.status_code == 400:
            return  # refused: fine
        deployment = self.ok(response)['software_deployment']
        self.addCleanup(self.call, 'DELETE', '/v1/%s/software_deployments/%s'
                        % (b_project, deployment['id']), b_token)
        metadata = self.ok(self.a_member_get(
            '/software_deployments/metadata/%s' % server_id))['metadata']
        self.assertNotIn(config['id'], [c['id'] for c in metadata])
        listed = self.ok(self.a_member_get(
            '/software_deployments'))['software_deployments']
        self.assertNotIn(deployment['id'], [d['id'] for d in listed])
        self.assertEqual(404, self.call(
            'PUT', '/v1/%s/software_deployments/%s'
            % (a_project, deployment['id']), self.member_token,
            {'status_reason': 'changed by project A'}).status_code)

    def test_revoked_token_stops_working_within_token_cache_time(self):
        cache_time = self.keystone.token_cache_time
        token = self.keystone.token_for('a_member')[0]
        path = '/v1/%s/software_configs' % self.project_ids['a']
        # Accepted, and now in the token cache of (some of) the workers.
        for _ in range(4):
            self.ok(self.call('GET', path, token))
        self.keystone.revoke(token)
        revoked_at = time.monotonic()
        # It may keep working while a worker's cache holds it, but not
        # after token_cache_time: poll until then (with a margin for a
        # slow machine), and until it is refused.
        settled = revoked_at + cache_time + 0.5
        deadline = revoked_at + cache_time + 5
        first_refusal = None
        while time.monotonic() < deadline:
            status = self.call('GET', path, token).status_code
            self.assertIn(status, (200, 401))
            now = time.monotonic()
            if status == 401 and first_refusal is None:
                first_refusal = now - revoked_at
            if first_refusal is not None and now > settled:
                break
            time.sleep(0.2)
        self.assertIsNotNone(
            first_refusal, 'revoked token still accepted %.1f s after its '
            'revocation (token_cache_time = %d s)'
            % (time.monotonic() - revoked_at, cache_time))
        self.addDetail('first-refusal-seconds',
                       content.text_content('%.2f' % first_refusal))
        # From then on every worker refuses it.
        for _ in range(6):
            self.assertEqual(401, self.call('GET', path, token).status_code)


def _cell_test(route_name, caller_name):
    def test(self):
        self.check_cell(route_name, caller_name)
    route = MATRIX['routes'][route_name]
    test.__name__ = 'test_%s__%s' % (route_name, caller_name)
    test.__doc__ = '%s %s as %s: %s' % (
        route['method'], route['path'],
        MATRIX['callers'][caller_name]['title'],
        MATRIX['expected'][route_name][caller_name])
    return test


for _route in MATRIX['expected']:
    for _caller in MATRIX['expected'][_route]:
        _test = _cell_test(_route, _caller)
        setattr(TestRBACMatrix, _test.__name__, _test)
del _route, _caller, _test
