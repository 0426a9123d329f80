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

"""The fault wrapper, the noauth middleware and the body size limit."""

import logging

import fixtures
from oslo_context import context
from oslo_db import exception as db_exc
from oslo_serialization import jsonutils
import testtools
import webob
import webob.dec
import webob.exc

from heat_deploy.api.middleware import auth
from heat_deploy.api.middleware import body_limit
from heat_deploy.api.middleware import fault


@webob.dec.wsgify
def _echo_identity(req):
    return webob.Response(json_body={
        name: req.environ.get(name) for name in (
            'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES', 'HTTP_X_USER_ID',
            'HTTP_X_IS_ADMIN_PROJECT', 'HTTP_X_SERVICE_ROLES')})


class TestFaultWrapper(testtools.TestCase):

    def test_unhandled_error_is_500_fault_with_request_id(self):
        @webob.dec.wsgify
        def broken(req):
            raise RuntimeError('secret internals')

        logger = self.useFixture(fixtures.FakeLogger())
        req = webob.Request.blank('/v1/p/x')
        req.environ['openstack.request_id'] = 'req-123'
        resp = req.get_response(fault.FaultWrapper(broken))
        # The traceback goes to the operator's log, not to the caller.
        self.assertIn('Traceback', logger.output)
        self.assertIn('secret internals', logger.output)
        self.assertEqual(500, resp.status_code)
        self.assertEqual('application/json', resp.content_type)
        doc = jsonutils.loads(resp.body)
        self.assertEqual('InternalServerError', doc['error']['type'])
        self.assertIsNone(doc['error']['traceback'])
        self.assertEqual('req-123', doc['error']['request_id'])
        self.assertIn('req-123', doc['error']['message'])
        self.assertNotIn(b'secret internals', resp.body)
        self.assertNotIn(b'Traceback', resp.body)

    def test_foreign_error_response_is_rewritten_keeping_headers(self):
        @webob.dec.wsgify
        def denies(req):
            return webob.exc.HTTPUnauthorized(
                headers={'WWW-Authenticate': 'Keystone uri="x"'})

        resp = webob.Request.blank('/v1/p').get_response(
            fault.FaultWrapper(denies))
        self.assertEqual(401, resp.status_code)
        self.assertEqual('Keystone uri="x"', resp.headers['WWW-Authenticate'])
        doc = jsonutils.loads(resp.body)
        self.assertEqual({'code', 'title', 'explanation', 'error'}, set(doc))
        self.assertEqual('HTTPUnauthorized', doc['error']['type'])
        self.assertIn('X-Auth-Token', doc['error']['message'])

    def test_json_message_of_foreign_error_is_kept(self):
        @webob.dec.wsgify
        def denies(req):
            return webob.Response(
                status=401, json_body={'error': {'message': 'Token expired',
                                                 'code': 401}})

        resp = webob.Request.blank('/').get_response(
            fault.FaultWrapper(denies))
        self.assertEqual('Token expired',
                         jsonutils.loads(resp.body)['error']['message'])

    def test_success_passes_untouched(self):
        resp = webob.Request.blank('/x').get_response(
            fault.FaultWrapper(_echo_identity))
        self.assertEqual(200, resp.status_code)

    def test_success_is_the_applications_own_iterable(self):
        body = iter([b'a', b'b'])

        def app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return body

        started = []
        answer = fault.FaultWrapper(app)(
            webob.Request.blank('/x').environ,
            lambda status, headers, exc_info=None: started.append(status))
        self.assertIs(body, answer)
        self.assertEqual(['200 OK'], started)

    def test_an_answer_started_late_is_still_checked(self):
        def late(status):
            def app(environ, start_response):
                start_response(status, [('Content-Type', 'text/plain')])
                yield b'plain words'
            return app

        resp = webob.Request.blank('/x').get_response(
            fault.FaultWrapper(late('404 Not Found')))
        self.assertEqual(404, resp.status_code)
        self.assertEqual('HTTPNotFound',
                         jsonutils.loads(resp.body)['error']['type'])
        resp = webob.Request.blank('/x').get_response(
            fault.FaultWrapper(late('200 OK')))
        self.assertEqual(200, resp.status_code)
        self.assertEqual(b'plain words', resp.body)

    def test_unreachable_database_is_503_with_retry_after(self):
        @webob.dec.wsgify
        def no_database(req):
            raise db_exc.DBConnectionError(RuntimeError('refused'))

        logger = self.useFixture(fixtures.FakeLogger())
        req = webob.Request.blank('/v1/p/software_configs')
        req.environ['openstack.request_id'] = 'req-503'
        resp = req.get_response(fault.FaultWrapper(no_database))
        self.assertEqual(503, resp.status_code)
        self.assertEqual('2', resp.headers['Retry-After'])
        self.assertEqual('req-503', resp.headers['X-OpenStack-Request-ID'])
        doc = jsonutils.loads(resp.body)
        self.assertEqual('HTTPServiceUnavailable', doc['error']['type'])
        self.assertIn('temporarily unavailable', doc['error']['message'])
        self.assertIsNone(doc['error']['traceback'])
        self.assertEqual(1, logger.output.count('503 Service Unavailable'))

    def test_database_errors_are_classified(self):
        cause = RuntimeError('x')
        for error, status in ((db_exc.DBDeadlock(cause), 503),
                              (db_exc.DBDataError(cause), 400),
                              (db_exc.DBReferenceError('t', 'c', 'k', 'r',
                                                       cause), 409),
                              (db_exc.DBDuplicateEntry(), 409)):
            @webob.dec.wsgify
            def failing(req, error=error):
                raise error

            self.useFixture(fixtures.FakeLogger())
            resp = webob.Request.blank('/v1/p').get_response(
                fault.FaultWrapper(failing))
            self.assertEqual(status, resp.status_code, error)
            self.assertNotIn(b'Traceback', resp.body)

    def test_every_5xx_is_logged_once_under_its_own_request_id(self):
        seen = []

        class Recorder(logging.Handler):
            def emit(self, record):
                current = context.get_current()
                seen.append((record.getMessage(),
                             current.request_id if current else None))

        handler = Recorder(level=logging.DEBUG)
        fault.LOG.logger.addHandler(handler)
        self.addCleanup(fault.LOG.logger.removeHandler, handler)

        @webob.dec.wsgify
        def broken_after_context(req):
            if req.path_info == '/with-context':
                # What the v1 routes do; the next request must not
                # inherit it.
                context.RequestContext(request_id='req-previous')
                return webob.Response()
            return webob.exc.HTTPBadGateway('driver failed')

        app = fault.FaultWrapper(broken_after_context)
        first = webob.Request.blank('/with-context')
        first.environ['openstack.request_id'] = 'req-previous'
        first.get_response(app)
        second = webob.Request.blank('/agent/v1/x')
        second.environ['openstack.request_id'] = 'req-own'
        resp = second.get_response(app)
        self.assertEqual(502, resp.status_code)
        errors = [entry for entry in seen if '502' in entry[0]]
        self.assertEqual(1, len(errors), seen)
        self.assertEqual('req-own', errors[0][1])


class TestNoAuth(testtools.TestCase):

    def _call(self, path, headers):
        req = webob.Request.blank(path, headers=headers)
        req.script_name = '/v1'
        return req.get_response(auth.NoAuthMiddleware(_echo_identity))

    def test_missing_or_blank_token_is_401(self):
        for headers in ({}, {'X-Auth-Token': '  '}):
            resp = self._call('/proj/software_configs', headers)
            self.assertEqual(401, resp.status_code)
            self.assertIn('WWW-Authenticate', resp.headers)

    def test_project_from_path_and_default_roles(self):
        resp = self._call('/proj/software_configs', {'X-Auth-Token': 't'})
        doc = resp.json_body
        self.assertEqual('proj', doc['HTTP_X_PROJECT_ID'])
        self.assertEqual('reader,member', doc['HTTP_X_ROLES'])

    def test_project_in_utf8_path_is_decoded(self):
        resp = self._call('/caf%C3%A9/x', {'X-Auth-Token': 't'})
        self.assertEqual('caf\u00e9', resp.json_body['HTTP_X_PROJECT_ID'])

    def test_roles_header_sets_roles(self):
        resp = self._call('/proj/x', {'X-Auth-Token': 't', 'X-Roles': ''})
        self.assertEqual('', resp.json_body['HTTP_X_ROLES'])

    def test_client_identity_headers_do_not_choose_the_project(self):
        resp = self._call('/proj/x', {
            'X-Auth-Token': 't', 'X-Project-Id': 'other',
            'X-Is-Admin-Project': 'False', 'X-Service-Roles': 'admin'})
        doc = resp.json_body
        self.assertEqual('proj', doc['HTTP_X_PROJECT_ID'])
        self.assertIsNone(doc['HTTP_X_IS_ADMIN_PROJECT'])
        self.assertIsNone(doc['HTTP_X_SERVICE_ROLES'])


class TestBodyLimit(testtools.TestCase):

    def test_declared_length_over_limit_is_413(self):
        req = webob.Request.blank('/', method='POST', body=b'x' * 11)
        resp = req.get_response(body_limit.BodyLimit(_echo_identity, 10))
        self.assertEqual(413, resp.status_code)
        self.assertIn(b'11 bytes', resp.body)

    def _chunked(self, size):
        req = webob.Request.blank('/', method='POST', body=b'x' * size)
        del req.headers['Content-Length']
        req.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
        # What gunicorn and uWSGI say for a chunked body.
        req.environ['wsgi.input_terminated'] = True
        return req

    def test_chunked_body_over_limit_is_413_before_the_app_runs(self):
        @webob.dec.wsgify
        def must_not_run(req):
            raise AssertionError('the application saw the body')

        resp = self._chunked(20).get_response(
            body_limit.BodyLimit(must_not_run, 10))
        self.assertEqual(413, resp.status_code)
        doc = jsonutils.loads(resp.body)
        self.assertEqual('RequestLimitExceeded', doc['error']['type'])

    def test_chunked_body_within_limit_reaches_the_app(self):
        @webob.dec.wsgify
        def echo(req):
            return webob.Response(body=req.body)

        resp = self._chunked(10).get_response(body_limit.BodyLimit(echo, 10))
        self.assertEqual(200, resp.status_code)
        self.assertEqual(b'x' * 10, resp.body)

    def test_request_without_length_or_chunks_passes_unread(self):
        class Unreadable(object):
            def read(self, *args):
                raise AssertionError('the body was read')

        req = webob.Request.blank('/', method='GET')
        req.environ.pop('CONTENT_LENGTH', None)
        req.environ['wsgi.input'] = Unreadable()
        req.environ['wsgi.input_terminated'] = True
        resp = req.get_response(body_limit.BodyLimit(_echo_identity, 10))
        self.assertEqual(200, resp.status_code)

    def test_body_at_limit_passes(self):
        req = webob.Request.blank('/', method='POST', body=b'x' * 10)
        resp = req.get_response(body_limit.BodyLimit(_echo_identity, 10))
        self.assertEqual(200, resp.status_code)


class TestStartupAndHealth(testtools.TestCase):

    def test_noauth_warns_at_start_up(self):
        logger = self.useFixture(fixtures.FakeLogger())
        auth.noauth_filter_factory({})
        self.assertIn('auth_strategy = noauth', logger.output)
        self.assertIn('development only', logger.output)

    def test_healthcheck_reports_an_unreachable_database(self):
        from heat_deploy.api.middleware import healthcheck
        from heat_deploy.db import engine as db_engine

        def unreachable():
            raise RuntimeError('connection refused')

        self.useFixture(fixtures.MockPatchObject(db_engine, 'ping',
                                                 unreachable))
        self.useFixture(fixtures.FakeLogger())
        result = healthcheck.DatabaseCheck(None, {}).healthcheck(8004)
        self.assertFalse(result.available)
        self.assertEqual('Database unreachable', result.reason)
