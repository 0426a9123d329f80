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

"""The cluster scaling benchmark (tools/bench/cluster_scale.py) keeps
working: its --quick run against the test cluster, taken as it runs
(--reuse: it starts, stops and reconfigures nothing). It asserts the
table, zero unexpected answers and that HAProxy sends to every API host
again afterwards; nothing about speed.
"""

import json
import os
import subprocess
import sys

import fixtures
from testtools import content

from heat_deploy.tests.cluster import base
from heat_deploy.tests.cluster import environment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
TOOL = os.path.join(ROOT, 'tools', 'bench', 'cluster_scale.py')
LABELS = ('PUT deployment', 'signal (capability URL)',
          'agent metadata, 304', 'agent metadata, 200')
VIAS = ('api1 direct', 'lb, 1 host', 'lb, 2 hosts', 'lb, 3 hosts')
TIMEOUT = 240


class TestQuickScale(base.ClusterTestCase):

    def test_quick_run_measures_every_path_and_topology(self):
        directory = self.useFixture(fixtures.TempDir()).path
        figures = os.path.join(directory, 'figures.json')
        cluster = self.cluster
        run = subprocess.run(
            [sys.executable, TOOL, '--quick', '--reuse',
             '--prefix', cluster.prefix, '--subnet', cluster.subnet,
             '--workdir', cluster.workdir, '--json', figures],
            cwd=directory, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        self.addDetail('stdout', content.text_content(run.stdout))
        self.addDetail('stderr', content.text_content(run.stderr[-20000:]))
        self.assertEqual(0, run.returncode)

        rows = [line.split(' | ') for line in run.stdout.splitlines()
                if line.startswith('| ') and line.split(' | ')[0][2:]
                in LABELS]
        self.assertEqual(sorted((label, via) for label in LABELS
                                for via in VIAS),
                         sorted((row[0][2:], row[2]) for row in rows))
        self.assertIn('Extrapolation', run.stdout)

        with open(figures) as document:
            measured = json.load(document)
        for row in measured['results']:
            self.assertEqual(0, row['unexpected'], row['label'])
            self.assertGreater(row['rounds'][0]['requests'], 0,
                               row['label'])
            self.assertIsNotNone(row['ms_per_request']['api'], row['label'])
        self.assertEqual(2, len(measured['saturation']['steps']))
        self.assertIsNotNone(measured['extrapolation']['api_cores'])

        # Every API host is back in HAProxy's rotation.
        states = cluster.lb_server_states()
        for host in environment.API_HOSTS:
            self.assertEqual('UP', states[('api_hosts', host)][0], host)
