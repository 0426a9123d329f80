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

"""Every policy default that heat_deploy shares with Heat is Heat's.

``HEAT_27_DEFAULTS`` holds, as data, the check strings of Heat 27 (the
2026.1 series; read from openstack-heat 27.0.1, ``heat/policies``) for
every rule name heat_deploy also defines, with the personas of Heat's
``base.py`` written out. A heat_deploy default that drifts from Heat, or a
rule that heat_deploy stops defining, fails here; a difference that
heat_deploy documents goes in ``DELIBERATE_DIFFERENCES`` with its reason,
and is checked to still differ.

Check strings are compared as oslo.policy parses them, so parentheses and
whitespace do not matter, and with ``rule:NAME`` references replaced by
the rule they name (Heat's ``rule:deny_everybody`` is ``!``).
"""

import re

from oslo_policy import _parser
import testtools

from heat_deploy import context
from heat_deploy import policies
from heat_deploy import policy
from heat_deploy import service

HEAT_VERSION = 'openstack-heat 27.0.1 (2026.1)'

# Heat 27's defaults of the rules heat_deploy shares with it.
HEAT_27_DEFAULTS = {
    'context_is_admin': '(role:admin and is_admin_project:True)',
    'software_configs:global_index': 'rule:deny_everybody',
    'software_configs:index': 'role:reader and project_id:%(project_id)s',
    'software_configs:create': 'role:member and project_id:%(project_id)s',
    'software_configs:show': 'role:reader and project_id:%(project_id)s',
    'software_configs:delete': 'role:member and project_id:%(project_id)s',
    'software_deployments:index':
        'role:reader and project_id:%(project_id)s',
    'software_deployments:create':
        'role:member and project_id:%(project_id)s',
    'software_deployments:show':
        'role:reader and project_id:%(project_id)s',
    'software_deployments:update':
        'role:member and project_id:%(project_id)s',
    'software_deployments:delete':
        'role:member and project_id:%(project_id)s',
    'software_deployments:metadata':
        '(role:reader and project_id:%(project_id)s) or '
        '(role:heat_stack_user and project_id:%(project_id)s)',
    'stacks:validate_template': 'role:member and project_id:%(project_id)s',
    'resource:signal':
        '(role:reader and project_id:%(project_id)s) or '
        '(role:heat_stack_user and project_id:%(project_id)s)',
}

# Heat 27's base rules that the check strings above name with "rule:".
HEAT_27_BASE_RULES = {
    'deny_everybody': '!',
    'allow_everybody': '',
    'deny_stack_user': 'not role:heat_stack_user',
    'project_admin': 'role:admin',
}

# Shared rules whose heat_deploy default differs from Heat 27 on purpose,
# with the reason (as documented in doc/source/differences.rst). The
# documented difference of software_deployments:metadata (stack users only)
# is a data-level rule; its policy default is Heat's.
DELIBERATE_DIFFERENCES = {
    # doc/source/differences.rst: a signal changes a deployment's status
    # and outputs, so readers may not send one.
    'resource:signal': 'a signal takes a member (or the stack user)',
}

_RULE_REF = re.compile(r'rule:([^\s()]+)')


def _expand(check_str, rules, seen=()):
    """A check string with every rule:NAME it names (in rules) inlined."""
    def inline(match):
        name = match.group(1)
        if name not in rules or name in seen:
            return match.group(0)
        return '(%s)' % _expand(rules[name], rules, seen + (name,))
    return _RULE_REF.sub(inline, check_str)


def _normal(check_str, rules):
    """A check string as oslo.policy parses it, references inlined."""
    return str(_parser.parse_rule(_expand(check_str, rules)))


def _heat_deploy_defaults():
    return {rule.name: rule.check_str for rule in policies.list_rules()}


class TestHeatParity(testtools.TestCase):

    def test_shared_defaults_are_heats(self):
        ours = _heat_deploy_defaults()
        drifted = []
        for name, heat in sorted(HEAT_27_DEFAULTS.items()):
            if name in DELIBERATE_DIFFERENCES or name not in ours:
                continue
            expected = _normal(heat, HEAT_27_BASE_RULES)
            actual = _normal(ours[name], ours)
            if expected != actual:
                drifted.append('%s: %s has %r, heat_deploy %r'
                               % (name, HEAT_VERSION, expected, actual))
        self.assertEqual([], drifted)

    def test_heat_rules_are_all_defined(self):
        # The data above lists shared rules only; a rule heat_deploy stops
        # defining (or renames) must not quietly leave the comparison.
        self.assertEqual([], sorted(set(HEAT_27_DEFAULTS)
                                    - set(_heat_deploy_defaults())))

    def test_deliberate_differences_still_differ(self):
        ours = _heat_deploy_defaults()
        for name, reason in DELIBERATE_DIFFERENCES.items():
            self.assertIn(name, HEAT_27_DEFAULTS)
            self.assertIn(name, ours)
            self.assertTrue(reason.strip(), name)
            self.assertNotEqual(
                _normal(HEAT_27_DEFAULTS[name], HEAT_27_BASE_RULES),
                _normal(ours[name], ours),
                '%s is Heat\'s again: drop it from DELIBERATE_DIFFERENCES'
                % name)

    def test_normalisation(self):
        # Only notation is normalised: Heat's composition of its personas
        # and a plain check string compare equal, different roles do not.
        self.assertEqual(
            _normal('(role:a and project_id:%(project_id)s) or (role:b)',
                    {}),
            _normal('role:a and project_id:%(project_id)s or role:b', {}))
        self.assertEqual(_normal('!', {}),
                         _normal('rule:deny_everybody', HEAT_27_BASE_RULES))
        self.assertNotEqual(_normal('role:reader', {}),
                            _normal('role:member', {}))


class TestValidateTemplate(testtools.TestCase):
    """stacks:validate_template is project member, as in Heat."""

    def _ctx(self, roles):
        conf = service.make_conf()
        conf([], project='heat_deploy', default_config_files=[])
        self.addCleanup(conf.reset)
        return context.RequestContext(project_id='p', roles=roles,
                                      enforcer=policy.make_enforcer(conf))

    def test_reader_may_not_validate(self):
        self.assertFalse(self._ctx(['reader']).can(
            'stacks:validate_template', fatal=False))

    def test_member_may_validate(self):
        self.assertTrue(self._ctx(['member', 'reader']).can(
            'stacks:validate_template', fatal=False))

    def test_stack_user_may_not_validate(self):
        self.assertFalse(self._ctx(['heat_stack_user']).can(
            'stacks:validate_template', fatal=False))
