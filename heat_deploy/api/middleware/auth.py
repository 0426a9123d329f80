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

import logging as std_logging

from keystonemiddleware import auth_token
from oslo_log import log as logging

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

    def __call__(self, environ_, start_response):
        if not environ_.get('HTTP_X_AUTH_TOKEN', '').strip():
            return fault.response(
                401, 'HTTPUnauthorized',
                'Authentication required: send a token in the X-Auth-Token '
                'header (any value is accepted in noauth mode).',
                headers={'WWW-Authenticate': 'Keystone uri="noauth"'})(
                environ_, start_response)
        roles = environ_.get('HTTP_X_ROLES')
        for name in _IDENTITY_HEADERS:
            environ_.pop(name, None)
        # PATH_INFO is relative to the /v1 mount: /{tenant_id}/...; WSGI
        # gives it as Latin-1, url_check made sure it is UTF-8.
        path = environ_.get('PATH_INFO', '').encode('latin-1').decode(
            'utf-8', 'replace')
        project_id = path.lstrip('/').split('/', 1)[0]
        environ_.update({
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_USER_ID': 'noauth',
            'HTTP_X_USER_NAME': 'noauth',
            'HTTP_X_PROJECT_ID': project_id,
            'HTTP_X_PROJECT_NAME': project_id,
            'HTTP_X_ROLES': (NOAUTH_DEFAULT_ROLES if roles is None
                             else roles),
        })
        return self.application(environ_, start_response)


def noauth_filter_factory(global_conf, **local_conf):
    LOG.warning('heat_deploy runs with [api] auth_strategy = noauth: every '
                'request with any X-Auth-Token is trusted. Use this for '
                'development only.')
    return NoAuthMiddleware


# The start of the warning keystonemiddleware logs, on each worker's first
# request, when no memcached_servers is set.
_IN_PROCESS_CACHE_WARNING = 'Using the in-process token cache is deprecated'


class _InProcessCacheWarningFilter(std_logging.Filter):
    """Drop keystonemiddleware's warning about its in-process token cache.

    Installed only when heat_deploy has said itself, in one INFO line,
    which cache is used (see _describe_token_cache).
    """

    def filter(self, record):
        return not str(record.msg).startswith(_IN_PROCESS_CACHE_WARNING)


def _quiet_in_process_cache_warning():
    logger = std_logging.getLogger(auth_token.__name__)
    if not any(isinstance(installed, _InProcessCacheWarningFilter)
               for installed in logger.filters):
        logger.addFilter(_InProcessCacheWarningFilter())


def _describe_token_cache(conf, local_conf):
    """Say in one line where validated tokens are cached.

    With [keystone_authtoken] memcached_servers (or the ``cache`` of a
    WSGI environ) keystonemiddleware uses that, as its maintainers
    recommend, and says nothing. Without, it caches tokens in each worker
    process and logs a long deprecation warning on each worker's first
    request; heat_deploy replaces that warning with one INFO line naming
    the cache time and the option that would share the cache (see "Token
    cache" in doc/source/keystone.rst).
    """
    options = conf.keystone_authtoken
    if (local_conf.get('memcached_servers') or local_conf.get('cache')
            or options.memcached_servers or options.cache):
        return
    _quiet_in_process_cache_warning()
    cache_time = int(local_conf.get('token_cache_time',
                                    options.token_cache_time))
    if cache_time < 0:
        LOG.info('Keystone tokens are not cached (token_cache_time = %d): '
                 'every request is validated by Keystone.', cache_time)
    else:
        LOG.info('Keystone tokens are cached in this process for %d '
                 's ([keystone_authtoken] memcached_servers is not set).',
                 cache_time)


def _auth_token(application, local_conf, conf):
    # NOTE: handing auth_token our ConfigOpts makes it read
    # [keystone_authtoken] from the same files as the rest of the service
    # instead of parsing its own copy.
    protocol = auth_token.AuthProtocol(
        application, dict(local_conf, oslo_config_config=conf))
    # After AuthProtocol, which registered the options; before its first
    # request, which makes the cache.
    _describe_token_cache(conf, local_conf)
    return protocol


def authtoken_filter_factory(global_conf, **local_conf):
    """keystonemiddleware auth_token reading heat_deploy's ConfigOpts."""
    def _filter(application):
        return environ.BuiltOnFirstRequest(
            lambda conf: _auth_token(application, local_conf, conf))
    return _filter
