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

"""Test cases that call heat_deploy as a member of a real Keystone
project, and the one that also runs a real Zaqar behind a TCP proxy.
"""

import uuid

from cryptography import fernet
import requests
import testtools

from heat_deploy.tests.functional.fixtures import keystone
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional.fixtures import tcpproxy
from heat_deploy.tests.functional.fixtures import zaqar


class ProjectMemberCase(testtools.TestCase):
    """Each test acts as ``a_member`` of its project in ``cls.keystone``
    against ``cls.server``, with a fresh server id and a source config
    running ``script``.
    """

    #: The source config's script.
    script = None
    #: The source config's inputs.
    source_inputs = ({'name': 'foo'},)

    def setUp(self):
        super().setUp()
        self.use_project('a_member')

    def use_project(self, user):
        token, self.project_id = self.keystone.token_for(user)
        self.base = self.server.endpoint(self.project_id)
        self.session = requests.Session()
        self.session.headers['X-Auth-Token'] = token
        self.server_id = str(uuid.uuid4())
        self.source = self.request('POST', '/software_configs', json={
            'name': 'hello', 'group': 'script', 'config': self.script,
            'inputs': list(self.source_inputs),
            'outputs': [{'name': 'result'}]})['software_config']

    def request(self, method, path, status=200, **kwargs):
        resp = self.session.request(method, self.base + path, timeout=60,
                                    **kwargs)
        self.assertEqual(status, resp.status_code, resp.text)
        return resp.json() if resp.content else None

    def show(self, deployment):
        return self.request('GET', '/software_deployments/'
                            + deployment['id'])['software_deployment']


class ZaqarCase(ProjectMemberCase):
    """heat_deploy (gunicorn, Keystone auth, ZAQAR_SIGNAL enabled) and a
    Zaqar that heat_deploy and the servers reach, through the catalog, at
    ``cls.proxy``: cutting the proxy is Zaqar going away.
    """

    #: Keep gunicorn's access log (RunningServer.access_log).
    access_log = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not zaqar.configured_python():
            raise cls.skipException('%s is not set; tox sets it '
                                    '(tools/fetch-zaqar.sh)'
                                    % zaqar.PYTHON_ENV)
        cls.keystone = keystone.start_shared()
        cls._class_fixtures = []
        try:
            cls.zaqar = cls._use(zaqar.ZaqarFixture(cls.keystone,
                                                    register=False))
            cls.proxy = cls._use(tcpproxy.TCPProxy(zaqar.HOST,
                                                   cls.zaqar.port))
            cls.keystone.register_service(
                'messaging', 'http://%s:%d' % (zaqar.HOST, cls.proxy.port),
                'zaqar', 'Zaqar, through the test\'s proxy')
            cls.server = cls._use(service.RunningServer(sections={
                'api': {'auth_strategy': 'keystone'},
                'keystone_authtoken': cls.keystone.auth_token_options(),
                'signal': {
                    'enabled_transports':
                        'CFN_SIGNAL,NO_SIGNAL,ZAQAR_SIGNAL',
                    'encryption_keys': fernet.Fernet.generate_key().decode()},
                'heat_signal': cls.keystone.heat_signal_options(),
                'zaqar': {'timeout': '5'},
            }, access_log=cls.access_log))
        except Exception:
            cls._tear_down_fixtures()
            raise

    @classmethod
    def _use(cls, fixture):
        fixture.setUp()
        cls._class_fixtures.append(fixture)
        return fixture

    @classmethod
    def _tear_down_fixtures(cls):
        for fixture in reversed(cls._class_fixtures):
            fixture.cleanUp()
        cls.keystone.cleanUp()

    @classmethod
    def tearDownClass(cls):
        cls._tear_down_fixtures()
        super().tearDownClass()
