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

"""The operations layer, called as the controllers call it."""

import datetime
from urllib import parse

import fixtures
from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from heat_deploy import capability
from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import models
from heat_deploy.db import quota
from heat_deploy.db import software_deployments as queries
from heat_deploy import exception
from heat_deploy.operations import configs
from heat_deploy.operations import deployments
from heat_deploy.signal import base
from heat_deploy.signal import manager
from heat_deploy.tests.unit.operations import base as test_base

BASE_URL = 'http://heat-deploy.test'


def _values(config_id, **fields):
    values = {'config_id': config_id, 'server_id': 's',
              'input_values': None, 'action': None, 'status': None,
              'status_reason': None, 'stack_user_project_id': None}
    values.update(fields)
    return values


class TestConfigs(test_base.OperationsTestCase):

    overrides = {('quota', 'max_software_configs_per_tenant'): 2}

    def _create(self, name='c'):
        return self.state.configs.create(
            self.ctx, name, None, configs.build_document(
                config='echo hi', outputs=[{'name': 'out'}]))

    def test_create_show_list_delete(self):
        created = self._create()
        self.assertEqual('echo hi',
                         self.state.configs.show(self.ctx, created.id)
                         .config['config'])
        self.assertEqual([created.id],
                         [row.id for row in self.state.configs.list(
                             self.ctx)])
        self.state.configs.delete(self.ctx, created.id)
        self.assertRaises(exception.SoftwareConfigNotFound,
                          self.state.configs.show, self.ctx, created.id)

    def test_quota_is_the_operations_business(self):
        self._create('a')
        self._create('b')
        self.assertRaises(exception.RequestLimitExceeded, self._create)

    def test_first_create_whose_set_up_loses_a_race_is_retried(self):
        # On a Galera cluster, two first creates of a project on two nodes
        # both insert its usage row; the loser's commit fails as a
        # deadlock (certification), not as a duplicate entry.
        real = quota._create_usage
        calls = []

        def lost_race(project_id):
            calls.append(project_id)
            if len(calls) == 1:
                real(project_id)  # the other node's insert, which won
                raise db_exc.DBDeadlock()
            return real(project_id)

        self.useFixture(fixtures.MockPatchObject(quota, '_create_usage',
                                                 lost_race))
        created = self._create()
        self.assertEqual([self.project] * 2, calls)
        self.assertEqual([created.id],
                         [row.id for row in self.state.configs.list(
                             self.ctx)])

    def test_another_projects_config_is_not_found(self):
        created = self._create()
        self.assertRaises(exception.SoftwareConfigNotFound,
                          self.state.configs.show,
                          self.context(project='other'), created.id)

    def test_template_validation(self):
        answer = configs.validate_template({'resources': {'r': {
            'type': 'OS::Heat::SoftwareConfig',
            'properties': {'config': 'x'}}}})
        self.assertEqual({}, answer['Parameters'])
        self.assertRaises(exception.BadRequest, configs.validate_template,
                          {'resources': {'r': {'type': 'OS::Nova::Server'}}})


class TestDeployments(test_base.OperationsTestCase):

    def setUp(self):
        super().setUp()
        self.config = self.state.configs.create(
            self.ctx, 'c', None, configs.build_document(
                config='echo hi', outputs=[{'name': 'out'}]))
        self.deployments = self.state.deployments

    def test_create_applies_heats_documented_defaults(self):
        created = self.deployments.create(self.ctx, _values(self.config.id),
                                          None, BASE_URL)
        self.assertEqual(('INIT', 'COMPLETE', '', {}),
                         (created.action, created.status,
                          created.status_reason, created.input_values))
        self.assertEqual('1', created.etag)

    def test_derived_deployment_and_rederive(self):
        created = self.deployments.create(
            self.ctx, _values(self.config.id), 'CFN_SIGNAL', BASE_URL)
        self.assertEqual(('CREATE', 'IN_PROGRESS'),
                         (created.action, created.status))
        self.assertNotEqual(self.config.id, created.config_id)
        updated = self.deployments.update(
            self.ctx, created.id, {'action': 'UPDATE'}, None, BASE_URL)
        self.assertNotEqual(created.config_id, updated.config_id)
        self.assertEqual('2', updated.etag)
        # The old derived config went with the old action.
        self.assertRaises(exception.SoftwareConfigNotFound,
                          self.state.configs.show, self.ctx,
                          created.config_id)

    def _usage(self):
        """The project's usage row and what it really owns."""
        with engine.context_manager.reader.using(self.ctx) as session:
            usage = session.execute(sa.select(
                quota.USAGE.c.software_configs,
                quota.USAGE.c.software_deployments).where(
                quota.USAGE.c.project_id == self.project)).one()
            owned = tuple(session.execute(sa.select(sa.func.count()).where(
                model.tenant == self.project)).scalar()
                for model in (models.SoftwareConfig,
                              models.SoftwareDeployment))
        return tuple(usage), owned

    def test_usage_counts_follow_every_create_and_delete(self):
        plain = self.deployments.create(self.ctx, _values(self.config.id),
                                        None, BASE_URL)
        derived = self.deployments.create(
            self.ctx, _values(self.config.id), 'CFN_SIGNAL', BASE_URL)
        self.assertEqual(((2, 2), (2, 2)), self._usage())
        # A new derived config replaces the old one.
        self.deployments.update(self.ctx, derived.id, {'action': 'UPDATE'},
                                None, BASE_URL)
        self.deployments.rerun(self.ctx, derived.id, BASE_URL)
        self.assertEqual(((2, 2), (2, 2)), self._usage())
        # Its derived config goes with the deployment.
        self.deployments.delete(self.ctx, derived.id, BASE_URL)
        self.assertEqual(((1, 1), (1, 1)), self._usage())
        self.deployments.delete(self.ctx, plain.id, BASE_URL)
        self.state.configs.delete(self.ctx, self.config.id)
        self.assertEqual(((0, 0), (0, 0)), self._usage())

    def _at(self, hour, minute=0):
        """Make the service's clock read 2030-01-01 hour:minute UTC."""
        moment = datetime.datetime(2030, 1, 1, hour, minute)
        timeutils.set_time_override(moment)
        self.addCleanup(timeutils.clear_time_override)
        return moment

    def _ids(self, **filters):
        return [item.id for item in self.deployments.list(self.ctx,
                                                          **filters)]

    def test_list_filters_on_the_last_change(self):
        self._at(0)
        early = self.deployments.create(self.ctx, _values(self.config.id),
                                        None, BASE_URL)
        self._at(1)
        late = self.deployments.create(self.ctx, _values(self.config.id),
                                       None, BASE_URL)
        self._at(2)
        self.deployments.update(self.ctx, early.id,
                                {'status_reason': 'changed'}, None, BASE_URL)
        # early: created 00:00, updated 02:00; late: created 01:00 only.
        self.assertEqual([late.id],
                         self._ids(updated_before=self._at(1, 30)))
        self.assertEqual([early.id],
                         self._ids(updated_after=self._at(1, 30)))
        # Strictly before and after.
        self.assertEqual([early.id], self._ids(updated_after=self._at(1)))
        self.assertEqual([], self._ids(updated_before=self._at(1)))
        self.assertEqual([late.id], self._ids(updated_before=self._at(2)))
        self.assertEqual([early.id, late.id],
                         self._ids(updated_after=self._at(0, 30)))

    def test_list_pages_through_equal_creation_times_both_ways(self):
        self._at(0)
        created = sorted(
            self.deployments.create(self.ctx, _values(self.config.id),
                                    None, BASE_URL).id
            for _ in range(3))
        for sort_dir, expected in (('asc', created),
                                   ('desc', created[::-1])):
            seen, marker = [], None
            while True:
                page = self._ids(limit=1, marker=marker, sort_dir=sort_dir)
                if not page:
                    break
                seen += page
                marker = page[-1]
            self.assertEqual(expected, seen)
            self.assertEqual(expected, self._ids(sort_dir=sort_dir))

    def test_a_retried_transaction_derives_from_the_source_again(self):
        # A deadlock (or a lost race for the server's first row) runs the
        # whole transaction again; it must start from the request's values.
        insert = queries.insert
        calls = []

        def insert_losing_once(session, ctx, deployment_id, values):
            calls.append(values['config_id'])
            if len(calls) == 1:
                raise db_exc.RetryRequest(RuntimeError('lost a race'))
            return insert(session, ctx, deployment_id, values)

        self.patch(queries, 'insert', insert_losing_once)
        created = self.deployments.create(
            self.ctx, _values(self.config.id), 'CFN_SIGNAL', BASE_URL)
        self.assertEqual(2, len(calls))
        self.assertEqual(self.config.id, created.source_config_id)
        self.assertEqual('IN_PROGRESS', created.status)

    def test_stale_if_match_is_refused(self):
        created = self.deployments.create(
            self.ctx, _values(self.config.id, status='IN_PROGRESS'), None,
            BASE_URL)
        self.deployments.update(self.ctx, created.id,
                                {'status_reason': 'one'}, [1], BASE_URL)
        self.assertRaises(exception.PreconditionFailed,
                          self.deployments.update, self.ctx, created.id,
                          {'status_reason': 'two'}, [1], BASE_URL)

    def test_signal_applies_heats_rules(self):
        created = self.deployments.create(
            self.ctx, _values(self.config.id), 'CFN_SIGNAL', BASE_URL)
        result, after = self.deployments.signal_by_capability(
            created.id, {'out': 'x', 'deploy_status_code': 0}, 1)
        self.assertEqual('COMPLETE', after.status)
        self.assertEqual('x', after.output_values['out'])
        result, again = self.deployments.signal_by_capability(
            created.id, {'out': 'y'}, 1)
        self.assertIsNone(result)
        self.assertEqual('x', again.output_values['out'])

    def test_a_derived_config_cannot_be_borrowed(self):
        owner = self.deployments.create(
            self.ctx, _values(self.config.id), 'NO_SIGNAL', BASE_URL)
        err = self.assertRaises(
            exception.Invalid, self.deployments.create, self.ctx,
            _values(owner.config_id), None, BASE_URL)
        self.assertIn(owner.id, err.message)

    def test_stack_users_signal_only_what_their_transport_allows(self):
        created = self.deployments.create(
            self.ctx, _values(self.config.id), 'CFN_SIGNAL', BASE_URL)
        stack_user = self.context(roles=['heat_stack_user'])
        self.assertRaises(exception.DeploymentNotFound,
                          self.deployments.signal, stack_user, created.id,
                          {})
        result, after = self.deployments.signal(self.ctx, created.id, {})
        self.assertEqual('COMPLETE', after.status)

    def test_an_unexpected_driver_error_is_a_502(self):
        driver = self.deployments.drivers.get('CFN_SIGNAL')

        def broken(context, deployment):
            raise KeyError('driver bug')

        self.patch(driver, 'create_signal', broken)
        err = self.assertRaises(manager.SignalTransportFailed,
                                self.deployments.create, self.ctx,
                                _values(self.config.id), 'CFN_SIGNAL',
                                BASE_URL)
        self.assertEqual(502, err.code)
        self.assertNotIn('driver bug', err.message)
        self.assertEqual([], self.deployments.list(self.ctx))

    def test_drivers_get_deployment_info(self):
        created = self.deployments.create(
            self.ctx, _values(self.config.id), 'CFN_SIGNAL', BASE_URL)
        driver = self.deployments.drivers.get('CFN_SIGNAL')
        seen = []

        def parse_signal(context, deployment, payload):
            seen.append(deployment)
            return base.payload_details(payload)

        self.patch(driver, 'parse_signal', parse_signal)
        self.deployments.signal(self.ctx, created.id, {})
        self.assertIsInstance(seen[0], base.DeploymentInfo)
        self.assertEqual((created.id, self.project, 's'),
                         (seen[0].id, seen[0].tenant, seen[0].server_id))


class TestServers(test_base.OperationsTestCase):

    def test_metadata_url_made_on_first_use_and_revoked(self):
        servers = self.state.servers
        settings = servers.os_collect_config(self.ctx, 'srv', BASE_URL)
        url = settings['request']['metadata_url']
        params = dict(item.split('=') for item in
                      url.split('?', 1)[1].split('&'))
        state = servers.check_url(self.ctx, self.project, 'srv', params)
        self.assertEqual(1, state.generation)
        servers.revoke(self.ctx, 'srv')
        self.assertRaises(capability.CapabilityDenied, servers.check_url,
                          self.ctx, self.project, 'srv', params)

    def test_a_server_without_state_has_no_valid_url(self):
        # Even a signature made with the key for generation 0.
        signature = self.state.signer.sign('metadata', self.project, 'new',
                                           '0')
        self.assertRaises(capability.CapabilityDenied,
                          self.state.servers.check_url, self.ctx,
                          self.project, 'new',
                          {'generation': '0', 'signature': signature})


class TestLifecycle(test_base.OperationsTestCase):
    """Deadlines, cancel, re-run and attempts, without HTTP."""

    overrides = {('deployment', 'max_attempts_kept'): 3}

    def setUp(self):
        super().setUp()
        self.config = self.state.configs.create(
            self.ctx, 'c', 'script', configs.build_document(
                config='echo hi', outputs=[{'name': 'out'}]))
        self.deployments = self.state.deployments

    def _derived(self, **fields):
        return self.deployments.create(
            self.ctx, _values(self.config.id, **fields), 'CFN_SIGNAL',
            BASE_URL)

    def _expire(self, deployment_id):
        """Move the current attempt's start (and deadlines) an hour back."""
        def back(value):
            return value and value - datetime.timedelta(hours=1)
        session_ctx = self.context()

        @engine.writer
        def move(ctx):
            row = queries.fetch(ctx.session, ctx, deployment_id, None)
            row.started_at = back(row.started_at)
            row.deadline_at = back(row.deadline_at)
            row.delivery_deadline_at = back(row.delivery_deadline_at)
        move(session_ctx)

    def _url_attempt(self, deployment):
        config = self.state.configs.show(self.ctx, deployment.config_id)
        url = {item['name']: item.get('value') for item in
               config.config['inputs']}['deploy_signal_id']
        return capability.check_signal(
            self.state.signer, 'POST', deployment.id,
            dict(parse.parse_qsl(parse.urlsplit(url).query)))

    def test_defaults_apply_to_derived_deployments_only(self):
        derived = self._derived()
        self.assertEqual((3600, 0), (derived.timeout,
                                     derived.delivery_timeout))
        self.assertEqual(derived.started_at + datetime.timedelta(hours=1),
                         derived.deadline_time)
        plain = self.deployments.create(
            self.ctx, _values(self.config.id, status='IN_PROGRESS'), None,
            BASE_URL)
        self.assertEqual((0, 0, None), (plain.timeout, plain.delivery_timeout,
                                        plain.deadline_time))

    def test_a_passed_deadline_shows_at_once_and_the_sweep_stores_it(self):
        created = self._derived(timeout=60)
        self._expire(created.id)
        shown = self.deployments.get(self.ctx, created.id)
        self.assertEqual(('FAILED', 'Deployment timed out after 60 seconds'),
                         (shown.status, shown.status_reason))
        self.assertEqual([created.id], [item.id for item in
                                        self.deployments.list(
                                            self.ctx, status='FAILED')])
        self.assertEqual([], self.deployments.list(self.ctx,
                                                   status='IN_PROGRESS'))
        self.assertIn(created.id, [item.id for item in
                                   self.deployments.sweep()])
        self.assertNotIn(created.id, [item.id for item in
                                      self.deployments.sweep()])
        stored = self.deployments.get(self.ctx, created.id)
        self.assertEqual(str(int(created.etag) + 1), stored.etag)

    def test_a_late_signal_is_refused_and_kept(self):
        created = self._derived(timeout=60)
        self._expire(created.id)
        err = self.assertRaises(
            exception.SignalRefused, self.deployments.signal_by_capability,
            created.id, {'out': 'late'}, 1)
        self.assertIn('Deployment timed out after 60 seconds', str(err))
        attempts = self.deployments.attempts(self.ctx, created.id)
        number, current, _deliveries = attempts[0]
        self.assertEqual(1, number)
        self.assertEqual({'out': 'late'}, current.late_output_values)
        self.assertIsNone(current.output_values)

    def test_a_put_is_applied_whatever_the_deadline(self):
        created = self._derived(timeout=60)
        self._expire(created.id)
        after = self.deployments.update(
            self.ctx, created.id, {'status': 'COMPLETE',
                                   'output_values': {'out': 'x'}},
            None, BASE_URL)
        self.assertEqual(('COMPLETE', {'out': 'x'}),
                         (after.status, after.output_values))

    def test_a_put_in_progress_after_a_timeout_starts_a_new_attempt(self):
        created = self._derived(timeout=60)
        self._expire(created.id)
        after = self.deployments.update(self.ctx, created.id,
                                        {'status': 'IN_PROGRESS'}, None,
                                        BASE_URL)
        self.assertEqual(('IN_PROGRESS', '', 2),
                         (after.status, after.status_reason, after.attempt))
        self.assertGreater(after.deadline_time, timeutils.utcnow())
        earlier = self.deployments.attempts(self.ctx, created.id)[1][1]
        self.assertEqual(('FAILED', 'Deployment timed out after 60 seconds'),
                         (earlier.status, earlier.status_reason))

    def test_cancel_hides_the_config_and_refuses_signals(self):
        created = self._derived()
        cancelled = self.deployments.cancel(self.ctx, created.id)
        self.assertEqual(('FAILED', 'Deployment cancelled.'),
                         (cancelled.status, cancelled.status_reason))
        self.assertEqual([], self.deployments.server_configs(self.ctx, 's'))
        self.assertRaises(exception.SignalRefused,
                          self.deployments.signal_by_capability,
                          created.id, {'out': 'x'}, 1)
        self.assertRaises(exception.DeploymentStateConflict,
                          self.deployments.cancel, self.ctx, created.id)

    def test_rerun_starts_a_new_attempt_with_a_new_url(self):
        created = self._derived()
        self.deployments.signal_by_capability(created.id, {'out': 'one'}, 1)
        rerun = self.deployments.rerun(self.ctx, created.id, BASE_URL)
        self.assertNotEqual(created.config_id, rerun.config_id)
        self.assertEqual(('IN_PROGRESS', 2), (rerun.status, rerun.attempt))
        self.assertEqual(2, self._url_attempt(rerun))
        self.assertRaises(exception.SignalRefused,
                          self.deployments.signal_by_capability,
                          created.id, {'out': 'stale'}, 1)
        self.deployments.signal_by_capability(created.id, {'out': 'two'}, 2)
        attempts = self.deployments.attempts(self.ctx, created.id)
        self.assertEqual([2, 1], [entry[0] for entry in attempts])
        self.assertEqual({'out': 'stale'}, attempts[1][1].late_output_values)
        self.assertEqual('one', attempts[1][1].output_values['out'])
        self.assertEqual('two', attempts[0][1].output_values['out'])

    def test_rerun_supersedes_an_attempt_in_progress(self):
        created = self._derived()
        self.deployments.rerun(self.ctx, created.id, BASE_URL)
        earlier = self.deployments.attempts(self.ctx, created.id)[1][1]
        self.assertEqual(('FAILED', 'Superseded by attempt 2.'),
                         (earlier.status, earlier.status_reason))

    def test_concurrent_reruns_each_get_an_attempt(self):
        # The transport sets up each attempt before it is stored (HEAT_SIGNAL
        # resets a password); losing the race to another re-run must not
        # leave the stored attempt with stale transport inputs.
        created = self._derived()
        real_rederive = self.deployments._rederive
        raced = []

        def rederive_after_another(*args, **kwargs):
            if not raced:
                raced.append(None)
                raced[0] = self.deployments.rerun(self.ctx, created.id,
                                                  BASE_URL)
            return real_rederive(*args, **kwargs)

        self.useFixture(fixtures.MockPatchObject(
            self.deployments, '_rederive', rederive_after_another))
        after = self.deployments.rerun(self.ctx, created.id, BASE_URL)
        self.assertEqual(2, raced[0].attempt)
        self.assertEqual(3, after.attempt)
        self.assertEqual(3, self._url_attempt(after))

    def test_a_stale_if_match_fails_before_the_transport_is_asked(self):
        created = self._derived()
        self.useFixture(fixtures.MockPatchObject(
            self.deployments.drivers.get('CFN_SIGNAL'), 'create_signal',
            side_effect=AssertionError('the transport was asked')))
        self.assertRaises(exception.PreconditionFailed,
                          self.deployments.update, self.ctx, created.id,
                          {'action': 'UPDATE'}, [int(created.etag) + 5],
                          BASE_URL)

    def test_a_plain_deployment_cannot_be_rerun(self):
        plain = self.deployments.create(self.ctx, _values(self.config.id),
                                        None, BASE_URL)
        err = self.assertRaises(exception.DeploymentStateConflict,
                                self.deployments.rerun, self.ctx, plain.id,
                                BASE_URL)
        self.assertIn('PUT a new config_id', str(err))

    def test_history_is_bounded_and_purged_without_the_current_attempt(self):
        created = self._derived()
        for _round in range(5):
            self.deployments.rerun(self.ctx, created.id, BASE_URL)
        self.assertEqual([6, 5, 4], [number for number, _item, _deliveries in
                                     self.deployments.attempts(
                                         self.ctx, created.id)])
        removed = deployments.purge_attempts(
            context.get_admin_context(),
            timeutils.utcnow() + datetime.timedelta(seconds=1))
        self.assertGreaterEqual(removed, 2)
        self.assertEqual([6], [number for number, _item, _deliveries in
                               self.deployments.attempts(self.ctx,
                                                         created.id)])
