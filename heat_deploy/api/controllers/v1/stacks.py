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

"""Heat's resource signal route, for HEAT_SIGNAL agents.

``POST /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/resources/
{resource_name}/signal`` is what heat-config-notify calls with the
deployment's own Keystone user. heat_deploy has no stacks: the HEAT_SIGNAL
transport names the deployment as the stack id.
"""

import pecan
import webob.exc

from heat_deploy.api import agent
from heat_deploy.api import body
from heat_deploy.api.controllers.v1 import common
from heat_deploy.policies import stacks as policies
from heat_deploy.signal import heat


class ResourceSignalController(object):

    def __init__(self, deployment_id):
        self.deployment_id = deployment_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='POST', template='json')
    def post(self):
        common.authorize(policies.RESOURCE_SIGNAL)
        payload = body.json_object(pecan.request) if pecan.request.body \
            else None
        result, after = pecan.request.app_state.deployments.signal(
            common.context(), self.deployment_id, payload)
        return agent.signal_answer(after.id, result, after)


class StacksController(object):
    """Only .../stacks/{name}/{id}/resources/{resource}/signal exists."""

    @pecan.expose()
    def _lookup(self, stack_name, stack_id=None, resources=None,
                resource_name=None, signal=None, *remainder):
        if (stack_name != heat.STACK_NAME or resources != 'resources'
                or signal != 'signal' or remainder or not stack_id):
            pecan.abort(404)
        return ResourceSignalController(stack_id), ()
