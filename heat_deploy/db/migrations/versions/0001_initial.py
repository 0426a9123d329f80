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

"""Initial schema: software_config, software_deployment, quota locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

from heat_deploy.db import types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade():
    op.create_table(
        'software_config',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('created_at', types.Timestamp(), nullable=False),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('group', sa.String(255), nullable=True),
        sa.Column('config', types.Json(), nullable=True),
        sa.Column('tenant', sa.String(64), nullable=False),
        **TABLE_ARGS)
    op.create_index('ix_software_config_tenant_created_at',
                    'software_config', ['tenant', 'created_at'])

    op.create_table(
        'software_deployment',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('created_at', types.Timestamp(), nullable=False),
        sa.Column('updated_at', types.Timestamp(), nullable=True),
        sa.Column('server_id', sa.String(36), nullable=False),
        sa.Column('config_id', sa.String(36),
                  sa.ForeignKey('software_config.id'), nullable=False),
        sa.Column('input_values', types.Json(), nullable=True),
        sa.Column('output_values', types.Json(), nullable=True),
        sa.Column('action', sa.String(255), nullable=True),
        sa.Column('status', sa.String(255), nullable=True),
        sa.Column('status_reason', types.LongText(), nullable=True),
        sa.Column('tenant', sa.String(64), nullable=False),
        sa.Column('stack_user_project_id', sa.String(64), nullable=True),
        sa.Column('generation', sa.Integer(), nullable=False),
        **TABLE_ARGS)
    for column in ('tenant', 'server_id', 'created_at',
                   'stack_user_project_id', 'config_id'):
        op.create_index('ix_software_deployment_%s' % column,
                        'software_deployment', [column])

    op.create_table(
        'project_quota_lock',
        sa.Column('project_id', sa.String(64), primary_key=True),
        **TABLE_ARGS)
