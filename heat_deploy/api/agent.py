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

"""Routes for in-server agents, authorised by signed URLs, not tokens.

Mounted at /agent (outside keystonemiddleware): the agents that run inside
servers (os-collect-config, heat-config-notify) send no credentials, only
the capability URLs the service handed out:

* ``POST|PUT /agent/v1/deployments/{deployment_id}/signal``: a signal
  (CFN_SIGNAL, TEMP_URL_SIGNAL).
* ``GET|HEAD /agent/v1/metadata/{tenant_id}/{server_id}``: the server's
  deployments for os-collect-config's request collector.

A plain WebOb application rather than Pecan: these are the hot paths that
every server polls, so they do a signature check and one or two indexed
queries and nothing else. A poll whose If-None-Match is the current ETag,
what nearly every poll is, is answered 304 before WebOb is involved.
"""

import email.utils
from urllib import parse

from oslo_serialization import jsonutils
import webob
import webob.dec
import webob.exc

from heat_deploy.api import body
from heat_deploy.api import environ
from heat_deploy.api import fault
from heat_deploy.api import links
from heat_deploy.api import request
from heat_deploy.api import views
from heat_deploy import capability
from heat_deploy import context
from heat_deploy import exception


def _json(status, doc, **headers):
    resp = webob.Response(status=status, content_type='application/json',
                          charset='UTF-8', body=jsonutils.dump_as_bytes(doc))
    resp.headers.update(headers)
    return resp


def signal_answer(deployment_id, result, after):
    """What a signal request answers, on every signal route."""
    return {'deployment_id': deployment_id,
            'signal': 'ignored' if result is None else 'applied',
            'status': after.status}


# environ key: the PollState a poll read before it went on to a full
# answer, so that the answer does not read it again.
_POLL_STATE = 'heat_deploy.agent.poll_state'


def _metadata_headers(server):
    return {'ETag': '"%s"' % server.etag,
            'Last-Modified': email.utils.formatdate(server.last_modified,
                                                    usegmt=True),
            'Cache-Control': 'no-cache'}


class AgentApp(object):
    """WSGI application of the agent routes."""

    def __call__(self, environ_, start_response):
        headers = self._not_modified(environ_)
        if headers is not None:
            start_response('304 Not Modified', list(headers.items()))
            return []
        return self._answer(environ_, start_response)

    @staticmethod
    def _not_modified(environ_):
        """The headers of a 304 if the request is a metadata poll whose
        If-None-Match is exactly the current ETag (as the request collector
        sends it), else None: any other request gets the full treatment.
        """
        if_none_match = environ_.get('HTTP_IF_NONE_MATCH')
        if (if_none_match is None
                or environ_['REQUEST_METHOD'] not in ('GET', 'HEAD')):
            return None
        parts = environ_.get('PATH_INFO', '').strip('/').split('/')
        if len(parts) != 4 or parts[:2] != ['v1', 'metadata']:
            return None
        state = environ.app_state(environ_)
        params = dict(parse.parse_qsl(environ_.get('QUERY_STRING', '')))
        try:
            server = state.servers.check_url(context.get_admin_context(),
                                             parts[2], parts[3], params)
        except exception.HeatDeployException:
            # The full answer says why.
            return None
        headers = _metadata_headers(server)
        if if_none_match != headers['ETag']:
            environ_[_POLL_STATE] = server
            return None
        return headers

    @webob.dec.wsgify(RequestClass=request.Request)
    def _answer(self, req):
        # PATH_INFO is already decoded by the WSGI server.
        parts = req.path_info.strip('/').split('/')
        state = environ.app_state(req.environ)
        try:
            if (len(parts) == 4 and parts[:2] == ['v1', 'deployments']
                    and parts[3] == 'signal'):
                return self._signal(state, req, parts[2])
            if len(parts) == 4 and parts[:2] == ['v1', 'metadata']:
                return self._metadata(state, req, parts[2], parts[3])
        except (exception.HeatDeployException, webob.exc.HTTPException) as err:
            return fault.from_exception(err)
        return fault.response(404, 'HTTPNotFound',
                              'The resource could not be found: %s'
                              % req.path)

    @staticmethod
    def _signal(state, req, deployment_id):
        if req.method not in ('POST', 'PUT'):
            raise webob.exc.HTTPMethodNotAllowed(
                'Signal URLs take POST or PUT.',
                headers={'Allow': 'POST, PUT'})
        attempt = capability.check_signal(state.signer, req.method,
                                          deployment_id, req.GET)
        payload = body.json_object(req)
        result, after = state.deployments.signal_by_capability(
            deployment_id, payload, attempt)
        return _json(200, signal_answer(deployment_id, result, after))

    @staticmethod
    def _metadata(state, req, tenant, server_id):
        if req.method not in ('GET', 'HEAD'):
            raise webob.exc.HTTPMethodNotAllowed(
                'Metadata URLs take GET or HEAD.',
                headers={'Allow': 'GET, HEAD'})
        admin = context.get_admin_context()
        server = req.environ.pop(_POLL_STATE, None)
        if server is None:
            server = state.servers.check_url(admin, tenant, server_id,
                                             req.GET)
        headers = _metadata_headers(server)
        if (server.etag in req.if_none_match
                or (req.if_modified_since is not None
                    and not req.if_none_match
                    and req.if_modified_since.timestamp()
                    >= server.last_modified)):
            resp = webob.Response(status=304)
            resp.headers.update(headers)
            return resp
        if req.method == 'HEAD':
            resp = webob.Response(status=200,
                                  content_type='application/json')
            resp.headers.update(headers)
            return resp
        deployments = [
            views.config(row, state.secret_box)
            for row in state.servers.configs(admin, tenant, server_id)]
        settings = state.servers.settings(
            links.base_url(state.conf, req), tenant, server_id, server)
        return _json(200, {'deployments': deployments,
                           'os-collect-config': settings}, **headers)


def app_factory(global_conf, **local_conf):
    return AgentApp()
