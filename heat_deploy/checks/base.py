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

"""What every check module shares: the result of a check and its title.

heat_deploy.checks re-exports these names; the check modules import them
from here, since the package imports the check modules to list them.
"""

import re

OK = 'OK'
WARNING = 'WARNING'
FAILURE = 'FAILURE'


class Result(object):
    """What one check found.

    :param code: ``OK``, ``WARNING`` or ``FAILURE``.
    :param message: what was found, in a sentence or two.
    :param hint: what the operator should do about it, or None.
    """

    def __init__(self, code, message, hint=None):
        self.code = code
        self.message = message
        self.hint = hint

    def line(self):
        """The message and the hint as one line."""
        if not self.hint:
            return _sentence(self.message)
        return '%s %s' % (_sentence(self.message), _sentence(self.hint))

    def __repr__(self):
        return 'Result(%r, %r, %r)' % (self.code, self.message, self.hint)


def _sentence(text):
    text = text.strip()
    return text if text.endswith(('.', '!', '?', '"')) else text + '.'


def one_line(err):
    """An exception's message on one line, without SQLAlchemy's footers."""
    text = str(err)
    text = re.sub(r'\(Background on this error at: [^)]*\)', '', text)
    text = re.sub(r'\[SQL: .*', '', text, flags=re.DOTALL)
    text = ' '.join(text.split())
    return text[:500] or type(err).__name__


def titled(title):
    """Give a check function the title its result is printed under."""
    def mark(function):
        function.title = title
        return function
    return mark
