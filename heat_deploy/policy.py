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

import time

from oslo_config import cfg
from oslo_policy import policy

from heat_deploy import policies

# Decisions remembered at most; the memo starts again when it is full.
_MAX_DECISIONS = 4096


class Enforcer(policy.Enforcer):
    """oslo.policy's Enforcer, made cheap enough for every request.

    oslo.policy looks for its policy file and directories (a search of the
    configuration directories and a stat of each) and evaluates the rule
    on every check. Here the files are looked at no more often than every
    ``check_interval`` seconds, and decisions are remembered until then:
    a decision depends only on the rule, the target and the caller's
    policy values, unless a rule asks a remote server (an ``http:`` or
    ``https:`` check), in which case nothing is remembered.

    :param check_interval: seconds; 0 looks at the files and evaluates
        the rule on every check, as oslo.policy does.
    """

    def __init__(self, conf, check_interval):
        super().__init__(conf)
        self.check_interval = check_interval
        self._next_load = 0.0
        self._decisions = {}
        self._remember = False

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if not force_reload and now < self._next_load:
            return
        super().load_rules(force_reload)
        self._next_load = now + self.check_interval
        self._decisions = {}
        self._remember = self.check_interval > 0 and not any(
            str(rule).startswith(('http:', 'https:'))
            for rule in _checks_of(self.rules.values()))

    def authorize(self, rule, target, creds, do_raise=False, exc=None,
                  *args, **kwargs):
        self.load_rules()
        key = self._remember and not do_raise and _decision_key(
            rule, target, creds)
        if not key:
            return super().authorize(rule, target, creds, do_raise, exc,
                                     *args, **kwargs)
        try:
            return self._decisions[key]
        except KeyError:
            pass
        allowed = super().authorize(rule, target, creds)
        if len(self._decisions) >= _MAX_DECISIONS:
            self._decisions = {}
        self._decisions[key] = allowed
        return allowed


def _checks_of(rules):
    """Every check of the rules, the nested ones too."""
    pending = list(rules)
    while pending:
        check = pending.pop()
        yield check
        pending.extend(getattr(check, 'rules', ()))
        if hasattr(check, 'rule'):
            pending.append(check.rule)


def _decision_key(rule, target, creds):
    """A hashable key of one check, or None if it cannot have one."""
    values = (creds.to_policy_values() if hasattr(creds, 'to_policy_values')
              else creds)
    try:
        return (rule, frozenset(target.items()),
                frozenset((name, tuple(value) if isinstance(value, list)
                           else value) for name, value in values.items()))
    except TypeError:
        return None


def make_enforcer(conf, check_interval=None):
    """A policy enforcer reading [oslo_policy] from the given ConfigOpts.

    Built once per application. Operators override rules with the file named
    by [oslo_policy] policy_file, using Heat's rule names; the service sees
    a change within [api] policy_check_interval seconds.

    :param check_interval: instead of [api] policy_check_interval.
    """
    if check_interval is None:
        check_interval = conf.api.policy_check_interval
    enforcer = Enforcer(conf, check_interval)
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
    return make_enforcer(conf, check_interval=0)
