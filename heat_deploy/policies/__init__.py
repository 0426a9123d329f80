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

"""Every policy default of heat_deploy (oslo.policy.policies entry point)."""

import itertools

from oslo_policy import policy

from heat_deploy.policies import base
from heat_deploy.policies import software_configs
from heat_deploy.policies import software_deployments
from heat_deploy.policies import stacks


def _for_role(rule, stack_user_role):
    """The rule with the stack user role of the configuration."""
    default = 'role:%s ' % base.DEFAULT_STACK_USER_ROLE
    if default not in rule.check_str:
        return rule
    check_str = rule.check_str.replace(default, 'role:%s ' % stack_user_role)
    return policy.DocumentedRuleDefault(
        name=rule.name, check_str=check_str, description=rule.description,
        operations=rule.operations, scope_types=rule.scope_types)


def list_rules(stack_user_role=base.DEFAULT_STACK_USER_ROLE):
    """Every policy default of heat_deploy.

    :param stack_user_role: [heat_signal] stack_user_role; the sample
        policy file shows Heat's default role.
    """
    return [_for_role(rule, stack_user_role) for rule in itertools.chain(
        base.list_rules(),
        software_configs.list_rules(),
        software_deployments.list_rules(),
        stacks.list_rules(),
    )]
