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

"""Service-derived configs and server metadata state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('software_deployment') as batch:
        batch.add_column(sa.Column('source_config_id', sa.String(36),
                                   nullable=True))
        batch.add_column(sa.Column('signal_transport', sa.String(64),
                                   nullable=True))

    op.create_table(
        'server_metadata',
        sa.Column('tenant', sa.String(64), primary_key=True),
        sa.Column('server_id', sa.String(36), primary_key=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('last_modified', sa.BigInteger(), nullable=False),
        sa.Column('credential_generation', sa.Integer(), nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
