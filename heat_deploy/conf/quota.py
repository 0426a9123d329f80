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

"""Options of the [quota] group: per-project limits."""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'quota',
    title='Quota options',
    help='Limits on how many objects one project may own. Admin callers are '
         'not limited, as in Heat.')

OPTS = [
    cfg.IntOpt(
        'max_software_configs_per_tenant', default=4096, min=-1,
        help='Maximum number of software configs a project may own; -1 '
             'means unlimited. Derived configs made for deployments count '
             'too.'),
    cfg.IntOpt(
        'max_software_deployments_per_tenant', default=4096, min=-1,
        help='Maximum number of software deployments a project may own; -1 '
             'means unlimited.'),
]
