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

"""Options of the [webhooks] group: signed notifications of deployments."""

import ipaddress

from oslo_config import cfg
from oslo_config import types

GROUP = cfg.OptGroup(
    'webhooks',
    title='Webhook options',
    help='Where and how the worker POSTs a deployment that reached a final '
         'state to the notify_url its owner gave. The requests come from '
         'the service\'s own network, so only hosts the operator lists are '
         'accepted, and the addresses they resolve to are checked against '
         'denied_networks before every connection.')

DEFAULT_DENIED_NETWORKS = [
    # Loopback, "this network" (0.0.0.0 reaches the local host) and the
    # unspecified IPv6 address (:: reaches it too).
    '127.0.0.0/8', '0.0.0.0/8', '::1/128', '::/128',
    # Link-local: cloud metadata services (169.254.169.254) live here.
    '169.254.0.0/16', 'fe80::/10',
    # Private ranges.
    '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7',
]


class Network(types.String):
    """An IPv4 or IPv6 network in CIDR notation, normalised (host bits of
    10.1.2.3/8 are dropped: 10.0.0.0/8).
    """

    def __init__(self):
        super().__init__(type_name='network value')

    def __call__(self, value):
        value = super().__call__(value).strip()
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError('%r is not a network in CIDR notation, such as '
                             '10.0.0.0/8 or fc00::/7' % value)


OPTS = [
    cfg.ListOpt(
        'allowed_hosts', default=[],
        help='Host names (or IP addresses) a deployment\'s notify_url may '
             'name, compared case-insensitively with the URL\'s host as '
             'written, without resolving it; any port is accepted. A '
             'deployment naming another host is refused with 400. Empty, '
             'the default, disables webhooks: no deployment may set a '
             'notify_url.'),
    cfg.ListOpt(
        'denied_networks', default=DEFAULT_DENIED_NETWORKS,
        item_type=Network(),
        help='Networks (CIDRs, IPv4 or IPv6) the worker never connects to, '
             'checked at every delivery against every address the URL\'s '
             'host resolves to: if any of them is denied the delivery fails '
             'without connecting. IPv4-mapped IPv6 addresses '
             '(::ffff:a.b.c.d) are checked by their IPv4 address too. The '
             'default denies loopback, link-local (where cloud metadata '
             'services live) and private ranges; an empty list denies '
             'nothing, which suits only receivers on trusted networks.'),
    cfg.IntOpt(
        'retry_delay', default=2, min=0,
        help='Seconds before the second try of a delivery that failed; '
             'each further try waits twice as long as the one before.'),
    cfg.IntOpt(
        'max_attempts', default=5, min=1,
        help='Tries of one delivery, the first included, before the worker '
             'gives up on it. A delivery succeeds when the receiver answers '
             'with a 2xx status; any other answer, or none, is retried.'),
    cfg.FloatOpt(
        'timeout', default=10.0, min=0.1, max=30.0,
        help='Seconds one try of a delivery may take in all (at most 30, '
             'well within the lease of the worker that posts): connecting '
             '(to each address the host resolves to in turn, until one '
             'accepts), sending, and reading the answer\'s status. A try '
             'still running then fails. Resolving the host name is not '
             'counted; the system resolver\'s own timeouts bound it.'),
    cfg.StrOpt(
        'ca_file',
        help='File of CA certificates (PEM) that verify the certificates of '
             'https receivers. Unset, the system\'s CA certificates are '
             'used. Certificates are always verified against the URL\'s '
             'host name.'),
]
