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

"""SQLAlchemy models of heat_deploy (Heat's schema plus a row version).

The schema itself is only ever created by the alembic migrations; a test
checks that these models and the migrations agree.
"""

import sqlalchemy as sa
from sqlalchemy import orm

from heat_deploy.db import types

TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}

# Column lengths that requests are checked against before any SQL.
ID_LENGTH = 36
SERVER_ID_LENGTH = 36
PROJECT_ID_LENGTH = 64


class Base(orm.DeclarativeBase):
    pass


class SoftwareConfig(Base):
    """An immutable software config.

    ``config`` holds Heat's JSON document
    ``{"config": ..., "inputs": [...], "outputs": [...], "options": {...}}``.
    """

    __tablename__ = 'software_config'
    __table_args__ = (
        sa.Index('ix_software_config_tenant_created_at',
                 'tenant', 'created_at'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.String(ID_LENGTH), primary_key=True)
    created_at = sa.Column(types.Timestamp(), nullable=False)
    name = sa.Column(sa.String(255), nullable=True)
    group = sa.Column(sa.String(255), nullable=True)
    config = sa.Column(types.Json(), nullable=True)
    tenant = sa.Column(sa.String(PROJECT_ID_LENGTH), nullable=False)


class SoftwareDeployment(Base):
    """A deployment of a config to a server.

    ``generation`` increases on every write; it is the ETag clients send
    back in If-Match so that no update is silently lost.
    """

    __tablename__ = 'software_deployment'
    __table_args__ = (
        sa.Index('ix_software_deployment_tenant', 'tenant'),
        sa.Index('ix_software_deployment_server_id', 'server_id'),
        sa.Index('ix_software_deployment_created_at', 'created_at'),
        sa.Index('ix_software_deployment_stack_user_project_id',
                 'stack_user_project_id'),
        sa.Index('ix_software_deployment_config_id', 'config_id'),
        # The sweep's two searches for passed deadlines.
        sa.Index('ix_software_deployment_status_deadline_at',
                 'status', 'deadline_at'),
        sa.Index('ix_software_deployment_status_delivery_deadline_at',
                 'status', 'delivery_deadline_at'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.String(ID_LENGTH), primary_key=True)
    created_at = sa.Column(types.Timestamp(), nullable=False)
    updated_at = sa.Column(types.Timestamp(), nullable=True)
    server_id = sa.Column(sa.String(SERVER_ID_LENGTH), nullable=False)
    config_id = sa.Column(sa.String(ID_LENGTH),
                          sa.ForeignKey('software_config.id'),
                          nullable=False)
    input_values = sa.Column(types.Json(), nullable=True)
    output_values = sa.Column(types.Json(), nullable=True)
    action = sa.Column(sa.String(255), nullable=True)
    status = sa.Column(sa.String(255), nullable=True)
    status_reason = sa.Column(types.LongText(), nullable=True)
    tenant = sa.Column(sa.String(PROJECT_ID_LENGTH), nullable=False)
    stack_user_project_id = sa.Column(sa.String(PROJECT_ID_LENGTH),
                                      nullable=True)
    generation = sa.Column(sa.Integer(), nullable=False, default=1)
    # Set for deployments whose config the service derives: the config the
    # user asked for and the transport the server reports through.
    source_config_id = sa.Column(sa.String(ID_LENGTH), nullable=True)
    signal_transport = sa.Column(sa.String(64), nullable=True)
    # The current attempt (see SoftwareDeploymentAttempt): its number, its
    # deadlines (seconds, 0 for none, and the times they fall on), when it
    # started, was fetched by the server and ended, how the service ended
    # it (heat_deploy.lifecycle), and outputs of signals refused as late.
    attempt = sa.Column(sa.Integer(), nullable=False, server_default='1')
    timeout = sa.Column(sa.Integer(), nullable=False, server_default='0')
    delivery_timeout = sa.Column(sa.Integer(), nullable=False,
                                 server_default='0')
    started_at = sa.Column(types.Timestamp(), nullable=True)
    deadline_at = sa.Column(types.Timestamp(), nullable=True)
    delivery_deadline_at = sa.Column(types.Timestamp(), nullable=True)
    delivered_at = sa.Column(types.Timestamp(), nullable=True)
    ended_at = sa.Column(types.Timestamp(), nullable=True)
    ended_by = sa.Column(sa.String(32), nullable=True)
    late_output_values = sa.Column(types.Json(), nullable=True)
    # Where the worker posts the deployment's terminal events, and the key
    # of their signatures (encrypted, see heat_deploy.secret_values).
    notify_url = sa.Column(sa.Text(), nullable=True)
    notify_secret = sa.Column(types.Json(), nullable=True)


class SoftwareDeploymentAttempt(Base):
    """An earlier attempt of a deployment, kept as it ended.

    The current attempt lives in the deployment's own row; starting a new
    one copies it here, so the hot paths write one row only.
    """

    __tablename__ = 'software_deployment_attempt'
    __table_args__ = (
        sa.Index('ix_software_deployment_attempt_ended_at', 'ended_at'),
        TABLE_ARGS,
    )

    deployment_id = sa.Column(
        sa.String(ID_LENGTH),
        sa.ForeignKey('software_deployment.id', ondelete='CASCADE'),
        primary_key=True)
    number = sa.Column(sa.Integer(), primary_key=True, autoincrement=False)
    config_id = sa.Column(sa.String(ID_LENGTH), nullable=False)
    action = sa.Column(sa.String(255), nullable=True)
    status = sa.Column(sa.String(255), nullable=True)
    status_reason = sa.Column(types.LongText(), nullable=True)
    output_values = sa.Column(types.Json(), nullable=True)
    late_output_values = sa.Column(types.Json(), nullable=True)
    started_at = sa.Column(types.Timestamp(), nullable=False)
    delivered_at = sa.Column(types.Timestamp(), nullable=True)
    ended_at = sa.Column(types.Timestamp(), nullable=False)


class ServerMetadata(Base):
    """Per project and server: the state of its metadata document.

    ``revision`` (the ETag) and ``last_modified`` (epoch seconds, the
    Last-Modified header) change whenever the server's set of deployment
    configs changes; ``last_modified`` strictly increases, even for
    several changes within one second. ``credential_generation`` is part
    of the metadata URL's signature: bumping it revokes the old URL.

    ``metadata_transport`` is how the server gets its document (NULL:
    POLL_TEMP_URL, chosen before there was a choice). The ``zaqar_``
    columns hold a ZAQAR_MESSAGE server's queue credentials (the password
    sealed with [signal] encryption_keys) and which revision was last
    posted to its queue, and when, and until when one process holds the
    right to post there (posts stay in order); they stay set while a
    server that left ZAQAR_MESSAGE still has a document to take from its
    queue.
    ``settings_base_url`` is the API's URL when the transport was chosen,
    for metadata URLs that a background post hands out.
    """

    __tablename__ = 'server_metadata'
    __table_args__ = (
        sa.Index('ix_server_metadata_metadata_transport',
                 'metadata_transport'),
        sa.Index('ix_server_metadata_zaqar_project_id', 'zaqar_project_id'),
        TABLE_ARGS,
    )

    tenant = sa.Column(sa.String(PROJECT_ID_LENGTH), primary_key=True)
    server_id = sa.Column(sa.String(SERVER_ID_LENGTH),
                          primary_key=True)
    revision = sa.Column(sa.Integer(), nullable=False)
    last_modified = sa.Column(sa.BigInteger(), nullable=False)
    credential_generation = sa.Column(sa.Integer(), nullable=False)
    metadata_transport = sa.Column(sa.String(16))
    settings_base_url = sa.Column(sa.String(255))
    zaqar_project_id = sa.Column(sa.String(64))
    zaqar_user_id = sa.Column(sa.String(64))
    zaqar_password = sa.Column(sa.Text())
    zaqar_posted_revision = sa.Column(sa.Integer())
    zaqar_posted_at = sa.Column(sa.BigInteger())
    zaqar_posting_until = sa.Column(sa.BigInteger())


class ProjectQuotaLock(Base):
    """One row per project: how many configs and deployments it owns.

    Every create and delete of one changes its count in the same
    transaction; the conditional UPDATE that counts a create is the quota
    check, and its row lock serialises the project's creates.
    """

    __tablename__ = 'project_quota_lock'
    __table_args__ = (TABLE_ARGS,)

    project_id = sa.Column(sa.String(PROJECT_ID_LENGTH),
                           primary_key=True)
    software_configs = sa.Column(sa.Integer(), nullable=False,
                                 server_default='0')
    software_deployments = sa.Column(sa.Integer(), nullable=False,
                                     server_default='0')


class EventOutbox(Base):
    """A notification, written in the transaction of the change it tells.

    The worker publishes pending events in ``id`` order and sets
    ``sent_at``; ``message_id`` stays the same however often an event is
    published, so consumers can drop duplicates.
    """

    __tablename__ = 'event_outbox'
    __table_args__ = (
        sa.Index('ix_event_outbox_sent_at_id', 'sent_at', 'id'),
        sa.Index('ix_event_outbox_created_at', 'created_at'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                   primary_key=True, autoincrement=True)
    message_id = sa.Column(sa.String(ID_LENGTH), nullable=False)
    event_type = sa.Column(sa.String(64), nullable=False)
    payload = sa.Column(types.Json(), nullable=False)
    created_at = sa.Column(types.Timestamp(), nullable=False)
    sent_at = sa.Column(types.Timestamp(), nullable=True)


class WebhookDelivery(Base):
    """A terminal event of a deployment to post to its notify_url.

    ``next_try_at`` is when the worker tries next (null once delivered or
    given up); ``tries`` lists each try's time and result.
    """

    __tablename__ = 'webhook_delivery'
    __table_args__ = (
        sa.Index('ix_webhook_delivery_next_try_at', 'next_try_at'),
        sa.Index('ix_webhook_delivery_deployment_id', 'deployment_id'),
        TABLE_ARGS,
    )

    id = sa.Column(sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                   primary_key=True, autoincrement=True)
    deployment_id = sa.Column(sa.String(ID_LENGTH), nullable=False)
    attempt = sa.Column(sa.Integer(), nullable=False)
    event = sa.Column(sa.String(32), nullable=False)
    url = sa.Column(sa.Text(), nullable=False)
    secret = sa.Column(types.Json(), nullable=False)
    body = sa.Column(types.LongText(), nullable=False)
    created_at = sa.Column(types.Timestamp(), nullable=False)
    next_try_at = sa.Column(types.Timestamp(), nullable=True)
    tries = sa.Column(types.Json(), nullable=False)


class WorkerLease(Base):
    """Which worker does one kind of delivery, until when.

    One worker at a time publishes notifications (so they leave in order
    and none twice while it lives); another takes over once its lease
    expires.
    """

    __tablename__ = 'worker_lease'
    __table_args__ = (TABLE_ARGS,)

    name = sa.Column(sa.String(64), primary_key=True)
    holder = sa.Column(sa.String(64), nullable=True)
    expires_at = sa.Column(types.Timestamp(), nullable=True)
