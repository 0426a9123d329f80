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

import json
import os
import subprocess
import sys
import time

import fixtures
import requests
import testtools

from heat_deploy.db import migration
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

    def start(self):
        """Run the README's first command; returns (url, its folder)."""
        directory = self.useFixture(fixtures.TempDir()).path
        port = service.free_port()
        conf_file = service.write_conf_file(
            directory, {'api': {'bind_port': str(port)}})
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
