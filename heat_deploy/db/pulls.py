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

"""The query of the worker's pull step: deployments whose outputs a pull
transport holds (ZAQAR_SIGNAL) and nobody may show.
"""

import sqlalchemy as sa

from heat_deploy.db import models
from heat_deploy import lifecycle

Model = models.SoftwareDeployment


def waiting(session, transports, after, limit):
    """Ids of stored-IN_PROGRESS deployments of the given transports.

    In id order, from after ``after`` (None: from the start), ``limit`` at
    most, for every project: the caller pages through them.
    """
    if not transports:
        return []
    query = sa.select(Model.id).where(
        Model.status == lifecycle.IN_PROGRESS,
        Model.signal_transport.in_(sorted(transports)))
    if after is not None:
        query = query.where(Model.id > after)
    return list(session.execute(
        query.order_by(Model.id).limit(limit)).scalars())
