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

"""The command line programs, run as an operator or a newcomer runs them."""

import datetime
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import fixtures
from oslo_utils import timeutils
import requests
import sqlalchemy as sa
from sqlalchemy import orm
import testtools

from heat_deploy.db import migration
from heat_deploy.db import models
from heat_deploy import lifecycle
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional.fixtures import cli
from heat_deploy.tests.functional.fixtures import service

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def run(args, cwd=None, timeout=120):
    return subprocess.run([os.path.join(BIN, args[0])] + args[1:], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


class TestManage(testtools.TestCase):
    """heat-deploy-manage db sync / db version on every backend."""

    def _sync_and_version(self, backend):
        database = self.useFixture(db_fixture.Database(backend))
        directory = self.useFixture(fixtures.TempDir()).path
        conf_file = service.write_conf_file(
            directory, {'database': {'connection': database.url}})
        before = run(['heat-deploy-manage', '--config-file', conf_file,
                      'db', 'version'])
        self.assertEqual(0, before.returncode, before.stderr)
        self.assertIn('None', before.stdout)
        synced = run(['heat-deploy-manage', '--config-file', conf_file,
                      'db', 'sync'])
        self.assertEqual(0, synced.returncode, synced.stderr)
        after = run(['heat-deploy-manage', '--config-file', conf_file,
                     'db', 'version'])
        self.assertEqual(migration.head(),
                         after.stdout.strip().splitlines()[-1])

    def test_sqlite(self):
        self._sync_and_version('sqlite')

    def test_mysql(self):
        self._sync_and_version('mysql')

    def test_postgresql(self):
        self._sync_and_version('postgresql')

    def test_unreachable_database_is_a_clear_error(self):
        directory = self.useFixture(fixtures.TempDir()).path
        conf_file = service.write_conf_file(directory, {'database': {
            'connection': 'sqlite:////nonexistent/dir/x.sqlite'}})
        result = run(['heat-deploy-manage', '--config-file', conf_file,
                      'db', 'sync'])
        self.assertEqual(1, result.returncode)
        self.assertIn('heat-deploy-manage:', result.stderr)
        self.assertNotIn('Traceback', result.stderr)


def add_deployment(url, started_ago, timeout=0, attempt=1,
                   earlier_ended_ago=()):
    """Store an IN_PROGRESS deployment as the API would have stored it.

    :param started_ago: how long ago its current attempt started.
    :param timeout: its deadline in seconds after that start (0 for none).
    :param attempt: the current attempt's number.
    :param earlier_ended_ago: for each earlier attempt (1, 2, ...), how
        long ago it ended.
    :returns: the deployment's id.
    """
    now = timeutils.utcnow()
    started = now - started_ago
    config_id, deployment_id = str(uuid.uuid4()), str(uuid.uuid4())
    engine = sa.create_engine(url)
    try:
        with orm.Session(engine) as session, session.begin():
            session.add(models.SoftwareConfig(
                id=config_id, created_at=started, name='c', group='script',
                config={'config': 'true'}, tenant='project'))
            session.flush()
            session.add(models.SoftwareDeployment(
                id=deployment_id, created_at=started, server_id='server',
                config_id=config_id, input_values={}, action='CREATE',
                status=lifecycle.IN_PROGRESS, status_reason='Deploy data '
                'available', tenant='project', generation=1,
                attempt=attempt, timeout=timeout, delivery_timeout=0,
                **lifecycle.new_attempt(lifecycle.IN_PROGRESS, timeout, 0,
                                        started)))
            session.flush()
            for number, ended_ago in enumerate(earlier_ended_ago, 1):
                session.add(models.SoftwareDeploymentAttempt(
                    deployment_id=deployment_id, number=number,
                    config_id=config_id, action='CREATE',
                    status=lifecycle.COMPLETE, status_reason='done',
                    started_at=now - ended_ago, ended_at=now - ended_ago))
    finally:
        engine.dispose()
    return deployment_id


def stored(url, model, *where):
    """Rows of ``model`` in the database at ``url`` (detached)."""
    engine = sa.create_engine(url)
    try:
        with orm.Session(engine, expire_on_commit=False) as session:
            return session.execute(
                sa.select(model).where(*where)).scalars().all()
    finally:
        engine.dispose()


class TestWorkerCommand(testtools.TestCase):
    """heat-deploy-worker --once: one sweep, from cron or by hand."""

    def worker(self, connection, **database):
        directory = self.useFixture(fixtures.TempDir()).path
        # The worker loads the transports as the API does; the URL ones
        # need a signing key.
        conf_file = service.write_conf_file(directory, {
            'database': dict(database, connection=connection),
            'signal': {'signing_keys': service.SIGNING_KEY}})
        return run(['heat-deploy-worker', '--config-file', conf_file,
                    '--once'], timeout=60)

    def _sweep_once(self, backend):
        url = db_fixture.migrated_database(self, backend)
        late = add_deployment(url, datetime.timedelta(minutes=1), timeout=1)
        on_time = add_deployment(url, datetime.timedelta(minutes=1),
                                 timeout=3600)
        unbounded = add_deployment(url, datetime.timedelta(days=30))

        swept = self.worker(url)
        self.assertEqual(0, swept.returncode, swept.stderr)
        # oslo.log logs to stdout; the summary is the last line.
        self.assertEqual('Stored 1 passed deadline(s). Published 0 '
                         'notification(s). Posted 0 webhook(s).',
                         swept.stdout.splitlines()[-1])
        self.assertIn('Deployment %s: Deployment timed out after 1 seconds'
                      % late, swept.stdout)
        self.assertNotIn('Traceback', swept.stderr)
        [row] = stored(url, models.SoftwareDeployment,
                       models.SoftwareDeployment.id == late)
        self.assertEqual(
            (lifecycle.FAILED, lifecycle.timed_out_reason(1),
             lifecycle.TIMED_OUT, row.deadline_at, 2),
            (row.status, row.status_reason, row.ended_by, row.ended_at,
             row.generation))
        for other in (on_time, unbounded):
            [row] = stored(url, models.SoftwareDeployment,
                           models.SoftwareDeployment.id == other)
            self.assertEqual((lifecycle.IN_PROGRESS, 1),
                             (row.status, row.generation))

        # Each transition is stored once.
        again = self.worker(url)
        self.assertEqual(0, again.returncode, again.stderr)
        self.assertEqual('Stored 0 passed deadline(s). Published 0 '
                         'notification(s). Posted 0 webhook(s).',
                         again.stdout.splitlines()[-1])

    def test_sqlite(self):
        self._sweep_once('sqlite')

    def test_mysql(self):
        self._sweep_once('mysql')

    def test_postgresql(self):
        self._sweep_once('postgresql')

    def assert_clear_error(self, result, message):
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertNotIn('Stored', result.stdout)
        self.assertNotIn('Traceback', result.stdout + result.stderr)
        [error] = result.stderr.splitlines()
        self.assertTrue(error.startswith('heat-deploy-worker: '), error)
        self.assertIn(message, error)

    def test_unreachable_database_is_a_clear_error(self):
        self.assert_clear_error(
            self.worker('sqlite:////nonexistent/dir/x.sqlite'),
            'unable to open database file')

    def test_unreachable_database_server_is_a_clear_error(self):
        # No start-up retries ([database] max_retries, 10 times 10 s by
        # default), so that the test is quick.
        self.assert_clear_error(
            self.worker('mysql+pymysql://root@127.0.0.1:%d/none'
                        % service.free_port(), max_retries='0'),
            "Can't connect to MySQL server")


class TestPurgeCommand(testtools.TestCase):
    """heat-deploy-manage purge --older-than DAYS."""

    def purge(self, url, days):
        directory = self.useFixture(fixtures.TempDir()).path
        conf_file = service.write_conf_file(
            directory, {'database': {'connection': url}})
        return run(['heat-deploy-manage', '--config-file', conf_file,
                    'purge', '--older-than', days], timeout=60)

    def assert_removed(self, count, days, result):
        self.assertEqual(0, result.returncode, result.stderr)
        attempts_line, events_line = result.stdout.splitlines()
        prefix = 'Removed %d attempt(s) that ended before ' % count
        self.assertTrue(attempts_line.startswith(prefix), result.stdout)
        self.assertTrue(attempts_line.endswith('.'), result.stdout)
        self.assertRegex(events_line, r'^Removed 0 notification\(s\) and 0 '
                                      r'webhook delivery record\(s\) from '
                                      r'before \S+Z\.$')
        before = datetime.datetime.strptime(
            attempts_line[len(prefix):-1], '%Y-%m-%dT%H:%M:%SZ')
        expected = timeutils.utcnow() - datetime.timedelta(days=days)
        self.assertLess(abs(expected - before), datetime.timedelta(
            minutes=1))

    def _purge(self, backend):
        url = db_fixture.migrated_database(self, backend)
        deployment_id = add_deployment(
            url, datetime.timedelta(minutes=5), attempt=3,
            earlier_ended_ago=(datetime.timedelta(days=2),
                               datetime.timedelta(hours=1)))
        self.assert_removed(1, 1, self.purge(url, '1'))
        self.assertEqual([2], [row.number for row in stored(
            url, models.SoftwareDeploymentAttempt)])
        self.assert_removed(1, 0, self.purge(url, '0'))
        self.assertEqual([], stored(url, models.SoftwareDeploymentAttempt))
        self.assert_removed(0, 0, self.purge(url, '0'))
        # The deployment and its current attempt stay.
        [row] = stored(url, models.SoftwareDeployment)
        self.assertEqual((deployment_id, 3, lifecycle.IN_PROGRESS),
                         (row.id, row.attempt, row.status))

    def test_sqlite(self):
        self._purge('sqlite')

    def test_mysql(self):
        self._purge('mysql')

    def test_postgresql(self):
        self._purge('postgresql')

    def test_days_must_be_a_number(self):
        url = db_fixture.migrated_database(self, 'sqlite')
        add_deployment(url, datetime.timedelta(minutes=5), attempt=2,
                       earlier_ended_ago=(datetime.timedelta(days=2),))
        for days in ('x', '-1', '36501'):
            result = self.purge(url, days)
            self.assertEqual(2, result.returncode, result.stdout)
            self.assertEqual('', result.stdout)
            self.assertIn('usage:', result.stderr)
            self.assertIn('--older-than DAYS', result.stderr)
            self.assertIn('DAYS must be a number of days from 0 to 36500, '
                          'not %r' % days, result.stderr)
            self.assertNotIn('Traceback', result.stderr)
        self.assertEqual(1, len(stored(url,
                                       models.SoftwareDeploymentAttempt)))


class TestApiCommand(testtools.TestCase):

    def test_missing_signing_key_is_a_clear_start_up_error(self):
        directory = self.useFixture(fixtures.TempDir()).path
        conf_file = service.write_conf_file(directory, {
            'api': {'auth_strategy': 'noauth',
                    'bind_port': str(service.free_port())},
            'database': {'connection': 'sqlite://'}})
        result = run(['heat-deploy-api', '--config-file', conf_file],
                     cwd=directory, timeout=60)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('heat-deploy-api: Signal transport CFN_SIGNAL',
                      result.stderr)
        self.assertIn('[signal] signing_keys must be set', result.stderr)
        self.assertNotIn('Traceback', result.stderr)


def readme_blocks(title):
    """The literal blocks of a README section, in order."""
    with open(os.path.join(ROOT, 'README.rst')) as readme:
        lines = readme.read().split('\n')
    start = lines.index(title) + 2
    end = next(index for index in range(start, len(lines) - 1)
               if lines[index + 1].startswith('===')
               and lines[index].strip())
    blocks, current = [], None
    for line in lines[start:end]:
        if line.endswith('::'):
            current = []
            blocks.append(current)
        elif current is not None and (line.startswith('    ')
                                      or not line.strip()):
            current.append(line[4:])
        else:
            current = None
    return ['\n'.join(block).strip() + '\n' for block in blocks]


def substituted(text, old, new):
    """``text`` with ``old`` replaced; fails loudly if it is not there."""
    if old not in text:
        raise AssertionError('README no longer has %r:\n%s' % (old, text))
    return text.replace(old, new)


class TestDevServer(testtools.TestCase):
    """The README's run command: heat-deploy-api --dev in an empty folder."""

    def start(self, sections=None):
        """Run the README's first command; returns (url, its folder).

        :param sections: more configuration, {section: {option: value}}.
        """
        directory = self.useFixture(fixtures.TempDir()).path
        port = service.free_port()
        conf_file = service.write_conf_file(
            directory, dict(sections or {}, api={'bind_port': str(port)}))
        env = dict(os.environ)
        env.pop(service.service.CONFIG_FILE_ENV, None)
        log_path = os.path.join(directory, 'api.log')
        with open(log_path, 'w') as log:
            process = subprocess.Popen(
                [os.path.join(BIN, 'heat-deploy-api'), '--dev',
                 '--config-file', conf_file],
                cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(process.wait)
        self.addCleanup(process.terminate)
        url = 'http://127.0.0.1:%d' % port
        for _ in range(300):
            try:
                if requests.get(url + '/', timeout=5).status_code == 300:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        with open(log_path) as log:
            self.output = log.read()
        return url, directory

    def test_dev_server_serves_the_clients(self):
        url, directory = self.start()
        output = self.output
        self.assertIn('serving on %s/' % url, output)
        self.assertIn('auth_strategy = noauth', output)
        self.assertTrue(os.path.exists(os.path.join(directory,
                                                    'heat_deploy.sqlite')))
        created = cli.openstack_json(
            self, ['--os-auth-type', 'admin_token', '--os-endpoint',
                   url + '/v1/demo', '--os-token', 'dev'],
            'software', 'config', 'create', '-f', 'json', 'from-cli')
        self.assertEqual('from-cli', created['name'])
        listed = requests.get(url + '/v1/demo/software_configs',
                              headers={'X-Auth-Token': 'dev'}, timeout=10)
        self.assertEqual(['from-cli'], [config['name'] for config in
                                        listed.json()['software_configs']])

    def test_dev_server_takes_64_clients_at_once(self):
        url, _directory = self.start()
        port = int(url.rsplit(':', 1)[1])
        clients = 64
        ready = threading.Barrier(clients)
        answers = [None] * clients

        connect_seconds = [None] * clients

        def client(number):
            # Connect all at once: the listen backlog must hold the burst.
            # A connection it drops is retried by the kernel after 1 s (or
            # reset), whatever the server does next.
            ready.wait(timeout=30)
            started = time.monotonic()
            try:
                with socket.create_connection(('127.0.0.1', port),
                                              timeout=30) as conn:
                    connect_seconds[number] = time.monotonic() - started
                    conn.sendall(b'GET / HTTP/1.0\r\nHost: x\r\n\r\n')
                    answers[number] = conn.recv(12)
            except OSError as err:
                answers[number] = err

        threads = [threading.Thread(target=client, args=(number,))
                   for number in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual([b'HTTP/1.0 300'] * clients, answers)
        self.assertLess(max(connect_seconds), 1.0,
                        'some connections were dropped by a full listen '
                        'backlog and retried')

    def test_readme_cli_quick_start(self):
        url, directory = self.start()
        clients, config, deploy, report = readme_blocks('CLI quick start')
        # The clients are installed in the test environment already.
        clients = substituted(
            clients, 'python3 -m venv clients && clients/bin/pip install '
            'python-openstackclient python-heatclient\n', '')
        clients = substituted(clients, 'clients/bin/openstack',
                              os.path.join(BIN, 'openstack'))
        clients = substituted(clients, 'http://127.0.0.1:8004', url)

        def shell(block):
            # Each block in a shell that has the README's alias.
            script = ('shopt -s expand_aliases\n' + clients
                      + block.replace('http://127.0.0.1:8004', url))
            proc = subprocess.run(
                ['bash', '-e', '-c', script], cwd=directory,
                env=cli.clean_env(), capture_output=True, text=True,
                timeout=4 * cli.CLI_TIMEOUT,
                stdin=subprocess.DEVNULL)
            self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
            return proc.stdout

        created = json.loads(shell(config))
        self.assertEqual(('hello', 'script'),
                         (created['name'], created['group']))
        shown = shell(substituted(deploy, 'CONFIG_ID', created['id']))
        self.assertIn('IN_PROGRESS', shown)
        self.assertIn('echo \\"Hello, $name\\"', shown)
        self.assertIn('"value": "world"', shown)
        [deployment] = requests.get(
            url + '/v1/demo/software_deployments', timeout=10,
            headers={'X-Auth-Token': 'dev'}).json()['software_deployments']
        outputs = shell(substituted(report, 'DEPLOYMENT_ID',
                                    deployment['id']))
        self.assertIn('deploy_stdout: |\n    Hello, world', outputs)

    def test_dev_server_sweeps_passed_deadlines(self):
        url, directory = self.start({'deployment': {'sweep_interval': '1'}})
        self.assertIn('serving on %s/' % url, self.output)
        session = requests.Session()
        session.headers['X-Auth-Token'] = 'dev'
        base = url + '/v1/demo'
        config = session.post(base + '/software_configs', timeout=10, json={
            'name': 'slow', 'group': 'script', 'config': 'sleep 60'}).json()
        created = session.post(
            base + '/software_deployments', timeout=10, json={
                'config_id': config['software_config']['id'],
                'server_id': str(uuid.uuid4()),
                'signal_transport': 'CFN_SIGNAL', 'timeout': 1})
        self.assertEqual(200, created.status_code, created.text)
        deployment = created.json()['software_deployment']
        self.assertEqual('IN_PROGRESS', deployment['status'])
        etag = created.headers['ETag']
        show_url = '%s/software_deployments/%s' % (base, deployment['id'])

        # The deadline passes after 1 s and the sweep every 1 s stores it,
        # which changes the ETag; a few seconds more for a slow machine.
        limit = time.monotonic() + 15
        while True:
            shown = session.get(show_url, timeout=10)
            if shown.headers['ETag'] != etag:
                break
            self.assertLess(time.monotonic(), limit,
                            'no sweep stored the passed deadline')
            time.sleep(0.2)
        self.assertEqual(
            ('FAILED', 'Deployment timed out after 1 seconds'),
            (shown.json()['software_deployment']['status'],
             shown.json()['software_deployment']['status_reason']))
        [row] = stored('sqlite:///%s' % os.path.join(
            directory, 'heat_deploy.sqlite'), models.SoftwareDeployment,
            models.SoftwareDeployment.id == deployment['id'])
        self.assertEqual((lifecycle.FAILED, lifecycle.TIMED_OUT, 2),
                         (row.status, row.ended_by, row.generation))
