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

"""Events in the outbox, and their delivery, without a broker."""

import datetime

from cryptography import fernet
from oslo_utils import timeutils
import sqlalchemy as sa

from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import events as event_queries
from heat_deploy.db import models
from heat_deploy import exception
from heat_deploy import notifier
from heat_deploy.operations import configs
from heat_deploy.operations import delivery
from heat_deploy import secret_values
from heat_deploy.tests.unit.operations import base as test_base

BASE_URL = 'http://heat-deploy.test'
DEPLOYMENT_KEYS = {'version', 'tenant_id', 'user_id', 'deployment_id',
                   'server_id', 'config_id', 'action', 'status',
                   'status_reason', 'attempt', 'creation_time',
                   'updated_time', 'output_names'}


class _Publisher(object):
    """Records what it publishes; refuses the events named in ``refuse``.
    """

    def __init__(self, conf):
        self.published = []
        self.refuse = set()

    def publish(self, message_id, event_type, payload, timestamp):
        if message_id in self.refuse:
            raise notifier.PublishFailed('refused')
        self.published.append((message_id, event_type, payload))


class TestEvents(test_base.OperationsTestCase):

    overrides = {('notifications', 'enabled'): True}

    def setUp(self):
        super().setUp()
        self.config = self.state.configs.create(
            self.ctx, 'c', 'script', configs.build_document(
                config='echo hi', outputs=[{'name': 'out'}]))
        self.deployments = self.state.deployments

    @engine.reader
    def _outbox(self, ctx):
        return [(row.event_type, row.payload) for row in ctx.session.execute(
            sa.select(models.EventOutbox).order_by(models.EventOutbox.id)
        ).scalars() if row.payload['tenant_id'] == self.project]

    def outbox(self):
        return self._outbox(context.get_admin_context())

    def types(self):
        return [event_type for event_type, _payload in self.outbox()]

    def _values(self, **fields):
        values = {'config_id': self.config.id, 'server_id': 's',
                  'input_values': None, 'action': None, 'status': None,
                  'status_reason': None, 'stack_user_project_id': None}
        values.update(fields)
        return values

    def test_a_signal_tells_the_signal_then_the_end(self):
        created = self.deployments.create(self.ctx, self._values(),
                                          'CFN_SIGNAL', BASE_URL)
        self.deployments.signal_by_capability(
            created.id, {'out': 'secret value', 'deploy_status_code': 0}, 1)
        self.assertEqual(['software_config.create',
                          'software_deployment.create',
                          'software_deployment.signal',
                          'software_deployment.complete'], self.types())
        payload = self.outbox()[-1][1]
        self.assertEqual(DEPLOYMENT_KEYS, set(payload))
        self.assertEqual(['deploy_status_code', 'deploy_stderr',
                          'deploy_stdout', 'out'], payload['output_names'])
        self.assertNotIn('secret value', str(self.outbox()))
        self.assertEqual((created.id, 'COMPLETE', 1, '1.0'),
                         (payload['deployment_id'], payload['status'],
                          payload['attempt'], payload['version']))

    def test_a_change_rolled_back_tells_nothing(self):
        created = self.deployments.create(self.ctx, self._values(), None,
                                          BASE_URL)
        before = self.outbox()
        self.assertRaises(exception.PreconditionFailed,
                          self.deployments.update, self.ctx, created.id,
                          {'status': 'FAILED'}, [int(created.etag) + 1],
                          BASE_URL)
        self.assertEqual(before, self.outbox())

    def test_a_put_that_ends_the_attempt_tells_the_update_and_the_end(self):
        created = self.deployments.create(
            self.ctx, self._values(status='IN_PROGRESS'), None, BASE_URL)
        self.deployments.update(self.ctx, created.id,
                                {'status': 'FAILED'}, None, BASE_URL)
        self.deployments.update(self.ctx, created.id,
                                {'status_reason': 'noted'}, None, BASE_URL)
        self.assertEqual(['software_deployment.update',
                          'software_deployment.failed',
                          'software_deployment.update'], self.types()[-3:])

    def test_cancel_rerun_delete(self):
        created = self.deployments.create(self.ctx, self._values(),
                                          'CFN_SIGNAL', BASE_URL)
        self.deployments.cancel(self.ctx, created.id)
        self.deployments.rerun(self.ctx, created.id, BASE_URL)
        self.deployments.delete(self.ctx, created.id, BASE_URL)
        self.assertEqual(['software_deployment.cancel',
                          'software_deployment.rerun',
                          'software_deployment.delete'], self.types()[-3:])


class TestDelivery(test_base.OperationsTestCase):

    overrides = {('notifications', 'enabled'): True}

    def setUp(self):
        super().setUp()
        self.delivery = delivery.Delivery(self.state.conf,
                                          self.state.secret_box, _Publisher)
        # Whatever earlier tests left in the shared database goes first.
        self.delivery.publish_events()
        self.delivery.publisher.published = []

    def _make_events(self, count):
        for number in range(count):
            self.state.configs.create(self.ctx, 'c%d' % number, None,
                                      configs.build_document())

    def mine(self):
        return [payload['config_id'] for _id, _type, payload
                in self.delivery.publisher.published
                if payload['tenant_id'] == self.project]

    def test_events_leave_in_order_and_once(self):
        self._make_events(3)
        self.assertEqual(3, self.delivery.publish_events())
        first = self.mine()
        self.assertEqual(3, len(first))
        self.assertEqual(0, self.delivery.publish_events())
        self.assertEqual(first, self.mine())

    def test_a_refused_event_waits_with_those_after_it(self):
        self._make_events(3)
        pending = self._pending()
        self.delivery.publisher.refuse.add(pending[1].message_id)
        self.assertRaises(notifier.PublishFailed,
                          self.delivery.publish_events)
        self.assertEqual(1, len(self.mine()))
        self.delivery.publisher.refuse.clear()
        self.assertEqual(2, self.delivery.publish_events())
        self.assertEqual([event.payload['config_id'] for event in pending],
                         self.mine())

    def test_one_worker_at_a_time_publishes(self):
        self._make_events(1)
        other = delivery.Delivery(self.state.conf, self.state.secret_box,
                                  _Publisher)
        self.assertTrue(other._take_lease(context.get_admin_context(),
                                          delivery.NOTIFICATIONS))
        self.assertEqual(0, self.delivery.publish_events())
        other._release_lease(context.get_admin_context(),
                             delivery.NOTIFICATIONS)
        self.assertEqual(1, self.delivery.publish_events())

    @engine.reader
    def _pending_rows(self, ctx):
        return event_queries.pending_events(ctx.session, 100)

    def _pending(self):
        return self._pending_rows(context.get_admin_context())


class TestWebhookFields(test_base.OperationsTestCase):

    overrides = {('webhooks', 'allowed_hosts'): ['hooks.example'],
                 ('signal', 'encryption_keys'): [
                     fernet.Fernet.generate_key().decode()]}

    def setUp(self):
        super().setUp()
        self.config = self.state.configs.create(
            self.ctx, 'c', 'script', configs.build_document())
        self.deployments = self.state.deployments

    def _create(self, **fields):
        values = {'config_id': self.config.id, 'server_id': 's',
                  'input_values': None, 'action': None, 'status': None,
                  'status_reason': None, 'stack_user_project_id': None}
        values.update(fields)
        return self.deployments.create(self.ctx, values, None, BASE_URL)

    def test_a_secret_is_made_shown_once_and_stored_sealed(self):
        created = self._create(notify_url='https://hooks.example/h')
        self.assertEqual(43, len(created.new_notify_secret))
        shown = self.deployments.get(self.ctx, created.id)
        self.assertIsNone(shown.new_notify_secret)
        self.assertEqual(created.new_notify_secret,
                         self.state.secret_box.open(shown.notify_secret))

    def test_a_put_may_give_a_new_secret_for_the_url(self):
        created = self._create(notify_url='https://hooks.example/h')
        after = self.deployments.update(
            self.ctx, created.id, {'notify_secret': 'x' * 20}, None,
            BASE_URL)
        self.assertEqual('x' * 20, after.new_notify_secret)
        self.assertEqual('https://hooks.example/h', after.notify_url)

    def test_a_secret_without_a_url_is_refused(self):
        created = self._create()
        err = self.assertRaises(exception.Invalid, self.deployments.update,
                                self.ctx, created.id,
                                {'notify_secret': 'x' * 20}, None, BASE_URL)
        self.assertIn('give the notify_url too', str(err))

    def test_a_host_not_allowed_is_refused(self):
        self.assertRaises(exception.Invalid, self._create,
                          notify_url='https://elsewhere.example/h')


class TestWebhookDelivery(test_base.OperationsTestCase):

    def test_a_secret_that_cannot_be_opened_fails_that_delivery_only(self):
        other_box = secret_values.SecretBox(
            [fernet.Fernet.generate_key().decode()])
        self._add(other_box.seal('s'))
        posting = delivery.Delivery(self.state.conf, self.state.secret_box,
                                    _Publisher)
        self.assertGreaterEqual(posting.post_webhooks(), 1)
        [mine] = self._mine()
        self.assertEqual(['delivery failed'],
                         [item['result'] for item in mine.tries])

    @engine.writer
    def _add_row(self, ctx, sealed):
        event_queries.add_delivery(
            ctx.session, self.project, 1, 'complete',
            'https://hooks.example/h', sealed, '{}',
            timeutils.utcnow() - datetime.timedelta(seconds=1))

    def _add(self, sealed):
        self._add_row(context.get_admin_context(), sealed)

    @engine.reader
    def _mine_rows(self, ctx):
        return event_queries.deliveries_of(ctx.session, self.project)

    def _mine(self):
        return self._mine_rows(context.get_admin_context())
