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

"""Entry point for oslo-config-generator (oslo.config.opts)."""

from heat_deploy import conf
from heat_deploy.signal import manager


# What the sample configuration covers: heat_deploy's options and those of
# the libraries it configures (etc/heat_deploy/*-config-generator.conf
# lists the same for tox -e genconfig).
SAMPLE_NAMESPACES = ('heat_deploy', 'keystonemiddleware.auth_token',
                     'oslo.db', 'oslo.log', 'oslo.messaging',
                     'oslo.middleware', 'oslo.policy')


def list_opts():
    """heat_deploy's option groups and those of the installed transports."""
    return conf.list_opts() + manager.list_transport_opts()
