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

"""The transport, key and database checks, and the healthcheck's schema."""

import types

from cryptography import fernet
import fixtures
import sqlalchemy as sa

from heat_deploy.api.middleware import healthcheck
from heat_deploy import checks
from heat_deploy.checks import service
from heat_deploy.db import engine as db_engine
from heat_deploy.db import migration
from heat_deploy.signal import manager
from heat_deploy.tests import db_fixture
from heat_deploy.tests.unit.checks import base

SIGNING_KEY = base.SIGNING_KEY


class TestTransports(base.ChecksTestCase):

    def test_default_transports_load_quietly(self):
        self.assertResult(checks.OK, service.check_transports(self.conf()),
                          'CFN_SIGNAL, TEMP_URL_SIGNAL, NO_SIGNAL',
                          'default CFN_SIGNAL')
        # The dry run leaves the announcement to the real load.
        self.assertNotIn('Signal transports enabled', self.logs.output)

    def test_transport_without_its_key_fails_as_at_load(self):
        conf = self.conf({'signal': {'signing_keys': ''}})
        err = self.assertRaises(manager.SignalDriverLoadError,
                                manager.SignalDriverManager, conf)
        result = service.check_transports(conf)
        self.assertResult(checks.FAILURE, result,
                          'enabled_transports')
        self.assertEqual(str(err), result.message)

    def test_unsupported_transport_warns(self):
        class Driver(object):
            supported = False

        class Transports(object):
            def __init__(self, conf):
                self.drivers = {'OLD_SIGNAL': Driver()}
                self.default = 'OLD_SIGNAL'

        self.useFixture(fixtures.MockPatchObject(
            manager, 'SignalDriverManager', Transports))
        self.assertResult(checks.WARNING,
                          service.check_transports(self.conf()),
                          'OLD_SIGNAL', 'unsupported')


class TestKeys(base.ChecksTestCase):

    def test_keys_are_ok(self):
        key = fernet.Fernet.generate_key().decode()
        conf = self.conf({'signal': {'encryption_keys': key}})
        self.assertResult(checks.OK, service.check_keys(conf),
                          '1 signing key(s), 1 encryption key(s)')

    def test_a_bad_encryption_key_fails_without_showing_it(self):
        key = fernet.Fernet.generate_key().decode()
        conf = self.conf({'signal': {
            'encryption_keys': '%s,not-a-fernet-key' % key}})
        result = service.check_keys(conf)
        self.assertResult(checks.FAILURE, result,
                          'key 2 is not a Fernet key', 'generate_key')
        self.assertNotIn('not-a-fernet-key', result.line())

    def test_no_signing_key_warns(self):
        conf = self.conf({'signal': {'signing_keys': ''}})
        self.assertResult(checks.WARNING, service.check_keys(conf),
                          'signing_keys is empty', 'token_urlsafe')

    def test_a_short_signing_key_warns(self):
        conf = self.conf({'signal': {'signing_keys': '%s,short'
                                     % SIGNING_KEY}})
        result = service.check_keys(conf)
        self.assertResult(checks.WARNING, result,
                          'key 2 is shorter than 32 characters')
        self.assertNotIn('short,', result.line())


class TestDatabase(base.ChecksTestCase):

    def database(self, revision=None):
        """A new SQLite database migrated to ``revision`` (None: empty)."""
        database = self.useFixture(db_fixture.Database('sqlite'))
        if revision:
            engine = sa.create_engine(database.url)
            self.addCleanup(engine.dispose)
            migration.upgrade(revision, engine=engine)
        return database.url

    def set_revision(self, url, revision):
        engine = sa.create_engine(url)
        self.addCleanup(engine.dispose)
        with engine.begin() as connection:
            connection.execute(sa.text(
                'UPDATE alembic_version SET version_num = :revision'),
                {'revision': revision})

    def check(self, url):
        return service.check_database(
            self.conf({'database': {'connection': url}}))

    def test_schema_at_head_is_ok(self):
        self.assertResult(checks.OK, self.check(self.database('head')),
                          'at revision %s' % migration.head())

    def test_empty_database_is_refused_with_the_sync_command(self):
        self.assertResult(checks.FAILURE, self.check(self.database()),
                          'has no schema', migration.head(),
                          'Run `heat-deploy-manage db sync` to create it')

    def test_older_schema_is_refused_with_the_sync_command(self):
        self.assertResult(checks.FAILURE, self.check(self.database('0001')),
                          'is at revision 0001', migration.head(),
                          'Run `heat-deploy-manage db sync` to upgrade it')

    def test_unknown_newer_schema_is_refused(self):
        url = self.database('head')
        self.set_revision(url, 'f00dcafe')
        result = self.check(url)
        self.assertResult(checks.FAILURE, result, 'f00dcafe',
                          'does not know', 'newer release')
        self.assertNotIn('db sync', result.line())

    def test_unreachable_database_fails_on_one_line(self):
        result = self.check('sqlite:////nonexistent/dir/x.sqlite')
        self.assertResult(checks.FAILURE, result, 'Cannot connect',
                          'unable to open database file', '[database]')
        self.assertNotIn('\n', result.line())
        self.assertNotIn('sqlalche.me', result.line())

    def test_password_is_not_shown(self):
        result = self.check('mysql+pymysql://heat:hunter2@127.0.0.1:1/x')
        self.assertEqual(checks.FAILURE, result.code)
        self.assertNotIn('hunter2', result.line())

    def test_a_url_sqlalchemy_cannot_read_fails(self):
        self.assertResult(checks.FAILURE, self.check('not a url'),
                          'not a database URL')


class TestHealthcheckSchema(base.ChecksTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(db_engine, 'ping'))
        self.results = [checks.Result(checks.OK, 'at head')]
        self.calls = 0

        def schema_result():
            self.calls += 1
            return self.results[-1]

        self.useFixture(fixtures.MockPatchObject(
            checks, 'schema_result', schema_result))
        self.now = 1000.0
        clock = types.SimpleNamespace(monotonic=lambda: self.now)
        self.useFixture(fixtures.MockPatchObject(healthcheck, 'time', clock))
        self.check = healthcheck.DatabaseCheck(None, {})

    def test_schema_at_head_is_healthy(self):
        result = self.check.healthcheck(8004)
        self.assertTrue(result.available)
        self.assertEqual('Database OK', result.reason)

    def test_schema_not_at_head_is_unavailable(self):
        self.results.append(checks.Result(
            checks.FAILURE, 'The database has no schema.', 'Run db sync.'))
        result = self.check.healthcheck(8004)
        self.assertFalse(result.available)
        self.assertEqual('Database schema not at head', result.reason)
        self.assertIn('The database has no schema. Run db sync.',
                      self.logs.output)

    def test_schema_result_is_reused_for_a_few_seconds(self):
        self.assertTrue(self.check.healthcheck(8004).available)
        self.results.append(checks.Result(checks.FAILURE, 'gone'))
        self.now += healthcheck.SCHEMA_CHECK_INTERVAL - 0.1
        self.assertTrue(self.check.healthcheck(8004).available)
        self.assertEqual(1, self.calls)
        self.now += 0.2
        self.assertFalse(self.check.healthcheck(8004).available)
        self.assertEqual(2, self.calls)

    def test_unreadable_revision_is_unavailable(self):
        def unreadable():
            raise RuntimeError('permission denied')

        self.useFixture(fixtures.MockPatchObject(
            checks, 'schema_result', unreadable))
        result = self.check.healthcheck(8004)
        self.assertFalse(result.available)
        self.assertEqual('Database unreachable', result.reason)
        self.assertIn('permission denied', self.logs.output)


class TestEvents(base.ChecksTestCase):

    def test_off_by_default(self):
        self.assertResult(checks.OK, service.check_events(self.conf()),
                          'Notifications off; webhooks off.')

    def test_webhooks_need_an_encryption_key(self):
        conf = self.conf({'webhooks': {'allowed_hosts': 'hooks.example'},
                          'signal': {'encryption_keys': ''}})
        self.assertResult(checks.FAILURE, service.check_events(conf),
                          'encryption_keys is empty')

    def test_a_denied_network_must_be_one(self):
        conf = self.conf({'webhooks': {'denied_networks': '10.0.0.0/8,x'}})
        self.assertResult(checks.FAILURE, service.check_events(conf),
                          "denied_networks: 'x' is not a network")

    def test_notifications_with_a_driver_heat_deploy_publishes_with(self):
        conf = self.conf({'notifications': {'enabled': 'true',
                                            'publisher_host': 'h1'},
                          'oslo_messaging_notifications': {'driver': 'log'}})
        self.assertResult(checks.OK, service.check_events(conf),
                          'Notifications on (log, publisher heat-deploy.h1)')

    def test_notifications_with_another_driver_fail(self):
        conf = self.conf({'notifications': {'enabled': 'true'},
                          'oslo_messaging_notifications': {
                              'driver': 'routing'}})
        self.assertResult(checks.FAILURE, service.check_events(conf),
                          'driver routing is not one')
