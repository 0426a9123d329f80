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

"""SELECTs run on the driver's cursor give what SQLAlchemy would."""

import datetime
import logging
from unittest import mock

import fixtures
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
import testtools

from heat_deploy.db import prepared
from heat_deploy.db import types

metadata = sa.MetaData()
ITEMS = sa.Table(
    'item', metadata,
    sa.Column('id', sa.String(36), primary_key=True),
    sa.Column('owner', sa.String(64)),
    sa.Column('state', sa.String(16)),
    sa.Column('created_at', types.Timestamp()),
    sa.Column('document', types.Json()),
)
CREATED = datetime.datetime(2026, 12, 3, 7, 0, 0, 123456)

# The literal 'gone' is bound by position between the two named values.
BY_OWNER = sa.select(ITEMS.c.id, ITEMS.c.created_at, ITEMS.c.document).where(
    ITEMS.c.owner == sa.bindparam('owner'),
    ITEMS.c.state != 'gone',
    ITEMS.c.id >= sa.bindparam('from_id')).order_by(ITEMS.c.id)


class TestPreparedSelect(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # oslo.db's engine, with its exception filters, as the service's.
        self.engine = engines.create_engine('sqlite://')
        self.addCleanup(self.engine.dispose)
        metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            connection.execute(ITEMS.insert(), [
                {'id': 'a', 'owner': 'p1', 'state': 'ok',
                 'created_at': CREATED, 'document': {'inputs': [1]}},
                {'id': 'b', 'owner': 'p1', 'state': 'gone',
                 'created_at': CREATED, 'document': None},
                {'id': 'c', 'owner': 'p1', 'state': 'ok',
                 'created_at': CREATED, 'document': ['x']},
                {'id': 'd', 'owner': 'p2', 'state': 'ok',
                 'created_at': CREATED, 'document': {}},
            ])
        self.connection = self.engine.connect()
        self.addCleanup(self.connection.close)

    def test_rows_are_those_sqlalchemy_gives(self):
        select = prepared.PreparedSelect(BY_OWNER, name='Item')
        values = {'owner': 'p1', 'from_id': 'a'}
        rows = select.rows(self.connection, values)
        expected = self.connection.execute(BY_OWNER, values).all()
        self.assertEqual([tuple(row) for row in expected],
                         [tuple(row) for row in rows])
        first = rows[0]
        self.assertEqual(('a', CREATED, {'inputs': [1]}),
                         (first.id, first.created_at, first.document))
        # SQLite keeps datetimes as text: the column type's processor
        # made it a datetime again.
        self.assertIsInstance(first.created_at, datetime.datetime)
        self.assertEqual(['x'], rows[1].document)
        self.assertEqual('Item', type(first).__name__)

    def test_named_values_and_literals_reach_their_places(self):
        select = prepared.PreparedSelect(BY_OWNER)
        self.assertEqual(['c'], [row.id for row in select.rows(
            self.connection, {'owner': 'p1', 'from_id': 'b'})])
        self.assertEqual(['d'], [row.id for row in select.rows(
            self.connection, {'owner': 'p2', 'from_id': 'a'})])
        self.assertEqual([], select.rows(
            self.connection, {'owner': 'p3', 'from_id': 'a'}))

    def test_one_or_none(self):
        select = prepared.PreparedSelect(
            sa.select(ITEMS.c.state).where(ITEMS.c.id == sa.bindparam('id')))
        found = select.one_or_none(self.connection, {'id': 'b'})
        self.assertEqual('gone', found.state)
        self.assertIsNone(select.one_or_none(self.connection, {'id': 'z'}))
        several = prepared.PreparedSelect(sa.select(ITEMS.c.id))
        self.assertRaises(sa.exc.MultipleResultsFound,
                          several.one_or_none, self.connection, {})

    def test_runs_in_the_transaction_of_its_connection(self):
        select = prepared.PreparedSelect(BY_OWNER)
        with self.engine.connect() as connection:
            with connection.begin() as transaction:
                connection.execute(ITEMS.insert(), {
                    'id': 'e', 'owner': 'p2', 'state': 'ok',
                    'created_at': CREATED, 'document': None})
                self.assertEqual(['d', 'e'], [row.id for row in select.rows(
                    connection, {'owner': 'p2', 'from_id': 'a'})])
                transaction.rollback()
            self.assertEqual(['d'], [row.id for row in select.rows(
                connection, {'owner': 'p2', 'from_id': 'a'})])

    def test_a_driver_error_is_sqlalchemys_and_oslo_dbs(self):
        missing = sa.Table('missing', sa.MetaData(),
                           sa.Column('id', sa.String(36)))
        select = prepared.PreparedSelect(sa.select(missing.c.id))
        # The driver's own error would be sqlite3.OperationalError.
        self.assertRaises(db_exc.DBNonExistentTable,
                          select.rows, self.connection, {})

    def test_a_driver_error_that_passes_gives_sqlalchemys_rows(self):
        select = prepared.PreparedSelect(BY_OWNER)
        pooled = self.connection.connection
        failures = [self.engine.dialect.loaded_dbapi.OperationalError('once')]

        def cursor():
            if failures:
                raise failures.pop()
            return pooled.dbapi_connection.cursor()
        with mock.patch.object(pooled, 'cursor', autospec=True,
                               side_effect=cursor):
            rows = select.rows(self.connection,
                               {'owner': 'p1', 'from_id': 'a'})
        self.assertEqual([('a', CREATED, {'inputs': [1]}),
                          ('c', CREATED, ['x'])],
                         [tuple(row) for row in rows])

    def test_in_a_transaction_a_driver_error_is_not_run_again(self):
        # The error may have ended the transaction: run again, the
        # statement would read in a new one as if nothing had happened.
        select = prepared.PreparedSelect(BY_OWNER)
        with self.engine.connect() as connection:
            with connection.begin():
                pooled = connection.connection
                calls = []

                def cursor():
                    calls.append(1)
                    raise self.engine.dialect.loaded_dbapi.OperationalError(
                        'the transaction was rolled back')
                with mock.patch.object(pooled, 'cursor', autospec=True,
                                       side_effect=cursor):
                    # SQLAlchemy's error, which oslo.db passes on as it
                    # is (an OperationalError that is no disconnect).
                    self.assertRaises(sa.exc.OperationalError, select.rows,
                                      connection,
                                      {'owner': 'p1', 'from_id': 'a'})
        self.assertEqual([1], calls)

    def test_statements_are_logged_while_the_engine_logs_them(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='sqlalchemy.engine.Engine', level=logging.INFO))
        select = prepared.PreparedSelect(BY_OWNER)
        # SQLAlchemy decides whether to log when a connection is made.
        with self.engine.connect() as connection:
            rows = select.rows(connection, {'owner': 'p2', 'from_id': 'a'})
        self.assertEqual(['d'], [row.id for row in rows])
        self.assertIn('SELECT item.id', logger.output)

    def test_a_value_the_driver_cannot_take_as_it_is_is_refused(self):
        # SQLite stores datetimes as text: the type converts them.
        select = prepared.PreparedSelect(sa.select(ITEMS.c.id).where(
            ITEMS.c.created_at < sa.bindparam('before', type_=sa.DateTime)))
        error = self.assertRaises(ValueError, select.rows, self.connection,
                                  {'before': CREATED})
        self.assertIn('before', str(error))
