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

"""The Galera settings check: the decision from the values, and where it
runs (the database check, heat-deploy-worker's start-up).
"""

import io

import fixtures
import sqlalchemy as sa

from heat_deploy import checks
from heat_deploy.checks import galera
from heat_deploy.checks import service
from heat_deploy.cmd import worker as worker_cmd
from heat_deploy.db import engine as db_engine
from heat_deploy.db import migration
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import service as service_fixture
from heat_deploy.tests.unit.checks import base

# A node as heat_deploy needs it, as read_settings returns it.
GOOD = {
    'wsrep_on': 'ON',
    'wsrep_sync_wait': '1',
    'tx_isolation': 'REPEATABLE-READ',
    'binlog_format': 'ROW',
    'innodb_autoinc_lock_mode': '2',
    'wsrep_cluster_status': 'Primary',
    'wsrep_local_state_comment': 'Synced',
}


def _node(**changes):
    settings = dict(GOOD)
    for name, value in changes.items():
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
    return settings


class TestGaleraResult(base.ChecksTestCase):

    def test_not_a_cluster(self):
        # A single MariaDB (wsrep_on OFF), MySQL (no wsrep_on at all).
        self.assertIsNone(galera.galera_result(_node(wsrep_on='OFF')))
        self.assertIsNone(galera.galera_result({
            'transaction_isolation': 'REPEATABLE-READ',
            'binlog_format': 'STATEMENT'}))

    def test_a_node_as_needed_is_ok(self):
        self.assertResult(checks.OK, galera.galera_result(GOOD),
                          'Synced', 'Primary', 'wsrep_sync_wait=1',
                          'REPEATABLE-READ', 'binlog_format=ROW')

    def test_read_committed_and_other_sync_wait_bits_are_ok(self):
        # MySQL 8 and MariaDB 11.1 name it transaction_isolation; 3 is
        # READ and UPDATE/DELETE.
        result = galera.galera_result(_node(
            tx_isolation=None, transaction_isolation='READ-COMMITTED',
            wsrep_sync_wait='3'))
        self.assertResult(checks.OK, result, 'READ-COMMITTED')

    def test_without_causal_reads_it_refuses_on_one_line(self):
        for sync_wait in ('0', '2', '4', '6', None):
            result = galera.galera_result(_node(wsrep_sync_wait=sync_wait))
            self.assertResult(
                checks.FAILURE, result,
                'Galera cluster (wsrep_on=ON) but wsrep_sync_wait=%s for '
                'this service\'s connections' % (sync_wait or '0'),
                'Set [database] mysql_wsrep_sync_wait = 1')
            self.assertNotIn('\n', result.line())

    def test_read_uncommitted_is_refused(self):
        self.assertResult(
            checks.FAILURE,
            galera.galera_result(_node(tx_isolation='READ-UNCOMMITTED')),
            'READ-UNCOMMITTED', 'rolled back', 'REPEATABLE-READ')

    def test_serializable_warns(self):
        self.assertResult(
            checks.WARNING,
            galera.galera_result(_node(tx_isolation='SERIALIZABLE')),
            'SERIALIZABLE', 'one node only')

    def test_statement_or_mixed_binlog_is_refused(self):
        for binlog_format in ('STATEMENT', 'MIXED'):
            self.assertResult(
                checks.FAILURE,
                galera.galera_result(_node(binlog_format=binlog_format)),
                'binlog_format=%s' % binlog_format,
                'Set binlog_format = ROW')

    def test_autoinc_lock_mode_other_than_2_warns(self):
        self.assertResult(
            checks.WARNING,
            galera.galera_result(_node(innodb_autoinc_lock_mode='1')),
            'innodb_autoinc_lock_mode=1', 'Set innodb_autoinc_lock_mode = 2')

    def test_a_node_outside_the_primary_component_warns(self):
        self.assertResult(
            checks.WARNING,
            galera.galera_result(_node(wsrep_cluster_status='non-Primary')),
            'not in the primary component (non-Primary)', '503')

    def test_a_node_not_synced_warns(self):
        self.assertResult(
            checks.WARNING,
            galera.galera_result(_node(wsrep_local_state_comment='Donor/'
                                                                 'Desynced')),
            'Donor/Desynced, not Synced')

    def test_a_failure_and_a_warning_fail_together(self):
        result = galera.galera_result(_node(
            wsrep_sync_wait='0', innodb_autoinc_lock_mode='1'))
        self.assertResult(checks.FAILURE, result, 'wsrep_sync_wait=0',
                          'innodb_autoinc_lock_mode=1')
        # What refuses the start comes first.
        self.assertTrue(result.line().startswith('Galera cluster'))


class _FakeConnections(fixtures.Fixture):
    """The service's connections read ``settings`` (no server needed)."""

    def __init__(self, settings):
        super().__init__()
        self.settings = settings

    def _setUp(self):
        self.useFixture(fixtures.MockPatchObject(
            galera, 'read_settings', lambda connection: self.settings))


class TestWhereItRuns(base.ChecksTestCase):

    def migrated(self):
        """The parsed configuration of a new migrated SQLite database."""
        database = self.useFixture(db_fixture.Database('sqlite'))
        engine = sa.create_engine(database.url)
        self.addCleanup(engine.dispose)
        migration.upgrade(engine=engine)
        return self.conf({'database': {'connection': database.url}})

    def as_mysql(self, conf, settings):
        """Make the service's database look like a MySQL server whose
        connections read ``settings``.
        """
        db_engine.configure(conf)
        self.useFixture(fixtures.MockPatchObject(
            db_engine.get_engine().dialect, 'name', 'mysql'))
        self.useFixture(fixtures.MockPatchObject(
            galera, 'read_settings', lambda connection: settings))

    def test_sqlite_and_postgresql_are_not_asked(self):
        reads = []
        self.useFixture(fixtures.MockPatchObject(
            galera, 'read_settings', reads.append))
        conf = self.migrated()
        result = service.check_database(conf)
        self.assertResult(checks.OK, result,
                          'at revision %s' % migration.head())
        self.assertTrue(result.line().endswith('this release knows.'))
        self.assertResult(checks.OK, galera.check_galera(conf),
                          'nothing to check')
        self.assertEqual([], reads)

    def test_database_check_fails_with_the_galera_line(self):
        conf = self.migrated()
        self.as_mysql(conf, _node(wsrep_sync_wait='0'))
        self.assertResult(checks.FAILURE, service.check_database(conf),
                          'wsrep_sync_wait=0', 'mysql_wsrep_sync_wait = 1')

    def test_database_check_names_a_good_cluster(self):
        conf = self.migrated()
        self.as_mysql(conf, GOOD)
        self.assertResult(checks.OK, service.check_database(conf),
                          'at revision %s' % migration.head(),
                          'Galera cluster')

    def test_database_check_on_a_single_mariadb_is_unchanged(self):
        conf = self.migrated()
        self.as_mysql(conf, _node(wsrep_on='OFF'))
        result = service.check_database(conf)
        self.assertResult(checks.OK, result)
        self.assertTrue(result.line().endswith('this release knows.'))

    def run_worker(self, check_connections):
        """heat-deploy-worker --once on a MySQL URL whose connections are
        checked by ``check_connections``; returns (exit status, stderr,
        sweeps made).
        """
        self.useFixture(fixtures.MockPatchObject(
            galera, 'check_connections', check_connections))
        swept = []
        self.useFixture(fixtures.MockPatchObject(
            worker_cmd, '_sweep_once',
            lambda sweeper: swept.append(sweeper) or 0))
        stderr = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                      io.StringIO()))
        # oslo.log takes the root logger over in main().
        self.warnings = []
        self.useFixture(fixtures.MockPatchObject(
            worker_cmd.LOG, 'warning',
            lambda *args: self.warnings.append(args[0] % args[1:])))
        path = service_fixture.write_conf_file(self.directory, {
            'database': {'connection': 'mysql+pymysql://u@127.0.0.1:1/x'},
            'signal': {'signing_keys': base.SIGNING_KEY}})
        status = worker_cmd.main(['--config-file', path, '--once'])
        return status, stderr.new_value.getvalue(), swept

    def test_worker_refuses_to_start_without_causal_reads(self):
        status, stderr, swept = self.run_worker(
            lambda: galera.galera_result(_node(wsrep_sync_wait='0')))
        self.assertEqual((1, []), (status, swept))
        self.assertTrue(stderr.startswith(
            'heat-deploy-worker: Galera cluster (wsrep_on=ON) but '
            'wsrep_sync_wait=0'), stderr)
        self.assertIn('mysql_wsrep_sync_wait = 1', stderr)
        self.assertEqual(1, stderr.count('\n'))

    def test_worker_starts_with_a_warning(self):
        status, stderr, swept = self.run_worker(
            lambda: galera.galera_result(_node(innodb_autoinc_lock_mode='1')))
        self.assertEqual((0, 1, ''), (status, len(swept), stderr))
        self.assertEqual(1, len(self.warnings), self.warnings)
        self.assertIn('innodb_autoinc_lock_mode=1', self.warnings[0])

    def test_worker_starts_when_the_database_is_away(self):
        # Its sweeps outlive outages; the check waits for the next start.
        def away():
            raise sa.exc.OperationalError('SHOW', {}, Exception('away'))

        status, stderr, swept = self.run_worker(away)
        self.assertEqual((0, 1, ''), (status, len(swept), stderr))
        self.assertEqual(1, len(self.warnings), self.warnings)
        self.assertIn('Cannot read the database\'s Galera settings: '
                      '(builtins.Exception) away', self.warnings[0])
