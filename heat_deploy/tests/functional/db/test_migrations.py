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

"""The migrations build the schema the models describe, on every backend."""

import datetime

from oslo_db.sqlalchemy import test_migrations
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm
import testtools

from heat_deploy.db import migration
from heat_deploy.db import models
from heat_deploy.db import server_metadata
from heat_deploy.db import software_deployments
from heat_deploy.db import types
from heat_deploy.tests import db_fixture

# The tables as revision 0002 left them: what a database in use today holds.
# JSON columns are written and read as the text the service stores.
CONFIG_0002 = sa.table(
    'software_config', sa.column('id', sa.String),
    sa.column('created_at', types.Timestamp()), sa.column('name', sa.String),
    sa.column('group', sa.String), sa.column('config', sa.Text),
    sa.column('tenant', sa.String))
DEPLOYMENT_0002 = sa.table(
    'software_deployment', sa.column('id', sa.String),
    sa.column('created_at', types.Timestamp()),
    sa.column('updated_at', types.Timestamp()),
    sa.column('server_id', sa.String), sa.column('config_id', sa.String),
    sa.column('input_values', sa.Text), sa.column('output_values', sa.Text),
    sa.column('action', sa.String), sa.column('status', sa.String),
    sa.column('status_reason', sa.Text), sa.column('tenant', sa.String),
    sa.column('stack_user_project_id', sa.String),
    sa.column('generation', sa.Integer),
    sa.column('source_config_id', sa.String),
    sa.column('signal_transport', sa.String))
SERVER_METADATA_0002 = sa.table(
    'server_metadata', sa.column('tenant', sa.String),
    sa.column('server_id', sa.String), sa.column('revision', sa.Integer),
    sa.column('last_modified', sa.BigInteger),
    sa.column('credential_generation', sa.Integer))


class _MigrationsTest(test_migrations.ModelsMigrationsSync):
    """Walk the migrations on an empty database and compare with models."""

    BACKEND = None

    def setUp(self):
        super().setUp()
        database = self.useFixture(db_fixture.Database(self.BACKEND))
        self.engine = sa.create_engine(database.url)
        self.addCleanup(self.engine.dispose)

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine=engine)

    def include_object(self, object_, name, type_, reflected, compare_to):
        # alembic's own bookkeeping table is not a model.
        return not (type_ == 'table' and name == 'alembic_version')

    def test_single_head_and_upgrade_reaches_it(self):
        migration.upgrade(engine=self.engine)
        self.assertEqual(migration.head(), migration.version(self.engine))

    def test_upgrade_twice_is_harmless(self):
        migration.upgrade(engine=self.engine)
        migration.upgrade(engine=self.engine)
        self.assertEqual(migration.head(), migration.version(self.engine))

    def test_empty_database_has_no_version(self):
        self.assertIsNone(migration.version(self.engine))

    def _rows(self, table, key):
        with self.engine.connect() as connection:
            return {row[key]: row for row in connection.execute(
                sa.select(table)).mappings()}

    def test_lifecycle_migration_keeps_todays_deployments(self):
        """0002 -> head: today's rows become attempt 1 with no deadline.

        A derived deployment left IN_PROGRESS for days must not time out
        retroactively by the default timeout it never asked for.
        """
        migration.upgrade('0002', engine=self.engine)
        self.assertEqual('0002', migration.version(self.engine))
        # Microseconds, as the service stores them; days ago, so that any
        # default deadline counted from then would have passed long since.
        now = timeutils.utcnow().replace(microsecond=123456)
        created = now - datetime.timedelta(days=3)
        updated = now - datetime.timedelta(days=2, microseconds=7)
        configs = [
            {'id': 'c0000000-0000-0000-0000-000000000001',
             'created_at': created, 'name': 'source', 'group': 'script',
             'config': '{"config": "echo hi", "inputs": [], '
                       '"outputs": [], "options": {}}',
             'tenant': 'project-a'},
            {'id': 'c0000000-0000-0000-0000-000000000002',
             'created_at': created, 'name': 'source', 'group': 'script',
             'config': '{"config": "echo hi", "inputs": [{"name": '
                       '"deploy_signal_id", "value": "http://x/signal"}], '
                       '"outputs": [], "options": {}}',
             'tenant': 'project-a'},
        ]
        common = {'server_id': 'server-1', 'tenant': 'project-a',
                  'input_values': '{"foo": "bar"}', 'action': 'CREATE',
                  'stack_user_project_id': None}
        deployments = [
            # A plain deployment of a config as it is, updated once.
            dict(common, id='d0000000-0000-0000-0000-000000000001',
                 created_at=created, updated_at=updated,
                 config_id=configs[0]['id'],
                 output_values='{"deploy_status_code": 0}',
                 status='COMPLETE', status_reason='Outputs received',
                 generation=3, source_config_id=None,
                 signal_transport=None),
            # A derived deployment its server never answered, never updated.
            dict(common, id='d0000000-0000-0000-0000-000000000002',
                 created_at=created, updated_at=None,
                 config_id=configs[1]['id'], output_values=None,
                 status='IN_PROGRESS', status_reason='Deploy data available',
                 generation=1, source_config_id=configs[0]['id'],
                 signal_transport='CFN_SIGNAL'),
        ]
        servers = [{'tenant': 'project-a', 'server_id': 'server-1',
                    'revision': 4, 'last_modified': 1795000000,
                    'credential_generation': 2}]
        with self.engine.begin() as connection:
            connection.execute(CONFIG_0002.insert(), configs)
            connection.execute(DEPLOYMENT_0002.insert(), deployments)
            connection.execute(SERVER_METADATA_0002.insert(), servers)

        migration.upgrade(engine=self.engine)
        self.assertEqual(migration.head(), migration.version(self.engine))

        # Everything that was there is still there, unchanged.
        for table, key, rows in ((CONFIG_0002, 'id', configs),
                                 (DEPLOYMENT_0002, 'id', deployments),
                                 (SERVER_METADATA_0002, 'server_id',
                                  servers)):
            stored = self._rows(table, key)
            self.assertEqual({row[key]: row for row in rows},
                             {name: dict(row)
                              for name, row in stored.items()})

        # Each deployment is its own first attempt, started when it last
        # changed, with no deadline and nothing else of the lifecycle.
        model = models.SoftwareDeployment
        with orm.Session(self.engine) as session:
            rows = {row.id: row for row in session.execute(
                sa.select(model)).scalars()}
            for expected in deployments:
                row = rows[expected['id']]
                self.assertEqual(1, row.attempt)
                self.assertEqual(0, row.timeout)
                self.assertEqual(0, row.delivery_timeout)
                self.assertEqual(expected['updated_at']
                                 or expected['created_at'], row.started_at)
                for name in ('deadline_at', 'delivery_deadline_at',
                             'delivered_at', 'ended_by',
                             'late_output_values'):
                    self.assertIsNone(getattr(row, name), name)
            # The deployment that had ended ended when it last changed.
            self.assertEqual(updated, rows[deployments[0]['id']].ended_at)
            self.assertIsNone(rows[deployments[1]['id']].ended_at)

            # As the service sees them: no retroactive timeout, none for
            # the sweep to store.
            plain = software_deployments.Deployment(
                rows[deployments[0]['id']])
            derived = software_deployments.Deployment(
                rows[deployments[1]['id']])
            self.assertEqual(('COMPLETE', 'Outputs received', None),
                             (plain.status, plain.status_reason,
                              plain.deadline_time))
            self.assertEqual(('IN_PROGRESS', 'Deploy data available', None),
                             (derived.status, derived.status_reason,
                              derived.deadline_time))
            self.assertEqual('CFN_SIGNAL', derived.transport)
            self.assertEqual([], software_deployments.passed_deadlines(
                session, timeutils.utcnow(), 100))
            self.assertEqual(0, session.execute(sa.select(sa.func.count())
                             .select_from(models.SoftwareDeploymentAttempt)
                             ).scalar())

    def test_quota_usage_migration_counts_what_projects_own(self):
        """0004 -> head: each project's usage row counts its objects."""
        migration.upgrade('0004', engine=self.engine)
        now = timeutils.utcnow()
        configs = [{'id': 'c%d' % number, 'created_at': now, 'name': None,
                    'group': 'script', 'config': '{}', 'tenant': tenant}
                   for number, tenant in enumerate(
                       ['project-a', 'project-a', 'project-b'])]
        deployments = [{'id': 'd1', 'created_at': now, 'server_id': 's',
                        'config_id': 'c0', 'tenant': 'project-a',
                        'generation': 1}]
        lock = sa.table('project_quota_lock', sa.column('project_id'))
        with self.engine.begin() as connection:
            connection.execute(CONFIG_0002.insert(), configs)
            connection.execute(DEPLOYMENT_0002.insert(), deployments)
            # Lock rows as quota checks left them: one with objects, one of
            # a project that owns nothing any more.
            connection.execute(lock.insert(), [{'project_id': 'project-a'},
                                               {'project_id': 'project-c'}])

        migration.upgrade(engine=self.engine)
        with self.engine.connect() as connection:
            usage = {row.project_id: (row.software_configs,
                                      row.software_deployments)
                     for row in connection.execute(
                         sa.select(models.ProjectQuotaLock.__table__))}
        self.assertEqual({'project-a': (2, 1), 'project-b': (1, 0),
                          'project-c': (0, 0)}, usage)

    def test_zaqar_message_migration_keeps_servers_polling(self):
        """0005 -> head: today's servers keep their metadata URL and
        revision, with no transport chosen (POLL_TEMP_URL) and no queue.
        """
        migration.upgrade('0005', engine=self.engine)
        with self.engine.begin() as connection:
            connection.execute(SERVER_METADATA_0002.insert(), [
                {'tenant': 'project-a', 'server_id': 's1', 'revision': 7,
                 'last_modified': 1700000000, 'credential_generation': 2}])

        migration.upgrade(engine=self.engine)
        with self.engine.connect() as connection:
            row = server_metadata.get(connection, 'project-a', 's1')
            self.assertEqual([], server_metadata.queue_work(
                connection, None, 10, 0))
        self.assertEqual((7, 1700000000, 2),
                         (row.revision, row.last_modified,
                          row.credential_generation))
        self.assertEqual([None] * 8, [
            row.metadata_transport, row.settings_base_url,
            row.zaqar_project_id, row.zaqar_user_id, row.zaqar_password,
            row.zaqar_posted_revision, row.zaqar_posted_at,
            row.zaqar_posting_until])


class TestMigrationsSQLite(_MigrationsTest, testtools.TestCase):
    BACKEND = 'sqlite'


class TestMigrationsMySQL(_MigrationsTest, testtools.TestCase):
    BACKEND = 'mysql'

    def test_tables_are_innodb_utf8mb4(self):
        migration.upgrade(engine=self.engine)
        with self.engine.connect() as connection:
            rows = connection.execute(sa.text(
                'SELECT table_name, engine, table_collation FROM '
                'information_schema.tables WHERE table_schema = DATABASE() '
                "AND table_name != 'alembic_version'")).fetchall()
        self.assertEqual(len(models.Base.metadata.tables), len(rows))
        for name, engine, collation in rows:
            self.assertEqual('InnoDB', engine, name)
            self.assertTrue(collation.startswith('utf8mb4'), name)


class TestMigrationsPostgreSQL(_MigrationsTest, testtools.TestCase):
    BACKEND = 'postgresql'
