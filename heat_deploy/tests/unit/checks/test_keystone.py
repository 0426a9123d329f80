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

"""The Keystone checks, each OK and failing, and the token cache log."""

import logging
import types

import fixtures

from heat_deploy.api.middleware import auth
from heat_deploy import checks
from heat_deploy.checks import keystone
from heat_deploy.tests.unit.checks import base

KEYSTONE = base.KEYSTONE


class TestKeystone(base.ChecksTestCase):

    def test_noauth_needs_nothing(self):
        self.assertResult(checks.OK, keystone.check_keystone(self.conf()),
                          'auth_strategy = noauth')

    def test_complete_settings_are_ok(self):
        self.assertResult(checks.OK,
                          keystone.check_keystone(self.keystone_conf()),
                          KEYSTONE, 'auth_type = password')

    def test_auth_section_is_followed(self):
        conf = self.conf({
            'api': {'auth_strategy': 'keystone'},
            'keystone_authtoken': {'auth_section': 'service_user',
                                   'www_authenticate_uri': KEYSTONE},
            'service_user': {'auth_type': 'v3password',
                             'auth_url': KEYSTONE}})
        self.assertResult(checks.OK, keystone.check_keystone(conf),
                          'auth_type = v3password')

    def test_no_authtoken_section_fails(self):
        conf = self.conf({'api': {'auth_strategy': 'keystone'}})
        self.assertResult(checks.FAILURE, keystone.check_keystone(conf),
                          '[keystone_authtoken] auth_type is not set',
                          'www_authenticate_uri is not set',
                          'doc/source/keystone.rst')

    def test_missing_auth_url_fails(self):
        self.assertResult(
            checks.FAILURE,
            keystone.check_keystone(self.keystone_conf(auth_url=None)),
            'auth_type = password needs auth_url, which is not set')

    def test_unknown_plugin_fails(self):
        self.assertResult(
            checks.FAILURE,
            keystone.check_keystone(self.keystone_conf(auth_type='pasword')),
            'auth_type = pasword is no installed keystoneauth1 plugin')

    def test_missing_www_authenticate_uri_fails(self):
        result = keystone.check_keystone(
            self.keystone_conf(www_authenticate_uri=None))
        self.assertResult(checks.FAILURE, result,
                          'www_authenticate_uri is not set')
        self.assertNotIn('auth_type', result.message)


class TestTokenCache(base.ChecksTestCase):

    def test_noauth_uses_no_cache(self):
        self.assertResult(checks.OK, keystone.check_token_cache(self.conf()),
                          'Not used')

    def test_in_process_cache_is_ok_and_said(self):
        self.assertResult(
            checks.OK, keystone.check_token_cache(self.keystone_conf()),
            'Each worker process caches validated tokens for 300 s',
            'memcached_servers')

    def test_no_cache(self):
        conf = self.keystone_conf(token_cache_time=-1)
        self.assertResult(checks.OK, keystone.check_token_cache(conf),
                          'not cached')

    def test_zero_cache_time_caches_forever_and_fails(self):
        self.assertResult(
            checks.FAILURE,
            keystone.check_token_cache(self.keystone_conf(token_cache_time=0)),
            'without expiry', '-1')

    def test_memcached_with_its_client_is_ok(self):
        imported = []
        self.useFixture(fixtures.MockPatchObject(
            keystone, 'importlib',
            types.SimpleNamespace(import_module=imported.append)))
        conf = self.keystone_conf(memcached_servers='10.0.0.1:11211')
        self.assertResult(checks.OK, keystone.check_token_cache(conf),
                          'memcached (10.0.0.1:11211)')
        self.assertEqual(['oslo_cache._memcache_pool'], imported)

    def test_memcached_without_its_client_fails(self):
        def missing(name):
            raise ImportError("No module named 'memcache'")

        self.useFixture(fixtures.MockPatchObject(
            keystone, 'importlib',
            types.SimpleNamespace(import_module=missing)))
        conf = self.keystone_conf(memcached_servers='10.0.0.1:11211')
        self.assertResult(checks.FAILURE, keystone.check_token_cache(conf),
                          "No module named 'memcache'", 'python-memcached')

    def test_memcache_protection_without_a_key_fails(self):
        self.useFixture(fixtures.MockPatchObject(
            keystone, 'importlib',
            types.SimpleNamespace(import_module=lambda name: None)))
        conf = self.keystone_conf(memcached_servers='10.0.0.1:11211',
                                  memcache_security_strategy='ENCRYPT')
        self.assertResult(checks.FAILURE, keystone.check_token_cache(conf),
                          'memcache_secret_key')


class TestTokenCacheLog(base.ChecksTestCase):
    """heat_deploy says in one line where auth_token caches tokens."""

    def in_process_warning(self):
        logging.getLogger('keystonemiddleware.auth_token').warning(
            'Using the in-process token cache is deprecated as of the 4.2.0 '
            'release and may be removed ...')

    def tearDown(self):
        logger = logging.getLogger('keystonemiddleware.auth_token')
        for installed in list(logger.filters):
            if isinstance(installed, auth._InProcessCacheWarningFilter):
                logger.removeFilter(installed)
        super().tearDown()

    def describe(self, **authtoken):
        conf = self.keystone_conf(**authtoken)
        keystone._authtoken_options(conf)
        auth._describe_token_cache(conf, {})

    def test_in_process_cache_is_one_info_line(self):
        self.describe(token_cache_time=60)
        self.in_process_warning()
        self.assertIn('Keystone tokens are cached in this process for 60 s',
                      self.logs.output)
        self.assertNotIn('deprecated', self.logs.output)

    def test_memcached_leaves_keystonemiddleware_alone(self):
        self.describe(memcached_servers='10.0.0.1:11211')
        self.in_process_warning()
        self.assertNotIn('Keystone tokens are', self.logs.output)
        self.assertIn('deprecated', self.logs.output)
