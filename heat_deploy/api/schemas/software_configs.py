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

"""Schemas of /v1/{tenant_id}/software_configs: the create body, the forms.

``CREATE`` is the body of POST. Its ``inputs`` and ``outputs`` are checked
item by item by heat_deploy.operations.config_io, whose ``Invalid`` errors
name the item (``inputs[0] (foo): "default" ...``) and which also checks a
``default`` against its declared type and turns a CommaDelimitedList
default into a list: the schema describes them, validate() leaves them to
that code.

Responses: ``SOFTWARE_CONFIG`` (the full form, in ``SHOW``, the metadata
view and the agent's metadata), ``SUMMARY`` (an item of ``INDEX``).
"""

from heat_deploy.api.schemas import common
from heat_deploy.operations import config_io

_IO_TYPE = {'type': 'string', 'enum': list(config_io.TYPES)}
_IO_NAME = common.string(min_length=1)
_CHECKER = 'heat_deploy.operations.config_io.normalise_%s'

# An input as a request gives it; null values count as absent.
INPUT = {
    'type': 'object',
    'required': ['name'],
    'properties': {
        'name': _IO_NAME,
        'description': common.nullable(common.TEXT),
        'type': common.nullable(dict(_IO_TYPE, default=config_io.STRING)),
        'default': dict(common.ANY, description=(
            'Must match the type; "" is accepted for every type.')),
        'replace_on_change': common.nullable(common.BOOLEAN),
        'value': common.ANY,
    },
    'additionalProperties': False,
}

OUTPUT = {
    'type': 'object',
    'required': ['name'],
    'properties': {
        'name': _IO_NAME,
        'description': common.nullable(common.TEXT),
        'type': common.nullable(dict(_IO_TYPE, default=config_io.STRING)),
        'error_output': common.nullable(common.BOOLEAN),
    },
    'additionalProperties': False,
}

# POST /v1/{tenant_id}/software_configs. Unknown fields are ignored, as in
# Heat.
CREATE = {
    'type': 'object',
    'properties': {
        'name': common.nullable(common.NAME),
        'group': common.nullable(dict(common.NAME, description=(
            'The hook that runs the config on the server, such as '
            'script.'))),
        'config': dict(common.ANY, description=(
            'A script (a string) or a structured document; stored as '
            'given.')),
        'inputs': common.checked_in_code(
            common.nullable({'type': 'array', 'items': INPUT}),
            _CHECKER % 'inputs'),
        'outputs': common.checked_in_code(
            common.nullable({'type': 'array', 'items': OUTPUT}),
            _CHECKER % 'outputs'),
        'options': common.nullable(common.OBJECT),
    },
}

# An input as the service stores and returns it: nulls dropped, the type
# always present, replace_on_change only when true.
STORED_INPUT = {
    'type': 'object',
    'required': ['name', 'type'],
    'properties': {
        'name': _IO_NAME,
        'description': common.TEXT,
        'type': _IO_TYPE,
        'default': common.ANY,
        'replace_on_change': common.BOOLEAN,
        'value': dict(common.ANY, description=(
            'In a derived config, the value the deployment gives the '
            'input; secrets are shown as ***.')),
    },
    'additionalProperties': False,
}

STORED_OUTPUT = {
    'type': 'object',
    'required': ['name', 'type', 'error_output'],
    'properties': {
        'name': _IO_NAME,
        'description': common.TEXT,
        'type': _IO_TYPE,
        'error_output': common.BOOLEAN,
    },
    'additionalProperties': False,
}

SOFTWARE_CONFIG = {
    'type': 'object',
    'required': ['id', 'name', 'group', 'config', 'inputs', 'outputs',
                 'options', 'creation_time'],
    'properties': {
        'id': common.ID,
        'name': common.nullable(common.NAME),
        'group': common.nullable(common.NAME),
        'config': common.ANY,
        'inputs': {'type': 'array', 'items': STORED_INPUT},
        'outputs': {'type': 'array', 'items': STORED_OUTPUT},
        'options': dict(common.ANY, description=(
            'An object; configs that Heat stored may hold any JSON.')),
        'creation_time': common.TIMESTAMP,
    },
    'additionalProperties': False,
}

SUMMARY = {
    'type': 'object',
    'required': ['id', 'name', 'group', 'creation_time'],
    'properties': {
        'id': common.ID,
        'name': common.nullable(common.NAME),
        'group': common.nullable(common.NAME),
        'creation_time': common.TIMESTAMP,
        'project': dict(common.PROJECT_ID, description=(
            'The owner; shown to administrators only.')),
    },
    'additionalProperties': False,
}

# POST and GET .../software_configs[/{config_id}].
SHOW = {
    'type': 'object',
    'required': ['software_config'],
    'properties': {'software_config': SOFTWARE_CONFIG},
    'additionalProperties': False,
}

# GET .../software_configs: newest first.
INDEX = {
    'type': 'object',
    'required': ['software_configs'],
    'properties': {
        'software_configs': {'type': 'array', 'items': SUMMARY},
    },
    'additionalProperties': False,
}
