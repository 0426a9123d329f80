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

"""The background work of heat_deploy: the sweep of passed deadlines.

Views show a passed deadline at once; the sweep stores it, so that the
stored rows, and whatever reads them, follow. heat-deploy-worker runs it
as a process; heat-deploy-api --dev runs it in a thread, so the embedded
default needs no second command.
"""

import threading

from oslo_log import log as logging

from heat_deploy import checks
from heat_deploy.operations import deployments
from heat_deploy import secret_values
from heat_deploy.signal import manager

LOG = logging.getLogger(__name__)


def make_deployments(conf):
    """The deployment operations, as the API builds them."""
    return deployments.Deployments(
        conf, manager.SignalDriverManager(conf),
        secret_values.SecretBox(conf.signal.encryption_keys))


class Sweeper(object):
    """Sweeps every ``interval`` seconds until stopped.

    :param deployments_: heat_deploy.operations.deployments.Deployments.
    :param interval: seconds between the end of one sweep and the next.
    """

    def __init__(self, deployments_, interval):
        self.deployments = deployments_
        self.interval = interval
        self.stopped = threading.Event()

    def sweep_once(self):
        """One sweep; returns how many deadlines it stored.

        A failure (the database away) is logged and the next sweep tries
        again: the worker outlives outages.
        """
        try:
            return len(self.deployments.sweep())
        except Exception as err:
            LOG.warning('Sweep of passed deadlines failed, trying again in '
                        '%(interval)d s: %(error)s',
                        {'interval': self.interval,
                         'error': checks.one_line(err)})
            return 0

    def run(self):
        while not self.stopped.is_set():
            self.sweep_once()
            self.stopped.wait(self.interval)

    def stop(self):
        self.stopped.set()

    def start_thread(self):
        """Run in a daemon thread (heat-deploy-api --dev)."""
        thread = threading.Thread(target=self.run, name='sweeper',
                                  daemon=True)
        thread.start()
        return thread
