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

"""Running the checks: their order, exit codes and the start-up refusal."""

import sqlalchemy as sa

from heat_deploy import checks
from heat_deploy.db import migration
from heat_deploy.tests import db_fixture
from heat_deploy.tests.unit.checks import base


class TestRun(base.ChecksTestCase):

    def migrated(self):
        database = self.useFixture(db_fixture.Database('sqlite'))
        engine = sa.create_engine(database.url)
        self.addCleanup(engine.dispose)
        migration.upgrade(engine=engine)
        return database.url

    def test_everything_ok_exits_0(self):
        conf = self.conf({'database': {'connection': self.migrated()}})
        results = checks.run(conf)
        self.assertEqual([check.title for check in checks.CHECKS],
                         [title for title, _result in results])
        self.assertEqual([checks.OK] * len(checks.CHECKS),
                         [result.code for _title, result in results])
        self.assertEqual(0, checks.exit_code(results))
        checks.check_startup(conf)

    def test_exit_codes(self):
        ok = ('a', checks.Result(checks.OK, 'fine'))
        warning = ('b', checks.Result(checks.WARNING, 'hmm'))
        failure = ('c', checks.Result(checks.FAILURE, 'no'))
        self.assertEqual(0, checks.exit_code([ok]))
        self.assertEqual(1, checks.exit_code([ok, warning]))
        self.assertEqual(2, checks.exit_code([failure, warning, ok]))

    def test_a_refused_option_value_is_a_failure(self):
        conf = self.conf({'api': {'auth_strategy': 'kerberos'}})
        title, result = checks.run(conf, [checks.check_keystone])[0]
        self.assertEqual('Keystone authentication', title)
        self.assertResult(checks.FAILURE, result, 'kerberos')

    def test_a_check_that_raises_is_a_failure(self):
        @checks.titled('Broken')
        def broken(conf):
            raise KeyError('bug')

        [(title, result)] = checks.run(self.conf(), [broken])
        self.assertResult(checks.FAILURE, result, 'KeyError')

    def test_start_up_refuses_with_every_failure_and_logs_warnings(self):
        conf = self.conf({'api': {'auth_strategy': 'keystone'},
                          'signal': {'signing_keys': 'short'}})
        err = self.assertRaises(checks.StartupFailure, checks.check_startup,
                                conf)
        lines = str(err).splitlines()
        self.assertEqual(2, len(lines), lines)
        self.assertIn('auth_type is not set', lines[0])
        self.assertIn('heat-deploy-manage db sync', lines[1])
        self.assertEqual([checks.FAILURE] * 2,
                         [result.code for result in err.failures])
        self.assertIn('key 1 is shorter than 32 characters',
                      self.logs.output)
