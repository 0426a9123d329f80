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

"""Three API hosts, a load balancer and a three-node Galera cluster in
network namespaces on this machine (as root)::

    python tools/cluster.py up|down|status [--workdir DIR] [--prefix hdc]

``up`` and ``down`` may be repeated; ``down --purge`` also removes the
work directory (default /tmp/PREFIX-cluster: configuration, data, logs).
Run it with the python of the virtualenv that has heat_deploy and
gunicorn: the services are that virtualenv's console scripts.

In short (the details, the addresses and the fault primitives are in
heat_deploy/tests/cluster/environment.py, which this is the command line
of): the root namespace reaches everything on 10.213.0.0/24; the API is
http://10.213.0.10:8004 (HAProxy), the hosts 10.213.0.11-13:8004, the
Galera nodes 10.213.0.21-23:3306. HAProxy checks the API hosts with GET
/healthcheck every 500 ms (fall 2, rise 2) and retries a refused
connection for every method but an empty answer or a timeout only for
methods other than POST and PATCH. API host N reaches MySQL through the
load balancer's port 3306+N-1, which prefers Galera node N and keeps the
other two as backups. Those are checked over HTTP against a small
responder on each database host (port 9200) that answers 200 only when
its node is Synced in the primary component: a TCP or mysql-check would
take a joiner, a blocked donor or a node cut off from the others for
healthy. Each API host runs gunicorn with 2 sync workers: a new
connection per request, so a dead host shows as a refused connection,
which is safe to retry, rather than as a reused connection that answers
nothing.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from heat_deploy.tests.cluster import environment  # noqa: E402


if __name__ == '__main__':
    sys.exit(environment.main())
