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

"""Validation and normalisation of config inputs and outputs."""

import testtools

from heat_deploy import exception
from heat_deploy.operations import config_io


class TestInputs(testtools.TestCase):

    def test_type_defaults_to_string_and_nulls_are_dropped(self):
        self.assertEqual(
            [{'name': 'a', 'type': 'String'}],
            config_io.normalise_inputs([{'name': 'a', 'description': None,
                                         'default': None}]))

    def test_none_means_no_inputs(self):
        self.assertEqual([], config_io.normalise_inputs(None))

    def test_replace_on_change_kept_only_when_true(self):
        self.assertEqual(
            [{'name': 'a', 'type': 'String', 'replace_on_change': True},
             {'name': 'b', 'type': 'String'}],
            config_io.normalise_inputs([
                {'name': 'a', 'replace_on_change': True},
                {'name': 'b', 'replace_on_change': False}]))

    def test_defaults_checked_against_type(self):
        good = [('Number', 3), ('Number', '2.5'), ('Boolean', 'yes'),
                ('Boolean', False), ('Json', {'a': 1}), ('Json', '[1]'),
                ('String', 'x'), ('Number', '')]
        for io_type, default in good:
            config_io.normalise_inputs([{'name': 'a', 'type': io_type,
                                         'default': default}])
        bad = [('Number', 'many'), ('Number', True), ('Boolean', 'perhaps'),
               ('Json', 3), ('String', 4), ('CommaDelimitedList', {})]
        for io_type, default in bad:
            err = self.assertRaises(
                exception.Invalid, config_io.normalise_inputs,
                [{'name': 'a', 'type': io_type, 'default': default}])
            self.assertIn('inputs[0] (a): "default"', err.message)
            self.assertIn(io_type, err.message)

    def test_comma_delimited_default_becomes_a_list(self):
        [item] = config_io.normalise_inputs([
            {'name': 'a', 'type': 'CommaDelimitedList', 'default': 'x, y'}])
        self.assertEqual(['x', 'y'], item['default'])

    def test_value_is_kept(self):
        [item] = config_io.normalise_inputs([{'name': 'a', 'value': 7}])
        self.assertEqual(7, item['value'])

    def test_errors_name_the_item_and_field(self):
        cases = [
            ([{'type': 'String'}], 'inputs[0]: "name" is required'),
            ([{'name': ''}], 'inputs[0]: "name" is required'),
            ([{'name': 'a', 'colour': 'red'}],
             'inputs[0]: unknown key(s) colour'),
            ([{'name': 'a', 'type': 'Integer'}],
             'inputs[0] (a): "type" must be one of'),
            ([{'name': 'a', 'replace_on_change': 'yes'}],
             '"replace_on_change" must be a boolean'),
            ([{'name': 'a', 'description': 5}],
             '"description" must be a string'),
            (['a'], 'inputs[0]: each item must be an object'),
            ({'name': 'a'}, '"inputs" must be a list of objects'),
        ]
        for inputs, expected in cases:
            err = self.assertRaises(exception.Invalid,
                                    config_io.normalise_inputs, inputs)
            self.assertIn(expected, err.message)
            self.assertEqual(400, err.code)


class TestOutputs(testtools.TestCase):

    def test_error_output_always_present(self):
        self.assertEqual(
            [{'name': 'a', 'type': 'String', 'error_output': False},
             {'name': 'b', 'type': 'Number', 'error_output': True}],
            config_io.normalise_outputs([
                {'name': 'a'},
                {'name': 'b', 'type': 'Number', 'error_output': True}]))

    def test_outputs_have_no_default(self):
        err = self.assertRaises(exception.Invalid,
                                config_io.normalise_outputs,
                                [{'name': 'a', 'default': 1}])
        self.assertIn('outputs[0]: unknown key(s) default', err.message)

    def test_error_output_must_be_boolean(self):
        self.assertRaises(exception.Invalid, config_io.normalise_outputs,
                          [{'name': 'a', 'error_output': 'yes'}])
