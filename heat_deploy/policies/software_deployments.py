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

"""Policy defaults of /v1/{tenant_id}/software_deployments and friends."""

from oslo_policy import policy

from heat_deploy.policies import base

PREFIX = 'software_deployments:%s'
INDEX = PREFIX % 'index'
CREATE = PREFIX % 'create'
SHOW = PREFIX % 'show'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'
METADATA = PREFIX % 'metadata'
SIGNAL = PREFIX % 'signal'
REVOKE_METADATA_URL = PREFIX % 'revoke_metadata_url'
METADATA_TRANSPORT = PREFIX % 'metadata_transport'
CANCEL = PREFIX % 'cancel'
RERUN = PREFIX % 'rerun'

_PATH = '/v1/{tenant_id}/software_deployments'
_ITEM_PATH = _PATH + '/{deployment_id}'

rules = [
    policy.DocumentedRuleDefault(
        name=INDEX, check_str=base.PROJECT_READER, scope_types=['project'],
        description='List deployments.',
        operations=[{'path': _PATH, 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=CREATE, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Create deployment.',
        operations=[{'path': _PATH, 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.PROJECT_READER, scope_types=['project'],
        description='Show deployment details, and its attempts.',
        operations=[{'path': _ITEM_PATH, 'method': 'GET'},
                    {'path': _ITEM_PATH + '/attempts', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=UPDATE, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Update deployment: status and outputs reported by '
                    'the server, or a new config or action.',
        operations=[{'path': _ITEM_PATH, 'method': 'PUT'}]),
    policy.DocumentedRuleDefault(
        name=DELETE, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Delete deployment.',
        operations=[{'path': _ITEM_PATH, 'method': 'DELETE'}]),
    policy.DocumentedRuleDefault(
        name=METADATA, check_str=base.PROJECT_READER_OR_STACK_USER,
        scope_types=['project'],
        description='Show the deployment configs of a server.',
        operations=[{'path': _PATH + '/metadata/{server_id}',
                     'method': 'GET'},
                    {'path': '/v1/{tenant_id}/servers/{server_id}/'
                             'os-collect-config',
                     'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=SIGNAL, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Signal a deployment\'s outputs with a token (the '
                    'same rules as the agents\' signal URLs).',
        operations=[{'path': _ITEM_PATH + '/signal', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=REVOKE_METADATA_URL, check_str=base.PROJECT_MEMBER,
        scope_types=['project'],
        description='Revoke a server\'s metadata URL; the next GET of '
                    'os-collect-config hands out a new one.',
        operations=[{'path': '/v1/{tenant_id}/servers/{server_id}/'
                             'os-collect-config',
                     'method': 'DELETE'}]),
    policy.DocumentedRuleDefault(
        name=METADATA_TRANSPORT, check_str=base.PROJECT_MEMBER,
        scope_types=['project'],
        description='Choose how a server gets its metadata (Heat\'s '
                    'software_config_transport: POLL_TEMP_URL or '
                    'ZAQAR_MESSAGE); also checked when a deployment create '
                    'names software_config_transport.',
        operations=[{'path': '/v1/{tenant_id}/servers/{server_id}/'
                             'os-collect-config',
                     'method': 'PUT'}]),
    policy.DocumentedRuleDefault(
        name=CANCEL, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Cancel an IN_PROGRESS deployment.',
        operations=[{'path': _ITEM_PATH + '/actions', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=RERUN, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Run a deployment with a service-derived config again, '
                    'as a new attempt.',
        operations=[{'path': _ITEM_PATH + '/actions', 'method': 'POST'}]),
]


def list_rules():
    return rules
