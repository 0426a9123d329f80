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

"""Write paths that lose a race in one chosen interleaving, on one server.

A request that read a row before another request's transaction committed
must act on what is there when it writes, not on what it read: each test
holds one request (thread B) right after its read until another request
(thread A) has committed, then lets it go on.

SQLite runs one write transaction at a time (BEGIN IMMEDIATE), so the
interleaving cannot happen there; these tests run on MariaDB and
PostgreSQL. On a Galera cluster the same races end in a certification
failure and a retry instead (doc/source/ha.rst).
"""

import os
import threading

import sqlalchemy as sa
import testtools

from heat_deploy.db import engine
from heat_deploy.db import quota
from heat_deploy.db import software_configs
from heat_deploy.db import software_deployments
from heat_deploy.tests import db_fixture
from heat_deploy.tests.functional import base

TIMEOUT = 10
HELD = 'held'


@testtools.skipIf(
    os.environ.get(db_fixture.BACKEND_ENV, 'sqlite') == 'sqlite',
    'SQLite runs one write transaction at a time')
class TestDeleteAfterAnotherDelete(base.APITestCase):
    """Two DELETEs of one object: one deletes it, the other finds it gone.

    The loser used to delete nothing, give the object's quota count back
    a second time (so the project could then create one more than its
    quota) and answer 204.
    """

    def hold_after(self, module, name):
        """Make ``module.name`` (a read) wait, in the thread named HELD,
        until release() is called; returns (read_done, release).
        """
        read, release = threading.Event(), threading.Event()
        real = getattr(module, name)

        def held(*args, **kwargs):
            found = real(*args, **kwargs)
            if threading.current_thread().name == HELD:
                read.set()
                release.wait(TIMEOUT)
            return found

        self.patch(module, name, held)
        return read, release

    def race(self, url, module, name):
        """DELETE ``url`` in the held thread, and meanwhile in this one;
        returns the statuses (held, other).
        """
        read, release = self.hold_after(module, name)
        statuses = {}

        def held_delete():
            statuses[HELD] = self.call('DELETE', url).status

        thread = threading.Thread(target=held_delete, name=HELD)
        thread.start()
        self.assertTrue(read.wait(TIMEOUT))
        other = self.call('DELETE', url).status
        release.set()
        thread.join(TIMEOUT)
        return statuses[HELD], other

    def usage(self):
        with engine.get_engine().connect() as connection:
            return tuple(connection.execute(sa.select(
                quota.USAGE.c.software_configs,
                quota.USAGE.c.software_deployments).where(
                quota.USAGE.c.project_id == self.tenant)).one())

    def test_config(self):
        doomed = self.create_config(name='doomed')
        self.create_config(name='kept')
        self.assertEqual((2, 0), self.usage())
        self.assertEqual((404, 204), self.race(
            self.v1('/software_configs/%s' % doomed['id']),
            software_configs, 'fetch'))
        self.assertEqual((1, 0), self.usage())

    def test_derived_deployment(self):
        config = self.create_config(name='c')
        doomed = self.create_deployment(
            config_id=config['id'], server_id='s',
            signal_transport='NO_SIGNAL')
        self.create_deployment(config_id=config['id'], server_id='s')
        # The source config and the derived one; both deployments.
        self.assertEqual((2, 2), self.usage())
        self.assertEqual((404, 204), self.race(
            self.v1('/software_deployments/%s' % doomed['id']),
            software_deployments, 'fetch'))
        self.assertEqual((1, 1), self.usage())
