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

A configuration the service cannot serve (see heat_deploy.checks) is logged
as one CRITICAL line per reason, and the import of this module ends the
process with status 4 (``SystemExit``), which gunicorn reads as "App failed
to load": it stops instead of starting new workers forever.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging

from heat_deploy.api import app
from heat_deploy import checks
from heat_deploy import service

LOG = logging.getLogger(__name__)

#: Exit status of a process whose configuration cannot serve: gunicorn's
#: APP_LOAD_ERROR, which makes its master halt.
EXIT_CANNOT_SERVE = 4

_lock = threading.Lock()
_application = None


def _refuse(error):
    """Log why the service does not start, one line per reason, and exit.

    :raises SystemExit: always.
    """
    for line in str(error).splitlines():
        LOG.critical('heat_deploy will not serve: %s', line)
    raise SystemExit(EXIT_CANNOT_SERVE)


def init_application():
    """Build the application once per process.

    :raises SystemExit: the configuration cannot serve; the reasons are
        logged.
    """
    global _application
    with _lock:
        if _application is None:
            failure = None
            try:
                conf = service.prepare_service()
                _application = app.load_app(conf)
            except (cfg.Error, checks.StartupFailure) as err:
                failure = err
            if failure is not None:
                # Outside the except clause: oslo.log would append the
                # exception to each line logged inside it.
                _refuse(failure)
            service.settle_start_up_objects()
    return _application


application = init_application()
