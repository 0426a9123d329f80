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

"""Heat's tenant check, applied once for every /v1/{tenant_id}/ route."""

import pecan
import webob.exc

from heat_deploy.api.controllers.v1 import servers
from heat_deploy.api.controllers.v1 import software_configs
from heat_deploy.api.controllers.v1 import software_deployments
from heat_deploy.api.controllers.v1 import stacks
from heat_deploy.api.controllers.v1 import validate
from heat_deploy.db import models


def effective_tenant(ctx, tenant_id):
    """The project a request acts on, as Heat decides it.

    An administrator acts with their own project whatever the URL says (and
    sees every project's objects); anyone else must name their own project.

    :raises webob.exc.HTTPForbidden: the URL names another project.
    :raises webob.exc.HTTPNotFound: no project could have that id.
    """
    if ctx.is_admin and ctx.project_id:
        return ctx.project_id
    if len(tenant_id) > models.PROJECT_ID_LENGTH:
        raise webob.exc.HTTPNotFound(
            'The project id in the URL is longer than any project id (%d '
            'characters).' % models.PROJECT_ID_LENGTH)
    if tenant_id != ctx.project_id:
        raise webob.exc.HTTPForbidden(
            'Access was denied to this resource: the URL names project '
            '%s but the token is scoped to another project.' % tenant_id)
    return tenant_id


class TenantController(object):
    """Resources of one project."""

    software_configs = software_configs.SoftwareConfigsController()
    software_deployments = (
        software_deployments.SoftwareDeploymentsController())
    validate = validate.ValidateController()
    servers = servers.ServersController()
    stacks = stacks.StacksController()

    def __init__(self, tenant_id):
        pecan.request.tenant_id = effective_tenant(pecan.request.context,
                                                   tenant_id)
