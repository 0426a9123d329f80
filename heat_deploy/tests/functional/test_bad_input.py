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

import io

from oslo_serialization import jsonutils
import webob

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


class TestDefectClasses(base.APITestCase):
    """One test per class of input that once got a 500."""

    def assert_fault(self, resp, status, what, message=None):
        self.assertEqual(status, resp.status, '%s: %s' % (what, resp.body))
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0], what)
        self.assertEqual({'code', 'title', 'explanation', 'error'},
                         set(resp.json), what)
        self.assertEqual(status, resp.json['code'], what)
        self.assertIsNone(resp.json['error']['traceback'], what)
        if message is not None:
            self.assertIn(message, resp.json['error']['message'], what)
        self.assertNotIn('Traceback', self.logs.output, what)

    def _deployment(self, **fields):
        config = self.create_config(name='c', outputs=[{'name': 'out'}])
        fields.setdefault('status', 'IN_PROGRESS')
        return config, self.create_deployment(
            config_id=config['id'], server_id='s', **fields)

    def test_path_bytes_that_are_not_utf8_are_400(self):
        config, deployment = self._deployment()
        for bad in ('%FF', '%C3%28', '%ED%A0%80'):
            for path in ('/v1/%s/software_configs' % bad,
                         self.v1('/software_configs/' + bad),
                         self.v1('/software_deployments/' + bad),
                         self.v1('/software_deployments/metadata/' + bad),
                         self.v1('/servers/%s/os-collect-config' % bad),
                         '/agent/v1/metadata/%s/s' % bad,
                         '/agent/v1/deployments/%s/signal' % bad,
                         '/%s' % bad):
                resp = self.call('GET', path)
                self.assert_fault(resp, 400, path, 'not valid UTF-8')

    def test_query_bytes_that_are_not_utf8_are_400(self):
        resp = self.call('GET', self.v1('/software_configs?marker=%FF'))
        self.assert_fault(resp, 400, 'query', 'query string')

    def test_repeated_query_parameters_are_400_naming_them(self):
        for query in ('limit=1&limit=2', 'marker=a&marker=b',
                      'global_tenant=true&global_tenant=false'):
            resp = self.call('GET', self.v1('/software_configs?' + query))
            self.assert_fault(resp, 400, query,
                              '"%s"' % query.split('=')[0])
        resp = self.call('GET', self.v1(
            '/software_deployments?server_id=a&server_id=b'))
        self.assert_fault(resp, 400, 'server_id', '"server_id"')

    def test_path_values_longer_than_their_column_are_404(self):
        tenant = 'x' * 65
        resp = self.call('POST', self.v1('/software_configs', tenant),
                         json={'name': 'c'})
        self.assert_fault(resp, 404, 'long tenant', 'project id')
        resp = self.call('GET', self.v1('/servers/%s/os-collect-config'
                                        % ('s' * 37)))
        self.assert_fault(resp, 404, 'long server id', 'server id')
        resp = self.call('DELETE', self.v1('/servers/%s/os-collect-config'
                                           % ('s' * 37)))
        self.assert_fault(resp, 404, 'long server id', 'server id')
        for path in ('/software_configs/', '/software_deployments/'):
            resp = self.call('GET', self.v1(path + 'i' * 5000))
            self.assert_fault(resp, 404, path)

    def test_lone_surrogates_are_400(self):
        config, deployment = self._deployment()
        item = self.v1('/software_deployments/' + deployment['id'])
        for method, url, raw, field in (
                ('POST', self.v1('/software_configs'),
                 b'{"name": "a\\ud800"}', '"name"'),
                ('PUT', item, b'{"status_reason": "\\udfff"}',
                 '"status_reason"'),
                ('POST', self.v1('/software_deployments'),
                 b'{"config_id": "%s", "server_id": "\\ud800"}'
                 % config['id'].encode(), '"server_id"'),
                ('POST', item + '/signal', b'{"out": ["\\udc00"]}',
                 '"out[0]"')):
            resp = self.call(method, url, data=raw)
            self.assert_fault(resp, 400, raw, field)
        # A proper pair is one character and is kept.
        resp = self.call('POST', self.v1('/software_configs'),
                         data=b'{"name": "\\ud83d\\ude80"}')
        self.assertEqual(200, resp.status, resp.body)
        self.assertEqual('\U0001F680', resp.json['software_config']['name'])

    def test_nul_in_a_signal_value_is_400(self):
        config, deployment = self._deployment()
        url = self.v1('/software_deployments/%s/signal' % deployment['id'])
        resp = self.call('POST', url, data=b'{"out": "a\\u0000b"}')
        self.assert_fault(resp, 400, 'NUL', '"out"')
        shown = self.call('GET', self.v1('/software_deployments/'
                                         + deployment['id']))
        self.assertEqual('IN_PROGRESS',
                         shown.json['software_deployment']['status'])

    def test_numbers_json_cannot_carry_back_are_400(self):
        config, deployment = self._deployment()
        item = self.v1('/software_deployments/' + deployment['id'])
        for method, url, raw in (
                ('POST', self.v1('/software_configs'),
                 b'{"name": "n", "options": {"x": 1e400}}'),
                ('PUT', item, b'{"output_values": {"x": -1e400}}'),
                ('POST', item + '/signal', b'{"out": 1E999}')):
            resp = self.call(method, url, data=raw)
            self.assert_fault(resp, 400, raw, 'too large')
        shown = self.call('GET', item)
        self.assertNotIn(b'Infinity', shown.body)

    def test_a_derived_config_belongs_to_its_deployment_alone(self):
        config = self.create_config(name='c')
        owner = self.create_deployment(config_id=config['id'],
                                       server_id='s',
                                       signal_transport='NO_SIGNAL')
        derived_id = owner['config_id']
        resp = self.call('POST', self.v1('/software_deployments'),
                         json={'config_id': derived_id, 'server_id': 'b'})
        self.assert_fault(resp, 400, 'borrowing create', owner['id'])
        plain = self.create_deployment(config_id=config['id'],
                                       server_id='b')
        resp = self.call('PUT', self.v1('/software_deployments/'
                                        + plain['id']),
                         json={'config_id': derived_id})
        self.assert_fault(resp, 400, 'borrowing PUT', 'belongs to it')
        # The owner keeps its rights over its config.
        item = self.v1('/software_deployments/' + owner['id'])
        resp = self.call('PUT', item, json={'action': 'UPDATE'})
        self.assertEqual(200, resp.status, resp.body)
        self.assertNotEqual(derived_id,
                            resp.json['software_deployment']['config_id'])
        self.assertEqual(204, self.call('DELETE', item).status)

    def test_options_is_405_with_allow(self):
        config, deployment = self._deployment()
        for path, allowed in (
                ('/software_configs', 'GET, POST'),
                ('/software_configs/' + config['id'], 'DELETE, GET'),
                ('/software_deployments/' + deployment['id'],
                 'DELETE, GET, PUT')):
            resp = self.call('OPTIONS', self.v1(path))
            self.assert_fault(resp, 405, path)
            self.assertEqual(allowed, resp.headers['Allow'], path)

    def test_chunked_body_over_the_limit_is_request_limit_exceeded(self):
        req = webob.Request.blank(self.v1('/software_configs'),
                                  method='POST',
                                  base_url='http://heat-deploy.test')
        req.headers['X-Auth-Token'] = 't'
        req.content_type = 'application/json'
        req.environ['wsgi.input'] = io.BytesIO(
            b'{"name": "%s"}' % (b'x' * 2000000))
        req.environ.pop('CONTENT_LENGTH', None)
        req.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
        req.environ['wsgi.input_terminated'] = True
        resp = base.Response(req.get_response(self.app))
        self.assert_fault(resp, 413, 'chunked')
        self.assertEqual('RequestLimitExceeded', resp.json['error']['type'])
