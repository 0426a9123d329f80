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

"""Publishing heat_deploy's events with oslo.messaging.

Configured the standard way ([oslo_messaging_notifications] driver,
transport_url, topics). oslo.messaging's Notifier logs and drops a
notification its broker refuses; heat_deploy's worker must know, so that
the event stays in the outbox and goes out later. The publisher therefore
hands the message to the notification transport itself, as oslo.messaging's
``messaging``/``messagingv2`` drivers do, and lets a failure raise.
"""

import socket

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# Drivers the publisher knows; ``log`` and ``noop`` cannot fail.
MESSAGE_VERSIONS = {'messagingv2': 2.0, 'messaging': 1.0}
OTHER_DRIVERS = ('log', 'noop')
PRIORITY = 'INFO'


class PublishFailed(Exception):
    """The message bus did not take a notification."""


class Publisher(object):
    """Publishes outbox events, raising when the bus does not take one.

    :param conf: the service's ConfigOpts.
    """

    def __init__(self, conf):
        # Imported on first use: oslo.messaging is heavy, and a service
        # without notifications never needs it.
        import oslo_messaging
        self.target = oslo_messaging.Target
        self.transport = oslo_messaging.get_notification_transport(conf)
        opts = conf.oslo_messaging_notifications
        # Notifications are on: an empty driver list means the usual one.
        self.drivers = opts.driver or ['messagingv2']
        unknown = [name for name in self.drivers
                   if name not in MESSAGE_VERSIONS
                   and name not in OTHER_DRIVERS]
        if unknown:
            raise ValueError(
                '[oslo_messaging_notifications] driver %s is not one '
                'heat_deploy publishes with; use messagingv2, messaging, '
                'log or noop' % ', '.join(unknown))
        self.topics = opts.topics
        # The worker retries on its next sweep; a publish must not block it.
        self.retry = opts.retry if opts.retry is not None and \
            opts.retry >= 0 else 0
        host = conf.notifications.publisher_host or socket.gethostname()
        self.publisher_id = 'heat-deploy.%s' % host

    def publish(self, message_id, event_type, payload, timestamp):
        """Publish one event; raises PublishFailed if the bus refuses it.

        :param message_id: the event's stable id (the same on every
            retry, so consumers can drop duplicates).
        :param timestamp: when the change happened (naive UTC).
        """
        message = {'message_id': message_id,
                   'publisher_id': self.publisher_id,
                   'event_type': event_type,
                   'priority': PRIORITY,
                   'payload': payload,
                   'timestamp': str(timestamp)}
        for driver in self.drivers:
            if driver == 'log':
                LOG.info('Notification %(type)s %(id)s: %(payload)s',
                         {'type': event_type, 'id': message_id,
                          'payload': payload})
            elif driver in MESSAGE_VERSIONS:
                for topic in self.topics:
                    target = self.target(
                        topic='%s.%s' % (topic, PRIORITY.lower()))
                    try:
                        # What the messaging drivers call, without their
                        # catch-all that would lose the event.
                        self.transport._send_notification(
                            target, {}, message,
                            version=MESSAGE_VERSIONS[driver],
                            retry=self.retry)
                    except Exception as err:
                        raise PublishFailed(str(err))

    def close(self):
        self.transport.cleanup()
