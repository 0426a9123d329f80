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

"""ZAQAR_MESSAGE: a server takes its metadata from a Zaqar queue of its own.

Heat's ``software_config_transport = ZAQAR_MESSAGE``: os-collect-config's
``zaqar`` collector logs in as a Keystone user of the server's own, finds
Zaqar as the ``messaging`` service and pops the oldest message of its
queue (v2 API); the message's body is the server's metadata document. As
for ZAQAR_SIGNAL, the user and a project holding the queue are made in the
stack user domain of [heat_signal], one pair per server, so no other
server can read the queue; heat_deploy posts there as the stack domain
admin, who gets the stack user role on the project.

This module only talks to Keystone and Zaqar; what to post and when is the
core's (heat_deploy.operations.servers). Message bodies are never logged.
"""

import hashlib
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from heat_deploy.signal import base
from heat_deploy.signal import manager
from heat_deploy.signal import stack_users
from heat_deploy.signal import zaqar

NAME = 'ZAQAR_MESSAGE'
NAME_PREFIX = 'hdm-'
UNREACHABLE = ('Zaqar, which carries this server\'s metadata, could not be '
               'reached; try again later.')
# Messages one pop takes (Zaqar's default max_messages_per_claim_or_pop).
_POP = 20


def queue_name(tenant, server_id):
    """The name of a server's queue, user and project (Keystone and Zaqar
    both allow 64 characters; a server id may be longer).
    """
    digest = hashlib.sha256(('%s/%s' % (tenant, server_id)).encode('utf-8'))
    return NAME_PREFIX + digest.hexdigest()[:40]


class QueueCredentials(object):
    """What a server's os-collect-config logs in with.

    :ivar project_id: the project of the server's queue.
    :ivar user_id: the server's user.
    :ivar password: its password, in clear.
    :ivar queue: the queue's name.
    """

    def __init__(self, project_id, user_id, password, queue):
        self.project_id = project_id
        self.user_id = user_id
        self.password = password
        self.queue = queue


class ZaqarMessageQueues(object):
    """Per-server Keystone users and Zaqar queues.

    Errors are SignalBackendErrors (one message for the caller, one for
    the operator), so heat_deploy.signal.manager.call_driver can report
    them.

    :param conf: the service's ConfigOpts; [zaqar] is registered here if
        ZAQAR_SIGNAL is not enabled.
    :raises ValueError: [heat_signal] or [signal] encryption_keys is not
        set up.
    """

    name = NAME

    def __init__(self, conf):
        manager.register_opts(conf, zaqar.ZaqarSignalDriver)
        self.users = stack_users.StackUsers(conf, NAME)
        self.opts = conf.zaqar
        self.server_region = conf.heat_signal.region_name
        self.region = self.opts.region_name or self.server_region
        self.ttl = self.opts.metadata_ttl
        self.client_id = str(uuid.uuid4())
        self._sessions = zaqar.AdminSessions(self.users, self.opts.timeout)

    def _queues(self, project_id):
        return zaqar._Queues(self._sessions.get(project_id),
                             self.opts.endpoint_type, self.region,
                             self.client_id, UNREACHABLE)

    def set_up(self, tenant, server_id, password):
        """Make (or find) the server's project and user, with ``password``.

        Idempotent: the names come from the server, and the password is
        the one the server's row keeps, so two requests setting up one
        server at once agree. Zaqar is not asked: a queue is made by the
        first post to it.

        :returns: (project id, user id).
        """
        name = queue_name(tenant, server_id)
        description = ('heat_deploy metadata of server %s of project %s '
                       '(ZAQAR_MESSAGE)' % (server_id, tenant))
        project_id = self.users.project(name, description)
        # heat_deploy posts there.
        self.users.grant(project_id)
        for attempt in (1, 2):
            user_id = self.users.find_user(name)
            if user_id is not None and self._logs_in(user_id, password):
                # Made by a concurrent set-up: a new password, even the
                # same, would revoke the tokens it already handed out.
                self.users.grant(project_id, user_id)
                return project_id, user_id
            try:
                user_id, _password = self.users.set_up_user(
                    name, project_id, description, password)
                return project_id, user_id
            except base.SignalBackendError:
                if attempt == 2:
                    raise
                # Most likely made meanwhile (409): look again.

    def set_password(self, user_id, password):
        """Give the server's user a new password (Keystone revokes the
        user's tokens).
        """
        self.users.call('PATCH', '/users/%s' % user_id,
                        json={'user': {'password': password}})

    def _logs_in(self, user_id, password):
        session = ks_session.Session(
            auth=v3.Password(auth_url=self.users.identity_url,
                             user_id=user_id, password=password),
            timeout=self.opts.timeout)
        try:
            session.get_token()
        except ks_exc.Unauthorized:
            return False
        except ks_exc.ClientException as err:
            raise base.SignalBackendError(
                'Keystone could not set up the server\'s queue user; try '
                'again later.', 'Keystone login of user %s failed: %s'
                % (user_id, err))
        return True

    def settings(self, credentials):
        """The ``zaqar`` block of os-collect-config's settings."""
        return {'queue_id': credentials.queue,
                'user_id': credentials.user_id,
                'password': credentials.password,
                'project_id': credentials.project_id,
                'auth_url': self.users.identity_url,
                'region_name': self.server_region or ''}

    def post(self, credentials, document):
        """Put ``document`` in the server's queue, instead of what it has
        not taken yet (the collector pops the oldest message, and an older
        document would only delay the latest).
        """
        queues = self._queues(credentials.project_id)
        while queues.pop(credentials.queue, _POP) >= _POP:
            pass
        queues.post(credentials.queue, document, self.ttl)

    def pending(self, credentials):
        """How many messages the server has not taken."""
        return self._queues(credentials.project_id).message_count(
            credentials.queue)

    def tear_down(self, credentials):
        """Delete the server's queue, user and project (gone ones are
        fine); Keystone's go even if Zaqar is away.
        """
        try:
            self._queues(credentials.project_id).delete(credentials.queue)
        finally:
            self.users.delete_user(credentials.queue)
            self._sessions.forget(credentials.project_id)
            self.users.delete('project', credentials.project_id)


def make(conf):
    """The ZaqarMessageQueues of a service, or None if ZAQAR_MESSAGE is not
    set up ([heat_signal] and [signal] encryption_keys).

    :raises ValueError: [signal] metadata_transport is ZAQAR_MESSAGE but
        it is not set up.
    """
    try:
        return ZaqarMessageQueues(conf)
    except ValueError:
        if conf.signal.metadata_transport == NAME:
            raise
        return None
