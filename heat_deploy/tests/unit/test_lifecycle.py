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

"""The pure rules of how an attempt ends other than by a signal."""

import datetime

import testtools

from heat_deploy import lifecycle

T0 = datetime.datetime(2026, 12, 2, 12, 0, 0)


def _at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


class _Item(object):
    def __init__(self, status='IN_PROGRESS', timeout=0, delivery_timeout=0,
                 delivered=None):
        self.status = status
        self.timeout = timeout
        self.delivery_timeout = delivery_timeout
        self.deadline_at = lifecycle.deadline(T0, timeout)
        self.delivery_deadline_at = lifecycle.deadline(T0, delivery_timeout)
        self.delivered_at = None if delivered is None else _at(delivered)


class TestDeadlines(testtools.TestCase):

    def test_zero_seconds_is_no_deadline(self):
        self.assertIsNone(lifecycle.deadline(T0, 0))
        self.assertEqual(_at(60), lifecycle.deadline(T0, 60))

    def test_the_run_deadline_passes_at_its_second(self):
        item = _Item(timeout=60)
        self.assertIsNone(lifecycle.passed_deadline(item, _at(59)))
        ending = lifecycle.passed_deadline(item, _at(60))
        self.assertEqual(lifecycle.TIMED_OUT, ending.ended_by)
        self.assertEqual(_at(60), ending.time)
        self.assertEqual('Deployment timed out after 60 seconds',
                         ending.reason)

    def test_an_undelivered_attempt_fails_at_its_delivery_deadline(self):
        item = _Item(timeout=60, delivery_timeout=10)
        ending = lifecycle.passed_deadline(item, _at(11))
        self.assertEqual(lifecycle.NOT_DELIVERED, ending.ended_by)
        self.assertEqual('Deployment was not fetched by its server within '
                         '10 seconds', ending.reason)

    def test_a_delivered_attempt_has_only_its_run_deadline(self):
        item = _Item(timeout=60, delivery_timeout=10, delivered=5)
        self.assertIsNone(lifecycle.passed_deadline(item, _at(30)))
        self.assertEqual(_at(60), lifecycle.next_deadline(item))
        self.assertEqual(lifecycle.TIMED_OUT,
                         lifecycle.passed_deadline(item, _at(61)).ended_by)

    def test_a_late_delivery_does_not_undo_the_delivery_deadline(self):
        item = _Item(delivery_timeout=10, delivered=12)
        self.assertEqual(lifecycle.NOT_DELIVERED,
                         lifecycle.passed_deadline(item, _at(13)).ended_by)

    def test_the_first_deadline_to_pass_is_the_ending(self):
        item = _Item(timeout=5, delivery_timeout=10)
        self.assertEqual(lifecycle.TIMED_OUT,
                         lifecycle.passed_deadline(item, _at(20)).ended_by)
        self.assertEqual(_at(5), lifecycle.next_deadline(item))

    def test_only_an_in_progress_attempt_ends_by_a_deadline(self):
        for status in ('COMPLETE', 'FAILED'):
            self.assertIsNone(lifecycle.passed_deadline(
                _Item(status=status, timeout=1), _at(100)))

    def test_no_deadline_never_passes(self):
        item = _Item()
        self.assertIsNone(lifecycle.passed_deadline(item, _at(10 ** 7)))
        self.assertIsNone(lifecycle.next_deadline(item))

    def test_a_new_attempt_that_starts_finished_has_ended(self):
        running = lifecycle.new_attempt('IN_PROGRESS', 60, 0, T0)
        self.assertEqual(_at(60), running['deadline_at'])
        self.assertIsNone(running['delivery_deadline_at'])
        self.assertIsNone(running['ended_at'])
        self.assertEqual(T0, lifecycle.new_attempt('COMPLETE', 60, 0,
                                                   T0)['ended_at'])

    def test_a_refusal_says_why_and_where_the_outputs_are(self):
        self.assertEqual(
            'Deployment d is no longer waiting for this signal (Deployment '
            'cancelled); it was not applied. Its output values are kept as '
            'late_output_values of attempt 2.',
            lifecycle.refusal_reason('d', lifecycle.CANCELLED_REASON, 2))
