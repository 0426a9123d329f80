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

"""Quota usage: each project's row counts its configs and deployments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

USAGE = sa.table('project_quota_lock', sa.column('project_id', sa.String),
                 sa.column('software_configs', sa.Integer),
                 sa.column('software_deployments', sa.Integer))
OWNED = (('software_configs', 'software_config'),
         ('software_deployments', 'software_deployment'))


def upgrade():
    with op.batch_alter_table('project_quota_lock') as batch:
        for column, _table in OWNED:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=False,
                                       server_default='0'))
    # A row for every project that owns something, then its counts.
    for _column, table in OWNED:
        owned = sa.table(table, sa.column('tenant', sa.String))
        op.execute(USAGE.insert().from_select(
            ['project_id'],
            sa.select(owned.c.tenant).distinct().where(
                owned.c.tenant.not_in(sa.select(USAGE.c.project_id)))))
    counts = {}
    for column, table in OWNED:
        owned = sa.table(table, sa.column('tenant', sa.String))
        counts[column] = sa.select(sa.func.count()).select_from(
            owned).where(owned.c.tenant == USAGE.c.project_id
                         ).scalar_subquery()
    op.execute(USAGE.update().values(**counts))
