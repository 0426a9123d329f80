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

import datetime
import random

import testtools

from heat_deploy import timestamps

HEAT_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


class TestFormatTime(testtools.TestCase):

    def test_whole_seconds_and_a_literal_z(self):
        self.assertEqual('2026-12-03T05:01:02Z', timestamps.format_time(
            datetime.datetime(2026, 12, 3, 5, 1, 2, 999999)))

    def test_none_stays_none(self):
        self.assertIsNone(timestamps.format_time(None))

    def test_the_text_of_heats_strftime(self):
        rng = random.Random(12)
        start = datetime.datetime(1970, 1, 1)
        for _ in range(1000):
            value = start + datetime.timedelta(
                seconds=rng.randrange(0, 4 * 10 ** 9),
                microseconds=rng.randrange(0, 10 ** 6))
            self.assertEqual(value.strftime(HEAT_FORMAT),
                             timestamps.format_time(value))
