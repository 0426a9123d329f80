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

"""What a single server guarantees, on three API hosts writing to three
Galera nodes at once: no lost update, no 5xx, an exact quota, and each
deadline and webhook handled once by two workers.

Every API host writes to its own Galera node (environment's HAProxy
layout), so writers on different hosts conflict at Galera's
certification, not on one server's row locks.
"""

import collections
import concurrent.futures
import http.server
import json
import os
import subprocess
import threading
import time
from urllib import parse
import uuid

import fixtures
import requests

from heat_deploy.tests.cluster import base
from heat_deploy.tests.cluster import environment

API_HOSTS = environment.API_HOSTS
DB_NODES = environment.DB_NODES

WRITERS = 32


def _tenant(what):
    return '%s-%s' % (what, uuid.uuid4().hex[:10])


class _Tally(object):
    """Statuses of many requests from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.server_errors = []

    def add(self, response):
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.server_errors.append(
                    '%s %s: %d %s' % (response.request.method,
                                      response.request.url,
                                      response.status_code,
                                      response.text[:300]))


class GuaranteesTestCase(base.ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.tally = _Tally()
        self.session = requests.Session()
        self.log_offsets = {host: self.cluster.log_offset(host)
                            for host in API_HOSTS}

    def assertNoErrorsLogged(self):
        """Nothing went wrong as far as the API hosts know: lock conflicts
        between nodes are retried, not logged as errors.
        """
        for host, offset in self.log_offsets.items():
            with open(self.cluster.log_path(host), 'rb') as log:
                log.seek(offset)
                errors = [line for line in log.read().decode(
                    'utf-8', 'replace').splitlines()
                    if ' ERROR ' in line or 'Traceback' in line]
            self.assertEqual([], errors[:5], host)

    def call(self, host, method, path, tenant, **kwargs):
        """A request to one API host; every answer is tallied."""
        response = self.request(self.cluster.api_url(host), method, path,
                                tenant=tenant, **kwargs)
        self.tally.add(response)
        return response

    def config(self, host, tenant, outputs=()):
        response = self.call(host, 'POST', '/software_configs', tenant,
                             json={'name': 'c', 'group': 'script',
                                   'config': 'true',
                                   'outputs': [{'name': name}
                                               for name in outputs]})
        self.assertStatus(200, response)
        return response.json()['software_config']['id']

    def deployment(self, host, tenant, config_id, **fields):
        body = dict({'config_id': config_id,
                     'server_id': 'server-%s' % uuid.uuid4().hex[:8],
                     'action': 'CREATE'}, **fields)
        response = self.call(host, 'POST', '/software_deployments', tenant,
                             json=body)
        self.assertStatus(200, response)
        return response.json()['software_deployment']

    def on_every_node(self, statement, args=None):
        """The rows of one statement on each Galera node, read causally."""
        return {node: self.cluster.sql(node, statement, args, causal=True)
                for node in DB_NODES}

    def assertNoServerErrors(self):
        self.assertEqual([], self.tally.server_errors[:10],
                         'answers: %s' % dict(self.tally.statuses))


class TestWritersOnEveryHost(GuaranteesTestCase):

    def test_if_match_puts_from_every_host_lose_no_update(self):
        """32 writers, spread over the three hosts, read-modify-write the
        outputs of four deployments with If-Match; every PUT answered 200
        must be in the result, whichever host and node took it.
        """
        tenant = _tenant('ifmatch')
        config_id = self.config(API_HOSTS[0], tenant)
        deployments = [self.deployment(API_HOSTS[0], tenant, config_id,
                                       status='IN_PROGRESS')['id']
                       for _ in range(4)]
        writes_each = 6
        written = collections.defaultdict(set)
        written_lock = threading.Lock()

        def writer(number):
            host = API_HOSTS[number % len(API_HOSTS)]
            deployment_id = deployments[number % len(deployments)]
            path = '/software_deployments/%s' % deployment_id
            done = 0
            for _try in range(400):
                if done == writes_each:
                    return
                current = self.call(host, 'GET', path, tenant)
                if current.status_code != 200:
                    continue
                key = 'w%02d-%d' % (number, done)
                outputs = dict(current.json()['software_deployment']
                               ['output_values'] or {}, **{key: number})
                answer = self.call(
                    host, 'PUT', path, tenant,
                    headers={'If-Match': current.headers['ETag']},
                    json={'status': 'IN_PROGRESS',
                          'output_values': outputs})
                if answer.status_code == 200:
                    with written_lock:
                        written[deployment_id].add(key)
                    done += 1
            raise AssertionError('writer %d made %d of %d writes in 400 '
                                 'tries' % (number, done, writes_each))

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            for future in [pool.submit(writer, number)
                           for number in range(WRITERS)]:
                future.result()

        self.assertNoServerErrors()
        self.assertNoErrorsLogged()
        # Conflicts happened (or the test proved nothing), and were told
        # as Heat's 412, never as a 5xx.
        self.assertGreater(self.tally.statuses[412], 0,
                           dict(self.tally.statuses))
        self.assertEqual(WRITERS * writes_each,
                         sum(len(keys) for keys in written.values()))
        for deployment_id in deployments:
            for host in API_HOSTS:
                shown = self.call(host, 'GET', '/software_deployments/%s'
                                  % deployment_id, tenant)
                self.assertStatus(200, shown)
                self.assertEqual(
                    written[deployment_id],
                    set(shown.json()['software_deployment']['output_values']),
                    'outputs of %s as %s shows them' % (deployment_id, host))
        rows = self.on_every_node(
            'SELECT id, generation, output_values FROM software_deployment '
            'WHERE tenant = %s ORDER BY id', (tenant,))
        self.assertEqual(rows[DB_NODES[0]], rows[DB_NODES[1]])
        self.assertEqual(rows[DB_NODES[0]], rows[DB_NODES[2]])

    def test_signals_from_every_host_apply_once_each(self):
        """Four signals per deployment at once, through different hosts:
        exactly one is applied, its outputs are the ones stored, and the
        others are answered as ignored.
        """
        per_tenant, tenants = 12, [_tenant('signal') for _ in range(4)]
        urls = {}
        for tenant in tenants:
            config_id = self.config(API_HOSTS[0], tenant,
                                    outputs=['result'])
            for _ in range(per_tenant):
                created = self.deployment(
                    API_HOSTS[0], tenant, config_id, status=None,
                    signal_transport='CFN_SIGNAL', timeout=3600)
                derived = self.call(API_HOSTS[0], 'GET', '/software_configs/%s'
                                    % created['config_id'], tenant).json()
                inputs = {item['name']: item.get('value') for item in
                          derived['software_config']['inputs']}
                url = parse.urlsplit(inputs['deploy_signal_id'])
                urls[created['id']] = (tenant, url.path + '?' + url.query)

        signals = [(deployment_id, copy)
                   for deployment_id in urls for copy in range(4)]
        answers = collections.defaultdict(list)
        answers_lock = threading.Lock()

        def signal(number):
            deployment_id, copy = signals[number]
            # Each copy through another host than the one before.
            host = API_HOSTS[(number + copy) % len(API_HOSTS)]
            response = requests.post(
                self.cluster.api_url(host) + urls[deployment_id][1],
                json={'deploy_status_code': 0,
                      'result': 'copy-%d' % copy}, timeout=30)
            self.tally.add(response)
            with answers_lock:
                answers[deployment_id].append(
                    (copy, response.status_code, response.json()
                     if response.status_code == 200 else response.text))

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(signal, range(len(signals))))

        self.assertNoServerErrors()
        self.assertNoErrorsLogged()
        for deployment_id, (tenant, _path) in urls.items():
            got = answers[deployment_id]
            self.assertEqual([200] * 4, [status for _c, status, _a in got],
                             got)
            applied = [copy for copy, _status, answer in got
                       if answer['signal'] == 'applied']
            self.assertEqual(1, len(applied), got)
            shown = self.call(API_HOSTS[2], 'GET', '/software_deployments/%s'
                              % deployment_id, tenant)
            self.assertStatus(200, shown)
            deployment = shown.json()['software_deployment']
            self.assertEqual('COMPLETE', deployment['status'])
            self.assertEqual('copy-%d' % applied[0],
                             deployment['output_values']['result'])

    def test_a_write_through_one_host_is_read_through_the_next(self):
        """Causal reads ([database] mysql_wsrep_sync_wait = 1): a client
        that moves between hosts, and so between Galera nodes, always
        reads what it has just written.
        """
        tenant = _tenant('causal')
        config_id = self.config(API_HOSTS[0], tenant)
        path = '/software_deployments/%s' % self.deployment(
            API_HOSTS[0], tenant, config_id, status='IN_PROGRESS')['id']
        for number in range(60):
            writer = API_HOSTS[number % len(API_HOSTS)]
            reader = API_HOSTS[(number + 1) % len(API_HOSTS)]
            self.assertStatus(200, self.call(
                writer, 'PUT', path, tenant,
                json={'status': 'IN_PROGRESS',
                      'output_values': {'step': number}}))
            shown = self.call(reader, 'GET', path, tenant)
            self.assertStatus(200, shown)
            self.assertEqual(
                {'step': number},
                shown.json()['software_deployment']['output_values'],
                'written through %s, read through %s' % (writer, reader))


class TestStartUpCheck(base.ClusterTestCase):
    """heat_deploy's check of the Galera settings, on a real node."""

    def manage_check(self, conf_path):
        env = dict(os.environ)
        # Only the file given is read.
        env.pop('HEAT_DEPLOY_CONFIG_FILE', None)
        result = subprocess.run(
            ['ip', 'netns', 'exec', self.cluster.netns(API_HOSTS[0]),
             environment.venv_bin('heat-deploy-manage'), '--config-file',
             conf_path, 'check'], capture_output=True, text=True,
            timeout=120, env=env)
        return result.returncode, result.stdout + result.stderr

    def test_the_hosts_settings_pass(self):
        status, output = self.manage_check(
            self.cluster.conf_path(API_HOSTS[0]))
        self.assertEqual(0, status, output)
        self.assertIn('Galera cluster: this node is Synced', output)

    def test_without_causal_reads_it_refuses(self):
        with open(self.cluster.conf_path(API_HOSTS[0])) as conf:
            text = conf.read()
        self.assertIn('mysql_wsrep_sync_wait = 1', text)
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'heat-deploy.conf')
        with open(path, 'w') as conf:
            conf.write(text.replace('mysql_wsrep_sync_wait = 1',
                                    'mysql_wsrep_sync_wait = 0'))
        status, output = self.manage_check(path)
        self.assertEqual(2, status, output)
        self.assertIn('wsrep_sync_wait=0', output)
        self.assertIn('mysql_wsrep_sync_wait = 1', output)


class TestQuotaAcrossHosts(GuaranteesTestCase):

    def test_concurrent_creates_on_every_host_stop_at_the_quota(self):
        limit = base.CONFIG_QUOTA
        tenant = _tenant('quota')
        attempts = limit + 24

        def create(number):
            return self.call(API_HOSTS[number % len(API_HOSTS)], 'POST',
                             '/software_configs', tenant,
                             json={'name': 'q%d' % number,
                                   'group': 'script', 'config': 'true'})

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            responses = list(pool.map(create, range(attempts)))

        self.assertNoServerErrors()
        statuses = collections.Counter(response.status_code
                                       for response in responses)
        self.assertEqual({200: limit, 400: attempts - limit},
                         dict(statuses))
        refused = [response for response in responses
                   if response.status_code == 400][0].json()
        self.assertEqual('RequestLimitExceeded', refused['error']['type'])
        counts = self.on_every_node(
            'SELECT COUNT(*) FROM software_config WHERE tenant = %s',
            (tenant,))
        self.assertEqual({node: ((limit,),) for node in DB_NODES}, counts)


class _Receiver(http.server.ThreadingHTTPServer):
    """Webhook deliveries posted to the test, on the root namespace's
    address of the cluster network (where the workers can reach it).
    """

    daemon_threads = True

    def __init__(self, address):
        self.posts = []
        self.posts_lock = threading.Lock()
        super().__init__((address, 0), _ReceiverHandler)


class _ReceiverHandler(http.server.BaseHTTPRequestHandler):

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        with self.server.posts_lock:
            self.server.posts.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        pass


class TestTwoWorkers(GuaranteesTestCase):

    def setUp(self):
        super().setUp()
        for host in environment.WORKER_HOSTS:
            self.assertTrue(self.cluster.running(
                self.cluster.worker_name(host)), host)
        self.receiver = _Receiver(self.cluster.address('root'))
        threading.Thread(target=self.receiver.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.receiver.server_close)
        self.addCleanup(self.receiver.shutdown)

    def test_each_deadline_stored_and_told_once(self):
        """Deployments whose deadline passes while both workers sweep:
        each is FAILED once, with one attempt ended by the timeout and one
        webhook delivered.
        """
        tenant = _tenant('workers')
        notify_url = 'http://%s:%d/hook' % self.receiver.server_address
        config_id = self.config(API_HOSTS[0], tenant)
        count = 24
        deployments = [
            self.deployment(API_HOSTS[number % len(API_HOSTS)], tenant,
                            config_id, status='IN_PROGRESS', timeout=2,
                            notify_url=notify_url)['id']
            for number in range(count)]

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = self.cluster.sql(
                DB_NODES[0], 'SELECT COUNT(*) FROM software_deployment '
                'WHERE tenant = %s AND ended_by IS NOT NULL', (tenant,),
                causal=True)
            with self.receiver.posts_lock:
                posted = len(self.receiver.posts)
            if rows[0][0] == count and posted >= count:
                break
            time.sleep(0.5)
        # Time for a second post of any of them, were there one.
        time.sleep(3)

        self.assertNoServerErrors()
        with self.receiver.posts_lock:
            posts = list(self.receiver.posts)
        told = collections.Counter(
            (post['software_deployment']['id'], post['event'])
            for post in posts)
        self.assertEqual(
            {(deployment_id, 'software_deployment.timeout'): 1
             for deployment_id in deployments}, dict(told))
        endings = self.on_every_node(
            'SELECT id, status, ended_by, generation FROM '
            'software_deployment WHERE tenant = %s ORDER BY id', (tenant,))
        self.assertEqual(endings[DB_NODES[0]], endings[DB_NODES[1]])
        self.assertEqual(endings[DB_NODES[0]], endings[DB_NODES[2]])
        self.assertEqual({('FAILED', 'timeout')},
                         {row[1:3] for row in endings[DB_NODES[0]]})
        deliveries = self.on_every_node(
            'SELECT deployment_id, COUNT(*) FROM webhook_delivery d JOIN '
            'software_deployment s ON s.id = d.deployment_id WHERE '
            's.tenant = %s GROUP BY deployment_id', (tenant,))
        self.assertEqual({(deployment_id, 1) for deployment_id in
                          deployments}, set(deliveries[DB_NODES[0]]))
