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

"""The paths of the OpenAPI description: every route, its parameters,
bodies and answers (heat_deploy.api.openapi assembles the document)."""

from heat_deploy.api.schemas import common
from heat_deploy.signal import heat

JSON = 'application/json'
SECURITY_SCHEME = 'keystone'

# status -> (component name, description)
_ERRORS = {
    400: ('BadRequest', 'The request is malformed: the message says '
                        'which field or parameter, and why.'),
    401: ('Unauthorized', 'No valid token (v1), or a capability URL '
                          'without its signature (agent).'),
    403: ('Forbidden', 'The policy denies the caller, the URL names '
                       'another project, or a capability URL is wrong, '
                       'expired or revoked.'),
    404: ('NotFound', 'No such object visible to the caller, or an id '
                      'longer than any stored id.'),
    409: ('Conflict', 'The object is in use, or a concurrent change '
                      'collided with this one.'),
    412: ('PreconditionFailed', 'If-Match names a generation the '
                                'deployment no longer has.'),
    413: ('RequestTooLarge', 'The body is over [api] max_json_body_size; '
                             'type RequestLimitExceeded.'),
    415: ('UnsupportedMediaType', 'The body is not sent as '
                                  'application/json.'),
    501: ('NotImplemented', 'The deployment\'s signal transport does not '
                            'offer this.'),
    502: ('BadGateway', 'The signal transport\'s backend failed.'),
    503: ('ServiceUnavailable', 'The database does not answer or is too '
                                'busy; retry after Retry-After seconds.'),
}

_READ = (400, 401, 403, 404, 503)
_WRITE = (400, 401, 403, 404, 409, 413, 415, 503)
_DELETE = (400, 401, 403, 404, 409, 503)
# Creating or changing a deployment may call its signal transport.
_TRANSPORT = (501, 502)


def _path_param(name, schema, description):
    return {'name': name, 'in': 'path', 'required': True,
            'description': description, 'schema': schema}


def _query_param(name, schema, description, required=False):
    return {'name': name, 'in': 'query', 'required': required,
            'description': description, 'schema': schema}


def _non_empty(schema):
    return dict(schema, minLength=1)


PARAMETERS = {
    'tenant_id': _path_param(
        'tenant_id', _non_empty(common.PROJECT_ID),
        'The project the request acts on: the token\'s own (an '
        'administrator may name any and acts with their own).'),
    'config_id': _path_param('config_id', _non_empty(common.ID),
                             'A software config id.'),
    'deployment_id': _path_param('deployment_id', _non_empty(common.ID),
                                 'A software deployment id.'),
    'server_id': _path_param('server_id', _non_empty(common.SERVER_ID),
                             'A server id.'),
    'stack_name': _path_param(
        'stack_name', {'type': 'string', 'enum': [heat.STACK_NAME]},
        'heat_deploy has no stacks: HEAT_SIGNAL names this one.'),
    'stack_id': _path_param(
        'stack_id', _non_empty(common.ID),
        'The deployment id (HEAT_SIGNAL\'s deploy_stack_id).'),
    'resource_name': _path_param(
        'resource_name', common.string(min_length=1),
        'Any name (HEAT_SIGNAL\'s deploy_resource_name).'),
    'limit': _query_param(
        'limit', {'type': 'integer', 'minimum': 0},
        'At most this many configs.'),
    'marker': _query_param(
        'marker', common.TEXT,
        'Continue after this config id; an unknown one is ignored.'),
    'global_tenant': _query_param(
        'global_tenant', common.BOOLEAN,
        'List every project\'s configs (policy '
        'software_configs:global_index, denied by default).'),
    'server_id_filter': _query_param(
        'server_id', common.TEXT,
        'Only the deployments of this server; empty means all.'),
    'status_filter': _query_param(
        'status', common.STATUS,
        'Only the deployments with this status; any other value is 400.'),
    'action_filter': _query_param(
        'action', common.NAME,
        'Only the deployments with exactly this action.'),
    'updated_before': _query_param(
        'updated_before', {'type': 'string', 'format': 'date-time'},
        'Only the deployments last changed (updated, or created if never '
        'updated) strictly before this ISO 8601 time; without a zone it '
        'is UTC.'),
    'updated_after': _query_param(
        'updated_after', {'type': 'string', 'format': 'date-time'},
        'Only the deployments last changed (updated, or created if never '
        'updated) strictly after this ISO 8601 time; without a zone it '
        'is UTC.'),
    'deployment_limit': _query_param(
        'limit', {'type': 'integer', 'minimum': 0},
        'At most this many deployments.'),
    'deployment_marker': _query_param(
        'marker', common.TEXT,
        'Continue after this deployment id, in the order of sort_dir; one '
        'the caller cannot see is ignored.'),
    'sort_dir': _query_param(
        'sort_dir', {'type': 'string', 'enum': ['asc', 'desc'],
                     'default': 'asc'},
        'asc: oldest first (by creation time, then id); desc: newest '
        'first.'),
    'expires': _query_param(
        'expires', {'type': 'integer'},
        'Expiry of the signal URL (seconds since the epoch).',
        required=True),
    'signature': _query_param(
        'signature', common.string(min_length=1),
        'The URL\'s HMAC signature.', required=True),
    'attempt': _query_param(
        'attempt', {'type': 'integer', 'minimum': 1},
        'The attempt the signal URL was made for (absent: 1); a signal for '
        'an attempt that ended is 409.'),
    'generation': _query_param(
        'generation', {'type': 'integer', 'minimum': 0},
        'The server\'s credential generation the URL was made for.',
        required=True),
    'if_match': {
        'name': 'If-Match', 'in': 'header', 'required': False,
        'description': 'Apply the change only if the deployment\'s ETag is '
                       'still one of these (or *).',
        'schema': common.TEXT},
    'if_none_match': {
        'name': 'If-None-Match', 'in': 'header', 'required': False,
        'description': '304 if the metadata\'s ETag is still this one.',
        'schema': common.TEXT},
}

HEADERS = {
    'ETag': {'description': 'The deployment\'s generation, for If-Match.',
             'required': True, 'schema': common.TEXT},
    'Retry-After': {'description': 'Seconds to wait before retrying.',
                    'schema': common.TEXT},
    'WWW-Authenticate': {'description': 'Where to get a token.',
                         'schema': common.TEXT},
    'MetadataETag': {'description': 'Changes whenever the metadata or the '
                                    'URL\'s credentials change.',
                     'required': True, 'schema': common.TEXT},
    'Last-Modified': {'description': 'When the metadata last changed.',
                      'required': True, 'schema': common.TEXT},
}


_HEALTHCHECK_CONTENT = {
    'text/plain': {'schema': common.TEXT},
    JSON: {'schema': {
        'type': 'object',
        'required': ['detailed', 'reasons'],
        'properties': {'detailed': common.BOOLEAN,
                       'reasons': {'type': 'array'}},
    }},
    'text/html': {'schema': common.TEXT},
}


def ref(kind, name):
    return {'$ref': '#/components/%s/%s' % (kind, name)}


def _json_response(description, schema_name, headers=()):
    response = {'description': description,
                'content': {JSON: {'schema': ref('schemas', schema_name)}}}
    if headers:
        response['headers'] = {name: ref('headers', header)
                               for name, header in headers}
    return response


def error_responses():
    responses = {}
    for code, (name, description) in sorted(_ERRORS.items()):
        response = _json_response(description, 'Fault')
        if code == 503:
            response['headers'] = {
                'Retry-After': ref('headers', 'Retry-After')}
        elif code == 401:
            response['headers'] = {
                'WWW-Authenticate': ref('headers', 'WWW-Authenticate')}
        responses[name] = response
    return responses


def _operation(operation_id, tag, summary, responses, errors, params=(),
               body=None, body_required=True, secured=True,
               description=None):
    """One operation object.

    :param responses: {status: response object} of the successes.
    :param errors: statuses answered with Heat's fault body.
    :param params: names of PARAMETERS (beyond the path's).
    :param body: component name of the request body's schema.
    """
    operation = {'operationId': operation_id, 'tags': [tag],
                 'summary': summary}
    if description:
        operation['description'] = description
    if params:
        operation['parameters'] = [ref('parameters', name)
                                   for name in params]
    if body:
        operation['requestBody'] = {
            'required': body_required,
            'content': {JSON: {'schema': ref('schemas', body)}}}
    operation['responses'] = {str(code): response
                              for code, response in responses.items()}
    for code in errors:
        operation['responses'][str(code)] = ref('responses',
                                                _ERRORS[code][0])
    operation['security'] = [{SECURITY_SCHEME: []}] if secured else []
    return operation


def _no_content(description):
    return {'description': description}


def paths():
    v1 = '/v1/{tenant_id}'
    configs = v1 + '/software_configs'
    deployments = v1 + '/software_deployments'
    deployment = deployments + '/{deployment_id}'
    etag = (('ETag', 'ETag'),)
    shown = _json_response('The deployment.', 'SoftwareDeploymentShow',
                           etag)
    paths = {
        configs: {
            'parameters': [ref('parameters', 'tenant_id')],
            'get': _operation(
                'listSoftwareConfigs', 'software_configs',
                'List the project\'s configs, newest first.',
                {200: _json_response('The configs.', 'SoftwareConfigList')},
                _READ, params=('limit', 'marker', 'global_tenant')),
            'post': _operation(
                'createSoftwareConfig', 'software_configs',
                'Create a config (configs are immutable).',
                {200: _json_response('The config.', 'SoftwareConfigShow')},
                _WRITE, body='SoftwareConfigCreate'),
        },
        configs + '/{config_id}': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'config_id')],
            'get': _operation(
                'showSoftwareConfig', 'software_configs', 'Show a config.',
                {200: _json_response('The config.', 'SoftwareConfigShow')},
                _READ),
            'delete': _operation(
                'deleteSoftwareConfig', 'software_configs',
                'Delete a config no deployment uses.',
                {204: _no_content('Deleted.')}, _DELETE),
        },
        deployments: {
            'parameters': [ref('parameters', 'tenant_id')],
            'get': _operation(
                'listSoftwareDeployments', 'software_deployments',
                'List the deployments the project sees, oldest first.',
                {200: _json_response('The deployments.',
                                     'SoftwareDeploymentList')},
                _READ, params=('server_id_filter', 'status_filter',
                               'action_filter', 'updated_before',
                               'updated_after', 'deployment_limit',
                               'deployment_marker', 'sort_dir')),
            'post': _operation(
                'createSoftwareDeployment', 'software_deployments',
                'Deploy a config to a server.', {200: shown},
                _WRITE + _TRANSPORT, body='SoftwareDeploymentCreate'),
        },
        deployment: {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'deployment_id')],
            'get': _operation(
                'showSoftwareDeployment', 'software_deployments',
                'Show a deployment (an IN_PROGRESS one of a polling '
                'transport fetches its outputs first).', {200: shown},
                _READ + _TRANSPORT),
            'put': _operation(
                'updateSoftwareDeployment', 'software_deployments',
                'Change a deployment; absent, null and empty values change '
                'nothing.', {200: shown},
                _WRITE + (412,) + _TRANSPORT, params=('if_match',),
                body='SoftwareDeploymentUpdate'),
            'delete': _operation(
                'deleteSoftwareDeployment', 'software_deployments',
                'Delete a deployment.', {204: _no_content('Deleted.')},
                _DELETE),
        },
        deployment + '/actions': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'deployment_id')],
            'post': _operation(
                'actOnSoftwareDeployment', 'software_deployments',
                'Cancel an IN_PROGRESS deployment, or run a deployment with '
                'a derived config again as a new attempt (409 when its '
                'state does not allow it).', {200: shown},
                _WRITE + _TRANSPORT, body='SoftwareDeploymentAction'),
        },
        deployment + '/attempts': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'deployment_id')],
            'get': _operation(
                'listSoftwareDeploymentAttempts', 'software_deployments',
                'A deployment\'s attempts, newest (the current one) first.',
                {200: _json_response('The attempts.',
                                     'SoftwareDeploymentAttempts')},
                _READ),
        },
        deployment + '/signal': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'deployment_id')],
            'post': _operation(
                'signalSoftwareDeployment', 'software_deployments',
                'Report a deployment\'s outputs with a token.',
                {200: shown}, _WRITE + _TRANSPORT, body='Signal'),
        },
        deployments + '/metadata/{server_id}': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'server_id')],
            'get': _operation(
                'showServerMetadata', 'software_deployments',
                'The full configs of a server\'s deployments.',
                {200: _json_response('The configs, by name.',
                                     'ServerMetadata')}, _READ),
        },
        v1 + '/servers/{server_id}/os-collect-config': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'server_id')],
            'get': _operation(
                'showOsCollectConfig', 'servers',
                'The os-collect-config settings for a server\'s user data '
                '(a signed metadata URL, or a ZAQAR_MESSAGE server\'s '
                'queue and credentials).',
                {200: _json_response('The settings.', 'OsCollectConfig')},
                _READ + _TRANSPORT),
            'put': _operation(
                'updateOsCollectConfig', 'servers',
                'Choose how the server gets its metadata '
                '(software_config_transport); answers its new settings.',
                {200: _json_response('The new settings.',
                                     'OsCollectConfig')},
                _WRITE + _TRANSPORT, body='OsCollectConfigUpdate'),
            'delete': _operation(
                'revokeOsCollectConfig', 'servers',
                'Revoke the server\'s metadata URLs.',
                {204: _no_content('Revoked.')}, _DELETE),
        },
        v1 + '/validate': {
            'parameters': [ref('parameters', 'tenant_id')],
            'post': _operation(
                'validateTemplate', 'validate',
                'Validate a software config template.',
                {200: _json_response('Heat\'s answer.', 'ValidateResult')},
                _WRITE, body='ValidateRequest'),
        },
        (v1 + '/stacks/{stack_name}/{stack_id}/resources/{resource_name}'
         '/signal'): {
            'parameters': [ref('parameters', name) for name in (
                'tenant_id', 'stack_name', 'stack_id', 'resource_name')],
            'post': _operation(
                'signalResource', 'stacks',
                'Heat\'s resource signal, as HEAT_SIGNAL agents send it.',
                {200: _json_response('What the signal did.',
                                     'SignalResult')},
                _WRITE + _TRANSPORT, body='Signal', body_required=False),
        },
        '/agent/v1/deployments/{deployment_id}/signal': {
            'parameters': [ref('parameters', 'deployment_id'),
                           ref('parameters', 'expires'),
                           ref('parameters', 'signature'),
                           ref('parameters', 'attempt')],
        },
        '/agent/v1/metadata/{tenant_id}/{server_id}': {
            'parameters': [ref('parameters', 'tenant_id'),
                           ref('parameters', 'server_id'),
                           ref('parameters', 'generation'),
                           ref('parameters', 'signature')],
        },
        '/': {'get': _versions('showVersionsRoot')},
        '/versions': {'get': _versions('showVersions')},
        '/healthcheck': {
            'get': _operation(
                'healthcheck', 'version',
                'Whether the database answers (oslo.middleware\'s '
                'healthcheck, in the type Accept asks for).',
                {200: {'description': 'Healthy.',
                       'content': _HEALTHCHECK_CONTENT},
                 503: {'description': 'The database does not answer.',
                       'content': _HEALTHCHECK_CONTENT}},
                (), secured=False),
        },
    }
    signal_url = paths['/agent/v1/deployments/{deployment_id}/signal']
    for method in ('post', 'put'):
        signal_url[method] = _operation(
            'agentSignal' + method.capitalize(), 'agent',
            'A signal through the URL the deployment\'s CFN_SIGNAL (POST) '
            'or TEMP_URL_SIGNAL (PUT) transport handed out.',
            {200: _json_response('What the signal did.', 'SignalResult')},
            (400, 401, 403, 404, 409, 413, 415, 503) + _TRANSPORT,
            body='Signal', secured=False)
    metadata_url = paths['/agent/v1/metadata/{tenant_id}/{server_id}']
    metadata_headers = (('ETag', 'MetadataETag'),
                        ('Last-Modified', 'Last-Modified'))
    metadata_url['get'] = _operation(
        'agentMetadata', 'agent',
        'What os-collect-config polls: the server\'s deployments with its '
        'secrets, through the signed URL.',
        {200: _json_response('The metadata.', 'AgentMetadata',
                             metadata_headers),
         304: _no_content('Unchanged since If-None-Match or '
                          'If-Modified-Since.')},
        (400, 401, 403, 404, 503), params=('if_none_match',),
        secured=False)
    return paths


def _versions(operation_id):
    return _operation(
        operation_id, 'version', 'The version document.',
        {300: _json_response('Heat\'s version document.',
                             'VersionDocument')},
        (), secured=False)
