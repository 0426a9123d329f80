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

"""Configuration options of heat_deploy, one module per option group.

Every module in this package that defines ``GROUP`` (an OptGroup) and
``OPTS`` is picked up automatically, so a new group needs no edit here.
"""

import importlib
import pkgutil

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
from oslo_middleware import cors
from oslo_middleware.healthcheck import opts as healthcheck_opts
from oslo_policy import opts as policy_opts

DEFAULT_SQLITE_CONNECTION = 'sqlite:////var/lib/heat_deploy/heat_deploy.sqlite'


def _group_modules():
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module('%s.%s' % (__name__, info.name))
        if hasattr(module, 'GROUP'):
            yield module


def register_opts(conf):
    """Register every heat_deploy option and the library options it uses.

    :param conf: the ConfigOpts instance the service was built with.
    """
    for module in _group_modules():
        group = module.GROUP
        # A new OptGroup per ConfigOpts: oslo.config keeps registered
        # options on the group object, so sharing it would share overrides.
        conf.register_group(cfg.OptGroup(group.name, title=group.title,
                                         help=group.help))
        conf.register_opts(module.OPTS, group=group.name)
    db_options.set_defaults(conf, connection=DEFAULT_SQLITE_CONNECTION)
    log.register_options(conf)
    policy_opts.set_defaults(conf)
    # The healthcheck at /healthcheck asks the database by default.
    conf.register_opts(healthcheck_opts.HEALTHCHECK_OPTS, group='healthcheck')
    conf.set_default('backends', ['heat_deploy_database'],
                     group='healthcheck')


def list_opts():
    """Options of heat_deploy's own groups, for the sample generator."""
    return [(module.GROUP, module.OPTS) for module in _group_modules()]


def set_lib_defaults():
    """Library defaults that suit heat_deploy (oslo.config.opts.defaults).

    Called by the service at start-up and by the sample generator, so the
    sample shows the defaults the service really runs with.
    """
    cors.set_defaults(
        allow_headers=['X-Auth-Token', 'X-Openstack-Request-Id',
                       'Content-Type', 'Accept', 'If-Match',
                       'If-None-Match', 'If-Modified-Since'],
        expose_headers=['X-Openstack-Request-Id', 'ETag', 'Last-Modified'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])
