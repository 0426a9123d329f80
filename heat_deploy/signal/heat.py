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

"""HEAT_SIGNAL: each deployment gets a Keystone user that signals the API.

As Heat's stack-user domain does, the driver creates a user per deployment
in a dedicated domain ([heat_signal] stack_user_domain_name), grants it
stack_user_role on its tenant's project there (Heat makes one per stack),
and hands the server its id and a random password. heat-config-notify logs
in with them, finds this service as the ``orchestration`` endpoint in the
catalog and calls Heat's resource signal route, which heat_deploy serves.
The password is stored encrypted and shown to nobody but the server (see
heat_deploy.secret_values).
"""

from oslo_log import log as logging

from heat_deploy.signal import base
from heat_deploy.signal import stack_users

LOG = logging.getLogger(__name__)

# deploy_stack_id is "<STACK_NAME>/<deployment id>" and deploy_resource_name
# RESOURCE_NAME, so the agent's resource signal names the deployment.
STACK_NAME = 'software_deployments'
RESOURCE_NAME = 'deployment'
USER_PREFIX = stack_users.USER_PREFIX
user_name = stack_users.user_name


class HeatSignalDriver(base.SignalDriver):
    """Signals pushed through the API by a per-deployment Keystone user."""

    def __init__(self, conf):
        super().__init__(conf)
        self.users = stack_users.StackUsers(conf, 'HEAT_SIGNAL')

    def validate(self, context, deployment):
        pass

    def stack_user_may_signal(self, context, deployment):
        # Only the user made for this deployment.
        return context.user_name == user_name(deployment.id)

    def create_signal(self, context, deployment):
        # One project per tenant: its deployments' users share it.
        project_id = self.users.tenant_project(deployment.tenant)
        name = user_name(deployment.id)
        # Re-derived: the old password goes with the old config.
        user_id, password = self.users.set_up_user(
            name, project_id, 'heat_deploy deployment %s of project %s'
            % (deployment.id, deployment.tenant))
        return self.users.credential_inputs(
            name, user_id, password, project_id) + [
            base.string_input('deploy_stack_id',
                              '%s/%s' % (STACK_NAME, deployment.id),
                              'ID of the stack this deployment belongs to'),
            base.string_input('deploy_resource_name', RESOURCE_NAME,
                              'Name of this deployment resource in the '
                              'stack'),
        ]

    def delete_signal(self, context, deployment):
        self.users.delete_user(user_name(deployment.id))
