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

"""Schemas of /v1/{tenant_id}/software_deployments and what servers read.

Requests: ``CREATE`` (POST), ``UPDATE`` (PUT) and ``ACTION`` (cancel or
rerun). A null field is an
absent one; unknown fields are ignored, as in Heat. What stays in code:
the create defaults (action INIT or CREATE, status COMPLETE, reason ""),
PUT's rule that empty values change nothing, and the transport named by
``signal_transport`` or the ``deploy_signal_transport`` input value (the
create controller's requested transport, whose error is ``Invalid``).

Responses: ``SOFTWARE_DEPLOYMENT`` in ``SHOW`` and ``INDEX``; ``ATTEMPTS``;
``METADATA`` (the metadata view); ``OS_COLLECT_CONFIG`` (what a server's
user data needs); ``AGENT_METADATA`` (the signed metadata URL);
``SIGNAL_RESULT`` (the answer to a signal URL or a resource signal).
"""

from heat_deploy.api.schemas import common
from heat_deploy.api.schemas import software_configs
from heat_deploy.conf import deployment as deployment_conf

_STATUS_REASON = common.nullable(common.TEXT)

# Values by input name: a derived config gets an input for each, and an
# input needs a name.
_INPUT_VALUES = dict(common.OBJECT, propertyNames={
    'minLength': 1,
    common.ERROR_MESSAGES: {
        'minLength': 'The field "%(field)s" must not have an empty key: '
                     'each key names an input.'},
})


def _seconds(description):
    return common.nullable({
        'type': 'integer', 'minimum': 0,
        'maximum': deployment_conf.MAX_TIMEOUT, 'description': description})


_NOTIFY_URL = common.nullable(dict(
    common.URL, maxLength=2048, writeOnly=True, description=(
        'Where heat-deploy-worker posts the deployment\'s terminal events '
        '(complete, failed, timeout, cancel), signed with notify_secret. '
        'Only hosts in [webhooks] allowed_hosts are accepted.')))
_NOTIFY_SECRET = common.nullable(dict(
    common.string(255, 16), writeOnly=True, description=(
        'Key of the X-Heat-Deploy-Signature HMAC; made by the service when '
        'a notify_url comes without one. Shown only in the answer to the '
        'request that set it.')))

_TIMEOUT = _seconds(
    'Seconds the deployment may stay IN_PROGRESS before it is FAILED; 0 '
    'means no deadline. Absent or null on create: [deployment] '
    'default_timeout for a deployment with a derived config, else none.')
_DELIVERY_TIMEOUT = _seconds(
    'Seconds within which the server must fetch the deployment before it '
    'is FAILED; 0 means no deadline. Absent or null on create: '
    '[deployment] default_delivery_timeout for a deployment with a '
    'derived config, else none.')

# POST /v1/{tenant_id}/software_deployments.
CREATE = {
    'type': 'object',
    'required': ['config_id', 'server_id'],
    'properties': {
        'config_id': dict(common.ID, minLength=1, description=(
            'A config of the caller\'s project.')),
        'server_id': dict(common.SERVER_ID, minLength=1),
        'input_values': common.nullable(dict(_INPUT_VALUES, description=(
            'Values of the config\'s inputs, by name.'))),
        'action': common.nullable(dict(common.NAME, description=(
            'Default INIT, or CREATE when a transport is named.'))),
        'status': common.nullable(dict(common.STATUS, description=(
            'Default COMPLETE.'))),
        'status_reason': _STATUS_REASON,
        'stack_user_project_id': common.nullable(dict(
            common.PROJECT_ID, description=(
                'Share the deployment with the stack users of this '
                'project.'))),
        'signal_transport': common.checked_in_code(
            common.nullable(common.string(description=(
                'Derive a config for this signal transport, such as '
                'CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL or NO_SIGNAL. '
                'The input value deploy_signal_transport does the '
                'same.'))),
            'heat_deploy.api.controllers.v1.software_deployments'
            '._requested_transport'),
        'software_config_transport': common.nullable({
            'type': 'string', 'enum': ['POLL_TEMP_URL', 'ZAQAR_MESSAGE'],
            'description': 'Move the deployment\'s server to this metadata '
                           'transport first, as PUT .../servers/{server_id}'
                           '/os-collect-config does (policy '
                           'software_deployments:metadata_transport too). '
                           'Absent: the server keeps its own.'}),
        'timeout': _TIMEOUT,
        'delivery_timeout': _DELIVERY_TIMEOUT,
        'notify_url': _NOTIFY_URL,
        'notify_secret': _NOTIFY_SECRET,
    },
}

# PUT /v1/{tenant_id}/software_deployments/{deployment_id}: nothing is
# required; absent, null and empty values change nothing.
UPDATE = {
    'type': 'object',
    'properties': {
        'config_id': common.nullable(common.ID),
        'input_values': common.nullable(_INPUT_VALUES),
        'output_values': common.nullable(dict(common.OBJECT, description=(
            'The outputs, as a server reports them.'))),
        'action': common.nullable(common.NAME),
        'status': common.nullable(common.STATUS),
        'status_reason': _STATUS_REASON,
        'timeout': dict(_TIMEOUT, description=(
            'Replaces the current attempt\'s timeout, counted from its '
            'start; 0 removes the deadline.')),
        'delivery_timeout': dict(_DELIVERY_TIMEOUT, description=(
            'Replaces the current attempt\'s delivery timeout, counted '
            'from its start; 0 removes the deadline.')),
        'notify_url': _NOTIFY_URL,
        'notify_secret': _NOTIFY_SECRET,
    },
}

# POST .../software_deployments/{deployment_id}/actions: one action.
_NO_ARGUMENTS = {'type': 'object', 'additionalProperties': False,
                 'maxProperties': 0}
ACTION = {
    'type': 'object',
    'minProperties': 1,
    'maxProperties': 1,
    'properties': {
        'cancel': dict(_NO_ARGUMENTS, description=(
            'End an IN_PROGRESS deployment as FAILED "Deployment '
            'cancelled."')),
        'rerun': dict(_NO_ARGUMENTS, description=(
            'Run a deployment with a service-derived config again: a new '
            'derived config, a new attempt, new deadlines.')),
    },
    'additionalProperties': False,
    common.ERROR_MESSAGES: {
        'minProperties': 'The request body must name one action: cancel '
                         'or rerun.',
        'maxProperties': 'The request body must name exactly one action '
                         '(cancel or rerun).',
    },
}

SOFTWARE_DEPLOYMENT = {
    'type': 'object',
    'required': ['id', 'config_id', 'server_id', 'input_values',
                 'output_values', 'action', 'status', 'status_reason',
                 'creation_time', 'timeout', 'delivery_timeout',
                 'deadline_time', 'delivered_time'],
    'properties': {
        'id': common.ID,
        'config_id': common.ID,
        'server_id': common.SERVER_ID,
        'input_values': common.OBJECT,
        'output_values': common.nullable(common.OBJECT),
        'action': common.NAME,
        'status': common.STATUS,
        'status_reason': common.TEXT,
        'creation_time': common.TIMESTAMP,
        'updated_time': dict(common.TIMESTAMP, description=(
            'Left out until the first update, as in Heat.')),
        'timeout': {'type': 'integer', 'minimum': 0, 'description': (
            'Seconds the current attempt may stay IN_PROGRESS; 0 for no '
            'deadline.')},
        'delivery_timeout': {'type': 'integer', 'minimum': 0,
                             'description': (
                                 'Seconds within which the server must '
                                 'fetch the current attempt; 0 for no '
                                 'deadline.')},
        'deadline_time': common.nullable(dict(common.TIMESTAMP, description=(
            'The next deadline of the current attempt; null when it has '
            'none.'))),
        'delivered_time': common.nullable(dict(
            common.TIMESTAMP, description=(
                'When the server first fetched the current attempt\'s '
                'config; null until then.'))),
        'notify_url': dict(common.TEXT, description=(
            'Only where the deployment has a webhook: in clear in its '
            'owner\'s create, update and show answers, else ***.')),
        'notify_secret': dict(common.TEXT, description=(
            'Only in the answer to the create or update that set it.')),
    },
    'additionalProperties': False,
}

ATTEMPT = {
    'type': 'object',
    'required': ['number', 'config_id', 'action', 'status', 'status_reason',
                 'output_values', 'start_time', 'delivered_time',
                 'end_time'],
    'properties': {
        'number': {'type': 'integer', 'minimum': 1},
        'config_id': dict(common.ID, description=(
            'The config the attempt ran; an earlier attempt\'s derived '
            'config no longer exists.')),
        'action': common.NAME,
        'status': common.STATUS,
        'status_reason': common.TEXT,
        'output_values': common.nullable(common.OBJECT),
        'start_time': common.TIMESTAMP,
        'delivered_time': common.nullable(common.TIMESTAMP),
        'end_time': common.nullable(dict(common.TIMESTAMP, description=(
            'Null while the attempt is IN_PROGRESS.'))),
        'late_output_values': dict(common.OBJECT, description=(
            'What signals refused after the attempt ended (deadline, '
            'cancel, a newer attempt) carried; present only when one '
            'came.')),
        'webhook_deliveries': {
            'type': 'array',
            'description': 'The posts of this attempt\'s terminal events to '
                           'the deployment\'s notify_url; present only when '
                           'there is one.',
            'items': {
                'type': 'object',
                'required': ['event', 'tries'],
                'properties': {
                    'event': {'type': 'string', 'enum': [
                        'complete', 'failed', 'timeout', 'cancel']},
                    'tries': {'type': 'array', 'items': {
                        'type': 'object',
                        'required': ['time', 'result'],
                        'properties': {
                            'time': common.TIMESTAMP,
                            'result': {
                                'type': ['integer', 'string'],
                                'description': 'The HTTP status, or '
                                               '"delivery failed".'},
                        },
                        'additionalProperties': False,
                    }},
                },
                'additionalProperties': False,
            },
        },
    },
    'additionalProperties': False,
}

# GET .../software_deployments/{deployment_id}/attempts: newest first.
ATTEMPTS = {
    'type': 'object',
    'required': ['attempts'],
    'properties': {'attempts': {'type': 'array', 'items': ATTEMPT}},
    'additionalProperties': False,
}

# POST, GET and PUT of one deployment, and its signal route.
SHOW = {
    'type': 'object',
    'required': ['software_deployment'],
    'properties': {'software_deployment': SOFTWARE_DEPLOYMENT},
    'additionalProperties': False,
}

# GET .../software_deployments: oldest first.
INDEX = {
    'type': 'object',
    'required': ['software_deployments'],
    'properties': {
        'software_deployments': {'type': 'array',
                                 'items': SOFTWARE_DEPLOYMENT},
    },
    'additionalProperties': False,
}

# GET .../software_deployments/metadata/{server_id}: the full configs of
# the server's deployments, by config name (unnamed first), then id.
METADATA = {
    'type': 'object',
    'required': ['metadata'],
    'properties': {
        'metadata': {'type': 'array',
                     'items': software_configs.SOFTWARE_CONFIG},
    },
    'additionalProperties': False,
}

# The os-collect-config block for a server's user data.
OS_COLLECT_CONFIG_SETTINGS = {
    'type': 'object',
    'description': 'POLL_TEMP_URL servers get "request", ZAQAR_MESSAGE '
                   'servers "zaqar".',
    'required': ['collectors', 'polling_interval'],
    'properties': {
        'collectors': {'type': 'array', 'items': common.TEXT},
        'request': {
            'type': 'object',
            'required': ['metadata_url'],
            'properties': {'metadata_url': dict(common.URL, description=(
                'The signed metadata URL; it needs no credentials.'))},
            'additionalProperties': False,
        },
        'zaqar': {
            'type': 'object',
            'description': 'The server\'s own Keystone user and Zaqar '
                           'queue, as os-collect-config\'s zaqar collector '
                           'reads them; the password is in clear.',
            'required': ['queue_id', 'user_id', 'password', 'project_id',
                         'auth_url', 'region_name'],
            'properties': {name: common.TEXT for name in (
                'queue_id', 'user_id', 'password', 'project_id', 'auth_url',
                'region_name')},
            'additionalProperties': False,
        },
        'polling_interval': {'type': 'integer', 'minimum': 0},
    },
    'additionalProperties': False,
}

# GET /v1/{tenant_id}/servers/{server_id}/os-collect-config.
OS_COLLECT_CONFIG = {
    'type': 'object',
    'required': ['os-collect-config'],
    'properties': {'os-collect-config': OS_COLLECT_CONFIG_SETTINGS},
    'additionalProperties': False,
}

# PUT /v1/{tenant_id}/servers/{server_id}/os-collect-config.
OS_COLLECT_CONFIG_UPDATE = {
    'type': 'object',
    'required': ['software_config_transport'],
    'properties': {
        'software_config_transport': {
            'type': 'string', 'enum': ['POLL_TEMP_URL', 'ZAQAR_MESSAGE'],
            'description': 'How the server gets its metadata, as Heat\'s '
                           'server property of that name: polling a signed '
                           'metadata URL, or from a Zaqar queue of its own.'},
    },
    'additionalProperties': False,
}

# GET /agent/v1/metadata/{tenant_id}/{server_id}: what os-collect-config
# reads, with the server's secrets in clear.
AGENT_METADATA = {
    'type': 'object',
    'required': ['deployments', 'os-collect-config'],
    'properties': {
        'deployments': {'type': 'array',
                        'items': software_configs.SOFTWARE_CONFIG},
        'os-collect-config': OS_COLLECT_CONFIG_SETTINGS,
    },
    'additionalProperties': False,
}

# The answer to a signal URL and to Heat's resource signal route.
SIGNAL_RESULT = {
    'type': 'object',
    'required': ['deployment_id', 'signal', 'status'],
    'properties': {
        'deployment_id': common.ID,
        'signal': {'type': 'string', 'enum': ['applied', 'ignored'],
                   'description': 'ignored: the deployment was not '
                                  'IN_PROGRESS.'},
        'status': common.STATUS,
    },
    'additionalProperties': False,
}
