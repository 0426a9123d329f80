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

"""Queries of the event outbox, webhook deliveries and worker leases;
every function runs in the caller's session.
"""

import sqlalchemy as sa

from heat_deploy.db import models

Outbox = models.EventOutbox
Delivery = models.WebhookDelivery
Lease = models.WorkerLease


def add_event(session, message_id, event_type, payload, now):
    """Add an event to the outbox; ``session`` may be a Connection."""
    session.execute(_ADD_EVENT, {
        'message_id': message_id, 'event_type': event_type,
        'payload': payload, 'created_at': now})


_ADD_EVENT = sa.insert(Outbox.__table__)


def pending_events(session, limit):
    """The oldest unpublished events, in the order they happened."""
    return session.execute(
        sa.select(Outbox).where(Outbox.sent_at.is_(None))
        .order_by(Outbox.id).limit(limit)).scalars().all()


def mark_sent(session, event_ids, now):
    session.execute(sa.update(Outbox).where(Outbox.id.in_(event_ids))
                    .values(sent_at=now))


def purge_events(session, before):
    """Delete published events created before ``before``; returns how
    many.
    """
    return session.execute(sa.delete(Outbox).where(
        Outbox.sent_at.is_not(None), Outbox.created_at < before)).rowcount


def take_lease(session, name, holder, now, until):
    """Hold the lease ``name`` until ``until`` if it is free, expired or
    already ours; returns whether we hold it.

    One conditional UPDATE: of several workers asking at once, one wins.
    """
    return session.execute(sa.update(Lease).where(
        Lease.name == name,
        sa.or_(Lease.holder.is_(None), Lease.holder == holder,
               Lease.expires_at < now)).values(
        holder=holder, expires_at=until)).rowcount == 1


def release_lease(session, name, holder):
    session.execute(sa.update(Lease).where(
        Lease.name == name, Lease.holder == holder).values(
        holder=None, expires_at=None))


def add_delivery(session, deployment_id, attempt, event, url, secret, body,
                 now):
    """Add a webhook delivery; ``session`` may be a Connection."""
    session.execute(_ADD_DELIVERY, {
        'deployment_id': deployment_id, 'attempt': attempt, 'event': event,
        'url': url, 'secret': secret, 'body': body, 'created_at': now,
        'next_try_at': now, 'tries': []})


_ADD_DELIVERY = sa.insert(Delivery.__table__)


def due_deliveries(session, now, limit):
    return session.execute(
        sa.select(Delivery).where(Delivery.next_try_at <= now)
        .order_by(Delivery.next_try_at, Delivery.id).limit(limit)
    ).scalars().all()


def record_try(session, delivery_id, tries, next_try_at):
    session.execute(sa.update(Delivery).where(Delivery.id == delivery_id)
                    .values(tries=tries, next_try_at=next_try_at))


def deliveries_of(session, deployment_id):
    """A deployment's webhook deliveries, oldest first."""
    return session.execute(
        sa.select(Delivery).where(Delivery.deployment_id == deployment_id)
        .order_by(Delivery.id)).scalars().all()


def purge_deliveries(session, before):
    """Delete finished deliveries created before ``before``."""
    return session.execute(sa.delete(Delivery).where(
        Delivery.next_try_at.is_(None),
        Delivery.created_at < before)).rowcount
