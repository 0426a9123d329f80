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
from oslo_utils import uuidutils

from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import software_configs as config_queries
from heat_deploy.db import software_deployments as queries
from heat_deploy import exception
from heat_deploy.operations import derivation
from heat_deploy.operations import signal_rules
from heat_deploy.signal import base
from heat_deploy.signal import manager

LOG = logging.getLogger(__name__)


class Deployments(object):
    """The deployment operations of one running service.

    :param conf: the service's ConfigOpts.
    :param drivers: the SignalDriverManager.
    :param secret_box: encrypts secrets that transports hand to servers.
    """

    def __init__(self, conf, drivers, secret_box):
        self.conf = conf
        self.drivers = drivers
        self.secret_box = secret_box
        self.stack_user_role = conf.heat_signal.stack_user_role

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
        """A deployment; an IN_PROGRESS one of a pull transport is polled.

        As in Heat, showing such a deployment fetches pending outputs from
        the transport and applies them before answering.
        """
        deployment = self.get(ctx, deployment_id)
        driver = self.drivers.find(deployment.transport)
        if (driver is None or not driver.pull
                or deployment.status != signal_rules.IN_PROGRESS):
            return deployment
        details = manager.call_driver(driver, 'fetch_outputs', ctx,
                                      self._info(deployment))
        if details is None:
            return deployment
        return self._apply_signal(ctx, deployment_id, details)[1]

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

    @engine.reader
    def server_configs(self, ctx, server_id):
        """The config rows of the server's deployments the caller sees."""
        return queries.server_configs(ctx.session, server_id, ctx=ctx,
                                      stack_user_role=self.stack_user_role)

    # Writes

    def create(self, ctx, values, transport, base_url):
        """Create a deployment, deriving its config if a transport is named.

        :param values: validated create fields: config_id, server_id,
            input_values, action, status, status_reason,
            stack_user_project_id (None where absent).
        :param transport: the requested transport name, or None for a
            deployment of the given config as it is.
        :returns: the new Deployment.
        """
        values = dict(values, input_values=values['input_values'] or {})
        # Heat's REST API stores null where a field is absent; these are
        # the defaults its RPC API documents (its resource's for derived
        # deployments).
        values['action'] = values['action'] or (
            'INIT' if transport is None else 'CREATE')
        values['status'] = values['status'] or signal_rules.COMPLETE
        values['status_reason'] = values['status_reason'] or ''
        deployment_id = uuidutils.generate_uuid()
        if transport is None:
            return self._insert(ctx, deployment_id, values, None)
        driver = self.drivers.get(transport)
        info = self._info(values, id=deployment_id, tenant=ctx.project_id,
                          transport=transport, base_url=base_url)
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
        return queries.Deployment(queries.insert(session, ctx, deployment_id,
                                                 values))

    def update(self, ctx, deployment_id, changes, if_match, base_url):
        """Apply a PUT; a derived deployment gets a new config if needed.

        Only truthy values are applied, as in Heat, so a PUT never blanks a
        field.

        :param changes: a subset of config_id, input_values, output_values,
            action, status, status_reason, validated.
        :param if_match: generations the caller's copy may have (If-Match),
            or None to apply the change whatever the current one is.
        :raises heat_deploy.exception.PreconditionFailed: changed meanwhile.
        """
        changes = {key: value for key, value in changes.items() if value}
        # The agents' status reports change none of these: they stay one
        # UPDATE, without reading the deployment first.
        if not any(key in changes for key in derivation.DERIVED_FROM):
            return self._update(ctx, deployment_id, changes, if_match)
        current = self.get(ctx, deployment_id)
        if not derivation.needs_rederive(current, changes):
            if current.transport is not None:
                # Naming the source or the derived config again keeps the
                # derived one.
                changes.pop('config_id', None)
            return self._update(ctx, deployment_id, changes, if_match)
        driver = self.drivers.get(current.transport)
        info = self._info(current, base_url=base_url,
                          action=changes.get('action') or current.action,
                          input_values=(changes.get('input_values')
                                        or current.input_values))
        manager.call_driver(driver, 'validate', ctx, info)
        inputs = manager.call_driver(driver, 'create_signal', ctx, info)
        return self._rederive(ctx, deployment_id, changes,
                              self._derivation(driver, inputs), if_match)

    @engine.writer
    def _update(self, ctx, deployment_id, changes, if_match):
        if 'config_id' in changes:
            self._check_config(ctx.session, ctx, changes['config_id'])
        return queries.Deployment(queries.update(
            ctx.session, ctx, deployment_id, changes, self.stack_user_role,
            if_match=if_match))

    @engine.writer
    def _rederive(self, ctx, deployment_id, changes, derivation_, if_match):
        """Give a derived deployment a new config, replacing the old one.

        The deployment is IN_PROGRESS again (COMPLETE for transports that do
        not report), unless the PUT itself sets a status.
        """
        session = ctx.session
        row = queries.fetch(session, ctx, deployment_id,
                            self.stack_user_role, for_update=True)
        if if_match is not None and row.generation not in if_match:
            raise queries.precondition_failed(row)
        changes = dict(changes)
        old_config_id = row.config_id
        row.source_config_id = changes.pop('config_id', row.source_config_id)
        row.input_values = changes.pop('input_values', row.input_values)
        row.action = changes.pop('action', row.action)
        row.status, row.status_reason = derivation_.status()
        row.stack_user_project_id = (derivation_.stack_user_project_id()
                                     or row.stack_user_project_id)
        for key, value in changes.items():
            setattr(row, key, value)
        row.config_id = self._derive(session, ctx, row.source_config_id,
                                     row.input_values, row.server_id,
                                     row.action, derivation_)
        queries.save(session, row)
        config_queries.delete_derived(session, old_config_id)
        queries.touch_server(session, row)
        return queries.Deployment(row)

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
        deleted = queries.Deployment(row)
        queries.delete(ctx.session, row)
        return deleted

    # Signals

    def signal(self, ctx, deployment_id, payload):
        """Apply a signal sent with a token to a visible deployment.

        :param payload: the decoded JSON body (None for none).
        :returns: (SignalResult or None if ignored, Deployment after).
        """
        deployment = self.get(ctx, deployment_id)
        driver = self.drivers.find(deployment.transport)
        if (self.stack_user_role in ctx.roles and not ctx.is_admin
                and (driver is None or not manager.call_driver(
                    driver, 'stack_user_may_signal', ctx,
                    self._info(deployment)))):
            # Another deployment's user: as if it did not exist.
            raise exception.DeploymentNotFound(deployment_id=deployment_id)
        return self._signal(ctx, deployment, driver, payload)

    def signal_by_capability(self, deployment_id, payload):
        """Apply a signal that came through a signed URL.

        The signed URL is the authorisation: the deployment is found
        whatever its project.
        """
        admin = context.get_admin_context()
        deployment = self.get(admin, deployment_id)
        return self._signal(admin, deployment,
                            self.drivers.find(deployment.transport), payload)

    def _signal(self, ctx, deployment, driver, payload):
        if driver is None:
            try:
                details = base.payload_details(payload)
            except base.SignalDriverError as err:
                raise exception.Invalid(reason=err.user_fault_string)
        else:
            details = manager.call_driver(driver, 'parse_signal', ctx,
                                          self._info(deployment), payload)
        result, after = self._apply_signal(ctx, deployment.id, details)
        if result is None:
            LOG.info('Signal for deployment %(id)s ignored: it is %(status)s',
                     {'id': deployment.id, 'status': deployment.status})
        else:
            LOG.info('Signal: %s', result.describe(deployment.id))
        return result, after

    @engine.writer
    def _apply_signal(self, ctx, deployment_id, details):
        """Apply a server's signal with Heat's rules (see signal_rules).

        The row is read with a locking read, so two concurrent signals are
        applied one after the other and neither loses outputs.
        """
        session = ctx.session
        row = queries.fetch(session, ctx, deployment_id,
                            self.stack_user_role, for_update=True)
        config = config_queries.get(session, row.config_id)
        declared = (config.config or {}).get('outputs', [])
        result = signal_rules.apply(row.status, row.output_values, declared,
                                    details)
        if result is not None:
            row.output_values = result.output_values
            row.status = result.status
            row.status_reason = result.status_reason
            queries.save(session, row)
        return result, queries.Deployment(row)

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
            session, ctx, self.conf.quota.max_software_configs_per_tenant)
        source = self._check_config(session, ctx, source_id)
        name, group, document = derivation.derive(
            dict(source.config or {}, name=source.name, group=source.group),
            input_values, server_id, action, derivation_.transport,
            derivation_.transport_inputs, derivation_.secret_box)
        return config_queries.insert(session, ctx, name, group, document).id

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
            'stack_user_project_id', 'transport')}
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
