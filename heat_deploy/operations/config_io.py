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

"""Validation and normalisation of software config inputs and outputs.

Heat answers a bad item with a message-less ValueError (and sometimes a
500); here every problem is an Invalid error naming the item and the field.
"""

from oslo_serialization import jsonutils
from oslo_utils import strutils

from heat_deploy import exception

STRING = 'String'
NUMBER = 'Number'
LIST = 'CommaDelimitedList'
JSON = 'Json'
BOOLEAN = 'Boolean'
TYPES = (STRING, NUMBER, LIST, JSON, BOOLEAN)

INPUT_KEYS = ('name', 'description', 'type', 'default', 'replace_on_change',
              'value')
OUTPUT_KEYS = ('name', 'description', 'type', 'error_output')


def _show(value):
    """Short JSON rendering of a value for an error message."""
    text = jsonutils.dumps(value)
    return text if len(text) <= 80 else text[:77] + '...'


def _invalid(where, problem):
    return exception.Invalid(reason='%s: %s' % (where, problem))


def _check_number(value):
    if isinstance(value, bool):
        raise ValueError('a boolean is not a number')
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return float(value)
    raise ValueError('expected a number')


def _check_list(value):
    if isinstance(value, str):
        return [item.strip() for item in value.split(',')] if value else []
    if isinstance(value, list) and all(isinstance(item, str)
                                       for item in value):
        return value
    raise ValueError('expected a comma-delimited string or a list of '
                     'strings')


def _check_json(value):
    if isinstance(value, str):
        value = jsonutils.loads(value)
    if not isinstance(value, (dict, list)):
        raise ValueError('expected a JSON object or list')
    return value


def _check_boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return strutils.bool_from_string(value, strict=True)
    raise ValueError('expected a boolean')


def _check_string(value):
    if not isinstance(value, str):
        raise ValueError('expected a string')
    return value


_CHECKS = {STRING: _check_string, NUMBER: _check_number, LIST: _check_list,
           JSON: _check_json, BOOLEAN: _check_boolean}


def _check_default(where, io_type, default):
    # Heat accepts "" as "no value" for every type, for old templates.
    if default == '' and io_type != STRING:
        return default
    try:
        checked = _CHECKS[io_type](default)
    except ValueError as err:
        raise _invalid(where, '"default" %s does not match type %s (%s)'
                       % (_show(default), io_type, err))
    # Heat stores a CommaDelimitedList default as a list.
    return checked if io_type == LIST else default


def _normalise_item(kind, index, item, allowed_keys):
    where = '%s[%d]' % (kind, index)
    if not isinstance(item, dict):
        raise _invalid(where, 'each item must be an object, not %s'
                       % _show(item))
    item = {key: value for key, value in item.items() if value is not None}
    unknown = sorted(set(item) - set(allowed_keys))
    if unknown:
        raise _invalid(where, 'unknown key(s) %s; allowed keys are %s'
                       % (', '.join(unknown), ', '.join(allowed_keys)))
    name = item.get('name')
    if not isinstance(name, str) or not name:
        raise _invalid(where, '"name" is required and must be a non-empty '
                              'string')
    where = '%s[%d] (%s)' % (kind, index, name)
    if 'description' in item and not isinstance(item['description'], str):
        raise _invalid(where, '"description" must be a string')
    io_type = item.setdefault('type', STRING)
    if io_type not in TYPES:
        raise _invalid(where, '"type" must be one of %s, not %s'
                       % (', '.join(TYPES), _show(io_type)))
    return where, item


def normalise_inputs(inputs):
    """Validated inputs in the form Heat stores them.

    :param inputs: the request's ``inputs`` (None means none).
    :raises heat_deploy.exception.Invalid: naming the item and field.
    """
    result = []
    for index, item in enumerate(_as_list('inputs', inputs)):
        where, item = _normalise_item('inputs', index, item, INPUT_KEYS)
        if 'default' in item:
            item['default'] = _check_default(where, item['type'],
                                             item['default'])
        replace = item.pop('replace_on_change', False)
        if not isinstance(replace, bool):
            raise _invalid(where, '"replace_on_change" must be a boolean')
        if replace:
            item['replace_on_change'] = True
        result.append(item)
    return result


def normalise_outputs(outputs):
    """Validated outputs in the form Heat stores them.

    :param outputs: the request's ``outputs`` (None means none).
    :raises heat_deploy.exception.Invalid: naming the item and field.
    """
    result = []
    for index, item in enumerate(_as_list('outputs', outputs)):
        where, item = _normalise_item('outputs', index, item, OUTPUT_KEYS)
        error_output = item.get('error_output', False)
        if not isinstance(error_output, bool):
            raise _invalid(where, '"error_output" must be a boolean')
        item['error_output'] = error_output
        result.append(item)
    return result


def _as_list(kind, items):
    if items is None:
        return []
    if not isinstance(items, list):
        raise exception.Invalid(
            reason='"%s" must be a list of objects, not %s'
            % (kind, _show(items)))
    return items
