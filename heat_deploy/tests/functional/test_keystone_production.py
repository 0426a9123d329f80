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

"""The README's Production steps, pasted into bash as an operator would.

The five numbered steps of README.rst's "Production" section are read from
the README itself (the literal block after each ``::``) and run in order as
bash scripts: a new venv with ``pip install '.[mysql,wsgi]'`` from this
checkout, the MariaDB database and user made by ``mariadb -u root``, the
configuration file with ``heat-deploy-manage keys generate``, ``db sync``
and ``check``, and gunicorn. Only the values an operator changes are
substituted (paths, names, passwords, the Keystone URL and service user,
the bind address), each substitution asserted to have applied, so a README
change that breaks them fails here. The service then answers one
authenticated request through gunicorn, with a token of a real Keystone
(fixtures/keystone.py).

The pip install dominates the run time (about a minute).
"""

import configparser
import os
import re
import secrets
import signal
import subprocess
import textwrap
import time

from cryptography import fernet
import fixtures
import requests
import sqlalchemy as sa
import testtools
from testtools import content

from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import keystone as keystone_fixture
from heat_deploy.tests.functional.fixtures import service

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
README = os.path.join(REPO, 'README.rst')
SECTION = 'Production'
STEPS = 5

# Seconds each step may take: the install downloads or builds every
# dependency; the others run one command or two.
INSTALL_TIMEOUT = 900
STEP_TIMEOUT = 120
START_TIMEOUT = 60

_HEADING_UNDERLINE = re.compile(r'^([=\-~^"\'`#*+])\1+\s*$')
_ENUMERATOR = re.compile(r'^(\d+)\.\s+')


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def read_readme():
    with open(README, encoding='utf-8') as readme:
        return readme.read()


def section_lines(text, title):
    """The lines of the top-level RST section ``title``.

    Without its heading.
    """
    lines = text.splitlines()
    for number in range(len(lines) - 1):
        if (lines[number] == title
                and _HEADING_UNDERLINE.match(lines[number + 1])):
            start = number + 2
            break
    else:
        raise AssertionError('README.rst has no section %r' % title)
    for number in range(start, len(lines) - 1):
        if (lines[number].strip() and not lines[number].startswith(' ')
                and _HEADING_UNDERLINE.match(lines[number + 1])
                and len(lines[number + 1].rstrip())
                >= len(lines[number].rstrip())):
            return lines[start:number]
    return lines[start:]


def numbered_literal_blocks(lines):
    """[(step number, dedented literal block)] of an enumerated list.

    A literal block is the indented text after a paragraph that ends with
    ``::``; only those inside the items of a top-level ``1.``, ``2.``, ...
    list are returned, in order. The list ends at the first unindented
    paragraph that is not an item.
    """
    blocks = []
    step = None
    body_indent = 0
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if not line.strip():
            continue
        item = _ENUMERATOR.match(line)
        if item and _indent(line) == 0:
            step = int(item.group(1))
            body_indent = item.end()
        elif _indent(line) == 0:
            step = None
        if step is None or not line.rstrip().endswith('::'):
            continue
        paragraph_indent = body_indent if item else _indent(line)
        block = []
        while number < len(lines):
            following = lines[number]
            if following.strip() and _indent(following) <= paragraph_indent:
                break
            block.append(following)
            number += 1
        blocks.append((step, textwrap.dedent('\n'.join(block)).strip('\n')
                       + '\n'))
    return blocks


def production_steps(text):
    """The shell text of each numbered Production step, in order."""
    blocks = numbered_literal_blocks(section_lines(text, SECTION))
    numbers = [step for step, _block in blocks]
    if numbers != list(range(1, STEPS + 1)):
        raise AssertionError(
            'README.rst %s: expected steps 1 to %d with one literal block '
            'each, found blocks for steps %s' % (SECTION, STEPS, numbers))
    return [block for _step, block in blocks]


def substitute(scripts, substitutions):
    """Apply (description, pattern, replacement) to every script.

    Each pattern (a regular expression, multi-line) must match somewhere:
    else the README no longer says what the test replaces. A replacement
    is literal text, or a function of the match.
    """
    scripts = list(scripts)
    for description, pattern, replacement in substitutions:
        if isinstance(replacement, str):
            replacement = (lambda text: lambda _match: text)(replacement)
        total = 0
        for index, script in enumerate(scripts):
            scripts[index], count = re.subn(pattern, replacement, script,
                                            flags=re.MULTILINE)
            total += count
        if not total:
            raise AssertionError(
                'README.rst %s: nothing to substitute for %s (no match for '
                '%r); the test must follow the README' % (
                    SECTION, description, pattern))
    return scripts


def _read(path):
    with open(path, errors='replace') as source:
        return source.read()


def _tail(text, size=6000):
    return text if len(text) <= size else '...' + text[-size:]


class TestProductionSteps(testtools.TestCase):
    """README.rst's Production section, end to end, on MariaDB."""

    def setUp(self):
        super().setUp()
        self.directory = self.useFixture(fixtures.TempDir()).path

    # Helpers.

    def environment(self, **extra):
        """The operator's shell: nothing of the test's own configuration.

        No PYTHONPATH or VIRTUAL_ENV (what runs must come from the new
        venv), no HEAT_DEPLOY_* or OS_* variables.
        """
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(('OS_', 'HEAT_DEPLOY_', 'GUNICORN_'))
               and name not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
        env.update(extra)
        return env

    def bash(self, script, cwd, timeout, step):
        try:
            result = subprocess.run(
                ['bash', '-e', '-o', 'pipefail', '-c', script], cwd=cwd,
                env=self.environment(), stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as err:
            self.fail('README %s step %d did not finish in %d s:\n%s\n%s'
                      % (SECTION, step, timeout, script,
                         _tail(str(err.stdout or '') + str(err.stderr or ''))))
        self.addDetail('step-%d' % step, content.text_content(
            '$ %s\n%s\n%s' % (script, _tail(result.stdout),
                              _tail(result.stderr))))
        return result

    def assertSucceeded(self, result, step, hint=''):
        if result.returncode != 0:
            self.fail('README %s step %d exited %d:\n%s\nstdout:\n%s\n'
                      'stderr:\n%s%s'
                      % (SECTION, step, result.returncode, result.args[-1],
                         _tail(result.stdout), _tail(result.stderr), hint))

    def drop_database_and_user(self, database, user):
        """Whatever the steps made, as MariaDB's root (over TCP)."""
        engine = sa.create_engine(db_fixture.ADMIN_URLS['mysql'],
                                  isolation_level='AUTOCOMMIT')
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    'DROP DATABASE IF EXISTS `%s`' % database)
                hosts = connection.exec_driver_sql(
                    'SELECT Host FROM mysql.user WHERE User = %s',
                    (user,)).scalars().all()
                for host in hosts:
                    connection.exec_driver_sql('DROP USER %s@%s',
                                               (user, host))
        finally:
            engine.dispose()

    def config_ids_in(self, database):
        engine = sa.create_engine(db_fixture.ADMIN_URLS['mysql'])
        try:
            with engine.connect() as connection:
                return connection.exec_driver_sql(
                    'SELECT id FROM `%s`.software_config' % database
                ).scalars().all()
        finally:
            engine.dispose()

    def start_in_background(self, script, log_path):
        """Run the serving step; stopped (its process group) at cleanup."""
        control = os.path.join(self.directory, 'run')
        os.mkdir(control, 0o700)
        with open(log_path, 'w') as log:
            # gunicorn's control socket goes to $XDG_RUNTIME_DIR: a
            # directory of this test, not one other servers share.
            process = subprocess.Popen(
                ['bash', '-e', '-c', script], cwd=self.directory,
                env=self.environment(XDG_RUNTIME_DIR=control),
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.stop, process)
        return process

    @staticmethod
    def stop(process, timeout=30):
        """Stop the step's process group (gunicorn and its workers).

        SIGTERM, then SIGKILL if it lingers; returns the exit status.
        """
        if process.returncode is not None:
            # Stopped already: its process group id may be reused.
            return process.returncode
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                return process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue
        return process.wait()

    # The test.

    def test_production_steps_as_written(self):
        keystone = keystone_fixture.start_shared()
        self.addCleanup(keystone.cleanUp)
        authtoken = keystone.auth_token_options()

        venv = os.path.join(self.directory, 'venv')
        etc = os.path.join(self.directory, 'etc')
        conf_file = os.path.join(etc, 'heat-deploy.conf')
        suffix = secrets.token_hex(5)
        database = 'hd_prod_%s' % suffix
        db_user = 'hd_prod_%s' % suffix
        db_password = secrets.token_hex(16)
        port = service.free_port()
        url = 'http://127.0.0.1:%d' % port

        steps = substitute(production_steps(read_readme()), [
            ('the install path /opt/heat_deploy', r'/opt/heat_deploy\b',
             venv),
            ('the configuration directory /etc/heat_deploy',
             r'/etc/heat_deploy\b', etc),
            ('the database name in CREATE DATABASE',
             r'\bCREATE DATABASE heat_deploy\b',
             'CREATE DATABASE ' + database),
            ('the database name in GRANT', r'\bON heat_deploy\.\*',
             'ON %s.*' % database),
            ("the database user 'heat_deploy'@", r"'heat_deploy'@",
             "'%s'@" % db_user),
            ("the database password 'DB_SECRET'", r"'DB_SECRET'",
             "'%s'" % db_password),
            ('the user, password and database of [database] connection',
             r'^(connection = mysql\+pymysql://)heat_deploy:DB_SECRET'
             r'(@[^/\s]+/)heat_deploy$',
             lambda match: '%s%s:%s%s%s' % (
                 match.group(1), db_user, db_password, match.group(2),
                 database)),
            ('the Keystone URL', r'https://keystone\.example\.com/v3\b',
             keystone.auth_url),
            ('[keystone_authtoken] username', r'^username = heat_deploy$',
             'username = ' + authtoken['username']),
            ('[keystone_authtoken] password', r'^password = SERVICE_SECRET$',
             'password = ' + authtoken['password']),
            ('[keystone_authtoken] project_name', r'^project_name = service$',
             'project_name = ' + authtoken['project_name']),
            ('[keystone_authtoken] user_domain_name',
             r'^user_domain_name = Default$',
             'user_domain_name = ' + authtoken['user_domain_name']),
            ('[keystone_authtoken] project_domain_name',
             r'^project_domain_name = Default$',
             'project_domain_name = ' + authtoken['project_domain_name']),
            ('the bind address 0.0.0.0:8004', r'\b0\.0\.0\.0:8004\b',
             '127.0.0.1:%d' % port),
        ])
        for leftover in ('/opt/', '/heat_deploy', "'heat_deploy'",
                         'DATABASE heat_deploy', 'SECRET', 'example.com',
                         '0.0.0.0'):
            for number, step in enumerate(steps, 1):
                self.assertNotIn(
                    leftover, step,
                    'README %s step %d: %r left after the substitutions; '
                    'the test must follow the README' % (SECTION, number,
                                                         leftover))
        install, create_database, configure, sync_and_check, serve = steps
        self.assertIn("pip install '.[mysql,wsgi]'", install)

        # 1. Install, from the repository root.
        result = self.bash(install, REPO, INSTALL_TIMEOUT, 1)
        self.assertSucceeded(result, 1)
        self.assertTrue(os.path.exists(os.path.join(venv, 'bin',
                                                    'gunicorn')))

        # 2. The database and its user, dropped whatever happens.
        self.addCleanup(self.drop_database_and_user, database, db_user)
        result = self.bash(create_database, self.directory, STEP_TIMEOUT, 2)
        self.assertSucceeded(result, 2)

        # 3. The configuration, with keys appended.
        result = self.bash(configure, self.directory, STEP_TIMEOUT, 3)
        self.assertSucceeded(result, 3)
        parser = configparser.RawConfigParser()
        self.assertEqual([conf_file], parser.read(conf_file))
        self.addDetail('heat-deploy.conf', content.text_content(
            '\n'.join('[%s] %s' % (section, ', '.join(parser[section]))
                      for section in parser.sections())))
        self.assertIn('signal', parser.sections())
        self.assertRegex(parser['signal'].get('signing_keys', ''),
                         r'^[A-Za-z0-9_\-]{32,}$')
        # A valid Fernet key, or this raises.
        fernet.Fernet(parser['signal'].get('encryption_keys', ''))
        self.assertEqual(
            keystone.auth_url,
            parser['keystone_authtoken']['www_authenticate_uri'])
        self.assertIn(database, parser['database']['connection'])

        # 4. Schema and checks.
        result = self.bash(sync_and_check, self.directory, STEP_TIMEOUT, 4)
        hint = ''
        if "Access denied for user '%s'@" % db_user in result.stdout + \
                result.stderr:
            hint = ('\nThe user that step 2 creates does not match the '
                    'connection of step 3 (MariaDB names the client '
                    'host above; PyMySQL connects over TCP, never through '
                    'the socket, and with skip-name-resolve 127.0.0.1 is '
                    'not localhost).')
        self.assertSucceeded(result, 4, hint)
        self.assertIn('Database schema is at revision', result.stdout)
        checks = [line for line in result.stdout.splitlines()
                  if re.match(r'^(OK|WARNING|FAILURE)\s', line)]
        self.assertGreaterEqual(len(checks), 1, result.stdout)
        self.assertEqual([], [line for line in checks
                              if not line.startswith('OK ')])

        # 5. gunicorn, until /healthcheck answers.
        log_path = os.path.join(self.directory, 'gunicorn.log')
        self.addOnException(lambda exc_info: self.addDetail(
            'gunicorn-log', content.text_content(_tail(_read(log_path)))))
        server = self.start_in_background(serve, log_path)
        deadline = time.monotonic() + START_TIMEOUT
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = requests.get(url + '/healthcheck', timeout=5)
                if health.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.assertIsNone(server.poll(), 'gunicorn exited')
        self.assertIsNotNone(health, 'gunicorn never answered on ' + url)
        self.assertEqual(200, health.status_code, health.text)

        # Authentication is on by default.
        self.assertEqual(401, requests.get(
            url + '/v1/%s/software_configs' % keystone.project_a_id,
            timeout=30).status_code)

        # One request through gunicorn, found through the catalog.
        keystone.register_orchestration(url + '/v1/%(tenant_id)s')
        session = keystone.session_for('a_member')
        endpoint = session.get_endpoint(service_type='orchestration',
                                        interface='public')
        self.assertEqual('%s/v1/%s' % (url, keystone.project_a_id), endpoint)
        token, project_id = keystone.token_for('a_member')
        self.assertEqual(keystone.project_a_id, project_id)
        headers = {'X-Auth-Token': token}
        body = {'name': 'production-readme', 'group': 'script',
                'config': '#!/bin/sh\necho pasted\n'}
        created = requests.post(endpoint + '/software_configs', json=body,
                                headers=headers, timeout=30)
        self.assertEqual(200, created.status_code, created.text)
        config = created.json()['software_config']
        self.assertEqual(body['config'], config['config'])
        shown = requests.get(endpoint + '/software_configs/' + config['id'],
                             headers=headers, timeout=30)
        self.assertEqual(200, shown.status_code, shown.text)
        self.assertEqual(config, shown.json()['software_config'])
        # Stored in the MariaDB database of step 2.
        self.assertEqual([config['id']], self.config_ids_in(database))

        self.assertEqual(0, self.stop(server))
