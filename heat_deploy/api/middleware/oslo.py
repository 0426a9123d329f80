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

"""Paste factories for oslo.middleware filters bound to our ConfigOpts.

oslo.middleware's filters wrap every request and answer in WebOb objects
and look up their own method signature on each call. Where the filter
has nothing to do for a request (no Origin header for CORS, proxy headers
not trusted), the request goes straight to the application; the request
ID is set with plain WSGI. The filters' behaviour and options are
oslo.middleware's own.
"""

import re

from oslo_context import context
from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id

from heat_deploy.api import environ

_GLOBAL_REQUEST_ID = re.compile(request_id.ID_FORMAT)
_INBOUND_KEY = 'HTTP_' + request_id.INBOUND_HEADER.upper().replace('-', '_')


class CORS(cors.CORS):
    """oslo.middleware's CORS, for browsers only.

    oslo's answers every OPTIONS request 200 with an empty body, as a
    preflight; one without an Origin header is no preflight, so it gets the
    application's own answer (405 with Allow).
    """

    def process_response(self, response, request=None):
        if (request is not None and request.method == 'OPTIONS'
                and 'Origin' not in request.headers):
            return response
        return super().process_response(response, request)

    def __call__(self, environ, start_response):
        # Only browsers send Origin, and without one CORS changes nothing
        # (process_response above and oslo's request checks return early).
        if 'HTTP_ORIGIN' not in environ:
            return self.application(environ, start_response)
        return super().__call__(environ, start_response)


class RequestId(request_id.RequestId):
    """oslo.middleware's RequestId in plain WSGI.

    Sets openstack.request_id (and openstack.global_request_id from a
    well-formed inbound X-Openstack-Request-Id) in the environ, and adds
    x-openstack-request-id to the answer unless the application set it.
    """

    def __call__(self, environ, start_response):
        inbound = environ.get(_INBOUND_KEY)
        if inbound and _GLOBAL_REQUEST_ID.match(inbound):
            environ[request_id.GLOBAL_REQ_ID] = inbound
        req_id = context.generate_request_id()
        environ[request_id.ENV_REQUEST_ID] = req_id
        names = [request_id.HTTP_RESP_HEADER_REQUEST_ID]
        names.extend(self.compat_headers)

        def start_with_id(status, headers, exc_info=None):
            present = {name.lower() for name, _value in headers}
            headers.extend((name, req_id) for name in names
                           if name.lower() not in present)
            return start_response(status, headers, exc_info)
        return self.application(environ, start_with_id)


def cors_filter_factory(global_conf, **local_conf):
    return lambda application: environ.BuiltOnFirstRequest(
        lambda conf: CORS(application, conf))


def http_proxy_to_wsgi_filter_factory(global_conf, **local_conf):
    def build(application, conf):
        # Making the filter registers its options.
        middleware = http_proxy_to_wsgi.HTTPProxyToWSGI(application, conf)
        if conf.oslo_middleware.enable_proxy_headers_parsing:
            return middleware
        # Off (the default), it leaves every request as it is.
        return application
    return lambda application: environ.BuiltOnFirstRequest(
        lambda conf: build(application, conf))


def request_id_filter_factory(global_conf, **local_conf):
    return RequestId


def healthcheck_app_factory(global_conf, **local_conf):
    return environ.BuiltOnFirstRequest(
        lambda conf: healthcheck.Healthcheck(None, conf))
