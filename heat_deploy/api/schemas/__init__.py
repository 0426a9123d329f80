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

"""JSON Schemas (Draft 2020-12) of the API's request and response bodies.

One module per resource, as in ironic's and placement's ``schemas``:

* ``common``: the shared pieces (ids, the status enum, nullable types,
  Heat's fault body ``FAULT``, the version document ``VERSIONS``, the
  ``x-checked-in-code`` and ``x-error-messages`` annotations).
* ``software_configs``: ``CREATE`` and the config response forms.
* ``software_deployments``: ``CREATE``, ``UPDATE`` and the deployment,
  metadata, os-collect-config and signal-answer forms.
* ``signals``: the body of a signal (``SIGNAL``, ``RESOURCE_SIGNAL``).
* ``validate``: the body of ``POST /v1/{tenant_id}/validate``.

The schemas are plain dicts: heat_deploy.api.validation checks request
bodies against them and heat_deploy.api.openapi describes the API with them.
``REQUEST_SCHEMAS`` lists every schema a request body is validated against,
so that validation compiles them all once, at import.
"""

from heat_deploy.api.schemas import signals
from heat_deploy.api.schemas import software_configs
from heat_deploy.api.schemas import software_deployments
from heat_deploy.api.schemas import validate

REQUEST_SCHEMAS = (
    software_configs.CREATE,
    software_deployments.CREATE,
    software_deployments.UPDATE,
    software_deployments.ACTION,
    signals.SIGNAL,
    signals.RESOURCE_SIGNAL,
    validate.VALIDATE,
)
