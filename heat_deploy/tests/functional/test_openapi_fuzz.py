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

"""Schemathesis fuzzes every operation of the OpenAPI document.

One test method per operation of heat_deploy.api.openapi.build(): requests
generated from the description (valid ones, and invalid ones that break
it) go to the complete in-process application. Most requests name the
test's own project and, often, objects made in setUp (a config, plain and
CFN_SIGNAL/TEMP_URL_SIGNAL deployments, signed agent URLs), so that writes
reach the database. Every response must be below 500, every 4xx must be
Heat's fault body, and every response must match the description (status
code, content type, headers, body schema).

HEAT_DEPLOY_OPENAPI_EXAMPLES sets the examples per operation (default 200);
HEAT_DEPLOY_OPENAPI_RANDOM=1 draws new examples on every run instead of
the same derandomized ones.
"""

import os
from urllib import parse

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis import GenerationMode
from testtools import content

from heat_deploy.api import openapi
from heat_deploy.tests.functional import base

EXAMPLES = int(os.environ.get('HEAT_DEPLOY_OPENAPI_EXAMPLES', '200'))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get('HEAT_DEPLOY_OPENAPI_RANDOM', '') != '1',
    # No .hypothesis directory in the source tree.
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck))

DOCUMENT = openapi.build()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]

FAULT_KEYS = {'code', 'title', 'explanation', 'error'}
TRANSPORTS = ('CFN_SIGNAL', 'TEMP_URL_SIGNAL', 'NO_SIGNAL', 'HEAT_SIGNAL',
              'ZAQAR_SIGNAL')
ROLES = ('reader', '', 'admin,member,reader', 'heat_stack_user',
         'member,heat_stack_user')
ACCEPT = st.one_of(
    st.sampled_from(['application/json', '*/*', 'text/plain', 'text/html',
                     'application/vnd.openstack.orchestration-v1.0']),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e),
            max_size=30))


def _operations():
    """(operationId, method, path) of every operation, in document order."""
    for path, item in DOCUMENT['paths'].items():
        for method in ('get', 'put', 'post', 'delete'):
            if method in item:
                yield item[method]['operationId'], method, path


def _often(data, percent):
    """True in at least about ``percent`` % of examples, and when shrunk.

    Hypothesis favours small integers, so the common outcome is a small one.
    """
    return data.draw(st.integers(0, 99), label='dice') < percent


def _rarely(data, percent):
    """True in about ``percent`` % of examples; False when shrunk."""
    return data.draw(st.integers(0, 99), label='dice') >= 100 - percent


def _query(url):
    return dict(parse.parse_qsl(parse.urlsplit(url).query))


class TestOpenAPIFuzz(base.APITestCase):
    """Generated test_<operationId> methods; see _fuzz."""

    def setUp(self):
        super().setUp()
        self.config = self.create_config(
            name='fuzz', group='script', config='echo hi',
            inputs=[{'name': 'foo', 'default': 'x'},
                    {'name': 'n', 'type': 'Number', 'default': 1}],
            outputs=[{'name': 'result'},
                     {'name': 'oops', 'error_output': True}],
            options={'o': 1})
        self.plain = self.create_deployment(
            config_id=self.config['id'], server_id='server-1',
            status='IN_PROGRESS', input_values={'foo': 'y'})
        self.cfn = self.create_deployment(
            config_id=self.config['id'], server_id='server-1',
            signal_transport='CFN_SIGNAL')
        self.temp_url = self.create_deployment(
            config_id=self.config['id'], server_id='server-2',
            signal_transport='TEMP_URL_SIGNAL')
        self.signal_params = {
            'post': (self.cfn['id'], self._signal_query(self.cfn)),
            'put': (self.temp_url['id'], self._signal_query(self.temp_url)),
        }
        settings_url = self.call('GET', self.v1(
            '/servers/server-1/os-collect-config')).json[
                'os-collect-config']['request']['metadata_url']
        self.metadata_query = _query(settings_url)
        self.config_ids = [self.config['id'], self.cfn['config_id']]
        self.deployment_ids = [self.plain['id'], self.cfn['id'],
                               self.temp_url['id']]
        self.requests = 0

    def _signal_query(self, deployment):
        config = self.call('GET', self.v1(
            '/software_configs/' + deployment['config_id'])).json
        inputs = {item['name']: item
                  for item in config['software_config']['inputs']}
        return _query(inputs['deploy_signal_id']['value'])

    # -- Steering generated cases towards the objects of setUp.

    def _real_config_id(self, data, operation_id):
        if operation_id == 'deleteSoftwareConfig':
            return self.create_config(name='doomed')['id']
        return data.draw(st.sampled_from(self.config_ids),
                         label='config_id')

    def _real_deployment_id(self, data, operation_id):
        if operation_id == 'deleteSoftwareDeployment':
            return self.create_deployment(config_id=self.config['id'],
                                          server_id='server-3')['id']
        deployment_id = data.draw(st.sampled_from(self.deployment_ids),
                                  label='deployment_id')
        if 'ignal' in operation_id and _often(data, 70):
            # Signals change only IN_PROGRESS deployments.
            self.call('PUT', self.v1('/software_deployments/'
                                     + deployment_id),
                      json={'status': 'IN_PROGRESS'})
        return deployment_id

    def _steer_path(self, data, operation_id, method, path, params):
        if path.startswith('/agent/v1/deployments/'):
            if _often(data, 50):
                deployment_id, query = self.signal_params[method]
                params['deployment_id'] = deployment_id
                return query
            return None
        if path.startswith('/agent/v1/metadata/'):
            if _often(data, 50):
                params.update(tenant_id=self.tenant, server_id='server-1')
                return self.metadata_query
            return None
        if 'tenant_id' in params and _often(data, 85):
            params['tenant_id'] = self.tenant
        if 'config_id' in params and _often(data, 60):
            params['config_id'] = self._real_config_id(data, operation_id)
        for name in ('deployment_id', 'stack_id'):
            if name in params and _often(data, 60):
                params[name] = self._real_deployment_id(data, operation_id)
        if 'server_id' in params and _often(data, 60):
            params['server_id'] = data.draw(
                st.sampled_from(['server-1', 'server-2']), label='server')
        return None

    def _steer_body(self, data, operation_id, body):
        if not isinstance(body, dict):
            return
        if operation_id in ('createSoftwareDeployment',
                            'updateSoftwareDeployment'):
            if _often(data, 60):
                body['config_id'] = data.draw(
                    st.sampled_from(self.config_ids), label='body config')
            if operation_id == 'createSoftwareDeployment' and _often(
                    data, 30):
                body['signal_transport'] = data.draw(
                    st.sampled_from(TRANSPORTS), label='transport')

    def _steer_query(self, data, operation_id, query):
        if operation_id == 'listSoftwareConfigs' and _often(data, 30):
            query['marker'] = data.draw(st.sampled_from(self.config_ids),
                                        label='marker')
        if operation_id == 'listSoftwareDeployments' and _often(data, 30):
            query['server_id'] = 'server-1'

    def _headers(self, data, path):
        headers = {}
        if path.startswith('/v1/'):
            token = 't' if not _rarely(data, 8) else data.draw(
                st.sampled_from([None, '', 'other-token']), label='token')
            if token is not None:
                headers['X-Auth-Token'] = token
            if _rarely(data, 10):
                headers['X-Roles'] = data.draw(st.sampled_from(ROLES),
                                               label='roles')
        else:
            headers['Accept'] = data.draw(ACCEPT, label='accept')
        return headers

    # -- The checks.

    def assert_fault(self, case, response):
        what = '%s: %s %s' % (case.operation.label, response.status_code,
                              response.text[:500])
        self.assertEqual('application/json',
                         response.headers.get('content-type', [''])[0]
                         .split(';')[0], what)
        doc = response.json()
        self.assertEqual(FAULT_KEYS, set(doc), what)
        self.assertEqual(response.status_code, doc['code'], what)
        error = doc['error']
        self.assertIsInstance(error['type'], str, what)
        self.assertIsInstance(error['message'], str, what)
        self.assertTrue(error['message'], what)
        self.assertIsNone(error['traceback'], what)

    def check_response(self, case, response, headers):
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failures:
            # An AssertionError, which testtools reports as a failure.
            self.fail(str(failures))
        if response.status_code >= 400:
            self.assert_fault(case, response)

    def _fuzz(self, operation_id, method, path):
        operation = SCHEMA.find_operation_by_id(operation_id)
        strategies = [operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE)]
        if path.startswith(('/v1/', '/agent/')):
            # Invalid requests too; the others have nothing to break.
            strategies.append(operation.as_strategy(
                generation_mode=GenerationMode.NEGATIVE))
        cases = st.one_of(strategies)

        @FUZZ
        @given(data=st.data())
        def run(data):
            case = data.draw(cases, label='case')
            params = case.path_parameters
            query = self._steer_path(data, operation_id, method, path,
                                     params if params is not None else {})
            if query is not None:
                case.query = dict(case.query or {}, **query)
            if isinstance(case.query, dict):
                self._steer_query(data, operation_id, case.query)
            self._steer_body(data, operation_id, case.body)
            headers = self._headers(data, path)
            response = case.call(app=self.app, headers=headers)
            self.requests += 1
            self.check_response(case, response, headers)

        run()
        self.addDetail('requests', content.text_content(
            '%d requests' % self.requests))
        # Hypothesis stops early when it believes it has seen everything.
        self.assertGreaterEqual(self.requests, EXAMPLES)


def _make_test(operation_id, method, path):
    def test(self):
        self._fuzz(operation_id, method, path)
    test.__name__ = 'test_%s' % operation_id
    test.__doc__ = '%s %s' % (method.upper(), path)
    return test


for _operation_id, _method, _path in _operations():
    setattr(TestOpenAPIFuzz, 'test_%s' % _operation_id,
            _make_test(_operation_id, _method, _path))
