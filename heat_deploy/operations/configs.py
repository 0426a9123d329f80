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

"""Software config operations: immutable scripts or documents with I/O."""

from oslo_utils import timeutils

from heat_deploy.db import engine
from heat_deploy.db import software_configs as queries
from heat_deploy import exception
from heat_deploy.operations import config_io

# POST /validate checks templates made of these resources only.
TEMPLATE_CONFIG_TYPES = ('OS::Heat::SoftwareConfig',
                         'OS::Heat::StructuredConfig')
ONLY_CONFIGS = ('heat_deploy validates software config templates only: a '
                'template whose resources are all of type %s.'
                % ' or '.join(TEMPLATE_CONFIG_TYPES))


def build_document(config=None, inputs=None, outputs=None, options=None):
    """The document stored for a config, validated.

    :raises heat_deploy.exception.Invalid: bad inputs or outputs.
    """
    return {
        'config': config,
        'inputs': config_io.normalise_inputs(inputs),
        'outputs': config_io.normalise_outputs(outputs),
        'options': {} if options is None else options,
    }


def validate_template(template):
    """Check a software config template; returns Heat's validate answer.

    :raises heat_deploy.exception.BadRequest: not a software config
        template.
    :raises heat_deploy.exception.Invalid: a resource whose properties are
        not a valid config.
    """
    def invalid(reason):
        return exception.BadRequest(reason='%s %s' % (reason, ONLY_CONFIGS))

    if not isinstance(template, dict):
        raise invalid('The field "template" must be a JSON object.')
    resources = template.get('resources') or {}
    if not isinstance(resources, dict) or not resources:
        raise invalid('The template has no resources.')
    for name, resource in resources.items():
        if (not isinstance(resource, dict)
                or resource.get('type') not in TEMPLATE_CONFIG_TYPES):
            raise invalid('Resource %s is not a software config.' % name)
        properties = resource.get('properties') or {}
        if not isinstance(properties, dict):
            raise exception.BadRequest(
                reason='The properties of resource %s must be an object.'
                % name)
        build_document(config=properties.get('config'),
                       inputs=properties.get('inputs'),
                       outputs=properties.get('outputs'),
                       options=properties.get('options'))
    return {'Description': template.get('description', 'No description'),
            'Parameters': {}}


class Configs(object):
    """The config operations of one running service.

    :param conf: the service's ConfigOpts.
    :param events: heat_deploy.operations.events.Events.
    """

    def __init__(self, conf, events):
        self.conf = conf
        self.events = events

    @engine.writer_connection
    def create(self, ctx, name, group, document):
        """Create a config owned by the caller's project.

        :param document: from build_document().
        :raises heat_deploy.exception.RequestLimitExceeded: quota reached.
        :returns: the new row.
        """
        queries.check_quota(ctx.connection, ctx,
                            self.conf.quota.max_software_configs_per_tenant)
        row = queries.insert(ctx.connection, ctx, name, group, document)
        self.events.config(ctx.connection, ctx, 'create', row,
                           timeutils.utcnow())
        return row

    @engine.reader
    def show(self, ctx, config_id):
        """A visible config's row.

        :raises heat_deploy.exception.SoftwareConfigNotFound: missing or
            another project's.
        """
        return queries.fetch(ctx.session, ctx, config_id)

    @engine.reader
    def list(self, ctx, limit=None, marker=None):
        """Visible config rows, newest first, in pages (see queries.page)."""
        return queries.page(ctx.session, ctx, limit=limit, marker=marker)

    @engine.writer
    def delete(self, ctx, config_id):
        """Delete a visible config that no deployment uses."""
        row = queries.delete(ctx.session, ctx, config_id)
        self.events.config(ctx.session, ctx, 'delete', row,
                           timeutils.utcnow())
