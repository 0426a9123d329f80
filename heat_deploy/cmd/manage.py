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

"""heat-deploy-manage: database schema management."""

import sys

from oslo_config import cfg

from heat_deploy.db import engine as db_engine
from heat_deploy.db import migration
from heat_deploy import service


def do_db_sync(conf):
    db_engine.configure(conf)
    migration.upgrade()
    print('Database schema is at revision %s.' % migration.version())


def do_db_version(conf):
    db_engine.configure(conf)
    print(migration.version() or 'None (empty database)')


def _add_commands(subparsers):
    db = subparsers.add_parser('db', help='Database schema management.')
    db_commands = db.add_subparsers(dest='db_command')
    db_commands.required = True
    sync = db_commands.add_parser(
        'sync', help='Create the schema or upgrade it to the newest '
                     'revision.')
    sync.set_defaults(func=do_db_sync)
    version = db_commands.add_parser(
        'version', help='Print the schema revision of the database.')
    version.set_defaults(func=do_db_version)


def main(argv=None):
    conf = service.make_conf()
    conf.register_cli_opt(cfg.SubCommandOpt(
        'command', title='Commands', handler=_add_commands))
    conf = service.prepare_service(
        sys.argv[1:] if argv is None else argv, conf=conf)
    try:
        conf.command.func(conf)
    except Exception as err:
        print('heat-deploy-manage: %s' % err, file=sys.stderr)
        return 1
    return 0
