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

import secrets

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from oslo_log import log as logging

from heat_deploy.signal import base

LOG = logging.getLogger(__name__)

# deploy_stack_id is "<STACK_NAME>/<deployment id>" and deploy_resource_name
# RESOURCE_NAME, so the agent's resource signal names the deployment.
STACK_NAME = 'software_deployments'
RESOURCE_NAME = 'deployment'
USER_PREFIX = 'hd-'


def user_name(deployment_id):
    """Name of a deployment's Keystone user."""
    return USER_PREFIX + deployment_id


class HeatSignalDriver(base.SignalDriver):
    """Signals pushed through the API by a per-deployment Keystone user."""

    def __init__(self, conf):
        super().__init__(conf)
        opts = conf.heat_signal
        missing = [name for name in ('auth_url', 'stack_domain_admin',
                                     'stack_domain_admin_password')
                   if not getattr(opts, name)]
        if missing:
            raise ValueError('[heat_signal] %s must be set to enable '
                             'HEAT_SIGNAL' % ', '.join(missing))
        if not conf.signal.encryption_keys:
            raise ValueError('[signal] encryption_keys must be set to enable '
                             'HEAT_SIGNAL (its passwords are stored '
                             'encrypted)')
        self.opts = opts
        self.identity_url = opts.auth_url.rstrip('/')
        if not self.identity_url.endswith('/v3'):
            self.identity_url += '/v3'
        auth = v3.Password(
            auth_url=self.identity_url, username=opts.stack_domain_admin,
            password=opts.stack_domain_admin_password,
            user_domain_name=opts.stack_user_domain_name,
            domain_name=opts.stack_user_domain_name)
        # Keystone is asked lazily: start-up does not depend on it.
        self.session = ks_session.Session(auth=auth, timeout=opts.timeout)
        self._ids = None
        self._projects = {}

    def validate(self, context, deployment):
        pass

    def stack_user_may_signal(self, context, deployment):
        # Only the user made for this deployment.
        return context.user_name == user_name(deployment.id)

    def _call(self, method, path, **kwargs):
        try:
            return self.session.request(self.identity_url + path, method,
                                        **kwargs)
        except ks_exc.NotFound:
            raise
        except ks_exc.ClientException as err:
            raise base.SignalBackendError(
                'Keystone could not set up the deployment\'s signal user; '
                'try again later.',
                'Keystone %s %s failed: %s' % (method, path, err))

    def _lookup(self, path, key, name, **filters):
        params = dict(filters, name=name)
        found = self._call('GET', path, params=params).json()[key]
        if not found:
            raise base.SignalBackendError(
                'HEAT_SIGNAL is not set up correctly; ask the operator.',
                'Keystone has no %s named %s (%s)' % (key, name, filters))
        return found[0]['id']

    def _identity_ids(self):
        if self._ids is None:
            self._ids = {
                'domain': self._lookup('/domains', 'domains',
                                       self.opts.stack_user_domain_name),
                'role': self._lookup('/roles', 'roles',
                                     self.opts.stack_user_role),
            }
        return self._ids

    def _project_id(self, tenant, domain_id):
        """The tenant's project in the stack user domain, made on first use.
        """
        if tenant not in self._projects:
            name = self.opts.stack_user_project_prefix + tenant
            query = {'name': name, 'domain_id': domain_id}
            found = self._call('GET', '/projects',
                               params=query).json()['projects']
            if found:
                project_id = found[0]['id']
            else:
                try:
                    project_id = self._call('POST', '/projects', json={
                        'project': dict(query, description=(
                            'heat_deploy deployment users of project %s'
                            % tenant))}).json()['project']['id']
                except base.SignalBackendError:
                    # Another worker made it meanwhile (409); else re-raise.
                    found = self._call('GET', '/projects',
                                       params=query).json()['projects']
                    if not found:
                        raise
                    project_id = found[0]['id']
            self._projects[tenant] = project_id
        return self._projects[tenant]

    def _find_user(self, name, domain_id):
        users = self._call('GET', '/users', params={
            'name': name, 'domain_id': domain_id}).json()['users']
        return users[0]['id'] if users else None

    def create_signal(self, context, deployment):
        ids = self._identity_ids()
        project_id = self._project_id(deployment.tenant, ids['domain'])
        name = user_name(deployment.id)
        password = secrets.token_urlsafe(24)
        user_id = self._find_user(name, ids['domain'])
        if user_id is None:
            user_id = self._call('POST', '/users', json={'user': {
                'name': name, 'domain_id': ids['domain'],
                'password': password,
                'description': 'heat_deploy deployment %s of project %s'
                               % (deployment.id, deployment.tenant)}}
            ).json()['user']['id']
        else:
            # Re-derived: the old password goes with the old config.
            self._call('PATCH', '/users/%s' % user_id,
                       json={'user': {'password': password}})
        self._call('PUT', '/projects/%s/users/%s/roles/%s'
                   % (project_id, user_id, ids['role']))
        inputs = [
            base.string_input('deploy_auth_url', self.identity_url,
                              'URL for API authentication'),
            base.string_input('deploy_username', name,
                              'Username for API authentication'),
            base.string_input('deploy_user_id', user_id,
                              'User ID for API authentication'),
            base.secret_input('deploy_password', password,
                              'Password for API authentication'),
            base.string_input('deploy_project_id', project_id,
                              'ID of project for API authentication'),
            base.string_input('deploy_stack_id',
                              '%s/%s' % (STACK_NAME, deployment.id),
                              'ID of the stack this deployment belongs to'),
            base.string_input('deploy_resource_name', RESOURCE_NAME,
                              'Name of this deployment resource in the '
                              'stack'),
        ]
        if self.opts.region_name:
            inputs.append(base.string_input(
                'deploy_region_name', self.opts.region_name,
                'Region name for API authentication'))
        return inputs

    def delete_signal(self, context, deployment):
        ids = self._identity_ids()
        user_id = self._find_user(user_name(deployment.id), ids['domain'])
        if user_id is None:
            return
        try:
            self._call('DELETE', '/users/%s' % user_id)
        except ks_exc.NotFound:
            pass
