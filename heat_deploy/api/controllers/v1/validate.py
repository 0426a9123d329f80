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
from heat_deploy.api.schemas import validate as schemas
from heat_deploy.api import validation
from heat_deploy.operations import configs
from heat_deploy.policies import stacks as policies


class ValidateController(object):

    @pecan.expose(generic=True, template='json')
    def index(self):
        raise webob.exc.HTTPMethodNotAllowed()

    @index.when(method='POST', template='json')
    def post(self):
        common.authorize(policies.VALIDATE_TEMPLATE)
        doc = validation.validate(schemas.VALIDATE,
                                  body.json_object(pecan.request))
        return configs.validate_template(doc['template'])
