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


class TestDevServer(testtools.TestCase):
    """The README's run command: heat-deploy-api --dev in an empty folder."""

    def test_dev_server_serves_the_clients(self):
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
            output = log.read()
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
