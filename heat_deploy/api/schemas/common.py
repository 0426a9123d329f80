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

"""Schema pieces every resource shares: ids, statuses, the fault body.

Two annotations (JSON Schema ignores ``x-`` keywords, OpenAPI 3.1 allows
them) connect a schema with heat_deploy.api.validation:

``x-checked-in-code``
    The field is described here but checked by the code it names, which
    has messages and an error type of its own that clients already see
    (the config I/O items are ``Invalid`` errors of config_io). validate()
    accepts any value there; the description still serves OpenAPI.
``x-error-messages``
    ``{validator: message}``: the message to give instead of the generic
    one when that check of this field fails (``required`` is looked up on
    the missing field's own schema). ``%(field)s`` is the field's name,
    ``%(actual)s`` the JSON type of the value sent, never the value.
"""

from heat_deploy.db import models
from heat_deploy.operations import signal_rules

CHECKED_IN_CODE = 'x-checked-in-code'
ERROR_MESSAGES = 'x-error-messages'

# Heat's columns for names, groups and actions.
NAME_LENGTH = 255


def nullable(schema):
    """``schema`` that also accepts null, which requests use for "absent".

    Heat drops request fields that are null, so every optional field of a
    request body may be null.
    """
    result = dict(schema)
    types = schema.get('type', [])
    types = list(types) if isinstance(types, list) else [types]
    result['type'] = types + ['null']
    if 'enum' in schema:
        result['enum'] = list(schema['enum']) + [None]
    return result


def checked_in_code(schema, checker):
    """``schema``, annotated as checked by ``checker`` instead of validate().

    :param checker: dotted name of the function that checks the field.
    """
    return dict(schema, **{CHECKED_IN_CODE: checker})


def string(max_length=None, min_length=None, description=None):
    """A string schema with optional length bounds."""
    schema = {'type': 'string'}
    if min_length is not None:
        schema['minLength'] = min_length
    if max_length is not None:
        schema['maxLength'] = max_length
    if description:
        schema['description'] = description
    return schema


ID = string(models.ID_LENGTH,
            description='A UUID the service generated.')
SERVER_ID = string(models.SERVER_ID_LENGTH,
                   description='The server (a Nova server id, or any name '
                               'of at most %d characters).'
                               % models.SERVER_ID_LENGTH)
PROJECT_ID = string(models.PROJECT_ID_LENGTH,
                    description='A Keystone project id.')
NAME = string(NAME_LENGTH)
TEXT = {'type': 'string'}
STATUS = {'type': 'string', 'enum': list(signal_rules.STATUSES),
          'description': 'The deployment status.'}
OBJECT = {'type': 'object'}
ARRAY = {'type': 'array'}
BOOLEAN = {'type': 'boolean'}
INTEGER = {'type': 'integer'}
ANY = {}
TIMESTAMP = {'type': 'string',
             'pattern': r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$',
             'description': 'UTC, whole seconds, as Heat writes it.'}
URL = {'type': 'string', 'pattern': '^https?://'}

# Heat's error body; heat_deploy always includes a message.
FAULT = {
    'type': 'object',
    'description': "Heat's fault body, for every 4xx and 5xx.",
    'required': ['code', 'title', 'explanation', 'error'],
    'properties': {
        'code': {'type': 'integer', 'minimum': 400, 'maximum': 599},
        'title': TEXT,
        'explanation': TEXT,
        'error': {
            'type': 'object',
            'required': ['type', 'message', 'traceback'],
            'properties': {
                'type': string(description='The error class, as Heat '
                                           'names it.'),
                'message': string(description='What went wrong and what '
                                              'to do about it.'),
                'traceback': {'type': 'null'},
                'request_id': string(description='Given with a 5xx, to '
                                                 'find the log entry.'),
            },
            'additionalProperties': False,
        },
    },
    'additionalProperties': False,
}

# GET / and /versions: 300 Multiple Choices.
VERSIONS = {
    'type': 'object',
    'required': ['versions'],
    'properties': {
        'versions': {
            'type': 'array',
            'minItems': 1,
            'items': {
                'type': 'object',
                'required': ['id', 'status', 'links'],
                'properties': {
                    'id': {'type': 'string', 'enum': ['v1.0']},
                    'status': {'type': 'string', 'enum': ['CURRENT']},
                    'links': {
                        'type': 'array',
                        'items': {
                            'type': 'object',
                            'required': ['rel', 'href'],
                            'properties': {'rel': TEXT, 'href': URL},
                            'additionalProperties': False,
                        },
                    },
                },
                'additionalProperties': False,
            },
        },
    },
    'additionalProperties': False,
}
