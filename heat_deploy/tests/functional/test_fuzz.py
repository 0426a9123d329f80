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

"""Property-based fuzzing of every route: no request gets a 5xx.

Hypothesis generates requests for every route of the complete in-process
application (all middleware, the test database of HEAT_DEPLOY_TEST_DB):
path segments of arbitrary bytes, real ids of objects made in setUp (so
that writes reach the database), repeated and odd query parameters, odd
headers, JSON bodies with lone surrogates, NUL characters, huge numbers and
wrong types for every known field, raw bytes that are no JSON at all, and
signed agent URLs whose parameters are odd. Every response must be below
500; an error must be Heat's fault body; every JSON body must parse
strictly (no NaN or Infinity); and no traceback may reach the log.

HEAT_DEPLOY_FUZZ_EXAMPLES sets the examples per test method (default 200);
HEAT_DEPLOY_FUZZ_RANDOM=1 draws new examples on every run instead of the
same derandomized ones.
"""

import hashlib
import hmac
import json
import os
from urllib import parse

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from heat_deploy.tests.functional import base
from heat_deploy.tests.functional.fixtures import service

EXAMPLES = int(os.environ.get('HEAT_DEPLOY_FUZZ_EXAMPLES', '200'))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get('HEAT_DEPLOY_FUZZ_RANDOM', '') != '1',
    # No .hypothesis directory in the source tree.
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture,
                           HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example])

FAULT_KEYS = ['code', 'error', 'explanation', 'title']


# ---------------------------------------------------------------------------
# Values known only once setUp has run, and JSON text written by hand.

class Ref(object):
    """A value of the running test: the id of an object made in setUp."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'Ref(%r)' % self.name


class Raw(object):
    """JSON text put into a body verbatim (1e400, -0, 1 and 400 zeros)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return 'Raw(%r)' % self.text[:60]


class Obj(object):
    """A JSON object as a list of (key, value): keys may repeat."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __repr__(self):
        return 'Obj(%r)' % (self.pairs,)


class Doc(object):
    """A request body: a JSON value written with or without escapes."""

    def __init__(self, value, ascii_only):
        self.value = value
        self.ascii_only = ascii_only

    def __repr__(self):
        return 'Doc(%r, ascii_only=%r)' % (self.value, self.ascii_only)


class SignalSignature(object):
    """expires=...&signature=... signed with the test key for the path's id.

    The signature is right, so the service gets past it to the expiry and
    to the deployment, whatever odd text ``expires`` is.
    """

    def __init__(self, method, expires):
        self.method = method
        self.expires = expires

    def __repr__(self):
        return 'SignalSignature(%r, %r)' % (self.method, self.expires)


class MetadataSignature(object):
    """generation=...&signature=... signed for the path's project/server."""

    def __init__(self, generation):
        self.generation = generation

    def __repr__(self):
        return 'MetadataSignature(%r)' % (self.generation,)


class Request(object):
    """One generated request; pieces are resolved when it is sent."""

    def __init__(self, route, method, segments, query, headers, body,
                 token):
        self.route = route
        self.method = method
        self.segments = segments
        self.query = query
        self.headers = headers
        self.body = body
        self.token = token

    def __repr__(self):
        return ('Request(%r, %r, %r, query=%r, headers=%r, token=%r, '
                'body=%r)' % (self.route, self.method, self.segments,
                              self.query, self.headers, self.token,
                              self.body))


def _dump(value, refs, ascii_only):
    """JSON text of a generated value; lone surrogates survive as such."""
    if isinstance(value, Ref):
        value = refs[value.name]
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Obj):
        return '{%s}' % ', '.join(
            '%s: %s' % (_dump(key, refs, ascii_only),
                        _dump(item, refs, ascii_only))
            for key, item in value.pairs)
    if isinstance(value, list):
        return '[%s]' % ', '.join(_dump(item, refs, ascii_only)
                                  for item in value)
    # str, int, float (finite), bool and None; with ensure_ascii=False a
    # lone surrogate becomes the invalid UTF-8 bytes ED A0 80 below.
    return json.dumps(value, ensure_ascii=ascii_only)


def _body_bytes(body, refs):
    if body is None or isinstance(body, bytes):
        return body
    return _dump(body.value, refs, body.ascii_only).encode(
        'utf-8', 'surrogatepass')


def sign(*parts):
    """A capability URL signature made with the tests' signing key.

    The service's own format (HMAC-SHA256 of the newline-joined parts);
    setUp checks it against URLs the service hands out, so a change of
    format fails loudly instead of leaving the signed paths unvisited.
    """
    return hmac.new(service.SIGNING_KEY.encode('utf-8'),
                    '\n'.join(parts).encode('utf-8'),
                    hashlib.sha256).hexdigest()


def _reject_constant(name):
    raise ValueError('%s is not JSON' % name)


def strict_json(raw):
    """Decode a response body as strict JSON: UTF-8, no NaN or Infinity."""
    return json.loads(raw.decode('utf-8'), parse_constant=_reject_constant)


# ---------------------------------------------------------------------------
# Strategies: strings and path segments.

ODD_CHARS = ['\x00', '\ud800', '\udfff', '\udc80', '\ufeff', '\uffff',
             '\u2028', '\u202e', '\U0001F680', '\x7f', '\x1b', '"', '\\',
             '/', '.', '%', '\r\n', '\t', ' ', '\xe9', '\u00a0', '\u0130',
             '\uff11']

ODD_STRINGS = ['', ' ', 'null', 'None', 'true', '0', '-1', '1e400', 'NaN',
               'Infinity', '\x00', 'nul\x00here', '\ud800', 'a\udfffb',
               '\ud83d\ude80', '..', '../..', '%00', '%s%d', '{}', '[]',
               "'; DROP TABLE software_config; --", 'x' * 36, 'x' * 37,
               'x' * 64, 'x' * 65, 'x' * 255, 'x' * 256, '\xff' * 10,
               'caf\xe9', 'IN_PROGRESS', 'COMPLETE', 'FAILED']

odd_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(ODD_STRINGS),
    st.lists(st.one_of(st.sampled_from(ODD_CHARS), st.text(max_size=3)),
             max_size=10).map(''.join),
    st.builds(lambda unit, count: unit * count,
              st.sampled_from(['x', '\x00', '\ud800', '\xe9', '\U0001F680',
                               'ab/']),
              st.integers(min_value=30, max_value=3000)),
)

ODD_BYTES = [b'\xff', b'\xfe', b'\xc3\x28', b'\xed\xa0\x80', b'\xed\xbf\xbf',
             b'\xc0\x80', b'\xc0\xae', b'\xf4\x90\x80\x80', b'\xe2\x80\xae',
             b'\xef\xbb\xbf', b'\x00', b'\x7f', b'.', b'..', b'/', b'\\',
             b'?', b'#', b';', b'&', b'=', b'+', b' ', b'\r\n', b'\t', b'%',
             b'\xf0\x9f\x9a\x80', b'{', b'"']

# Escapes as they appear in URLs, valid or not, left as they are.
RAW_FRAGMENTS = ['%', '%G0', '%2', '%%', '%252F', '%2F', '%2f', '%2e%2e',
                 '%2E', '%u0041', '%C0%AF', '%E0%80%AF', '%00', '.', '..',
                 ';', ';x=1', '~', '!', '*', "'", '(', ')', ',', '@', ':',
                 '$', '+', '%20']

odd_bytes = st.one_of(
    st.binary(max_size=30),
    st.lists(st.one_of(st.sampled_from(ODD_BYTES), st.binary(max_size=3),
                       st.text(max_size=3).map(
                           lambda text: text.encode('utf-8'))),
             max_size=8).map(b''.join),
    st.builds(lambda unit, count: unit * count,
              st.sampled_from([b'x', b'\xff', b'\x00', b'.', b'/', b'%',
                               b'\xc3\xa9']),
              st.integers(min_value=30, max_value=3000)),
)

# A path segment or query value as it appears in the URL (ASCII).
odd_segment = st.one_of(
    odd_text.map(lambda text: parse.quote(text, safe='',
                                          errors='surrogatepass')),
    odd_text.map(lambda text: parse.quote(text, safe='/.',
                                          errors='surrogatepass')),
    odd_bytes.map(lambda raw: parse.quote_from_bytes(raw, safe='')),
    # Dots and slashes left unencoded split and climb the path.
    odd_bytes.map(lambda raw: parse.quote_from_bytes(raw, safe='/.')),
    st.lists(st.sampled_from(RAW_FRAGMENTS), min_size=1,
             max_size=5).map(''.join),
    st.uuids().map(str),
    st.sampled_from(['', 'x', 'metadata', 'signal', 'software_configs',
                     'software_deployments', 'None', 'null', '0', '-1']),
)


@st.composite
def weighted(draw, *choices):
    """One of (weight, strategy) pairs, picked in proportion to weight.

    st.one_of cannot weigh: it treats repeated equal strategies as one.
    """
    index = draw(st.sampled_from([index for index, (weight, _) in
                                  enumerate(choices)
                                  for _ in range(weight)]))
    return draw(choices[index][1])


def refs(*names):
    return st.sampled_from([Ref(name) for name in names])


# Mostly real ids, so that requests reach rows in the database.
TENANT = weighted((8, st.just(Ref('tenant'))),
                  (1, st.just(Ref('other_tenant'))), (2, odd_segment))
CONFIG = weighted((6, refs('config', 'derived_config', 'deployment')),
                  (2, odd_segment))
DEPLOYMENT = weighted(
    (6, refs('deployment', 'cfn_deployment', 'config')), (2, odd_segment))
SERVER = weighted((6, refs('server', 'new_server')), (2, odd_segment))
STACK_NAME = weighted((3, st.just('software_deployments')),
                      (1, odd_segment))
RESOURCE = weighted((3, st.just('deployment')), (1, odd_segment))


# ---------------------------------------------------------------------------
# Strategies: JSON values and bodies.

RAW_NUMBERS = ['1e400', '-1e400', '1E+999', '1e-400', '-0', '-0.0', '0e0',
               '1' + '0' * 400, '1' * 5000, '-' + '9' * 40,
               '123456789012345678901234567890.5', '1.0e+308',
               '2.2250738585072014e-308', '4.9e-324']

json_leaves = st.one_of(
    st.none(), st.booleans(),
    st.integers(),
    st.sampled_from([10 ** 40, -10 ** 40, 2 ** 63, -2 ** 63 - 1, 2 ** 64,
                     2 ** 31, -1, 0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(RAW_NUMBERS).map(Raw),
    odd_text,
    st.sampled_from([Ref('config'), Ref('deployment'), Ref('server')]),
)

json_keys = st.one_of(odd_text, st.sampled_from(
    ['name', 'type', 'value', 'default', 'config', 'deploy_status_code',
     'deploy_signal_transport', 'result', '']))

json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(json_keys, children), max_size=4).map(Obj)),
    max_leaves=12)


def io_items(keys, extra):
    """Inputs or outputs items: objects of the schema's keys, odd values."""
    value = {'name': st.one_of(st.sampled_from(['foo', 'result', 'bar']),
                               odd_text),
             'type': st.one_of(st.sampled_from(
                 ['String', 'Number', 'CommaDelimitedList', 'Json',
                  'Boolean', 'string']), json_values)}
    value.update(extra)
    pair = st.one_of(*[st.tuples(st.just(key),
                                 value.get(key, json_values))
                       for key in keys])
    return st.lists(st.lists(pair, max_size=5).map(Obj), max_size=3)


inputs = st.one_of(io_items(
    ('name', 'description', 'type', 'default', 'replace_on_change',
     'value', 'unknown'),
    {'replace_on_change': st.one_of(st.booleans(), json_values)}),
    json_values)
outputs = st.one_of(io_items(
    ('name', 'description', 'type', 'error_output', 'unknown'),
    {'error_output': st.one_of(st.booleans(), json_values)}), json_values)
objects = st.one_of(
    st.lists(st.tuples(st.one_of(st.sampled_from(
        ['deploy_signal_transport', 'foo', 'result', 'deploy_server_id']),
        json_keys), st.one_of(st.sampled_from(
            ['CFN_SIGNAL', 'TEMP_URL_SIGNAL', 'NO_SIGNAL', 'HEAT_SIGNAL',
             'ZAQAR_SIGNAL']), json_values)), max_size=4).map(Obj),
    json_values)
template = st.one_of(
    st.builds(
        lambda name, kind, props, extra: Obj(
            [('resources', Obj([(name, Obj([('type', kind),
                                            ('properties', props)]))]))]
            + extra),
        odd_text,
        st.one_of(st.sampled_from(['OS::Heat::SoftwareConfig',
                                   'OS::Heat::StructuredConfig']),
                  json_values),
        st.one_of(st.builds(
            lambda config, ins, outs, opts: Obj(
                [('config', config), ('inputs', ins), ('outputs', outs),
                 ('options', opts)]),
            json_values, inputs, outputs, json_values), json_values),
        st.lists(st.tuples(st.sampled_from(
            ['description', 'heat_template_version', 'parameters']),
            json_values), max_size=2)),
    json_values)

FIELD_VALUES = {
    'name': odd_text,
    'group': st.one_of(st.sampled_from(['script', 'Heat::Ungrouped']),
                       odd_text),
    'config': st.one_of(odd_text, json_values),
    'inputs': inputs,
    'outputs': outputs,
    'options': json_values,
    'config_id': st.one_of(st.just(Ref('config')),
                           st.just(Ref('derived_config')),
                           st.uuids().map(str), odd_text),
    'server_id': st.one_of(st.just(Ref('server')),
                           st.just(Ref('new_server')), odd_text),
    'input_values': objects,
    'output_values': objects,
    'action': st.one_of(st.sampled_from(
        ['CREATE', 'UPDATE', 'DELETE', 'SUSPEND', 'RESUME', 'INIT']),
        odd_text),
    'status': st.one_of(st.sampled_from(
        ['IN_PROGRESS', 'COMPLETE', 'FAILED', 'complete']), odd_text),
    'status_reason': odd_text,
    'stack_user_project_id': odd_text,
    'signal_transport': st.one_of(st.sampled_from(
        ['CFN_SIGNAL', 'TEMP_URL_SIGNAL', 'NO_SIGNAL', 'HEAT_SIGNAL',
         'ZAQAR_SIGNAL', 'AUTO']), odd_text),
    'deploy_status_code': st.one_of(st.sampled_from(
        [0, 1, '0', '1', -1, 10 ** 40, Raw('1e400'), Raw('-0')]),
        json_values),
    'deploy_stdout': odd_text,
    'deploy_stderr': odd_text,
    'result': json_values,
    'template': template,
}

FIELDS = {
    'config': ['name', 'group', 'config', 'inputs', 'outputs', 'options'],
    'deployment': ['config_id', 'server_id', 'input_values', 'action',
                   'status', 'status_reason', 'stack_user_project_id',
                   'signal_transport'],
    'update': ['config_id', 'input_values', 'output_values', 'action',
               'status', 'status_reason'],
    'signal': ['deploy_status_code', 'deploy_stdout', 'deploy_stderr',
               'result'],
    'validate': ['template'],
}

# Bodies close to valid ones, so that many requests reach the database.
VALID = {
    'config': [('name', 'fuzz'), ('group', 'script'), ('config', 'x')],
    'deployment': [('config_id', Ref('config')),
                   ('server_id', Ref('new_server'))],
    'update': [('status', 'COMPLETE')],
    'signal': [('deploy_status_code', 0)],
    'validate': [],
}

RAW_BODIES = [b'', b' ', b'null', b'true', b'1', b'"text"', b'[]', b'{',
              b'}', b'{"a": 1,}', b"{'a': 1}", b'{"a" 1}', b'NaN',
              b'{"a": NaN}', b'{"a": -Infinity}', b'1e400', b'{"a": 1e400}',
              b'\xef\xbb\xbf{}', '{}'.encode('utf-16'), b'\xff\xfe',
              b'{"a": "\\ud800"}', b'{"a": "\xed\xa0\x80"}',
              b'{"a": "\\u0000"}', b'{"a": "\\x00"}', b'{"a": "\\uZZZZ"}',
              b'{"a": "\x00"}', b'{"a": 1}{"b": 2}', b'{"a": 01}',
              b'[' * 2000 + b']' * 2000,
              b'{"a": ' * 2000 + b'1' + b'}' * 2000,
              b'{"name": "caf\xe9"}', b'name=x&group=y', b'--x--\r\n']


def bodies(kind):
    pair = st.one_of(
        *[st.tuples(st.just(field), FIELD_VALUES[field])
          for field in FIELDS[kind]]
        + [st.tuples(json_keys, json_values)])
    obj = st.one_of(
        st.lists(pair, max_size=6).map(Obj),
        st.lists(pair, max_size=3).map(lambda extra: Obj(VALID[kind]
                                                         + extra)))
    return weighted(
        (4, st.builds(Doc, obj, st.booleans())),
        (1, st.builds(Doc, json_values, st.booleans())),
        (1, st.sampled_from(RAW_BODIES)),
        (1, st.binary(max_size=100)),
    )


# ---------------------------------------------------------------------------
# Strategies: query strings, headers, methods.

query_values = st.one_of(
    st.sampled_from(['', '0', '1', '-1', '2', '1000', '2147483648',
                     '99999999999999999999999', '1e3', '1.5', ' 1',
                     '%EF%BC%91', 'true', 'false', 'TRUE', 'True', 'yes',
                     '1_000', '0x10', '+1']),
    st.sampled_from([Ref('config'), Ref('deployment'), Ref('server'),
                     Ref('derived_config')]),
    odd_segment)

query_keys = st.one_of(
    st.sampled_from(['limit', 'marker', 'server_id', 'global_tenant',
                     'signature', 'expires', 'generation', 'detailed',
                     'sort_keys', 'limit[]']),
    odd_segment)

odd_query = st.lists(
    st.one_of(
        st.tuples(query_keys, query_values),
        st.sampled_from(['', '=', '&', 'limit', 'limit=', '=1', '%',
                         'limit=1=2', 'a;b', '+', '%00=%00'])),
    max_size=6)

# Mostly no query or a plausible one, so that requests get past the URL
# checks to the database.
plausible_query = st.lists(
    st.tuples(
        st.sampled_from(['limit', 'marker', 'server_id', 'global_tenant']),
        st.one_of(st.sampled_from(['0', '1', '2', 'true', 'false']),
                  refs('config', 'derived_config', 'server'))),
    max_size=2, unique_by=lambda pair: pair[0])
query_params = weighted((6, st.just(())), (3, plausible_query),
                        (2, odd_query))

HEADER_VALUES = {
    'Content-Type': ['application/json', 'text/plain', '',
                     'application/json; charset=latin-1',
                     'application/json; charset=utf-16',
                     'application/merge-patch+json', 'text/html',
                     'application/x-www-form-urlencoded',
                     'multipart/form-data',
                     'multipart/form-data; boundary=x', 'application/',
                     ';;', '\xe9/\xe9'],
    'X-Roles': ['admin', 'reader', 'member', '', ',', 'admin,member',
                'Admin', 'x' * 300, '\xe9'],
    'Accept': ['application/json', 'text/html', 'application/xml', '*/*',
               'text/plain', ';q=x', 'application/json;q=0'],
    'If-Match': ['*', '"1"', '"0"', 'W/"1"', '"x"', '1', '"', '""',
                 '"99999999999999999999999999"', '"-1"', '"\uff11"'],
    'If-None-Match': ['*', '"1-1"', '"0-0"', 'W/"1-1"', '"', 'x'],
    'If-Modified-Since': ['Thu, 01 Jan 1970 00:00:00 GMT',
                          'Fri, 31 Dec 9999 23:59:59 GMT',
                          'Mon, 01 Jan 0001 00:00:00 GMT', 'yesterday',
                          '0', '-1', '99999999999999999999'],
    'Origin': ['http://example.com', 'null', '*'],
    'Access-Control-Request-Method': ['GET', 'POST', 'PATCH', 'X'],
    'X-Forwarded-Proto': ['https', 'gopher', ''],
    'X-Forwarded-Host': ['example.com', 'a b', ''],
    'X-Openstack-Request-Id': ['req-x', '', '\xe9' * 10],
}

# Header values a WSGI server would pass on: latin-1 without controls.
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xff,
                           exclude_characters='\x7f'), max_size=40)

headers = weighted(
    (6, st.just(())),
    (2, st.lists(st.one_of(*[
        st.tuples(st.just(name),
                  st.one_of(st.sampled_from(values), header_text))
        for name, values in sorted(HEADER_VALUES.items())]),
        max_size=3)))

EXTRA_METHODS = ['OPTIONS', 'PATCH', 'HEAD', 'GET', 'POST', 'PUT', 'DELETE',
                 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'X-Y']


METHODS = {}


def methods(allowed):
    """Mostly a method the route takes, else any other, odd ones too."""
    key = tuple(allowed)
    if key not in METHODS:
        METHODS[key] = st.sampled_from(
            list(allowed) * (4 * len(EXTRA_METHODS) // len(allowed))
            + EXTRA_METHODS)
    return METHODS[key]


BODIES = {kind: weighted((6, bodies(kind)), (1, st.none()))
          for kind in FIELDS}
# GET, DELETE, HEAD... with a body now and then.
SOMETIMES_A_BODY = weighted((9, st.none()), (1, st.sampled_from(RAW_BODIES)))

signal_signed = st.builds(
    SignalSignature,
    # None: the method of the request.
    st.sampled_from([None, None, None, 'POST', 'PUT']),
    weighted((3, st.just('9999999999')),
             (2, st.sampled_from(
                 ['0', '-1', '1e10', ' 9999999999', '\uff19' * 10, '9' * 30,
                  '+9999999999', '9_999_999_999', '9999999999.0', 'abc',
                  ''])),
             (1, odd_text)))
metadata_signed = st.builds(MetadataSignature, weighted(
    (3, st.just(Ref('generation'))),
    # 0: the generation of a server no URL was handed out for.
    (1, st.just('0')),
    (2, st.sampled_from(['1', '2', '01', ' 1', '\uff11', '-0', '1.0', ''])),
    (1, odd_text)))
signed = st.one_of(signal_signed, metadata_signed)

# Signatures made up by the caller: odd bytes, wrong lengths, non-ASCII.
forged = st.builds(
    lambda signature, expires, generation: [
        ('signature', signature), ('expires', expires),
        ('generation', generation)],
    weighted((2, st.sampled_from(['x', '0' * 64, 'g' * 64, '0' * 65])),
             # Non-ASCII, as UTF-8: not comparable in constant time.
             (2, st.sampled_from(['%C3%A9', '%EF%BC%90' * 64, '%C2%A0',
                                  '%F0%9F%9A%80', '0' * 63 + '%C3%A9'])),
             (1, odd_segment)),
    weighted((2, st.just('9999999999')), (1, query_values)),
    weighted((2, st.just(Ref('generation'))), (1, query_values)))

# Elsewhere a signature is a rare extra; on the agent routes the point.
signatures = weighted((16, st.none()), (1, signed), (1, forged))
signal_credentials = weighted((1, st.none()), (4, signal_signed),
                              (3, forged))
metadata_credentials = weighted((1, st.none()), (4, metadata_signed),
                                (3, forged))

tokens = st.sampled_from(['t'] * 36 + [None, '', ' ', '\xe9'])


@st.composite
def api_requests(draw, routes, prefix, token=True):
    """A request for one of routes.

    :param routes: (allowed methods, path slots, body kind[, credentials])
        tuples; a slot is a fixed string or a strategy.
    """
    allowed, slots, kind, credentials = (
        draw(st.sampled_from(routes)) + (signatures,))[:4]
    method = draw(methods(allowed))
    segments = [slot if isinstance(slot, str) else draw(slot)
                for slot in list(prefix) + list(slots)]
    if kind is not None and method.upper() in ('POST', 'PUT', 'PATCH'):
        body = draw(BODIES[kind])
    else:
        body = draw(SOMETIMES_A_BODY)
    query = list(draw(query_params))
    signature = draw(credentials)
    if isinstance(signature, list):
        query.extend(signature)
    elif signature is not None:
        query.append(signature)
    sent_token = draw(tokens)
    if not token and sent_token == 't':
        sent_token = None  # agents send no token
    route = '/'.join(slot if isinstance(slot, str) else '{}'
                     for slot in list(prefix) + list(slots))
    return Request(route, method, segments, query, dict(draw(headers)),
                   body, sent_token)


V1 = ('v1', TENANT)

V1_COLLECTIONS = [
    (['GET', 'POST'], ['software_configs'], 'config'),
    (['GET', 'POST'], ['software_deployments'], 'deployment'),
    (['POST'], ['validate'], 'validate'),
]

V1_ITEMS = [
    (['GET', 'DELETE'], ['software_configs', CONFIG], None),
    (['GET', 'PUT', 'DELETE'], ['software_deployments', DEPLOYMENT],
     'update'),
    (['POST'], ['software_deployments', DEPLOYMENT, 'signal'], 'signal'),
    (['GET'], ['software_deployments', 'metadata', SERVER], None),
    (['GET'], ['software_deployments', 'metadata'], None),
    (['GET', 'DELETE'], ['servers', SERVER, 'os-collect-config'], None),
    (['POST'], ['stacks', STACK_NAME, DEPLOYMENT, 'resources', RESOURCE,
                'signal'], 'signal'),
]

AGENT = [
    (['POST', 'PUT'], ['deployments', DEPLOYMENT, 'signal'], 'signal',
     signal_credentials),
    (['GET', 'HEAD'], ['metadata', TENANT, SERVER], None,
     metadata_credentials),
]

# Any path at all: unknown roots, missing and surplus segments.
word = st.one_of(
    st.sampled_from(['v1', 'v2', 'v1.0', 'agent', 'versions', 'healthcheck',
                     'software_configs', 'software_deployments', 'metadata',
                     'servers', 'os-collect-config', 'stacks', 'resources',
                     'signal', 'validate', 'deployments', '', '.', '..']),
    st.sampled_from([Ref('tenant'), Ref('config'), Ref('deployment'),
                     Ref('server')]),
    odd_segment)
first_word = st.one_of(
    st.sampled_from(['v1', 'agent', 'versions', 'healthcheck', 'v2',
                     'v1.0', 'favicon.ico', '.', '..']),
    odd_bytes.filter(bool).map(
        lambda raw: parse.quote_from_bytes(raw, safe='')))
ANY_PATH = [
    (['GET', 'HEAD'], [], None),
    (['GET', 'HEAD'], ['versions'], None),
    (['GET', 'HEAD'], ['versions', ''], None),
    (['GET', 'HEAD'], ['healthcheck'], None),
    (['GET'], ['v1'], None),
    (['GET'], ['v1', ''], None),
    (['GET'], ['agent', 'v1'], None),
    (['GET'], ['v1', TENANT], None),
    (['GET', 'POST'], ['agent', 'v1', word, word, word], 'signal'),
    (['GET', 'POST', 'PUT', 'DELETE'],
     ['v1', TENANT, word, word, word, word], 'update'),
]


@st.composite
def any_path_requests(draw):
    request = draw(api_requests(ANY_PATH, ()))
    first = draw(weighted((2, st.none()), (1, first_word)))
    if first is not None:
        request.route = '(any)'
        request.segments = [first] + draw(st.lists(word, max_size=6))
    return request


# ---------------------------------------------------------------------------
# The tests.

class TestFuzz(base.APITestCase):
    """Generated requests against every route; see the module docstring."""

    def setUp(self):
        super().setUp()
        self.addCleanup(self.assert_no_traceback, 0)
        self.refs = {'tenant': self.tenant,
                     'other_tenant': self.tenant[::-1],
                     'server': 'fuzz-server',
                     'new_server': 'fuzz-new'}
        self.make_objects()

    def make_objects(self):
        """A config, deployments of it and a server's metadata URL.

        Made again whenever a request may have deleted or revoked them, so
        that every example can reach real rows.
        """
        config = self.create_config(
            name='fuzz', group='script', config='#!/bin/sh\n',
            inputs=[{'name': 'foo', 'default': 'x'}],
            outputs=[{'name': 'result'}])
        deployment = self.create_deployment(
            config_id=config['id'], server_id='fuzz-server',
            status='IN_PROGRESS')
        cfn = self.create_deployment(
            config_id=config['id'], server_id='fuzz-server',
            signal_transport='CFN_SIGNAL')
        derived = self.get_config(cfn['config_id']).json['software_config']
        signal_url = {item['name']: item.get('value')
                      for item in derived['inputs']}['deploy_signal_id']
        resp = self.call('GET', self.v1('/servers/fuzz-server/'
                                        'os-collect-config'))
        self.assertEqual(200, resp.status, resp.body)
        metadata_url = (resp.json['os-collect-config']['request']
                        ['metadata_url'])
        generation = parse.parse_qs(
            parse.urlsplit(metadata_url).query)['generation'][0]
        self.refs.update(config=config['id'],
                         derived_config=cfn['config_id'],
                         deployment=deployment['id'],
                         cfn_deployment=cfn['id'],
                         generation=generation)
        # The signatures made here are the service's own: a signed request
        # really gets past the signature check.
        query = dict(parse.parse_qsl(parse.urlsplit(signal_url).query))
        self.assertEqual(query['signature'], sign(
            'signal', 'POST', cfn['id'], query['expires']))
        query = dict(parse.parse_qsl(parse.urlsplit(metadata_url).query))
        self.assertEqual(query['signature'], sign(
            'metadata', self.tenant, 'fuzz-server', generation))

    # -- sending -----------------------------------------------------------

    def _text(self, piece):
        """The decoded text of a path segment or query value."""
        if isinstance(piece, Ref):
            return self.refs[piece.name]
        return parse.unquote(piece)

    def _encoded(self, piece):
        if isinstance(piece, Ref):
            return parse.quote(self.refs[piece.name], safe='')
        return piece

    def _signed(self, extra, method, segments):
        """The query parameters of a signature piece, signed for the path."""
        texts = [self._text(piece) for piece in segments]
        try:
            if isinstance(extra, SignalSignature):
                return [('expires', extra.expires),
                        ('signature', sign('signal', extra.method or method,
                                           texts[-2], extra.expires))]
            generation = (self.refs[extra.generation.name]
                          if isinstance(extra.generation, Ref)
                          else extra.generation)
            return [('generation', generation),
                    ('signature', sign('metadata', texts[-2], texts[-1],
                                       generation))]
        except (IndexError, UnicodeError):
            return []  # nothing the service could have signed

    def url(self, request):
        path = '/' + '/'.join(self._encoded(piece)
                              for piece in request.segments)
        query = []
        for item in request.query:
            if isinstance(item, str):
                query.append(item)
            elif isinstance(item, tuple):
                query.append('%s=%s' % tuple(self._encoded(piece)
                                             for piece in item))
            else:
                query.extend(
                    '%s=%s' % (key, parse.quote(value, safe='',
                                                errors='surrogatepass'))
                    for key, value in self._signed(item, request.method,
                                                   request.segments))
        return path + ('?' + '&'.join(query) if query else '')

    def send(self, request):
        url = self.url(request)
        data = _body_bytes(request.body, self.refs)
        what = '%s %s body=%r' % (request.method, url[:300],
                                  (data or b'')[:300])
        logged = len(self.logs.output)
        try:
            resp = self.call(request.method, url, data=data,
                             headers=dict(request.headers),
                             token=request.token)
        except Exception as err:
            self.fail('%s raised %r' % (what, err))
        self.check(request.method, what, resp)
        self.assert_no_traceback(logged, what)
        if request.method == 'DELETE' and resp.status < 300:
            self.make_objects()
        return resp

    # -- checking ----------------------------------------------------------

    def assert_no_traceback(self, offset, what='the test'):
        log = self.logs.output[offset:]
        self.assertNotIn('Traceback', log, '%s logged:\n%s'
                         % (what, log[-3000:]))

    def check(self, method, what, resp):
        what = '%s -> %d %r' % (what, resp.status, resp.body[:500])
        self.assertLess(resp.status, 500, what)
        content_type = resp.headers.get('Content-Type', '').split(';')[0]
        if resp.status >= 400:
            self.assertEqual('application/json', content_type.strip(), what)
            if method == 'HEAD':
                return  # WebOb leaves the body of a HEAD response out
            try:
                doc = strict_json(resp.body)
            except ValueError as err:
                self.fail('%s: %s' % (what, err))
            self.assertIsInstance(doc, dict, what)
            self.assertEqual(FAULT_KEYS, sorted(doc), what)
            self.assertEqual(resp.status, doc['code'], what)
            self.assertIsInstance(doc['title'], str, what)
            self.assertIsInstance(doc['explanation'], str, what)
            error = doc['error']
            self.assertIsInstance(error, dict, what)
            self.assertIsInstance(error.get('type'), str, what)
            self.assertIsInstance(error.get('message'), str, what)
            self.assertIn('traceback', error, what)
            self.assertIsNone(error['traceback'], what)
        elif resp.body and content_type.strip().endswith('json'):
            try:
                strict_json(resp.body)
            except ValueError as err:
                self.fail('%s: %s' % (what, err))

    # -- the properties ----------------------------------------------------

    @FUZZ
    @given(request=api_requests(V1_COLLECTIONS, V1))
    def test_v1_collections(self, request):
        self.send(request)

    @FUZZ
    @given(request=api_requests(V1_ITEMS, V1))
    def test_v1_items(self, request):
        self.send(request)

    @FUZZ
    @given(request=api_requests(AGENT, ('agent', 'v1'), token=False))
    def test_agent(self, request):
        self.send(request)

    @FUZZ
    @given(request=any_path_requests())
    def test_odd_paths(self, request):
        self.send(request)
