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

A deployment created with a signal transport has a config derived by the
service (see derived_config): ``source_config_id`` is the config the user
chose, ``config_id`` the derived one, which lives and dies with the
deployment.
"""

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from heat_deploy.db import api as db_api
from heat_deploy.db import models
from heat_deploy import exception
from heat_deploy.objects import common
from heat_deploy.objects import derived_config
from heat_deploy.objects import server_metadata
from heat_deploy.objects import signal_rules
from heat_deploy.objects import software_config

Model = models.SoftwareDeployment
Config = models.SoftwareConfig

DEPLOY_DATA_AVAILABLE = 'Deploy data available'
# Fields a derived config is made from; changing one re-derives it.
DERIVED_FROM = ('action', 'input_values', 'config_id')
NOT_WAITING = 'Not waiting for outputs signal'


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
    """A deployment as read from the database.

    :ivar data: the API form.
    :ivar etag: the generation, as the ETag value.
    """

    def __init__(self, row):
        self.data = to_dict(row)
        self.etag = str(row.generation)
        self.id = row.id
        self.tenant = row.tenant
        self.server_id = row.server_id
        self.action = row.action
        self.status = row.status
        self.input_values = row.input_values
        self.stack_user_project_id = row.stack_user_project_id
        self.transport = row.signal_transport
        self.config_id = row.config_id
        self.source_config_id = row.source_config_id


class Derivation(object):
    """How to derive a deployment's config.

    :ivar transport: the signal transport name.
    :ivar transport_inputs: the inputs its driver returned.
    :ivar reports_outputs: whether servers report back on this transport
        (if not, the deployment is COMPLETE at once, as NO_SIGNAL is).
    :ivar config_quota: [quota] max_software_configs_per_tenant.
    :ivar secret_box: encrypts secret transport inputs.
    """

    def __init__(self, transport, transport_inputs, reports_outputs,
                 config_quota, secret_box):
        self.transport = transport
        self.transport_inputs = transport_inputs
        self.reports_outputs = reports_outputs
        self.config_quota = config_quota
        self.secret_box = secret_box

    def stack_user_project_id(self):
        """The project of the deployment's own user, if the transport made
        one (Heat's deploy_project_id is the stack user project)."""
        for item in self.transport_inputs:
            if item['name'] == 'deploy_project_id':
                return item['value']
        return None

    def status(self):
        if self.reports_outputs:
            return signal_rules.IN_PROGRESS, DEPLOY_DATA_AVAILABLE
        return signal_rules.COMPLETE, NOT_WAITING


STACK_USER_ROLE = 'heat_stack_user'


def _visible(ctx):
    """Deployments the caller may see.

    Its own project's; and, for a stack user (a caller with the
    heat_stack_user role), those naming its project as
    stack_user_project_id. Heat shares them with every caller of that
    project, so any member could name another project there and push
    deployments into its views; here only stack users see them.
    """
    if ctx.is_admin:
        return sa.true()
    own = Model.tenant == ctx.project_id
    if STACK_USER_ROLE in ctx.roles:
        return sa.or_(own, Model.stack_user_project_id == ctx.project_id)
    return own


def _config_not_found(config_id):
    return exception.Invalid(reason='Config with id %s not found'
                             % config_id)


def _check_config(session, ctx, config_id):
    """The config a deployment may use: one the caller's project can see,
    and not the config the service derived for another deployment.

    Another project's config is reported exactly like a missing one.
    """
    try:
        row = software_config.fetch(session, ctx, config_id)
    except exception.SoftwareConfigNotFound:
        raise _config_not_found(config_id)
    owner = session.execute(
        sa.select(Model.id).where(Model.config_id == config_id,
                                  Model.signal_transport.is_not(None))
    ).scalar()
    if owner is not None:
        # Borrowed, it would keep its owner from replacing or deleting it.
        raise exception.Invalid(
            reason='Config %s was derived by the service for deployment %s '
                   'and belongs to it alone; name the config it was derived '
                   'from instead.' % (config_id, owner))
    return row


def _derive(session, ctx, source_id, input_values, server_id, action,
            derivation):
    """Insert the derived config; returns its id."""
    source = software_config.to_dict(_check_config(session, ctx, source_id))
    name, group, document = derived_config.derive(
        source, input_values, server_id, action, derivation.transport,
        derivation.transport_inputs, derivation.secret_box)
    return software_config.insert(session, ctx, name, group, document,
                                  derivation.config_quota).id


@db_api.writer
def create(ctx, values, quota, deployment_id=None, derivation=None):
    """Create a deployment owned by the caller's project.

    :param values: config_id, server_id, input_values, action, status,
        status_reason, stack_user_project_id (validated by the caller).
    :param quota: [quota] max_software_deployments_per_tenant.
    :param deployment_id: id to use (drivers may have put it in URLs).
    :param derivation: a Derivation to derive the config from
        values['config_id'], or None to use that config as it is.
    :raises heat_deploy.exception.Invalid: unknown or invisible config.
    :raises heat_deploy.exception.RequestLimitExceeded: quota reached.
    """
    session = ctx.session
    values = dict(values)
    common.check_quota(session, ctx, Model, quota, 'software deployments')
    if derivation is None:
        _check_config(session, ctx, values['config_id'])
    else:
        values['source_config_id'] = values['config_id']
        values['signal_transport'] = derivation.transport
        values['config_id'] = _derive(
            session, ctx, values['config_id'], values['input_values'],
            values['server_id'], values['action'], derivation)
        values['status'], values['status_reason'] = derivation.status()
        values['stack_user_project_id'] = (
            derivation.stack_user_project_id()
            or values.get('stack_user_project_id'))
    row = Model(id=deployment_id or uuidutils.generate_uuid(),
                created_at=common.utcnow(), tenant=ctx.project_id,
                generation=1, **values)
    session.add(row)
    try:
        session.flush()
    except db_exc.DBReferenceError:
        # The config was deleted after _check_config saw it.
        raise _config_not_found(values['config_id'])
    server_metadata.touch(session, row.tenant, row.server_id)
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


def _precondition_failed(session, ctx, deployment_id):
    row = fetch(session, ctx, deployment_id)
    return exception.PreconditionFailed(
        reason='Deployment %s was changed by someone else (its ETag is now '
               '"%s"); fetch it again and retry.'
               % (deployment_id, row.generation))


@db_api.writer
def update(ctx, deployment_id, changes, if_match=None):
    """Apply a PUT: store the given values as they are.

    :param changes: a subset of config_id, input_values, output_values,
        action, status, status_reason, already validated; only truthy values
        are applied, as in Heat, so a PUT never blanks a field.
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
    try:
        changed = session.execute(statement).rowcount
    except db_exc.DBReferenceError:
        # The config was deleted after _check_config saw it.
        raise _config_not_found(values['config_id'])
    if changed != 1:
        raise _precondition_failed(session, ctx, deployment_id)
    row = fetch(session, ctx, deployment_id)
    if 'config_id' in values:
        server_metadata.touch(session, row.tenant, row.server_id)
    return Deployment(row)


def needs_rederive(deployment, changes):
    """Whether a PUT makes a derived deployment need a new config.

    A new action, new input values or a new source config change what the
    server must run; the agent runs a config id once, so it gets a new one.
    """
    if deployment.transport is None:
        return False
    return bool(
        (changes.get('action') and changes['action'] != deployment.action)
        or changes.get('input_values')
        or (changes.get('config_id') not in (None, deployment.config_id,
                                             deployment.source_config_id)))


@db_api.writer
def rederive(ctx, deployment_id, changes, derivation, if_match=None):
    """Apply a PUT that gives a derived deployment a new config.

    The new derived config replaces the old one, which is deleted; the
    deployment is IN_PROGRESS again (COMPLETE for transports that do not
    report), unless the PUT itself sets a status.

    :returns: the updated Deployment.
    """
    session = ctx.session
    row = fetch(session, ctx, deployment_id, for_update=True)
    if if_match is not None and row.generation not in if_match:
        raise _precondition_failed(session, ctx, deployment_id)
    values = {key: value for key, value in changes.items() if value}
    old_config_id = row.config_id
    row.source_config_id = values.pop('config_id', row.source_config_id)
    row.input_values = values.pop('input_values', row.input_values)
    row.action = values.pop('action', row.action)
    row.status, row.status_reason = derivation.status()
    row.stack_user_project_id = (derivation.stack_user_project_id()
                                 or row.stack_user_project_id)
    for key, value in values.items():
        setattr(row, key, value)
    row.config_id = _derive(session, ctx, row.source_config_id,
                            row.input_values, row.server_id, row.action,
                            derivation)
    row.updated_at = common.utcnow()
    row.generation = row.generation + 1
    session.flush()
    session.execute(sa.delete(Config).where(Config.id == old_config_id))
    server_metadata.touch(session, row.tenant, row.server_id)
    return Deployment(row)


@db_api.writer
def delete(ctx, deployment_id):
    """Delete a visible deployment, and its derived config if it has one.

    :returns: the deleted Deployment, for transport clean-up.
    """
    session = ctx.session
    row = fetch(session, ctx, deployment_id)
    deleted = Deployment(row)
    session.delete(row)
    session.flush()
    if row.signal_transport is not None:
        session.execute(sa.delete(Config).where(Config.id == row.config_id))
    server_metadata.touch(session, row.tenant, row.server_id)
    return deleted


@db_api.context_manager.reader
def server_metadata_list(ctx, server_id, tenant=None, secret_box=None):
    """Full configs of the server's deployments.

    Sorted by config name then config id, configs without a name first
    (Heat sorts by name only and fails on a mix of null and string names).

    :param tenant: only this project's deployments (the metadata URL);
        default: those visible to the caller.
    :param secret_box: reveal secret inputs (only for the server itself).
    """
    query = sa.select(Config).join(Model, Model.config_id == Config.id).where(
        Model.server_id == server_id)
    if tenant is None:
        query = query.where(_visible(ctx))
    else:
        query = query.where(Model.tenant == tenant)
    rows = ctx.session.execute(query).scalars().all()
    rows.sort(key=lambda row: (row.name is not None, row.name or '', row.id))
    return [software_config.to_dict(row, secret_box) for row in rows]


@db_api.writer
def apply_signal(ctx, deployment_id, details, updated_at=None):
    """Apply a server's signal with Heat's rules (see signal_rules).

    The row is read with a locking read, so two concurrent signals are
    applied one after the other and neither loses outputs.

    :returns: (SignalResult or None when the signal was ignored because the
        deployment is not IN_PROGRESS, the Deployment after the signal).
    """
    session = ctx.session
    row = fetch(session, ctx, deployment_id, for_update=True)
    config = session.get(Config, row.config_id)
    declared = (config.config or {}).get('outputs', [])
    result = signal_rules.apply(row.status, row.output_values, declared,
                                details)
    if result is not None:
        row.output_values = result.output_values
        row.status = result.status
        row.status_reason = result.status_reason
        row.updated_at = updated_at or common.utcnow()
        row.generation = row.generation + 1
        session.flush()
    return result, Deployment(row)
