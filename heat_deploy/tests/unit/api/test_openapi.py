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

"""The OpenAPI document: up to date, and well-formed OpenAPI 3.1."""

import importlib.util
import json
import os
import re

import jsonschema
import testtools

from heat_deploy.api import openapi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
GENERATOR = os.path.join(ROOT, 'tools', 'gen-openapi.py')
METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch',
           'trace')


def _load_generator():
    spec = importlib.util.spec_from_file_location('gen_openapi', GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _walk(node, where=''):
    """(place, dict) of every object in a JSON document."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, '%s/%s' % (where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, '%s/%d' % (where, index))


def _resolve(document, ref):
    node = document
    for part in ref[2:].split('/'):
        part = part.replace('~1', '/').replace('~0', '~')
        node = node[part]
    return node


class TestOpenAPIDocument(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = _load_generator()
        # Through JSON, as the committed copy is.
        cls.document = json.loads(cls.generator.render(openapi.build()))

    def test_committed_copy_is_up_to_date(self):
        with open(self.generator.DOC_FILE, encoding='utf-8') as doc:
            committed = doc.read()
        self.assertEqual(
            self.generator.render(), committed,
            'doc/source/openapi.json is out of date: run '
            '"python tools/gen-openapi.py" (tox -e openapi) and commit it.')

    def test_version_and_required_parts(self):
        self.assertEqual('3.1.0', self.document['openapi'])
        self.assertEqual({'title', 'version', 'summary', 'description',
                          'license'}, set(self.document['info']))
        self.assertTrue(self.document['paths'])

    def test_every_ref_resolves(self):
        refs = 0
        for where, node in _walk(self.document):
            if '$ref' in node:
                ref = node['$ref']
                self.assertTrue(ref.startswith('#/'), where)
                try:
                    _resolve(self.document, ref)
                except (KeyError, IndexError, TypeError):
                    self.fail('%s: %s does not resolve' % (where, ref))
                refs += 1
        self.assertGreater(refs, 50)

    def _parameters(self, item, operation):
        params = {}
        for param in (item.get('parameters', [])
                      + operation.get('parameters', [])):
            if '$ref' in param:
                param = _resolve(self.document, param['$ref'])
            params[(param['in'], param['name'])] = param
        return params

    def test_every_path_parameter_is_declared_and_every_declared_used(self):
        for path, item in self.document['paths'].items():
            in_path = set(re.findall(r'{([^}]+)}', path))
            for method in METHODS:
                if method not in item:
                    continue
                params = self._parameters(item, item[method])
                declared = {name for (where, name), param in params.items()
                            if where == 'path'}
                self.assertEqual(in_path, declared, '%s %s' % (method, path))
                for (where, name), param in params.items():
                    if where == 'path':
                        self.assertTrue(param['required'], name)

    def test_operations(self):
        ids = set()
        for path, item in self.document['paths'].items():
            for method in METHODS:
                if method not in item:
                    continue
                operation = item[method]
                what = '%s %s' % (method, path)
                self.assertNotIn(operation['operationId'], ids, what)
                ids.add(operation['operationId'])
                self.assertTrue(operation['responses'], what)
                secured = operation['security'] == [{'keystone': []}]
                self.assertEqual(path.startswith('/v1/'), secured, what)
                if not secured:
                    self.assertEqual([], operation['security'], what)
                for code, response in operation['responses'].items():
                    if int(code) < 400 or path == '/healthcheck':
                        # oslo.middleware's healthcheck answers 503 itself.
                        continue
                    self.assertEqual('#/components/schemas/Fault',
                                     _resolve(self.document,
                                              response['$ref'])
                                     ['content']['application/json']
                                     ['schema']['$ref'], what)
        self.assertEqual(24, len(ids))

    def test_security_scheme(self):
        self.assertEqual(
            {'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token'},
            {key: value for key, value in
             self.document['components']['securitySchemes']['keystone']
             .items() if key != 'description'})

    def test_schemas_are_valid_json_schema(self):
        for name, schema in self.document['components']['schemas'].items():
            jsonschema.Draft202012Validator.check_schema(schema)

    def test_valid_against_the_openapi_3_1_schema(self):
        try:
            from schemathesis.specs.openapi import definitions
        except ImportError:
            self.skipTest('schemathesis (with the OpenAPI 3.1 schema) is '
                          'not installed')
        errors = sorted(
            jsonschema.Draft202012Validator(definitions.OPENAPI_31)
            .iter_errors(self.document), key=str)
        self.assertEqual([], ['%s: %s' % ('/'.join(map(str, err.path)),
                                          err.message) for err in errors])

    def test_generator_check_mode(self):
        self.assertEqual(0, self.generator.main(['--check']))
