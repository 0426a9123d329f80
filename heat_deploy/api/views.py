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

"""The API forms of configs and deployments, as Heat renders them."""

from heat_deploy import secret_values
from heat_deploy import timestamps


def config(row, secret_box=None):
    """Full form of a config, as create, show and the metadata view give it.

    :param secret_box: decrypt secret input values with it (only for the
        server's own metadata URL); without it they are shown as ***.
    """
    doc = row.config or {}
    inputs = doc.get('inputs', [])
    inputs = (secret_values.mask(inputs) if secret_box is None
              else secret_values.reveal(inputs, secret_box))
    return {
        'id': row.id,
        'name': row.name,
        'group': row.group,
        'config': doc.get('config'),
        'inputs': inputs,
        'outputs': doc.get('outputs', []),
        'options': doc.get('options', {}),
        'creation_time': timestamps.format_time(row.created_at),
    }


def config_summary(row, with_project=False):
    """List form of a config; the owner is shown only to administrators."""
    summary = {
        'id': row.id,
        'name': row.name,
        'group': row.group,
        'creation_time': timestamps.format_time(row.created_at),
    }
    if with_project:
        summary['project'] = row.tenant
    return summary


def deployment(item, masked=False):
    """A deployment's form; updated_time is left out until the first update.

    A webhook's ``notify_url`` shows only where the deployment has one, in
    clear for its owner's create, update and show, else as ``***`` (it may
    carry a token); its secret only in the answer to the request that set
    it.

    :param item: a heat_deploy.db.software_deployments.Deployment.
    :param masked: a form for lists, notifications and webhooks.
    """
    result = {
        'id': item.id,
        'config_id': item.config_id,
        'server_id': item.server_id,
        'input_values': item.input_values,
        'output_values': item.output_values,
        'action': item.action,
        'status': item.status,
        'status_reason': item.status_reason,
        'creation_time': timestamps.format_time(item.created_at),
    }
    if item.updated_at is not None:
        result['updated_time'] = timestamps.format_time(item.updated_at)
    result['timeout'] = item.timeout
    result['delivery_timeout'] = item.delivery_timeout
    result['deadline_time'] = timestamps.format_time(item.deadline_time)
    result['delivered_time'] = timestamps.format_time(item.delivered_at)
    if item.notify_url:
        result['notify_url'] = secret_values.MASK if masked \
            else item.notify_url
    if item.new_notify_secret and not masked:
        result['notify_secret'] = item.new_notify_secret
    return result


def attempt(number, item, deliveries=()):
    """One attempt of a deployment.

    :param item: the Deployment (its current attempt) or an earlier
        attempt's row; both have the fields shown.
    :param deliveries: the attempt's webhook deliveries.
    """
    result = {
        'number': number,
        'config_id': item.config_id,
        'action': item.action,
        'status': item.status,
        'status_reason': item.status_reason,
        'output_values': item.output_values,
        'start_time': timestamps.format_time(item.started_at),
        'delivered_time': timestamps.format_time(item.delivered_at),
        'end_time': timestamps.format_time(item.ended_at),
    }
    if item.late_output_values is not None:
        result['late_output_values'] = item.late_output_values
    if deliveries:
        result['webhook_deliveries'] = [
            {'event': delivery.event, 'tries': delivery.tries}
            for delivery in deliveries]
    return result
