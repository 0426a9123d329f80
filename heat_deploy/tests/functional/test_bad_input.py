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

"""No request, however odd, gets a 500: every write route, many bodies."""

from oslo_serialization import jsonutils

from heat_deploy.tests.functional import base

ODD_BODIES = [
    b'', b'null', b'true', b'1', b'"text"', b'[]', b'[{}]', b'{',
    b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}',
    b'\xff\xfe', b'{"name": "caf\xe9"}',
    b'[' * 50000 + b']' * 50000,
    b'{"a": ' * 50000 + b'1' + b'}' * 50000,
]

ODD_VALUES = [None, True, 0, -1, 1.5, 10 ** 40, '', 'x' * 70000,
              'nul\x00here', '\U0001F680', [], [None], {}, {'': None},
              {'\x00': '\x00'}, [[[[]]]]]

FIELDS = {
    'software_configs': ['name', 'group', 'config', 'inputs', 'outputs',
                         'options'],
    'software_deployments': ['config_id', 'server_id', 'input_values',
                             'action', 'status', 'status_reason',
                             'stack_user_project_id', 'signal_transport'],
    'update': ['config_id', 'input_values', 'output_values', 'action',
               'status', 'status_reason'],
    'signal': ['deploy_status_code', 'deploy_stdout', 'result'],
}


class TestNoServerErrors(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.config = self.create_config(
            name='c', outputs=[{'name': 'result'}])
        self.deployment = self.create_deployment(
            config_id=self.config['id'], server_id='s',
            status='IN_PROGRESS')
        item = '/software_deployments/' + self.deployment['id']
        self.routes = {
            'software_configs': ('POST', self.v1('/software_configs')),
            'software_deployments': ('POST',
                                     self.v1('/software_deployments')),
            'update': ('PUT', self.v1(item)),
            'signal': ('POST', self.v1(item + '/signal')),
        }

    def assert_client_error(self, resp, what):
        self.assertLess(resp.status, 500, '%s: %s' % (what, resp.body))
        self.assertGreaterEqual(resp.status, 200, what)
        if resp.status >= 400:
            self.assertEqual('application/json',
                             resp.headers['Content-Type'].split(';')[0],
                             what)
            self.assertIn('message', resp.json['error'], what)

    def test_odd_bodies(self):
        for name, (method, url) in sorted(self.routes.items()):
            for raw in ODD_BODIES + [b'{"template": 1}']:
                resp = self.call(method, url, data=raw)
                self.assert_client_error(resp, '%s %r' % (name, raw[:40]))
        validate = self.call('POST', self.v1('/validate'), data=b'[1]')
        self.assert_client_error(validate, 'validate')

    def test_odd_field_values(self):
        for name, (method, url) in sorted(self.routes.items()):
            for field in FIELDS[name]:
                for value in ODD_VALUES:
                    doc = {'config_id': self.config['id'],
                           'server_id': 'odd'}
                    doc[field] = value
                    resp = self.call(method, url, data=jsonutils.dump_as_bytes(
                        doc))
                    self.assert_client_error(
                        resp, '%s %s=%r' % (name, field, value))

    def test_odd_urls(self):
        for path in ('/software_configs/%00', '/software_configs?marker=%00',
                     '/software_configs?limit=%00',
                     '/software_deployments?server_id=%00',
                     '/software_deployments/metadata/%00',
                     '/software_deployments/' + 'x' * 5000,
                     '/servers/%00/os-collect-config',
                     '/software_configs?limit=99999999999999999999999'):
            resp = self.call('GET', self.v1(path))
            self.assert_client_error(resp, path)
        resp = self.call('GET', '/v1/%00/software_configs')
        self.assert_client_error(resp, 'NUL tenant')
        resp = self.call('GET', '/agent/v1/metadata/p/%00?generation=1&'
                         'signature=x', token=None)
        self.assert_client_error(resp, 'agent NUL')
