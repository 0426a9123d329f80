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

"""Options of the [signal] group: how deployments report back."""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'signal',
    title='Signal transport options',
    help='How servers receive their deployments and report outputs back. '
         'Each transport is a driver in the stevedore namespace '
         'heat_deploy.signal_transports, named as Heat names the '
         'transport.')

OPTS = [
    cfg.ListOpt(
        'enabled_transports',
        default=['CFN_SIGNAL', 'TEMP_URL_SIGNAL', 'NO_SIGNAL'],
        help='Signal transports deployments may ask for. Each name must be '
             'an installed entry point of heat_deploy.signal_transports; an '
             'enabled name that cannot be loaded stops the service at '
             'start-up.'),
    cfg.StrOpt(
        'default_transport', default='CFN_SIGNAL',
        help='Transport used when a deployment asks for service-derived '
             'inputs without naming one (Heat\'s '
             'default_deployment_signal_transport). Must be enabled.'),
    cfg.ListOpt(
        'signing_keys', default=[], secret=True,
        help='Secret keys that sign the capability URLs handed to servers '
             '(signal URLs and metadata URLs). The first key signs new '
             'URLs; every key listed is accepted, so rotate by putting a new '
             'key first and removing the old one once its URLs are no longer '
             'needed. Removing a key revokes every URL it signed. Required '
             'when CFN_SIGNAL or TEMP_URL_SIGNAL is enabled or metadata URLs '
             'are used; use long random strings (32 bytes or more).'),
    cfg.ListOpt(
        'encryption_keys', default=[], secret=True,
        help='Fernet keys that encrypt secrets kept in derived configs at '
             'rest (the HEAT_SIGNAL password). The first key encrypts; every '
             'key listed decrypts, so rotate by putting a new key first. '
             'Make one with: python3 -c "from cryptography.fernet import '
             'Fernet; print(Fernet.generate_key().decode())". Required when '
             'HEAT_SIGNAL is enabled.'),
    cfg.IntOpt(
        'url_ttl', default=7 * 24 * 3600, min=60,
        help='Seconds a signal URL stays valid after it is made. A server '
             'that reports later must be given a new URL (a PUT that '
             'changes the deployment\'s action makes one).'),
    cfg.StrOpt(
        'metadata_transport', default='POLL_TEMP_URL',
        choices=[('POLL_TEMP_URL',
                  'os-collect-config\'s request collector polls a signed '
                  'metadata URL of heat_deploy (Heat\'s POLL_TEMP_URL, '
                  'with heat_deploy in place of Swift).'),
                 ('ZAQAR_MESSAGE',
                  'heat_deploy posts the metadata to a Zaqar queue of the '
                  'server\'s own, which os-collect-config\'s zaqar '
                  'collector reads; servers never ask heat_deploy. Needs '
                  'the [heat_signal] stack user domain, [signal] '
                  'encryption_keys and Zaqar in the catalog.')],
        help='How servers get their metadata (Heat\'s '
             'default_software_config_transport): the transport a server '
             'gets when its os-collect-config settings are first asked '
             'for. A server keeps it until PUT '
             '/v1/{tenant_id}/servers/{server_id}/os-collect-config '
             'chooses another; changing this option does not move servers '
             'that have one.'),
    cfg.IntOpt(
        'polling_interval', default=30, min=1,
        help='polling_interval written into the os-collect-config settings '
             'given to servers: how often, in seconds, the agent asks for '
             'new deployments.'),
]
