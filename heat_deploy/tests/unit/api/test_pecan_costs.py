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

"""What Pecan works out per request, worked out once instead."""

import pecan
import testtools
import webob

from heat_deploy.api.controllers import root


class _Recording(object):
    """Calls through to ``function`` and counts the calls."""

    def __init__(self, function):
        self.function = function
        self.calls = []

    def __call__(self, argument):
        self.calls.append(argument)
        return self.function(argument)


class TestRemembered(testtools.TestCase):

    def test_argument_names_are_worked_out_once_per_function(self):
        def action(self, server_id, limit=None):
            pass
        recording = _Recording(pecan.core.getargspec)
        getargspec = root._remembered(recording)
        first = getargspec(action)
        self.assertEqual(['self', 'server_id', 'limit'], first.args)
        self.assertIs(first, getargspec(action))
        self.assertEqual([action], recording.calls)

    def test_wrapping_twice_wraps_once(self):
        getargspec = root._remembered(pecan.core.getargspec)
        self.assertIs(getargspec, root._remembered(getargspec))


class _Child(object):

    @pecan.expose('json', route='custom-segment')
    def custom(self):
        return {'found': 'custom'}


class _Top(object):

    child = _Child()


class TestCustomSegmentsOncePerClass(testtools.TestCase):

    def test_each_class_is_searched_once_and_custom_routes_resolve(self):
        recording = _Recording(pecan.routing._detect_custom_path_segments)
        self.patch(pecan.routing, '_detect_custom_path_segments',
                   root._once_per_class(recording))
        app = pecan.make_app(_Top())
        for _request in range(3):
            resp = webob.Request.blank('/child/custom-segment').get_response(
                app)
            self.assertEqual({'found': 'custom'}, resp.json)
        self.assertEqual([_Top, _Child],
                         [type(obj) for obj in recording.calls])

    def test_wrapping_twice_wraps_once(self):
        once = root._once_per_class(pecan.routing._detect_custom_path_segments)
        self.assertIs(once, root._once_per_class(once))
