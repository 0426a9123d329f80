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

"""Software configs: immutable scripts or documents with declared I/O."""

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as db_utils
from oslo_utils import uuidutils
import sqlalchemy as sa

from heat_deploy.db import api as db_api
from heat_deploy.db import models
from heat_deploy import exception
from heat_deploy.objects import common
from heat_deploy.objects import io_schema
from heat_deploy import secret_values

Model = models.SoftwareConfig


def build_document(config=None, inputs=None, outputs=None, options=None):
    """Validated document stored in the ``config`` column.

    :raises heat_deploy.exception.Invalid: bad inputs or outputs.
    """
    return {
        'config': config,
        'inputs': io_schema.normalise_inputs(inputs),
        'outputs': io_schema.normalise_outputs(outputs),
        'options': {} if options is None else options,
    }


def to_dict(row, secret_box=None):
    """Full form, as create, show and the metadata view return it.

    :param secret_box: decrypt secret input values with it (only for the
        server's own metadata URL); without it they are shown as ***.
    """
    doc = row.config or {}
    inputs = doc.get('inputs', [])
    inputs = (secret_values.mask(inputs) if secret_box is None
              else secret_values.reveal(inputs, secret_box))
    return {
        'id': row.id,
        'name': row.name,
        'group': row.group,
        'config': doc.get('config'),
        'inputs': inputs,
        'outputs': doc.get('outputs', []),
        'options': doc.get('options', {}),
        'creation_time': common.format_time(row.created_at),
    }


def to_summary(row, with_project=False):
    """List form; the owner is shown only to administrators."""
    summary = {
        'id': row.id,
        'name': row.name,
        'group': row.group,
        'creation_time': common.format_time(row.created_at),
    }
    if with_project:
        summary['project'] = row.tenant
    return summary


def _visible(ctx):
    """Filter on the projects whose configs the caller may see."""
    if ctx.is_admin:
        return sa.true()
    return Model.tenant == ctx.project_id


def insert(session, ctx, name, group, document, quota):
    """Add a config inside an open writer transaction.

    :param document: from build_document().
    :param quota: [quota] max_software_configs_per_tenant.
    :returns: the new row.
    """
    common.check_quota(session, ctx, Model, quota, 'software configs')
    row = Model(id=uuidutils.generate_uuid(), created_at=common.utcnow(),
                name=name, group=group, config=document,
                tenant=ctx.project_id)
    session.add(row)
    session.flush()
    return row


@db_api.writer
def create(ctx, name, group, document, quota):
    """Create a config owned by the caller's project.

    :raises heat_deploy.exception.RequestLimitExceeded: quota reached.
    :returns: the full form.
    """
    return to_dict(insert(ctx.session, ctx, name, group, document, quota))


def fetch(session, ctx, config_id):
    """The visible config row, or SoftwareConfigNotFound."""
    row = session.execute(
        sa.select(Model).where(Model.id == config_id, _visible(ctx))
    ).scalar_one_or_none()
    if row is None:
        raise exception.SoftwareConfigNotFound(config_id=config_id)
    return row


@db_api.context_manager.reader
def get(ctx, config_id):
    """Full form of a visible config.

    :raises heat_deploy.exception.SoftwareConfigNotFound: missing or
        another project's.
    """
    return to_dict(fetch(ctx.session, ctx, config_id))


@db_api.context_manager.reader
def list_summaries(ctx, limit=None, marker=None):
    """Visible configs, newest first, in pages.

    :param limit: at most this many items; None for all.
    :param marker: id of the last config of the previous page. A marker the
        caller cannot see is ignored, as Heat ignores unknown markers, so it
        reveals nothing about other projects.
    """
    query = ctx.session.query(Model).filter(_visible(ctx))
    marker_row = None
    if marker:
        marker_row = ctx.session.query(Model).filter(
            Model.id == marker, _visible(ctx)).one_or_none()
    query = db_utils.paginate_query(
        query, Model, limit, ['created_at', 'id'], marker=marker_row,
        sort_dirs=['desc', 'desc'])
    return [to_summary(row, with_project=ctx.is_admin) for row in query]


def remove(session, ctx, config_id):
    """Delete a visible config inside an open writer transaction.

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
    session.delete(row)
    try:
        session.flush()
    except db_exc.DBReferenceError:
        # A deployment was created meanwhile; the foreign key noticed.
        raise _referenced(config_id)


def _referenced(config_id):
    return exception.InvalidRestrictedAction(
        reason='Software config with id %s can not be deleted as it is '
               'referenced by a software deployment. Delete the deployment '
               'first.' % config_id)


@db_api.writer
def delete(ctx, config_id):
    """Delete a visible config that no deployment uses."""
    remove(ctx.session, ctx, config_id)
