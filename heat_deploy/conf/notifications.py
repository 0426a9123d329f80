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

"""Options of the [notifications] group: events on the message bus.

Where they go is oslo.messaging's [oslo_messaging_notifications] (driver,
transport_url, topics), registered with the other library options.
"""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'notifications',
    title='Notification options',
    help='Every change of a config or deployment is written to an outbox in '
         'the transaction of the change, and heat-deploy-worker publishes it '
         'with oslo.messaging ([oslo_messaging_notifications]).')

OPTS = [
    cfg.BoolOpt(
        'enabled', default=False,
        help='Write and publish notifications. Off by default, so the '
             'embedded default needs no message broker.'),
    cfg.IntOpt(
        'retention', default=14, min=0,
        help='Days a published notification stays in the outbox before '
             'heat-deploy-manage purge deletes it.'),
    cfg.StrOpt(
        'publisher_host',
        help='Host part of the publisher id "heat-deploy.<host>"; the '
             'machine\'s host name when unset.'),
]
