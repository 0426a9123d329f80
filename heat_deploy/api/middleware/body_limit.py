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

import webob

from heat_deploy.api import environ
from heat_deploy.api import fault


class BodyLimit(object):
    """Reject large bodies before anything else reads them.

    A declared Content-Length over the limit is refused at once; a body of
    undeclared length (chunked) is read here, at most one byte past the
    limit, so that both are refused the same way before the application
    sees them.
    """

    def __init__(self, application, max_size=None):
        self.application = application
        # None: [api] max_json_body_size of the application serving.
        self.max_size = max_size

    @staticmethod
    def _too_large(size_text, max_size):
        return fault.response(
            413, 'RequestLimitExceeded',
            'Request limit exceeded: JSON body size (%s) exceeds maximum '
            'allowed size (%d bytes).' % (size_text, max_size))

    def __call__(self, environ_, start_response):
        max_size = self.max_size or environ.app_state(
            environ_).conf.api.max_json_body_size
        length = environ_.get('CONTENT_LENGTH')
        if length and length.isdigit():
            # The usual request: plain WSGI, no webob objects.
            if int(length) > max_size:
                return self._too_large('%s bytes' % int(length), max_size)(
                    environ_, start_response)
            return self.application(environ_, start_response)
        if not length and 'HTTP_TRANSFER_ENCODING' not in environ_:
            # Neither a length nor chunks: a request without a body
            # (RFC 9112, section 6.3), such as every GET.
            return self.application(environ_, start_response)
        return self._undeclared(webob.Request(environ_))(environ_,
                                                         start_response)

    def _undeclared(self, req):
        """A request without a valid Content-Length, through webob."""
        max_size = self.max_size or environ.app_state(
            req.environ).conf.api.max_json_body_size
        if req.content_length is not None:
            if req.content_length > max_size:
                return self._too_large('%d bytes' % req.content_length,
                                       max_size)
        elif req.is_body_readable:
            body = self._read_at_most(req.body_file, max_size + 1)
            if len(body) > max_size:
                return self._too_large('more than %d bytes' % max_size,
                                       max_size)
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
    return BodyLimit
