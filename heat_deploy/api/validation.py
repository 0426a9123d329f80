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

"""Request bodies checked against their JSON Schemas, with Heat's faults.

A controller decodes the body strictly (heat_deploy.api.body) and then::

    doc = validation.validate(schemas.software_deployments.CREATE, doc)

validate() raises one error class, InvalidBody: 400 with error type
``HTTPBadRequest``, as Heat's webob errors, and a message that names the
field and says what was expected, in the words clients already see::

    The field "server_id" is required.
    The field "name" must be a string, not a JSON array.
    The field "action" must be no more than 255 characters.
    The field "status" must be one of IN_PROGRESS, COMPLETE, FAILED, not "x".
    The request body must be a JSON object, not a JSON array.

A message never contains a value the caller sent, except a short string
that an enum or const check refused (a status name), so that no secret
of an input or output value ends up in a response or a log.

Each schema is compiled once: the request schemas of heat_deploy.api.schemas
at import, any other on its first use.
"""

import re

import jsonschema
from jsonschema import exceptions as jsonschema_exceptions

from heat_deploy.api import body
from heat_deploy.api import schemas
from heat_deploy.api.schemas import common
from heat_deploy import exception

# Longest refused enum value quoted back, and longest field name shown.
_MAX_ECHO = 64
_MAX_FIELD = 100

_EXPECTED = {
    'object': 'a JSON object',
    'array': 'a JSON array',
    'string': 'a string',
    'integer': 'an integer',
    'number': 'a number',
    'boolean': 'a boolean',
    'null': 'null',
}

# Of two errors at the same place, the one to report.
_PRIORITY = {'required': 0, 'type': 1}


class InvalidBody(exception.BadRequest):
    """A request body that does not match its schema.

    Heat's fault body gives it as 400, type ``HTTPBadRequest``.

    :ivar field: where the problem is: ``server_id``, ``inputs[0]``,
        ``template.description``; empty for the body itself.
    :ivar check: the JSON Schema keyword that failed (``required``,
        ``type``, ``maxLength``, ``enum``, ...).
    """

    def __init__(self, message, field='', check=None):
        super().__init__(message)
        self.field = field
        self.check = check


def _for_requests(schema):
    """``schema`` with every ``x-checked-in-code`` part accepting anything."""
    if isinstance(schema, dict):
        if common.CHECKED_IN_CODE in schema:
            return {}
        return {key: _for_requests(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_for_requests(item) for item in schema]
    return schema


_VALIDATORS = {}


def compile_schema(schema):
    """The validator of a request schema, compiled once and kept.

    :raises jsonschema.exceptions.SchemaError: not a valid Draft 2020-12
        schema.
    """
    entry = _VALIDATORS.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(_for_requests(schema))
    # The schema is kept so that its id cannot be reused by another.
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def validate(schema, document):
    """Check a decoded request body against its schema.

    :param schema: a request schema of heat_deploy.api.schemas.
    :param document: the decoded JSON body.
    :returns: ``document``, unchanged.
    :raises InvalidBody: naming the field and what was expected.
    """
    validator = compile_schema(schema)
    errors = validator.iter_errors(document)
    first = next(errors, None)
    if first is None:
        return document
    raise _invalid_body(validator.schema, _choose([first] + list(errors)))


def _choose(errors):
    """The error to report: the outermost, a missing field or wrong type
    before other checks of the same place, else the schema's order.
    """
    error = min(errors, key=lambda err: (len(err.absolute_path),
                                         _PRIORITY.get(err.validator, 2)))
    if error.context:
        # anyOf/oneOf: jsonschema's best guess of the branch meant.
        error = jsonschema_exceptions.best_match(error.context)
    return error


def _field_name(path):
    name = ''
    for part in path:
        if isinstance(part, int):
            name += '[%d]' % part
        else:
            name += ('.' if name else '') + str(part)
    if len(name) > _MAX_FIELD:
        name = name[:_MAX_FIELD - 3] + '...'
    return name


def _subject(field):
    return 'The field "%s"' % field if field else 'The request body'


def _expected(types):
    types = [types] if isinstance(types, str) else list(types)
    if len(types) > 1 and 'null' in types:
        # Null means "absent"; name what a value must be.
        types.remove('null')
    return ' or '.join(_EXPECTED.get(name, name) for name in types)


def _shown(value, schema):
    """A refused enum value as a message may quote it."""
    if (isinstance(value, str) and len(value) <= _MAX_ECHO
            and not schema.get('writeOnly')):
        return '"%s"' % value
    if isinstance(value, str):
        return 'a string of %d characters' % len(value)
    return 'a JSON %s' % body.json_type_name(value)


def _at(root, schema_path):
    """The subschema of ``root`` at a schema path, or None."""
    node = root
    for part in schema_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _override(schema, check, field, instance):
    """The field's own message for this check (x-error-messages), if any."""
    messages = (schema or {}).get(common.ERROR_MESSAGES) or {}
    if check not in messages:
        return None
    return messages[check] % {'field': field,
                              'actual': body.json_type_name(instance)}


def _required_null(root, error):
    """The name of the required field that ``error`` found to be null."""
    path = list(error.absolute_schema_path)
    if (error.validator != 'type' or error.instance is not None
            or len(path) < 3 or path[-3] != 'properties'):
        return None
    parent = _at(root, path[:-3])
    name = path[-2]
    if parent and name in parent.get('required', ()):
        return name
    return None


def _invalid_body(root, error):
    check = error.validator
    instance = error.instance
    value = error.validator_value
    path = list(error.absolute_path)
    field = _field_name(path)
    subject = _subject(field)

    if check == 'required':
        missing = next(name for name in value if name not in instance)
        field = _field_name(path + [missing])
        own = _at(error.schema, ['properties', missing])
        message = (_override(own, 'required', field, None)
                   or 'The field "%s" is required.' % field)
        return InvalidBody(message, field, check)

    if _required_null(root, error):
        message = (_override(error.schema, 'required', field, None)
                   or 'The field "%s" is required.' % field)
        return InvalidBody(message, field, 'required')

    message = _override(error.schema, check, field, instance)
    if message:
        return InvalidBody(message, field, check)

    if check == 'type':
        message = '%s must be %s, not a JSON %s.' % (
            subject, _expected(value), body.json_type_name(instance))
    elif check == 'maxLength':
        message = '%s must be no more than %d characters.' % (
            subject, value)
    elif check == 'minLength':
        message = ('%s must not be empty.' % subject if value == 1 else
                   '%s must be at least %d characters.' % (subject, value))
    elif check in ('enum', 'const'):
        allowed = value if check == 'enum' else [value]
        message = '%s must be one of %s, not %s.' % (
            subject, ', '.join(str(item) for item in allowed
                               if item is not None),
            _shown(instance, error.schema))
    elif check == 'additionalProperties':
        properties = error.schema.get('properties', {})
        patterns = error.schema.get('patternProperties', {})
        extra = sorted(key for key in instance if key not in properties
                       and not any(re.search(pattern, key)
                                   for pattern in patterns))
        message = '%s does not take the key(s) %s; it takes %s.' % (
            subject, ', '.join('"%s"' % _field_name([key])
                               for key in extra[:5]),
            ', '.join(sorted(properties)) or 'none')
    elif check in ('minimum', 'exclusiveMinimum', 'maximum',
                   'exclusiveMaximum'):
        words = {'minimum': 'at least', 'exclusiveMinimum': 'more than',
                 'maximum': 'no more than', 'exclusiveMaximum': 'less than'}
        message = '%s must be %s %s.' % (subject, words[check], value)
    elif check in ('minItems', 'maxItems', 'minProperties',
                   'maxProperties'):
        bound = 'at least' if check.startswith('min') else 'no more than'
        unit = 'item(s)' if check.endswith('Items') else 'key(s)'
        message = '%s must have %s %d %s.' % (subject, bound, value, unit)
    elif check == 'pattern':
        message = '%s does not have the expected form (%s).' % (
            subject, value)
    elif check == 'format':
        message = '%s must be a valid %s.' % (subject, value)
    elif check == 'uniqueItems':
        message = '%s must not repeat an item.' % subject
    else:
        message = '%s is not valid (the %s check of its schema).' % (
            subject, check)
    return InvalidBody(message, field, check)


for _schema in schemas.REQUEST_SCHEMAS:
    compile_schema(_schema)
