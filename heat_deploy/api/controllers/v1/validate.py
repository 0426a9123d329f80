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

"""POST /v1/{tenant_id}/validate for software config templates only.

``openstack software config create`` validates a one-resource template
before it creates the config; heat_deploy answers that call as Heat would and
refuses any other template with a clear message.
"""

import pecan
import webob.exc

from heat_deploy.api import body
from heat_deploy.api.controllers.v1 import common
from heat_deploy.objects import software_config
from heat_deploy.policies import stacks as policies

CONFIG_TYPES = ('OS::Heat::SoftwareConfig', 'OS::Heat::StructuredConfig')
_ONLY_CONFIGS = ('heat_deploy validates software config templates only: a '
                 'template whose resources are all of type %s.'
                 % ' or '.join(CONFIG_TYPES))


def validate_template(template):
    """Check a software config template; returns Heat's validate body.

    :raises webob.exc.HTTPBadRequest: not a software config template, or a
        resource whose properties are not a valid config.
    """
    if not isinstance(template, dict):
        raise webob.exc.HTTPBadRequest(
            'The field "template" must be a JSON object. ' + _ONLY_CONFIGS)
    resources = template.get('resources') or {}
    if not isinstance(resources, dict) or not resources:
        raise webob.exc.HTTPBadRequest(
            'The template has no resources. ' + _ONLY_CONFIGS)
    for name, resource in resources.items():
        if (not isinstance(resource, dict)
                or resource.get('type') not in CONFIG_TYPES):
            raise webob.exc.HTTPBadRequest(
                'Resource %s is not a software config. %s'
                % (name, _ONLY_CONFIGS))
        properties = resource.get('properties') or {}
        if not isinstance(properties, dict):
            raise webob.exc.HTTPBadRequest(
                'The properties of resource %s must be an object.' % name)
        software_config.build_document(
            config=properties.get('config'),
            inputs=properties.get('inputs'),
            outputs=properties.get('outputs'),
            options=properties.get('options'))
    return {'Description': template.get('description', 'No description'),
            'Parameters': {}}


class ValidateController(object):

    @pecan.expose(generic=True, template='json')
    def index(self):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='POST', template='json')
    def post(self):
        common.authorize(policies.VALIDATE_TEMPLATE)
        doc = body.json_object(pecan.request)
        if 'template' not in doc:
            raise webob.exc.HTTPBadRequest(
                'The request needs a "template" field. ' + _ONLY_CONFIGS)
        return validate_template(doc['template'])
