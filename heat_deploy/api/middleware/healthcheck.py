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

"""oslo.middleware healthcheck backend: database reachable, schema at head."""

import time

from oslo_log import log as logging
from oslo_middleware.healthcheck import pluginbase

from heat_deploy import checks
from heat_deploy.db import engine as db_engine

LOG = logging.getLogger(__name__)

#: Seconds a schema check result is reused: the trivial query runs on every
#: healthcheck, the revision is read at most this often.
SCHEMA_CHECK_INTERVAL = 5.0


class DatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """Healthy when a trivial query succeeds on the configured database and
    its schema is at the revision this release needs.

    Requests fail on a database whose schema is missing, older or newer
    than this release's (a restored backup, an upgrade half done), so a
    load balancer should stop sending them here until it is fixed.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (time.monotonic() of the check, checks.Result)
        self._schema = None

    def healthcheck(self, server_port):
        try:
            db_engine.ping()
            schema = self._schema_result()
        except Exception as err:
            LOG.warning('Healthcheck: database unreachable: %s', err)
            return pluginbase.HealthcheckResult(
                available=False, reason='Database unreachable')
        if schema.code == checks.FAILURE:
            return pluginbase.HealthcheckResult(
                available=False, reason='Database schema not at head')
        return pluginbase.HealthcheckResult(available=True,
                                            reason='Database OK')

    def _schema_result(self):
        now = time.monotonic()
        cached = self._schema
        if cached is not None and now - cached[0] < SCHEMA_CHECK_INTERVAL:
            return cached[1]
        # An error propagates and is not kept: the next healthcheck asks
        # again.
        result = checks.schema_result()
        if result.code != checks.OK:
            # Logged once per interval, not on every healthcheck.
            LOG.warning('Healthcheck: %s', result.line())
        self._schema = (now, result)
        return result
