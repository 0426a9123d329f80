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

"""Events: the notification outbox, webhook deliveries, worker leases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

from heat_deploy.db import types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
LEASES = ('notifications', 'webhooks')


def _big_id():
    return sa.Column('id', sa.BigInteger().with_variant(sa.Integer(),
                                                        'sqlite'),
                     primary_key=True, autoincrement=True)


def upgrade():
    with op.batch_alter_table('software_deployment') as batch:
        batch.add_column(sa.Column('notify_url', sa.Text(), nullable=True))
        batch.add_column(sa.Column('notify_secret', types.Json(),
                                   nullable=True))

    op.create_table(
        'event_outbox',
        _big_id(),
        sa.Column('message_id', sa.String(36), nullable=False),
        sa.Column('event_type', sa.String(64), nullable=False),
        sa.Column('payload', types.Json(), nullable=False),
        sa.Column('created_at', types.Timestamp(), nullable=False),
        sa.Column('sent_at', types.Timestamp(), nullable=True),
        **TABLE_ARGS)
    op.create_index('ix_event_outbox_sent_at_id', 'event_outbox',
                    ['sent_at', 'id'])
    op.create_index('ix_event_outbox_created_at', 'event_outbox',
                    ['created_at'])

    op.create_table(
        'webhook_delivery',
        _big_id(),
        sa.Column('deployment_id', sa.String(36), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(32), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('secret', types.Json(), nullable=False),
        sa.Column('body', types.LongText(), nullable=False),
        sa.Column('created_at', types.Timestamp(), nullable=False),
        sa.Column('next_try_at', types.Timestamp(), nullable=True),
        sa.Column('tries', types.Json(), nullable=False),
        **TABLE_ARGS)
    op.create_index('ix_webhook_delivery_next_try_at', 'webhook_delivery',
                    ['next_try_at'])
    op.create_index('ix_webhook_delivery_deployment_id', 'webhook_delivery',
                    ['deployment_id'])

    lease = op.create_table(
        'worker_lease',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('holder', sa.String(64), nullable=True),
        sa.Column('expires_at', types.Timestamp(), nullable=True),
        **TABLE_ARGS)
    op.bulk_insert(lease, [{'name': name} for name in LEASES])
