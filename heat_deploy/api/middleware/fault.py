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

Errors raised by heat_deploy's own code are rendered where they happen. This
middleware catches what is left: unhandled exceptions (a 500 that carries the
request id, never a traceback) and error responses written by other
middleware or by Pecan's router (404, 405, keystonemiddleware's 401), which
it rewrites into the same fault format while keeping their status and
headers such as Allow and WWW-Authenticate.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob
import webob.dec
import webob.exc

from heat_deploy.api import fault

LOG = logging.getLogger(__name__)

# Headers of the original error response that must survive the rewrite.
_KEPT_HEADERS = ('allow', 'www-authenticate', 'x-openstack-request-id',
                 'retry-after')


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


class FaultWrapper(object):
    """WSGI middleware that turns every error into Heat's fault body."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            resp = req.get_response(self.application)
        except Exception:
            request_id = req.environ.get('openstack.request_id')
            LOG.exception('Unhandled error serving %(method)s %(path)s',
                          {'method': req.method, 'path': req.path})
            return fault.response(
                500, 'InternalServerError',
                'The server failed to process the request. Report request '
                'id %s to the operator.' % request_id,
                request_id=request_id)
        if resp.status_code < 400:
            return resp
        if resp.headers.pop(fault.RENDERED_HEADER, None):
            return resp
        kept = {name: value for name, value in resp.headers.items()
                if name.lower() in _KEPT_HEADERS}
        error_type = webob.exc.status_map.get(
            resp.status_code, webob.exc.HTTPError).__name__
        message = _message_of(resp)
        if message is None:
            message = _default_message(req, resp)
        rewritten = fault.response(resp.status_code, error_type, message,
                                   headers=kept)
        del rewritten.headers[fault.RENDERED_HEADER]
        return rewritten


def _default_message(req, resp):
    code = resp.status_code
    if code == 404:
        return 'The resource could not be found: %s' % req.path
    if code == 405:
        return ('Method %s is not allowed for %s; allowed methods are '
                'listed in the Allow header.' % (req.method, req.path))
    if code == 401:
        return ('Authentication required: send a valid token in the '
                'X-Auth-Token header.')
    status_cls = webob.exc.status_map.get(code, webob.exc.HTTPError)
    return status_cls.explanation


def filter_factory(global_conf, **local_conf):
    return FaultWrapper
