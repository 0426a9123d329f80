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

"""heat-deploy-manage: database schema management and configuration checks."""

import argparse
import datetime
import secrets
import sys

from cryptography import fernet
from oslo_config import cfg
from oslo_config import generator
from oslo_utils import timeutils

from heat_deploy import checks
from heat_deploy.conf import opts
from heat_deploy import context
from heat_deploy.db import engine as db_engine
from heat_deploy.db import migration
from heat_deploy.operations import delivery
from heat_deploy.operations import deployments
from heat_deploy import service
from heat_deploy import timestamps


def do_db_sync(conf):
    db_engine.configure(conf)
    migration.upgrade()
    print('Database schema is at revision %s.' % migration.version())


def do_db_version(conf):
    db_engine.configure(conf)
    print(migration.version() or 'None (empty database)')


def do_check(conf):
    """Print every start-up check, one line each; returns the exit status.

    0 when every check is OK, 1 with warnings only, 2 with a failure.
    """
    # The check reports the database as it is now, at once, instead of
    # waiting for oslo.db's start-up retries ([database] max_retries).
    conf.set_override('max_retries', 0, group='database')
    results = checks.run(conf)
    for title, result in results:
        print('%-7s  %s: %s' % (result.code, title, result.line()))
    return checks.exit_code(results)


def do_purge(conf):
    """Delete attempts that ended more than --older-than days ago, and
    published notifications and finished webhook deliveries older than
    [notifications] retention days.
    """
    db_engine.configure(conf)
    now = timeutils.utcnow()
    before = now - datetime.timedelta(days=conf.command.older_than)
    removed = deployments.purge_attempts(context.get_admin_context(),
                                         before)
    print('Removed %d attempt(s) that ended before %s.'
          % (removed, timestamps.format_time(before)))
    kept_since = now - datetime.timedelta(
        days=conf.notifications.retention)
    events, deliveries = delivery.purge_events(context.get_admin_context(),
                                               kept_since)
    print('Removed %d notification(s) and %d webhook delivery record(s) '
          'from before %s.' % (events, deliveries,
                               timestamps.format_time(kept_since)))


def _purge_arguments(parser):
    parser.add_argument(
        '--older-than', type=_days, required=True, metavar='DAYS',
        help='Delete earlier attempts (never a deployment, never its '
             'current attempt) that ended more than DAYS days ago.')


def _days(text):
    try:
        days = float(text)
    except ValueError:
        days = -1
    if not 0 <= days <= 36500:
        raise argparse.ArgumentTypeError(
            'DAYS must be a number of days from 0 to 36500, not %r' % text)
    return days


def do_keys_generate(conf):
    """Print a [signal] section with a new signing and encryption key.

    Appended to the configuration file, it gives the URL transports their
    signing key and HEAT_SIGNAL its encryption key (a Fernet key).
    """
    print('[signal]')
    print('signing_keys = %s' % secrets.token_urlsafe(32))
    print('encryption_keys = %s' % fernet.Fernet.generate_key().decode())


def do_config_sample(conf):
    """Print the sample configuration: every option, with its help."""
    args = ['--wrap-width', '79']
    for namespace in opts.SAMPLE_NAMESPACES:
        args += ['--namespace', namespace]
    generator.main(args)


# command -> (help, {subcommand: (help, function)}), or (help, function)
# for a command without subcommands.
COMMANDS = {
    'db': ('Database schema management.', {
        'sync': ('Create the schema or upgrade it to the newest revision.',
                 do_db_sync),
        'version': ('Print the schema revision of the database.',
                    do_db_version),
    }),
    'check': ('Check the configuration as the API checks it at start-up. '
              'Prints one line per check (OK, WARNING or FAILURE, with a '
              'hint); exits 0 when all are OK, 1 with warnings only, 2 '
              'with a failure.', do_check),
    'purge': ('Delete old records: earlier attempts of deployments that '
              'ended more than --older-than DAYS days ago, and published '
              'notifications and finished webhook deliveries older than '
              '[notifications] retention days. Prints how many it '
              'removed.', do_purge, _purge_arguments),
    'keys': ('Key material.', {
        'generate': ('Print a [signal] section with a new signing key and '
                     'a new encryption key, to append to the configuration '
                     'file.', do_keys_generate),
    }),
    'config': ('The configuration.', {
        'sample': ('Print a sample configuration file: every option of '
                   'heat_deploy and of the libraries it uses, with its '
                   'help and default.', do_config_sample),
    }),
}


def _add_commands(subparsers):
    for name, (help_text, action, *arguments) in COMMANDS.items():
        parser = subparsers.add_parser(name, help=help_text)
        for add_arguments in arguments:
            add_arguments(parser)
        if callable(action):
            parser.set_defaults(func=action)
            continue
        commands = parser.add_subparsers(dest='%s_command' % name)
        commands.required = True
        for sub_name, (sub_help, function) in action.items():
            commands.add_parser(sub_name, help=sub_help).set_defaults(
                func=function)


def main(argv=None):
    conf = service.make_conf()
    conf.register_cli_opt(cfg.SubCommandOpt(
        'command', title='Commands', handler=_add_commands))
    conf = service.prepare_service(
        sys.argv[1:] if argv is None else argv, conf=conf)
    try:
        return conf.command.func(conf) or 0
    except Exception as err:
        print('heat-deploy-manage: %s' % err, file=sys.stderr)
        return 1
