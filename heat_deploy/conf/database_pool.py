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

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'database_pool',
    title='Database connection pool options',
    help='How heat_deploy checks the pooled connections that oslo.db '
         '([database]) makes. The rest of the pool is configured in '
         '[database]. On MySQL/MariaDB and PostgreSQL each process keeps '
         'two pools of that size: one for transactions, and one in '
         'autocommit mode for the single-statement reads of agent polls '
         'and metadata views, so count twice [database] max_pool_size '
         '(plus max_overflow) connections per process when sizing the '
         'database\'s max_connections.')

OPTS = [
    cfg.FloatOpt(
        'ping_after_idle', default=5.0, min=0,
        help='Seconds a pooled connection may sit unused before it is '
             'checked with a ping when it is taken again; a dead one is '
             'replaced before the request uses it. Connections in steady '
             'use are not pinged, which saves a round trip to the database '
             'on every request. 0 pings at every use (oslo.db\'s own '
             'behaviour).'),
]
