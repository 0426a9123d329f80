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

"""Sphinx configuration of heat_deploy's release notes (tox -e releasenotes).

reno's directive reads the notes in releasenotes/notes from the git
history of the repository this directory is in. Plain Sphinx, no network.
"""

project = 'heat_deploy Release Notes'
copyright = 'heat_deploy contributors'
author = 'heat_deploy contributors'

extensions = [
    'reno.sphinxext',
]

root_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = []
pygments_style = 'sphinx'

html_theme = 'alabaster'
html_title = 'heat_deploy Release Notes'
html_static_path = []
