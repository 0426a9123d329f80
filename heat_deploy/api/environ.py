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

"""How the parts of one application reach what they share: the WSGI environ.

The composition root (heat_deploy.api.app) puts the application's AppState
into every request's environ before the paste pipeline runs, so no module
needs a global registry or an import of the composition root to find its
configuration.
"""

STATE_KEY = 'heat_deploy.app_state'


def app_state(environ):
    """The AppState of the application serving this request."""
    return environ[STATE_KEY]


class BuiltOnFirstRequest(object):
    """A WSGI app that needs the configuration, built on the first request.

    Paste builds its filters and apps before any request, from strings
    only; the middleware of oslo.middleware and keystonemiddleware want the
    ConfigOpts when they are made, which the first request brings.

    :param build: callable taking the ConfigOpts, returning the WSGI app.
    """

    def __init__(self, build):
        self._build = build
        self._app = None

    def __call__(self, environ, start_response):
        app = self._app
        if app is None:
            # Two first requests at once build it twice; both are the same.
            app = self._app = self._build(app_state(environ).conf)
        return app(environ, start_response)
