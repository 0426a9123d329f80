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

"""Per-deployment Keystone users in a stack user domain, as Heat makes them.

HEAT_SIGNAL and ZAQAR_SIGNAL hand each deployment's server the credentials
of a user of its own, made by the domain admin of [heat_signal]
stack_user_domain_name, which heat_deploy holds. This module is that user
management; the transports decide which project a user gets its role on
and what it may do with it.
"""

import secrets

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from heat_deploy.signal import base

USER_PREFIX = 'hd-'


def user_name(deployment_id):
    """Name of a deployment's Keystone user."""
    return USER_PREFIX + deployment_id


class StackUsers(object):
    """Users, projects and role grants in the stack user domain.

    :param conf: the service's ConfigOpts ([heat_signal] and [signal]).
    :param transport: the transport name, for configuration errors.
    :raises ValueError: a setting the users need is missing.
    """

    def __init__(self, conf, transport):
        opts = conf.heat_signal
        missing = [name for name in ('auth_url', 'stack_domain_admin',
                                     'stack_domain_admin_password')
                   if not getattr(opts, name)]
        if missing:
            raise ValueError('[heat_signal] %s must be set to enable %s'
                             % (', '.join(missing), transport))
        if not conf.signal.encryption_keys:
            raise ValueError('[signal] encryption_keys must be set to enable '
                             '%s (its passwords are stored encrypted)'
                             % transport)
        self.opts = opts
        self.identity_url = opts.auth_url.rstrip('/')
        if not self.identity_url.endswith('/v3'):
            self.identity_url += '/v3'
        # Keystone is asked lazily: start-up does not depend on it.
        self.session = ks_session.Session(
            auth=self._admin_auth(domain_name=opts.stack_user_domain_name),
            timeout=opts.timeout)
        self._ids = None
        self._projects = {}

    def _admin_auth(self, **scope):
        return v3.Password(
            auth_url=self.identity_url, username=self.opts.stack_domain_admin,
            password=self.opts.stack_domain_admin_password,
            user_domain_name=self.opts.stack_user_domain_name, **scope)

    def admin_session(self, project_id, timeout):
        """A session of the domain admin scoped to a project of the domain.

        The admin must have a role there (see :meth:`grant`).
        """
        return ks_session.Session(auth=self._admin_auth(project_id=project_id),
                                  timeout=timeout)

    def call(self, method, path, **kwargs):
        """A Keystone request as the domain admin.

        :raises keystoneauth1.exceptions.NotFound: as it is.
        :raises SignalBackendError: any other Keystone failure.
        """
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
        found = self.call('GET', path, params=params).json()[key]
        if not found:
            raise base.SignalBackendError(
                'The deployment users are not set up correctly; ask the '
                'operator.',
                'Keystone has no %s named %s (%s)' % (key, name, filters))
        return found[0]['id']

    def ids(self):
        """The ids of the stack user domain and of the stack user role."""
        if self._ids is None:
            self._ids = {
                'domain': self._lookup('/domains', 'domains',
                                       self.opts.stack_user_domain_name),
                'role': self._lookup('/roles', 'roles',
                                     self.opts.stack_user_role),
            }
        return self._ids

    def tenant_project(self, tenant):
        """The tenant's project in the stack user domain, made on first use.
        """
        if tenant not in self._projects:
            self._projects[tenant] = self.project(
                self.opts.stack_user_project_prefix + tenant,
                'heat_deploy deployment users of project %s' % tenant)
        return self._projects[tenant]

    def project(self, name, description):
        """The id of a project of the stack user domain, made if missing."""
        query = {'name': name, 'domain_id': self.ids()['domain']}
        found = self.call('GET', '/projects', params=query).json()['projects']
        if found:
            return found[0]['id']
        try:
            return self.call('POST', '/projects', json={
                'project': dict(query, description=description)}
            ).json()['project']['id']
        except base.SignalBackendError:
            # Another worker made it meanwhile (409); else re-raise.
            found = self.call('GET', '/projects',
                              params=query).json()['projects']
            if not found:
                raise
            return found[0]['id']

    def find_project(self, name):
        """The id of a project of the stack user domain, or None."""
        found = self.call('GET', '/projects', params={
            'name': name, 'domain_id': self.ids()['domain']}).json()
        return found['projects'][0]['id'] if found['projects'] else None

    def find_user(self, name):
        """The id of a user of the stack user domain, or None."""
        users = self.call('GET', '/users', params={
            'name': name, 'domain_id': self.ids()['domain']}).json()['users']
        return users[0]['id'] if users else None

    def set_up_user(self, name, project_id, description, password=None):
        """Make the user, or give it a new password; grant it its role.

        A new password for an existing user (a re-derived deployment) ends
        what the old one allowed: Keystone revokes the user's tokens.

        :param password: the password to give; default: a new random one.
        :returns: (user id, password in clear).
        """
        password = password or secrets.token_urlsafe(24)
        user_id = self.find_user(name)
        if user_id is None:
            user_id = self.call('POST', '/users', json={'user': {
                'name': name, 'domain_id': self.ids()['domain'],
                'password': password, 'description': description}}
            ).json()['user']['id']
        else:
            self.call('PATCH', '/users/%s' % user_id,
                      json={'user': {'password': password}})
        self.grant(project_id, user_id)
        return user_id, password

    def grant(self, project_id, user_id=None):
        """Grant the stack user role on a project (default: to the admin).
        """
        if user_id is None:
            user_id = self.session.get_user_id()
        self.call('PUT', '/projects/%s/users/%s/roles/%s'
                  % (project_id, user_id, self.ids()['role']))

    def delete(self, kind, object_id):
        """Delete a user or a project by id; a missing one is fine."""
        try:
            self.call('DELETE', '/%ss/%s' % (kind, object_id))
        except ks_exc.NotFound:
            pass

    def delete_user(self, name):
        """Delete a user by name; a missing one is fine."""
        user_id = self.find_user(name)
        if user_id is not None:
            self.delete('user', user_id)

    def credential_inputs(self, name, user_id, password, project_id):
        """The derived inputs a server logs in with, as Heat names them.

        The password is a secret input: stored encrypted, shown as ***.
        """
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
        ]
        if self.opts.region_name:
            inputs.append(base.string_input(
                'deploy_region_name', self.opts.region_name,
                'Region name for API authentication'))
        return inputs
