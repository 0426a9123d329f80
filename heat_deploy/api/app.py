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

"""Composition root of the WSGI application.

``load_app(conf)`` builds what every request of the application shares
(AppState), loads the paste pipeline for [api] auth_strategy, and hands the
state to the pipeline through each request's environ (see
heat_deploy.api.environ). Nothing else imports this module but the
entry points (heat_deploy.wsgi.api, heat-deploy-api).
"""

import os

from oslo_log import log as logging
from paste import deploy

from heat_deploy.api import environ
from heat_deploy.api import views
from heat_deploy import capability
from heat_deploy import checks
from heat_deploy.db import engine
from heat_deploy.operations import configs
from heat_deploy.operations import deployments
from heat_deploy.operations import events
from heat_deploy.operations import metadata_push
from heat_deploy.operations import servers
from heat_deploy import policy
from heat_deploy import secret_values
from heat_deploy.signal import manager
from heat_deploy.signal import zaqar_message

LOG = logging.getLogger(__name__)


class AppState(object):
    """What every request of one application shares, built once.

    :ivar conf: the service's ConfigOpts.
    :ivar enforcer: the oslo.policy enforcer.
    :ivar secret_box: encrypts and decrypts secrets in derived configs.
    :ivar signer: signs and checks capability URLs.
    :ivar configs: the config operations.
    :ivar deployments: the deployment operations, with the transports.
    :ivar servers: the server (metadata URL and queue) operations.
    :ivar metadata_pusher: posts ZAQAR_MESSAGE documents after each
        commit, or None if ZAQAR_MESSAGE is not set up.
    """

    def __init__(self, conf):
        self.conf = conf
        self.enforcer = policy.make_enforcer(conf)
        self.secret_box = secret_values.SecretBox(
            conf.signal.encryption_keys)
        self.signer = capability.Signer(conf.signal.signing_keys)
        events_ = events.Events(conf, views.deployment)
        self.configs = configs.Configs(conf, events_)
        self.deployments = deployments.Deployments(
            conf, manager.SignalDriverManager(conf), self.secret_box,
            events_)
        self.servers = servers.Servers(conf, self.signer, self.secret_box,
                                       zaqar_message.make(conf))
        self.metadata_pusher = metadata_push.make(conf, self.servers,
                                                  self.secret_box)
        if self.metadata_pusher is not None:
            self.metadata_pusher.listen()


def find_paste_config(conf):
    """Absolute path of [api] paste_config.

    A relative name is looked for beside the configuration files, then
    inside the package.
    """
    name = conf.api.paste_config
    if os.path.isabs(name):
        return name
    found = conf.find_file(name)
    if found:
        return os.path.abspath(found)
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


class _WithState(object):
    """Put the application's state into every request's environ."""

    def __init__(self, application, state):
        self.application = application
        self.state = state

    def __call__(self, environ_, start_response):
        environ_[environ.STATE_KEY] = self.state
        return self.application(environ_, start_response)


def load_app(conf):
    """The complete WSGI application for ``conf``.

    The start-up checks (heat_deploy.checks) run first: a configuration
    whose requests would all fail is refused before anything is built.

    :raises heat_deploy.checks.StartupFailure: a check failed (one line
        per failure). An enabled transport that cannot load is one: the
        transports are loaded by a check before they are loaded to serve.
    """
    checks.check_startup(conf)
    engine.configure(conf)
    state = AppState(conf)
    paste_file = find_paste_config(conf)
    name = 'heat_deploy+%s' % conf.api.auth_strategy
    LOG.info('Loading %(name)s from %(file)s', {'name': name,
                                                'file': paste_file})
    return _WithState(deploy.loadapp('config:' + paste_file, name=name),
                      state)
