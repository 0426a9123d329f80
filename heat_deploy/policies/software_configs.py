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

"""Policy defaults of /v1/{tenant_id}/software_configs."""

from oslo_policy import policy

from heat_deploy.policies import base

PREFIX = 'software_configs:%s'
GLOBAL_INDEX = PREFIX % 'global_index'
INDEX = PREFIX % 'index'
CREATE = PREFIX % 'create'
SHOW = PREFIX % 'show'
DELETE = PREFIX % 'delete'

_PATH = '/v1/{tenant_id}/software_configs'
_ITEM_PATH = _PATH + '/{config_id}'

rules = [
    policy.DocumentedRuleDefault(
        name=GLOBAL_INDEX, check_str=base.DENY_ALL,
        scope_types=['project'],
        description='List configs of every project (global_tenant=true).',
        operations=[{'path': _PATH, 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=INDEX, check_str=base.PROJECT_READER, scope_types=['project'],
        description='List configs.',
        operations=[{'path': _PATH, 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=CREATE, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Create config.',
        operations=[{'path': _PATH, 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.PROJECT_READER, scope_types=['project'],
        description='Show config details.',
        operations=[{'path': _ITEM_PATH, 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name=DELETE, check_str=base.PROJECT_MEMBER, scope_types=['project'],
        description='Delete config.',
        operations=[{'path': _ITEM_PATH, 'method': 'DELETE'}]),
]


def list_rules():
    return rules
