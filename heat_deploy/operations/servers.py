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

"""Server operations: the signed metadata URL that os-collect-config polls.

What an operator puts in a server's user data so that its os-collect-config
polls this service, and what the server gets there: its deployments'
configs, with an ETag and a Last-Modified that change whenever they do.
"""

from oslo_utils import timeutils

from heat_deploy import capability
from heat_deploy.db import engine
from heat_deploy.db import server_metadata as queries
from heat_deploy.db import software_deployments as deployment_queries


class MetadataState(object):
    """A server's metadata state, for conditional requests.

    :ivar etag: changes whenever the document or its URL changes.
    :ivar last_modified: epoch seconds, strictly increasing.
    :ivar generation: the URL's credential generation.
    """

    def __init__(self, row):
        self.etag = '%d-%d' % (row.credential_generation, row.revision)
        self.last_modified = row.last_modified
        self.generation = row.credential_generation


class Servers(object):
    """The server operations of one running service.

    :param conf: the service's ConfigOpts.
    :param signer: a capability.Signer for metadata URLs.
    """

    def __init__(self, conf, signer):
        self.conf = conf
        self.signer = signer

    def _settings(self, base_url, tenant, server_id, generation):
        url = capability.metadata_url(self.signer, base_url, tenant,
                                      server_id, generation)
        return {'collectors': ['request', 'local'],
                'request': {'metadata_url': url},
                'polling_interval': self.conf.signal.polling_interval}

    def os_collect_config(self, ctx, server_id, base_url):
        """The os-collect-config settings for a server's user data.

        The server's metadata state is made on first use.
        """
        row = self._ensure(ctx, server_id)
        return self._settings(base_url, ctx.project_id, server_id,
                              row.credential_generation)

    @engine.writer
    def _ensure(self, ctx, server_id):
        return queries.ensure(ctx.session, ctx.project_id, server_id)

    @engine.writer
    def revoke(self, ctx, server_id):
        """Invalidate the server's metadata URL; a new one replaces it."""
        queries.revoke(ctx.session, ctx.project_id, server_id)

    @engine.reader_connection
    def check_url(self, ctx, tenant, server_id, params):
        """The server's MetadataState, if its URL's signature holds.

        :param params: the URL's query parameters.
        :raises heat_deploy.capability.CapabilityMissing: no signature.
        :raises heat_deploy.capability.CapabilityDenied: forged or revoked.
        """
        row = queries.get(ctx.connection, tenant, server_id)
        # No row: no URL was ever handed out for this server, so any
        # signature is forged; checking against generation 0 refuses it.
        capability.check_metadata(self.signer, tenant, server_id, params,
                                  row.credential_generation if row else 0)
        if row is None:
            # Only the signing key itself can sign generation 0.
            raise capability.CapabilityDenied(
                reason='The metadata URL\'s signature is not valid.')
        return MetadataState(row)

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
    def _configs(self, ctx, tenant, server_id):
        return deployment_queries.server_configs(ctx.connection, server_id,
                                                 tenant=tenant)

    @engine.writer
    def _mark_delivered(self, ctx, tenant, server_id, config_ids):
        deployment_queries.mark_delivered(ctx.session, server_id, config_ids,
                                          timeutils.utcnow(), tenant=tenant)

    def settings(self, base_url, tenant, server_id, state):
        """The os-collect-config settings the metadata document repeats."""
        return self._settings(base_url, tenant, server_id, state.generation)
