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

"""Helpers shared by the object modules."""

import functools

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa

from heat_deploy import context
from heat_deploy.db import api as db_api
from heat_deploy.db import models
from heat_deploy import exception

TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def format_time(value):
    """Heat's timestamp format: UTC, whole seconds, literal Z."""
    return value.strftime(TIME_FORMAT) if value is not None else None


def utcnow():
    """Naive UTC now, as stored in the database."""
    return timeutils.utcnow()


def lock_project_quota(session, project_id):
    """Serialise quota-checked creates of one project until commit.

    Two concurrent creates could otherwise both see "one below the limit"
    and both insert. The lock row is created on first use, in a
    transaction of its own: created inside this one, several first creates
    of a project would deadlock on the gap their locking reads share.

    :raises heat_deploy.db.api.SetUpThenRetry: the row is missing.
    """
    query = sa.select(models.ProjectQuotaLock.project_id).where(
        models.ProjectQuotaLock.project_id == project_id).with_for_update()
    if session.execute(query).first() is None:
        raise db_api.SetUpThenRetry(
            functools.partial(_create_quota_lock, project_id))


def _create_quota_lock(project_id):
    try:
        with db_api.context_manager.writer.using(
                context.get_admin_context()) as session:
            session.add(models.ProjectQuotaLock(project_id=project_id))
    except db_exc.DBDuplicateEntry:
        pass  # another request made it meanwhile


def check_quota(session, ctx, model, limit, what):
    """Raise RequestLimitExceeded when the caller's project is full.

    Admins are not limited, as in Heat. Must run inside the writer
    transaction that inserts the new row.
    """
    if limit < 0 or ctx.is_admin:
        return
    lock_project_quota(session, ctx.project_id)
    count = session.execute(
        sa.select(sa.func.count()).select_from(model).where(
            model.tenant == ctx.project_id)).scalar()
    if count >= limit:
        raise exception.RequestLimitExceeded(
            reason='You have reached the maximum %s per tenant, %d. Please '
                   'delete some %s.' % (what, limit, what.split()[-1]))
