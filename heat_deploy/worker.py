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

"""The background work of heat_deploy: each sweep pulls the outputs of
pull transports (ZAQAR_SIGNAL), stores passed deadlines, publishes pending
notifications, posts due webhooks and posts the ZAQAR_MESSAGE metadata
that is not in its queue yet.

Views show a passed deadline at once; the sweep stores it, so that the
stored rows, and whatever reads them, follow. heat-deploy-worker runs it
as a process; heat-deploy-api --dev runs it in a thread, so the embedded
default needs no second command.
"""

import threading

from oslo_log import log as logging

from heat_deploy.api import views
from heat_deploy import capability
from heat_deploy import checks
from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import pulls
from heat_deploy import exception
from heat_deploy.operations import delivery
from heat_deploy.operations import deployments
from heat_deploy.operations import events
from heat_deploy.operations import metadata_push
from heat_deploy.operations import servers
from heat_deploy import secret_values
from heat_deploy.signal import manager
from heat_deploy.signal import zaqar_message

LOG = logging.getLogger(__name__)

# Deployments one read of the pull step lists.
PULL_BATCH = 100


def make_sweeper(conf):
    """The Sweeper of a service configured by ``conf``."""
    secret_box = secret_values.SecretBox(conf.signal.encryption_keys)
    servers_ = servers.Servers(conf, capability.Signer(
        conf.signal.signing_keys), secret_box, zaqar_message.make(conf))
    return Sweeper(make_deployments(conf),
                   delivery.Delivery(conf, secret_box),
                   conf.deployment.sweep_interval,
                   metadata_push.make(conf, servers_, secret_box))


def make_deployments(conf):
    """The deployment operations, as the API builds them."""
    return deployments.Deployments(
        conf, manager.SignalDriverManager(conf),
        secret_values.SecretBox(conf.signal.encryption_keys),
        events.Events(conf, views.deployment))


class Sweeper(object):
    """Sweeps every ``interval`` seconds until stopped.

    :param deployments_: heat_deploy.operations.deployments.Deployments.
    :param delivery_: heat_deploy.operations.delivery.Delivery.
    :param interval: seconds between the end of one sweep and the next.
    :param pusher: heat_deploy.operations.metadata_push.MetadataPusher,
        or None without ZAQAR_MESSAGE.
    """

    def __init__(self, deployments_, delivery_, interval, pusher=None):
        self.deployments = deployments_
        self.delivery = delivery_
        self.interval = interval
        self.pusher = pusher
        self.stopped = threading.Event()

    def steps(self):
        """What a sweep does, in order: (what, callable returning a count).
        """
        steps = (('pulling signals', self.pull_signals),
                 ('storing passed deadlines',
                  lambda: len(self.deployments.sweep())),
                 ('publishing notifications', self.delivery.publish_events),
                 ('posting webhooks', self.delivery.post_webhooks))
        if self.pusher is not None:
            steps += (('posting server metadata to Zaqar',
                       self.pusher.sweep),)
        return steps

    def pull_signals(self):
        """Pull and apply the outputs that pull transports hold for
        IN_PROGRESS deployments, whether or not anybody shows them.

        Readers may pull at once (API processes, other workers): the
        transport's claims make each signal apply once. A transport that
        fails is logged and tried again on the next sweep.

        :returns: how many deployments got signals.
        """
        drivers = self.deployments.drivers.drivers
        transports = [name for name, driver in drivers.items()
                      if driver.pull]
        admin = context.get_admin_context()
        pulled = 0
        after = None
        while transports:
            ids = _waiting(context.get_admin_context(), transports, after)
            for deployment_id in ids:
                try:
                    deployment = self.deployments.get(admin, deployment_id)
                except exception.DeploymentNotFound:
                    continue
                if self.deployments.pull_signals(admin,
                                                 deployment) is not None:
                    pulled += 1
            if len(ids) < PULL_BATCH:
                break
            after = ids[-1]
        return pulled

    def sweep_once(self):
        """One sweep; returns the count of each step (None if it failed).

        A failing step (the database or the broker away) is logged and
        tried again on the next sweep; the others go on: the worker
        outlives outages.
        """
        counts = []
        for what, step in self.steps():
            try:
                counts.append(step())
            except Exception as err:
                LOG.warning('%(what)s failed, trying again in %(interval)d '
                            's: %(error)s',
                            {'what': what.capitalize(),
                             'interval': self.interval,
                             'error': checks.one_line(err)})
                counts.append(None)
        return counts

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


@engine.reader
def _waiting(ctx, transports, after):
    return pulls.waiting(ctx.session, transports, after, PULL_BATCH)
