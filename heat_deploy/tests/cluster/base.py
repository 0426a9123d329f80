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

"""The base test case of the cluster tests: one environment per test run.

Starting Galera costs about half a minute, so the environment is brought
up by the first test class of a test process and stays up for the classes
that follow; each class brings it back to health first (``up`` starts
what was stopped and reconnects what was cut), so a class that left a
node down does not spoil the next. The last thing the process does is
bring it down (atexit), unless HEAT_DEPLOY_TEST_CLUSTER_KEEP is set (to
run the tests again quickly; ``python tools/cluster.py down`` then).
HEAT_DEPLOY_TEST_CLUSTER_WORKDIR names the work directory (default
/tmp/hdc-cluster). ``tox -e
cluster`` also brings it down before and after the run, whatever
happened, in case a test process was killed.

Test classes hold an exclusive lock on the environment while they run,
so test processes started in parallel by stestr take turns rather than
injecting faults under each other.

The tests skip, with the reason, when this machine cannot run the
environment: not root, or haproxy, galera-4 or mariadbd missing.
"""

import atexit
import fcntl
import os
import time

from cryptography import fernet
import requests
import testtools

from heat_deploy.tests.cluster import environment

KEEP_ENV = 'HEAT_DEPLOY_TEST_CLUSTER_KEEP'
# A second environment beside the default one (another prefix and /24),
# for running two sets of cluster tests on one machine at once.
PREFIX_ENV = 'HEAT_DEPLOY_TEST_CLUSTER_PREFIX'
SUBNET_ENV = 'HEAT_DEPLOY_TEST_CLUSTER_SUBNET'
LOCK_TIMEOUT = 1800
TOKEN = 'cluster-test'

# What every API host and worker runs with, for the tests' sake: a small
# config quota the quota test reaches, webhooks to the tests' receiver on
# the root namespace's address, and sweeps every second.
CONFIG_QUOTA = 40
SECTIONS = {
    'quota': {'max_software_configs_per_tenant': str(CONFIG_QUOTA)},
    'deployment': {'sweep_interval': '1'},
}

_cluster = None


def shared_cluster():
    """The Cluster of this test process (not started yet)."""
    global _cluster
    if _cluster is None:
        prefix = os.environ.get(PREFIX_ENV, environment.DEFAULT_PREFIX)
        subnet = os.environ.get(SUBNET_ENV, environment.DEFAULT_SUBNET)
        sections = dict(SECTIONS, webhooks={
            'allowed_hosts': '%s.%d' % (subnet, environment.ROOT_NUMBER),
            # The receiver is on the cluster's private network.
            'denied_networks': ''},
            # Webhook secrets are stored sealed; one key on every host.
            signal={'encryption_keys': fernet.Fernet.generate_key().decode()})
        _cluster = environment.Cluster(
            os.environ.get(environment.WORKDIR_ENV), prefix=prefix,
            subnet=subnet, sections=sections)
        if not os.environ.get(KEEP_ENV):
            atexit.register(_bring_down, _cluster)
    return _cluster


def _bring_down(cluster):
    # Only once no other test process uses it: they take the lock first.
    with _ClusterLock(cluster, timeout=LOCK_TIMEOUT):
        cluster.down()


class _ClusterLock(object):
    """An exclusive lock on one environment, across processes."""

    def __init__(self, cluster, timeout):
        self.path = '/tmp/%s-cluster.lock' % cluster.prefix
        self.timeout = timeout
        self.lock_file = None

    def __enter__(self):
        self.lock_file = open(self.path, 'a+')
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.lock_file.seek(0)
                    holder = self.lock_file.read().strip()
                    self.lock_file.close()
                    raise environment.ClusterError(
                        'the cluster environment is still in use after %d '
                        's (lock %s, held by %s)'
                        % (self.timeout, self.path, holder or '?'))
                time.sleep(0.5)
        self.lock_file.seek(0)
        self.lock_file.truncate()
        self.lock_file.write('pid %d\n' % os.getpid())
        self.lock_file.flush()
        return self

    def __exit__(self, *exc_info):
        fcntl.flock(self.lock_file, fcntl.LOCK_UN)
        self.lock_file.close()


class ClusterTestCase(testtools.TestCase):
    """Tests against the running environment: ``self.cluster`` (see
    environment.Cluster for the fault primitives), and requests through
    the load balancer (``self.lb``) or to one API host (``self.host``).
    """

    cluster = None
    _skip_reason = None
    _lock = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reasons = environment.missing_requirements()
        if reasons:
            # Skipped in setUp: each test then says why.
            cls._skip_reason = ('cluster environment unavailable: %s'
                                % '; '.join(reasons))
            return
        cls.cluster = shared_cluster()
        cls._lock = _ClusterLock(cls.cluster, LOCK_TIMEOUT)
        cls._lock.__enter__()
        try:
            cls.cluster.up()
        except Exception:
            # Leave nothing half-started behind; the next class starts
            # over.
            try:
                cls.cluster.down()
            finally:
                cls._release()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._release()
        super().tearDownClass()

    @classmethod
    def _release(cls):
        if cls._lock is not None:
            cls._lock.__exit__(None, None, None)
            cls._lock = None

    def setUp(self):
        super().setUp()
        if self._skip_reason:
            self.skipTest(self._skip_reason)

    def request(self, base_url, method, path, tenant='demo', **kwargs):
        """A request to ``base_url/v1/{tenant}{path}``, with a token."""
        headers = {'X-Auth-Token': TOKEN}
        headers.update(kwargs.pop('headers', {}))
        kwargs.setdefault('timeout', 30)
        url = '%s/v1/%s%s' % (base_url, tenant, path)
        return requests.request(method, url, headers=headers, **kwargs)

    def lb(self, method, path, **kwargs):
        """An API request through HAProxy."""
        return self.request(self.cluster.lb_url, method, path, **kwargs)

    def host(self, api_host, method, path, **kwargs):
        """An API request to one API host directly."""
        return self.request(self.cluster.api_url(api_host), method, path,
                            **kwargs)

    def assertStatus(self, expected, response):
        self.assertEqual(expected, response.status_code,
                         '%s %s answered %d: %s'
                         % (response.request.method, response.request.url,
                            response.status_code, response.text[:2000]))
