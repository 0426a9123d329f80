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

"""ZAQAR_MESSAGE's pure parts: names, settings, when a queue needs work.
tests/functional/test_keystone_zaqar_message.py runs it against a real
Zaqar and Keystone, with the unmodified agents.
"""

import types

from cryptography import fernet
from oslo_serialization import jsonutils
import testtools

from heat_deploy import capability
from heat_deploy.db import server_metadata
from heat_deploy import exception
from heat_deploy.operations import metadata_push
from heat_deploy.operations import servers
from heat_deploy import secret_values
from heat_deploy import service
from heat_deploy.signal import zaqar_message

SERVER_ID = '0f4d5a8e-2f7b-4c5e-9a61-3d7b9e1c2a44'


def _conf(**heat_signal):
    conf = service.make_conf()
    conf([], project='heat_deploy', default_config_files=[])
    for name, value in heat_signal.items():
        conf.set_override(name, value, group='heat_signal')
    return conf


def _configured_conf():
    conf = _conf(auth_url='http://ks:5000', stack_domain_admin='a',
                 stack_domain_admin_password='p', region_name='RegionTwo')
    conf.set_override('encryption_keys',
                      [fernet.Fernet.generate_key().decode()],
                      group='signal')
    return conf


def _row(**values):
    """A server_metadata row as the queries read it."""
    row = dict(tenant='tenant', server_id=SERVER_ID, revision=3,
               last_modified=1700000000, credential_generation=1,
               metadata_transport=None, settings_base_url=None,
               zaqar_project_id=None, zaqar_user_id=None,
               zaqar_password=None, zaqar_posted_revision=None,
               zaqar_posted_at=None, zaqar_posting_until=None)
    row.update(values)
    return types.SimpleNamespace(**row)


class TestNames(testtools.TestCase):

    def test_one_name_per_server_and_project(self):
        name = zaqar_message.queue_name('tenant', SERVER_ID)
        self.assertEqual(name, zaqar_message.queue_name('tenant', SERVER_ID))
        self.assertNotEqual(name,
                            zaqar_message.queue_name('other', SERVER_ID))
        self.assertTrue(name.startswith('hdm-'))
        # Keystone names and Zaqar queues: at most 64, [A-Za-z0-9_-].
        long_id = zaqar_message.queue_name('t' * 64, 's' * 255)
        self.assertLessEqual(len(long_id), 64)
        self.assertRegex(long_id, '^[A-Za-z0-9_-]+$')


class TestSetUp(testtools.TestCase):

    def test_not_set_up_is_none_unless_it_is_the_default(self):
        self.assertIsNone(zaqar_message.make(_conf()))
        conf = _conf()
        conf.set_override('metadata_transport', 'ZAQAR_MESSAGE',
                          group='signal')
        err = self.assertRaises(ValueError, zaqar_message.make, conf)
        self.assertIn('to enable ZAQAR_MESSAGE', str(err))

    def test_options(self):
        queues = zaqar_message.make(_configured_conf())
        self.assertEqual(1209600, queues.ttl)
        self.assertEqual('RegionTwo', queues.region)
        credentials = zaqar_message.QueueCredentials('p', 'u', 'pw', 'q')
        self.assertEqual(
            {'queue_id': 'q', 'user_id': 'u', 'password': 'pw',
             'project_id': 'p', 'auth_url': 'http://ks:5000/v3',
             'region_name': 'RegionTwo'}, queues.settings(credentials))


class TestSettings(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = _configured_conf()
        self.box = secret_values.SecretBox(
            self.conf.signal.encryption_keys)
        self.servers = servers.Servers(
            self.conf, capability.Signer(['k' * 32]), self.box,
            zaqar_message.make(self.conf))

    def _state(self, **values):
        return servers.MetadataState(_row(**values))

    def test_polling_server(self):
        settings = self.servers.settings('http://api', 'tenant', SERVER_ID,
                                         self._state())
        self.assertEqual(['request', 'local'], settings['collectors'])
        self.assertTrue(settings['request']['metadata_url'].startswith(
            'http://api/agent/v1/metadata/tenant/' + SERVER_ID))

    def test_queue_server(self):
        sealed = jsonutils.dumps(self.box.seal('secret'))
        state = self._state(metadata_transport='ZAQAR_MESSAGE',
                            zaqar_project_id='p', zaqar_user_id='u',
                            zaqar_password=sealed)
        settings = self.servers.settings_of('http://api', 'tenant',
                                            SERVER_ID, state)
        self.assertEqual(['local', 'zaqar'], settings['collectors'])
        self.assertNotIn('request', settings)
        self.assertEqual(('p', 'u', 'secret'),
                         (settings['zaqar']['project_id'],
                          settings['zaqar']['user_id'],
                          settings['zaqar']['password']))
        self.assertEqual(zaqar_message.queue_name('tenant', SERVER_ID),
                         settings['zaqar']['queue_id'])

    def test_queue_server_without_its_user_yet_polls(self):
        # Until its user exists, at the URL of the request that chose.
        state = self._state(metadata_transport='ZAQAR_MESSAGE',
                            settings_base_url='http://chosen')
        settings = self.servers.settings_of(None, 'tenant', SERVER_ID,
                                            state)
        self.assertTrue(settings['request']['metadata_url'].startswith(
            'http://chosen/agent/'))

    def test_zaqar_message_needs_its_set_up(self):
        conf = _conf()
        plain = servers.Servers(conf, capability.Signer(['k' * 32]))
        err = self.assertRaises(exception.Invalid, plain.choose_transport,
                                None, SERVER_ID, 'ZAQAR_MESSAGE',
                                'http://api')
        self.assertIn('ZAQAR_MESSAGE is not available here', str(err))


class TestWork(testtools.TestCase):
    """When a server's queue needs a post or a retirement."""

    def setUp(self):
        super().setUp()
        conf = _configured_conf()
        self.pusher = metadata_push.MetadataPusher(
            conf, servers.Servers(conf, capability.Signer(['k' * 32]),
                                  None, zaqar_message.make(conf)), None)
        self.ttl = self.pusher.queues.ttl

    def needs_work(self, now=2000000000, **values):
        return self.pusher.needs_work(servers.MetadataState(_row(**values)),
                                      now)

    def test_polling_servers_never(self):
        self.assertFalse(self.needs_work())
        self.assertFalse(self.needs_work(metadata_transport='POLL_TEMP_URL'))
        self.assertFalse(self.pusher.needs_work(None, 0))

    def test_queue_servers_until_their_revision_is_posted(self):
        queue = dict(metadata_transport='ZAQAR_MESSAGE',
                     zaqar_project_id='p', zaqar_user_id='u',
                     zaqar_password='x')
        self.assertTrue(self.needs_work(metadata_transport='ZAQAR_MESSAGE'))
        self.assertTrue(self.needs_work(**queue))
        self.assertTrue(self.needs_work(zaqar_posted_revision=2,
                                        zaqar_posted_at=2000000000, **queue))
        self.assertFalse(self.needs_work(zaqar_posted_revision=3,
                                         zaqar_posted_at=2000000000,
                                         **queue))
        # Posted again before the message expires.
        self.assertTrue(self.needs_work(
            zaqar_posted_revision=3,
            zaqar_posted_at=2000000000 - self.ttl // 2 - 1, **queue))

    def test_servers_that_left_while_they_have_a_queue(self):
        self.assertTrue(self.needs_work(
            metadata_transport='POLL_TEMP_URL', zaqar_project_id='p',
            zaqar_user_id='u', zaqar_password='x'))


class TestChangeListeners(testtools.TestCase):

    def test_bound_methods_are_held_weakly(self):
        seen = []

        class Listener(object):
            def changed(self, keys):
                seen.append(keys)

        listener = Listener()
        server_metadata.listen_for_changes(listener.changed)
        # (A cleanup holding listener.changed would keep it alive.)
        self.addCleanup(server_metadata.forget_listener, None)
        session = types.SimpleNamespace(info={})
        server_metadata._changed(session, 't', 's')
        server_metadata._after_commit(session)
        self.assertEqual([{('t', 's')}], seen)
        # Nothing recorded: no call.
        server_metadata._after_commit(session)
        self.assertEqual(1, len(seen))
        del listener
        server_metadata._changed(session, 't', 's2')
        server_metadata._after_commit(session)
        self.assertEqual(1, len(seen))

    def test_a_rollback_forgets(self):
        seen = []
        server_metadata.listen_for_changes(seen.append)
        self.addCleanup(server_metadata.forget_listener, seen.append)
        session = types.SimpleNamespace(info={})
        server_metadata._changed(session, 't', 's')
        server_metadata._after_rollback(session)
        server_metadata._after_commit(session)
        self.assertEqual([], seen)
