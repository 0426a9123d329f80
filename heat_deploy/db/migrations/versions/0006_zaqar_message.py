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

"""ZAQAR_MESSAGE: each server's metadata transport and queue credentials.

Every column is nullable and starts NULL: today's servers keep polling
their signed metadata URL (POLL_TEMP_URL) and have no queue.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('server_metadata') as batch:
        batch.add_column(sa.Column('metadata_transport', sa.String(16)))
        batch.add_column(sa.Column('settings_base_url', sa.String(255)))
        batch.add_column(sa.Column('zaqar_project_id', sa.String(64)))
        batch.add_column(sa.Column('zaqar_user_id', sa.String(64)))
        batch.add_column(sa.Column('zaqar_password', sa.Text()))
        batch.add_column(sa.Column('zaqar_posted_revision', sa.Integer()))
        batch.add_column(sa.Column('zaqar_posted_at', sa.BigInteger()))
        batch.add_column(sa.Column('zaqar_posting_until', sa.BigInteger()))
        batch.create_index('ix_server_metadata_metadata_transport',
                           ['metadata_transport'])
        batch.create_index('ix_server_metadata_zaqar_project_id',
                           ['zaqar_project_id'])
