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

"""The one place where a request's URL is decoded and checked.

Runs before routing, for every route. WSGI servers hand the path over as
raw bytes (a latin-1 str); everything behind this middleware may decode it
as UTF-8 and trust that no NUL character (which no database stores) and no
repeated query parameter (heat_deploy has no multi-valued one) reaches it.
"""

from urllib import parse

from heat_deploy.api import fault


def _bad_request(message):
    return fault.response(400, 'HTTPBadRequest', message)


def problem(environ):
    """What is wrong with the request's URL, or None.

    :param environ: the WSGI environ.
    :returns: a message for the caller, or None when the URL is usable.
    """
    try:
        path = environ.get('PATH_INFO', '').encode('latin-1').decode('utf-8')
    except UnicodeError:
        # Also refuses encoded surrogates (%ED%A0%80): strict UTF-8 has none.
        return 'The request URL path is not valid UTF-8.'
    if '\x00' in path:
        return 'The request URL must not contain NUL characters.'
    query = environ.get('QUERY_STRING')
    if not query:
        return None
    try:
        pairs = parse.parse_qsl(query, keep_blank_values=True,
                                encoding='utf-8', errors='strict')
    except UnicodeError:
        return 'The query string is not valid UTF-8.'
    seen = set()
    for name, value in pairs:
        if '\x00' in name or '\x00' in value:
            return 'The request URL must not contain NUL characters.'
        if name in seen:
            return ('The query parameter "%s" was given more than once; '
                    'give it once.' % name)
        seen.add(name)
    return None


class URLCheck(object):
    """Answer 400 with Heat's fault body to a URL nothing could serve."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        message = problem(environ)
        if message is not None:
            return _bad_request(message)(environ, start_response)
        return self.application(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return URLCheck
