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

"""Reading request bodies and query parameters with clear errors."""

import math
import re

from oslo_serialization import jsonutils
from oslo_utils import strutils
from oslo_utils import timeutils
import webob.exc

# Heat takes a missing or text/plain type as JSON (bug 1887882); clients
# rely on that, so only types that are clearly something else are refused.
_JSON_TYPES = ('', 'application/json', 'text/plain')


def json_type_name(value):
    """The JSON type of a decoded value, as error messages name it."""
    for py_type, name in ((dict, 'object'), (list, 'array'), (str, 'string'),
                          (bool, 'boolean'), (int, 'number'),
                          (float, 'number')):
        if isinstance(value, py_type):
            return name
    return 'null'


_JSON_KEY = 'heat_deploy.json_body'


class MalformedJSON(webob.exc.HTTPBadRequest, ValueError):
    """A body that is not strict JSON.

    Also a ValueError, which Pecan takes as "no keyword arguments in the
    body" when it looks for some; the controller that reads the body then
    answers 400 with this message.
    """

    # The error type clients see, as Heat names it.
    fault_type = 'HTTPBadRequest'


def _reject_constant(name):
    raise ValueError('%s is not a JSON number' % name)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        # 1e400: no JSON document could carry it back.
        raise ValueError('the number %s is too large' % text[:40])
    return value


# Escapes that may decode to characters no database stores: NUL, and UTF-16
# surrogates, which are an error unless json pairs them into one character.
_SUSPECT_ESCAPE = re.compile(r'\\u(?:0000|[dD][89a-fA-F])')
_LONE_SURROGATE = re.compile('[\ud800-\udfff]')


def _unstorable(doc, where=''):
    """(place, what) of the first NUL or lone surrogate in ``doc``, or None.

    :param where: the path of ``doc`` in the body, such as
        ``output_values.result`` or ``inputs[0]``; empty for the body.
    """
    if isinstance(doc, str):
        place = '"%s"' % where if where else 'the body'
        if '\x00' in doc:
            return place, 'a NUL character'
        if _LONE_SURROGATE.search(doc):
            return place, 'a lone UTF-16 surrogate'
    elif isinstance(doc, dict):
        for key, value in doc.items():
            bad_key = _unstorable(key)
            if bad_key:
                parent = '"%s"' % where if where else 'the body'
                return 'a key of %s' % parent, bad_key[1]
            found = _unstorable(value,
                                '%s.%s' % (where, key) if where else key)
            if found:
                return found
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found = _unstorable(value, '%s[%d]' % (where, index))
            if found:
                return found
    return None


def _parse_json(raw):
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        return MalformedJSON('The request body is not UTF-8.')
    try:
        doc = jsonutils.loads(text, parse_constant=_reject_constant,
                              parse_float=_finite_float)
    except RecursionError:
        return MalformedJSON('The request body is nested too deeply.')
    except ValueError as err:
        return MalformedJSON('The request body is not valid JSON: %s' % err)
    if _SUSPECT_ESCAPE.search(text):
        try:
            found = _unstorable(doc)
        except RecursionError:
            return MalformedJSON('The request body is nested too deeply.')
        if found:
            return MalformedJSON(
                'The request body has %s in %s; strings must be valid '
                'Unicode text without NUL characters.' % (found[1], found[0]))
    return doc


def request_json(request):
    """The request's body decoded strictly (UTF-8, no NaN or Infinity).

    Decoded once per request and remembered, error included.

    :raises MalformedJSON: saying what is wrong.
    """
    if _JSON_KEY not in request.environ:
        request.environ[_JSON_KEY] = _parse_json(request.body)
    doc = request.environ[_JSON_KEY]
    if isinstance(doc, MalformedJSON):
        raise doc
    return doc


def json_object(request):
    """The request body as a dict.

    :raises webob.exc.HTTPUnsupportedMediaType: not a JSON content type.
    :raises webob.exc.HTTPBadRequest: no body, malformed JSON, or JSON that
        is not an object.
    """
    content_type = request.content_type or ''
    if content_type not in _JSON_TYPES and not content_type.endswith('+json'):
        raise webob.exc.HTTPUnsupportedMediaType(
            'Unsupported Content-Type %s: send the body as application/json.'
            % content_type)
    if not request.body:
        raise webob.exc.HTTPBadRequest(
            'The request needs a JSON object as its body.')
    doc = request_json(request)
    if not isinstance(doc, dict):
        raise webob.exc.HTTPBadRequest(
            'The request body must be a JSON object, not a JSON %s.'
            % json_type_name(doc))
    return doc


_NO_LIMIT = 2 ** 31


def limit_param(params):
    """The ``limit`` query parameter as a non-negative int, or None."""
    value = params.get('limit')
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError:
        raise webob.exc.HTTPBadRequest(
            "Only integer is acceptable by 'limit'.")
    if limit < 0:
        raise webob.exc.HTTPBadRequest(
            "Value '%s' is invalid for 'limit' which only accepts "
            "non-negative integer." % value)
    # More than any table holds means no limit; databases refuse huge ones.
    return limit if limit < _NO_LIMIT else None


def bool_param(params, name):
    """A true/false query parameter (case-insensitive); False if absent."""
    value = params.get(name)
    if value is None:
        return False
    if value.lower() not in ('true', 'false'):
        raise webob.exc.HTTPBadRequest(
            'Unrecognized value "%s" for "%s", acceptable values are: '
            'true, false.' % (value, name))
    return strutils.bool_from_string(value, strict=True)


def choice_param(params, name, choices):
    """A query parameter that must be one of ``choices``; None if absent."""
    value = params.get(name)
    if value is None or value in choices:
        return value
    raise webob.exc.HTTPBadRequest(
        'Unrecognized value "%s" for "%s", acceptable values are: %s.'
        % (value[:255], name, ', '.join(choices)))


def text_param(params, name, max_length):
    """A string query parameter of at most ``max_length`` characters."""
    value = params.get(name)
    if value is not None and len(value) > max_length:
        raise webob.exc.HTTPBadRequest(
            'The value of "%s" is too long: at most %d characters.'
            % (name, max_length))
    return value


def time_param(params, name):
    """An ISO 8601 time query parameter as naive UTC; None if absent.

    A time without a zone is UTC; one with a zone is converted to UTC, as
    the database stores times.
    """
    value = params.get(name)
    if value is None:
        return None
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except (ValueError, OverflowError):
        raise webob.exc.HTTPBadRequest(
            'Invalid value "%s" for "%s": expected an ISO 8601 date and '
            'time such as 2024-01-31T12:00:00Z.' % (value[:255], name))
