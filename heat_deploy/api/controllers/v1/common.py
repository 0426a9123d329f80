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

"""What every v1 controller needs from the current request."""

import pecan

from heat_deploy.api import links


def context():
    """The caller's RequestContext."""
    return pecan.request.context


def authorize(rule):
    """Check a policy rule against the project the request acts on.

    :raises heat_deploy.exception.Forbidden: the rule denies the caller.
    """
    context().can(rule, {'project_id': pecan.request.tenant_id})


def base_url():
    """Absolute URL of this API, for links handed to clients and servers."""
    return links.base_url(pecan.request.app_state.conf, pecan.request)
