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

"""The request class of heat_deploy's applications."""

import pecan

from heat_deploy.api import body


class Request(pecan.Request):
    """A request whose JSON body is decoded once, strictly.

    Pecan reads ``request.json`` itself to look for keyword arguments and
    the controllers read the body again; both get the same document, and a
    bad body is a clear 400 (webob's own decoder fails with a 500 on deep
    nesting and accepts NaN).
    """

    @property
    def json(self):
        return body.request_json(self)
