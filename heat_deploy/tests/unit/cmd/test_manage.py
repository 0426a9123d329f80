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

"""heat-deploy-manage keys generate and config sample."""

import configparser
import io
import os

from cryptography import fernet
import fixtures
import testtools

from heat_deploy.cmd import manage
from heat_deploy.conf import opts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))


class TestManage(testtools.TestCase):

    def _run(self, *argv):
        stdout = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                      io.StringIO()))
        self.assertEqual(0, manage.main(list(argv)))
        return stdout.new_value.getvalue()

    def test_keys_generate_prints_a_usable_signal_section(self):
        parser = configparser.ConfigParser()
        parser.read_string(self._run('keys', 'generate'))
        self.assertGreaterEqual(len(parser['signal']['signing_keys']), 32)
        # A Fernet key, or this raises.
        fernet.Fernet(parser['signal']['encryption_keys'])
        again = configparser.ConfigParser()
        again.read_string(self._run('keys', 'generate'))
        self.assertNotEqual(parser['signal']['signing_keys'],
                            again['signal']['signing_keys'])

    def test_config_sample_covers_every_group(self):
        sample = self._run('config', 'sample')
        for section in ('[api]', '[signal]', '[heat_signal]', '[quota]',
                        '[database]', '[keystone_authtoken]'):
            self.assertIn(section, sample)
        self.assertIn('#signing_keys =', sample)

    def test_tox_genconfig_covers_the_same_namespaces(self):
        path = os.path.join(ROOT, 'etc', 'heat_deploy',
                            'heat-deploy-config-generator.conf')
        with open(path) as conf_file:
            namespaces = [line.split('=', 1)[1].strip()
                          for line in conf_file
                          if line.startswith('namespace')]
        self.assertEqual(sorted(opts.SAMPLE_NAMESPACES), sorted(namespaces))
