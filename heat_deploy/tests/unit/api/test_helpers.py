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

"""Request parsing helpers and Heat's tenant check."""

from oslo_context import context
import testtools
import webob
import webob.exc

from heat_deploy.api import body
from heat_deploy.api.controllers.v1 import tenant


class TestJsonObject(testtools.TestCase):

    def _request(self, data, content_type='application/json'):
        req = webob.Request.blank('/', method='POST', body=data)
        req.content_type = content_type
        return req

    def test_object_is_returned(self):
        self.assertEqual({'a': 1}, body.json_object(self._request(b'{"a":1}')))

    def test_errors(self):
        cases = [(b'', 'application/json', webob.exc.HTTPBadRequest,
                  'needs a JSON object'),
                 (b'{"a"', 'application/json', webob.exc.HTTPBadRequest,
                  'not valid JSON'),
                 (b'"text"', 'application/json', webob.exc.HTTPBadRequest,
                  'not a JSON string'),
                 (b'{"a": "caf\xe9"}', 'application/json',
                  webob.exc.HTTPBadRequest, 'not UTF-8'),
                 (b'{}', 'application/x-www-form-urlencoded',
                  webob.exc.HTTPUnsupportedMediaType, 'application/json')]
        for data, content_type, error, text in cases:
            err = self.assertRaises(error, body.json_object,
                                    self._request(data, content_type))
            self.assertIn(text, err.detail)

    def test_limit_and_bool_params(self):
        self.assertIsNone(body.limit_param({}))
        self.assertEqual(0, body.limit_param({'limit': '0'}))
        self.assertRaises(webob.exc.HTTPBadRequest, body.limit_param,
                          {'limit': 'x'})
        self.assertRaises(webob.exc.HTTPBadRequest, body.limit_param,
                          {'limit': '-1'})
        self.assertTrue(body.bool_param({'g': 'TRUE'}, 'g'))
        self.assertFalse(body.bool_param({}, 'g'))
        err = self.assertRaises(webob.exc.HTTPBadRequest, body.bool_param,
                                {'g': 'yes'}, 'g')
        self.assertIn('acceptable values are: true, false', err.detail)


class TestEffectiveTenant(testtools.TestCase):

    def test_own_project(self):
        ctx = context.RequestContext(project_id='p1')
        self.assertEqual('p1', tenant.effective_tenant(ctx, 'p1'))

    def test_other_project_is_forbidden(self):
        ctx = context.RequestContext(project_id='p1')
        err = self.assertRaises(webob.exc.HTTPForbidden,
                                tenant.effective_tenant, ctx, 'p2')
        self.assertIn('Access was denied to this resource', err.detail)

    def test_admin_acts_with_own_project(self):
        ctx = context.RequestContext(project_id='p1', is_admin=True)
        self.assertEqual('p1', tenant.effective_tenant(ctx, 'p2'))
