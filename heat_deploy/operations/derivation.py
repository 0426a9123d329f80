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

"""The config a server runs for a deployment, derived as Heat derives it.

Heat's OS::Heat::SoftwareDeployment resource makes a new config for every
action: the source config with each input's value filled in, plus inputs
that tell the agent which server and action this is and how to report back.
Agents never see a deployment's input_values, only these configs, and they
run each config id once, so every action needs a new derived config.
"""

from heat_deploy.operations import config_io
from heat_deploy.operations import signal_rules
from heat_deploy import secret_values
from heat_deploy.signal import base

UNGROUPED = 'Heat::Ungrouped'
DEPLOY_DATA_AVAILABLE = 'Deploy data available'
NOT_WAITING = 'Not waiting for outputs signal'
# Fields a derived config is made from; changing one re-derives it.
DERIVED_FROM = ('action', 'input_values', 'config_id')
# Inputs the service sets itself; same-named input_values do not repeat them.
RESERVED = frozenset(['deploy_server_id', 'deploy_action',
                      'deploy_signal_transport'])


class Derivation(object):
    """How to derive a deployment's config.

    :ivar transport: the signal transport name.
    :ivar transport_inputs: the inputs its driver returned.
    :ivar reports_outputs: whether servers report back on this transport
        (if not, the deployment is COMPLETE at once, as NO_SIGNAL is).
    :ivar secret_box: encrypts secret transport inputs.
    """

    def __init__(self, transport, transport_inputs, reports_outputs,
                 secret_box):
        self.transport = transport
        self.transport_inputs = transport_inputs
        self.reports_outputs = reports_outputs
        self.secret_box = secret_box

    def stack_user_project_id(self):
        """The project of the deployment's own user, if the transport made
        one (Heat's deploy_project_id is the stack user project).
        """
        for item in self.transport_inputs:
            if item['name'] == 'deploy_project_id':
                return item['value']
        return None

    def status(self):
        """(status, status_reason) of a freshly derived deployment."""
        if self.reports_outputs:
            return signal_rules.IN_PROGRESS, DEPLOY_DATA_AVAILABLE
        return signal_rules.COMPLETE, NOT_WAITING


def needs_rederive(deployment, changes):
    """Whether a PUT makes a derived deployment need a new config.

    A new action, new input values or a new source config change what the
    server must run; the agent runs a config id once, so it gets a new one.
    """
    if deployment.transport is None:
        return False
    return bool(
        (changes.get('action') and changes['action'] != deployment.action)
        or changes.get('input_values')
        or (changes.get('config_id') not in (None, deployment.config_id,
                                             deployment.source_config_id)))


def derive(source, input_values, server_id, action, transport,
           transport_inputs, secret_box=None):
    """Name, group and document of a derived config.

    :param source: the source config's stored form: a dict with name,
        group, config, inputs, outputs and options.
    :param input_values: the deployment's input values.
    :param transport_inputs: the inputs the transport driver returned;
        secret values among them are encrypted with secret_box.
    :returns: (name, group, document) of the derived config.
    """
    input_values = input_values or {}
    inputs = []
    declared = set()
    for item in source['inputs']:
        item = dict(item)
        declared.add(item['name'])
        if item['name'] in input_values:
            item['value'] = input_values[item['name']]
        elif 'default' in item:
            item['value'] = item['default']
        inputs.append(item)
    reserved = RESERVED | {item['name'] for item in transport_inputs}
    for name, value in input_values.items():
        if name not in declared and name not in reserved:
            inputs.append({'name': name, 'type': config_io.STRING,
                           'value': value})
    inputs.extend([
        base.string_input('deploy_server_id', server_id,
                          'ID of the server being deployed to'),
        base.string_input('deploy_action', action,
                          'Name of the current action being deployed'),
        base.string_input('deploy_signal_transport', transport,
                          'How the server should signal to heat with the '
                          'deployment output values.'),
    ])
    for item in transport_inputs:
        if isinstance(item['value'], secret_values.Secret):
            item = dict(item, value=secret_box.seal(item['value'].value))
        inputs.append(item)
    document = {
        'config': source['config'] if source['config'] is not None else '',
        'inputs': inputs,
        'outputs': source['outputs'],
        'options': source['options'],
    }
    return source['name'], source['group'] or UNGROUPED, document
