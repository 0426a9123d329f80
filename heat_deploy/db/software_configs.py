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

"""Queries of software configs; every function runs in the caller's session.
"""

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as db_utils
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from heat_deploy.db import models
from heat_deploy.db import quota
from heat_deploy import exception

Model = models.SoftwareConfig


def visible(ctx):
    """Filter on the projects whose configs the caller may see."""
    if ctx.is_admin:
        return sa.true()
    return Model.tenant == ctx.project_id


def check_quota(connection, ctx, limit):
    """Count one more config of the caller's project (see quota.take)."""
    quota.take(connection, ctx, quota.CONFIGS, limit)


def insert(connection, ctx, name, group, document):
    """Add a config owned by the caller's project, on a Core connection.

    :param document: the stored document (config, inputs, outputs,
        options), already validated.
    :returns: the new row, not attached to the session.
    """
    values = {'id': uuidutils.generate_uuid(),
              'created_at': timeutils.utcnow(), 'name': name,
              'group': group, 'config': document, 'tenant': ctx.project_id}
    # Without the ORM's unit of work, which costs more than the INSERT.
    connection.execute(_INSERT, values)
    return Model(**values)


_INSERT = sa.insert(Model.__table__)


def fetch(session, ctx, config_id):
    """The visible config row, or SoftwareConfigNotFound."""
    row = session.execute(
        sa.select(Model).where(Model.id == config_id, visible(ctx))
    ).scalar_one_or_none()
    if row is None:
        raise exception.SoftwareConfigNotFound(config_id=config_id)
    return row


def page(session, ctx, limit=None, marker=None):
    """Visible config rows, newest first.

    :param limit: at most this many; None for all.
    :param marker: id of the last config of the previous page. A marker the
        caller cannot see is ignored, as Heat ignores unknown markers, so it
        reveals nothing about other projects.
    """
    query = session.query(Model).filter(visible(ctx))
    marker_row = None
    if marker:
        marker_row = session.query(Model).filter(
            Model.id == marker, visible(ctx)).one_or_none()
    return list(db_utils.paginate_query(
        query, Model, limit, ['created_at', 'id'], marker=marker_row,
        sort_dirs=['desc', 'desc']))


def delete(session, ctx, config_id):
    """Delete a visible config that no deployment uses; returns its row.

    :raises heat_deploy.exception.SoftwareConfigNotFound: not visible.
    :raises heat_deploy.exception.InvalidRestrictedAction: a deployment
        still uses it.
    """
    row = fetch(session, ctx, config_id)
    in_use = session.execute(
        sa.select(models.SoftwareDeployment.id).where(
            models.SoftwareDeployment.config_id == config_id).limit(1)
    ).first()
    if in_use is not None:
        raise _referenced(config_id)
    try:
        deleted = session.execute(_delete_statement(config_id)).rowcount
    except db_exc.DBReferenceError:
        # A deployment was created meanwhile; the foreign key noticed.
        raise _referenced(config_id)
    if not deleted:
        # Another delete committed after the read above: its count was
        # given back once, by that delete.
        raise exception.SoftwareConfigNotFound(config_id=config_id)
    quota.give_back(session, row.tenant, quota.CONFIGS)
    return row


def _delete_statement(config_id):
    return sa.delete(Model).where(Model.id == config_id).execution_options(
        synchronize_session=False)


def delete_derived(session, config_id):
    """Delete a derived config whose deployment let go of it."""
    tenant = session.execute(sa.select(Model.tenant).where(
        Model.id == config_id)).scalar()
    if tenant is None:
        return
    if session.execute(_delete_statement(config_id)).rowcount:
        quota.give_back(session, tenant, quota.CONFIGS)


def _referenced(config_id):
    return exception.InvalidRestrictedAction(
        reason='Software config with id %s can not be deleted as it is '
               'referenced by a software deployment. Delete the deployment '
               'first.' % config_id)
