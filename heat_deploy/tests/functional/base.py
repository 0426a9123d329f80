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

"""Base class for functional tests that call the WSGI application directly."""

from urllib import parse
import uuid

import fixtures
from oslo_serialization import jsonutils
import testtools
import webob

from heat_deploy.tests.functional.fixtures import service


class Response(object):
    """The parts of a response the tests look at."""

    def __init__(self, resp):
        self.status = resp.status_code
        self.headers = resp.headers
        self.body = resp.body
        self.json = (jsonutils.loads(resp.body)
                     if resp.content_type == 'application/json'
                     and resp.body else None)


class APITestCase(testtools.TestCase):
    """Calls one in-process application (all middleware) as clients would.

    Each test gets its own project id in self.tenant, so tests sharing the
    database never see each other's objects.
    """

    overrides = None

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(level='DEBUG'))
        self.app = service.make_app(self.overrides)
        self.tenant = uuid.uuid4().hex

    def call(self, method, url, json=None, headers=None, token='t',
             data=None):
        """Request a path (/v1/...) or an absolute URL; returns Response."""
        split = parse.urlsplit(url)
        path = split.path + ('?' + split.query if split.query else '')
        req = webob.Request.blank(path, method=method,
                                  base_url='http://heat-deploy.test')
        if token is not None:
            req.headers['X-Auth-Token'] = token
        if json is not None:
            req.content_type = 'application/json'
            req.body = jsonutils.dump_as_bytes(json)
        elif data is not None:
            req.content_type = 'application/json'
            req.body = data
        req.headers.update(headers or {})
        return Response(req.get_response(self.app))

    def v1(self, path, tenant=None):
        return '/v1/%s%s' % (tenant or self.tenant, path)

    def create_config(self, **fields):
        resp = self.call('POST', self.v1('/software_configs'), json=fields)
        self.assertEqual(200, resp.status, resp.body)
        return resp.json['software_config']

    def create_deployment(self, expected_status=200, **fields):
        resp = self.call('POST', self.v1('/software_deployments'),
                         json=fields)
        self.assertEqual(expected_status, resp.status, resp.body)
        return resp.json.get('software_deployment', resp.json)

    def get_config(self, config_id):
        return self.call('GET', self.v1('/software_configs/' + config_id))
