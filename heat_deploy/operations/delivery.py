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

"""Delivering events: the outbox to the message bus, webhooks to their
URLs. heat-deploy-worker runs these after each sweep.

One worker at a time publishes notifications, under a lease in the
database (heat_deploy.db.events.take_lease), so they leave in the order
they happened and, while that worker lives, once each; a worker that dies
loses its lease after LEASE_SECONDS and another publishes what it had not
marked sent (at least once, with the same message_id). Webhooks are posted
under a lease of their own, so a slow receiver does not hold up
notifications.
"""

import datetime

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from oslo_utils import uuidutils

from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import events as queries
from heat_deploy import notifier
from heat_deploy import timestamps
from heat_deploy import webhooks

LOG = logging.getLogger(__name__)

LEASE_SECONDS = 60
BATCH = 100
NOTIFICATIONS = 'notifications'
WEBHOOKS = 'webhooks'


class Delivery(object):
    """Delivers what the outbox holds.

    :param conf: the service's ConfigOpts.
    :param secret_box: opens the webhook secrets.
    :param publisher_factory: makes the notifier.Publisher, on first use.
    """

    def __init__(self, conf, secret_box,
                 publisher_factory=notifier.Publisher):
        self.conf = conf
        self.secret_box = secret_box
        self.publisher_factory = publisher_factory
        self.publisher = None
        self.holder = uuidutils.generate_uuid()

    # Notifications

    def publish_events(self):
        """Publish pending events in order; returns how many.

        :raises heat_deploy.notifier.PublishFailed: the bus refused one;
            those before it are marked sent, it and the rest wait.
        """
        if not self.conf.notifications.enabled:
            return 0
        if self.publisher is None:
            self.publisher = self.publisher_factory(self.conf)
        # An idle sweep reads, and writes nothing (no lease). What is
        # pending is read again under the lease: the worker that held it
        # may have sent these meanwhile.
        if not self._pending(context.get_admin_context()) or \
                not self._take_lease(context.get_admin_context(),
                                     NOTIFICATIONS):
            return 0
        sent = 0
        try:
            while True:
                pending = self._pending(context.get_admin_context())
                done = []
                try:
                    for event in pending:
                        self.publisher.publish(
                            event.message_id, event.event_type,
                            event.payload, event.created_at)
                        done.append(event.id)
                finally:
                    if done:
                        self._mark_sent(context.get_admin_context(), done)
                sent += len(done)
                if len(pending) < BATCH or not self._take_lease(
                        context.get_admin_context(), NOTIFICATIONS):
                    return sent
        finally:
            self._release_lease(context.get_admin_context(), NOTIFICATIONS)

    @engine.reader
    def _pending(self, ctx):
        return queries.pending_events(ctx.session, BATCH)

    @engine.writer
    def _mark_sent(self, ctx, event_ids):
        queries.mark_sent(ctx.session, event_ids, timeutils.utcnow())

    # Webhooks

    def post_webhooks(self):
        """Post the webhooks that are due; returns how many were tried."""
        # As for notifications: a cheap idle check, then the due ones read
        # again under the lease.
        if not self._due(context.get_admin_context()) or \
                not self._take_lease(context.get_admin_context(), WEBHOOKS):
            return 0
        tried = 0
        try:
            for delivery in self._due(context.get_admin_context()):
                self._post(delivery)
                tried += 1
                if not self._take_lease(context.get_admin_context(),
                                        WEBHOOKS):
                    break  # another worker took over
        finally:
            self._release_lease(context.get_admin_context(), WEBHOOKS)
        return tried

    def _post(self, delivery):
        now = timeutils.utcnow()
        try:
            secret = self.secret_box.open(delivery.secret)
        except Exception:
            # Sealed with a key no longer configured: this delivery fails,
            # the others go on.
            LOG.exception('Webhook of deployment %s: its secret cannot be '
                          'opened with [signal] encryption_keys',
                          delivery.deployment_id)
            result = webhooks.DELIVERY_FAILED
        else:
            result = webhooks.send(self.conf, delivery.url, secret,
                                   jsonutils.loads(delivery.body))
        tries = list(delivery.tries) + [{'time': timestamps.format_time(now),
                                         'result': result}]
        next_try_at = None
        if webhooks.should_retry(self.conf, len(tries), result):
            next_try_at = now + datetime.timedelta(
                seconds=webhooks.retry_delay(self.conf, len(tries)))
        LOG.info('Webhook of deployment %(id)s (%(event)s), try %(try)d: '
                 '%(result)s', {'id': delivery.deployment_id,
                                'event': delivery.event,
                                'try': len(tries), 'result': result})
        self._record(context.get_admin_context(), delivery.id, tries,
                     next_try_at)

    @engine.reader
    def _due(self, ctx):
        return queries.due_deliveries(ctx.session, timeutils.utcnow(), BATCH)

    @engine.writer
    def _record(self, ctx, delivery_id, tries, next_try_at):
        queries.record_try(ctx.session, delivery_id, tries, next_try_at)

    # Leases

    @engine.writer
    def _take_lease(self, ctx, name):
        now = timeutils.utcnow()
        return queries.take_lease(
            ctx.session, name, self.holder, now,
            now + datetime.timedelta(seconds=LEASE_SECONDS))

    @engine.writer
    def _release_lease(self, ctx, name):
        queries.release_lease(ctx.session, name, self.holder)


@engine.writer
def purge_events(ctx, before):
    """Delete published events and finished webhook deliveries created
    before ``before``; returns how many of each.
    """
    return (queries.purge_events(ctx.session, before),
            queries.purge_deliveries(ctx.session, before))
