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
from heat_deploy.db import models
from heat_deploy import deployments
from heat_deploy.objects import signal_rules
from heat_deploy.objects import software_deployment
from heat_deploy.policies import software_deployments as policies


def _status_field(doc):
    status = body.string_field(doc, 'status')
    if status is not None and status not in signal_rules.STATUSES:
        raise webob.exc.HTTPBadRequest(
            'The field "status" must be one of %s, not "%s".'
            % (', '.join(signal_rules.STATUSES), status))
    return status


def _common_fields(doc):
    """Fields that create and update share, validated."""
    return {
        'config_id': body.string_field(doc, 'config_id',
                                       max_length=models.ID_LENGTH),
        'input_values': body.object_field(doc, 'input_values'),
        'action': body.string_field(doc, 'action', max_length=255),
        'status': _status_field(doc),
        'status_reason': body.string_field(doc, 'status_reason'),
    }


def _respond(deployment):
    pecan.response.etag = deployment.etag
    return {'software_deployment': deployment.data}


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


def _service():
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
        ctx = common.context()
        deployment = software_deployment.get(ctx, self.deployment_id)
        result, after = _service().signal(ctx, deployment, payload)
        return _respond(after)


class SoftwareDeploymentController(object):
    """One deployment: show, update (how servers report), delete."""

    def __init__(self, deployment_id):
        self.deployment_id = deployment_id
        self.signal = SignalController(deployment_id)

    @pecan.expose(generic=True, template='json')
    def index(self, *args, **kwargs):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='GET', template='json')
    def show(self):
        common.authorize(policies.SHOW)
        return _respond(_service().show(common.context(), self.deployment_id))

    @index.when(method='PUT', template='json')
    def update(self):
        common.authorize(policies.UPDATE)
        doc = body.json_object(pecan.request)
        changes = _common_fields(doc)
        changes['output_values'] = body.object_field(doc, 'output_values')
        return _respond(_service().update(
            common.context(), self.deployment_id, changes, _if_match(),
            common.base_url()))

    @index.when(method='DELETE', template='json')
    def delete(self):
        common.authorize(policies.DELETE)
        _service().delete(common.context(), self.deployment_id,
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
        return {'metadata': software_deployment.server_metadata_list(
            common.context(), self.server_id)}


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
        return {'software_deployments': software_deployment.list_all(
            common.context(), server_id=params.get('server_id'))}

    @index.when(method='POST', template='json')
    def create(self, **params):
        common.authorize(policies.CREATE)
        doc = body.json_object(pecan.request)
        values = _common_fields(doc)
        body.string_field(doc, 'config_id', required=True)
        values['server_id'] = body.string_field(
            doc, 'server_id', max_length=models.SERVER_ID_LENGTH,
            required=True)
        values['stack_user_project_id'] = body.string_field(
            doc, 'stack_user_project_id',
            max_length=models.PROJECT_ID_LENGTH)
        values['input_values'] = values['input_values'] or {}
        transport = deployments.requested_transport(doc,
                                                    values['input_values'])
        # Heat stores null here when the field is absent; use the defaults
        # its RPC API documents instead (its resource's for derived ones).
        values['action'] = values['action'] or (
            'INIT' if transport is None else 'CREATE')
        values['status'] = values['status'] or signal_rules.COMPLETE
        values['status_reason'] = values['status_reason'] or ''
        return _respond(_service().create(common.context(), values, transport,
                                          common.base_url()))

    @pecan.expose()
    def _lookup(self, deployment_id, *remainder):
        return SoftwareDeploymentController(deployment_id), remainder
