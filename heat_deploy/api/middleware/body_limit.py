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

"""Refuse request bodies larger than [api] max_json_body_size with 413."""

from oslo_middleware import sizelimit
import webob.dec
import webob.exc

from heat_deploy.api import fault


class BodyLimit(object):
    """Reject large bodies before anything reads them.

    A declared Content-Length over the limit is refused at once; a chunked
    body is wrapped so that reading past the limit fails the same way.
    """

    def __init__(self, application, max_size):
        self.application = application
        self.max_size = max_size

    def _too_large(self, size_text):
        return fault.response(
            413, 'RequestLimitExceeded',
            'Request limit exceeded: JSON body size (%s) exceeds maximum '
            'allowed size (%d bytes).' % (size_text, self.max_size))

    @webob.dec.wsgify
    def __call__(self, req):
        if req.content_length is not None:
            if req.content_length > self.max_size:
                return self._too_large('%d bytes' % req.content_length)
        elif req.method in ('POST', 'PUT', 'PATCH'):
            # No declared length: a chunked body. Count while it is read.
            req.body_file = sizelimit.LimitingReader(req.body_file_raw,
                                                     self.max_size)
        try:
            return req.get_response(self.application)
        except webob.exc.HTTPRequestEntityTooLarge:
            return self._too_large('more than %d bytes' % self.max_size)


def filter_factory(global_conf, **local_conf):
    from heat_deploy.api import app as api_app
    conf = api_app.conf_from_paste(global_conf)

    def _filter(application):
        return BodyLimit(application, conf.api.max_json_body_size)
    return _filter
