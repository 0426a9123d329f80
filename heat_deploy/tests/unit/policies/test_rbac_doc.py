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

"""The published RBAC matrix, the policy defaults and the tested matrix agree.

``tools/gen-rbac-matrix.py`` computes the route x caller matrix from the
policy defaults and writes ``doc/source/rbac.rst``; the functional test
``test_keystone_rbac`` checks ``rbac_matrix.yaml``'s expected statuses
against a real Keystone. These tests tie the three together: change a policy
default and they say what else to update.
"""

import importlib.util
import os

import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
GENERATOR = os.path.join(ROOT, 'tools', 'gen-rbac-matrix.py')


def _load_generator():
    spec = importlib.util.spec_from_file_location('gen_rbac_matrix',
                                                  GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestRBACDoc(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.generator = _load_generator()
        cls.matrix = cls.generator.load_matrix()

    def test_expected_statuses_are_what_the_policy_defaults_give(self):
        computed = self.generator.compute_matrix(
            self.generator.make_enforcer(), self.matrix)
        expected = self.matrix['expected']
        self.assertEqual(set(self.matrix['routes']), set(expected))
        wrong = []
        for route, callers in computed.items():
            self.assertEqual(set(self.matrix['callers']),
                             set(expected[route]), route)
            for caller, status in callers.items():
                if str(expected[route][caller]) != str(status):
                    wrong.append('%s / %s: rbac_matrix.yaml expects %s, the '
                                 'policy defaults give %s'
                                 % (route, caller, expected[route][caller],
                                    status))
        self.assertEqual([], wrong)

    def test_every_documented_operation_is_in_the_matrix(self):
        # Raises ValueError naming the route or operation that is missing.
        self.generator.check_routes(self.matrix)

    def test_rbac_rst_is_up_to_date(self):
        path = os.path.join(ROOT, 'doc', 'source', 'rbac.rst')
        with open(path) as doc:
            current = doc.read()
        self.assertEqual(
            self.generator.render(self.matrix), current,
            'doc/source/rbac.rst is out of date: run '
            '"python tools/gen-rbac-matrix.py"')
