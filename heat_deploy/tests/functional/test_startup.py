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

"""A configuration the service cannot serve is refused at start-up.

gunicorn, the development server and ``heat-deploy-manage check`` are run
as an operator runs them, on the backend HEAT_DEPLOY_TEST_DB names. A
refused start must say why in one line, without a traceback, and serve
nothing. A schema that leaves the head while the service runs (which the
start-up check cannot see) turns /healthcheck to 503.
"""

import os
import subprocess
import sys
import time

import fixtures
import requests
import sqlalchemy as sa
import testtools

from heat_deploy.api.middleware import healthcheck
from heat_deploy import checks
from heat_deploy.db import migration
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import service

BIN = os.path.dirname(sys.executable)

# Seconds a refused gunicorn may take to exit.
EXIT_TIMEOUT = 60

NO_AUTHTOKEN = ('[api] auth_strategy = keystone, but keystonemiddleware '
                'cannot validate tokens: [keystone_authtoken] auth_type is '
                'not set; [keystone_authtoken] www_authenticate_uri is not '
                'set.')
DB_SYNC = 'Run `heat-deploy-manage db sync` to create it.'


def _backend():
    return os.environ.get(db_fixture.BACKEND_ENV, 'sqlite')


def _sections(extra=None):
    """A working configuration (noauth, the shared migrated database),
    changed by ``extra``.
    """
    sections = {
        'DEFAULT': {'debug': 'false'},
        'database': {'connection': db_fixture.shared_migrated_database()},
        'api': {'auth_strategy': 'noauth'},
        'signal': {'signing_keys': service.SIGNING_KEY},
    }
    for section, options in (extra or {}).items():
        sections.setdefault(section, {}).update(options)
    return sections


class RefusedServer(object):
    """What a gunicorn that refused to serve did.

    :ivar returncode: gunicorn's exit status.
    :ivar log: everything it and its workers printed.
    :ivar answered: statuses of the requests it answered while it ran.
    """

    def __init__(self, returncode, log, answered):
        self.returncode = returncode
        self.log = log
        self.answered = answered

    def critical_lines(self):
        return [line for line in self.log.splitlines()
                if ' CRITICAL heat_deploy' in line]


class TestStartupChecks(testtools.TestCase):

    def write_conf(self, sections):
        directory = self.useFixture(fixtures.TempDir()).path
        return directory, service.write_conf_file(directory, sections)

    def unmigrated_database(self):
        url, drop = db_fixture.create_database(_backend())
        self.addCleanup(drop)
        return url

    def start_gunicorn(self, sections, workers=1):
        """Run gunicorn until it exits, asking /healthcheck meanwhile.

        One worker: when two refuse at the same moment, gunicorn's master
        sometimes halts with its own traceback and status 1 instead of 4.

        Fails the test if it is still running after EXIT_TIMEOUT.
        """
        directory, conf_file = self.write_conf(sections)
        listener = service.listening_socket()
        url = 'http://127.0.0.1:%d/healthcheck' % listener.getsockname()[1]
        log_path = os.path.join(directory, 'gunicorn.log')
        # Our copy of the socket closes once gunicorn has its own, so that
        # the port refuses connections when gunicorn exits.
        with open(log_path, 'w') as log_file, listener:
            process = subprocess.Popen(
                [os.path.join(BIN, 'gunicorn'), '--workers', str(workers),
                 '--bind', 'fd://%d' % listener.fileno(), '--timeout', '60',
                 '--no-control-socket', 'heat_deploy.wsgi.api:application'],
                env=dict(os.environ, HEAT_DEPLOY_CONFIG_FILE=conf_file),
                stdout=log_file, stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),))
        answered = []
        deadline = time.monotonic() + EXIT_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            try:
                answered.append(requests.get(url, timeout=1).status_code)
            except requests.RequestException:
                pass
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait()
            with open(log_path) as log_file:
                self.fail('gunicorn still ran after %d s:\n%s'
                          % (EXIT_TIMEOUT, log_file.read()[-5000:]))
        with open(log_path) as log_file:
            return RefusedServer(process.returncode, log_file.read(),
                                 answered)

    def assertRefused(self, server, message):
        """gunicorn stopped, said ``message`` in one line, served nothing."""
        # 4: a worker ended with gunicorn's APP_LOAD_ERROR, so the master
        # halted instead of starting new workers.
        self.assertEqual(4, server.returncode, server.log)
        self.assertIn('Reason: App failed to load.', server.log)
        self.assertEqual([], server.answered, server.log)
        self.assertNotIn('Traceback', server.log)
        lines = server.critical_lines()
        # One line from each worker that got as far as saying it.
        self.assertTrue(lines, server.log)
        for line in lines:
            self.assertIn('heat_deploy will not serve: ' + message, line)

    def test_gunicorn_refuses_keystone_without_authtoken(self):
        server = self.start_gunicorn(
            _sections({'api': {'auth_strategy': 'keystone'}}))
        self.assertRefused(server, NO_AUTHTOKEN)
        self.assertIn('doc/source/keystone.rst', server.log)

    def test_gunicorn_refuses_an_unmigrated_database(self):
        server = self.start_gunicorn(_sections(
            {'database': {'connection': self.unmigrated_database()}}))
        self.assertRefused(server, 'The database ')
        for line in server.critical_lines():
            self.assertIn('has no schema; this release of heat_deploy '
                          'needs revision %s. %s'
                          % (migration.head(), DB_SYNC), line)

    def test_dev_server_refuses_an_unmigrated_database(self):
        directory, conf_file = self.write_conf(_sections({
            'database': {'connection': self.unmigrated_database()},
            'api': {'bind_port': str(service.free_port())}}))
        result = subprocess.run(
            [os.path.join(BIN, 'heat-deploy-api'), '--config-file',
             conf_file], cwd=directory, capture_output=True, text=True,
            timeout=EXIT_TIMEOUT)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
        self.assertTrue(result.stderr.startswith('heat-deploy-api: The '
                                                 'database '),
                        result.stderr)
        self.assertIn(DB_SYNC, result.stderr)
        self.assertNotIn('serving on', result.stdout)

    def manage_check(self, sections):
        _directory, conf_file = self.write_conf(sections)
        result = subprocess.run(
            [os.path.join(BIN, 'heat-deploy-manage'), '--config-file',
             conf_file, 'check'], capture_output=True, text=True,
            timeout=EXIT_TIMEOUT)
        lines = {}
        for line in result.stdout.splitlines():
            code, _, rest = line.partition(' ')
            if code in checks.EXIT_CODES:
                title, _, text = rest.strip().partition(': ')
                lines[title] = (code, text)
        return result, lines

    def test_manage_check_all_ok_exits_0(self):
        result, lines = self.manage_check(_sections())
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        self.assertEqual([check.title for check in checks.CHECKS],
                         list(lines))
        self.assertEqual({checks.OK}, {code for code, _text
                                       in lines.values()})
        self.assertIn('at revision %s' % migration.head(),
                      lines['Database'][1])

    def test_manage_check_warning_exits_1(self):
        result, lines = self.manage_check(
            _sections({'signal': {'signing_keys': 'short-key'}}))
        self.assertEqual(1, result.returncode, result.stdout)
        code, text = lines['Signing and encryption keys']
        self.assertEqual(checks.WARNING, code)
        self.assertIn('key 1 is shorter than 32 characters', text)
        self.assertNotIn('short-key', result.stdout)

    def test_manage_check_failure_exits_2(self):
        result, lines = self.manage_check(_sections({
            'database': {'connection': self.unmigrated_database()},
            'api': {'auth_strategy': 'keystone'}}))
        self.assertEqual(2, result.returncode, result.stdout)
        code, text = lines['Keystone authentication']
        self.assertEqual(checks.FAILURE, code)
        self.assertTrue(text.startswith(NO_AUTHTOKEN + ' Set auth_type'),
                        text)
        code, text = lines['Database']
        self.assertEqual(checks.FAILURE, code)
        self.assertTrue(text.endswith(DB_SYNC), text)
        self.assertEqual(checks.OK, lines['Signal transports'][0])
        self.assertNotIn('Traceback', result.stdout + result.stderr)


class TestHealthcheckSchema(testtools.TestCase):
    """/healthcheck is 503 while the schema is not at the head.

    The start-up checks refuse to serve such a database, so the service
    starts on a migrated one whose revision is then changed under it, as
    restoring an older backup would.
    """

    def test_schema_off_head_is_503_until_it_is_back(self):
        url, drop = db_fixture.create_database(_backend())
        self.addCleanup(drop)
        engine = sa.create_engine(url)
        self.addCleanup(engine.dispose)
        migration.upgrade(engine=engine)
        server = self.useFixture(service.RunningServer(
            sections={'database': {'connection': url}}, workers=1))

        def set_revision(revision):
            with engine.begin() as connection:
                connection.execute(sa.text(
                    'UPDATE alembic_version SET version_num = :revision'),
                    {'revision': revision})

        def wait_for(status):
            deadline = (time.monotonic()
                        + healthcheck.SCHEMA_CHECK_INTERVAL + 10)
            while True:
                response = requests.get(server.url + '/healthcheck',
                                        timeout=10)
                if (response.status_code == status
                        or time.monotonic() > deadline):
                    return response
                time.sleep(0.2)

        set_revision('0001')
        response = wait_for(503)
        # The body is Heat's fault body (middleware.fault); the reason is
        # in the log.
        self.assertEqual(503, response.status_code, server.log())
        set_revision(migration.head())
        self.assertEqual(200, wait_for(200).status_code, server.log())
        with open(server.log_path) as log_file:
            log = log_file.read()
        self.assertIn('Healthcheck: The schema of the database is at '
                      'revision 0001; this release of heat_deploy needs '
                      'revision %s. Run `heat-deploy-manage db sync` to '
                      'upgrade it.' % migration.head(), log)
        self.assertNotIn('Traceback', log)
