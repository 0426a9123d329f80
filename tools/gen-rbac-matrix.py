#!/usr/bin/env python3
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

"""Write doc/source/rbac.rst from heat_deploy's policy defaults.

Every rule of ``heat_deploy.policies.list_rules()`` is evaluated with
oslo.policy's Enforcer (policy files ignored) for a context of each persona,
and the route x caller matrix is computed the way the service decides a
request: auth_token (401), Heat's tenant check (403), policy (403), then
the data-level rules (404 for another project's object by id, 400 for a
reference to another project's config), and for a caller that passes them
all 200 (204 for a DELETE) or the route's ``allowed_status``. The routes
and callers come from ``heat_deploy/tests/functional/rbac_matrix.yaml``,
whose ``expected`` statuses the functional test checks against a real
Keystone.

Usage::

    python tools/gen-rbac-matrix.py            # rewrite doc/source/rbac.rst
    python tools/gen-rbac-matrix.py --check    # exit 1 if it is out of date
    python tools/gen-rbac-matrix.py --stdout   # print it
"""

import argparse
import difflib
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from oslo_config import cfg  # noqa: E402
from oslo_policy import policy as oslo_policy  # noqa: E402
import yaml  # noqa: E402

from heat_deploy import context  # noqa: E402
from heat_deploy import policies  # noqa: E402
from heat_deploy.policies import base  # noqa: E402

MATRIX_FILE = os.path.join(ROOT, 'heat_deploy', 'tests', 'functional',
                           'rbac_matrix.yaml')
DOC_FILE = os.path.join(ROOT, 'doc', 'source', 'rbac.rst')

# name, roles in the token (Keystone adds the implied ones), whether the
# token's project is Keystone's admin project.
PERSONAS = (
    ('reader', ('reader',), False),
    ('member', ('member', 'reader'), False),
    ('admin', ('admin', 'manager', 'member', 'reader'), False),
    ('heat_stack_user', ('heat_stack_user',), False),
    ('cloud admin', ('admin', 'manager', 'member', 'reader'), True),
)

# The callers of the matrix, in the first table; the others go in
# the second.
MAIN_CALLERS = ('anonymous', 'invalid_token', 'revoked_token', 'a_reader',
                'a_member', 'a_admin', 'b_member', 'b_member_in_a_url',
                'stack_user')

PROJECT_NAMES = {'a': 'project A', 'b': 'project B',
                 'stack': "A's stack user project",
                 'admin': 'the admin project', None: 'none'}


def load_matrix(path=MATRIX_FILE):
    with open(path) as matrix_file:
        return yaml.safe_load(matrix_file)


def make_enforcer():
    """An Enforcer with the in-code defaults only (no policy file)."""
    conf = cfg.ConfigOpts()
    conf([], project='heat_deploy', default_config_files=[],
         default_config_dirs=[])
    enforcer = oslo_policy.Enforcer(conf)
    # A policy file that does not exist and no policy.d: oslo.policy then
    # uses the registered defaults only, whatever /etc/heat_deploy holds.
    with tempfile.TemporaryDirectory() as empty:
        conf.set_override('policy_file', os.path.join(empty, 'none.yaml'),
                          group='oslo_policy')
        conf.set_override('policy_dirs', [], group='oslo_policy')
        enforcer.register_defaults(policies.list_rules())
        enforcer.load_rules()
    return enforcer


def _context(project, roles, is_admin_project):
    return context.RequestContext(project_id=project, roles=list(roles),
                                  is_admin_project=is_admin_project)


def persona_results(enforcer, rule):
    """{persona name: passes} for a rule, on the persona's own project."""
    target = {} if rule.name == base.RULE_CONTEXT_IS_ADMIN else {
        'project_id': 'p'}
    return {name: enforcer.authorize(rule.name, target,
                                     _context('p', roles, admin_project))
            for name, roles, admin_project in PERSONAS}


def decide(enforcer, route, caller):
    """The status of one route for one caller, as the service decides it.

    :returns: an int status, or ``'403t'`` for the tenant check's 403.
    """
    # 1. keystonemiddleware's auth_token.
    if caller.get('token', 'valid') != 'valid':
        return 401
    project = caller.get('project')
    creds = _context(project, caller.get('roles', ()),
                     caller.get('is_admin_project', False))
    # 2. Heat's tenant check: an admin acts with its own project.
    is_admin = enforcer.authorize(base.RULE_CONTEXT_IS_ADMIN, {}, creds)
    if is_admin and project:
        acting = project
    elif caller['url'] != project:
        return '403t'
    else:
        acting = caller['url']
    # 3. Policy, on the project the request acts on.
    for rule in route['rules']:
        if not enforcer.authorize(rule, {'project_id': acting}, creds):
            return 403
    # 4. Data: project A owns the objects; its deployments name A's stack
    # user project as stack_user_project_id.
    sees = {'config': is_admin or acting == 'a',
            'deployment': is_admin or acting in ('a', 'stack')}
    if route.get('object') and not sees[route['object']]:
        return 404
    if route.get('references') and not sees[route['references']]:
        return 400
    # Heat's resource signal: a stack user signals only a deployment whose
    # transport made it (HEAT_SIGNAL); the matrix's deployment has none.
    if (route.get('own_deployment_only') and not is_admin
            and 'heat_stack_user' in caller.get('roles', ())):
        return 404
    return allowed_status(route)


def allowed_status(route):
    """The status of a caller that passes every check.

    200 (204 for a DELETE), unless the route's ``allowed_status`` says
    what it answers for the matrix's objects (a re-run of a deployment
    that has no derived config is 409).
    """
    if 'allowed_status' in route:
        return route['allowed_status']
    return 204 if route['method'] == 'DELETE' else 200


def compute_matrix(enforcer, matrix):
    """{route: {caller: status}} for every route and caller of matrix."""
    return {route_name: {caller_name: decide(enforcer, route, caller)
                         for caller_name, caller in matrix['callers'].items()}
            for route_name, route in matrix['routes'].items()}


def _operation(route):
    path = route['path'].split('?', 1)[0].replace('{project}', '{tenant_id}')
    return route['method'], path


def check_routes(matrix):
    """Routes and policy operations must agree, both ways.

    :raises ValueError: a route whose rule does not document it, or a
        documented operation that no route of the matrix covers.
    """
    rules = {rule.name: rule for rule in policies.list_rules()}
    covered = set()
    for name, route in matrix['routes'].items():
        rule = rules.get(route['rules'][-1])
        if rule is None:
            raise ValueError('route %s: unknown rule %s'
                             % (name, route['rules'][-1]))
        operation = _operation(route)
        documented = {(op['method'], op['path'])
                      for op in getattr(rule, 'operations', [])}
        if operation not in documented:
            raise ValueError('route %s: %s %s is not an operation of %s'
                             % ((name,) + operation + (rule.name,)))
        covered.add(operation)
    for rule in rules.values():
        for op in getattr(rule, 'operations', []):
            if (op['method'], op['path']) not in covered:
                raise ValueError('%s %s (%s) is not in %s'
                                 % (op['method'], op['path'], rule.name,
                                    os.path.relpath(MATRIX_FILE, ROOT)))


def _cell(status):
    return str(status)


def _list_table(title, header, rows, widths):
    lines = ['.. list-table:: %s' % title,
             '   :header-rows: 1',
             '   :widths: %s' % ' '.join(str(w) for w in widths),
             '']
    for row in [header] + rows:
        first = True
        for value in row:
            text = str(value).replace('\n', ' ')
            lines.append('   %s %s' % ('* -' if first else '  -', text))
            first = False
    return lines + ['']


def _literal(text):
    return '``%s``' % text


def _route_label(route, routes=None):
    """Method and path; the body too if another route of ``routes`` has
    the same method and path (the actions route: cancel and rerun).
    """
    method, path = _operation(route)
    suffix = '?' + route['path'].split('?', 1)[1] if '?' in route['path'] \
        else ''
    label = '%s %s' % (method, _literal(path + suffix))
    if routes is not None and any(
            other is not route and other['method'] == route['method']
            and other['path'] == route['path'] for other in routes.values()):
        label += ' ' + _literal(json.dumps(route.get('body'),
                                           sort_keys=True))
    return label


def render(matrix=None):
    """The text of doc/source/rbac.rst."""
    matrix = matrix if matrix is not None else load_matrix()
    check_routes(matrix)
    enforcer = make_enforcer()
    statuses = compute_matrix(enforcer, matrix)
    rules = policies.list_rules()
    routes = matrix['routes']
    callers = matrix['callers']

    out = [
        '..',
        '   This file is generated by tools/gen-rbac-matrix.py from the',
        '   policy defaults in heat_deploy/policies and the routes and',
        '   callers of heat_deploy/tests/functional/rbac_matrix.yaml.',
        '   Do not edit it: run "python tools/gen-rbac-matrix.py".',
        '',
        '================================',
        'Role-based access control (RBAC)',
        '================================',
        '',
        'heat_deploy uses Heat\'s policy rule names and defaults. This page '
        'shows',
        'who may do what with the defaults, behind Keystone (``[api]',
        'auth_strategy = keystone``). It is generated from the policy '
        'defaults;',
        'the functional test ``test_keystone_rbac`` sends every request of '
        'the',
        'matrix below to heat_deploy with a real Keystone and checks each '
        'status.',
        '',
        'How a request is decided',
        '========================',
        '',
        '1. keystonemiddleware\'s ``auth_token`` validates ``X-Auth-Token`` '
        'with',
        '   Keystone. No token, an invalid, expired or revoked token: '
        '**401**,',
        '   with ``WWW-Authenticate: Keystone uri="..."``. A revoked token '
        'may',
        '   keep working for up to ``[keystone_authtoken] token_cache_time``',
        '   seconds (see `Running behind Keystone <keystone.rst>`__).',
        '2. Heat\'s tenant check: the project in the URL',
        '   (``/v1/{tenant_id}/...``) must be the token\'s project, else '
        '**403**',
        '   (error type ``HTTPForbidden``, marked **403t** below). The one',
        '   exception is an administrator, i.e. a caller that passes',
        '   ``context_is_admin``: as in Heat it acts with its *own* project',
        '   whatever the URL names, and sees every project\'s objects.',
        '3. Policy, with the target ``{"project_id": <that project>}``: a',
        '   denial is **403** (error type ``Forbidden``, "You are not '
        'authorized',
        '   to use software_configs:create.").',
        '4. Data: a config or deployment of another project named by id is',
        '   **404**, exactly like a missing one; lists and server metadata',
        '   show the caller\'s own project\'s objects only. A deployment is',
        '   also visible to the stack users (role ``heat_stack_user``) of '
        'the',
        '   project named as its ``stack_user_project_id``; unlike Heat, '
        'not to',
        '   that project\'s other callers. A deployment that references',
        '   another project\'s config is **400**, like an unknown config.',
        '',
        'The identity of the caller is what Keystone says about the token, '
        'and',
        'nothing else: ``auth_token`` removes the identity headers a client '
        'sends',
        '(``X-Roles``, ``X-Project-Id``, ``X-User-Id``, '
        '``X-Is-Admin-Project``,',
        '``X-Identity-Status``, ``X-Service-*``, the deprecated '
        '``X-Tenant-*``,',
        '``X-Role``, ...) and sets its own. The matrix has callers that '
        'send',
        'forged headers; they get exactly what they would get without.',
        '',
        'Keystone\'s implied roles matter: ``admin`` implies ``manager``, '
        '``manager``',
        'implies ``member`` and ``member`` implies ``reader`` (what',
        '``keystone-manage bootstrap`` sets up), and a token lists them all. '
        'The',
        'rules test the roles in the token, so a project ``admin`` passes '
        'the',
        'member and reader rules. An ``admin`` of an ordinary project is not',
        '``context_is_admin``: that needs ``is_admin_project: true``, which '
        'only',
        'tokens of Keystone\'s ``[resource] admin_project_name`` carry.',
        '',
        'Policy defaults',
        '===============',
        '',
        'Each rule\'s default and, evaluated with oslo.policy for a token '
        'scoped',
        'to the project the request acts on, whether a persona passes it. '
        'The',
        'personas\' tokens have these roles: ' + '; '.join(
            '%s: %s' % (name, ', '.join(_literal(r) for r in roles)
                        + (' in the admin project' if admin else ''))
            for name, roles, admin in PERSONAS) + '.',
        '',
    ]
    rows = []
    for rule in rules:
        passes = persona_results(enforcer, rule)
        ops = ', '.join('%s %s' % (op['method'], _literal(op['path']))
                        for op in getattr(rule, 'operations', [])) or '(all)'
        rows.append([_literal(rule.name), _literal(rule.check_str), ops]
                    + ['yes' if passes[name] else 'no'
                       for name, _, _ in PERSONAS])
    out += _list_table('Rules', ['Rule', 'Default', 'Routes']
                       + [name for name, _, _ in PERSONAS], rows,
                       [18, 22, 25] + [7] * len(PERSONAS))

    out += [
        'Operators change these rules with a policy file (``[oslo_policy]',
        'policy_file``); ``tox -e genpolicy`` writes a sample with every '
        'rule.',
        'A running service sees a changed file within ``[api]',
        'policy_check_interval`` seconds (10 by default).',
        'This page shows the defaults only.',
        '',
        'Status of every route for every caller',
        '======================================',
        '',
        'Project A owns the configs and deployments that the requests name '
        'by id;',
        'its deployments name A\'s stack user project as',
        '``stack_user_project_id``. **403t** is the tenant check, **403** a',
        'policy denial. Lists, metadata and ``os-collect-config`` answer '
        '200 to',
        'callers of other projects with their own objects only, and a '
        'create by',
        'another project\'s member creates in its own project. The cloud '
        'admin acts',
        'with its own project: it reads, changes and deletes project A\'s '
        'objects,',
        'but what it creates belongs to the admin project, and',
        '``os-collect-config`` hands out and revokes the admin project\'s '
        'URLs.',
        '',
    ]
    other_statuses = [(route, route['allowed_status'])
                      for route in routes.values()
                      if 'allowed_status' in route]
    if other_statuses:
        out += [
            'The deployment the requests name is ``IN_PROGRESS`` and runs '
            'its',
            'config as it is: it was created without a signal transport, so '
            'the',
            'service derived no config for it and cannot derive a new one to '
            'run',
            'it again. A caller that passes every check gets 200 (204 for a',
            '``DELETE``), except: '
            + '; '.join('%s: **%s**' % (_route_label(route, routes), status)
                        for route, status in other_statuses) + '.',
            '',
        ]
    out += [
        'The callers',
        '-----------',
        '',
    ]
    for name, caller in callers.items():
        out.append('* **%s**: %s' % (caller['title'], _describe(caller)))
    out.append('')

    def table(title, names):
        header = ['Route'] + [callers[name]['title'] for name in names]
        rows = [[_route_label(route, routes)]
                + [_cell(statuses[route_name][name]) for name in names]
                for route_name, route in routes.items()]
        return _list_table(title, header, rows,
                           [24] + [6] * len(names))

    out += table('The issue\'s callers', MAIN_CALLERS)
    out += table('More callers', [name for name in callers
                                  if name not in MAIN_CALLERS])
    while out[-1] == '':
        out.pop()
    return '\n'.join(out) + '\n'


def _describe(caller):
    token = caller.get('token', 'valid')
    if token == 'none':
        text = 'no ``X-Auth-Token``'
    elif token == 'invalid':
        text = 'an ``X-Auth-Token`` that Keystone does not know'
    elif token == 'revoked':
        text = 'a token of %s, revoked before its first use' % caller['user']
    else:
        scope = (PROJECT_NAMES[caller['project']]
                 if caller.get('project') else 'a domain, no project')
        text = 'roles %s on %s' % (
            ', '.join(_literal(r) for r in caller['roles']), scope)
        if caller.get('is_admin_project'):
            text += ', ``is_admin_project: true``'
        if caller.get('owns_deployment'):
            text += '; the user made for the deployment the request names'
    text += '; the URL names %s' % PROJECT_NAMES[caller['url']]
    if caller.get('forged_headers'):
        text += '; sends forged identity headers (``X-Roles: admin``, ' \
                '``X-Project-Id``, ``X-Is-Admin-Project: True``, ...)'
    return text + '.'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--check', action='store_true',
                       help='exit 1 if %s is out of date' %
                       os.path.relpath(DOC_FILE, ROOT))
    group.add_argument('--stdout', action='store_true',
                       help='print the page instead of writing it')
    args = parser.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            with open(DOC_FILE) as doc:
                current = doc.read()
        except FileNotFoundError:
            current = ''
        if current == text:
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(True), text.splitlines(True),
            DOC_FILE, 'generated'))
        return 1
    with open(DOC_FILE, 'w') as doc:
        doc.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
