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

"""Software deployment operations: a config applied to a server.

They combine the queries (heat_deploy.db), which never call a transport
driver, with the drivers, which never touch the database, in the order that
keeps the two consistent: a driver sets up a deployment's way back before
the transaction that stores it, and cleans up after the one that deletes
it.
"""

from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from heat_deploy import context
from heat_deploy.db import attempts as attempt_queries
from heat_deploy.db import engine
from heat_deploy.db import events as event_queries
from heat_deploy.db import software_configs as config_queries
from heat_deploy.db import software_deployments as queries
from heat_deploy import exception
from heat_deploy import lifecycle
from heat_deploy.operations import derivation
from heat_deploy.operations import signal_rules
from heat_deploy.signal import base
from heat_deploy.signal import manager
from heat_deploy import webhooks

LOG = logging.getLogger(__name__)

# PUT fields whose change needs the deployment read first.
_READ_FIRST = derivation.DERIVED_FROM + ('timeout', 'delivery_timeout',
                                         'notify_url', 'notify_secret')
_TIMEOUTS = ('timeout', 'delivery_timeout')
# How often a new attempt is set up again when others start meanwhile.
_ATTEMPT_RACES = 5


class _AttemptStarted(Exception):
    """Another request started a new attempt after this one looked."""


def _attempt_race_lost(deployment_id):
    return exception.DeploymentStateConflict(
        reason='Deployment %s kept starting new attempts meanwhile; fetch it '
               'again and retry.' % deployment_id)


# Rows one sweep transaction claims at most, and batches per sweep.
SWEEP_BATCH = 100
_SWEEP_BATCHES = 100


class Deployments(object):
    """The deployment operations of one running service.

    :param conf: the service's ConfigOpts.
    :param drivers: the SignalDriverManager.
    :param secret_box: encrypts secrets that transports hand to servers.
    :param events: heat_deploy.operations.events.Events, which every write
        tells its change.
    """

    def __init__(self, conf, drivers, secret_box, events):
        self.conf = conf
        self.drivers = drivers
        self.secret_box = secret_box
        self.events = events
        self.stack_user_role = conf.heat_signal.stack_user_role
        self.keep_attempts = conf.deployment.max_attempts_kept

    # Reads

    @engine.reader
    def get(self, ctx, deployment_id):
        """A visible deployment.

        :raises heat_deploy.exception.DeploymentNotFound: missing or not
            visible to the caller.
        """
        return queries.Deployment(queries.fetch(
            ctx.session, ctx, deployment_id, self.stack_user_role))

    def show(self, ctx, deployment_id):
        """A deployment; one of a pull transport is polled first.

        As in Heat, showing such a deployment fetches pending outputs from
        the transport and applies them before answering (see pull_signals).
        """
        deployment = self.get(ctx, deployment_id)
        return self.pull_signals(ctx, deployment) or deployment

    def pull_signals(self, ctx, deployment):
        """Fetch a pull transport's signals of one deployment; apply them.

        Only while the current attempt is IN_PROGRESS, or was ended by the
        service (what arrives then is kept as late outputs). Each pulled
        signal is applied, in order, for the attempt it was fetched for,
        and acknowledged to the driver only once stored, so that a signal
        that two readers fetch at once is applied once (see
        SignalDriver.fetch_outputs). A transport that fails is logged and
        nothing changes: the caller answers with the stored state.

        :param deployment: a Deployment, as read by the caller.
        :returns: the Deployment after the last signal applied, or None if
            nothing was pulled.
        """
        driver = self.drivers.find(deployment.transport)
        if (driver is None or not driver.pull
                or (deployment.status != signal_rules.IN_PROGRESS
                    and deployment.ended_by is None)):
            return None
        info = self._info(deployment)
        try:
            pulled = manager.call_driver(driver, 'fetch_outputs', ctx, info)
        except manager.SignalTransportFailed:
            # Logged there; the stored state is the answer.
            return None
        if pulled is None:
            return None
        if isinstance(pulled, dict):
            pulled = [base.PulledSignal(pulled)]
        after = None
        for signal in pulled:
            # Refused pulled outputs are kept on the attempt.
            result, after, refusal = self._apply_signal(
                ctx, deployment.id, signal.details, deployment.attempt)
            LOG.info('Pulled signal of deployment %(id)s: %(outcome)s',
                     {'id': deployment.id, 'outcome': (
                         refusal or (result.describe(deployment.id)
                                     if result else 'ignored'))})
        receipts = [signal.receipt for signal in pulled]
        try:
            manager.call_driver(driver, 'acknowledge_outputs', ctx, info,
                                receipts)
        except manager.SignalTransportFailed:
            # They come back later and are ignored then: stored already.
            pass
        return after

    @engine.reader
    def list(self, ctx, server_id=None, **filters):
        """Visible deployments, oldest first, optionally of one server.

        :param filters: any of status, action, updated_before,
            updated_after (naive UTC), limit, marker and sort_dir, as
            heat_deploy.db.software_deployments.page takes them; None
            means no filter.
        """
        filters = {name: value for name, value in filters.items()
                   if value is not None}
        return [queries.Deployment(row) for row in queries.page(
            ctx.session, ctx, self.stack_user_role, server_id=server_id,
            **filters)]

    def server_configs(self, ctx, server_id):
        """The config rows of the server's deployments the caller sees.

        A stack user fetching them is the server fetching its deployments:
        their current attempts count as delivered.
        """
        configs, all_delivered = self._server_configs(ctx, server_id)
        if (not all_delivered and self.stack_user_role in ctx.roles
                and not ctx.is_admin):
            self._mark_delivered(ctx, server_id, [row.id for row in configs])
        return configs

    @engine.reader_connection
    def _server_configs(self, ctx, server_id, connection):
        return queries.server_configs(connection, server_id, ctx=ctx,
                                      stack_user_role=self.stack_user_role)

    @engine.writer
    def _mark_delivered(self, ctx, server_id, config_ids):
        queries.mark_delivered(ctx.session, server_id, config_ids,
                               timeutils.utcnow(), ctx=ctx,
                               stack_user_role=self.stack_user_role)

    @engine.reader
    def attempts(self, ctx, deployment_id):
        """A deployment's attempts, newest (the current one) first.

        :returns: (number, attempt, webhook deliveries) triples; the
            current attempt is the Deployment, earlier ones are attempt
            rows.
        """
        current = queries.Deployment(queries.fetch(
            ctx.session, ctx, deployment_id, self.stack_user_role))
        deliveries = {}
        for delivery in event_queries.deliveries_of(ctx.session,
                                                    deployment_id):
            deliveries.setdefault(delivery.attempt, []).append(delivery)
        return [(current.attempt, current,
                 deliveries.get(current.attempt, []))] + [
            (row.number, row, deliveries.get(row.number, []))
            for row in attempt_queries.earlier(ctx.session, deployment_id)]

    # Writes

    def create(self, ctx, values, transport, base_url):
        """Create a deployment, deriving its config if a transport is named.

        :param values: validated create fields: config_id, server_id,
            input_values, action, status, status_reason,
            stack_user_project_id, timeout, delivery_timeout (None where
            absent).
        :param transport: the requested transport name, or None for a
            deployment of the given config as it is.
        :returns: the new Deployment.
        """
        values = dict(values, input_values=values['input_values'] or {})
        # Only derived deployments, which wait for their server, get a
        # deadline the request did not ask for.
        defaults = self.conf.deployment
        for name, default in (
                ('timeout', defaults.default_timeout),
                ('delivery_timeout', defaults.default_delivery_timeout)):
            if values.get(name) is None:
                values[name] = 0 if transport is None else default
        # Heat's REST API stores null where a field is absent; these are
        # the defaults its RPC API documents (its resource's for derived
        # deployments).
        values['action'] = values['action'] or (
            'INIT' if transport is None else 'CREATE')
        values['status'] = values['status'] or signal_rules.COMPLETE
        values['status_reason'] = values['status_reason'] or ''
        secret = self._webhook(values)
        deployment_id = uuidutils.generate_uuid()
        created = self._create(ctx, deployment_id, values, transport,
                               base_url)
        created.new_notify_secret = secret
        return created

    def _webhook(self, values, current_url=None):
        """Check a create or PUT's notify_url; seal its secret in
        ``values``: the one given, or a new one for a new URL.

        :param current_url: the deployment's notify_url before a PUT; a
            PUT may give a new secret for it alone.
        :returns: the secret in clear, to show once; None if unchanged.
        """
        url = values.pop('notify_url', None)
        secret = values.pop('notify_secret', None)
        if url:
            webhooks.check_url(self.conf, url)
            values['notify_url'] = url
            secret = secret or webhooks.new_secret()
        elif secret and not current_url:
            raise exception.Invalid(
                reason='A notify_secret signs the posts to a notify_url; '
                       'give the notify_url too.')
        if secret:
            values['notify_secret'] = self.secret_box.seal(secret)
        return secret

    def _create(self, ctx, deployment_id, values, transport, base_url):
        if transport is None:
            return self._insert(ctx, deployment_id, values, None)
        driver = self.drivers.get(transport)
        info = self._info(values, id=deployment_id, tenant=ctx.project_id,
                          transport=transport, base_url=base_url, attempt=1)
        manager.call_driver(driver, 'validate', ctx, info)
        inputs = manager.call_driver(driver, 'create_signal', ctx, info)
        try:
            return self._insert(ctx, deployment_id, values,
                                self._derivation(driver, inputs))
        except Exception:
            self._clean_up(driver, ctx, info)
            raise

    @engine.writer
    def _insert(self, ctx, deployment_id, values, derivation_):
        # A copy: the transaction may run again after a deadlock.
        values = dict(values)
        session = ctx.session
        queries.check_quota(
            session, ctx, self.conf.quota.max_software_deployments_per_tenant)
        if derivation_ is None:
            self._check_config(session, ctx, values['config_id'])
        else:
            values['source_config_id'] = values['config_id']
            values['signal_transport'] = derivation_.transport
            values['config_id'] = self._derive(
                session, ctx, values['config_id'], values['input_values'],
                values['server_id'], values['action'], derivation_)
            values['status'], values['status_reason'] = derivation_.status()
            values['stack_user_project_id'] = (
                derivation_.stack_user_project_id()
                or values.get('stack_user_project_id'))
        now = timeutils.utcnow()
        values.update(lifecycle.new_attempt(
            values['status'], values['timeout'], values['delivery_timeout'],
            now))
        created = queries.Deployment(queries.insert(session, ctx,
                                                    deployment_id, values),
                                     now)
        self.events.deployment(session, ctx, 'create', created, now)
        return created

    def update(self, ctx, deployment_id, changes, if_match, base_url):
        """Apply a PUT; a derived deployment gets a new config if needed.

        Only truthy values are applied, as in Heat, so a PUT never blanks a
        field; timeouts are applied when not None (0 removes a deadline).
        Setting status IN_PROGRESS on a deployment that is not starts a new
        attempt, as re-deriving its config does.

        :param changes: a subset of config_id, input_values, output_values,
            action, status, status_reason, timeout, delivery_timeout,
            validated.
        :param if_match: generations the caller's copy may have (If-Match),
            or None to apply the change whatever the current one is.
        :raises heat_deploy.exception.PreconditionFailed: changed meanwhile.
        """
        changes = {key: value for key, value in changes.items()
                   if value or (key in _TIMEOUTS and value is not None)}
        # The agents' status reports change none of these: they stay one
        # UPDATE, without reading the deployment first.
        if (not any(key in changes for key in _READ_FIRST)
                and changes.get('status') != signal_rules.IN_PROGRESS):
            return self._update(ctx, deployment_id, changes, if_match)
        for _try in range(_ATTEMPT_RACES):
            current = self.get(ctx, deployment_id)
            if not derivation.needs_rederive(current, changes):
                if current.transport is not None:
                    # Naming the source or the derived config again keeps
                    # the derived one.
                    changes.pop('config_id', None)
                return self._update_read_first(ctx, deployment_id, changes,
                                               if_match)
            try:
                return self._new_derived_attempt(
                    ctx, current, changes, if_match, base_url,
                    action=changes.get('action') or current.action,
                    input_values=(changes.get('input_values')
                                  or current.input_values))
            except _AttemptStarted:
                continue
        raise _attempt_race_lost(deployment_id)

    def rerun(self, ctx, deployment_id, base_url):
        """Run a derived deployment again: a new derived config (so the
        agent runs it again), a new attempt and new deadlines.

        :raises heat_deploy.exception.DeploymentStateConflict: the
            deployment runs a config as it is, which only a PUT can change.
        """
        for _try in range(_ATTEMPT_RACES):
            current = self.get(ctx, deployment_id)
            if current.transport is None:
                raise exception.DeploymentStateConflict(
                    reason='Deployment %s runs config %s as it is, so the '
                           'service cannot make a new config to run it '
                           'again; PUT a new config_id (with status '
                           'IN_PROGRESS) instead.'
                           % (deployment_id, current.config_id))
            try:
                return self._new_derived_attempt(ctx, current, {}, None,
                                                 base_url)
            except _AttemptStarted:
                continue
        raise _attempt_race_lost(deployment_id)

    def _new_derived_attempt(self, ctx, current, changes, if_match, base_url,
                             **info_changes):
        """Have the transport set up the next attempt, then store it.

        The transport may replace what the current attempt's server holds
        (HEAT_SIGNAL resets its user's password), so nothing that can be
        known before is left to fail after: If-Match is checked first, and
        an attempt that another request started meanwhile makes the caller
        set up the one after it (raises _AttemptStarted) rather than fail.
        """
        if if_match is not None and current.generation not in if_match:
            raise queries.precondition_failed(current)
        driver = self.drivers.get(current.transport)
        info = self._info(current, base_url=base_url,
                          attempt=current.attempt + 1, **info_changes)
        manager.call_driver(driver, 'validate', ctx, info)
        inputs = manager.call_driver(driver, 'create_signal', ctx, info)
        return self._rederive(ctx, current.id, changes,
                              self._derivation(driver, inputs), if_match,
                              current.attempt,
                              'update' if info_changes else 'rerun')

    @engine.writer
    def cancel(self, ctx, deployment_id):
        """End an IN_PROGRESS deployment as FAILED "Deployment cancelled.".

        Its config leaves the server's metadata until it runs again, and
        later signals are refused.

        :raises heat_deploy.exception.DeploymentStateConflict: it is not
            IN_PROGRESS (a passed deadline counts as FAILED).
        """
        session = ctx.session
        row = queries.fetch(session, ctx, deployment_id,
                            self.stack_user_role, for_update=True)
        now = timeutils.utcnow()
        current = queries.Deployment(row, now)
        if current.status != signal_rules.IN_PROGRESS:
            raise exception.DeploymentStateConflict(
                reason='Deployment %s is %s (%s); only an IN_PROGRESS '
                       'deployment can be cancelled.'
                       % (deployment_id, current.status,
                          current.status_reason))
        row.status = signal_rules.FAILED
        row.status_reason = lifecycle.CANCELLED_REASON
        row.ended_by = lifecycle.CANCELLED
        row.ended_at = now
        queries.save(session, row)
        queries.touch_server(session, row)
        LOG.info('Deployment %s cancelled', deployment_id)
        after = queries.Deployment(row, now)
        self.events.deployment(session, ctx, 'cancel', after, now)
        return after

    @engine.writer_connection
    def _update(self, ctx, deployment_id, changes, if_match):
        now = timeutils.utcnow()
        row = queries.update(ctx.connection, ctx, deployment_id, changes,
                             self.stack_user_role, now, if_match=if_match)
        if lifecycle.passed_deadline(row, now) is not None:
            # The next write after a passed deadline stores it.
            after = queries.Deployment(self._store_deadline_of(
                ctx, deployment_id, now), now)
        else:
            after = queries.Deployment(row, now)
        self.events.deployment(ctx.connection, ctx, 'update', after, now)
        if 'status' in changes and after.ended_at == now:
            self.events.ended(ctx.connection, ctx, after, now)
        return after

    @engine.writer
    def _store_deadline_of(self, ctx, deployment_id, now):
        """Lock a deployment's row in the session and store its passed
        deadline, if one passed; returns the row.
        """
        row = queries.fetch(ctx.session, ctx, deployment_id,
                            self.stack_user_role, for_update=True)
        self._store_passed_deadline(ctx.session, ctx, row, now)
        return row

    def _store_passed_deadline(self, session, ctx, row, now):
        """Store a passed deadline of a locked row, and tell it."""
        if queries.store_passed_deadline(session, row, now) is not None:
            self.events.deployment(session, ctx, 'timeout',
                                   queries.Deployment(row, now), now)

    @engine.writer
    def _update_read_first(self, ctx, deployment_id, changes, if_match):
        """A PUT that depends on the current row: a new config, new
        timeouts, or status IN_PROGRESS (a new attempt if it was not).
        """
        session = ctx.session
        if 'config_id' in changes:
            self._check_config(session, ctx, changes['config_id'])
        row = queries.fetch(session, ctx, deployment_id,
                            self.stack_user_role, for_update=True)
        if if_match is not None and row.generation not in if_match:
            raise queries.precondition_failed(row)
        now = timeutils.utcnow()
        self._store_passed_deadline(session, ctx, row, now)
        changes = dict(changes)
        secret = self._webhook(changes, row.notify_url)
        starts = (changes.get('status') == signal_rules.IN_PROGRESS
                  and row.status != signal_rules.IN_PROGRESS)
        ends = (not starts and row.ended_at is None
                and changes.get('status') in (signal_rules.COMPLETE,
                                              signal_rules.FAILED))
        if starts:
            ended_by_service = row.ended_by is not None
            self._archive(session, row, now)
            if ended_by_service and 'status_reason' not in changes:
                # The service's word on the ended attempt ("timed out",
                # "cancelled") says nothing of the new one.
                row.status_reason = ''
        for key, value in changes.items():
            setattr(row, key, value)
        if starts:
            self._start_attempt(row, now)
        elif any(key in changes for key in _TIMEOUTS):
            started = row.started_at or row.created_at
            row.deadline_at = lifecycle.deadline(started, row.timeout)
            row.delivery_deadline_at = lifecycle.deadline(
                started, row.delivery_timeout)
        if row.status != signal_rules.IN_PROGRESS and row.ended_at is None:
            row.ended_at = now
        if ('status' in changes and not starts
                and row.ended_by in lifecycle.DEADLINES):
            # The PUT's status is how the attempt ended, not the deadline
            # stored above (as in queries.update).
            row.ended_by = None
        queries.save(session, row)
        if starts or 'config_id' in changes:
            queries.touch_server(session, row)
        after = queries.Deployment(row, now)
        after.new_notify_secret = secret
        self.events.deployment(session, ctx, 'update', after, now)
        if ends:
            self.events.ended(session, ctx, after, now)
        return after

    def _archive(self, session, row, now):
        """Keep the row's current attempt in the history; the row becomes
        the next one.
        """
        attempt_queries.archive(session, row, now, self.keep_attempts)
        row.attempt = row.attempt + 1

    @staticmethod
    def _start_attempt(row, now):
        for key, value in lifecycle.new_attempt(
                row.status, row.timeout, row.delivery_timeout, now).items():
            setattr(row, key, value)

    @engine.writer
    def _rederive(self, ctx, deployment_id, changes, derivation_, if_match,
                  attempt, event):
        """Give a derived deployment a new config and a new attempt.

        The deployment is IN_PROGRESS again (COMPLETE for transports that do
        not report), unless the PUT itself sets a status.

        :param attempt: the attempt the driver's new inputs follow; if
            another attempt started meanwhile, they are stale.
        :param event: what to tell: update (a PUT) or rerun.
        """
        session = ctx.session
        row = queries.fetch(session, ctx, deployment_id,
                            self.stack_user_role, for_update=True)
        if if_match is not None and row.generation not in if_match:
            raise queries.precondition_failed(row)
        if row.attempt != attempt:
            raise _AttemptStarted()
        now = timeutils.utcnow()
        self._store_passed_deadline(session, ctx, row, now)
        self._archive(session, row, now)
        changes = dict(changes)
        secret = self._webhook(changes, row.notify_url)
        old_config_id = row.config_id
        row.source_config_id = changes.pop('config_id', row.source_config_id)
        row.input_values = changes.pop('input_values', row.input_values)
        row.action = changes.pop('action', row.action)
        row.status, row.status_reason = derivation_.status()
        row.stack_user_project_id = (derivation_.stack_user_project_id()
                                     or row.stack_user_project_id)
        for key, value in changes.items():
            setattr(row, key, value)
        self._start_attempt(row, now)
        row.config_id = self._derive(session, ctx, row.source_config_id,
                                     row.input_values, row.server_id,
                                     row.action, derivation_)
        queries.save(session, row)
        config_queries.delete_derived(session, old_config_id)
        queries.touch_server(session, row)
        after = queries.Deployment(row, now)
        after.new_notify_secret = secret
        self.events.deployment(session, ctx, event, after, now)
        return after

    def delete(self, ctx, deployment_id, base_url):
        """Delete a deployment and what its transport set up for it."""
        deleted = self._delete(ctx, deployment_id)
        driver = self.drivers.find(deleted.transport)
        if driver is not None:
            self._clean_up(driver, ctx,
                           self._info(deleted, base_url=base_url))

    @engine.writer
    def _delete(self, ctx, deployment_id):
        row = queries.fetch(ctx.session, ctx, deployment_id,
                            self.stack_user_role)
        now = timeutils.utcnow()
        deleted = queries.Deployment(row, now)
        queries.delete(ctx.session, row)
        self.events.deployment(ctx.session, ctx, 'delete', deleted, now)
        return deleted

    # Signals

    def signal(self, ctx, deployment_id, payload):
        """Apply a signal sent with a token to a visible deployment.

        :param payload: the decoded JSON body (None for none).
        :returns: (SignalResult or None if ignored, Deployment after).
        """
        stack_user = self.stack_user_role in ctx.roles and not ctx.is_admin
        return self._signal(ctx, deployment_id, payload,
                            stack_user=stack_user)

    def signal_by_capability(self, deployment_id, payload, attempt):
        """Apply a signal that came through a signed URL.

        The signed URL is the authorisation: the deployment is found
        whatever its project.

        :param attempt: the attempt the URL was made for.
        """
        return self._signal(context.get_admin_context(), deployment_id,
                            payload, attempt=attempt)

    def _signal(self, ctx, deployment_id, payload, attempt=None,
                stack_user=False):
        """Read the payload with the deployment's transport and apply it,
        all in the one transaction that locks the deployment.

        :param stack_user: the caller is a stack user, who may signal only
            what its transport made it for.
        """
        def read_signal(deployment):
            driver = self.drivers.find(deployment.transport)
            if stack_user and (driver is None or not manager.call_driver(
                    driver, 'stack_user_may_signal', ctx,
                    self._info(deployment))):
                # Another deployment's user: as if it did not exist.
                raise exception.DeploymentNotFound(
                    deployment_id=deployment_id)
            if driver is not None:
                return manager.call_driver(driver, 'parse_signal', ctx,
                                           self._info(deployment), payload)
            try:
                return base.payload_details(payload)
            except base.SignalDriverError as err:
                raise exception.Invalid(reason=err.user_fault_string)

        result, after, refusal = self._apply_signal(
            ctx, deployment_id, None, attempt, read_signal=read_signal)
        if refusal is not None:
            LOG.info('Signal for deployment %(id)s refused: %(reason)s',
                     {'id': deployment_id, 'reason': refusal})
            raise exception.SignalRefused(reason=refusal)
        if result is None:
            LOG.info('Signal for deployment %(id)s ignored: it is %(status)s',
                     {'id': deployment_id, 'status': after.status})
        else:
            LOG.info('Signal: %s', result.describe(deployment_id))
        return result, after

    @engine.writer_connection
    def _apply_signal(self, ctx, deployment_id, details, attempt=None,
                      read_signal=None):
        """Apply a server's signal with Heat's rules (see signal_rules).

        The row is read with a locking read, so two concurrent signals (or
        a signal and a cancel) are applied one after the other and neither
        loses outputs. A signal for an attempt that ended otherwise (a
        passed deadline, a cancel, a newer attempt) is refused; what it
        carried is kept as that attempt's late_output_values.

        :param details: the signal's details; None with ``read_signal``.
        :param attempt: the attempt the signal is for; None for the
            current one.
        :param read_signal: called with the locked deployment (as a
            Deployment) to get the details, so that finding the
            deployment, reading the payload with its transport and storing
            the result take one transaction.
        :returns: (SignalResult or None if ignored, Deployment after,
            the reason it was refused or None).
        """
        connection = ctx.connection
        now = timeutils.utcnow()
        current, config = queries.fetch_with_config(
            connection, ctx, deployment_id, self.stack_user_role, now)
        if read_signal is not None:
            details = read_signal(current)
        if ((attempt is not None and attempt < current.attempt)
                or current.ended_by is not None):
            after, refusal = self._keep_late_signal(ctx, current, details,
                                                    attempt, now)
            return None, after, refusal
        declared = (config or {}).get('outputs', [])
        result = signal_rules.apply(current.status, current.output_values,
                                    declared, details)
        if result is not None:
            queries.store_signal_result(connection, current, {
                'output_values': result.output_values,
                'status': result.status,
                'status_reason': result.status_reason,
                'ended_at': now}, now)
            self.events.deployment(connection, ctx, 'signal', current, now)
            self.events.ended(connection, ctx, current, now)
        return result, current, None

    @engine.writer
    def _keep_late_signal(self, ctx, current, details, attempt, now):
        """Keep what a refused signal carried: as an earlier attempt's
        late outputs, or as the current one's if the service ended it (a
        cancel, or a deadline that passed, which is stored now).

        :param current: the locked deployment, as _apply_signal read it.
        :returns: (Deployment after, the reason the signal was refused).
        """
        session = ctx.session
        if attempt is not None and attempt < current.attempt:
            kept = attempt_queries.keep_late_outputs(session, current.id,
                                                     attempt, details)
            return current, lifecycle.refusal_reason(
                current.id, lifecycle.superseded_reason(current.attempt),
                attempt, kept)
        row = self._store_deadline_of(ctx, current.id, now)
        row.late_output_values = dict(row.late_output_values or {},
                                      **details)
        queries.save(session, row)
        return queries.Deployment(row, now), lifecycle.refusal_reason(
            row.id, row.status_reason, row.attempt)

    # The worker

    def sweep(self):
        """Store every passed deadline as the deployment's end.

        Several workers may sweep at once: each row is claimed with a
        conditional UPDATE, so each transition happens exactly once.

        :returns: the Deployments this sweep ended.
        """
        ended = []
        for _batch in range(_SWEEP_BATCHES):
            now = timeutils.utcnow()
            candidates = self._passed_deadlines(
                context.get_admin_context(), now)
            for deployment_id, generation in candidates:
                after = self._claim_passed_deadline(
                    context.get_admin_context(), deployment_id, generation,
                    now)
                if after is not None:
                    LOG.info('Deployment %(id)s: %(reason)s',
                             {'id': after.id, 'reason': after.status_reason})
                    ended.append(after)
            if len(candidates) < SWEEP_BATCH:
                break
        return ended

    @engine.reader
    def _passed_deadlines(self, ctx, now):
        return queries.passed_deadlines(ctx.session, now, SWEEP_BATCH)

    @engine.writer
    def _claim_passed_deadline(self, ctx, deployment_id, generation, now):
        row = queries.claim_passed_deadline(ctx.session, deployment_id,
                                            generation, now)
        if row is None:
            return None
        ended = queries.Deployment(row, now)
        self.events.deployment(ctx.session, ctx, 'timeout', ended, now)
        return ended

    # Helpers

    def _check_config(self, session, ctx, config_id):
        """The config a deployment may use: one the caller's project can
        see, and not one the service derived for another deployment.

        Another project's config is reported exactly like a missing one.
        """
        try:
            row = config_queries.fetch(session, ctx, config_id)
        except exception.SoftwareConfigNotFound:
            raise queries.config_not_found(config_id)
        owner = queries.derived_config_owner(session, config_id)
        if owner is not None:
            # Borrowed, it would keep its owner from replacing or deleting
            # it.
            raise exception.Invalid(
                reason='Config %s was derived by the service for deployment '
                       '%s and belongs to it alone; name the config it was '
                       'derived from instead.' % (config_id, owner))
        return row

    def _derive(self, session, ctx, source_id, input_values, server_id,
                action, derivation_):
        """Insert the derived config; returns its id."""
        config_queries.check_quota(
            session.connection(), ctx,
            self.conf.quota.max_software_configs_per_tenant)
        source = self._check_config(session, ctx, source_id)
        name, group, document = derivation.derive(
            dict(source.config or {}, name=source.name, group=source.group),
            input_values, server_id, action, derivation_.transport,
            derivation_.transport_inputs, derivation_.secret_box)
        return config_queries.insert(session.connection(), ctx, name, group,
                                     document).id

    def _derivation(self, driver, transport_inputs):
        return derivation.Derivation(driver.name, transport_inputs,
                                     driver.reports_outputs, self.secret_box)

    @staticmethod
    def _info(deployment, **overrides):
        """The DeploymentInfo drivers get, from a Deployment or a dict."""
        fields = (deployment if isinstance(deployment, dict)
                  else vars(deployment))
        values = {name: fields.get(name) for name in (
            'id', 'tenant', 'server_id', 'action', 'input_values',
            'stack_user_project_id', 'transport', 'attempt')}
        values['base_url'] = None
        values.update(overrides)
        return base.DeploymentInfo(**values)

    @staticmethod
    def _clean_up(driver, ctx, info):
        try:
            manager.call_driver(driver, 'delete_signal', ctx, info)
        except Exception:
            LOG.exception('Signal transport %(name)s could not clean up '
                          'deployment %(id)s',
                          {'name': driver.name, 'id': info.id})


@engine.writer
def purge_attempts(ctx, before):
    """Delete earlier attempts that ended before ``before`` (naive UTC).

    Never a deployment, never its current attempt (which is the
    deployment's own row).

    :returns: how many were deleted.
    """
    return attempt_queries.purge(ctx.session, before)
