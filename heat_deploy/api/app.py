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

``load_app(conf)`` builds the paste pipeline for [api] auth_strategy. The
ConfigOpts is never global: it is parked in APPCONFIGS under a random key
that travels through paste's global_conf, and every factory looks it up.
"""

import os
import uuid

from oslo_log import log as logging
from paste import deploy
import pecan

from heat_deploy.api.controllers import root
from heat_deploy.api import hooks
from heat_deploy.api import request
from heat_deploy.db import api as db_api
from heat_deploy import deployments
from heat_deploy import policy
from heat_deploy import secret_values
from heat_deploy.signal import capability
from heat_deploy.signal import manager

LOG = logging.getLogger(__name__)

APPCONFIGS = {}
_STATES = {}
_CONF_KEY = 'heat_deploy_conf_key'


class AppState(object):
    """What every request of one application shares, built once.

    :ivar conf: the service's ConfigOpts.
    :ivar enforcer: the oslo.policy enforcer.
    :ivar deployments: the deployments.Service with the loaded transports.
    :ivar signer: signs and checks capability URLs.
    :ivar secret_box: encrypts and decrypts secrets in derived configs.
    """

    def __init__(self, conf):
        self.conf = conf
        self.enforcer = policy.make_enforcer(conf)
        self.secret_box = secret_values.SecretBox(
            conf.signal.encryption_keys)
        self.deployments = deployments.Service(
            conf, manager.SignalDriverManager(conf), self.secret_box)
        self.signer = capability.Signer(conf.signal.signing_keys)


def conf_from_paste(global_conf):
    return APPCONFIGS[global_conf[_CONF_KEY]]


def state_from_paste(global_conf):
    """The AppState of this application, shared by its paste apps."""
    key = global_conf[_CONF_KEY]
    if key not in _STATES:
        conf = APPCONFIGS[key]
        db_api.configure(conf)
        _STATES[key] = AppState(conf)
    return _STATES[key]


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


def setup_app(state):
    """The Pecan application serving /v1 (no middleware around it)."""
    return pecan.make_app(
        root.RootController(),
        hooks=[hooks.ContextHook(state)],
        request_cls=request.Request,
        force_canonical=False,
        guess_content_type_from_ext=False,
        debug=False,
    )


def app_factory(global_conf, **local_conf):
    return setup_app(state_from_paste(global_conf))


def load_app(conf):
    """The complete WSGI application for ``conf``."""
    key = str(uuid.uuid4())
    APPCONFIGS[key] = conf
    paste_file = find_paste_config(conf)
    name = 'heat_deploy+%s' % conf.api.auth_strategy
    LOG.info('Loading %(name)s from %(file)s', {'name': name,
                                                'file': paste_file})
    return deploy.loadapp('config:' + paste_file, name=name,
                          global_conf={_CONF_KEY: key})
