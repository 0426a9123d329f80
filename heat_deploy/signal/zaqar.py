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

"""ZAQAR_SIGNAL: the server posts its outputs to a Zaqar queue; we pull.

As with HEAT_SIGNAL, each deployment gets a Keystone user of its own in
the stack user domain (heat_deploy.signal.stack_users), and here also a
project of its own there, which holds the deployment's queue: Zaqar scopes
queues by project, so no other server can read, claim or post to it. The
server gets Heat's inputs (deploy_auth_url, deploy_user_id,
deploy_password, deploy_project_id, deploy_region_name and
deploy_queue_id); heat-config-notify logs in, finds Zaqar as the
``messaging`` service in the catalog and posts ``{"body": <outputs>,
"ttl": 600}`` to the queue.

heat_deploy reads the queue as the stack domain admin, who gets the stack
user role on each such project. Where Heat pops the messages and applies
the first, this driver claims them (a claim hides them from every other
reader) and deletes them only once the core has stored what they carried
(acknowledge_outputs): two readers never apply a message twice, and one
that dies before it stored a message leaves it to the next reader when the
claim expires.

The queue's name carries the attempt: a new attempt gets a new queue and
the old one is deleted, so nothing its server posts late reaches the new
attempt. Message bodies are never logged.
"""

import collections
import threading
from urllib import parse
import uuid

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslo_log import log as logging

from heat_deploy.signal import base
from heat_deploy.signal import stack_users

LOG = logging.getLogger(__name__)

GROUP = cfg.OptGroup(
    'zaqar',
    title='Zaqar options (ZAQAR_SIGNAL transport)',
    help='How heat_deploy reaches Zaqar, found in the catalog as the '
         'messaging service. ZAQAR_SIGNAL also uses the stack user domain '
         'of [heat_signal].')

OPTS = [
    cfg.StrOpt(
        'endpoint_type', default='public',
        choices=['public', 'internal', 'admin'],
        help='Interface of the messaging endpoint heat_deploy uses. Servers '
             'always use the public one.'),
    cfg.StrOpt(
        'region_name',
        help='Region of the messaging endpoint heat_deploy uses; defaults '
             'to [heat_signal] region_name.'),
    cfg.IntOpt(
        'timeout', default=10, min=1,
        help='Seconds to wait for Zaqar.'),
    cfg.IntOpt(
        'claim_ttl', default=60, min=60, max=43200,
        help='Seconds a pulled signal stays hidden from other readers until '
             'heat_deploy has stored it and deleted it; if the reader dies '
             'first, another one applies it after this time.'),
    cfg.IntOpt(
        'metadata_ttl', default=1209600, min=60,
        help='ZAQAR_MESSAGE: seconds a server\'s metadata document stays '
             'in its queue for the server to take (Zaqar\'s max_message_ttl '
             'must allow it; 1209600, two weeks, is Zaqar\'s default '
             'maximum). heat_deploy posts the document again before this '
             'time passes, so a server that is off for longer still finds '
             'it.'),
    cfg.IntOpt(
        'messages_per_pull', default=10, min=1, max=20,
        help='Messages claimed from a deployment\'s queue at once (Zaqar '
             'allows 20 by default).'),
]


def queue_name(deployment):
    """The queue of a deployment's attempt (Zaqar allows 64 characters of
    [A-Za-z0-9_-]).
    """
    return '%s-%d' % (deployment.id, deployment.attempt or 1)


def project_name(deployment_id):
    """The name of a deployment's own project in the stack user domain."""
    return stack_users.user_name(deployment_id)


def versioned_endpoint(url):
    """The v2 API root from a catalog URL, with or without a version."""
    root = url.rstrip('/')
    for suffix in ('/v2', '/v1.1', '/v1'):
        if root.endswith(suffix):
            root = root[:-len(suffix)]
            break
    return root + '/v2'


def claimed_messages(claim):
    """(message id, claim id, body) of each message of a claim's answer.

    :param claim: the decoded body of ``POST .../claims`` (201).
    :raises ValueError: it is not what Zaqar answers.
    """
    found = []
    for message in claim['messages']:
        query = parse.parse_qs(parse.urlsplit(message['href']).query)
        found.append((message['id'], query['claim_id'][0],
                      message.get('body')))
    return found


SIGNALS_UNREACHABLE = ('Zaqar, which carries this deployment\'s signals, '
                       'could not be reached; try again later.')


def backend_error(action, err, user_message=SIGNALS_UNREACHABLE):
    """A SignalBackendError of a failed Zaqar request."""
    return base.SignalBackendError(user_message,
                                   'Zaqar %s failed: %s' % (action, err))


class AdminSessions(object):
    """The stack domain admin's keystoneauth sessions, one per project
    (each holds a token), the most recently used ones kept.

    :param users: a stack_users.StackUsers.
    :param timeout: seconds to wait for Keystone and Zaqar.
    """

    #: Sessions kept at most.
    KEPT = 256

    def __init__(self, users, timeout):
        self.users = users
        self.timeout = timeout
        self._sessions = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, project_id):
        with self._lock:
            session = self._sessions.pop(project_id, None)
            if session is None:
                session = self.users.admin_session(project_id, self.timeout)
            self._sessions[project_id] = session
            while len(self._sessions) > self.KEPT:
                self._sessions.popitem(last=False)
        return session

    def forget(self, project_id):
        """Drop the project's session (the project is being deleted)."""
        with self._lock:
            self._sessions.pop(project_id, None)


class _Queues(object):
    """Zaqar v2 queues of one project, as the stack domain admin."""

    def __init__(self, session, interface, region, client_id,
                 user_message=SIGNALS_UNREACHABLE):
        self.session = session
        self.interface = interface
        self.region = region
        self.client_id = client_id
        self.user_message = user_message
        self._root = None

    def _request(self, method, path, action, **kwargs):
        try:
            if self._root is None:
                url = self.session.get_endpoint(
                    service_type='messaging', interface=self.interface,
                    region_name=self.region)
                if not url:
                    raise base.SignalBackendError(
                        'Zaqar is not set up correctly; ask the '
                        'operator.',
                        'The catalog has no %s messaging endpoint in '
                        'region %s' % (self.interface, self.region))
                self._root = versioned_endpoint(url)
            return self.session.request(
                self._root + path, method,
                headers={'Client-ID': self.client_id}, **kwargs)
        except ks_exc.ClientException as err:
            raise backend_error(action, err, self.user_message)

    def names(self):
        """The names of every queue of the project."""
        names = []
        marker = None
        while True:
            params = {'limit': 20}
            if marker:
                params['marker'] = marker
            page = self._request('GET', '/queues', 'listing queues',
                                 params=params)
            queues = _json(page, 'listing queues').get('queues', [])
            names.extend(queue['name'] for queue in queues)
            if len(queues) < 20:
                return names
            marker = queues[-1]['name']

    def create(self, name):
        self._request('PUT', '/queues/%s' % name, 'creating queue %s' % name,
                      json={})

    def delete(self, name):
        self._request('DELETE', '/queues/%s' % name,
                      'deleting queue %s' % name)

    def claim(self, name, ttl, limit):
        """Claim up to ``limit`` messages: [(id, claim id, body)]."""
        action = 'claiming messages of queue %s' % name
        resp = self._request('POST', '/queues/%s/claims' % name, action,
                             params={'limit': limit},
                             json={'ttl': ttl, 'grace': 60})
        if resp.status_code == 204:
            return []
        try:
            return claimed_messages(_json(resp, action))
        except (KeyError, IndexError, TypeError) as err:
            raise backend_error(action, 'unexpected answer (%s)'
                                % type(err).__name__)

    def post(self, name, body, ttl):
        """Post one message (its body is never logged)."""
        self._request('POST', '/queues/%s/messages' % name,
                      'posting to queue %s' % name,
                      json={'messages': [{'body': body, 'ttl': ttl}]})

    def pop(self, name, limit):
        """Delete up to ``limit`` of the oldest messages; returns how many.
        """
        action = 'popping messages of queue %s' % name
        resp = self._request('DELETE', '/queues/%s/messages' % name, action,
                             params={'pop': limit})
        if resp.status_code == 204 or not resp.content:
            return 0
        return len(_json(resp, action).get('messages') or [])

    def message_count(self, name):
        """How many messages the queue holds (claimed or not)."""
        action = 'reading the stats of queue %s' % name
        resp = self._request('GET', '/queues/%s/stats' % name, action)
        try:
            return int(_json(resp, action)['messages']['total'])
        except (KeyError, TypeError, ValueError) as err:
            raise backend_error(action, 'unexpected answer (%s)'
                                % type(err).__name__, self.user_message)

    def delete_message(self, name, message_id, claim_id):
        self._request('DELETE', '/queues/%s/messages/%s' % (name, message_id),
                      'deleting message %s of queue %s' % (message_id, name),
                      params={'claim_id': claim_id})


def _json(resp, action):
    try:
        return resp.json()
    except ValueError:
        raise backend_error(action, 'the answer is not JSON')


class ZaqarSignalDriver(base.SignalDriver):
    """Signals posted by the server to a per-deployment Zaqar queue."""

    pull = True

    @classmethod
    def list_opts(cls):
        return [(GROUP, OPTS)]

    def __init__(self, conf):
        super().__init__(conf)
        self.users = stack_users.StackUsers(conf, 'ZAQAR_SIGNAL')
        self.opts = conf.zaqar
        self.region = self.opts.region_name or conf.heat_signal.region_name
        # One Client-ID per process, as Zaqar asks of its clients.
        self.client_id = str(uuid.uuid4())
        self._sessions = AdminSessions(self.users, self.opts.timeout)

    def validate(self, context, deployment):
        pass

    def _queues(self, project_id):
        return _Queues(self._sessions.get(project_id),
                       self.opts.endpoint_type, self.region, self.client_id)

    def create_signal(self, context, deployment):
        name = stack_users.user_name(deployment.id)
        description = ('heat_deploy deployment %s of project %s '
                       '(ZAQAR_SIGNAL)' % (deployment.id, deployment.tenant))
        project_id = self.users.project(project_name(deployment.id),
                                        description)
        queue = queue_name(deployment)
        try:
            # heat_deploy reads the queue there.
            self.users.grant(project_id)
            queues = self._queues(project_id)
            queues.create(queue)
        except Exception:
            if (deployment.attempt or 1) == 1:
                # A new deployment that will not be stored: nothing of it
                # may stay behind.
                self._sessions.forget(project_id)
                self.users.delete('project', project_id)
            raise
        # Re-derived: the old password goes with the old attempt, which
        # keeps it until the new queue is there.
        user_id, password = self.users.set_up_user(name, project_id,
                                                   description)
        self._delete_other_queues(queues, queue)
        return self.users.credential_inputs(
            name, user_id, password, project_id) + [
            base.string_input('deploy_queue_id', queue,
                              'ID of queue for signaling')]

    @staticmethod
    def _delete_other_queues(queues, keep):
        """Delete the queues of earlier attempts; a failure only logs: the
        deployment's deletion takes every queue of its project.
        """
        try:
            for old in queues.names():
                if old != keep:
                    queues.delete(old)
        except base.SignalBackendError as err:
            LOG.warning('Queues of earlier attempts stay until the next one '
                        'or the deployment\'s deletion: %s',
                        err.operator_fault_string)

    def delete_signal(self, context, deployment):
        project_id = self.users.find_project(project_name(deployment.id))
        try:
            if project_id is not None:
                queues = self._queues(project_id)
                for queue in queues.names():
                    queues.delete(queue)
        finally:
            # Credentials go even if Zaqar is away: the empty queue left
            # behind is harmless.
            self.users.delete_user(stack_users.user_name(deployment.id))
            if project_id is not None:
                self._sessions.forget(project_id)
                self.users.delete('project', project_id)

    def fetch_outputs(self, context, deployment):
        if not deployment.stack_user_project_id:
            return None
        queue = queue_name(deployment)
        queues = self._queues(deployment.stack_user_project_id)
        pulled = []
        for message_id, claim_id, body in queues.claim(
                queue, self.opts.claim_ttl, self.opts.messages_per_pull):
            if isinstance(body, dict):
                pulled.append(base.PulledSignal(body, (message_id, claim_id)))
                continue
            # Not outputs (nor what heat-config-notify posts): dropped, or
            # it would come back forever.
            LOG.warning('Dropping message %(message)s of queue %(queue)s: '
                        'its body is not a JSON object of outputs',
                        {'message': message_id, 'queue': queue})
            queues.delete_message(queue, message_id, claim_id)
        return pulled or None

    def acknowledge_outputs(self, context, deployment, receipts):
        queue = queue_name(deployment)
        queues = self._queues(deployment.stack_user_project_id)
        for message_id, claim_id in receipts:
            queues.delete_message(queue, message_id, claim_id)
