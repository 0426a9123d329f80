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

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from heat_deploy.db import migration
from heat_deploy.db import models
from heat_deploy.tests import db_fixture


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
