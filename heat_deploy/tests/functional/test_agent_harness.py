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

"""Proves the AgentSandbox fixture against a tiny local metadata server.

No heat_deploy code runs here: a stand-in server on 127.0.0.1 serves a
metadata document and records the agents' signals, so a failure points at
the harness (or the agents), not at the service.
"""

import http.server
import json
import os
import threading

import testtools

from heat_deploy.tests.functional.fixtures import agents

SCRIPT_OK = '''#!/bin/sh
echo "hello $greeting"
echo "some warning" >&2
printf 'result-%s' "$greeting" > "${heat_outputs_path}.result"
'''

SCRIPT_FAIL = '''#!/bin/sh
echo "about to fail" >&2
exit 3
'''


class _StubServer:
    """Serves one metadata document and records signals, on 127.0.0.1."""

    def __init__(self):
        self.document = {}
        self.signals = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _metadata(self, with_body):
                if self.path != '/metadata':
                    self.send_error(404)
                    return
                body = json.dumps(stub.document).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_HEAD(self):
                self._metadata(False)

            def do_GET(self):
                self._metadata(True)

            def _signal(self):
                length = int(self.headers.get('Content-Length', 0))
                stub.signals.append({
                    'verb': self.command,
                    'path': self.path,
                    'headers': {k.lower(): v for k, v in self.headers.items()},
                    'body': json.loads(self.rfile.read(length)),
                })
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            do_POST = _signal
            do_PUT = _signal

            def log_message(self, *args):
                # Keep the test output for the agents' own logs.
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@testtools.skipUnless(
    os.environ.get(agents.HEAT_AGENTS_SRC_ENV),
    '%s is not set: run tools/fetch-heat-agents.sh and point it at the '
    'printed directory to run the agent harness tests'
    % agents.HEAT_AGENTS_SRC_ENV)
class TestAgentHarness(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = _StubServer()
        self.addCleanup(self.server.stop)
        self.metadata_url = self.server.url + '/metadata'
        self.sandbox = self.useFixture(agents.AgentSandbox())

    def _config(self, config_id, script, verb, outputs=('result',)):
        """A derived config as the metadata API returns it."""
        inputs = {
            'greeting': 'world',
            'deploy_server_id': 'server-1',
            'deploy_action': 'CREATE',
            'deploy_signal_transport': 'CFN_SIGNAL',
            'deploy_signal_id': '%s/signal/%s' % (self.server.url,
                                                  config_id),
            'deploy_signal_verb': verb,
        }
        return {
            'id': config_id,
            'name': 'config-%s' % config_id,
            'group': 'script',
            'config': script,
            'inputs': [{'name': k, 'type': 'String', 'value': v}
                       for k, v in inputs.items()],
            'outputs': [{'name': o} for o in outputs],
            'options': {},
            'creation_time': '2026-11-26T23:34:09Z',
        }

    def _serve(self, *configs):
        self.server.document = {
            'deployments': list(configs),
            'os-collect-config': {
                'collectors': ['request'],
                'request': {'metadata_url': self.metadata_url},
                'polling_interval': 30,
            },
        }

    def _run(self, force=False):
        run = self.sandbox.run_once(self.metadata_url, force=force)
        self.assertEqual(0, run.returncode, run)
        return run

    def test_script_signals_and_runs_once(self):
        self._serve(self._config('cfg-a', SCRIPT_OK, 'POST'))
        run = self._run()

        self.assertEqual(1, len(self.server.signals), run)
        sig = self.server.signals[0]
        self.assertEqual('POST', sig['verb'], run)
        self.assertEqual('/signal/cfg-a', sig['path'], run)
        self.assertEqual('application/json', sig['headers']['content-type'])
        self.assertNotIn('x-auth-token', sig['headers'])
        self.assertEqual('hello world\n', sig['body']['deploy_stdout'])
        self.assertIn('some warning', sig['body']['deploy_stderr'])
        self.assertEqual(0, sig['body']['deploy_status_code'])
        self.assertEqual('result-world', sig['body']['result'])
        self.assertEqual(['cfg-a'], self.sandbox.deployed_ids())
        self.assertEqual(sig['body'], self.sandbox.notify_data('cfg-a'))
        # os-apply-config rendered into the sandbox root, not "/".
        with open(self.sandbox.shell_config) as f:
            self.assertEqual(['cfg-a'], [c['id'] for c in json.load(f)])

        # Same config id again: the chain runs, 55-heat-config skips it.
        run = self._run(force=True)
        self.assertIn('Skipping config cfg-a, already deployed', run.output)
        # Unchanged metadata without --force: the chain does not run at all.
        self._run()
        self.assertEqual(1, len(self.server.signals), run)

    def test_new_config_id_runs(self):
        self._serve(self._config('cfg-a', SCRIPT_OK, 'POST'))
        self._run()
        # A new action comes as a new config id beside the old one.
        self._serve(self._config('cfg-a', SCRIPT_OK, 'POST'),
                    self._config('cfg-b', SCRIPT_OK, 'PUT'))
        run = self._run()

        self.assertEqual(['/signal/cfg-a', '/signal/cfg-b'],
                         [s['path'] for s in self.server.signals], run)
        sig = self.server.signals[1]
        self.assertEqual('PUT', sig['verb'])
        self.assertEqual(0, sig['body']['deploy_status_code'])
        self.assertEqual('result-world', sig['body']['result'])
        self.assertEqual(['cfg-a', 'cfg-b'], self.sandbox.deployed_ids())

    def test_failing_script_signals_status_code(self):
        self._serve(self._config('cfg-fail', SCRIPT_FAIL, 'POST'))
        # A failing hook script does not fail the agent cycle itself.
        run = self._run()

        self.assertEqual(1, len(self.server.signals), run)
        body = self.server.signals[0]['body']
        self.assertEqual(3, body['deploy_status_code'])
        self.assertIn('about to fail', body['deploy_stderr'])
        self.assertEqual('', body['deploy_stdout'])
        self.assertNotIn('result', body)
