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

"""Absolute URLs that point back at this API."""


_MOUNTS = ('/v1', '/agent')


def base_url(conf, request):
    """Scheme, host and prefix under which clients reach the API.

    [api] public_endpoint wins (heat_deploy behind a proxy); otherwise the
    request's own host URL (which http_proxy_to_wsgi may have corrected).
    """
    if conf.api.public_endpoint:
        return conf.api.public_endpoint.rstrip('/')
    # SCRIPT_NAME is any prefix the WSGI server mounts us under plus the
    # api-paste.ini mount point of the application answering.
    prefix = request.script_name
    for mount in _MOUNTS:
        if prefix.endswith(mount):
            prefix = prefix[:-len(mount)]
            break
    return request.host_url + prefix
