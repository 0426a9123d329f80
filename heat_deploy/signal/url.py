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

"""CFN_SIGNAL and TEMP_URL_SIGNAL: the server pushes to a capability URL.

In Heat these are a pre-signed EC2 URL of heat-api-cfn (POST) and a Swift
temporary URL (PUT). heat_deploy serves both itself: the derived config gets
``deploy_signal_id`` (an HMAC-signed URL of this service, bound to the
deployment, the method and the attempt, expiring after [signal] url_ttl) and
``deploy_signal_verb``, which is exactly what heat-config-notify uses.
"""

from heat_deploy import capability
from heat_deploy.signal import base


class URLSignalDriver(base.SignalDriver):
    """Signals pushed to a signed URL of this service."""

    #: HTTP method the agent must use.
    verb = None

    def __init__(self, conf):
        super().__init__(conf)
        self.signer = capability.Signer(conf.signal.signing_keys)
        if not self.signer.keys:
            raise ValueError('[signal] signing_keys must be set to enable '
                             'URL signal transports')

    def validate(self, context, deployment):
        pass

    def create_signal(self, context, deployment):
        url = capability.signal_url(
            self.signer, deployment.base_url, deployment.id, self.verb,
            self.conf.signal.url_ttl, attempt=deployment.attempt or 1)
        return [
            base.string_input(
                'deploy_signal_id', url,
                'ID of signal to use for signaling output values'),
            base.string_input(
                'deploy_signal_verb', self.verb,
                'HTTP verb to use for signaling output values'),
        ]

    def delete_signal(self, context, deployment):
        # Nothing is stored: the URL dies with the deployment (404) or when
        # it expires.
        pass


class CFNSignalDriver(URLSignalDriver):
    """CFN_SIGNAL: POST to the signal URL."""

    verb = 'POST'


class TempURLSignalDriver(URLSignalDriver):
    """TEMP_URL_SIGNAL: PUT to the signal URL."""

    verb = 'PUT'
