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

"""Real databases for tests: SQLite files, MariaDB and PostgreSQL.

A MariaDB or PostgreSQL database is made with a random name on the server
named by HEAT_DEPLOY_TEST_MYSQL_URL / HEAT_DEPLOY_TEST_POSTGRESQL_URL
(defaults: root on 127.0.0.1 without a password, as on the CI machine) and
dropped afterwards. An unreachable server is an error, not a skip: the CI
must prove every backend.
"""

import atexit
import os
import tempfile
import uuid

import fixtures
import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url

from heat_deploy.db import migration

BACKEND_ENV = 'HEAT_DEPLOY_TEST_DB'
ADMIN_URLS = {
    'mysql': os.environ.get('HEAT_DEPLOY_TEST_MYSQL_URL',
                            'mysql+pymysql://root@127.0.0.1:3306/test'),
    'postgresql': os.environ.get(
        'HEAT_DEPLOY_TEST_POSTGRESQL_URL',
        'postgresql+psycopg2://root@127.0.0.1:5432/test'),
}
BACKENDS = ('sqlite', 'mysql', 'postgresql')


def create_database(backend):
    """Make an empty database; returns (url, drop callable)."""
    if backend == 'sqlite':
        handle, path = tempfile.mkstemp(prefix='heat_deploy_test_',
                                        suffix='.sqlite')
        os.close(handle)

        def drop():
            for suffix in ('', '-wal', '-shm'):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)
        return 'sqlite:///%s' % path, drop

    admin_url = sa_url.make_url(ADMIN_URLS[backend])
    name = 'hd_test_%s' % uuid.uuid4().hex[:12]
    admin = sa.create_engine(admin_url, isolation_level='AUTOCOMMIT')
    try:
        with admin.connect() as connection:
            if backend == 'mysql':
                connection.exec_driver_sql(
                    'CREATE DATABASE %s CHARACTER SET utf8mb4 '
                    'COLLATE utf8mb4_bin' % name)
            else:
                connection.exec_driver_sql(
                    "CREATE DATABASE %s ENCODING 'UTF8'" % name)
    except sa.exc.OperationalError as err:
        raise RuntimeError(
            'The %s server at %s is needed by the tests and did not answer: '
            '%s. Start it (see .ci/run) or point %s at one.'
            % (backend, admin_url.render_as_string(hide_password=True), err,
               'HEAT_DEPLOY_TEST_%s_URL' % backend.upper()))

    def drop():
        with admin.connect() as connection:
            if backend == 'postgresql':
                connection.exec_driver_sql(
                    'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
            else:
                connection.exec_driver_sql('DROP DATABASE IF EXISTS %s'
                                           % name)
        admin.dispose()
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    return url, drop


class Database(fixtures.Fixture):
    """A fresh, empty database on one backend for one test."""

    def __init__(self, backend):
        super().__init__()
        self.backend = backend

    def _setUp(self):
        self.url, drop = create_database(self.backend)
        self.addCleanup(drop)


_shared = {}


def shared_migrated_database():
    """URL of one migrated database for this test process.

    The backend comes from HEAT_DEPLOY_TEST_DB (sqlite by default). API
    tests isolate themselves by using their own project ids, so one schema
    per process is enough; it is dropped when the process exits.
    """
    backend = os.environ.get(BACKEND_ENV, 'sqlite')
    if backend not in BACKENDS:
        raise RuntimeError('%s must be one of %s, not %r'
                           % (BACKEND_ENV, ', '.join(BACKENDS), backend))
    if backend not in _shared:
        url, drop = create_database(backend)
        atexit.register(drop)
        engine = sa.create_engine(url)
        try:
            migration.upgrade(engine=engine)
        finally:
            engine.dispose()
        _shared[backend] = url
    return _shared[backend]


def migrated_database(owner, backend):
    """URL of a new database of ``backend``, migrated to the newest
    revision, that the fixture or test ``owner`` drops.
    """
    database = owner.useFixture(Database(backend))
    engine = sa.create_engine(database.url)
    try:
        migration.upgrade(engine=engine)
    finally:
        engine.dispose()
    return database.url
