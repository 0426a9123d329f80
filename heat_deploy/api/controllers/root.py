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

"""Root of the Pecan application mounted at /v1: /v1/{tenant_id}/..."""

import pecan
import pecan.core
import pecan.routing

from heat_deploy.api.controllers.v1 import tenant
from heat_deploy.api import hooks
from heat_deploy.api import request


class RootController(object):
    """Hands /{tenant_id}/... to the tenant controller."""

    @pecan.expose()
    def _lookup(self, tenant_id, *remainder):
        return tenant.TenantController(tenant_id), remainder


def _remembered(getargspec):
    """getargspec that works out each function's argument names once.

    Pecan works them out for the controller of every request, with
    inspect and a new namedtuple class each time (a tenth of a PUT's
    CPU); a controller's arguments never change.
    """
    if getattr(getargspec, 'remembered', False):
        return getargspec
    found = {}

    def remembered(method):
        key = getattr(method, '__func__', method)
        try:
            return found[key]
        except KeyError:
            found[key] = spec = getargspec(method)
            return spec
    remembered.remembered = True
    return remembered


def _once_per_class(detect_custom_path_segments):
    """Pecan's search for custom path segments, skipped for a controller
    class it has searched already.

    Pecan lists every attribute of every controller on the way to the
    action (dir()) on each request, to use the list only the first time
    it meets the controller's class.
    """
    if getattr(detect_custom_path_segments, 'once_per_class', False):
        return detect_custom_path_segments
    observed = pecan.routing.__observed_controllers__

    def once_per_class(obj):
        if obj.__class__ not in observed:
            detect_custom_path_segments(obj)
    once_per_class.once_per_class = True
    return once_per_class


def app_factory(global_conf, **local_conf):
    """The Pecan application serving /v1 (no middleware around it)."""
    pecan.core.getargspec = _remembered(pecan.core.getargspec)
    pecan.routing._detect_custom_path_segments = _once_per_class(
        pecan.routing._detect_custom_path_segments)
    return pecan.make_app(
        RootController(),
        hooks=[hooks.ContextHook()],
        request_cls=request.Request,
        force_canonical=False,
        guess_content_type_from_ext=False,
        debug=False,
    )
