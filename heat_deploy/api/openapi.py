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

"""The OpenAPI 3.1 description of the v1 and agent API, from the schemas.

``build()`` returns the document; tools/gen-openapi.py writes it to
doc/source/openapi.json, which a unit test keeps in step. The service
serves it nowhere.

Request and response bodies are the schemas of heat_deploy.api.schemas;
every schema that is a component here is replaced by a ``$ref`` wherever
another one uses it (by identity), so the document names each form once.
A field the service checks in code (``x-checked-in-code``) is described
by its schema all the same: a request that does not match it is refused.
"""

from heat_deploy.api import openapi_paths as paths
from heat_deploy.api.schemas import common
from heat_deploy.api.schemas import signals
from heat_deploy.api.schemas import software_configs
from heat_deploy.api.schemas import software_deployments
from heat_deploy.api.schemas import validate
from heat_deploy.db import models

OPENAPI_VERSION = '3.1.0'
# The API's version, as the version document names it.
API_VERSION = '1.0'

# name -> schema; the order is the document's.
SCHEMAS = (
    ('Fault', common.FAULT),
    ('VersionDocument', common.VERSIONS),
    ('SoftwareConfigCreate', software_configs.CREATE),
    ('SoftwareConfigInput', software_configs.INPUT),
    ('SoftwareConfigOutput', software_configs.OUTPUT),
    ('SoftwareConfig', software_configs.SOFTWARE_CONFIG),
    ('StoredInput', software_configs.STORED_INPUT),
    ('StoredOutput', software_configs.STORED_OUTPUT),
    ('SoftwareConfigSummary', software_configs.SUMMARY),
    ('SoftwareConfigShow', software_configs.SHOW),
    ('SoftwareConfigList', software_configs.INDEX),
    ('SoftwareDeploymentCreate', software_deployments.CREATE),
    ('SoftwareDeploymentUpdate', software_deployments.UPDATE),
    ('SoftwareDeployment', software_deployments.SOFTWARE_DEPLOYMENT),
    ('SoftwareDeploymentShow', software_deployments.SHOW),
    ('SoftwareDeploymentList', software_deployments.INDEX),
    ('SoftwareDeploymentAction', software_deployments.ACTION),
    ('SoftwareDeploymentAttempt', software_deployments.ATTEMPT),
    ('SoftwareDeploymentAttempts', software_deployments.ATTEMPTS),
    ('ServerMetadata', software_deployments.METADATA),
    ('OsCollectConfigSettings',
     software_deployments.OS_COLLECT_CONFIG_SETTINGS),
    ('OsCollectConfig', software_deployments.OS_COLLECT_CONFIG),
    ('OsCollectConfigUpdate', software_deployments.OS_COLLECT_CONFIG_UPDATE),
    ('AgentMetadata', software_deployments.AGENT_METADATA),
    ('Signal', signals.SIGNAL),
    ('SignalResult', software_deployments.SIGNAL_RESULT),
    ('ValidateRequest', validate.VALIDATE),
    ('Template', validate.TEMPLATE),
    ('TemplateResource', validate.RESOURCE),
    ('ValidateResult', validate.RESULT),
)

# Annotations for heat_deploy.api.validation, not for readers.
_INTERNAL = (common.CHECKED_IN_CODE, common.ERROR_MESSAGES)


def _with_refs(node, names, top=None):
    """``node`` with every component schema in it (but ``top``) a $ref.

    The annotations of heat_deploy.api.validation are left out.
    """
    if isinstance(node, dict):
        if node is not top and id(node) in names:
            return paths.ref('schemas', names[id(node)])
        return {key: _with_refs(value, names) for key, value in node.items()
                if key not in _INTERNAL}
    if isinstance(node, list):
        return [_with_refs(item, names) for item in node]
    return node


def build():
    """The OpenAPI 3.1 document of the whole API, as a dict."""
    names = {id(schema): name for name, schema in SCHEMAS}
    return {
        'openapi': OPENAPI_VERSION,
        'info': {
            'title': 'heat_deploy',
            'version': API_VERSION,
            'summary': 'OpenStack Heat\'s Software Config and Software '
                       'Deployment API, standalone.',
            'description': (
                'Heat\'s API v1 under /v1/{tenant_id}/ (token in '
                'X-Auth-Token) and the routes of the in-server agents '
                'under /agent/, authorised by the signed URLs the service '
                'hands out. Every error has Heat\'s fault body. Limits: '
                'ids of at most %d characters, server ids %d, project '
                'ids %d.' % (models.ID_LENGTH, models.SERVER_ID_LENGTH,
                             models.PROJECT_ID_LENGTH)),
            'license': {'name': 'Apache 2.0',
                        'identifier': 'Apache-2.0'},
        },
        'tags': [
            {'name': 'software_configs'},
            {'name': 'software_deployments'},
            {'name': 'servers', 'description': 'What a server\'s user data '
                                               'needs.'},
            {'name': 'validate'},
            {'name': 'stacks', 'description': 'Only Heat\'s resource '
                                              'signal.'},
            {'name': 'agent', 'description': 'Signed capability URLs, no '
                                             'token.'},
            {'name': 'version'},
        ],
        'paths': paths.paths(),
        'components': {
            'schemas': {name: _with_refs(schema, names, top=schema)
                        for name, schema in SCHEMAS},
            'parameters': {name: _with_refs(param, names)
                           for name, param in paths.PARAMETERS.items()},
            'headers': paths.HEADERS,
            'responses': paths.error_responses(),
            'securitySchemes': {
                paths.SECURITY_SCHEME: {
                    'type': 'apiKey', 'in': 'header',
                    'name': 'X-Auth-Token',
                    'description': 'A Keystone token (any non-empty value '
                                   'with [api] auth_strategy = noauth).'},
            },
        },
    }
