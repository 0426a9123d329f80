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

"""Per-project quotas, exact under concurrency."""

import functools

from oslo_db import exception as db_exc
import sqlalchemy as sa

from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import models
from heat_deploy import exception

_LOCK_QUERY = sa.select(models.ProjectQuotaLock.project_id).where(
    models.ProjectQuotaLock.project_id == sa.bindparam('project_id')
).with_for_update()


def _lock_project(session, project_id):
    """Serialise quota-checked creates of one project until commit.

    Two concurrent creates could otherwise both see "one below the limit"
    and both insert. The lock row is made on first use in a transaction of
    its own: made inside this one, several first creates of a project
    would deadlock on the gap their locking reads share.

    :raises heat_deploy.db.engine.SetUpThenRetry: the row is missing.
    """
    if session.connection().execute(
            _LOCK_QUERY, {'project_id': project_id}).first() is None:
        raise engine.SetUpThenRetry(
            functools.partial(_create_lock, project_id))


def _create_lock(project_id):
    try:
        with engine.context_manager.writer.using(
                context.get_admin_context()) as session:
            session.add(models.ProjectQuotaLock(project_id=project_id))
    except db_exc.DBDuplicateEntry:
        pass  # another request made it meanwhile


@functools.lru_cache(maxsize=None)
def _count_statement(table):
    return sa.select(sa.func.count()).select_from(table).where(
        table.c.tenant == sa.bindparam('project_id'))


def check(session, ctx, model, limit, what):
    """Raise RequestLimitExceeded when the caller's project is full.

    Admins are not limited, as in Heat. Must run inside the writer
    transaction that inserts the new row, before any other plain read of
    it: MySQL takes a transaction's snapshot at its first plain read, and a
    count from a snapshot older than the lock would miss rows that other
    creates committed meanwhile.

    :param model: the model whose rows count (tenant column).
    :param limit: the quota; negative means none.
    :param what: plural name for the message, e.g. "software configs".
    """
    if limit < 0 or ctx.is_admin:
        return
    _lock_project(session, ctx.project_id)
    count = session.connection().execute(
        _count_statement(model.__table__),
        {'project_id': ctx.project_id}).scalar()
    if count >= limit:
        raise exception.RequestLimitExceeded(
            reason='You have reached the maximum %s per tenant, %d. Please '
                   'delete some %s.' % (what, limit, what.split()[-1]))
