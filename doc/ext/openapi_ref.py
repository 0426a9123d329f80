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

"""An API reference rendered from an OpenAPI 3 description.

::

    .. openapi:: openapi.json

reads the file (relative to the document) at build time and renders, per
tag, one section per path and method: its summary and description, the
parameters, the top-level properties of the JSON request body and the
response status codes. Texts are inserted as plain text, never parsed as
reStructuredText, so the description may contain any characters.
"""

import json

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

METHODS = ('get', 'head', 'post', 'put', 'patch', 'delete', 'options')


def _resolve(spec, obj):
    """Follow local "$ref" pointers ("#/components/...") until a value."""
    while isinstance(obj, dict) and '$ref' in obj:
        target = spec
        for part in obj['$ref'].lstrip('#/').split('/'):
            target = target[part]
        obj = target
    return obj


def _type(schema):
    """A short type name: "string or null", "array of SoftwareConfigInput"."""
    if '$ref' in schema:
        return schema['$ref'].rsplit('/', 1)[-1]
    types = schema.get('type', 'any')
    types = types if isinstance(types, list) else [types]
    names = []
    for t in types:
        if t == 'array' and 'items' in schema:
            t = 'array of %s' % _type(schema['items'])
        names.append(t)
    return ' or '.join(names)


def _describe(schema, description=None):
    """The description of a field plus its allowed values, if any."""
    text = description or schema.get('description', '')
    enum = [v for v in schema.get('enum', ()) if v is not None]
    if enum:
        text = (text + ' One of: %s.' % ', '.join(map(str, enum))).strip()
    return text


def _para(text, literal=False):
    node = nodes.paragraph()
    node += nodes.literal(text=text) if literal else nodes.Text(text)
    return node


def _table(header, rows, widths):
    """A table of plain-text cells; a cell given as a node is used as is."""
    table = nodes.table(classes=['openapi'])
    tgroup = nodes.tgroup(cols=len(header))
    table += tgroup
    for width in widths:
        tgroup += nodes.colspec(colwidth=width)
    thead, tbody = nodes.thead(), nodes.tbody()
    tgroup += thead
    tgroup += tbody
    for parent, cells in [(thead, header)] + [(tbody, r) for r in rows]:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else _para(cell)
            row += entry
        parent += row
    return table


def _section(node_id, title, *body):
    section = nodes.section(ids=[node_id], names=[nodes.fully_normalize_name(
        title)])
    section += nodes.title(text=title)
    for node in body:
        if node is not None:
            section += node
    return section


def _rubric(text, content):
    return [nodes.rubric(text=text), content] if content is not None else []


def _parameters(spec, path_item, operation):
    params = [_resolve(spec, p) for p in path_item.get('parameters', []) +
              operation.get('parameters', [])]
    if not params:
        return None
    rows = [(_para(p['name'], literal=True), p['in'],
             _type(p.get('schema', {})), 'yes' if p.get('required') else 'no',
             _describe(p.get('schema', {}), p.get('description')))
            for p in params]
    return _table(('Name', 'In', 'Type', 'Required', 'Description'), rows,
                  (16, 8, 12, 8, 56))


def _request_body(spec, operation):
    body = _resolve(spec, operation.get('requestBody'))
    if not body:
        return None
    media = body.get('content', {}).get('application/json', {})
    ref = media.get('schema', {})
    schema = _resolve(spec, ref)
    intro = 'JSON, %s' % ('required' if body.get('required') else 'optional')
    if '$ref' in ref:
        intro += ', %s' % _type(ref)
    if schema.get('description'):
        intro += ': ' + schema['description']
    container = nodes.container()
    container += _para(intro)
    required = set(schema.get('required', ()))
    rows = [(_para(name, literal=True), _type(prop),
             'yes' if name in required else 'no',
             _describe(_resolve(spec, prop)))
            for name, prop in schema.get('properties', {}).items()]
    if rows:
        container += _table(('Name', 'Type', 'Required', 'Description'),
                            rows, (18, 16, 8, 58))
    return container


def _responses(spec, operation):
    rows = [(status, _resolve(spec, response).get('description', ''))
            for status, response in sorted(operation['responses'].items())]
    return _table(('Status', 'Description'), rows, (10, 90))


def _operation(spec, path, path_item, method, operation):
    title = '%s %s' % (method.upper(), path)
    node_id = nodes.make_id(operation.get('operationId') or title)
    return _section(
        node_id, title,
        _para(operation['summary']) if operation.get('summary') else None,
        _para(operation['description'])
        if operation.get('description') else None,
        *_rubric('Parameters', _parameters(spec, path_item, operation)),
        *_rubric('Request body', _request_body(spec, operation)),
        *_rubric('Responses', _responses(spec, operation)))


class OpenAPIDirective(SphinxDirective):
    required_arguments = 1

    def run(self):
        relpath, path = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relpath)
        with open(path, encoding='utf-8') as f:
            spec = json.load(f)
        by_tag = {t['name']: [] for t in spec.get('tags', [])}
        for url, path_item in spec['paths'].items():
            for method in METHODS:
                if method in path_item:
                    operation = path_item[method]
                    tag = (operation.get('tags') or ['other'])[0]
                    by_tag.setdefault(tag, []).append(_operation(
                        spec, url, path_item, method, operation))
        result = []
        if spec.get('info', {}).get('description'):
            result.append(_para(spec['info']['description']))
        descriptions = {t['name']: t.get('description')
                        for t in spec.get('tags', [])}
        for tag, sections in by_tag.items():
            if sections:
                result.append(_section(
                    'tag-' + nodes.make_id(tag), tag,
                    _para(descriptions[tag]) if descriptions.get(tag)
                    else None, *sections))
        return result


def setup(app):
    app.add_directive('openapi', OpenAPIDirective)
    return {'version': '1.0', 'parallel_read_safe': True,
            'parallel_write_safe': True}
