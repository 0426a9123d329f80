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

"""Start-up of a heat_deploy process: a fresh ConfigOpts and logging."""

import gc
import os

from oslo_config import cfg
from oslo_log import log

from heat_deploy import conf as hd_conf
from heat_deploy import version

PROJECT = 'heat_deploy'
PROG = 'heat-deploy'
CONFIG_FILE_ENV = 'HEAT_DEPLOY_CONFIG_FILE'


def default_config_files():
    """Configuration files used when none is given on the command line.

    ``HEAT_DEPLOY_CONFIG_FILE`` (one path, or several separated by commas)
    wins; otherwise oslo.config's standard search finds
    /etc/heat_deploy/heat-deploy.conf and friends.
    """
    from_env = os.environ.get(CONFIG_FILE_ENV)
    if from_env:
        return [path.strip() for path in from_env.split(',') if path.strip()]
    return cfg.find_config_files(project=PROJECT, prog=PROG)


def make_conf():
    """A new ConfigOpts with every heat_deploy option registered."""
    conf = cfg.ConfigOpts()
    hd_conf.register_opts(conf)
    hd_conf.set_lib_defaults()
    return conf


def prepare_service(argv=None, conf=None, config_files=None):
    """Parse configuration and set up logging.

    :param argv: command line arguments, without the program name.
    :param conf: an unparsed ConfigOpts from make_conf(), for callers that
        register command line options first.
    :param config_files: files to parse instead of the default search.
    :returns: the parsed ConfigOpts.
    """
    conf = conf or make_conf()
    if config_files is None:
        config_files = default_config_files()
    conf(argv if argv is not None else [], project=PROJECT, prog=PROG,
         version=version.version_info.version_string(),
         default_config_files=config_files)
    log.setup(conf, PROJECT)
    return conf


def settle_start_up_objects():
    """Keep what start-up made out of the garbage collector's sight.

    The application's modules, options, policies and compiled statements
    live as long as the process; every full collection would walk all of
    them again, a pause of tens of milliseconds that shows in the slowest
    requests. Call once the application is built.
    """
    gc.collect()
    gc.freeze()
