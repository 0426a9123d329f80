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

"""Options of the [api] group: how the HTTP API is served."""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'api',
    title='API options',
    help='How heat_deploy serves its HTTP API: the development server '
         'address, the authentication strategy and request limits.')

AUTH_KEYSTONE = 'keystone'
AUTH_NOAUTH = 'noauth'

OPTS = [
    cfg.HostAddressOpt(
        'bind_host', default='127.0.0.1',
        help='Address the development server (heat-deploy-api) listens on. '
             'Production deployments serve heat_deploy.wsgi.api:application '
             'from uWSGI or gunicorn instead, which have their own bind '
             'settings.'),
    cfg.PortOpt(
        'bind_port', default=8004,
        help='Port the development server (heat-deploy-api) listens on. '
             '8004 is the port Heat registers for the orchestration '
             'service.'),
    cfg.StrOpt(
        'auth_strategy', default=AUTH_KEYSTONE,
        choices=[(AUTH_KEYSTONE, 'Validate tokens with keystonemiddleware '
                                 'auth_token; see [keystone_authtoken].'),
                 (AUTH_NOAUTH, 'Development only: any non-empty X-Auth-Token '
                               'is accepted and the caller acts as a member '
                               'of the project named in the URL.')],
        help='How callers are authenticated. Never use noauth in '
             'production: it trusts whatever the caller says.'),
    cfg.IntOpt(
        'max_json_body_size', default=1048576, min=1,
        help='Largest request body, in bytes, that the API accepts. Larger '
             'bodies are refused with 413 before they are read. Heat uses the '
             'same option name and default; in-server agents trim their '
             'signals to 950000 bytes to stay below it.'),
    cfg.URIOpt(
        'public_endpoint', schemes=['http', 'https'],
        help='Base URL (scheme, host, port and any path prefix) that clients '
             'and servers use to reach this API, for example '
             'https://orchestration.example.com:8004. Set it when heat_deploy '
             'runs behind a proxy or load balancer; absolute links such as '
             'the version document and the metadata and signal URLs handed to '
             'servers are built from it. When unset they are built from the '
             'request\'s Host header.'),
    cfg.FloatOpt(
        'policy_check_interval', default=10.0, min=0,
        help='Seconds between two looks at the policy file and policy '
             'directories of [oslo_policy]: a changed file applies to '
             'requests after the next look. Policy decisions are remembered '
             'until then (unless a rule is an http: or https: check). 0 '
             'looks at the files and evaluates the rules on every request, '
             'as oslo.policy does by default; that costs a file system '
             'search per request.'),
    cfg.StrOpt(
        'paste_config', default='api-paste.ini',
        help='Paste deploy configuration of the WSGI pipeline. A relative '
             'name is looked up next to the configuration files first and '
             'then falls back to the file shipped inside the heat_deploy '
             'package.'),
]
