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

"""The oslo.middleware filters as heat_deploy builds them: the same
behaviour as oslo.middleware's, without its cost where they have nothing
to do.
"""

import fixtures
from oslo_config import cfg
from oslo_middleware import cors
from oslo_middleware import http_proxy_to_wsgi
import testtools
import webob
import webob.dec

from heat_deploy.api import environ
from heat_deploy.api.middleware import oslo


class _Recorder(object):
    """A WSGI app that answers 200 and remembers the environ it got."""

    def __init__(self, headers=()):
        self.environ = None
        self.headers = list(headers)

    def __call__(self, environ, start_response):
        self.environ = environ
        start_response('200 OK', [('Content-Type', 'text/plain')]
                       + self.headers)
        return [b'ok']


def _state(conf):
    """What the composition root puts in every request's environ."""
    return type('AppState', (), {'conf': conf})()


def _request(state, **kwargs):
    req = webob.Request.blank('/', **kwargs)
    req.environ[environ.STATE_KEY] = state
    return req


class TestRequestId(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.app = _Recorder()
        self.filtered = oslo.request_id_filter_factory({})(self.app)

    def test_new_id_in_environ_and_answer(self):
        resp = webob.Request.blank('/').get_response(self.filtered)
        req_id = self.app.environ['openstack.request_id']
        self.assertRegex(req_id, '^req-[0-9a-f-]{36}$')
        self.assertEqual(req_id, resp.headers['x-openstack-request-id'])
        self.assertNotIn('openstack.global_request_id', self.app.environ)

    def test_well_formed_inbound_id_is_the_global_request_id(self):
        inbound = 'req-12345678-1234-1234-1234-123456789abc'
        req = webob.Request.blank(
            '/', headers={'X-Openstack-Request-Id': inbound})
        resp = req.get_response(self.filtered)
        self.assertEqual(inbound,
                         self.app.environ['openstack.global_request_id'])
        # The request still gets an ID of its own.
        self.assertNotEqual(inbound, resp.headers['x-openstack-request-id'])

    def test_malformed_inbound_id_is_ignored(self):
        req = webob.Request.blank(
            '/', headers={'X-Openstack-Request-Id': 'req-; DROP TABLE'})
        req.get_response(self.filtered)
        self.assertNotIn('openstack.global_request_id', self.app.environ)

    def test_id_the_application_set_is_kept_once(self):
        app = _Recorder(headers=[('X-OpenStack-Request-ID', 'req-app')])
        resp = webob.Request.blank('/').get_response(
            oslo.request_id_filter_factory({})(app))
        self.assertEqual(['req-app'],
                         resp.headers.getall('x-openstack-request-id'))


class TestCORS(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf = cfg.ConfigOpts()
        conf.register_opts(cors.CORS_OPTS, 'cors')
        conf.set_override('allowed_origin', ['https://ui.example'], 'cors')
        self.state = _state(conf)
        self.app = _Recorder()
        self.filtered = oslo.cors_filter_factory({})(self.app)

    def _get(self, headers, method='GET', application=None):
        req = _request(self.state, method=method, headers=headers)
        return req.get_response(application or self.filtered)

    def test_request_without_origin_is_the_applications_answer(self):
        # Straight to the application: oslo's WebOb wrapping is skipped.
        self.useFixture(fixtures.MockPatchObject(
            cors.CORS, 'process_request', side_effect=AssertionError))
        resp = self._get({})
        self.assertEqual(200, resp.status_int)
        self.assertIsNotNone(self.app.environ)
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
        self.assertNotIn('Vary', resp.headers)

    def test_allowed_origin_gets_cors_headers(self):
        resp = self._get({'Origin': 'https://ui.example'})
        self.assertEqual('https://ui.example',
                         resp.headers['Access-Control-Allow-Origin'])

    def test_other_origin_gets_none(self):
        resp = self._get({'Origin': 'https://evil.example'})
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)

    def test_options_without_origin_is_no_preflight(self):
        def not_allowed(environ, start_response):
            start_response('405 Method Not Allowed', [('Allow', 'GET')])
            return [b'']
        filtered = oslo.cors_filter_factory({})(not_allowed)
        resp = self._get({}, method='OPTIONS', application=filtered)
        self.assertEqual(405, resp.status_int)


class TestHTTPProxyToWSGI(testtools.TestCase):

    def _scheme(self, enabled):
        conf = cfg.ConfigOpts()
        conf.register_opts(http_proxy_to_wsgi.OPTS, 'oslo_middleware')
        conf.set_override('enable_proxy_headers_parsing', enabled,
                          'oslo_middleware')
        app = _Recorder()
        filtered = oslo.http_proxy_to_wsgi_filter_factory({})(app)
        _request(_state(conf), headers={
            'X-Forwarded-Proto': 'https'}).get_response(filtered)
        return app.environ['wsgi.url_scheme']

    def test_proxy_headers_ignored_by_default(self):
        self.assertEqual('http', self._scheme(False))

    def test_proxy_headers_parsed_when_enabled(self):
        self.assertEqual('https', self._scheme(True))
