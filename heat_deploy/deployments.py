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

"""Deployment operations that involve signal transports.

The API controllers call these; they combine the transport drivers (which
never touch the database) with the object functions (which never call a
driver), in the order that keeps the two consistent.
"""

from oslo_log import log as logging
from oslo_utils import uuidutils

from heat_deploy import exception
from heat_deploy.objects import signal_rules
from heat_deploy.objects import software_deployment
from heat_deploy.signal import base
from heat_deploy.signal import manager

LOG = logging.getLogger(__name__)

TRANSPORT_INPUT = 'deploy_signal_transport'


class Service(object):
    """What the operations need from the running application.

    :ivar conf: the service's ConfigOpts.
    :ivar drivers: the SignalDriverManager.
    :ivar secret_box: encrypts secrets that transports hand to servers.
    """

    def __init__(self, conf, drivers, secret_box):
        self.conf = conf
        self.drivers = drivers
        self.secret_box = secret_box

    def _derivation(self, driver, transport_inputs):
        return software_deployment.Derivation(
            driver.name, transport_inputs, driver.reports_outputs,
            self.conf.quota.max_software_configs_per_tenant,
            self.secret_box)

    def _info(self, ctx, deployment_id, values, transport, base_url,
              tenant=None):
        return base.DeploymentInfo(
            id=deployment_id, tenant=tenant or ctx.project_id,
            server_id=values['server_id'], action=values['action'],
            input_values=values['input_values'],
            stack_user_project_id=values.get('stack_user_project_id'),
            transport=transport, base_url=base_url)

    def create(self, ctx, values, transport, base_url):
        """Create a deployment, deriving its config if a transport is named.

        :param values: validated create fields.
        :param transport: the requested transport name, or None for a
            deployment of the given config as it is.
        :returns: a software_deployment.Deployment.
        """
        quota = self.conf.quota.max_software_deployments_per_tenant
        if transport is None:
            return software_deployment.create(ctx, values, quota)
        driver = self.drivers.get(transport)
        deployment_id = uuidutils.generate_uuid()
        info = self._info(ctx, deployment_id, values, transport, base_url)
        manager.call_driver(driver, 'validate', ctx, info)
        inputs = manager.call_driver(driver, 'create_signal', ctx, info)
        try:
            return software_deployment.create(
                ctx, values, quota, deployment_id=deployment_id,
                derivation=self._derivation(driver, inputs))
        except Exception:
            self._cleanup(driver, ctx, info)
            raise

    def update(self, ctx, deployment_id, changes, if_match, base_url):
        """Apply a PUT; a derived deployment gets a new config if needed."""
        # The agents' status reports change none of these: they stay one
        # UPDATE, without reading the deployment first.
        if not any(changes.get(key)
                   for key in software_deployment.DERIVED_FROM):
            return software_deployment.update(ctx, deployment_id, changes,
                                              if_match=if_match)
        current = software_deployment.get(ctx, deployment_id)
        if not software_deployment.needs_rederive(current, changes):
            if current.transport is not None:
                # Naming the source or the derived config again keeps the
                # derived one.
                changes = dict(changes, config_id=None)
            return software_deployment.update(ctx, deployment_id, changes,
                                              if_match=if_match)
        driver = self.drivers.get(current.transport)
        values = {
            'server_id': current.server_id,
            'action': changes.get('action') or current.action,
            'input_values': (changes.get('input_values')
                             or current.input_values),
            'stack_user_project_id': current.stack_user_project_id,
        }
        info = self._info(ctx, deployment_id, values, current.transport,
                          base_url, tenant=current.tenant)
        manager.call_driver(driver, 'validate', ctx, info)
        inputs = manager.call_driver(driver, 'create_signal', ctx, info)
        updated = software_deployment.rederive(
            ctx, deployment_id, changes, self._derivation(driver, inputs),
            if_match=if_match)
        return updated

    def delete(self, ctx, deployment_id, base_url):
        """Delete a deployment and what its transport set up for it."""
        deleted = software_deployment.delete(ctx, deployment_id)
        if deleted.transport is not None:
            driver = self.drivers.drivers.get(deleted.transport)
            if driver is not None:
                self._cleanup(driver, ctx, self._info(
                    ctx, deployment_id, vars(deleted), deleted.transport,
                    base_url, tenant=deleted.tenant))

    def show(self, ctx, deployment_id):
        """A deployment; an IN_PROGRESS one of a pull transport is polled.

        As in Heat, showing such a deployment fetches pending outputs from
        the transport and applies them before answering.
        """
        deployment = software_deployment.get(ctx, deployment_id)
        driver = self.drivers.drivers.get(deployment.transport)
        if (driver is None or not driver.pull
                or deployment.status != signal_rules.IN_PROGRESS):
            return deployment
        details = manager.call_driver(
            driver, 'fetch_outputs', ctx, self._info(
                ctx, deployment_id, vars(deployment), deployment.transport,
                None, tenant=deployment.tenant))
        if details is None:
            return deployment
        return software_deployment.apply_signal(ctx, deployment_id,
                                                details)[1]

    def signal(self, ctx, deployment, payload):
        """Apply a pushed signal to a deployment with Heat's rules.

        :param deployment: the Deployment the signal is for.
        :param payload: the decoded JSON body.
        :returns: (SignalResult or None if ignored, Deployment after).
        """
        driver = self.drivers.drivers.get(deployment.transport)
        if driver is None:
            try:
                details = base.payload_details(payload)
            except base.SignalDriverError as err:
                raise exception.Invalid(reason=err.user_fault_string)
        else:
            details = manager.call_driver(driver, 'parse_signal', ctx,
                                          deployment, payload)
        result, after = software_deployment.apply_signal(ctx, deployment.id,
                                                         details)
        if result is None:
            LOG.info('Signal for deployment %(id)s ignored: it is %(status)s',
                     {'id': deployment.id, 'status': deployment.status})
        else:
            LOG.info('Signal: %s', result.describe(deployment.id))
        return result, after

    @staticmethod
    def _cleanup(driver, ctx, info):
        try:
            manager.call_driver(driver, 'delete_signal', ctx, info)
        except Exception:
            LOG.exception('Signal transport %(name)s could not clean up '
                          'deployment %(id)s',
                          {'name': driver.name, 'id': info.id})


def requested_transport(doc, input_values):
    """The transport a create request asks for, or None.

    Named either by a ``signal_transport`` field or, as Heat's resource
    passes it, by the ``deploy_signal_transport`` input value.
    """
    transport = doc.get('signal_transport')
    if transport is None and input_values:
        transport = input_values.get(TRANSPORT_INPUT)
    if transport is not None and not isinstance(transport, str):
        raise exception.Invalid(reason='The signal transport must be a '
                                       'string such as CFN_SIGNAL.')
    return transport
