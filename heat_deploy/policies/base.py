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

"""Personas shared by the policy defaults (Heat's own check strings)."""

from oslo_policy import policy

PROJECT_READER = 'role:reader and project_id:%(project_id)s'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
# Heat's; [heat_signal] stack_user_role replaces it in the defaults.
DEFAULT_STACK_USER_ROLE = 'heat_stack_user'
PROJECT_STACK_USER = ('role:%s and project_id:%%(project_id)s'
                      % DEFAULT_STACK_USER_ROLE)
PROJECT_READER_OR_STACK_USER = (
    '(%s) or (%s)' % (PROJECT_READER, PROJECT_STACK_USER))
DENY_ALL = '!'

RULE_CONTEXT_IS_ADMIN = 'context_is_admin'

rules = [
    policy.RuleDefault(
        name=RULE_CONTEXT_IS_ADMIN,
        check_str='role:admin and is_admin_project:True',
        description='Decides who is an administrator. Administrators may '
                    'use any project id in the URL, act with their own '
                    'project, and see every project\'s objects, as in '
                    'Heat.'),
]


def list_rules():
    return rules
