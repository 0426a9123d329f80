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

"""The cluster environment itself: what the other cluster tests rely on."""

import json
import time
import uuid

import pymysql
import requests

from heat_deploy.tests.cluster import base
from heat_deploy.tests.cluster import environment

API_HOSTS = environment.API_HOSTS
DB_NODES = environment.DB_NODES


class TestEnvironment(base.ClusterTestCase):

    def create_config(self):
        name = 'smoke-%s' % uuid.uuid4().hex[:8]
        response = self.lb('POST', '/software_configs', json={
            'name': name, 'group': 'script', 'config': 'echo %s' % name})
        self.assertStatus(200, response)
        return response.json()['software_config']

    def test_galera_cluster_of_three_synced(self):
        states = {node: self.cluster.wsrep_status(node) for node in DB_NODES}
        for node, status in states.items():
            self.assertEqual(
                ('3', 'Synced', 'Primary', 'ON'),
                (status['wsrep_cluster_size'],
                 status['wsrep_local_state_comment'],
                 status['wsrep_cluster_status'], status['wsrep_ready']),
                node)
        self.assertEqual(
            1, len({status['wsrep_cluster_state_uuid']
                    for status in states.values()}),
            'the nodes are not in one cluster: %s' % states)

    def test_each_host_healthy_and_up_in_haproxy(self):
        states = self.cluster.lb_server_states()
        for host in API_HOSTS:
            self.assertTrue(self.cluster.healthy(host), host)
            self.assertEqual(('UP', 'L7OK'), states[('api_hosts', host)],
                             host)
        for node in DB_NODES:
            for host in API_HOSTS:
                self.assertEqual(('UP', 'L7OK'),
                                 states[('mysql_%s' % host, node)],
                                 '%s for %s' % (node, host))

    def test_mysql_frontend_of_each_host_reaches_its_own_node(self):
        for host, node in zip(API_HOSTS, DB_NODES):
            connection = pymysql.connect(
                host=self.cluster.address('lb'),
                port=self.cluster.mysql_port(host), user='root',
                database=environment.DATABASE, connect_timeout=5)
            try:
                with connection.cursor() as cursor:
                    cursor.execute('SELECT @@wsrep_node_name')
                    self.assertEqual(node, cursor.fetchone()[0], host)
            finally:
                connection.close()

    def test_config_through_lb_read_on_every_host_and_node(self):
        config = self.create_config()
        for host in API_HOSTS:
            response = self.host(host, 'GET',
                                 '/software_configs/%s' % config['id'])
            self.assertStatus(200, response)
            self.assertEqual(config, response.json()['software_config'],
                             host)
        for node in DB_NODES:
            rows = self.cluster.sql(
                node, 'SELECT name, config FROM software_config '
                      'WHERE id = %s', (config['id'],), causal=True)
            self.assertEqual(1, len(rows), node)
            self.assertEqual(config['name'], rows[0][0], node)
            self.assertEqual(config['config'],
                             json.loads(rows[0][1])['config'], node)

    def test_links_point_through_the_load_balancer(self):
        for host in API_HOSTS:
            # The version document (300 Multiple Choices) of the host
            # itself: its links must name the lb.
            answer = requests.get(self.cluster.api_url(host) + '/',
                                  timeout=10)
            self.assertEqual(300, answer.status_code, host)
            hrefs = [link['href'] for version in answer.json()['versions']
                     for link in version['links']]
            self.assertTrue(hrefs, host)
            for href in hrefs:
                self.assertTrue(href.startswith(self.cluster.lb_url + '/'),
                                '%s: %s' % (host, href))

    def test_workers_run_on_api1_and_api2(self):
        for host in API_HOSTS:
            self.assertEqual(host in environment.WORKER_HOSTS,
                             self.cluster.running(
                                 self.cluster.worker_name(host)), host)


class TestFaults(base.ClusterTestCase):
    """The fault primitives do what they say, and the environment heals."""

    def create_config(self):
        name = 'fault-%s' % uuid.uuid4().hex[:8]
        response = self.lb('POST', '/software_configs', json={
            'name': name, 'group': 'script', 'config': 'echo %s' % name})
        self.assertStatus(200, response)
        return response.json()['software_config']

    def test_killed_api_host_is_taken_out_and_comes_back(self):
        self.cluster.kill_api('api2')
        self.assertFalse(self.cluster.healthy('api2'))
        # A refused connection is retried on another host: every request
        # through the load balancer succeeds, before and after HAProxy
        # notices.
        for _ in range(6):
            self.create_config()
        self.cluster.wait_lb('api_hosts', 'api2', up=False)
        self.cluster.start_api('api2')
        self.cluster.wait_lb('api_hosts', 'api2')
        config = self.create_config()
        response = self.host('api2', 'GET',
                             '/software_configs/%s' % config['id'])
        self.assertStatus(200, response)

    def test_graceful_restart_of_api_host(self):
        before = self.cluster.pid('api3')
        self.cluster.restart_api('api3')
        self.assertNotEqual(before, self.cluster.pid('api3'))
        self.assertTrue(self.cluster.healthy('api3'))
        self.cluster.wait_lb('api_hosts', 'api3')

    def test_stopped_db_node_rejoins_by_ist(self):
        self.cluster.stop_db('db3')
        self.cluster.wait_cluster(size=2)
        self.cluster.wait_lb('mysql_api3', 'db3', up=False)
        # api3 goes on through a backup node, and writes made while db3
        # is away reach it when it returns.
        config = self.create_config()
        response = self.host('api3', 'GET',
                             '/software_configs/%s' % config['id'])
        self.assertStatus(200, response)
        offset = self.cluster.start_db('db3')
        self.cluster.wait_cluster(size=3)
        self.assertEqual('IST', self.cluster.state_transfer('db3', offset))
        rows = self.cluster.sql('db3', 'SELECT id FROM software_config '
                                       'WHERE id = %s', (config['id'],),
                                causal=True)
        self.assertEqual(((config['id'],),), rows)
        self.cluster.wait_lb('mysql_api3', 'db3')

    def test_db_node_cut_off_leaves_and_returns(self):
        with self.cluster.network_cut('db2'):
            self.cluster.wait_lb('mysql_api2', 'db2', up=False)
            self.cluster.wait_synced('db1', cluster_size=2, timeout=30)
            self.cluster.wait_synced('db3', cluster_size=2, timeout=30)
            self.cluster.wait_api_up()
            config = self.create_config()
            # The node cut off learns it is alone later than the others
            # form their new view (its own inactive timeout).
            deadline = time.monotonic() + 30
            synced, description = self.cluster.db_state('db2')
            while synced and time.monotonic() < deadline:
                time.sleep(0.5)
                synced, description = self.cluster.db_state('db2')
            self.assertFalse(synced, description)
        self.cluster.wait_synced('db2', cluster_size=3, timeout=60)
        rows = self.cluster.sql('db2', 'SELECT id FROM software_config '
                                       'WHERE id = %s', (config['id'],),
                                causal=True)
        self.assertEqual(((config['id'],),), rows)
        self.cluster.wait_lb('mysql_api2', 'db2')

    def test_worker_stops_and_starts(self):
        name = self.cluster.worker_name('api1')
        self.cluster.stop_worker('api1')
        self.assertFalse(self.cluster.running(name))
        self.cluster.start_worker('api1')
        self.assertTrue(self.cluster.running(name))
