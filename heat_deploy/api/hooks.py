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

"""Pecan hooks: build the request context, render heat_deploy errors."""

import pecan

from heat_deploy.api import environ
from heat_deploy.api import fault
from heat_deploy import context
from heat_deploy import policy


class ContextHook(pecan.hooks.PecanHook):
    """Attach the caller's context and the shared app state to the request.

    Runs before routing so that the tenant check in the v1 controller can use
    it. No database work happens here: requests that do not need the
    database never touch it.
    """

    def on_route(self, state):
        request = state.request
        app_state = environ.app_state(request.environ)
        ctx = context.RequestContext.from_environ(
            request.environ, enforcer=app_state.enforcer)
        ctx.is_admin = policy.is_admin(app_state.enforcer, ctx)
        request.context = ctx
        request.app_state = app_state

    def on_error(self, state, exc):
        return fault.from_exception(exc)
