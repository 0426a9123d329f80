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

"""Heat's signal rules, without a database."""

import testtools

from heat_deploy.operations import signal_rules as rules

DECLARED = [{'name': 'result', 'type': 'String', 'error_output': False},
            {'name': 'problem', 'type': 'String', 'error_output': True}]


class TestApply(testtools.TestCase):

    def test_ignored_unless_in_progress(self):
        for status in ('COMPLETE', 'FAILED', None):
            self.assertIsNone(rules.apply(status, {}, DECLARED,
                                          {'result': 'x'}))

    def test_success_keeps_declared_and_standard_outputs(self):
        result = rules.apply('IN_PROGRESS', None, DECLARED, {
            'deploy_stdout': 'out', 'deploy_stderr': 'err',
            'deploy_status_code': 0, 'result': 'r', 'undeclared': 'dropped'})
        self.assertEqual('COMPLETE', result.status)
        self.assertEqual('Outputs received', result.status_reason)
        self.assertEqual({'deploy_stdout': 'out', 'deploy_stderr': 'err',
                          'deploy_status_code': 0, 'result': 'r'},
                         result.output_values)
        self.assertEqual('deployment d1 succeeded', result.describe('d1'))

    def test_zero_as_string_and_null_are_success(self):
        for code in ('0', None, 0):
            result = rules.apply('IN_PROGRESS', {}, [],
                                 {'deploy_status_code': code})
            self.assertEqual('COMPLETE', result.status, code)

    def test_non_zero_status_code_fails(self):
        result = rules.apply('IN_PROGRESS', {}, DECLARED,
                             {'deploy_status_code': 3})
        self.assertEqual('FAILED', result.status)
        self.assertEqual('deploy_status_code : Deployment exited with '
                         'non-zero status code: 3', result.status_reason)
        self.assertEqual('deployment d1 failed (3)', result.describe('d1'))

    def test_error_output_fails_and_reasons_are_joined(self):
        result = rules.apply('IN_PROGRESS', {}, DECLARED,
                             {'deploy_status_code': 2, 'problem': 'disk'})
        self.assertEqual('FAILED', result.status)
        self.assertEqual('deploy_status_code : Deployment exited with '
                         'non-zero status code: 2, problem : disk',
                         result.status_reason)
        self.assertEqual('disk', result.output_values['problem'])

    def test_error_output_alone_fails_without_code(self):
        result = rules.apply('IN_PROGRESS', {}, DECLARED, {'problem': 'x'})
        self.assertEqual('problem : x', result.status_reason)
        self.assertEqual('deployment d1 failed', result.describe('d1'))

    def test_outputs_merge_with_earlier_values(self):
        result = rules.apply('IN_PROGRESS',
                             {'result': 'old', 'deploy_stdout': 'old'},
                             DECLARED, {'deploy_status_code': 0})
        self.assertEqual('old', result.output_values['result'])
        # Standard outputs are always replaced, null when absent.
        self.assertIsNone(result.output_values['deploy_stdout'])

    def test_null_details_count_as_empty(self):
        result = rules.apply('IN_PROGRESS', None, DECLARED, None)
        self.assertEqual('COMPLETE', result.status)
        self.assertEqual({'deploy_stdout': None, 'deploy_stderr': None,
                          'deploy_status_code': None},
                         result.output_values)
