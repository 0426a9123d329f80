#!/usr/bin/env python3
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

"""Write doc/source/openapi.json from heat_deploy.api.openapi.build().

The document describes the v1 and agent API with the JSON Schemas of
heat_deploy.api.schemas; a unit test fails when the committed copy is out
of date.

Usage::

    python tools/gen-openapi.py            # rewrite doc/source/openapi.json
    python tools/gen-openapi.py --check    # exit 1 if it is out of date
    python tools/gen-openapi.py --stdout   # print it
"""

import argparse
import difflib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from heat_deploy.api import openapi  # noqa: E402

DOC_FILE = os.path.join(ROOT, 'doc', 'source', 'openapi.json')


def render(document=None):
    """The document as the committed file holds it."""
    if document is None:
        document = openapi.build()
    return json.dumps(document, indent=2, ensure_ascii=False) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--check', action='store_true',
                       help='exit 1 if %s is out of date' %
                       os.path.relpath(DOC_FILE, ROOT))
    group.add_argument('--stdout', action='store_true',
                       help='print the document instead of writing it')
    args = parser.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            with open(DOC_FILE, encoding='utf-8') as doc:
                current = doc.read()
        except FileNotFoundError:
            current = ''
        if current == text:
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            current.splitlines(True), text.splitlines(True),
            DOC_FILE, 'generated'))
        return 1
    with open(DOC_FILE, 'w', encoding='utf-8') as doc:
        doc.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
