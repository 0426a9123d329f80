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

"""/v1/{tenant_id}/software_deployments and the server metadata view."""

import pecan
import webob
import webob.exc

from heat_deploy.api import body
from heat_deploy.api.controllers.v1 import common
from heat_deploy.api.schemas import common as schema_common
from heat_deploy.api.schemas import software_deployments as schemas
from heat_deploy.api import validation
from heat_deploy.api import views
from heat_deploy import exception
from heat_deploy.operations import signal_rules
from heat_deploy.policies import software_deployments as policies

TRANSPORT_INPUT = 'deploy_signal_transport'


def _fields(doc, names):
    """The named fields of a validated body; None where absent.

    Timeouts are ints (JSON Schema's integer also admits 60.0).
    """
    fields = {name: doc.get(name) for name in names}
    for name in ('timeout', 'delivery_timeout'):
        if fields.get(name) is not None:
            fields[name] = int(fields[name])
    return fields


_COMMON = ('config_id', 'input_values', 'action', 'status', 'status_reason',
           'timeout', 'delivery_timeout', 'notify_url', 'notify_secret')


def _requested_transport(doc, input_values):
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


def _respond(deployment, masked=False):
    pecan.response.etag = deployment.etag
    return {'software_deployment': views.deployment(deployment, masked)}


def _if_match():
    """Generations named by If-Match, or None when the header is absent."""
    header = pecan.request.if_match
    if header is webob.etag.AnyETag or header is webob.etag.NoETag:
        return None
    generations = []
    for tag in header.etags:
        try:
            generations.append(int(tag))
        except ValueError:
            pass  # cannot be one of ours: never matches
    return generations


_SORT_DIRS = ('asc', 'desc')


def _list_filters(params):
    """The list's filters and paging from the query; None where absent.

    :raises webob.exc.HTTPBadRequest: a value that cannot be one.
    """
    return {
        'status': body.choice_param(params, 'status',
                                    signal_rules.STATUSES),
        'action': body.text_param(params, 'action',
                                  schema_common.NAME_LENGTH),
        'updated_before': body.time_param(params, 'updated_before'),
        'updated_after': body.time_param(params, 'updated_after'),
        'limit': body.limit_param(params),
        'marker': params.get('marker'),
        'sort_dir': body.choice_param(params, 'sort_dir', _SORT_DIRS),
    }


def _deployments():
    return pecan.request.app_state.deployments


class SignalController(object):
    """POST .../software_deployments/{deployment_id}/signal with a token."""

    def __init__(self, deployment_id):
        self.deployment_id = deployment_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='POST', template='json')
    def post(self):
        common.authorize(policies.SIGNAL)
        payload = body.json_object(pecan.request)
        result, after = _deployments().signal(
            common.context(), self.deployment_id, payload)
        # The caller may be the deployment's stack user, not its owner.
        return _respond(after, masked=True)


class ActionsController(object):
    """POST .../software_deployments/{deployment_id}/actions."""

    def __init__(self, deployment_id):
        self.deployment_id = deployment_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='POST', template='json')
    def post(self):
        doc = validation.validate(schemas.ACTION,
                                  body.json_object(pecan.request))
        if 'cancel' in doc:
            common.authorize(policies.CANCEL)
            after = _deployments().cancel(common.context(),
                                          self.deployment_id)
        else:
            common.authorize(policies.RERUN)
            after = _deployments().rerun(common.context(),
                                         self.deployment_id,
                                         common.base_url())
        return _respond(after)


class AttemptsController(object):
    """GET .../software_deployments/{deployment_id}/attempts."""

    def __init__(self, deployment_id):
        self.deployment_id = deployment_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def get_all(self):
        common.authorize(policies.SHOW)
        return {'attempts': [
            views.attempt(number, item, deliveries)
            for number, item, deliveries in _deployments().attempts(
                common.context(), self.deployment_id)]}


class SoftwareDeploymentController(object):
    """One deployment: show, update (how servers report), delete; its
    actions and attempts.
    """

    def __init__(self, deployment_id):
        self.deployment_id = deployment_id
        self.signal = SignalController(deployment_id)
        self.actions = ActionsController(deployment_id)
        self.attempts = AttemptsController(deployment_id)

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def show(self):
        common.authorize(policies.SHOW)
        return _respond(_deployments().show(common.context(),
                                            self.deployment_id))

    @index.when(method='PUT', template='json')
    def update(self):
        common.authorize(policies.UPDATE)
        doc = validation.validate(schemas.UPDATE,
                                  body.json_object(pecan.request))
        changes = _fields(doc, _COMMON + ('output_values',))
        return _respond(_deployments().update(
            common.context(), self.deployment_id, changes, _if_match(),
            common.base_url()))

    @index.when(method='DELETE', template='json')
    def delete(self):
        common.authorize(policies.DELETE)
        _deployments().delete(common.context(), self.deployment_id,
                              common.base_url())
        return webob.Response(status=204)


class ServerMetadataController(object):
    """GET .../software_deployments/metadata/{server_id}."""

    def __init__(self, server_id):
        self.server_id = server_id

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def get_metadata(self):
        common.authorize(policies.METADATA)
        return {'metadata': [
            views.config(row) for row in _deployments().server_configs(
                common.context(), self.server_id)]}


class MetadataController(object):
    """.../software_deployments/metadata[/{server_id}]."""

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def show(self):
        # Without a server id Heat treats "metadata" as a deployment id.
        return SoftwareDeploymentController('metadata').show()

    @pecan.expose()
    def _lookup(self, server_id, *remainder):
        return ServerMetadataController(server_id), remainder


class SoftwareDeploymentsController(object):
    """The collection of the project's deployments."""

    metadata = MetadataController()

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def get_all(self, **params):
        common.authorize(policies.INDEX)
        filters = _list_filters(params)
        return {'software_deployments': [
            views.deployment(item, masked=True)
            for item in _deployments().list(
                common.context(), server_id=params.get('server_id'),
                **filters)]}

    @index.when(method='POST', template='json')
    def create(self, **params):
        common.authorize(policies.CREATE)
        doc = validation.validate(schemas.CREATE,
                                  body.json_object(pecan.request))
        values = _fields(doc, _COMMON + ('server_id',
                                         'stack_user_project_id'))
        transport = _requested_transport(doc, values['input_values'])
        if doc.get('software_config_transport'):
            # The server's, like Heat's server property: it moves first,
            # so that the deployment's document goes the new way.
            common.authorize(policies.METADATA_TRANSPORT)
            pecan.request.app_state.servers.choose_transport(
                common.context(), values['server_id'],
                doc['software_config_transport'], common.base_url())
        return _respond(_deployments().create(
            common.context(), values, transport, common.base_url()))

    @pecan.expose()
    def _lookup(self, deployment_id, *remainder):
        return SoftwareDeploymentController(deployment_id), remainder
