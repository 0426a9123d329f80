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

"""Operations tests: the real operations on a migrated SQLite database."""

import uuid

import fixtures
import testtools

from heat_deploy.api import app
from heat_deploy import context
from heat_deploy.db import engine
from heat_deploy.tests.functional.fixtures import service


class OperationsTestCase(testtools.TestCase):
    """The operations of one application, called without HTTP.

    Each test acts in a project of its own.
    """

    overrides = None

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        conf = service.make_conf(self.overrides)
        engine.configure(conf)
        self.state = app.AppState(conf)
        self.project = uuid.uuid4().hex
        self.ctx = self.context()

    def context(self, project=None, roles=('reader', 'member'), **kwargs):
        return context.RequestContext(
            project_id=project or self.project, user_id='u',
            roles=list(roles), enforcer=self.state.enforcer, **kwargs)
