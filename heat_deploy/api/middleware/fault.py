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

"""Outermost safety net: every error leaves as a Heat fault body.

Errors that the caller caused are rendered where they happen. This
middleware wraps everything else, routing included, and handles what is
left: exceptions nothing rendered (a database that does not answer becomes a
503, anything unknown a 500 that carries the request id, never a
traceback), and error responses written by other middleware or by Pecan's
router (404, 405, keystonemiddleware's 401), which it rewrites into the same
fault format while keeping their status and headers such as Allow and
WWW-Authenticate. Every 5xx is logged here, once, under its own request id.
"""

from urllib import parse

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob
import webob.exc

from heat_deploy.api import fault
from heat_deploy import context

LOG = logging.getLogger(__name__)

# Headers of the original error response that must survive the rewrite.
_KEPT_HEADERS = ('allow', 'www-authenticate', 'x-openstack-request-id',
                 'retry-after')
_REQUEST_ID_HEADER = 'X-OpenStack-Request-ID'


def _message_of(resp):
    """Best human-readable message of an error response not made by us."""
    if resp.content_type == 'application/json':
        try:
            doc = jsonutils.loads(resp.body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            error = doc.get('error')
            if isinstance(error, dict) and error.get('message'):
                return error['message']
            for key in ('message', 'faultstring', 'description'):
                if isinstance(doc.get(key), str):
                    return doc[key]
    return None


def _printable_path(environ):
    """The request path, URL-quoted, whatever bytes it holds."""
    raw = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
    return parse.quote(raw.encode('latin-1', 'replace'),
                       safe="/~!$&'()*+,;=:@")


class FaultWrapper(object):
    """WSGI middleware that turns every error into Heat's fault body."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        request_id = environ.get('openstack.request_id')
        # Log lines written before the caller's own context exists (and all
        # of the agent routes', which act as the service) carry this
        # request's id, not the previous request's of this thread.
        context.RequestContext(request_id=request_id, overwrite=True)
        started = []
        held = []

        def start(status, headers, exc_info=None):
            started[:] = [status, headers]
            return held.append

        try:
            app_iter = self.application(environ, start)
            if started and not held and int(started[0][:3]) < 400:
                # Answers that are not errors pass as they are, without
                # webob objects.
                start_response(*started)
                return app_iter
            # An error, or an application that starts its answer late:
            # hold the whole answer.
            try:
                held.extend(app_iter)
            finally:
                if hasattr(app_iter, 'close'):
                    app_iter.close()
        except Exception as exc:
            resp = self._from_exception(webob.Request(environ), exc,
                                        request_id)
            return resp(environ, start_response)
        status, headers = started
        resp = webob.Response(status=status, headerlist=list(headers),
                              body=b''.join(held))
        if resp.status_code < 400:
            return resp(environ, start_response)
        req = webob.Request(environ)
        if resp.headers.pop(fault.RENDERED_HEADER, None) is None:
            resp = self._rewrite(req, resp)
        if resp.status_code >= 500:
            LOG.error('%(status)s answered to %(method)s %(path)s: '
                      '%(message)s',
                      {'status': resp.status, 'method': req.method,
                       'path': _printable_path(req.environ),
                       'message': _message_of(resp)})
        resp.headers.pop(fault.RENDERED_HEADER, None)
        return resp(environ, start_response)

    @staticmethod
    def _from_exception(req, exc, request_id):
        resp = fault.from_exception(exc) or fault.from_database_error(exc)
        if resp is None:
            LOG.exception('Unhandled error serving %(method)s %(path)s',
                          {'method': req.method,
                           'path': _printable_path(req.environ)})
            resp = fault.response(
                500, 'InternalServerError',
                'The server failed to process the request. Report request '
                'id %s to the operator.' % request_id,
                request_id=request_id)
        elif resp.status_code >= 500:
            LOG.error('%(status)s answered to %(method)s %(path)s: %(exc)s',
                      {'status': resp.status, 'method': req.method,
                       'path': _printable_path(req.environ), 'exc': exc})
        else:
            LOG.info('%(status)s answered to %(method)s %(path)s: %(type)s',
                     {'status': resp.status, 'method': req.method,
                      'path': _printable_path(req.environ),
                      'type': type(exc).__name__})
        if request_id:
            resp.headers[_REQUEST_ID_HEADER] = request_id
        return resp

    @staticmethod
    def _rewrite(req, resp):
        kept = {name: value for name, value in resp.headers.items()
                if name.lower() in _KEPT_HEADERS}
        error_type = webob.exc.status_map.get(
            resp.status_code, webob.exc.HTTPError).__name__
        message = _message_of(resp)
        if message is None:
            message = _default_message(req, resp)
        return fault.response(resp.status_code, error_type, message,
                              headers=kept)


def _default_message(req, resp):
    code = resp.status_code
    path = _printable_path(req.environ)
    if code == 404:
        return 'The resource could not be found: %s' % path
    if code == 405:
        return ('Method %s is not allowed for %s; allowed methods are '
                'listed in the Allow header.' % (req.method, path))
    if code == 401:
        return ('Authentication required: send a valid token in the '
                'X-Auth-Token header.')
    status_cls = webob.exc.status_map.get(code, webob.exc.HTTPError)
    return status_cls.explanation


def filter_factory(global_conf, **local_conf):
    return FaultWrapper
