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

import datetime
import uuid

import fixtures
from oslo_db import exception as db_exc
import sqlalchemy as sa
import testtools

from heat_deploy.db import engine
from heat_deploy.db import events
from heat_deploy.db import models
from heat_deploy import exception
from heat_deploy.tests.unit.operations import base

NOW = datetime.datetime(2026, 12, 3, 5, 0, 0)


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


class TestWriterConnection(base.OperationsTestCase):
    """writer_connection: a write transaction on a Core connection."""

    def setUp(self):
        super().setUp()
        self.name = uuid.uuid4().hex

    def event_ids(self):
        @engine.reader
        def read(ctx):
            return [row.message_id for row in ctx.session.execute(
                sa.select(models.EventOutbox).where(
                    models.EventOutbox.event_type == self.name)).scalars()]
        return read(self.context())

    def lease_names(self):
        @engine.reader
        def read(ctx):
            return ctx.session.execute(
                sa.select(models.WorkerLease.name).where(
                    models.WorkerLease.name == self.name)).scalars().all()
        return read(self.context())

    def add_event(self, ctx, message_id):
        # A payload as the service writes them: other tests read the
        # outbox too.
        events.add_event(ctx.connection, message_id, self.name,
                         {'tenant_id': self.project}, NOW)

    def test_commits_what_it_wrote(self):
        @engine.writer_connection
        def write(ctx):
            self.assertFalse(hasattr(ctx, 'session') and ctx.session)
            self.add_event(ctx, 'm1')
        write(self.context())
        self.assertEqual(['m1'], self.event_ids())

    def test_a_refusal_rolls_it_back(self):
        @engine.writer_connection
        def write(ctx):
            self.add_event(ctx, 'm1')
            raise exception.DeploymentNotFound(deployment_id='d')
        self.assertRaises(exception.DeploymentNotFound, write,
                          self.context())
        self.assertEqual([], self.event_ids())

    def test_a_session_writer_inside_joins_its_transaction(self):
        @engine.writer
        def add_lease(ctx):
            ctx.session.add(models.WorkerLease(name=self.name))

        @engine.writer_connection
        def write(ctx, fail):
            self.add_event(ctx, 'm1')
            add_lease(ctx)
            if fail:
                raise exception.DeploymentNotFound(deployment_id='d')
        self.assertRaises(exception.DeploymentNotFound, write,
                          self.context(), True)
        self.assertEqual(([], []), (self.event_ids(), self.lease_names()))
        write(self.context(), False)
        self.assertEqual((['m1'], [self.name]),
                         (self.event_ids(), self.lease_names()))


class TestReaderConnection(base.OperationsTestCase):
    """reader_connection: one read on a Connection handed to the function."""

    def setUp(self):
        super().setUp()
        self.name = uuid.uuid4().hex

    def test_reads_on_a_connection_of_the_polls_pool(self):
        @engine.reader_connection
        def read(ctx, value, connection):
            self.assertIs(engine.polls.reader.get_engine(),
                          connection.engine)
            # No transaction context: nothing here may expect one.
            self.assertRaises(AttributeError, getattr, ctx,
                              'transaction_ctx')
            return connection.execute(sa.select(sa.literal(value))).scalar()
        self.assertEqual(7, read(self.context(), 7))

    def test_a_read_inside_a_write_sees_what_it_wrote(self):
        @engine.reader_connection
        def lease_names(ctx, connection):
            return connection.execute(
                sa.select(models.WorkerLease.name).where(
                    models.WorkerLease.name == self.name)).scalars().all()

        @engine.writer
        def add_lease_and_read(ctx):
            ctx.session.add(models.WorkerLease(name=self.name))
            ctx.session.flush()
            return lease_names(ctx)
        self.assertEqual([self.name], add_lease_and_read(self.context()))

    def test_a_lost_connection_runs_it_again(self):
        self.useFixture(fixtures.MockPatch(
            'heat_deploy.db.engine.time.sleep'))
        calls = []

        @engine.reader_connection
        def read(ctx, connection):
            calls.append(connection)
            if len(calls) == 1:
                raise db_exc.DBConnectionError()
            return 'read'
        self.assertEqual('read', read(self.context()))
        self.assertEqual(2, len(calls))
