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

"""Errors heat_deploy reports to API callers.

Each error carries the HTTP status it maps to and a message safe to show to
the caller. The class name becomes the fault body's ``error.type``, as in
Heat, so names follow Heat's where Heat has one.
"""


class HeatDeployException(Exception):
    """Base of every error whose message is meant for the API caller."""

    msg_fmt = 'An unknown error occurred.'
    code = 500
    headers = {}

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs
        self.message = message
        super().__init__(message)


class Invalid(HeatDeployException):
    msg_fmt = 'Data supplied was not valid: %(reason)s'
    code = 400


class BadRequest(HeatDeployException):
    """A request that cannot be served as it is."""

    msg_fmt = '%(reason)s'
    code = 400
    # The type Heat's webob-based API gives these.
    fault_type = 'HTTPBadRequest'


class NotFound(HeatDeployException):
    msg_fmt = 'The resource could not be found.'
    code = 404


class SoftwareConfigNotFound(NotFound):
    msg_fmt = 'Software config with id %(config_id)s not found'


class DeploymentNotFound(NotFound):
    msg_fmt = 'Deployment with id %(deployment_id)s not found'


class Forbidden(HeatDeployException):
    msg_fmt = 'You are not authorized to use %(action)s.'
    code = 403


class Conflict(HeatDeployException):
    code = 409


class InvalidRestrictedAction(Conflict):
    msg_fmt = '%(reason)s'


class PreconditionFailed(HeatDeployException):
    msg_fmt = '%(reason)s'
    code = 412


class RequestLimitExceeded(HeatDeployException):
    msg_fmt = 'Request limit exceeded: %(reason)s'
    code = 400


class DeploymentStateConflict(Conflict):
    """The deployment is not in a state that allows the action."""

    msg_fmt = '%(reason)s'


class SignalRefused(Conflict):
    """A signal came after its attempt ended (deadline, cancel, re-run)."""

    msg_fmt = '%(reason)s'
