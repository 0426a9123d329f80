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

"""Heat's rules for turning a server's signal into deployment state.

Pure functions, no database: the transports and the API feed them the
deployment as stored and the signal's details, and persist what they return.
"""

from heat_deploy import lifecycle

IN_PROGRESS = lifecycle.IN_PROGRESS
COMPLETE = lifecycle.COMPLETE
FAILED = lifecycle.FAILED
STATUSES = lifecycle.STATUSES

OUTPUTS_RECEIVED = 'Outputs received'
# Keys every agent sends; always recorded, null when absent.
STANDARD_OUTPUTS = ('deploy_stdout', 'deploy_stderr', 'deploy_status_code')


class SignalResult(object):
    """The state a signal leads to.

    :ivar output_values: the merged outputs to store.
    :ivar status: COMPLETE or FAILED.
    :ivar status_reason: Heat's reason text.
    :ivar status_code: the deploy_status_code that failed, or None.
    """

    def __init__(self, output_values, status, status_reason, status_code):
        self.output_values = output_values
        self.status = status
        self.status_reason = status_reason
        self.status_code = status_code

    def describe(self, deployment_id):
        """Heat's one-line summary of the signal."""
        if self.status == COMPLETE:
            return 'deployment %s succeeded' % deployment_id
        if self.status_code is not None:
            return 'deployment %s failed (%s)' % (deployment_id,
                                                  self.status_code)
        return 'deployment %s failed' % deployment_id


def _failed_code(code):
    # 0, "0", null and absent mean success; anything else truthy fails.
    if code and str(code) != '0':
        return code
    return None


def apply(current_status, current_outputs, declared_outputs, details):
    """Apply a signal to a deployment.

    :param current_status: the deployment's status now.
    :param current_outputs: its output_values now (None for none).
    :param declared_outputs: the config's outputs (dicts with ``name`` and
        ``error_output``).
    :param details: the signal's JSON object; None counts as {}.
    :returns: a SignalResult, or None when the signal must be ignored
        because the deployment is not IN_PROGRESS.
    """
    if current_status != IN_PROGRESS:
        return None
    details = details or {}
    outputs = dict(current_outputs or {})
    reasons = []

    status_code = _failed_code(details.get('deploy_status_code'))
    if status_code is not None:
        reasons.append('deploy_status_code : Deployment exited with '
                       'non-zero status code: %s' % status_code)

    for output in declared_outputs:
        name = output['name']
        if name not in details:
            continue
        outputs[name] = details[name]
        if output.get('error_output'):
            reasons.append('%s : %s' % (name, details[name]))

    for name in STANDARD_OUTPUTS:
        outputs[name] = details.get(name)

    if reasons:
        return SignalResult(outputs, FAILED, ', '.join(reasons),
                            status_code)
    return SignalResult(outputs, COMPLETE, OUTPUTS_RECEIVED, None)
