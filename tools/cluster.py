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
gunicorn: the services are that virtualenv's console scripts. The
topology, the HAProxy and Galera choices and the fault primitives are
described in heat_deploy/tests/cluster/environment.py, which this is the
command line of.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from heat_deploy.tests.cluster import environment  # noqa: E402


if __name__ == '__main__':
    sys.exit(environment.main())
