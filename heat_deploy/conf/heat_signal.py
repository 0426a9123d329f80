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

"""Options of the [heat_signal] group: the HEAT_SIGNAL transport."""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'heat_signal',
    title='HEAT_SIGNAL transport options',
    help='HEAT_SIGNAL gives each deployment its own Keystone user, as '
         'Heat\'s stack-user domain does: the server logs in with it and '
         'signals through this API, found in the catalog as the '
         'orchestration service.')

OPTS = [
    cfg.URIOpt(
        'auth_url', schemes=['http', 'https'],
        help='Keystone v3 endpoint, used by heat_deploy to manage the users '
             'and handed to servers as deploy_auth_url, so servers must be '
             'able to reach it. Example: https://keystone.example.com/v3'),
    cfg.StrOpt(
        'stack_user_domain_name', default='heat_deploy_stack_users',
        help='Keystone domain the deployment users are created in.'),
    cfg.StrOpt(
        'stack_user_project_prefix', default='heat_deploy-',
        help='Deployment users of project P get stack_user_role on a '
             'project named <prefix><P> in the stack user domain, made on '
             'first use; it becomes the deployments\' stack_user_project_id. '
             'One project per tenant keeps one tenant\'s servers from '
             'reading another tenant\'s deployments.'),
    cfg.StrOpt(
        'stack_domain_admin',
        help='User in the stack user domain that may create and delete '
             'users there and grant them roles (a domain admin).'),
    cfg.StrOpt(
        'stack_domain_admin_password', secret=True,
        help='Password of stack_domain_admin.'),
    cfg.StrOpt(
        'stack_user_role', default='heat_stack_user',
        help='Role granted to deployment users; the default policy lets it '
             'read its server\'s metadata and signal.'),
    cfg.StrOpt(
        'region_name',
        help='Region handed to servers as deploy_region_name, used to find '
             'the orchestration endpoint in the catalog.'),
    cfg.IntOpt(
        'timeout', default=30, min=1,
        help='Seconds to wait for Keystone.'),
]
