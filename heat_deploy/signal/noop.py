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

"""NO_SIGNAL: the server reports nothing; the deployment is COMPLETE at once.
"""

from heat_deploy.signal import base


class NoSignalDriver(base.SignalDriver):
    """Servers run the config and send nothing back."""

    reports_outputs = False

    def validate(self, context, deployment):
        pass

    def create_signal(self, context, deployment):
        return []

    def delete_signal(self, context, deployment):
        pass

    def parse_signal(self, context, deployment, payload):
        raise base.SignalNotSupported(
            'Deployment %s uses NO_SIGNAL and takes no signals.'
            % deployment.id)
