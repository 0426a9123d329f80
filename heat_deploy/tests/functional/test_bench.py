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

"""The benchmark (tools/bench) keeps working: its --quick run.

It runs the whole benchmark for a few seconds, as a newcomer would run it
in full: heat_deploy and the floor under gunicorn on a fresh MariaDB
database (PostgreSQL when HEAT_DEPLOY_TEST_DB is postgresql), and checks
that the table names every path and that every answer was the expected
one. It asserts nothing about speed: a test machine's figures mean
nothing.
"""

import json
import os
import subprocess
import sys

import fixtures
import testtools
from testtools import content

from heat_deploy.tests import db_fixture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BENCH = os.path.join(ROOT, 'tools', 'bench', 'bench.py')
PATHS = ('put', 'signal', 'config', 'config_noquota', 'metadata',
         'agent_304')
LABELS = ('PUT deployment', 'signal (capability URL)',
          'POST config, quota on', 'POST config, quota off',
          'GET metadata (10 depl.)', 'agent metadata, 304')
TIMEOUT = 300
# Database round trips of one request of each path, at most, by backend
# (PostgreSQL's driver sends BEGIN on its own). Writes take no more than
# the floor's SQL, except that a config counts itself in its project's
# usage row also without a quota; reads add the end of their transaction.
ROUND_TRIPS = {
    'mysql': {'put': 3, 'signal': 3, 'config': 3, 'config_noquota': 3,
              'metadata': 1, 'agent_304': 1},
    'postgresql': {'put': 3, 'signal': 4, 'config': 4, 'config_noquota': 4,
                   'metadata': 1, 'agent_304': 1},
}


def _backend():
    return ('postgresql' if os.environ.get(db_fixture.BACKEND_ENV)
            == 'postgresql' else 'mysql')


class TestQuickBenchmark(testtools.TestCase):

    def _bench(self, directory, *args):
        backend = _backend()
        run = subprocess.run(
            [sys.executable, BENCH, '--database', backend,
             '--%s-url' % backend, db_fixture.ADMIN_URLS[backend]]
            + list(args),
            cwd=directory, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        self.addDetail('stdout', content.text_content(run.stdout))
        self.addDetail('stderr', content.text_content(run.stderr[-20000:]))
        self.assertEqual(0, run.returncode)
        return run

    def test_quick_run_prints_every_path_without_errors(self):
        directory = self.useFixture(fixtures.TempDir()).path
        figures = os.path.join(directory, 'figures.json')
        run = self._bench(directory, '--quick', '--json-out', figures)

        lines = run.stdout.splitlines()
        header = [line for line in lines if line.startswith('path ')]
        self.assertEqual(1, len(header), run.stdout)
        for label in LABELS:
            rows = [line for line in lines if line.startswith(label + ' ')]
            self.assertEqual(1, len(rows), label)
            # The last column: unexpected answers, heat_deploy/floor.
            self.assertEqual('0/0', rows[0].split()[-1], rows[0])

        with open(figures) as document:
            results = json.load(document)['results']
        self.assertEqual(sorted(PATHS),
                         sorted(row['path'] for row in results))
        for row in results:
            for app in ('heat_deploy', 'floor'):
                measured = row[app]
                self.assertEqual(0, measured['non_2xx'], row['path'])
                self.assertEqual({}, measured['errors'], row['path'])
                for name in ('requests_per_s', 'p50_ms', 'p99_ms',
                             'cpu_ms', 'db_round_trips'):
                    self.assertIsNotNone(measured[name],
                                         (row['path'], app, name))
                self.assertGreater(measured['rounds'][0]['requests'], 0)

    def test_hot_paths_take_the_fewest_round_trips(self):
        # The trace counts what the workers' driver sent for one request:
        # no ping of a connection in use, no reset after a commit, one
        # transaction per request.
        directory = self.useFixture(fixtures.TempDir()).path
        run = self._bench(directory, '--trace')
        counted = {}
        for line in run.stdout.splitlines():
            words = line.split()
            if words[1:3] == ['on', 'heat_deploy:']:
                counted[words[0]] = int(words[3])
        self.assertEqual(ROUND_TRIPS[_backend()], counted)
