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

"""Paste factories for oslo.middleware filters bound to our ConfigOpts."""

from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id

from heat_deploy.api import environ


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


def cors_filter_factory(global_conf, **local_conf):
    return lambda application: environ.BuiltOnFirstRequest(
        lambda conf: CORS(application, conf))


def http_proxy_to_wsgi_filter_factory(global_conf, **local_conf):
    return lambda application: environ.BuiltOnFirstRequest(
        lambda conf: http_proxy_to_wsgi.HTTPProxyToWSGI(application, conf))


def request_id_filter_factory(global_conf, **local_conf):
    return request_id.RequestId


def healthcheck_app_factory(global_conf, **local_conf):
    return environ.BuiltOnFirstRequest(
        lambda conf: healthcheck.Healthcheck(None, conf))
