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

import gc

import testtools

from heat_deploy import service


class TestSettleStartUpObjects(testtools.TestCase):

    def test_objects_alive_at_start_up_leave_the_collectors_sight(self):
        self.addCleanup(gc.unfreeze)
        alive = [object() for _ in range(10)]
        service.settle_start_up_objects()
        self.assertGreaterEqual(gc.get_freeze_count(), len(alive))
        # A full collection no longer walks them.
        self.assertEqual([], [obj for obj in gc.get_objects()
                              if obj is alive])
