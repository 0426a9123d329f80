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

"""Policy defaults, operator overrides and option registration."""

import os

import fixtures
import testtools

from heat_deploy import conf as hd_conf
from heat_deploy import context
from heat_deploy import exception
from heat_deploy import policies
from heat_deploy import policy
from heat_deploy import service


def _conf():
    conf = service.make_conf()
    conf([], project='heat_deploy', default_config_files=[])
    return conf


class TestPolicyDefaults(testtools.TestCase):

    def test_heat_rule_names_and_defaults(self):
        defaults = {rule.name: rule.check_str
                    for rule in policies.list_rules()}
        reader = 'role:reader and project_id:%(project_id)s'
        member = 'role:member and project_id:%(project_id)s'
        self.assertEqual('!', defaults['software_configs:global_index'])
        for name in ('software_configs:index', 'software_configs:show',
                     'software_deployments:index',
                     'software_deployments:show'):
            self.assertEqual(reader, defaults[name])
        for name in ('software_configs:create', 'software_configs:delete',
                     'software_deployments:create',
                     'software_deployments:update',
                     'software_deployments:delete'):
            self.assertEqual(member, defaults[name])
        self.assertIn('role:heat_stack_user',
                      defaults['software_deployments:metadata'])

    def _ctx(self, enforcer, roles):
        return context.RequestContext(project_id='p', roles=roles,
                                      enforcer=enforcer)

    def test_reader_reads_member_writes(self):
        enforcer = policy.make_enforcer(_conf())
        reader = self._ctx(enforcer, ['reader'])
        self.assertTrue(reader.can('software_configs:index'))
        self.assertRaises(exception.Forbidden, reader.can,
                          'software_configs:create')
        member = self._ctx(enforcer, ['member'])
        self.assertTrue(member.can('software_deployments:update'))
        self.assertFalse(member.can('software_configs:index', fatal=False))
        stack_user = self._ctx(enforcer, ['heat_stack_user'])
        self.assertTrue(stack_user.can('software_deployments:metadata'))
        self.assertFalse(stack_user.can('software_deployments:show',
                                        fatal=False))

    def test_other_project_target_is_denied(self):
        enforcer = policy.make_enforcer(_conf())
        ctx = self._ctx(enforcer, ['reader', 'member'])
        self.assertFalse(ctx.can('software_configs:index',
                                 {'project_id': 'q'}, fatal=False))

    def test_operator_policy_file_overrides(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'policy.yaml')
        with open(path, 'w') as policy_file:
            policy_file.write('"software_configs:global_index": '
                              '"role:reader"\n')
        conf = _conf()
        conf.set_override('policy_file', path, group='oslo_policy')
        ctx = self._ctx(policy.make_enforcer(conf), ['reader'])
        self.assertTrue(ctx.can('software_configs:global_index'))

    def test_forbidden_names_the_rule(self):
        ctx = self._ctx(policy.make_enforcer(_conf()), [])
        err = self.assertRaises(exception.Forbidden, ctx.can,
                                'software_configs:create')
        self.assertEqual('You are not authorized to use '
                         'software_configs:create.', err.message)

    def test_admin_rule(self):
        enforcer = policy.make_enforcer(_conf())
        self.assertTrue(policy.is_admin(enforcer,
                                        self._ctx(enforcer, ['admin'])))
        self.assertFalse(policy.is_admin(enforcer,
                                         self._ctx(enforcer, ['member'])))


class TestEnforcerCost(testtools.TestCase):
    """The policy files are looked at every [api] policy_check_interval
    seconds, and decisions are remembered until then.
    """

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'policy.yaml')
        self._write('"software_configs:global_index": "!"\n')
        self.conf = _conf()
        self.conf.set_override('policy_file', self.path, group='oslo_policy')
        self.clock = [1000.0]
        self.useFixture(fixtures.MockPatch(
            'heat_deploy.policy.time.monotonic',
            side_effect=lambda: self.clock[0]))
        self.evaluated = []
        real_enforce = policy.policy.Enforcer.enforce

        def counting_enforce(enforcer, rule, *args, **kwargs):
            self.evaluated.append(rule)
            return real_enforce(enforcer, rule, *args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(
            policy.policy.Enforcer, 'enforce', counting_enforce))

    def _write(self, text):
        with open(self.path, 'w') as policy_file:
            policy_file.write(text)
        # A new mtime even within the file system's time resolution.
        stat = os.stat(self.path)
        os.utime(self.path, (stat.st_atime, stat.st_mtime + 5))

    def _ctx(self, enforcer, roles, project_id='p'):
        return context.RequestContext(project_id=project_id, roles=roles,
                                      enforcer=enforcer)

    def test_decisions_are_remembered_per_caller_and_target(self):
        enforcer = policy.make_enforcer(self.conf)
        reader = self._ctx(enforcer, ['reader'])
        for _try in range(3):
            self.assertTrue(reader.can('software_configs:index'))
        self.assertEqual(['software_configs:index'], self.evaluated)
        # Another project, another target, other roles: evaluated anew,
        # and with their own answers.
        self.assertTrue(self._ctx(enforcer, ['reader'], 'q').can(
            'software_configs:index'))
        self.assertFalse(reader.can('software_configs:index',
                                    {'project_id': 'q'}, fatal=False))
        self.assertFalse(self._ctx(enforcer, []).can(
            'software_configs:index', fatal=False))
        self.assertEqual(4, len(self.evaluated))

    def test_a_changed_file_applies_after_the_interval(self):
        enforcer = policy.make_enforcer(self.conf)
        reader = self._ctx(enforcer, ['reader'])
        self.assertFalse(reader.can('software_configs:global_index',
                                    fatal=False))
        self._write('"software_configs:global_index": "role:reader"\n')
        self.clock[0] += 9.9
        self.assertFalse(reader.can('software_configs:global_index',
                                    fatal=False))
        self.clock[0] += 0.2
        self.assertTrue(reader.can('software_configs:global_index'))

    def test_interval_zero_evaluates_every_check(self):
        self.conf.set_override('policy_check_interval', 0, group='api')
        enforcer = policy.make_enforcer(self.conf)
        reader = self._ctx(enforcer, ['reader'])
        for _try in range(3):
            self.assertTrue(reader.can('software_configs:index'))
        self.assertEqual(3, len(self.evaluated))
        self._write('"software_configs:index": "!"\n')
        self.assertFalse(reader.can('software_configs:index', fatal=False))

    def test_remote_checks_are_never_remembered(self):
        self._write('"software_configs:global_index": '
                    '"role:admin or http://127.0.0.1:9/never"\n')
        enforcer = policy.make_enforcer(self.conf)
        admin = self._ctx(enforcer, ['admin'])
        for _try in range(2):
            self.assertTrue(admin.can('software_configs:global_index'))
        self.assertEqual(2, len(self.evaluated))


class TestOptions(testtools.TestCase):

    def test_keystone_is_the_default_auth_strategy(self):
        self.assertEqual('keystone', _conf().api.auth_strategy)

    def test_defaults(self):
        conf = _conf()
        self.assertEqual(1048576, conf.api.max_json_body_size)
        self.assertEqual('127.0.0.1', conf.api.bind_host)
        self.assertEqual(4096, conf.quota.max_software_configs_per_tenant)
        self.assertEqual(['heat_deploy_database'],
                         conf.healthcheck.backends)

    def test_every_option_has_help(self):
        for group, opts in hd_conf.list_opts():
            for opt in opts:
                self.assertTrue(opt.help, '%s.%s' % (group, opt.name))

    def test_unknown_auth_strategy_is_refused(self):
        conf = _conf()
        self.assertRaises(ValueError, conf.set_override, 'auth_strategy',
                          'none', group='api')

    def test_config_file_from_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(
            service.CONFIG_FILE_ENV, '/a.conf, /b.conf'))
        self.assertEqual(['/a.conf', '/b.conf'],
                         service.default_config_files())
