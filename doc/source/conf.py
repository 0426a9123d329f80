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

"""Sphinx configuration of heat_deploy's documentation (tox -e docs).

Plain Sphinx and no network access: no intersphinx, no theme package.
"""

import os
import re
import sys

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

sys.path.insert(0, os.path.abspath(os.path.join('..', 'ext')))

project = 'heat_deploy'
copyright = 'heat_deploy contributors'
author = 'heat_deploy contributors'

extensions = [
    'openapi_ref',
]

root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = []
pygments_style = 'sphinx'

html_theme = 'alabaster'
html_title = 'heat_deploy'
html_static_path = []
# Served next to api-ref.html, which links it.
html_extra_path = ['openapi.json']


class RstFileLinks(SphinxTransform):
    """Turn links to sibling .rst files into links to their documents.

    The guides link each other with plain relative links, such as
    ```Running behind Keystone <keystone.rst>`__``, which work where the
    files are read as they are (a code host). Here they become :doc:
    references: a link to a missing guide is a warning, and a link whose
    text is the file name shows the guide's title.
    """

    # After docutils has resolved named references to their URIs (640).
    default_priority = 700
    LINK = re.compile(r'(?P<doc>[\w./-]+)\.rst')

    def apply(self, **kwargs):
        for ref in list(self.document.findall(nodes.reference)):
            uri = ref.get('refuri', '')
            match = self.LINK.fullmatch(uri)
            if not match or '//' in uri:
                continue
            xref = addnodes.pending_xref(
                '', refdomain='std', reftype='doc', refwarn=True,
                reftarget=match.group('doc'), refdoc=self.env.docname,
                refexplicit=ref.astext() != uri)
            xref += nodes.inline(ref.astext(), ref.astext())
            ref.replace_self(xref)


def setup(app):
    app.add_transform(RstFileLinks)
