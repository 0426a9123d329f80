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

"""Policy defaults of the stack routes heat_deploy serves (validate)."""

from oslo_policy import policy

from heat_deploy.policies import base

VALIDATE_TEMPLATE = 'stacks:validate_template'
RESOURCE_SIGNAL = 'resource:signal'

rules = [
    policy.DocumentedRuleDefault(
        name=VALIDATE_TEMPLATE, check_str=base.PROJECT_MEMBER,
        scope_types=['project'],
        description='Validate a template; project members, as in Heat. '
                    'heat_deploy validates templates that define a single '
                    'software config only; "openstack software config '
                    'create" calls it first.',
        operations=[{'path': '/v1/{tenant_id}/validate', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name=RESOURCE_SIGNAL,
        check_str='(%s) or (%s)' % (base.PROJECT_MEMBER,
                                    base.PROJECT_STACK_USER),
        scope_types=['project'],
        description='Signal a deployment through Heat\'s resource signal '
                    'route, as HEAT_SIGNAL agents do. A stack user may only '
                    'signal its own deployment. Heat lets readers signal; '
                    'a signal changes a deployment here, so it takes a '
                    'member.',
        operations=[{'path': '/v1/{tenant_id}/stacks/{stack_name}/'
                             '{stack_id}/resources/{resource_name}/signal',
                     'method': 'POST'}]),
]


def list_rules():
    return rules
