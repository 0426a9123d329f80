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

"""What the tests of the start-up checks share: a parsed configuration."""

import logging

import fixtures
import testtools

from heat_deploy import service
from heat_deploy.tests.functional.fixtures import service as service_fixture

SIGNING_KEY = service_fixture.SIGNING_KEY
KEYSTONE = 'https://keystone.example.com/v3'

AUTHTOKEN = {
    'auth_type': 'password',
    'auth_url': KEYSTONE,
    'www_authenticate_uri': KEYSTONE,
    'username': 'heat_deploy',
    'password': 'secret',
    'project_name': 'service',
    'user_domain_name': 'Default',
    'project_domain_name': 'Default',
}


class ChecksTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.directory = self.useFixture(fixtures.TempDir()).path

    def conf(self, sections=None):
        """A parsed ConfigOpts read from a file of ``sections``.

        Defaults: noauth, one signing key, an in-memory database, and no
        connection retries (oslo.db waits 100 s by default).
        """
        all_sections = {
            'api': {'auth_strategy': 'noauth'},
            'signal': {'signing_keys': SIGNING_KEY},
            'database': {'connection': 'sqlite://', 'max_retries': '0'},
        }
        for section, options in (sections or {}).items():
            all_sections.setdefault(section, {}).update(options)
        path = service_fixture.write_conf_file(self.directory, all_sections)
        conf = service.make_conf()
        conf(['--config-file', path], project='heat_deploy',
             default_config_files=[])
        return conf

    def keystone_conf(self, **authtoken):
        options = dict(AUTHTOKEN)
        options.update(authtoken)
        return self.conf({
            'api': {'auth_strategy': 'keystone'},
            'keystone_authtoken': {name: value for name, value
                                   in options.items() if value is not None}})

    def assertResult(self, code, result, *fragments):
        self.assertEqual(code, result.code, result.line())
        for fragment in fragments:
            self.assertIn(fragment, result.line())
