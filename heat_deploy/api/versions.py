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

"""The version document at / and /versions, served without authentication."""

import re

from oslo_serialization import jsonutils
import webob
import webob.dec

from heat_deploy.api import environ
from heat_deploy.api import fault
from heat_deploy.api import links

# Heat answers any version-looking prefix (/v2/...) with the document too.
_VERSIONED_PATH = re.compile(r'^/v\d+(\.\d+)?(/.*)?$')
_DOCUMENT_PATHS = ('', '/', '/versions', '/versions/')


def version_document(base_url):
    return {'versions': [{
        'id': 'v1.0',
        'status': 'CURRENT',
        'links': [{'rel': 'self', 'href': base_url + '/v1/'}],
    }]}


class VersionsApp(object):
    """Answers 300 Multiple Choices with Heat's version document."""

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info
        if path not in _DOCUMENT_PATHS and not _VERSIONED_PATH.match(path):
            return fault.response(
                404, 'HTTPNotFound',
                'The resource could not be found: %s. The API lives under '
                '/v1/{tenant_id}/.' % req.path)
        if req.method not in ('GET', 'HEAD'):
            return fault.response(
                405, 'HTTPMethodNotAllowed',
                'Method %s is not allowed for %s.' % (req.method, req.path),
                headers={'Allow': 'GET, HEAD'})
        return webob.Response(
            status=300, content_type='application/json', charset='UTF-8',
            body=jsonutils.dump_as_bytes(
                version_document(links.base_url(
                    environ.app_state(req.environ).conf, req))))


def app_factory(global_conf, **local_conf):
    return VersionsApp()
