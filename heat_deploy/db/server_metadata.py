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

"""Queries of each server's metadata state (ETag, Last-Modified, URL,
and the ZAQAR_MESSAGE transport's queue).
"""

import inspect
import time
import weakref

from oslo_db import exception as db_exc
import sqlalchemy as sa
from sqlalchemy import orm

from heat_deploy.db import models
from heat_deploy.db import prepared

Model = models.ServerMetadata

POLL_TEMP_URL = 'POLL_TEMP_URL'
ZAQAR_MESSAGE = 'ZAQAR_MESSAGE'
METADATA_TRANSPORTS = (POLL_TEMP_URL, ZAQAR_MESSAGE)

# session.info key: the (tenant, server id) whose document the session's
# transaction changed.
_CHANGED = 'heat_deploy.changed_servers'
_change_listeners = []


def listen_for_changes(callback):
    """Call ``callback(set of (tenant, server id))`` after every commit
    that changed servers' documents (ZAQAR_MESSAGE posts them at once).

    The callback runs in the committing thread, after the commit: it must
    be quick and must not raise (hand the work to another thread). A bound
    method is held weakly: it stops being called when its object goes.
    """
    if inspect.ismethod(callback):
        _change_listeners.append(weakref.WeakMethod(callback))
    else:
        _change_listeners.append(lambda: callback)


def forget_listener(callback):
    for ref in list(_change_listeners):
        if ref() in (callback, None):
            _change_listeners.remove(ref)


def _changed(session, tenant, server_id):
    if _change_listeners:
        session.info.setdefault(_CHANGED, set()).add((tenant, server_id))


@sa.event.listens_for(orm.Session, 'after_commit')
def _after_commit(session):
    changed = session.info.pop(_CHANGED, None)
    if changed:
        for ref in list(_change_listeners):
            callback = ref()
            if callback is None:
                forget_listener(None)
            else:
                callback(changed)


@sa.event.listens_for(orm.Session, 'after_rollback')
def _after_rollback(session):
    session.info.pop(_CHANGED, None)


def _insert(session, tenant, server_id):
    """Add the server's first row.

    Two requests may make the same server's first row at once; the loser
    runs its whole transaction again (a savepoint would not do: MySQL
    keeps the loser's lock on the winner's row, and a deadlock would take
    the savepoint with it), and then finds the row.

    :raises oslo_db.exception.RetryRequest: the row exists meanwhile.
    """
    row = Model(tenant=tenant, server_id=server_id, revision=1,
                last_modified=int(time.time()), credential_generation=1)
    try:
        session.add(row)
        session.flush()
    except db_exc.DBDuplicateEntry as err:
        raise db_exc.RetryRequest(err)
    return row


def touch(session, tenant, server_id):
    """Record a change of the server's document, inside a writer transaction.

    Last-Modified has one-second resolution and agents skip a fetch when it
    did not increase, so it moves to max(now, previous + 1).
    """
    changed = session.execute(
        sa.update(Model).where(Model.tenant == tenant,
                               Model.server_id == server_id).values(
            **_new_revision())).rowcount
    if not changed:
        _insert(session, tenant, server_id)
    _changed(session, tenant, server_id)


def _new_revision():
    """The values of an UPDATE that changes the server's document."""
    now = int(time.time())
    return {'revision': Model.revision + 1,
            'last_modified': sa.case(
                (Model.last_modified + 1 > now, Model.last_modified + 1),
                else_=now)}


def get(connection, tenant, server_id):
    """The server's row, or None if no metadata URL was ever handed out.

    A read-only Row: the agents' polls, most of them answered 304, read
    only this, so it skips the ORM.

    :param connection: a SQLAlchemy Connection (a session's connection()).
    """
    return connection.execute(
        _GET, {'tenant': tenant, 'server_id': server_id}).one_or_none()


_GET = sa.select(Model.__table__).where(
    Model.tenant == sa.bindparam('tenant'),
    Model.server_id == sa.bindparam('server_id'))


def poll_state(connection, tenant, server_id):
    """What an agent's poll needs of the server's row (to check its URL
    and answer 304), or None.

    Each column costs the driver a description to parse on every poll;
    this reads the four the poll uses.

    :param connection: a SQLAlchemy Connection.
    """
    return _POLL_STATE.one_or_none(
        connection, {'tenant': tenant, 'server_id': server_id})


_POLL_STATE = prepared.PreparedSelect(sa.select(
    Model.credential_generation, Model.revision, Model.last_modified,
    Model.metadata_transport).where(
    Model.tenant == sa.bindparam('tenant'),
    Model.server_id == sa.bindparam('server_id')), name='PollStateRow')


def ensure(session, tenant, server_id):
    """The server's row, created on first use."""
    row = get(session.connection(), tenant, server_id)
    if row is None:
        row = _insert(session, tenant, server_id)
    return row


def revoke(session, tenant, server_id, zaqar_password=None):
    """Invalidate the server's metadata URL; a new one replaces it.

    :param zaqar_password: the new sealed password of a ZAQAR_MESSAGE
        server's queue user, if it got one.
    """
    ensure(session, tenant, server_id)
    values = {}
    if zaqar_password is not None:
        values['zaqar_password'] = zaqar_password
    session.execute(
        sa.update(Model).where(Model.tenant == tenant,
                               Model.server_id == server_id).values(
            credential_generation=Model.credential_generation + 1,
            revision=Model.revision + 1, **values))
    _changed(session, tenant, server_id)


def _where(tenant, server_id, *conditions):
    return sa.update(Model).where(Model.tenant == tenant,
                                  Model.server_id == server_id, *conditions)


def choose_transport(session, tenant, server_id, transport, base_url,
                     only_if_unset=False):
    """Set the server's metadata transport; returns the row after it.

    A change is a change of the document (its os-collect-config
    settings), so the server, on whichever transport it is now, gets it.

    :param base_url: the API's URL, for the metadata URLs that a post to
        the queue hands out.
    :param only_if_unset: leave a transport chosen earlier alone.
    """
    row = ensure(session, tenant, server_id)
    current = row.metadata_transport or POLL_TEMP_URL
    if only_if_unset and row.metadata_transport is not None:
        return row
    values = {'metadata_transport': transport,
              'settings_base_url': base_url}
    if current != transport:
        values.update(_new_revision())
    if current == ZAQAR_MESSAGE and transport != ZAQAR_MESSAGE:
        # The queue has no document with the new settings yet.
        values['zaqar_posted_revision'] = None
    session.execute(_where(tenant, server_id).values(**values))
    if current != transport:
        _changed(session, tenant, server_id)
    return get(session.connection(), tenant, server_id)


def reserve_password(session, tenant, server_id, sealed):
    """Keep a sealed queue password unless the server has one already;
    returns the row after it (whose password every set-up then uses).
    """
    session.execute(_where(tenant, server_id,
                           Model.zaqar_password.is_(None)).values(
        zaqar_password=sealed))
    return get(session.connection(), tenant, server_id)


def store_credentials(session, tenant, server_id, project_id, user_id):
    """Record the queue's project and user, once (the document changes:
    its settings now name the queue); returns the row after it.
    """
    if session.execute(_where(tenant, server_id,
                              Model.zaqar_project_id.is_(None)).values(
            zaqar_project_id=project_id, zaqar_user_id=user_id,
            **_new_revision())).rowcount:
        _changed(session, tenant, server_id)
    return get(session.connection(), tenant, server_id)


def mark_posted(session, tenant, server_id, project_id, revision, now):
    """Record that ``revision`` is in the queue of ``project_id`` (again,
    for a post that renews it), unless a later one is; returns whether it
    was recorded.
    """
    return bool(session.execute(_where(
        tenant, server_id, Model.zaqar_project_id == project_id,
        sa.or_(Model.zaqar_posted_revision.is_(None),
               Model.zaqar_posted_revision <= revision)).values(
        zaqar_posted_revision=revision, zaqar_posted_at=now)).rowcount)


def take_post_lease(session, tenant, server_id, now, until):
    """Hold the right to post to the server's queue until ``until`` (epoch
    seconds), unless another process holds it; returns whether we do.

    One poster at a time keeps the queue's documents in order: a slow
    post of an older revision never lands after a newer one.
    """
    return bool(session.execute(_where(
        tenant, server_id,
        sa.or_(Model.zaqar_posting_until.is_(None),
               Model.zaqar_posting_until < now)).values(
        zaqar_posting_until=until)).rowcount)


def release_post_lease(session, tenant, server_id, until):
    """Give back a lease taken with ``until`` (if it is still ours)."""
    session.execute(_where(tenant, server_id,
                           Model.zaqar_posting_until == until).values(
        zaqar_posting_until=None))


def forget_queue(session, tenant, server_id, project_id):
    """Forget the queue of a server that left ZAQAR_MESSAGE; returns
    whether it was forgotten (False: it came back to ZAQAR_MESSAGE, or
    another worker did it).
    """
    return bool(session.execute(_where(
        tenant, server_id, Model.zaqar_project_id == project_id,
        sa.or_(Model.metadata_transport.is_(None),
               Model.metadata_transport != ZAQAR_MESSAGE)).values(
        zaqar_project_id=None, zaqar_user_id=None, zaqar_password=None,
        zaqar_posted_revision=None, zaqar_posted_at=None)).rowcount)


def queue_work(connection, after, limit, renew_before):
    """(tenant, server id) of the servers whose queue has work: a
    ZAQAR_MESSAGE server whose queue does not hold its latest revision, or
    got it before ``renew_before`` (epoch seconds), or a server that left
    ZAQAR_MESSAGE and still has a queue; in key order, after the key
    ``after`` (or from the start).
    """
    query = sa.select(Model.tenant, Model.server_id).where(
        sa.or_(
            sa.and_(Model.metadata_transport == ZAQAR_MESSAGE,
                    sa.or_(Model.zaqar_posted_revision.is_(None),
                           Model.zaqar_posted_revision < Model.revision,
                           Model.zaqar_posted_at < renew_before)),
            sa.and_(Model.zaqar_project_id.is_not(None),
                    sa.or_(Model.metadata_transport.is_(None),
                           Model.metadata_transport != ZAQAR_MESSAGE))))
    if after is not None:
        query = query.where(sa.tuple_(Model.tenant, Model.server_id)
                            > sa.tuple_(*after))
    return [tuple(row) for row in connection.execute(
        query.order_by(Model.tenant, Model.server_id).limit(limit))]
