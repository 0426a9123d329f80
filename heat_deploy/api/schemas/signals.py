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

"""Schemas of a server's signal: the outputs of a deployment's run.

``SIGNAL`` is the body of POST .../software_deployments/{id}/signal and of
the agents' signal URLs (/agent/v1/deployments/{id}/signal).
``RESOURCE_SIGNAL`` is the body of Heat's resource signal route, which
heat-config-notify may send without a body: null stands for that.

A signal names any outputs; the service keeps the declared ones and the
three standard ones (heat_deploy.operations.signal_rules), so no key is
refused here.
"""

SIGNAL = {
    'type': 'object',
    'description': 'Output values by name, as heat-config-notify sends '
                   'them.',
    'properties': {
        'deploy_stdout': {'description': 'The standard output of the run.'},
        'deploy_stderr': {'description': 'The standard error of the run.'},
        'deploy_status_code': {
            'description': 'The exit status: anything but 0, "0" or null '
                           'makes the deployment FAILED.'},
    },
}

RESOURCE_SIGNAL = dict(SIGNAL, type=['object', 'null'], description=(
    'As SIGNAL; an empty body (null) is a signal without outputs.'))
