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

"""/v1/{tenant_id}/servers/{server_id}/os-collect-config.

What an operator puts in a server's user data so that its os-collect-config
finds its deployments: a signed metadata URL that needs no credentials
(POLL_TEMP_URL), or a Zaqar queue of the server's own with its credentials
(ZAQAR_MESSAGE). PUT chooses between them.
"""

import pecan
import webob
import webob.exc

from heat_deploy.api import body
from heat_deploy.api.controllers.v1 import common
from heat_deploy.api.schemas import software_deployments as schemas
from heat_deploy.api import validation
from heat_deploy.db import models
from heat_deploy.policies import software_deployments as policies


def _servers():
    return pecan.request.app_state.servers


class OsCollectConfigController(object):

    def __init__(self, server_id):
        self.server_id = server_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def get(self):
        common.authorize(policies.METADATA)
        return {'os-collect-config': _servers().os_collect_config(
            common.context(), self.server_id, common.base_url())}

    @index.when(method='PUT', template='json')
    def put(self):
        doc = validation.validate(schemas.OS_COLLECT_CONFIG_UPDATE,
                                  body.json_object(pecan.request))
        common.authorize(policies.METADATA_TRANSPORT)
        return {'os-collect-config': _servers().choose_transport(
            common.context(), self.server_id,
            doc['software_config_transport'], common.base_url())}

    @index.when(method='DELETE', template='json')
    def revoke(self):
        common.authorize(policies.REVOKE_METADATA_URL)
        _servers().revoke(common.context(), self.server_id)
        return webob.Response(status=204)


class ServerController(object):

    def __init__(self, server_id):
        self.server_id = server_id

    @pecan.expose()
    def _lookup(self, name, *remainder):
        if name == 'os-collect-config':
            return OsCollectConfigController(self.server_id), remainder
        pecan.abort(404)


class ServersController(object):

    @pecan.expose()
    def _lookup(self, server_id, *remainder):
        if len(server_id) > models.SERVER_ID_LENGTH:
            raise webob.exc.HTTPNotFound(
                'The server id in the URL is longer than any server id (%d '
                'characters).' % models.SERVER_ID_LENGTH)
        return ServerController(server_id), remainder
