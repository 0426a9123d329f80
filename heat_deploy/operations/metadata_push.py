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

"""ZAQAR_MESSAGE: post each server's metadata document to its queue, and
never lose a change.

A change of a server's document commits like any other (its row's
revision grows). After the commit, a thread of the process that made it
posts the document at once; the worker's sweep posts every ZAQAR_MESSAGE
server whose queue does not hold its latest revision. Each post records
the revision it carried (a conditional UPDATE), so Zaqar being down only
delays a post, an API process that dies after its commit loses nothing,
and a server whose row already says "posted" is not posted again. The
document is posted again before [zaqar] metadata_ttl runs out, so a server
that was off for longer still finds it.

A server that left ZAQAR_MESSAGE gets a last document in its queue (its
new settings; replaced by a newer one while it is not taken); once the
server took it (or it expired), the queue, the user and the project are
deleted.
"""

import queue
import threading
import time

from oslo_log import log as logging

from heat_deploy.api import views
from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import server_metadata as queries
from heat_deploy import exception
from heat_deploy.operations import servers
from heat_deploy.signal import manager

LOG = logging.getLogger(__name__)

BATCH = 100
# Times one push takes the post lease before it leaves what changed
# meanwhile to the next sweep.
_ROUNDS = 3
# A sweep stops after this many servers in a row failed: Zaqar or
# Keystone is away, and the next sweep tries again.
_FAILURES_IN_A_ROW = 3


class MetadataPusher(object):
    """Posts ZAQAR_MESSAGE servers' documents.

    :param conf: the service's ConfigOpts.
    :param servers_: the Servers operations, with their queues.
    :param secret_box: opens the secrets of the configs posted.
    """

    def __init__(self, conf, servers_, secret_box):
        self.conf = conf
        self.servers = servers_
        self.queues = servers_.queues
        self.secret_box = secret_box
        # Long enough for the requests of a few posts (a pop, a post, a
        # token) to time out.
        self.lease_seconds = 6 * conf.zaqar.timeout
        self._waiting = queue.Queue()
        self._thread = None
        self._lock = threading.Lock()

    # The work of one server

    def push(self, tenant, server_id, now=None, set_up=True):
        """Do what the server's queue needs, under the server's post lease
        (another process holding it does it); returns what was done last:
        'posted', 'retired' or None.

        :param set_up: make the user of a ZAQAR_MESSAGE server that has
            none (the sweep); else leave that server to the request that
            chose its transport, whose commit brings it back here.

        :raises heat_deploy.signal.manager.SignalTransportFailed: Zaqar or
            Keystone failed (the operator message is logged).
        """
        admin = context.get_admin_context()
        done = None
        # The holder looks again before it lets go; a change that commits
        # just after that finds the lease free.
        for _round in range(_ROUNDS):
            now = int(now or time.time())
            # A read first: most changes are of servers without a queue,
            # which need no lease (a write).
            state = self.servers.state(admin, tenant, server_id)
            if not self.needs_work(state, now) or (state.queue is None
                                                   and not set_up):
                return done
            until = now + self.lease_seconds
            if not self._take(admin, tenant, server_id, now, until):
                return done
            try:
                for _step in range(_ROUNDS):
                    step = self._step(admin, tenant, server_id, now,
                                      set_up)
                    if step is None:
                        break
                    done = step
                    now = int(time.time())
            finally:
                self._release(admin, tenant, server_id, until)
            if not self._behind(self.servers.state(admin, tenant, server_id)):
                return done
            now = None
        return done

    @staticmethod
    def _behind(state):
        """Whether the queue misses a change of the document."""
        return state is not None and (
            state.transport == servers.ZAQAR_MESSAGE
            or state.queue is not None) and (
            state.posted_revision is None
            or state.posted_revision < state.revision)

    def needs_work(self, state, now):
        """Whether the server's queue needs a post or a retirement."""
        if state is None:
            return False
        if state.transport == servers.ZAQAR_MESSAGE:
            return (state.queue is None or state.posted_revision is None
                    or state.posted_revision < state.revision
                    or state.posted_at < now - self.queues.ttl // 2)
        return state.queue is not None

    def _step(self, admin, tenant, server_id, now, set_up):
        """One post or retirement, or None if there is nothing to do now."""
        state = self.servers.state(admin, tenant, server_id)
        if not self.needs_work(state, now):
            return None
        if state.transport == servers.ZAQAR_MESSAGE:
            if state.queue is None:
                if not set_up:
                    return None
                state = self.servers.set_up_queue(tenant, server_id)
            return self._post(admin, tenant, server_id, state, now)
        if state.posted_revision is None:
            # The new settings, in the queue the server still reads.
            return self._post(admin, tenant, server_id, state, now)
        credentials = self.servers.credentials(tenant, server_id, state)
        if (state.posted_at + self.queues.ttl > now
                and manager.call_driver(self.queues, 'pending',
                                        credentials)):
            if state.posted_revision < state.revision:
                # Not taken yet, and changed meanwhile: the latest.
                return self._post(admin, tenant, server_id, state, now)
            return None
        # Taken (or expired): the server polls now.
        if not self._forget(admin, tenant, server_id,
                            credentials.project_id):
            return None  # back on ZAQAR_MESSAGE, or done elsewhere
        manager.call_driver(self.queues, 'tear_down', credentials)
        LOG.info('Server %(server)s of project %(tenant)s left '
                 'ZAQAR_MESSAGE: its queue, user and project are deleted',
                 {'server': server_id, 'tenant': tenant})
        return 'retired'

    def _post(self, admin, tenant, server_id, state, now):
        credentials = self.servers.credentials(tenant, server_id, state)
        document = self.document(admin, tenant, server_id, state)
        manager.call_driver(self.queues, 'post', credentials, document)
        self._mark_posted(admin, tenant, server_id, credentials.project_id,
                          state.revision, now)
        LOG.debug('Posted revision %(revision)d of the metadata of server '
                  '%(server)s to its queue',
                  {'revision': state.revision, 'server': server_id})
        return 'posted'

    def document(self, admin, tenant, server_id, state):
        """The document the metadata URL would serve; its configs count as
        delivered (they are in the server's queue).
        """
        deployments = [
            views.config(row, self.secret_box)
            for row in self.servers.configs(admin, tenant, server_id)]
        settings = self.servers.settings_of(
            self.conf.api.public_endpoint, tenant, server_id, state)
        return {'deployments': deployments, 'os-collect-config': settings}

    @engine.writer
    def _mark_posted(self, ctx, tenant, server_id, project_id, revision,
                     now):
        queries.mark_posted(ctx.session, tenant, server_id, project_id,
                            revision, now)

    @engine.writer
    def _take(self, ctx, tenant, server_id, now, until):
        return queries.take_post_lease(ctx.session, tenant, server_id, now,
                                       until)

    @engine.writer
    def _release(self, ctx, tenant, server_id, until):
        queries.release_post_lease(ctx.session, tenant, server_id, until)

    @engine.writer
    def _forget(self, ctx, tenant, server_id, project_id):
        return queries.forget_queue(ctx.session, tenant, server_id,
                                    project_id)

    # The worker's sweep

    def sweep(self, now=None):
        """Push every server whose queue has work; returns how many were
        posted or retired.
        """
        now = int(now or time.time())
        done = 0
        failures = 0
        after = None
        while True:
            keys = self._work(context.get_admin_context(), after,
                              now - self.queues.ttl // 2)
            for tenant, server_id in keys:
                try:
                    if self.push(tenant, server_id, now) is not None:
                        done += 1
                    failures = 0
                except exception.HeatDeployException:
                    failures += 1
                    if failures >= _FAILURES_IN_A_ROW:
                        raise
            if len(keys) < BATCH:
                return done
            after = keys[-1]

    @engine.reader_connection
    def _work(self, ctx, after, renew_before, connection):
        return queries.queue_work(connection, after, BATCH,
                                  renew_before)

    # Posting at once, after the commit

    def listen(self):
        """Post every change this process commits at once, in a thread."""
        queries.listen_for_changes(self.changed)

    def stop_listening(self):
        queries.forget_listener(self.changed)
        self._waiting.put(None)

    def changed(self, keys):
        """After a commit: hand the changed servers to the thread."""
        for key in keys:
            self._waiting.put(key)
        with self._lock:
            # Started on first use: a thread started before a fork
            # (gunicorn --preload) is not in the worker.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name='zaqar-message', daemon=True)
                self._thread.start()

    def _run(self):
        while True:
            key = self._waiting.get()
            if key is None:
                return
            try:
                self.push(*key, set_up=False)
            except exception.HeatDeployException:
                # Logged by call_driver; the sweep posts it later.
                pass
            except Exception:
                LOG.exception('Posting the metadata of server %s failed; '
                              'the worker\'s sweep tries again', key[1])


def make(conf, servers_, secret_box):
    """The MetadataPusher of a service, or None without ZAQAR_MESSAGE."""
    if servers_.queues is None:
        return None
    return MetadataPusher(conf, servers_, secret_box)
