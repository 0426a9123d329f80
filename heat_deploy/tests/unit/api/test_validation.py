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

"""validate(): the request schemas, and messages a person can act on."""

import jsonschema
from oslo_serialization import jsonutils
import testtools

from heat_deploy.api import fault
from heat_deploy.api import schemas
from heat_deploy.api.schemas import common
from heat_deploy.api.schemas import signals
from heat_deploy.api.schemas import software_configs as configs
from heat_deploy.api.schemas import software_deployments as deployments
from heat_deploy.api.schemas import validate as validate_schema
from heat_deploy.api import validation

SECRET = 'hunter2-s3cr3t-Pa55w0rd'
CONFIG_ID = 'a8b2c3d4-0000-4000-8000-000000000001'


def _create(**fields):
    doc = {'config_id': CONFIG_ID, 'server_id': 'server-1'}
    doc.update(fields)
    return doc


class TestMessages(testtools.TestCase):
    """The messages the gabbi tests and clients see, word for word."""

    def assert_invalid(self, schema, document, message, field=None,
                       check=None):
        err = self.assertRaises(validation.InvalidBody, validation.validate,
                                schema, document)
        self.assertEqual(message, err.message)
        if field is not None:
            self.assertEqual(field, err.field)
        if check is not None:
            self.assertEqual(check, err.check)
        return err

    def test_required(self):
        self.assert_invalid(deployments.CREATE, {'server_id': 'server-1'},
                            'The field "config_id" is required.',
                            'config_id', 'required')
        self.assert_invalid(deployments.CREATE, {'config_id': CONFIG_ID},
                            'The field "server_id" is required.',
                            'server_id', 'required')

    def test_a_required_field_that_is_null_is_missing(self):
        self.assert_invalid(deployments.CREATE, _create(server_id=None),
                            'The field "server_id" is required.',
                            'server_id', 'required')

    def test_empty_required_string(self):
        self.assert_invalid(deployments.CREATE, _create(config_id=''),
                            'The field "config_id" must not be empty.',
                            'config_id', 'minLength')

    def test_type(self):
        self.assert_invalid(configs.CREATE, {'name': [1]},
                            'The field "name" must be a string, not a JSON '
                            'array.', 'name', 'type')
        self.assert_invalid(configs.CREATE, {'group': 1.5},
                            'The field "group" must be a string, not a JSON '
                            'number.')
        self.assert_invalid(configs.CREATE, {'options': True},
                            'The field "options" must be a JSON object, not '
                            'a JSON boolean.')
        self.assert_invalid(deployments.CREATE, _create(input_values=[1]),
                            'The field "input_values" must be a JSON '
                            'object, not a JSON array.')
        self.assert_invalid(deployments.UPDATE, {'output_values': 'done'},
                            'The field "output_values" must be a JSON '
                            'object, not a JSON string.')

    def test_body_type(self):
        for schema in (configs.CREATE, deployments.CREATE,
                       deployments.UPDATE, signals.SIGNAL,
                       validate_schema.VALIDATE):
            self.assert_invalid(schema, [1, 2], 'The request body must be a '
                                'JSON object, not a JSON array.', '', 'type')
        self.assert_invalid(signals.SIGNAL, None, 'The request body must be '
                            'a JSON object, not a JSON null.')
        # The resource signal route takes an empty body as null.
        self.assertIsNone(validation.validate(signals.RESOURCE_SIGNAL, None))
        self.assert_invalid(signals.RESOURCE_SIGNAL, 'x', 'The request body '
                            'must be a JSON object, not a JSON string.')

    def test_max_length(self):
        for schema, field, limit in (
                (configs.CREATE, 'name', 255),
                (configs.CREATE, 'group', 255),
                (deployments.CREATE, 'action', 255),
                (deployments.CREATE, 'server_id', 36),
                (deployments.CREATE, 'config_id', 36),
                (deployments.CREATE, 'stack_user_project_id', 64),
                (deployments.UPDATE, 'config_id', 36),
                (deployments.UPDATE, 'action', 255)):
            self.assert_invalid(
                schema, _create(**{field: 'x' * (limit + 1)}),
                'The field "%s" must be no more than %d characters.'
                % (field, limit), field, 'maxLength')
            validation.validate(schema, _create(**{field: 'x' * limit}))

    def test_enum(self):
        for schema in (deployments.CREATE, deployments.UPDATE):
            self.assert_invalid(
                schema, _create(status='DONE'),
                'The field "status" must be one of IN_PROGRESS, COMPLETE, '
                'FAILED, not "DONE".', 'status', 'enum')

    def test_enum_of_a_wrong_type_names_the_type(self):
        self.assert_invalid(deployments.UPDATE, {'status': 5},
                            'The field "status" must be a string, not a '
                            'JSON number.', 'status', 'type')

    def test_nulls_are_absent_fields(self):
        fields = dict.fromkeys(deployments.UPDATE['properties'])
        self.assertEqual(fields, validation.validate(deployments.UPDATE,
                                                     fields))
        fields = dict.fromkeys(configs.CREATE['properties'])
        validation.validate(configs.CREATE, fields)
        doc = dict.fromkeys(deployments.CREATE['properties'])
        doc.update(config_id=CONFIG_ID, server_id='s')
        validation.validate(deployments.CREATE, doc)

    def test_unknown_fields_are_ignored_as_in_heat(self):
        for schema in (configs.CREATE, deployments.CREATE,
                       deployments.UPDATE, signals.SIGNAL,
                       validate_schema.VALIDATE):
            doc = _create(template={}, unknown_top_level_key=[1])
            self.assertIs(doc, validation.validate(schema, doc))

    def test_what_code_checks_is_left_to_it(self):
        # config_io answers these with its Invalid errors, naming the item.
        for inputs in ({'name': 'x'}, ['a'], [{'type': 'Integer'}]):
            validation.validate(configs.CREATE, {'inputs': inputs,
                                                 'outputs': inputs})
        # requested_transport answers this one with Invalid.
        validation.validate(deployments.CREATE,
                            _create(signal_transport=5))
        # validate_template says what a software config template is.
        validation.validate(validate_schema.VALIDATE,
                            {'template': {'resources': []}})

    def test_validate_template_messages(self):
        self.assert_invalid(
            validate_schema.VALIDATE, {},
            'The request needs a "template" field. '
            + validate_schema.ONLY_CONFIGS, 'template', 'required')
        self.assert_invalid(
            validate_schema.VALIDATE, {'template': 1},
            'The field "template" must be a JSON object, not a JSON number. '
            + validate_schema.ONLY_CONFIGS, 'template', 'type')

    def test_nested_fields_are_named_by_their_path(self):
        self.assert_invalid(
            validate_schema.VALIDATE, {'template': {'description': 4}},
            'The field "template.description" must be a string, not a JSON '
            'number.', 'template.description', 'type')
        schema = {'type': 'object', 'properties': {
            'items': {'type': 'array', 'items': {
                'type': 'object', 'required': ['name']}}}}
        self.assert_invalid(schema, {'items': [{'name': 'a'}, {}]},
                            'The field "items[1].name" is required.',
                            'items[1].name', 'required')

    def test_the_outermost_problem_is_reported_first(self):
        self.assert_invalid(deployments.CREATE,
                            {'server_id': 'x' * 40, 'status': 'DONE'},
                            'The field "config_id" is required.')

    def test_other_checks(self):
        schema = {
            'type': 'object',
            'properties': {
                'count': {'type': 'integer', 'minimum': 1, 'maximum': 9},
                'ratio': {'type': 'number', 'exclusiveMinimum': 0,
                          'exclusiveMaximum': 1},
                'tags': {'type': 'array', 'minItems': 1, 'maxItems': 2,
                         'uniqueItems': True},
                'map': {'type': 'object', 'minProperties': 1,
                        'maxProperties': 1},
                'code': {'type': 'string', 'pattern': '^[A-Z]+$'},
                'kind': {'const': 'fixed'},
                'closed': {'type': 'object', 'properties': {'a': {}},
                           'additionalProperties': False},
                'neither': {'not': {'type': 'string'}},
            },
        }
        for doc, message in (
                ({'count': 0}, 'The field "count" must be at least 1.'),
                ({'count': 10}, 'The field "count" must be no more than 9.'),
                ({'count': 1.5}, 'The field "count" must be an integer, not '
                                 'a JSON number.'),
                ({'ratio': 0}, 'The field "ratio" must be more than 0.'),
                ({'ratio': 1}, 'The field "ratio" must be less than 1.'),
                ({'tags': []}, 'The field "tags" must have at least 1 '
                               'item(s).'),
                ({'tags': [1, 2, 3]}, 'The field "tags" must have no more '
                                      'than 2 item(s).'),
                ({'tags': [1, 1]}, 'The field "tags" must not repeat an '
                                   'item.'),
                ({'map': {}}, 'The field "map" must have at least 1 '
                              'key(s).'),
                ({'map': {'a': 1, 'b': 2}}, 'The field "map" must have no '
                                            'more than 1 key(s).'),
                ({'code': 'abc'}, 'The field "code" does not have the '
                                  'expected form (^[A-Z]+$).'),
                ({'kind': 'other'}, 'The field "kind" must be one of fixed, '
                                    'not "other".'),
                ({'closed': {'a': 1, 'b': 2}}, 'The field "closed" does not '
                                               'take the key(s) "b"; it '
                                               'takes a.'),
                ({'neither': 'x'}, 'The field "neither" is not valid (the '
                                   'not check of its schema).')):
            self.assert_invalid(schema, doc, message)

    def test_an_error_message_override(self):
        schema = {'type': 'object', 'required': ['when'], 'properties': {
            'when': {'type': 'string', common.ERROR_MESSAGES: {
                'type': '"%(field)s" takes a date, not a JSON %(actual)s.',
                'required': 'Say "%(field)s".'}}}}
        self.assert_invalid(schema, {}, 'Say "when".')
        self.assert_invalid(schema, {'when': 1},
                            '"when" takes a date, not a JSON number.')


class TestSecretsAreNeverEchoed(testtools.TestCase):

    def _messages(self, schema, doc):
        try:
            validation.validate(schema, doc)
        except validation.InvalidBody as err:
            return err.message
        return None

    def test_no_field_of_any_request_schema_quotes_its_value(self):
        values = [SECRET * 20, [SECRET], {SECRET: SECRET}, {'a': SECRET},
                  7, True]
        checked = 0
        for schema in schemas.REQUEST_SCHEMAS:
            for field in schema.get('properties', {}):
                for value in values:
                    message = self._messages(schema,
                                             _create(**{field: value}))
                    if message is None:
                        continue
                    checked += 1
                    self.assertNotIn(SECRET, message, (field, value))
                    self.assertNotIn('hunter2', message)
        self.assertGreater(checked, 30)

    def test_a_long_refused_enum_value_is_not_quoted(self):
        message = self._messages(deployments.UPDATE,
                                 {'status': SECRET * 4})
        self.assertEqual('The field "status" must be one of IN_PROGRESS, '
                         'COMPLETE, FAILED, not a string of %d characters.'
                         % (len(SECRET) * 4), message)

    def test_a_write_only_field_is_never_quoted(self):
        schema = {'type': 'object', 'properties': {'password': {
            'enum': ['a', 'b'], 'writeOnly': True}}}
        message = self._messages(schema, {'password': SECRET})
        self.assertEqual('The field "password" must be one of a, b, not a '
                         'string of %d characters.' % len(SECRET), message)

    def test_the_root_value_is_not_quoted(self):
        message = self._messages(signals.SIGNAL, SECRET)
        self.assertEqual('The request body must be a JSON object, not a '
                         'JSON string.', message)


class TestErrorClass(testtools.TestCase):

    def test_renders_as_heat_renders_webob_bad_requests(self):
        err = self.assertRaises(validation.InvalidBody, validation.validate,
                                deployments.CREATE, {})
        resp = fault.from_exception(err)
        self.assertEqual(400, resp.status_code)
        self.assertEqual(
            {'code': 400, 'title': 'Bad Request',
             'explanation': 'The server could not comply with the request '
                            'since it is either malformed or otherwise '
                            'incorrect.',
             'error': {'type': 'HTTPBadRequest',
                       'message': 'The field "config_id" is required.',
                       'traceback': None}},
            jsonutils.loads(resp.body))


class TestSchemas(testtools.TestCase):

    def test_every_schema_is_valid_draft_2020_12(self):
        for module in (common, configs, deployments, signals,
                       validate_schema):
            for name, value in vars(module).items():
                if name.isupper() and isinstance(value, dict):
                    jsonschema.Draft202012Validator.check_schema(value)

    def test_request_schemas_are_compiled_once_at_import(self):
        for schema in schemas.REQUEST_SCHEMAS:
            self.assertIn(id(schema), validation._VALIDATORS)
            self.assertIs(validation.compile_schema(schema),
                          validation.compile_schema(schema))

    def test_request_schemas_never_forbid_unknown_fields(self):
        # An action body's key is the action's name, not a field: an
        # unknown one is an error.
        for schema in schemas.REQUEST_SCHEMAS:
            if schema is not deployments.ACTION:
                self.assertNotIn('additionalProperties', schema)

    def test_input_values_keys_name_inputs_so_none_is_empty(self):
        # A derived config gets an input per key; an input needs a name.
        for schema, doc in (
                (deployments.CREATE, _create(input_values={'': 1})),
                (deployments.UPDATE, {'input_values': {'': 1}})):
            err = self.assertRaises(validation.InvalidBody,
                                    validation.validate, schema, doc)
            self.assertEqual('The field "input_values" must not have an '
                             'empty key: each key names an input.', str(err))

    def test_an_action_body_names_exactly_one_known_action(self):
        validation.validate(deployments.ACTION, {'cancel': {}})
        validation.validate(deployments.ACTION, {'rerun': {}})
        for doc, message in (
                ({}, 'The request body must name one action: cancel or '
                     'rerun.'),
                ({'cancel': {}, 'rerun': {}},
                 'The request body must name exactly one action (cancel '
                 'or rerun).'),
                ({'restart': {}}, 'The request body does not take the '
                                  'key(s) "restart"; it takes cancel, '
                                  'rerun.'),
                ({'cancel': None}, 'The field "cancel" must be a JSON '
                                   'object, not a JSON null.'),
                ({'cancel': {'force': True}},
                 'The field "cancel" does not take the key(s) "force"; it '
                 'takes none.')):
            err = self.assertRaises(validation.InvalidBody,
                                    validation.validate, deployments.ACTION,
                                    doc)
            self.assertEqual(message, str(err))

    def test_what_today_s_clients_send_is_valid(self):
        validation.validate(configs.CREATE, {
            'name': 'a-config', 'group': 'script', 'config': '#!/bin/sh',
            'inputs': [{'name': 'foo'}, {'name': 'bar', 'type': 'Number',
                                         'default': 3, 'description': None}],
            'outputs': [{'name': 'result', 'error_output': True}],
            'options': {'timeout': 30}, 'unknown_top_level_key': 'x'})
        validation.validate(configs.CREATE, {})
        validation.validate(deployments.CREATE, _create(
            input_values={'foo': 'bar', 'n': 1}, action='CREATE',
            status='IN_PROGRESS', status_reason='Deploy data available',
            stack_user_project_id='p' * 64, signal_transport='CFN_SIGNAL'))
        validation.validate(deployments.UPDATE, {
            'status': 'COMPLETE', 'status_reason': '',
            'output_values': {'deploy_status_code': 0}, 'input_values': {},
            'action': None})
        validation.validate(deployments.UPDATE, {})
        validation.validate(signals.SIGNAL, {'deploy_stdout': 'x',
                                             'deploy_status_code': 1,
                                             'result': [1]})
        validation.validate(validate_schema.VALIDATE, {'template': {
            'heat_template_version': '2013-05-23',
            'resources': {'config': {
                'type': 'OS::Heat::SoftwareConfig',
                'properties': {'group': 'script', 'config': 'echo hi'}}}}})
