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

"""Options of the [deployment] group: deadlines, attempts, the sweep."""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'deployment',
    title='Deployment lifecycle options',
    help='Deadlines of deployments, the history of their attempts, and the '
         'worker that stores passed deadlines.')

# One week: the largest timeout a request may ask for.
MAX_TIMEOUT = 604800

OPTS = [
    cfg.IntOpt(
        'default_timeout', default=3600, min=0, max=MAX_TIMEOUT,
        help='Seconds a deployment with a service-derived config (one '
             'created with a signal transport) may stay IN_PROGRESS when '
             'its request names no timeout; 0 means no deadline. A '
             'deployment of a config as it is gets no deadline unless it '
             'asks for one.'),
    cfg.IntOpt(
        'default_delivery_timeout', default=0, min=0, max=MAX_TIMEOUT,
        help='Seconds within which the server must fetch a deployment with '
             'a service-derived config when its request names no '
             'delivery_timeout; 0 means no deadline.'),
    cfg.IntOpt(
        'max_attempts_kept', default=20, min=1,
        help='How many attempts (the current one included) each deployment '
             'keeps; older ones are deleted when a new one starts.'),
    cfg.IntOpt(
        'sweep_interval', default=10, min=1,
        help='Seconds between two sweeps of heat-deploy-worker (and of '
             'heat-deploy-api --dev), which store passed deadlines as '
             'FAILED deployments. Views show a passed deadline at once '
             'whether or not a sweep has run.'),
]
