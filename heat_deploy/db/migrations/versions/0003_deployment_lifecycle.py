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

"""Deployment lifecycle: deadlines, the current attempt, earlier attempts.

Existing deployments become attempt 1, started (and, unless IN_PROGRESS,
ended) when they last changed, with no deadline (a deadline they never
asked for must not fail them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

from heat_deploy.db import types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('software_deployment') as batch:
        batch.add_column(sa.Column('attempt', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.add_column(sa.Column('timeout', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('delivery_timeout', sa.Integer(),
                                   nullable=False, server_default='0'))
        for name in ('started_at', 'deadline_at', 'delivery_deadline_at',
                     'delivered_at', 'ended_at'):
            batch.add_column(sa.Column(name, types.Timestamp(),
                                       nullable=True))
        batch.add_column(sa.Column('ended_by', sa.String(32),
                                   nullable=True))
        batch.add_column(sa.Column('late_output_values', types.Json(),
                                   nullable=True))
        batch.create_index('ix_software_deployment_status_deadline_at',
                           ['status', 'deadline_at'])
        batch.create_index(
            'ix_software_deployment_status_delivery_deadline_at',
            ['status', 'delivery_deadline_at'])

    deployment = sa.table('software_deployment',
                          sa.column('created_at'), sa.column('updated_at'),
                          sa.column('started_at'), sa.column('status'),
                          sa.column('ended_at'))
    last_changed = sa.func.coalesce(deployment.c.updated_at,
                                    deployment.c.created_at)
    op.execute(deployment.update().values(started_at=last_changed))
    # One that is no longer IN_PROGRESS ended then too (its attempt's
    # end_time is null only while it runs).
    op.execute(deployment.update().where(
        deployment.c.status != 'IN_PROGRESS').values(ended_at=last_changed))

    op.create_table(
        'software_deployment_attempt',
        sa.Column('deployment_id', sa.String(36),
                  sa.ForeignKey('software_deployment.id',
                                ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('number', sa.Integer(), primary_key=True,
                  autoincrement=False),
        sa.Column('config_id', sa.String(36), nullable=False),
        sa.Column('action', sa.String(255), nullable=True),
        sa.Column('status', sa.String(255), nullable=True),
        sa.Column('status_reason', types.LongText(), nullable=True),
        sa.Column('output_values', types.Json(), nullable=True),
        sa.Column('late_output_values', types.Json(), nullable=True),
        sa.Column('started_at', types.Timestamp(), nullable=False),
        sa.Column('delivered_at', types.Timestamp(), nullable=True),
        sa.Column('ended_at', types.Timestamp(), nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('ix_software_deployment_attempt_ended_at',
                    'software_deployment_attempt', ['ended_at'])
