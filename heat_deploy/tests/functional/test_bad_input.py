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

"""No request, however odd, gets a 500: each gets the answer it should."""

import io

from oslo_serialization import jsonutils
import webob

from heat_deploy.tests.functional import base

# The answers the tables name, as (status, error.type).
OK = (200, None)
# The body's shape: not a JSON object, a field of the wrong JSON type or
# too long, a NUL character anywhere.
BAD = (400, 'HTTPBadRequest')
# What the operation refuses: an item of inputs or outputs, a signal
# transport, a config that does not exist.
INV = (400, 'Invalid')

# Bodies that are not a JSON object, or not strict JSON (UTF-8, no NaN or
# Infinity, not nested too deeply): BAD on every route that takes a body.
ODD_BODIES = [
    b'', b'null', b'true', b'1', b'"text"', b'[]', b'[1]', b'[{}]', b'{',
    b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}',
    b'\xff\xfe', b'{"name": "caf\xe9"}',
    b'[' * 50000 + b']' * 50000,
    b'{"a": ' * 50000 + b'1' + b'}' * 50000,
]

# An object whose only field is one that only /validate reads: the other
# routes answer as they answer {}.
TEMPLATE_ONLY = b'{"template": 1}'
TEMPLATE_ONLY_ANSWERS = {
    'software_configs': OK,       # a config of nulls
    'software_deployments': BAD,  # config_id and server_id are required
    'update': OK,                 # changes nothing
    'signal': OK,                 # an output the config does not declare
    'validate': BAD,              # the template must be an object
}

# The kinds of body field, the columns of ODD_VALUES:
#   any   any JSON value, stored as given
#   str   an optional string of at most 36, 64 or 255 characters
#   text  an optional string of any length
#   req   a required, non-empty string of at most 36 characters
#   cfg   config_id of a create: required, the id of an existing config
#   cfg?  config_id of a PUT: optional ("" changes nothing), else the id
#         of an existing config
#   obj   an optional JSON object
#   io    inputs or outputs: an optional list of objects, which config_io
#         checks item by item
#   enum  status: IN_PROGRESS, COMPLETE or FAILED
#   tran  signal_transport: the name of an enabled transport
#   vals  input_values: as obj, but its keys name inputs, so an empty key
#         is BAD (see _answer)
# None (null) counts as absent; a NUL character is BAD whatever the field.
KINDS = ('any', 'str', 'text', 'req', 'cfg', 'cfg?', 'obj', 'io', 'enum',
         'tran')
VALUES_BY_NAME = 'vals'

# Each odd value and the answer each kind of field gives it.
ODD_VALUES = [
    #                    any  str  text req  cfg  cfg? obj  io   enum tran
    (None,              (OK,  OK,  OK,  BAD, BAD, OK,  OK,  OK,  OK,  OK)),
    (True,              (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
    (0,                 (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
    (-1,                (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
    (1.5,               (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
    (10 ** 40,          (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
    ('',                (OK,  OK,  OK,  BAD, BAD, OK,  BAD, INV, BAD, INV)),
    ('x' * 70000,       (OK,  BAD, OK,  BAD, BAD, BAD, BAD, INV, BAD, INV)),
    ('nul\x00here',     (BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD)),
    ('\U0001F680',      (OK,  OK,  OK,  OK,  INV, INV, BAD, INV, BAD, INV)),
    ([],                (OK,  BAD, BAD, BAD, BAD, BAD, BAD, OK,  BAD, INV)),
    ([None],            (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
    ({},                (OK,  BAD, BAD, BAD, BAD, BAD, OK,  INV, BAD, INV)),
    ({'': None},        (OK,  BAD, BAD, BAD, BAD, BAD, OK,  INV, BAD, INV)),
    ({'\x00': '\x00'},  (BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD)),
    ([[[[]]]],          (OK,  BAD, BAD, BAD, BAD, BAD, BAD, INV, BAD, INV)),
]


def _answer(kind, value, answers):
    """The answer a field of this kind gives an odd value."""
    if kind == VALUES_BY_NAME:
        if isinstance(value, dict) and '' in value:
            return BAD
        kind = 'obj'
    return answers[KINDS.index(kind)]


# The kind of each field of each route's body.
FIELDS = {
    'software_configs': {
        'name': 'str', 'group': 'str', 'config': 'any', 'inputs': 'io',
        'outputs': 'io', 'options': 'obj'},
    'software_deployments': {
        'config_id': 'cfg', 'server_id': 'req', 'input_values': 'vals',
        'action': 'str', 'status': 'enum', 'status_reason': 'text',
        'stack_user_project_id': 'str', 'signal_transport': 'tran'},
    'update': {
        'config_id': 'cfg?', 'input_values': 'vals',
        'output_values': 'obj',
        'action': 'str', 'status': 'enum', 'status_reason': 'text'},
    # Outputs a server reports; "result" is one its config declares.
    'signal': {
        'deploy_status_code': 'any', 'deploy_stdout': 'any',
        'result': 'any'},
}

# GETs of odd URLs. {v1} stands for /v1/{the test's project}; the agent
# API takes no token.
ODD_URLS = [
    ('{v1}/software_configs/%00', BAD),
    ('{v1}/software_configs?marker=%00', BAD),
    ('{v1}/software_configs?limit=%00', BAD),
    ('{v1}/software_deployments?server_id=%00', BAD),
    ('{v1}/software_deployments/metadata/%00', BAD),
    ('{v1}/servers/%00/os-collect-config', BAD),
    ('/v1/%00/software_configs', BAD),
    ('/agent/v1/metadata/p/%00?generation=1&signature=x', BAD),
    # No deployment id is that long.
    ('{v1}/software_deployments/' + 'x' * 5000,
     (404, 'DeploymentNotFound')),
    # More than any table holds is no limit at all.
    ('{v1}/software_configs?limit=99999999999999999999999', OK),
]


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


class TestNoServerErrors(base.APITestCase):
    """Each odd request gets the answer that the tables above name."""

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
            'validate': ('POST', self.v1('/validate')),
        }
        # "what: expected ..., got ..." for each answer not in the tables,
        # reported together at the end of the test.
        self.mismatches = []

    def assert_no_mismatches(self):
        if self.mismatches:
            self.fail('%d answer(s) differ from the tables:\n%s'
                      % (len(self.mismatches), '\n'.join(self.mismatches)))

    def answer(self, resp, what):
        """(status, error.type) of a response; a fault must be Heat's."""
        self.assertLess(resp.status, 500, '%s: %s' % (what, resp.body))
        if resp.status < 400:
            return resp.status, None
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0], what)
        self.assertIn('message', resp.json['error'], what)
        return resp.status, resp.json['error']['type']

    def check(self, expected, resp, what):
        """Note a response whose answer is not ``expected``."""
        got = self.answer(resp, what)
        if got != expected:
            self.mismatches.append('%s: expected %s, got %s %s'
                                   % (what, expected, got, resp.body[:200]))

    def test_odd_bodies(self):
        for name, (method, url) in sorted(self.routes.items()):
            for raw in ODD_BODIES:
                resp = self.call(method, url, data=raw)
                self.check(BAD, resp, '%s %r' % (name, raw[:40]))
            resp = self.call(method, url, data=TEMPLATE_ONLY)
            self.check(TEMPLATE_ONLY_ANSWERS[name], resp,
                       '%s %r' % (name, TEMPLATE_ONLY))
        self.assert_no_mismatches()

    def test_odd_field_values(self):
        for name, fields in sorted(FIELDS.items()):
            method, url = self.routes[name]
            for field, kind in sorted(fields.items()):
                for value, answers in ODD_VALUES:
                    # A body that is right but for the one field.
                    doc = {'config_id': self.config['id'],
                           'server_id': 'odd', field: value}
                    resp = self.call(method, url,
                                     data=jsonutils.dump_as_bytes(doc))
                    what = '%s %s=%s' % (name, field, _short(value))
                    self.check(_answer(kind, value, answers), resp, what)
        self.assert_no_mismatches()

    def test_odd_urls(self):
        for path, expected in ODD_URLS:
            token = None if path.startswith('/agent/') else 't'
            resp = self.call('GET', path.replace('{v1}', self.v1('')),
                             token=token)
            self.check(expected, resp, path[:60])
        self.assert_no_mismatches()


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
