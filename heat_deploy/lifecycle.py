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

"""How a deployment's attempt ends other than by its server's signal.

Pure rules, no database. A deployment's current attempt is IN_PROGRESS
until a signal, a PUT, the owner's cancel, or one of its deadlines ends
it: ``timeout`` seconds after it started, or ``delivery_timeout`` seconds
after it started when the server has not fetched it by then. A passed
deadline counts from the moment it passes, in every view, whether or not
the worker has stored it yet.
"""

import datetime

# A deployment's statuses, as Heat names them.
IN_PROGRESS = 'IN_PROGRESS'
COMPLETE = 'COMPLETE'
FAILED = 'FAILED'
STATUSES = (IN_PROGRESS, COMPLETE, FAILED)

# Values of ended_by: how the service ended an attempt.
TIMED_OUT = 'timeout'
NOT_DELIVERED = 'delivery_timeout'
CANCELLED = 'cancel'
DEADLINES = (TIMED_OUT, NOT_DELIVERED)

CANCELLED_REASON = 'Deployment cancelled.'


def timed_out_reason(seconds):
    return 'Deployment timed out after %d seconds' % seconds


def not_delivered_reason(seconds):
    return ('Deployment was not fetched by its server within %d seconds'
            % seconds)


def superseded_reason(number):
    return 'Superseded by attempt %d.' % number


def deadline(start, seconds):
    """The time ``seconds`` after ``start``; None for 0 (no deadline)."""
    if not seconds:
        return None
    return start + datetime.timedelta(seconds=seconds)


class Ending(object):
    """How and when the service ended an attempt.

    :ivar ended_by: TIMED_OUT, NOT_DELIVERED or CANCELLED.
    :ivar time: when it ended.
    :ivar reason: the status_reason it gives the deployment.
    """

    def __init__(self, ended_by, time, reason):
        self.ended_by = ended_by
        self.time = time
        self.reason = reason


def passed_deadline(item, now):
    """The Ending of an IN_PROGRESS attempt whose deadline has passed.

    :param item: anything with the deployment row's status, timeout,
        delivery_timeout, deadline_at, delivery_deadline_at and
        delivered_at.
    :returns: the first deadline that passed as an Ending, or None.
    """
    if item.status != IN_PROGRESS:
        return None
    passed = []
    if (item.delivery_deadline_at is not None
            and item.delivery_deadline_at <= (item.delivered_at or now)):
        passed.append(Ending(NOT_DELIVERED, item.delivery_deadline_at,
                             not_delivered_reason(item.delivery_timeout)))
    if item.deadline_at is not None and item.deadline_at <= now:
        passed.append(Ending(TIMED_OUT, item.deadline_at,
                             timed_out_reason(item.timeout)))
    if not passed:
        return None
    return min(passed, key=lambda ending: ending.time)


def next_deadline(item):
    """The deadline the attempt has to meet next, or None.

    The delivery deadline counts while the server has not fetched the
    attempt (or fetched it too late); the run deadline always.
    """
    times = [item.deadline_at]
    if item.delivery_deadline_at is not None and (
            item.delivered_at is None
            or item.delivered_at >= item.delivery_deadline_at):
        times.append(item.delivery_deadline_at)
    times = [time for time in times if time is not None]
    return min(times) if times else None


def new_attempt(status, timeout, delivery_timeout, now):
    """The columns of a deployment row that start an attempt at ``now``.

    :param status: the status the attempt starts with (an attempt that
        starts COMPLETE or FAILED, as NO_SIGNAL's do, ends at once).
    """
    return {
        'started_at': now,
        'deadline_at': deadline(now, timeout),
        'delivery_deadline_at': deadline(now, delivery_timeout),
        'delivered_at': None,
        'ended_at': None if status == IN_PROGRESS else now,
        'ended_by': None,
        'late_output_values': None,
    }


def refusal_reason(deployment_id, reason, number, kept=True):
    """Why a signal for a deployment's ended attempt was refused.

    :param kept: whether the attempt is still kept, and so the signal's
        output values with it.
    """
    if kept:
        outputs = ('Its output values are kept as late_output_values of '
                   'attempt %d.' % number)
    else:
        outputs = ('Attempt %d is no longer kept, so its output values were '
                   'dropped.' % number)
    return ('Deployment %s is no longer waiting for this signal (%s); it was '
            'not applied. %s' % (deployment_id, reason.rstrip('.'), outputs))
