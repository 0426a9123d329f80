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

"""Queries of deployments' earlier attempts; every function runs in the
caller's session.

The current attempt is the deployment's own row; when a new one starts,
the current one is copied here as it ended (see
heat_deploy.db.models.SoftwareDeploymentAttempt).
"""

import sqlalchemy as sa

from heat_deploy.db import models
from heat_deploy import lifecycle

Model = models.SoftwareDeploymentAttempt


def archive(session, row, now, keep):
    """Copy a deployment row's current attempt into the history.

    An attempt still IN_PROGRESS ends now as superseded by the next one.
    Attempts beyond the newest ``keep`` (the new current one included) are
    deleted.

    :param row: the deployment row, locked, any passed deadline stored.
    """
    status, reason = row.status, row.status_reason
    if status == lifecycle.IN_PROGRESS:
        status = lifecycle.FAILED
        reason = lifecycle.superseded_reason(row.attempt + 1)
    session.add(Model(
        deployment_id=row.id, number=row.attempt, config_id=row.config_id,
        action=row.action, status=status, status_reason=reason,
        output_values=row.output_values,
        late_output_values=row.late_output_values,
        started_at=row.started_at or row.created_at,
        delivered_at=row.delivered_at, ended_at=row.ended_at or now))
    session.flush()
    session.execute(sa.delete(Model).where(
        Model.deployment_id == row.id,
        Model.number <= row.attempt + 1 - keep))


def earlier(session, deployment_id):
    """A deployment's earlier attempts, newest first."""
    return session.execute(
        sa.select(Model).where(Model.deployment_id == deployment_id)
        .order_by(Model.number.desc())).scalars().all()


def keep_late_outputs(session, deployment_id, number, outputs):
    """Merge a refused signal's outputs into an earlier attempt's record.

    :returns: whether that attempt is still kept.
    """
    row = session.execute(
        sa.select(Model).where(Model.deployment_id == deployment_id,
                               Model.number == number)
        .with_for_update()).scalar_one_or_none()
    if row is None:
        return False
    row.late_output_values = dict(row.late_output_values or {}, **outputs)
    session.flush()
    return True


def delete_all(session, deployment_id):
    session.execute(sa.delete(Model).where(
        Model.deployment_id == deployment_id))


def purge(session, before):
    """Delete every earlier attempt that ended before ``before``.

    :returns: how many were deleted.
    """
    return session.execute(
        sa.delete(Model).where(Model.ended_at < before)).rowcount
