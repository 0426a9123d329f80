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

"""Authentication middleware: keystonemiddleware auth_token, or noauth."""

from keystonemiddleware import auth_token
from oslo_log import log as logging
import webob.dec

from heat_deploy.api import environ
from heat_deploy.api import fault

LOG = logging.getLogger(__name__)

# Identity headers that keystonemiddleware would set after validating a
# token. In noauth mode nobody validates them, so whatever the caller sent is
# dropped before they are set from the URL.
_IDENTITY_HEADERS = (
    'HTTP_X_IDENTITY_STATUS', 'HTTP_X_SERVICE_IDENTITY_STATUS',
    'HTTP_X_DOMAIN_ID', 'HTTP_X_DOMAIN_NAME',
    'HTTP_X_PROJECT_ID', 'HTTP_X_PROJECT_NAME',
    'HTTP_X_PROJECT_DOMAIN_ID', 'HTTP_X_PROJECT_DOMAIN_NAME',
    'HTTP_X_USER_ID', 'HTTP_X_USER_NAME',
    'HTTP_X_USER_DOMAIN_ID', 'HTTP_X_USER_DOMAIN_NAME',
    'HTTP_X_IS_ADMIN_PROJECT', 'HTTP_X_SYSTEM_SCOPE',
    'HTTP_X_SERVICE_ROLES', 'HTTP_X_SERVICE_USER_ID',
    'HTTP_X_SERVICE_PROJECT_ID', 'HTTP_X_TENANT_ID', 'HTTP_X_TENANT',
    'HTTP_X_USER', 'HTTP_X_ROLE',
)

NOAUTH_DEFAULT_ROLES = 'reader,member'


class NoAuthMiddleware(object):
    """Development authentication: trust the caller, name nobody.

    Any non-empty X-Auth-Token is accepted. The caller acts as user
    ``noauth`` in the project named in the URL path
    (``/v1/{tenant_id}/...``) with roles ``reader`` and ``member``, or
    the roles listed in an ``X-Roles`` header, so tests can act as admin,
    reader only, or with no role at all.
    """

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        if not req.headers.get('X-Auth-Token', '').strip():
            return fault.response(
                401, 'HTTPUnauthorized',
                'Authentication required: send a token in the X-Auth-Token '
                'header (any value is accepted in noauth mode).',
                headers={'WWW-Authenticate': 'Keystone uri="noauth"'})
        roles = req.environ.get('HTTP_X_ROLES')
        for name in _IDENTITY_HEADERS:
            req.environ.pop(name, None)
        # PATH_INFO is relative to the /v1 mount: /{tenant_id}/...
        project_id = req.path_info.lstrip('/').split('/', 1)[0]
        req.environ.update({
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_USER_ID': 'noauth',
            'HTTP_X_USER_NAME': 'noauth',
            'HTTP_X_PROJECT_ID': project_id,
            'HTTP_X_PROJECT_NAME': project_id,
            'HTTP_X_ROLES': (NOAUTH_DEFAULT_ROLES if roles is None
                             else roles),
        })
        return req.get_response(self.application)


def noauth_filter_factory(global_conf, **local_conf):
    LOG.warning('heat_deploy runs with [api] auth_strategy = noauth: every '
                'request with any X-Auth-Token is trusted. Use this for '
                'development only.')
    return NoAuthMiddleware


def authtoken_filter_factory(global_conf, **local_conf):
    """keystonemiddleware auth_token reading heat_deploy's ConfigOpts."""
    def _filter(application):
        # NOTE: handing auth_token our ConfigOpts makes it read
        # [keystone_authtoken] from the same files as the rest of the
        # service instead of parsing its own copy.
        return environ.BuiltOnFirstRequest(
            lambda conf: auth_token.AuthProtocol(
                application, dict(local_conf, oslo_config_config=conf)))
    return _filter
