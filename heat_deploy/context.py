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

"""Request context: who is calling, and the database transaction scope."""

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade

from heat_deploy import exception


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """oslo.context request context that can check policy.

    :ivar enforcer: the policy enforcer of the running application, set by
        the API's context hook; None in code that runs outside a request.
    """

    def __init__(self, *args, enforcer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.enforcer = enforcer

    def can(self, rule, target=None, fatal=True):
        """Check a policy rule for this caller.

        :param rule: policy rule name, e.g. ``software_configs:index``.
        :param target: dict of target attributes; defaults to the caller's
            own project.
        :param fatal: raise Forbidden on denial instead of returning False.
        :raises heat_deploy.exception.Forbidden: denied and fatal.
        :returns: whether the rule allows the call.
        """
        if target is None:
            target = {'project_id': self.project_id}
        allowed = self.enforcer.authorize(rule, target, self)
        if not allowed and fatal:
            raise exception.Forbidden(action=rule)
        return allowed


def get_admin_context():
    """A context for maintenance code paths that act on every project."""
    return RequestContext(is_admin=True, overwrite=False)
