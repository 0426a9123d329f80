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

"""Schema of POST /v1/{tenant_id}/validate: {"template": {...}}.

``openstack software config create`` validates a one-resource template
before it creates the config. The template's resources are described here
but checked by heat_deploy.operations.configs.validate_template (each must
be a software config; their properties are a config's, checked by
config_io), whose messages say that only such templates are accepted.
"""

from heat_deploy.api.schemas import common
from heat_deploy.api.schemas import software_configs
from heat_deploy.operations import configs

CONFIG_TYPES = configs.TEMPLATE_CONFIG_TYPES
ONLY_CONFIGS = configs.ONLY_CONFIGS

_CONFIG_FIELDS = software_configs.CREATE['properties']

RESOURCE = {
    'type': 'object',
    'required': ['type'],
    'properties': {
        'type': {'type': 'string', 'enum': list(CONFIG_TYPES)},
        'properties': common.nullable({
            'type': 'object',
            'properties': {name: _CONFIG_FIELDS[name]
                           for name in ('group', 'config', 'inputs',
                                        'outputs', 'options')},
        }),
    },
}

TEMPLATE = {
    'type': 'object',
    'properties': {
        'heat_template_version': common.ANY,
        'description': dict(common.TEXT, description=(
            'Returned as Description; "No description" without it.')),
        'resources': common.checked_in_code(
            {'type': 'object', 'minProperties': 1,
             'additionalProperties': RESOURCE},
            'heat_deploy.operations.configs.validate_template'),
    },
    common.ERROR_MESSAGES: {
        'type': ('The field "%(field)s" must be a JSON object, not a JSON '
                 '%(actual)s. ' + ONLY_CONFIGS),
        'required': ('The request needs a "%(field)s" field. '
                     + ONLY_CONFIGS),
    },
}

# POST /v1/{tenant_id}/validate.
VALIDATE = {
    'type': 'object',
    'required': ['template'],
    'properties': {'template': TEMPLATE},
}

# Heat's answer for a valid software config template.
RESULT = {
    'type': 'object',
    'required': ['Description', 'Parameters'],
    'properties': {
        'Description': common.TEXT,
        'Parameters': {'type': 'object', 'maxProperties': 0},
    },
    'additionalProperties': False,
}
