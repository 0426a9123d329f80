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

"""The signal transport driver interface.

A transport is how a server's agent reports a deployment's outputs back:
pushed to a URL the service hands out (CFN_SIGNAL, TEMP_URL_SIGNAL), pushed
through an API with credentials (HEAT_SIGNAL), polled from a queue or store
(ZAQAR_SIGNAL), or not at all (NO_SIGNAL). Each is a driver in the stevedore
namespace ``heat_deploy.signal_transports``, named as Heat names the
transport; a third-party package adds one with an entry point alone.

Drivers never write to the database and never decide a deployment's status:
they say which inputs a server needs, turn what arrives into a dict of
outputs, and clean up. The core applies Heat's signal rules
(heat_deploy.operations.signal_rules) and stores the result.
"""

import abc

from heat_deploy import secret_values


class SignalDriverError(Exception):
    """A driver failed; one message for the caller, one for the operator.

    :param user_fault_string: safe to show to the API caller.
    :param operator_fault_string: logged for the operator; may hold
        details the caller must not see. Defaults to the user string.
    """

    code = 400

    def __init__(self, user_fault_string, operator_fault_string=None):
        super().__init__(user_fault_string)
        self.user_fault_string = user_fault_string
        self.operator_fault_string = (operator_fault_string
                                      or user_fault_string)


class SignalBackendError(SignalDriverError):
    """The transport's backend (a queue, an identity service) failed."""

    code = 502


class SignalNotSupported(SignalDriverError):
    """The transport does not offer this operation."""

    code = 501


class DeploymentInfo(object):
    """What a driver may know about a deployment; read-only by convention.

    :ivar id: deployment id.
    :ivar tenant: owning project id.
    :ivar server_id: the server the deployment runs on.
    :ivar action: the deployment's action (CREATE, UPDATE, ...).
    :ivar input_values: the deployment's input values.
    :ivar stack_user_project_id: project of the deployment's stack user.
    :ivar transport: the transport name.
    :ivar base_url: absolute URL of this API (for URLs handed to servers).
    :ivar attempt: the number of the attempt the signal is set up for
        (signals for an earlier attempt are refused).
    """

    def __init__(self, id, tenant, server_id, action, input_values,
                 stack_user_project_id, transport, base_url, attempt=None):
        self.id = id
        self.tenant = tenant
        self.server_id = server_id
        self.action = action
        self.input_values = input_values
        self.stack_user_project_id = stack_user_project_id
        self.transport = transport
        self.base_url = base_url
        self.attempt = attempt


class PulledSignal(object):
    """One signal a pull transport fetched (see fetch_outputs()).

    :ivar details: dict of output names to values, as parse_signal()
        returns them.
    :ivar receipt: whatever the driver needs to acknowledge it (a claimed
        message's id, say); the core only hands it back.
    """

    def __init__(self, details, receipt=None):
        self.details = details
        self.receipt = receipt


def payload_details(payload):
    """The agents' JSON object as signal details (None counts as {}).

    :raises SignalDriverError: the payload is not a JSON object.
    """
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise SignalDriverError(
            'A signal must be a JSON object of output values.')
    return payload


def string_input(name, value, description):
    """A derived config input item as Heat writes them."""
    return {'name': name, 'type': 'String', 'value': value,
            'description': description}


def secret_input(name, value, description):
    """A derived input only the server may see (e.g. a password).

    It is stored encrypted and shown as *** in API responses; only the
    server's signed metadata URL reveals it.
    """
    return string_input(name, secret_values.Secret(value), description)


class SignalDriver(abc.ABC):
    """Base class of signal transports.

    Built once at start-up with the service's ConfigOpts; one instance
    serves every request, so drivers keep no per-request state.
    """

    #: False makes the service warn when the driver is loaded: the
    #: transport is not maintained or not meant for production.
    supported = True

    #: True if outputs must be fetched (a queue or a store that the service
    #: polls when the deployment is shown), False if they are pushed to the
    #: service.
    pull = False

    #: False if servers never report back on this transport; the core then
    #: marks new deployments COMPLETE at once (Heat's NO_SIGNAL behaviour).
    reports_outputs = True

    #: The entry point name, which is the transport name; set by the
    #: manager when the driver is loaded.
    name = None

    def __init__(self, conf):
        """:param conf: the service's ConfigOpts, with the groups of
            list_opts() registered; read only those.
        """
        self.conf = conf

    @classmethod
    def list_opts(cls):
        """The configuration options of this transport, by group.

        The service registers them before the driver is built, and the
        sample configuration (oslo-config-generator, namespace heat_deploy)
        lists them for every installed transport. Give the transport a
        group of its own, named after it.

        :returns: a list of (group name or cfg.OptGroup, list of options).
        """
        return []

    @abc.abstractmethod
    def validate(self, context, deployment):
        """Check that this transport can serve the deployment.

        Runs synchronously in the API request that creates or re-derives the
        deployment, before anything is stored: keep it cheap, no network.

        :param context: the caller's RequestContext.
        :param deployment: a DeploymentInfo.
        :raises SignalDriverError: the deployment cannot use the transport.
        """

    @abc.abstractmethod
    def create_signal(self, context, deployment):
        """Set up the way back and return the inputs the server needs.

        Called when the deployment's config is derived (on create, and again
        when a new action or new input values re-derive it).

        :param context: the caller's RequestContext.
        :param deployment: a DeploymentInfo.
        :returns: a list of derived input items (see string_input()).
        :raises SignalDriverError: the way back could not be set up.
        """

    @abc.abstractmethod
    def delete_signal(self, context, deployment):
        """Remove what create_signal() set up.

        Called when the deployment is deleted or re-derived. Must be
        idempotent: it may run for a deployment whose signal is gone.

        :param context: the caller's RequestContext.
        :param deployment: a DeploymentInfo.
        """

    def stack_user_may_signal(self, context, deployment):
        """Whether a stack user may signal this deployment with a token.

        Stack users (callers with [heat_signal] stack_user_role) are the
        servers' own credentials; they share a project, so each may signal
        only what its transport made it for. The default allows none.

        :param context: the stack user's RequestContext.
        :param deployment: a DeploymentInfo.
        :returns: True to allow; False answers as if the deployment did
            not exist.
        """
        return False

    def parse_signal(self, context, deployment, payload):
        """Turn a pushed payload into the signal's details.

        The default accepts the agents' JSON object as it is.

        :param context: the caller's RequestContext.
        :param deployment: a DeploymentInfo.
        :param payload: the decoded JSON body the server sent.
        :returns: dict of output names to values (deploy_stdout,
            deploy_stderr, deploy_status_code and declared outputs).
        :raises SignalDriverError: the payload is not a valid signal.
        """
        return payload_details(payload)

    def fetch_outputs(self, context, deployment):
        """Fetch pending outputs of a pull transport.

        Called when a deployment of this transport is shown while its
        current attempt is IN_PROGRESS or was ended by the service (a
        deadline, a cancel: what arrives then is kept as late outputs), and
        by the worker's sweep for every IN_PROGRESS one. Two readers may
        call it for one deployment at once (two API processes, an API and a
        worker).

        A transport that can hold a signal back until it was applied (a
        queue with claims) returns PulledSignal items: the core applies
        each, in order, and then hands their receipts to
        acknowledge_outputs(). Until then the driver must keep them from
        other readers, and must offer them again if they are never
        acknowledged (a reader died), so that no signal is applied twice
        or lost. Otherwise it returns one signal's details, applied once
        fetched.

        :param context: the caller's RequestContext (an admin context in
            the sweep).
        :param deployment: a DeploymentInfo; ``attempt`` is the attempt
            whose signals to fetch.
        :returns: None if nothing arrived yet; a list of PulledSignal; or
            (the older form) one signal's details.
        :raises SignalNotSupported: the transport pushes its outputs.
        :raises SignalBackendError: the store could not be read; the show
            answers with the stored deployment and logs the operator
            message.
        """
        raise SignalNotSupported(
            'The %s transport does not poll for outputs.' % self.name)

    def acknowledge_outputs(self, context, deployment, receipts):
        """Forget pulled signals that the core has applied and stored.

        Called after every PulledSignal of one fetch_outputs() call was
        applied (or refused and kept as late outputs), with their receipts
        in the same order. A failure here loses nothing: the signals come
        back and are applied again, which the signal rules make harmless
        (a deployment that is no longer IN_PROGRESS ignores them).

        :param context: the context fetch_outputs() got.
        :param deployment: the DeploymentInfo fetch_outputs() got.
        :param receipts: the receipts of the applied PulledSignals.
        :raises SignalBackendError: the store could not be reached.
        """
