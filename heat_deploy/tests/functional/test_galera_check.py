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

"""The Galera check's queries on a real MariaDB (a single server: not a
cluster). Only session variables are set; the server's global variables
are shared by tests running in parallel and never changed.
"""

from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
import testtools

from heat_deploy.checks import galera
from heat_deploy.tests import db_fixture


class TestOnMariaDB(testtools.TestCase):

    def engine(self, **oslo_db_settings):
        """An engine made as oslo.db makes the service's, on a database of
        its own.
        """
        database = self.useFixture(db_fixture.Database('mysql'))
        engine = engines.create_engine(database.url, max_retries=0,
                                       **oslo_db_settings)
        self.addCleanup(engine.dispose)
        return engine

    def read(self, engine):
        """read_settings on a connection of ``engine``; returns (settings,
        statements it ran).
        """
        statements = []

        @sa.event.listens_for(engine, 'before_cursor_execute')
        def count(connection, cursor, statement, *args):
            statements.append(statement)

        with engine.connect() as connection:
            settings = galera.read_settings(connection)
        return settings, statements

    def test_a_single_server_is_not_a_cluster_in_one_round_trip(self):
        settings, statements = self.read(self.engine())
        self.assertEqual('OFF', settings['wsrep_on'])
        self.assertIn(settings.get('transaction_isolation')
                      or settings['tx_isolation'],
                      ('REPEATABLE-READ', 'READ-COMMITTED'))
        self.assertIn('binlog_format', settings)
        self.assertIn('innodb_autoinc_lock_mode', settings)
        # The status of a cluster is not asked for.
        self.assertNotIn('wsrep_cluster_status', settings)
        self.assertEqual(1, len(statements), statements)
        self.assertIsNone(galera.galera_result(settings))

    def test_the_session_value_oslo_db_sets_is_the_one_read(self):
        # [database] mysql_wsrep_sync_wait, as oslo.db applies it to every
        # new connection of the pool.
        settings, _statements = self.read(self.engine(
            mysql_wsrep_sync_wait=1))
        self.assertEqual('1', settings['wsrep_sync_wait'])
        # The same values on a Galera node would pass the causal reads
        # rule (the other settings of this server may not).
        cluster = dict(settings, wsrep_on='ON', binlog_format='ROW',
                       innodb_autoinc_lock_mode='2')
        self.assertEqual('OK', galera.galera_result(cluster).code)
        self.assertIn('wsrep_sync_wait=0', galera.galera_result(
            dict(cluster, wsrep_sync_wait='0')).line())
