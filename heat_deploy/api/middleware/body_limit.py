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

import webob.dec

from heat_deploy.api import fault


class BodyLimit(object):
    """Reject large bodies before anything else reads them.

    A declared Content-Length over the limit is refused at once; a body of
    undeclared length (chunked) is read here, at most one byte past the
    limit, so that both are refused the same way before the application
    sees them.
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
        elif req.is_body_readable:
            body = self._read_at_most(req.body_file, self.max_size + 1)
            if len(body) > self.max_size:
                return self._too_large('more than %d bytes' % self.max_size)
            req.body = body
        return req.get_response(self.application)

    @staticmethod
    def _read_at_most(stream, size):
        # A read may return less than asked for before the end.
        chunks = []
        while size > 0:
            chunk = stream.read(size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b''.join(chunks)


def filter_factory(global_conf, **local_conf):
    from heat_deploy.api import app as api_app
    conf = api_app.conf_from_paste(global_conf)

    def _filter(application):
        return BodyLimit(application, conf.api.max_json_body_size)
    return _filter
