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

"""WSGI entry point for production servers: heat_deploy.wsgi.api:application.

Configuration comes from the files named by HEAT_DEPLOY_CONFIG_FILE, or from
the standard search (/etc/heat_deploy/heat-deploy.conf). Example::

    gunicorn --workers 2 --bind 127.0.0.1:8004 heat_deploy.wsgi.api:application
"""

import threading

from heat_deploy.api import app
from heat_deploy import service

_lock = threading.Lock()
_application = None


def init_application():
    """Build the application once per process."""
    global _application
    with _lock:
        if _application is None:
            conf = service.prepare_service()
            _application = app.load_app(conf)
    return _application


application = init_application()
