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

"""Software deployments: a config applied to a server, and its state.

Every write bumps ``generation``, which the API exposes as the ETag; an
update either names the generation it was based on (If-Match) or is applied
as one UPDATE statement, so no change is ever silently lost.
"""

from oslo_utils import uuidutils
import sqlalchemy as sa

from heat_deploy.db import api as db_api
from heat_deploy.db import models
from heat_deploy import exception
from heat_deploy.objects import common
from heat_deploy.objects import signal_rules
from heat_deploy.objects import software_config

Model = models.SoftwareDeployment
Config = models.SoftwareConfig

# Fields a PUT may change, as Heat accepts them.
UPDATABLE = ('config_id', 'input_values', 'output_values', 'action',
             'status', 'status_reason')


def to_dict(row):
    """The API form. updated_time is left out until the first update."""
    result = {
        'id': row.id,
        'config_id': row.config_id,
        'server_id': row.server_id,
        'input_values': row.input_values,
        'output_values': row.output_values,
        'action': row.action,
        'status': row.status,
        'status_reason': row.status_reason,
        'creation_time': common.format_time(row.created_at),
    }
    if row.updated_at is not None:
        result['updated_time'] = common.format_time(row.updated_at)
    return result


class Deployment(object):
    """A deployment as the API returns it, with its ETag."""

    def __init__(self, row):
        self.data = to_dict(row)
        self.etag = str(row.generation)


def _visible(ctx):
    """Deployments the caller may see: own project's, or its stack user's."""
    if ctx.is_admin:
        return sa.true()
    return sa.or_(Model.tenant == ctx.project_id,
                  Model.stack_user_project_id == ctx.project_id)


def _check_config(session, ctx, config_id):
    """The config a deployment may use: one the caller's project can see.

    Another project's config is reported exactly like a missing one.
    """
    try:
        return software_config.fetch(session, ctx, config_id)
    except exception.SoftwareConfigNotFound:
        raise exception.Invalid(reason='Config with id %s not found'
                                % config_id)


@db_api.context_manager.writer
def create(ctx, values, quota):
    """Create a deployment owned by the caller's project.

    :param values: config_id, server_id, input_values, action, status,
        status_reason, stack_user_project_id (validated by the caller).
    :param quota: [quota] max_software_deployments_per_tenant.
    :raises heat_deploy.exception.Invalid: unknown or invisible config.
    :raises heat_deploy.exception.RequestLimitExceeded: quota reached.
    """
    session = ctx.session
    _check_config(session, ctx, values['config_id'])
    common.check_quota(session, ctx, Model, quota, 'software deployments')
    row = Model(id=uuidutils.generate_uuid(), created_at=common.utcnow(),
                tenant=ctx.project_id, generation=1, **values)
    session.add(row)
    session.flush()
    return Deployment(row)


def fetch(session, ctx, deployment_id, for_update=False):
    """The visible deployment row, or DeploymentNotFound.

    :param for_update: lock the row until the transaction ends.
    """
    query = sa.select(Model).where(Model.id == deployment_id, _visible(ctx))
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise exception.DeploymentNotFound(deployment_id=deployment_id)
    return row


@db_api.context_manager.reader
def get(ctx, deployment_id):
    """A visible deployment.

    :raises heat_deploy.exception.DeploymentNotFound: missing or not
        visible to the caller.
    """
    return Deployment(fetch(ctx.session, ctx, deployment_id))


@db_api.context_manager.reader
def list_all(ctx, server_id=None):
    """Visible deployments, oldest first, optionally of one server."""
    query = sa.select(Model).where(_visible(ctx))
    if server_id:
        query = query.where(Model.server_id == server_id)
    query = query.order_by(Model.created_at, Model.id)
    return [to_dict(row) for row in ctx.session.execute(query).scalars()]


@db_api.context_manager.writer
def update(ctx, deployment_id, changes, if_match=None):
    """Apply a PUT: store the given values as they are.

    :param changes: a subset of UPDATABLE, already validated; only truthy
        values are applied, as in Heat, so a PUT never blanks a field.
    :param if_match: generations the caller's copy may have (from
        If-Match); None applies the change whatever the current one is.
    :raises heat_deploy.exception.DeploymentNotFound: not visible.
    :raises heat_deploy.exception.PreconditionFailed: changed meanwhile.
    :raises heat_deploy.exception.Invalid: unknown or invisible config.
    """
    session = ctx.session
    values = {key: value for key, value in changes.items() if value}
    if 'config_id' in values:
        _check_config(session, ctx, values['config_id'])
    values['updated_at'] = common.utcnow()
    values['generation'] = Model.generation + 1
    statement = sa.update(Model).where(
        Model.id == deployment_id, _visible(ctx)).values(**values)
    if if_match is not None:
        statement = statement.where(Model.generation.in_(if_match))
    if session.execute(statement).rowcount != 1:
        row = fetch(session, ctx, deployment_id)
        raise exception.PreconditionFailed(
            reason='Deployment %s was changed by someone else (its ETag is '
                   'now "%s"); fetch it again and retry.'
                   % (deployment_id, row.generation))
    return Deployment(fetch(session, ctx, deployment_id))


@db_api.context_manager.writer
def delete(ctx, deployment_id):
    """Delete a visible deployment."""
    row = fetch(ctx.session, ctx, deployment_id)
    ctx.session.delete(row)


@db_api.context_manager.reader
def server_metadata(ctx, server_id):
    """Full configs of the server's visible deployments.

    Sorted by config name then config id, configs without a name first
    (Heat sorts by name only and fails on a mix of null and string names).
    """
    query = sa.select(Config).join(Model, Model.config_id == Config.id).where(
        Model.server_id == server_id, _visible(ctx))
    rows = ctx.session.execute(query).scalars().all()
    rows.sort(key=lambda row: (row.name is not None, row.name or '', row.id))
    return [software_config.to_dict(row) for row in rows]


@db_api.context_manager.writer
def apply_signal(ctx, deployment_id, details, updated_at=None):
    """Apply a server's signal with Heat's rules (see signal_rules).

    The row is read with a locking read, so two concurrent signals are
    applied one after the other and neither loses outputs.

    :returns: the SignalResult, or None when the signal was ignored because
        the deployment is not IN_PROGRESS.
    """
    session = ctx.session
    row = fetch(session, ctx, deployment_id, for_update=True)
    config = session.get(Config, row.config_id)
    declared = (config.config or {}).get('outputs', [])
    result = signal_rules.apply(row.status, row.output_values, declared,
                                details)
    if result is None:
        return None
    row.output_values = result.output_values
    row.status = result.status
    row.status_reason = result.status_reason
    row.updated_at = updated_at or common.utcnow()
    row.generation = row.generation + 1
    return result
