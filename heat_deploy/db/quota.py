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

"""Per-project quotas, exact under concurrency.

Each project's row of ``project_quota_lock`` counts the configs and the
deployments it owns. A create counts itself with one conditional UPDATE
(``count = count + 1 WHERE count < limit``) in the transaction that
inserts the object; a delete gives its count back in the transaction that
deletes it. So the count is always the number of rows, the check costs one
statement, and two creates of one project are serialised by the row's
lock: on a single server by the UPDATE's lock, on a Galera cluster by the
certification of the row they both write (the loser is retried as a
deadlock).
"""

import functools

from oslo_db import exception as db_exc
import sqlalchemy as sa

from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.db import models
from heat_deploy import exception

USAGE = models.ProjectQuotaLock.__table__
CONFIGS = 'software_configs'
DEPLOYMENTS = 'software_deployments'
_OWNED = {CONFIGS: models.SoftwareConfig.__table__,
          DEPLOYMENTS: models.SoftwareDeployment.__table__}


@functools.lru_cache(maxsize=None)
def _count_statement(kind, limited):
    """UPDATE counting one more ``kind``; only below the limit if limited."""
    column = USAGE.c[kind]
    statement = USAGE.update().where(
        USAGE.c.project_id == sa.bindparam('project')).values(
        {column: column + 1})
    if limited:
        statement = statement.where(column < sa.bindparam('limit'))
    return statement


@functools.lru_cache(maxsize=None)
def _give_back_statement(kind):
    column = USAGE.c[kind]
    return USAGE.update().where(
        USAGE.c.project_id == sa.bindparam('project')).values(
        {column: column - sa.bindparam('count')})


_EXISTS = sa.select(USAGE.c.project_id).where(
    USAGE.c.project_id == sa.bindparam('project'))


def take(connection, ctx, kind, limit):
    """Count one more object of ``kind`` for the caller's project, on the
    Core connection of the transaction that inserts it.

    Admins are not limited, as in Heat, but are counted. Call it in the
    transaction that inserts the object, before the insert.

    :param kind: CONFIGS or DEPLOYMENTS.
    :param limit: the quota; negative means none.
    :raises heat_deploy.exception.RequestLimitExceeded: the project is full.
    :raises heat_deploy.db.engine.SetUpThenRetry: the project's row is
        missing (its first create).
    """
    limited = limit >= 0 and not ctx.is_admin
    counted = connection.execute(_count_statement(kind, limited), {
        'project': ctx.project_id, 'limit': limit}).rowcount
    if counted == 1:
        return
    if connection.execute(_EXISTS, {'project': ctx.project_id}
                          ).first() is None:
        raise engine.SetUpThenRetry(
            functools.partial(_create_usage, ctx.project_id))
    what = kind.replace('_', ' ')
    raise exception.RequestLimitExceeded(
        reason='You have reached the maximum %s per tenant, %d. Please '
               'delete some %s.' % (what, limit, what.split()[-1]))


def give_back(session, project_id, kind, count=1):
    """Count ``count`` fewer objects of ``kind`` for ``project_id``; call it
    in the transaction that deletes them.
    """
    session.connection().execute(_give_back_statement(kind), {
        'project': project_id, 'count': count})


def _create_usage(project_id):
    """Make a project's row, counting what it owns, in a transaction of its
    own: made inside the create's, several first creates of a project would
    deadlock on the gap their inserts share.
    """
    counts = {kind: sa.select(sa.func.count()).select_from(table).where(
        table.c.tenant == project_id).scalar_subquery()
        for kind, table in _OWNED.items()}
    try:
        with engine.context_manager.writer.using(
                context.get_admin_context()) as session:
            session.execute(USAGE.insert().values(project_id=project_id,
                                                  **counts))
    except db_exc.DBDuplicateEntry:
        pass  # another request made it meanwhile
