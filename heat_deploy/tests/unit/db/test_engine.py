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

"""How transactions that lost their connection are run again."""

import fixtures
from oslo_db import exception as db_exc
import testtools

from heat_deploy.db import engine


class TestAfterLostConnection(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.pauses = []
        self.useFixture(fixtures.MockPatch(
            'heat_deploy.db.engine.time.sleep',
            side_effect=self.pauses.append))

    def failing(self, times, error=db_exc.DBConnectionError):
        calls = []

        def call(value):
            calls.append(value)
            if len(calls) <= times:
                raise error()
            return value
        return calls, call

    def test_runs_again_at_once_then_after_growing_pauses(self):
        calls, call = self.failing(3)
        self.assertEqual('done', engine._after_lost_connection(
            db_exc.DBConnectionError, call, 'done'))
        self.assertEqual(['done'] * 4, calls)
        self.assertEqual([0, 0.1, 0.25], self.pauses)

    def test_gives_up_after_about_a_second_with_the_last_error(self):
        calls, call = self.failing(100)
        self.assertRaises(db_exc.DBConnectionError,
                          engine._after_lost_connection,
                          db_exc.DBConnectionError, call, 'x')
        self.assertEqual(len(engine.LOST_CONNECTION_PAUSES) + 1, len(calls))
        self.assertEqual(list(engine.LOST_CONNECTION_PAUSES), self.pauses)
        self.assertLess(sum(self.pauses), 1.5)

    def test_other_errors_are_not_run_again(self):
        calls, call = self.failing(1, error=db_exc.DBDataError)
        self.assertRaises(db_exc.DBDataError, engine._after_lost_connection,
                          db_exc.DBConnectionError, call, 'x')
        self.assertEqual(['x'], calls)

    def test_a_commit_that_lost_its_connection_is_not_run_again(self):
        # A write's loss outside its body (at the COMMIT) stays a plain
        # DBConnectionError, which writers do not run again.
        calls, call = self.failing(1)
        self.assertRaises(db_exc.DBConnectionError,
                          engine._after_lost_connection,
                          engine.LostBeforeCommit, call, 'x')
        self.assertEqual(['x'], calls)

    def test_a_loss_in_a_writers_body_is_before_its_commit(self):
        def body(ctx):
            raise db_exc.DBConnectionError()
        self.assertRaises(engine.LostBeforeCommit,
                          engine._uncommitted(body), object())
