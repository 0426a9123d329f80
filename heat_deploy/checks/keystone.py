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

"""The Keystone checks: token validation and the token cache.

Both read [api] auth_strategy and keystonemiddleware's [keystone_authtoken]
options; neither contacts Keystone or memcached.
"""

import importlib

from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import loading as ksa_loading
from keystonemiddleware import auth_token

from heat_deploy.checks import base
from heat_deploy.conf import api as api_conf

AUTHTOKEN_GROUP = 'keystone_authtoken'


def _keystone(conf):
    return conf.api.auth_strategy == api_conf.AUTH_KEYSTONE


def _authtoken_options(conf):
    """keystonemiddleware's [keystone_authtoken] group, registered.

    auth_token registers the same options when it is built; registering
    them here first lets the checks read them before any request.
    """
    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    return conf[AUTHTOKEN_GROUP]


@base.titled('Keystone authentication')
def check_keystone(conf):
    """[keystone_authtoken] can validate tokens: a plugin with its auth_url,
    and the www_authenticate_uri that 401 answers name.
    """
    if not _keystone(conf):
        return base.Result(base.OK, '[api] auth_strategy = noauth: every '
                                    'caller is trusted (development only); '
                                    'no Keystone settings are needed.')
    options = _authtoken_options(conf)
    group = options.auth_section or AUTHTOKEN_GROUP
    if group != AUTHTOKEN_GROUP:
        ksa_loading.register_auth_conf_options(conf, group)
    problems = []
    plugin_name = conf[group].auth_type
    auth_url = None
    if not plugin_name:
        problems.append('[%s] auth_type is not set' % group)
    else:
        try:
            loader = ksa_loading.get_plugin_loader(plugin_name)
            conf.register_opts(
                ksa_loading.get_auth_plugin_conf_options(loader), group=group)
            loader.load_from_options_getter(
                lambda opt: conf[group][opt.dest])
            auth_url = getattr(conf[group], 'auth_url', None)
        except ksa_exceptions.NoMatchingPlugin:
            problems.append('[%s] auth_type = %s is no installed '
                            'keystoneauth1 plugin' % (group, plugin_name))
        except ksa_exceptions.MissingRequiredOptions as err:
            problems.append('[%s] auth_type = %s needs %s, which %s not set'
                            % (group, plugin_name,
                               ', '.join(opt.dest for opt in err.options),
                               'is' if len(err.options) == 1 else 'are'))
    if not options.www_authenticate_uri:
        problems.append('[%s] www_authenticate_uri is not set'
                        % AUTHTOKEN_GROUP)
    if problems:
        return base.Result(
            base.FAILURE,
            '[api] auth_strategy = keystone, but keystonemiddleware cannot '
            'validate tokens: %s.' % '; '.join(problems),
            'Set auth_type (e.g. password), auth_url, www_authenticate_uri '
            'and the service user\'s credentials in [keystone_authtoken] '
            '(see doc/source/keystone.rst), or [api] auth_strategy = noauth '
            'for development.')
    return base.Result(base.OK, 'Tokens are validated by Keystone at %s '
                                '(auth_type = %s); 401 answers send clients '
                                'to %s. Keystone itself is not contacted by '
                                'this check.'
                       % (auth_url or 'the auth plugin\'s URL', plugin_name,
                          options.www_authenticate_uri))


def _memcache_client_module(options):
    """The module keystonemiddleware imports to talk to memcached."""
    binary = options.memcache_sasl_enabled or options.memcache_tls_enabled
    if options.memcache_use_advanced_pool:
        return ('oslo_cache._bmemcache_pool' if binary
                else 'oslo_cache._memcache_pool')
    return 'bmemcached' if options.memcache_sasl_enabled else 'memcache'


@base.titled('Keystone token cache')
def check_token_cache(conf):
    """Where keystonemiddleware caches validated tokens, and whether it
    can.
    """
    if not _keystone(conf):
        return base.Result(base.OK, 'Not used: [api] auth_strategy = noauth.')
    options = _authtoken_options(conf)
    cache_time = options.token_cache_time
    if cache_time == 0:
        return base.Result(
            base.FAILURE,
            '[keystone_authtoken] token_cache_time = 0 keeps every validated '
            'token cached without expiry: revoked tokens would keep '
            'working.',
            'Set the longest time, in seconds, that a revoked token may '
            'keep working (e.g. 60), or -1 to validate every request with '
            'Keystone.')
    if options.cache:
        return base.Result(base.OK, 'Validated tokens are cached for %d s in '
                                    'the cache object the WSGI environ holds '
                                    'under %s ([keystone_authtoken] cache).'
                           % (cache_time, options.cache))
    if options.memcached_servers:
        module = _memcache_client_module(options)
        try:
            importlib.import_module(module)
        except ImportError as err:
            return base.Result(
                base.FAILURE,
                '[keystone_authtoken] memcached_servers is set, but the '
                'memcached client keystonemiddleware uses cannot be '
                'imported: %s' % err,
                'Install python-memcached (python-binary-memcached with '
                'memcache_sasl_enabled or memcache_tls_enabled) where '
                'heat_deploy runs, or unset memcached_servers.')
        strategy = (options.memcache_security_strategy or 'None').upper()
        if strategy != 'NONE' and not options.memcache_secret_key:
            return base.Result(
                base.FAILURE,
                '[keystone_authtoken] memcache_security_strategy = %s needs '
                'memcache_secret_key, which is not set.' % strategy,
                'Set memcache_secret_key to the same long random string on '
                'every heat_deploy host.')
        return base.Result(base.OK, 'Validated tokens are cached for %d s in '
                                    'memcached (%s), shared by every worker; '
                                    'memcached itself is not contacted by '
                                    'this check.'
                           % (cache_time,
                              ', '.join(options.memcached_servers)))
    if cache_time < 0:
        return base.Result(base.OK, 'Tokens are not cached (token_cache_time '
                                    '= %d): Keystone validates every '
                                    'request.' % cache_time)
    return base.Result(base.OK, 'Each worker process caches validated tokens '
                                'for %d s ([keystone_authtoken] '
                                'memcached_servers is not set); '
                                'keystonemiddleware recommends '
                                'memcached_servers, one cache for every '
                                'worker.' % cache_time)
