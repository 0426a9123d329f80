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

"""Pooled connections that the database closed are replaced, not used.

Connections in steady use are not pinged (a round trip saved on every
request); one that sat unused for [database_pool] ping_after_idle seconds
is, and a read that meets a dead one runs again on a new one. The test
kills this process's own connections from the server side, on the
database server of HEAT_DEPLOY_TEST_DB (MariaDB or PostgreSQL).
"""

import os

import fixtures
import sqlalchemy as sa
import testtools

from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import prepared
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import service

BACKEND = os.environ.get(db_fixture.BACKEND_ENV, 'sqlite')
SESSION_ID = {'mysql': 'SELECT CONNECTION_ID()',
              'postgresql': 'SELECT pg_backend_pid()'}
KILL = {'mysql': 'KILL %d',
        'postgresql': 'SELECT pg_terminate_backend(%d)'}


@engine.reader
def _read_session_id(ctx):
    return ctx.session.execute(sa.text(SESSION_ID[BACKEND])).scalar()


@engine.writer
def _write_session_id(ctx):
    return ctx.session.execute(sa.text(SESSION_ID[BACKEND])).scalar()


@testtools.skipUnless(BACKEND in SESSION_ID,
                      'needs a database server behind a connection')
class TestDeadPooledConnections(testtools.TestCase):

    def setUp(self):
        super().setUp()
        engine.configure(service.make_conf())
        self.clock = [1000.0]
        self.useFixture(fixtures.MockPatch(
            'heat_deploy.db.engine.time.monotonic',
            side_effect=lambda: self.clock[0]))
        admin = sa.create_engine(db_fixture.ADMIN_URLS[BACKEND],
                                 isolation_level='AUTOCOMMIT')
        self.addCleanup(admin.dispose)
        self.admin = admin
        # The pool is the process's; start from one known connection.
        engine.get_engine().pool.dispose()
        self.first = _read_session_id(context.get_admin_context())

    def _kill_first(self):
        with self.admin.connect() as connection:
            connection.exec_driver_sql(KILL[BACKEND] % self.first)

    def test_a_connection_in_steady_use_is_not_pinged(self):
        pings = []
        dialect = engine.get_engine().dialect
        self.useFixture(fixtures.MockPatchObject(
            type(dialect), 'do_ping',
            side_effect=lambda connection: pings.append(1) or True))
        for _try in range(3):
            self.clock[0] += 1
            self.assertEqual(self.first, _read_session_id(
                context.get_admin_context()))
        self.assertEqual([], pings)
        self.clock[0] += 10
        self.assertEqual(self.first, _read_session_id(
            context.get_admin_context()))
        self.assertEqual([1], pings)

    def test_an_idle_dead_connection_is_replaced_before_a_write(self):
        self._kill_first()
        self.clock[0] += 10
        replaced = _write_session_id(context.get_admin_context())
        self.assertNotEqual(self.first, replaced)

    def test_a_write_on_a_dead_connection_runs_again(self):
        self._kill_first()
        # Not idle long enough to be pinged: the write's first statement
        # meets the dead connection; nothing was committed, so the
        # transaction runs again on a new one.
        replaced = _write_session_id(context.get_admin_context())
        self.assertNotEqual(self.first, replaced)

    def test_a_read_on_a_dead_connection_runs_again(self):
        self._kill_first()
        # Not idle long enough to be pinged: the read meets the dead
        # connection, and runs again on a new one.
        replaced = _read_session_id(context.get_admin_context())
        self.assertNotEqual(self.first, replaced)


@engine.reader_connection
def _poll_session_id(ctx, connection):
    return connection.execute(sa.text(SESSION_ID[BACKEND])).scalar()


_PREPARED_SESSION_ID = {
    backend: prepared.PreparedSelect(
        sa.text(sql).columns(sa.column('id', sa.Integer)))
    for backend, sql in SESSION_ID.items()}


@engine.reader_connection
def _prepared_poll_session_id(ctx, connection):
    return _PREPARED_SESSION_ID[BACKEND].rows(connection, {})[0].id


@engine.reader_connection
def _poll_value(ctx, table, connection):
    return connection.execute(
        sa.text('SELECT n FROM %s' % table)).scalar()


@testtools.skipUnless(BACKEND in SESSION_ID,
                      'needs a database server behind a connection')
class TestPollReads(testtools.TestCase):
    """The one-statement reads of the agents' polls: autocommit, with no
    ROLLBACK after them, on a pool of their own.
    """

    def setUp(self):
        super().setUp()
        engine.configure(service.make_conf())
        admin = sa.create_engine(db_fixture.ADMIN_URLS[BACKEND],
                                 isolation_level='AUTOCOMMIT')
        self.addCleanup(admin.dispose)
        self.admin = admin

    def test_each_poll_sees_what_was_committed_since_the_last(self):
        # In a transaction left open (REPEATABLE READ on MariaDB), the
        # second read would still see 1.
        table = 'poll_%s' % os.getpid()
        url = engine.get_engine().url
        writer = sa.create_engine(url, isolation_level='AUTOCOMMIT')
        self.addCleanup(writer.dispose)
        with writer.connect() as connection:
            connection.exec_driver_sql('CREATE TABLE %s (n INTEGER)' % table)
            connection.exec_driver_sql('INSERT INTO %s VALUES (1)' % table)
        self.addCleanup(self._drop, writer, table)
        ctx = context.get_admin_context()
        self.assertEqual(1, _poll_value(ctx, table))
        with writer.connect() as connection:
            connection.exec_driver_sql('UPDATE %s SET n = 2' % table)
        self.assertEqual(2, _poll_value(context.get_admin_context(), table))

    @staticmethod
    def _drop(writer, table):
        with writer.connect() as connection:
            connection.exec_driver_sql('DROP TABLE %s' % table)

    def test_a_poll_on_a_dead_connection_runs_again(self):
        first = _poll_session_id(context.get_admin_context())
        self.assertEqual(first,
                         _poll_session_id(context.get_admin_context()))
        with self.admin.connect() as connection:
            connection.exec_driver_sql(KILL[BACKEND] % first)
        replaced = _poll_session_id(context.get_admin_context())
        self.assertNotEqual(first, replaced)

    def test_a_prepared_poll_on_a_dead_connection_runs_again(self):
        # The metadata reads run on the driver's cursor: the driver's
        # error still ends as oslo.db's, and the read runs again.
        first = _prepared_poll_session_id(context.get_admin_context())
        self.assertEqual(first, _prepared_poll_session_id(
            context.get_admin_context()))
        with self.admin.connect() as connection:
            connection.exec_driver_sql(KILL[BACKEND] % first)
        replaced = _prepared_poll_session_id(context.get_admin_context())
        self.assertNotEqual(first, replaced)

    def test_polls_run_in_autocommit_mode(self):
        polls_engine = engine.polls.reader.get_engine()
        self.assertIsNot(engine.get_engine(), polls_engine)
        with polls_engine.connect() as connection:
            self.assertTrue(polls_engine.dialect.detect_autocommit_setting(
                connection.connection.dbapi_connection))
