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

"""Server operations: how a server gets its metadata.

What an operator puts in a server's user data so that its os-collect-config
finds its deployments, and what the server gets: its deployments' configs
and its os-collect-config settings. Two metadata transports, named as Heat
names them: POLL_TEMP_URL, a signed metadata URL of this service that the
server polls (with an ETag and a Last-Modified that change whenever the
document does), and ZAQAR_MESSAGE, a Zaqar queue of the server's own that
heat_deploy posts the document to (heat_deploy.operations.metadata_push).
"""

import secrets

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils

from heat_deploy import capability
from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import server_metadata as queries
from heat_deploy.db import software_deployments as deployment_queries
from heat_deploy import exception
from heat_deploy.signal import manager
from heat_deploy.signal import zaqar_message

LOG = logging.getLogger(__name__)

POLL_TEMP_URL = queries.POLL_TEMP_URL
ZAQAR_MESSAGE = queries.ZAQAR_MESSAGE


class MetadataState(object):
    """A server's metadata state, for conditional requests.

    :ivar etag: changes whenever the document or its URL changes.
    :ivar last_modified: epoch seconds, strictly increasing.
    :ivar generation: the URL's credential generation.
    :ivar revision: the document's revision.
    :ivar transport: the server's metadata transport.
    :ivar queue: (project id, user id, sealed password) of the server's
        Zaqar queue, or None.
    :ivar base_url: the API's URL when the transport was chosen, or None.
    :ivar posted_revision: the revision last posted to the queue, or None.
    :ivar posted_at: when (epoch seconds), or None.
    """

    def __init__(self, row):
        self.etag = '%d-%d' % (row.credential_generation, row.revision)
        self.last_modified = row.last_modified
        self.generation = row.credential_generation
        self.revision = row.revision
        self.transport = row.metadata_transport or POLL_TEMP_URL
        self.queue = ((row.zaqar_project_id, row.zaqar_user_id,
                       row.zaqar_password)
                      if row.zaqar_project_id else None)
        self.base_url = row.settings_base_url
        self.posted_revision = row.zaqar_posted_revision
        self.posted_at = row.zaqar_posted_at


class PollState(object):
    """What an agent's poll needs of a server's metadata state.

    :ivar etag: as MetadataState's.
    :ivar last_modified: as MetadataState's.
    :ivar generation: the URL's credential generation.
    :ivar transport: the server's metadata transport.
    """

    def __init__(self, row):
        self.etag = '%d-%d' % (row.credential_generation, row.revision)
        self.last_modified = row.last_modified
        self.generation = row.credential_generation
        self.transport = row.metadata_transport or POLL_TEMP_URL


class Servers(object):
    """The server operations of one running service.

    :param conf: the service's ConfigOpts.
    :param signer: a capability.Signer for metadata URLs.
    :param secret_box: seals the queue passwords of ZAQAR_MESSAGE.
    :param queues: a zaqar_message.ZaqarMessageQueues, or None if
        ZAQAR_MESSAGE is not set up.
    """

    def __init__(self, conf, signer, secret_box=None, queues=None):
        self.conf = conf
        self.signer = signer
        self.secret_box = secret_box
        self.queues = queues

    def _settings(self, base_url, tenant, server_id, generation):
        url = capability.metadata_url(self.signer, base_url, tenant,
                                      server_id, generation)
        return {'collectors': ['request', 'local'],
                'request': {'metadata_url': url},
                'polling_interval': self.conf.signal.polling_interval}

    def credentials(self, tenant, server_id, state):
        """The QueueCredentials of a server's queue, password in clear.

        :param state: a MetadataState with a queue.
        """
        project_id, user_id, sealed = state.queue
        return zaqar_message.QueueCredentials(
            project_id, user_id,
            self.secret_box.open(jsonutils.loads(sealed)),
            zaqar_message.queue_name(tenant, server_id))

    def settings_of(self, base_url, tenant, server_id, state):
        """The os-collect-config settings of a server in ``state``.

        A ZAQAR_MESSAGE server gets the zaqar collector once its queue's
        user exists; until then it polls.
        """
        if (state.transport == ZAQAR_MESSAGE and state.queue is not None
                and self.queues is not None):
            # Both run: heat-agents' template writes one "collectors =" line
            # per item, and os-collect-config's option keeps every line.
            return {'collectors': ['local', 'zaqar'],
                    'zaqar': self.queues.settings(
                        self.credentials(tenant, server_id, state)),
                    'polling_interval': self.conf.signal.polling_interval}
        return self._settings(base_url or state.base_url, tenant, server_id,
                              state.generation)

    def os_collect_config(self, ctx, server_id, base_url):
        """The os-collect-config settings for a server's user data.

        The server's metadata state is made on first use, with [signal]
        metadata_transport; a ZAQAR_MESSAGE server's user is made then.

        :raises heat_deploy.signal.manager.SignalTransportFailed: Keystone
            could not make the server's user (502).
        """
        default = self.conf.signal.metadata_transport
        state = MetadataState(self._choose(ctx, server_id, default, base_url,
                                           only_if_unset=True))
        return self._settings_with_queue(ctx.project_id, server_id, state,
                                         base_url)

    def choose_transport(self, ctx, server_id, transport, base_url):
        """Move a server to another metadata transport; returns its new
        os-collect-config settings.

        The document changes: on the transport the server is on now, it
        carries the new settings, which the agents' os-apply-config writes
        to os-collect-config.conf. A server leaving ZAQAR_MESSAGE keeps its
        queue until it took that last document from it.

        :raises heat_deploy.exception.Invalid: ZAQAR_MESSAGE is not set up.
        """
        if transport == ZAQAR_MESSAGE and self.queues is None:
            raise exception.Invalid(
                reason='ZAQAR_MESSAGE is not available here: the operator '
                       'has not set up the stack user domain ([heat_signal]) '
                       'and [signal] encryption_keys.')
        state = MetadataState(self._choose(ctx, server_id, transport,
                                           base_url))
        return self._settings_with_queue(ctx.project_id, server_id, state,
                                         base_url)

    def _settings_with_queue(self, tenant, server_id, state, base_url):
        if state.transport == ZAQAR_MESSAGE and state.queue is None:
            state = self.set_up_queue(tenant, server_id)
        return self.settings_of(base_url, tenant, server_id, state)

    def set_up_queue(self, tenant, server_id):
        """Make a ZAQAR_MESSAGE server's user; returns its MetadataState.

        The password is kept (sealed) before Keystone is asked, so that
        requests setting up one server at once all give Keystone the same.
        """
        admin = context.get_admin_context()
        sealed = jsonutils.dumps(self.secret_box.seal(
            secrets.token_urlsafe(24)))
        password = self.secret_box.open(jsonutils.loads(
            self._reserve(admin, tenant, server_id, sealed)))
        project_id, user_id = manager.call_driver(
            self.queues, 'set_up', tenant, server_id, password)
        return MetadataState(self._store(admin, tenant, server_id,
                                         project_id, user_id))

    @engine.writer
    def _choose(self, ctx, server_id, transport, base_url,
                only_if_unset=False):
        return queries.choose_transport(ctx.session, ctx.project_id,
                                        server_id, transport, base_url,
                                        only_if_unset=only_if_unset)

    @engine.writer
    def _reserve(self, ctx, tenant, server_id, sealed):
        return queries.reserve_password(ctx.session, tenant, server_id,
                                        sealed).zaqar_password

    @engine.writer
    def _store(self, ctx, tenant, server_id, project_id, user_id):
        return queries.store_credentials(ctx.session, tenant, server_id,
                                         project_id, user_id)

    def revoke(self, ctx, server_id):
        """Invalidate the server's metadata URL; a new one replaces it.

        A server with a queue user gets a new password, which Keystone
        takes first: the old one and its tokens stop working before
        anything with the new one is posted to the queue. The server needs
        its new settings (user data) to read its queue again.

        :raises heat_deploy.signal.manager.SignalTransportFailed: Keystone
            did not take the new password (502); nothing changed here.
        """
        sealed = None
        state = self.state(ctx, ctx.project_id, server_id)
        if (state is not None and state.queue is not None
                and self.queues is not None):
            password = secrets.token_urlsafe(24)
            manager.call_driver(self.queues, 'set_password',
                                state.queue[1], password)
            sealed = jsonutils.dumps(self.secret_box.seal(password))
        self._revoke(ctx, server_id, sealed)

    @engine.writer
    def _revoke(self, ctx, server_id, sealed):
        queries.revoke(ctx.session, ctx.project_id, server_id,
                       zaqar_password=sealed)

    @engine.reader_connection
    def check_url(self, ctx, tenant, server_id, params, connection):
        """The server's PollState, if its URL's signature holds.

        :param params: the URL's query parameters.
        :raises heat_deploy.capability.CapabilityMissing: no signature.
        :raises heat_deploy.capability.CapabilityDenied: forged or revoked.
        """
        row = queries.poll_state(connection, tenant, server_id)
        # No row: no URL was ever handed out for this server, so any
        # signature is forged; checking against generation 0 refuses it.
        capability.check_metadata(self.signer, tenant, server_id, params,
                                  row.credential_generation if row else 0)
        if row is None:
            # Only the signing key itself can sign generation 0.
            raise capability.CapabilityDenied(
                reason='The metadata URL\'s signature is not valid.')
        return PollState(row)

    def configs(self, ctx, tenant, server_id):
        """The config rows the metadata URL serves: the project's
        deployments of the server.

        Serving them is the server fetching its deployments: their current
        attempts count as delivered.
        """
        configs, all_delivered = self._configs(ctx, tenant, server_id)
        if not all_delivered:
            self._mark_delivered(ctx, tenant, server_id,
                                 [row.id for row in configs])
        return configs

    @engine.reader_connection
    def _configs(self, ctx, tenant, server_id, connection):
        return deployment_queries.server_configs(connection, server_id,
                                                 tenant=tenant)

    @engine.writer
    def _mark_delivered(self, ctx, tenant, server_id, config_ids):
        deployment_queries.mark_delivered(ctx.session, server_id, config_ids,
                                          timeutils.utcnow(), tenant=tenant)

    def settings(self, base_url, tenant, server_id, poll):
        """The os-collect-config settings the metadata document repeats.

        :param poll: the PollState of the request.
        """
        if poll.transport != POLL_TEMP_URL:
            state = self.state(context.get_admin_context(), tenant,
                               server_id)
            if state is not None:
                return self.settings_of(base_url, tenant, server_id, state)
        # The agents' poll: nothing more than before ZAQAR_MESSAGE.
        return self._settings(base_url, tenant, server_id, poll.generation)

    @engine.reader_connection
    def state(self, ctx, tenant, server_id, connection):
        """The server's MetadataState, or None if it has none."""
        row = queries.get(connection, tenant, server_id)
        return None if row is None else MetadataState(row)
