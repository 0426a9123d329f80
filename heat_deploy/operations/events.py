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

"""What the service tells the rest of the cloud: notifications and
webhooks, written in the transaction of the change they tell.

An event is a row of the outbox (heat_deploy.db.events) written by the
same transaction as the change, so a change that is rolled back tells
nothing and one that is committed is told however the processes fare
afterwards; heat-deploy-worker publishes the rows. A deployment with a
``notify_url`` also gets a webhook delivery for each of its terminal
events.

Payloads (``version`` PAYLOAD_VERSION) carry names, never values, of
outputs, and nothing secret.
"""

from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from heat_deploy.db import events as queries
from heat_deploy import lifecycle
from heat_deploy import timestamps

PAYLOAD_VERSION = '1.0'

CONFIG = 'software_config.'
DEPLOYMENT = 'software_deployment.'
# Events that end an attempt: webhooks post these.
TERMINAL = ('complete', 'failed', 'timeout', 'cancel')


def config_payload(ctx, row):
    return {
        'version': PAYLOAD_VERSION,
        'tenant_id': row.tenant,
        'user_id': ctx.user_id,
        'config_id': row.id,
        'creation_time': timestamps.format_time(row.created_at),
    }


def deployment_payload(ctx, item):
    """The payload of a deployment event.

    :param item: heat_deploy.db.software_deployments.Deployment after the
        change.
    """
    return {
        'version': PAYLOAD_VERSION,
        'tenant_id': item.tenant,
        'user_id': ctx.user_id,
        'deployment_id': item.id,
        'server_id': item.server_id,
        'config_id': item.config_id,
        'action': item.action,
        'status': item.status,
        'status_reason': item.status_reason,
        'attempt': item.attempt,
        'creation_time': timestamps.format_time(item.created_at),
        'updated_time': timestamps.format_time(item.updated_at),
        'output_names': sorted(item.output_values or {}),
    }


class Events(object):
    """Writes events in the caller's transaction.

    :param conf: the service's ConfigOpts.
    :param render: the deployment's API form for webhook bodies (given by
        the composition root, so that this layer does not import the API).
    """

    def __init__(self, conf, render):
        self.enabled = conf.notifications.enabled
        self.render = render

    def config(self, session, ctx, event, row, now):
        if self.enabled:
            queries.add_event(session, uuidutils.generate_uuid(),
                              CONFIG + event, config_payload(ctx, row), now)

    def deployment(self, session, ctx, event, item, now):
        """Tell a deployment's change.

        :param event: create, update, signal, complete, failed, timeout,
            cancel, rerun or delete.
        """
        if self.enabled:
            queries.add_event(session, uuidutils.generate_uuid(),
                              DEPLOYMENT + event,
                              deployment_payload(ctx, item), now)
        if event in TERMINAL and item.notify_url:
            body = jsonutils.dumps({'event': DEPLOYMENT + event,
                                    'software_deployment':
                                        self.render(item, masked=True)})
            queries.add_delivery(session, item.id, item.attempt, event,
                                 item.notify_url, item.notify_secret, body,
                                 now)

    def ended(self, session, ctx, item, now):
        """Tell that a signal or a PUT ended the deployment's attempt."""
        self.deployment(session, ctx, 'complete'
                        if item.status == lifecycle.COMPLETE else 'failed',
                        item, now)
