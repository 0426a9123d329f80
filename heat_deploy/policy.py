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

"""Policy enforcement with oslo.policy and heat_deploy's in-code defaults."""

from oslo_config import cfg
from oslo_policy import policy

from heat_deploy import policies


def make_enforcer(conf):
    """A policy enforcer reading [oslo_policy] from the given ConfigOpts.

    Built once per application. Operators override rules with the file named
    by [oslo_policy] policy_file, using Heat's rule names.
    """
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(
        policies.list_rules(conf.heat_signal.stack_user_role))
    enforcer.load_rules()
    return enforcer


def is_admin(enforcer, context):
    """Whether the caller passes the context_is_admin rule."""
    return enforcer.authorize(policies.base.RULE_CONTEXT_IS_ADMIN, {},
                              context)


def get_enforcer():
    """Enforcer for the oslopolicy-* command line tools (oslo.policy.enforcer).

    Those tools parse their own command line into the global ConfigOpts; the
    service itself never uses it.
    """
    conf = cfg.CONF
    conf([], project='heat_deploy')
    return make_enforcer(conf)
