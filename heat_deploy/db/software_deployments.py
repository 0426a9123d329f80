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

"""Queries of software deployments; every function runs in the caller's
session.

Every write bumps ``generation``, which the API exposes as the ETag; an
update either names the generations it was based on (If-Match) or is one
UPDATE statement, so no change is ever silently lost.

A deployment created with a signal transport has a config derived by the
service: ``source_config_id`` is the config the user chose, ``config_id``
the derived one, which lives and dies with the deployment.
"""

import functools

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as db_utils
from oslo_utils import timeutils
import sqlalchemy as sa

from heat_deploy.db import attempts
from heat_deploy.db import models
from heat_deploy.db import prepared
from heat_deploy.db import quota
from heat_deploy.db import server_metadata
from heat_deploy.db import software_configs
from heat_deploy import exception
from heat_deploy import lifecycle

Model = models.SoftwareDeployment
Config = models.SoftwareConfig
_TABLE = Model.__table__


class Deployment(object):
    """A deployment as read from the database, detached from any session.

    A deadline that passed shows at once: the deployment reads as FAILED
    even while its stored row, not yet swept, still says IN_PROGRESS.

    :ivar etag: the generation, as the ETag value.
    :ivar deadline_time: the next deadline of an IN_PROGRESS deployment,
        or the one that ended it; else None.
    """

    FIELDS = ('id', 'tenant', 'server_id', 'config_id', 'source_config_id',
              'input_values', 'output_values', 'action', 'status',
              'status_reason', 'stack_user_project_id', 'created_at',
              'updated_at', 'generation', 'attempt', 'timeout',
              'delivery_timeout', 'started_at', 'deadline_at',
              'delivery_deadline_at', 'delivered_at', 'ended_at',
              'ended_by', 'late_output_values', 'notify_url',
              'notify_secret')

    def __init__(self, row, now=None):
        for name in self.FIELDS:
            setattr(self, name, getattr(row, name))
        self.transport = row.signal_transport
        # Set by the create or PUT that set the webhook secret, which
        # shows it once.
        self.new_notify_secret = None
        self._settle(now or timeutils.utcnow())

    def changed(self, values, now):
        """Take the values just written to the deployment's row."""
        for name, value in values.items():
            setattr(self, name, value)
        self._settle(now)

    def _settle(self, now):
        self.etag = str(self.generation)
        ending = lifecycle.passed_deadline(self, now)
        if ending is not None:
            _end(self, ending)
        if self.status == lifecycle.IN_PROGRESS:
            self.deadline_time = lifecycle.next_deadline(self)
        elif self.ended_by in lifecycle.DEADLINES:
            self.deadline_time = self.ended_at
        else:
            self.deadline_time = None


def _end(item, ending):
    item.status = lifecycle.FAILED
    item.status_reason = ending.reason
    item.ended_by = ending.ended_by
    item.ended_at = ending.time


def visible(ctx, stack_user_role):
    """Deployments the caller may see.

    Its own project's; and, for a stack user (a caller with the stack user
    role), those naming its project as stack_user_project_id. Heat shares
    them with every caller of that project, so any member could name
    another project there and push deployments into its views; here only
    stack users see them.
    """
    return _visible_to(ctx.is_admin, stack_user_role in ctx.roles,
                       ctx.project_id)


def _visible_to(is_admin, stack_user, project_id, columns=Model):
    """See visible(); ``project_id`` may be a bound parameter.

    :param columns: the mapped class, or the table's columns for
        statements run without the ORM.
    """
    if is_admin:
        return sa.true()
    own = columns.tenant == project_id
    if stack_user:
        return sa.or_(own, columns.stack_user_project_id == project_id)
    return own


def fetch(session, ctx, deployment_id, stack_user_role, for_update=False):
    """The visible deployment row, or DeploymentNotFound.

    :param for_update: lock the row until the transaction ends.
    """
    query = sa.select(Model).where(Model.id == deployment_id,
                                   visible(ctx, stack_user_role))
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise exception.DeploymentNotFound(deployment_id=deployment_id)
    return row


def fetch_with_config(connection, ctx, deployment_id, stack_user_role, now):
    """The visible deployment, locked, and its config's document.

    One statement, the signal path's only read, on a SQLAlchemy Core
    connection: the signal path writes with store_signal_result, and a
    branch that changes more reads the row again in a session with
    fetch(for_update=True). On PostgreSQL only the deployment row is
    locked; MariaDB and MySQL 5.7 cannot name the table to lock, and lock
    the config row too, for as long as the signal transaction lasts.

    :returns: (Deployment, the config's document).
    :raises heat_deploy.exception.DeploymentNotFound: missing or not
        visible to the caller.
    """
    found = connection.execute(_locked_with_config(
        connection.dialect.name, ctx.is_admin,
        stack_user_role in ctx.roles), {
            'deployment_id': deployment_id, 'project_id': ctx.project_id,
    }).one_or_none()
    if found is None:
        raise exception.DeploymentNotFound(deployment_id=deployment_id)
    return Deployment(found, now), found.config


@functools.lru_cache(maxsize=None)
def _locked_with_config(dialect_name, is_admin, stack_user):
    """The statement of fetch_with_config, built once per kind of caller."""
    configs = Config.__table__
    lock = {'of': _TABLE} if dialect_name == 'postgresql' else {}
    return sa.select(*_TABLE.c, configs.c.config).join(
        configs, configs.c.id == _TABLE.c.config_id).where(
        _TABLE.c.id == sa.bindparam('deployment_id'),
        _visible_to(is_admin, stack_user, sa.bindparam('project_id'),
                    _TABLE.c)
    ).with_for_update(**lock)


def deadline_passed(now):
    """SQL: the deployment is IN_PROGRESS past one of its deadlines.

    The same rule as heat_deploy.lifecycle.passed_deadline.
    """
    return sa.and_(
        Model.status == lifecycle.IN_PROGRESS,
        sa.or_(
            sa.and_(Model.deadline_at.is_not(None),
                    Model.deadline_at <= now),
            sa.and_(Model.delivery_deadline_at.is_not(None),
                    Model.delivery_deadline_at
                    <= sa.func.coalesce(Model.delivered_at, now))))


def _status_is(status, now):
    """SQL: the deployment's status as views show it is ``status``."""
    if status == lifecycle.IN_PROGRESS:
        return sa.and_(Model.status == status, sa.not_(deadline_passed(now)))
    if status == lifecycle.FAILED:
        return sa.or_(Model.status == status, deadline_passed(now))
    return Model.status == status


def store_passed_deadline(session, row, now):
    """Store a passed deadline of a fetched (locked) row as its end.

    :returns: the Ending stored, or None if no deadline has passed.
    """
    ending = lifecycle.passed_deadline(row, now)
    if ending is not None:
        _end(row, ending)
        save(session, row)
    return ending


def passed_deadlines(session, now, limit):
    """(id, generation) of up to ``limit`` rows past a deadline."""
    return session.execute(
        sa.select(Model.id, Model.generation).where(
            deadline_passed(now)).limit(limit)).all()


def claim_passed_deadline(session, deployment_id, generation, now):
    """Store the passed deadline of a row still at ``generation``.

    The conditional UPDATE is the claim: of several workers sweeping the
    same row, exactly one changes it.

    :returns: the row after the change, or None if another process changed
        it first (or its deadline has not passed).
    """
    row = session.execute(
        sa.select(Model).where(Model.id == deployment_id,
                               Model.generation == generation)
    ).scalar_one_or_none()
    ending = row and lifecycle.passed_deadline(row, now)
    if not ending:
        return None
    claimed = session.execute(
        sa.update(Model).where(
            Model.id == deployment_id, Model.generation == generation,
            Model.status == lifecycle.IN_PROGRESS).values(
            status=lifecycle.FAILED, status_reason=ending.reason,
            ended_by=ending.ended_by, ended_at=ending.time, updated_at=now,
            generation=Model.generation + 1).execution_options(
            synchronize_session=False)).rowcount
    if claimed != 1:
        return None
    session.refresh(row)
    return row


def mark_delivered(session, server_id, config_ids, now, tenant=None,
                   ctx=None, stack_user_role=None):
    """Record that the server fetched these configs of its deployments.

    Only the first fetch of an IN_PROGRESS attempt counts (one that ended
    waits for nothing); a deployment whose config the fetch did not
    include (one created meanwhile) is left alone.

    :param tenant: the project whose deployments the server fetched (the
        metadata URL); otherwise those visible to ``ctx``.
    """
    owner = (Model.tenant == tenant if tenant is not None
             else visible(ctx, stack_user_role))
    session.execute(sa.update(Model).where(
        owner, Model.server_id == server_id,
        Model.config_id.in_(config_ids),
        Model.status == lifecycle.IN_PROGRESS,
        Model.delivered_at.is_(None)).values(delivered_at=now)
        .execution_options(synchronize_session=False))


def config_not_found(config_id):
    return exception.Invalid(reason='Config with id %s not found'
                             % config_id)


def derived_config_owner(session, config_id):
    """The deployment a config was derived for, or None."""
    return session.execute(
        sa.select(Model.id).where(Model.config_id == config_id,
                                  Model.signal_transport.is_not(None))
    ).scalar()


def check_quota(session, ctx, limit):
    """Count one more deployment of the caller's project (see
    quota.take).
    """
    quota.take(session.connection(), ctx, quota.DEPLOYMENTS, limit)


def insert(session, ctx, deployment_id, values):
    """Add a deployment owned by the caller's project.

    :param values: the row's columns (config_id, server_id, ...).
    :raises heat_deploy.exception.Invalid: the config was deleted after it
        was checked.
    :returns: the new row.
    """
    row = Model(id=deployment_id, created_at=timeutils.utcnow(),
                tenant=ctx.project_id, generation=1, **values)
    session.add(row)
    try:
        session.flush()
    except db_exc.DBReferenceError:
        raise config_not_found(values['config_id'])
    server_metadata.touch(session, row.tenant, row.server_id)
    return row


def update(connection, ctx, deployment_id, values, stack_user_role, now,
           if_match=None):
    """Store new values as one UPDATE; returns the row after it.

    The hot path of the API (every agent's status report), so it is one
    statement built once per kind of change and of caller, run on a Core
    connection; on databases that have UPDATE ... RETURNING (PostgreSQL,
    SQLite) it also reads the row back, elsewhere a SELECT follows.

    :param values: columns to set, already validated; not config_id,
        which changes the server's document (a PUT that names one reads
        the row first).
    :param now: the change's time (updated_at, and ended_at when the
        status ends the attempt).
    :param if_match: generations the caller's copy may have (from
        If-Match); None applies the change whatever the current one is.
    :raises heat_deploy.exception.DeploymentNotFound: not visible.
    :raises heat_deploy.exception.PreconditionFailed: changed meanwhile.
    :returns: the row as a read-only SQLAlchemy Row.
    """
    dialect = connection.dialect
    stack_user = stack_user_role in ctx.roles
    statement = _update_statement(
        dialect.update_returning, tuple(sorted(values)), ctx.is_admin,
        stack_user, if_match is not None,
        values.get('status') in (lifecycle.COMPLETE, lifecycle.FAILED))
    params = {'v_' + name: value for name, value in values.items()}
    params.update(deployment_id=deployment_id, project_id=ctx.project_id,
                  now=now, if_match=list(if_match or ()))
    result = connection.execute(statement, params)
    if dialect.update_returning:
        row = result.one_or_none()
        changed = row is not None
    else:
        changed = result.rowcount == 1
        row = None
    if row is None:
        row = connection.execute(_select_statement(ctx.is_admin, stack_user),
                                 params).one_or_none()
        if row is None:
            raise exception.DeploymentNotFound(deployment_id=deployment_id)
    if not changed:
        raise precondition_failed(row)
    return row


@functools.lru_cache(maxsize=None)
def _update_statement(returning, names, is_admin, stack_user, if_match,
                      ends):
    """The UPDATE of update(), with bound parameters, built once."""
    now = sa.bindparam('now', type_=_TABLE.c.updated_at.type)
    values = {_TABLE.c[name]: sa.bindparam('v_' + name,
                                           type_=_TABLE.c[name].type)
              for name in names}
    values.update({_TABLE.c.updated_at: now,
                   _TABLE.c.generation: _TABLE.c.generation + 1})
    if ends:
        values[_TABLE.c.ended_at] = sa.func.coalesce(_TABLE.c.ended_at, now)
        # The PUT's status is how the attempt ended now, also when a sweep
        # stored a passed deadline first (as when none had).
        values[_TABLE.c.ended_by] = sa.case(
            (_TABLE.c.ended_by.in_(lifecycle.DEADLINES), None),
            else_=_TABLE.c.ended_by)
    statement = sa.update(_TABLE).where(
        _TABLE.c.id == sa.bindparam('deployment_id'),
        _visible_to(is_admin, stack_user, sa.bindparam('project_id'),
                    _TABLE.c)).values(values)
    if if_match:
        statement = statement.where(_TABLE.c.generation.in_(
            sa.bindparam('if_match', expanding=True)))
    if returning:
        statement = statement.returning(*_TABLE.c)
    return statement


@functools.lru_cache(maxsize=None)
def _select_statement(is_admin, stack_user):
    """SELECT of one visible row by id, without the ORM, built once."""
    return sa.select(_TABLE).where(
        _TABLE.c.id == sa.bindparam('deployment_id'),
        _visible_to(is_admin, stack_user, sa.bindparam('project_id'),
                    _TABLE.c))


def precondition_failed(row):
    return exception.PreconditionFailed(
        reason='Deployment %s was changed by someone else (its ETag is now '
               '"%s"); fetch it again and retry.' % (row.id, row.generation))


def touch_server(session, row):
    """Record that the deployment's server has a changed document."""
    server_metadata.touch(session, row.tenant, row.server_id)


def save(session, row):
    """Write the changes made to a fetched row; bumps its generation.

    :raises heat_deploy.exception.Invalid: the config it names was deleted
        after it was checked.
    """
    row.updated_at = timeutils.utcnow()
    row.generation = row.generation + 1
    # Read before the flush: a failed flush expires the row.
    config_id = row.config_id
    try:
        session.flush()
    except db_exc.DBReferenceError:
        raise config_not_found(config_id)


def store_signal_result(connection, item, values, now):
    """Write what a signal changed in the locked deployment ``item``.

    One UPDATE by primary key, built once (the signal path's only write);
    the row is locked, so the generation it was read with is the current
    one. ``item`` takes the values written.

    :param item: the Deployment fetch_with_config read.
    :param values: output_values, status, status_reason and ended_at.
    """
    values = dict(values, updated_at=now, generation=item.generation + 1)
    params = {'v_' + name: value for name, value in values.items()}
    params['deployment_id'] = item.id
    connection.execute(_STORE_SIGNAL_RESULT, params)
    item.changed(values, now)


_STORE_SIGNAL_RESULT = sa.update(_TABLE).where(
    _TABLE.c.id == sa.bindparam('deployment_id')).values({
        _TABLE.c[name]: sa.bindparam('v_' + name, type_=_TABLE.c[name].type)
        for name in ('output_values', 'status', 'status_reason', 'ended_at',
                     'updated_at', 'generation')})


def _last_changed():
    """When a deployment last changed: updated_at, else created_at."""
    return sa.func.coalesce(Model.updated_at, Model.created_at)


def page(session, ctx, stack_user_role, server_id=None, status=None,
         action=None, updated_before=None, updated_after=None, limit=None,
         marker=None, sort_dir='asc'):
    """Visible deployment rows, filtered, sorted by (created_at, id).

    Without any filter: all of them, oldest first, as Heat lists them.

    :param status: only deployments with this status as views show it
        (a passed deadline counts as FAILED).
    :param action: only deployments with this action.
    :param updated_before: only those last changed (updated_at, or
        created_at if never updated) strictly before this naive UTC time.
    :param updated_after: only those last changed strictly after it.
    :param limit: at most this many; None for all.
    :param marker: id of the last deployment of the previous page. A
        marker the caller cannot see is ignored, as for configs, so it
        reveals nothing about other projects.
    :param sort_dir: ``asc`` (oldest first) or ``desc`` (newest first).
    """
    query = session.query(Model).filter(visible(ctx, stack_user_role))
    if server_id:
        query = query.filter(Model.server_id == server_id)
    if status is not None:
        query = query.filter(_status_is(status, timeutils.utcnow()))
    if action is not None:
        query = query.filter(Model.action == action)
    if updated_before is not None:
        query = query.filter(_last_changed() < updated_before)
    if updated_after is not None:
        query = query.filter(_last_changed() > updated_after)
    marker_row = None
    if marker:
        marker_row = session.query(Model).filter(
            Model.id == marker,
            visible(ctx, stack_user_role)).one_or_none()
    return list(db_utils.paginate_query(
        query, Model, limit, ['created_at', 'id'], marker=marker_row,
        sort_dirs=[sort_dir, sort_dir]))


def delete(session, row):
    """Delete a fetched deployment row, its attempts, and its derived
    config if any.

    :raises heat_deploy.exception.DeploymentNotFound: another delete
        committed after the row was read (which gave its count back).
    """
    attempts.delete_all(session, row.id)
    if not session.execute(sa.delete(Model).where(Model.id == row.id)
                           .execution_options(synchronize_session=False)
                           ).rowcount:
        raise exception.DeploymentNotFound(deployment_id=row.id)
    quota.give_back(session, row.tenant, quota.DEPLOYMENTS)
    if row.signal_transport is not None:
        software_configs.delete_derived(session, row.config_id)
    server_metadata.touch(session, row.tenant, row.server_id)


def server_configs(connection, server_id, ctx=None, stack_user_role=None,
                   tenant=None):
    """The configs of a server's deployments, and whether all were fetched.

    Sorted by config name then config id, configs without a name first
    (Heat sorts by name only and fails on a mix of null and string names).
    A cancelled deployment's config is left out until it runs again.

    :param connection: a SQLAlchemy Connection.
    :param tenant: only this project's deployments (the metadata URL);
        otherwise those visible to ``ctx``.
    :returns: (config rows, whether every IN_PROGRESS one was fetched
        before).
    """
    if tenant is None:
        statement = _server_configs_statement(
            False, ctx.is_admin, stack_user_role in ctx.roles)
        project_id = ctx.project_id
    else:
        statement = _server_configs_statement(True, False, False)
        project_id = tenant
    found = statement.rows(connection, {'server_id': server_id,
                                        'project_id': project_id})
    configs = sorted(found, key=lambda row: (row.name is not None,
                                             row.name or '', row.id))
    return configs, all(row.delivered_at is not None
                        or row.status != lifecycle.IN_PROGRESS
                        for row in found)


@functools.lru_cache(maxsize=None)
def _server_configs_statement(by_tenant, is_admin, stack_user):
    """The prepared SELECT of server_configs(), built once.

    :param by_tenant: the project is the deployments' owner (the metadata
        URL); otherwise whose deployments the caller sees.
    """
    configs = Config.__table__
    project_id = sa.bindparam('project_id')
    owner = (_TABLE.c.tenant == project_id if by_tenant
             else _visible_to(is_admin, stack_user, project_id, _TABLE.c))
    return prepared.PreparedSelect(sa.select(
        *configs.c, _TABLE.c.status, _TABLE.c.delivered_at).join(
        _TABLE, _TABLE.c.config_id == configs.c.id).where(
        _TABLE.c.server_id == sa.bindparam('server_id'),
        sa.or_(_TABLE.c.ended_by.is_(None),
               _TABLE.c.ended_by != lifecycle.CANCELLED),
        owner), name='ServerConfig')
