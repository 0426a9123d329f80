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

"""/v1/{tenant_id}/software_configs: list, create, show, delete."""

import pecan
import webob
import webob.exc

from heat_deploy.api import body
from heat_deploy.api.controllers.v1 import common
from heat_deploy.api.schemas import software_configs as schemas
from heat_deploy.api import validation
from heat_deploy.api import views
from heat_deploy.operations import configs
from heat_deploy.policies import software_configs as policies


def _configs():
    return pecan.request.app_state.configs


class SoftwareConfigController(object):
    """One config. Configs are immutable: there is no PUT or PATCH."""

    def __init__(self, config_id):
        self.config_id = config_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def show(self):
        common.authorize(policies.SHOW)
        row = _configs().show(common.context(), self.config_id)
        return {'software_config': views.config(row)}

    @index.when(method='DELETE', template='json')
    def delete(self):
        common.authorize(policies.DELETE)
        _configs().delete(common.context(), self.config_id)
        return webob.Response(status=204)


class SoftwareConfigsController(object):
    """The collection of the project's configs."""

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def get_all(self, **params):
        if body.bool_param(params, 'global_tenant'):
            common.authorize(policies.GLOBAL_INDEX)
            ctx = common.context().elevated()
        else:
            ctx = common.context()
        common.authorize(policies.INDEX)
        rows = _configs().list(ctx, limit=body.limit_param(params),
                               marker=params.get('marker'))
        return {'software_configs': [
            views.config_summary(row, with_project=ctx.is_admin)
            for row in rows]}

    @index.when(method='POST', template='json')
    def create(self, **params):
        common.authorize(policies.CREATE)
        doc = validation.validate(schemas.CREATE,
                                  body.json_object(pecan.request))
        document = configs.build_document(
            config=doc.get('config'), inputs=doc.get('inputs'),
            outputs=doc.get('outputs'), options=doc.get('options'))
        row = _configs().create(
            common.context(),
            name=doc.get('name'), group=doc.get('group'),
            document=document)
        return {'software_config': views.config(row)}

    @pecan.expose()
    def _lookup(self, config_id, *remainder):
        return SoftwareConfigController(config_id), remainder
