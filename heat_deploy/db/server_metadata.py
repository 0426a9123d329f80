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

"""Queries of each server's metadata state (ETag, Last-Modified, URL)."""

import time

from oslo_db import exception as db_exc
import sqlalchemy as sa

from heat_deploy.db import models

Model = models.ServerMetadata


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
    now = int(time.time())
    changed = session.execute(
        sa.update(Model).where(Model.tenant == tenant,
                               Model.server_id == server_id).values(
            revision=Model.revision + 1,
            last_modified=sa.case(
                (Model.last_modified + 1 > now, Model.last_modified + 1),
                else_=now))).rowcount
    if not changed:
        _insert(session, tenant, server_id)


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


def ensure(session, tenant, server_id):
    """The server's row, created on first use."""
    row = get(session.connection(), tenant, server_id)
    if row is None:
        row = _insert(session, tenant, server_id)
    return row


def revoke(session, tenant, server_id):
    """Invalidate the server's metadata URL; a new one replaces it."""
    ensure(session, tenant, server_id)
    session.execute(
        sa.update(Model).where(Model.tenant == tenant,
                               Model.server_id == server_id).values(
            credential_generation=Model.credential_generation + 1,
            revision=Model.revision + 1))
