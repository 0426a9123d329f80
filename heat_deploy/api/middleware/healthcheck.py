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

"""oslo.middleware healthcheck backend: does the database answer?"""

from oslo_log import log as logging
from oslo_middleware.healthcheck import pluginbase

from heat_deploy.db import engine as db_engine

LOG = logging.getLogger(__name__)


class DatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """Healthy when a trivial query succeeds on the configured database."""

    def healthcheck(self, server_port):
        try:
            db_engine.ping()
        except Exception as err:
            LOG.warning('Healthcheck: database unreachable: %s', err)
            return pluginbase.HealthcheckResult(
                available=False, reason='Database unreachable')
        return pluginbase.HealthcheckResult(available=True,
                                            reason='Database OK')
