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

"""heat-deploy-api: a development server for heat_deploy.

Production deployments serve heat_deploy.wsgi.api:application from uWSGI or
gunicorn. With --dev this command runs without any configuration: SQLite in
the current directory, noauth, loopback only, schema migrated at start-up.
"""

import os
import secrets
import socketserver
import sys
from wsgiref import simple_server

from oslo_config import cfg
from oslo_log import log as logging

from heat_deploy.api import app
from heat_deploy import checks
from heat_deploy.conf import api as api_conf
from heat_deploy.db import engine as db_engine
from heat_deploy.db import migration
from heat_deploy import service
from heat_deploy import worker

LOG = logging.getLogger(__name__)

DEV_DATABASE = 'heat_deploy.sqlite'
DEV_SIGNING_KEY_FILE = 'heat_deploy.signing-key'

CLI_OPTS = [
    cfg.BoolOpt(
        'dev', default=False,
        help='Development mode: unless the configuration files say '
             'otherwise, use SQLite in ./%s, noauth and a signing key kept '
             'in ./%s, migrate the schema before serving, and run the '
             'worker\'s sweep of passed deadlines in-process.'
             % (DEV_DATABASE, DEV_SIGNING_KEY_FILE)),
]


class ThreadingWSGIServer(socketserver.ThreadingMixIn,
                          simple_server.WSGIServer):
    """One thread per request, so a slow client does not block others."""

    daemon_threads = True
    # The listen backlog: the standard library's 5 drops connections when
    # a few dozen clients connect at once.
    request_queue_size = 128


def _dev_signing_key():
    """A random signing key kept beside the development database.

    Kept in a file so signal and metadata URLs survive a restart.
    """
    path = os.path.abspath(DEV_SIGNING_KEY_FILE)
    if not os.path.exists(path):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o600)
        with os.fdopen(descriptor, 'w') as key_file:
            key_file.write(secrets.token_urlsafe(32))
    with open(path) as key_file:
        return key_file.read().strip()


def _refuse(error):
    """Say why the server does not start, one line per reason; returns 1."""
    for line in str(error).splitlines():
        print('heat-deploy-api: %s' % line, file=sys.stderr)
    return 1


def main(argv=None):
    conf = service.make_conf()
    conf.register_cli_opts(CLI_OPTS)
    if argv is None:
        argv = sys.argv[1:]
    if '--dev' in argv:
        # Defaults only, so a config file still wins.
        conf.set_default('connection', 'sqlite:///%s' % os.path.abspath(
            DEV_DATABASE), group='database')
        conf.set_default('auth_strategy', api_conf.AUTH_NOAUTH, group='api')
        conf.set_default('signing_keys', [_dev_signing_key()],
                         group='signal')
    try:
        conf = service.prepare_service(argv, conf=conf)
    except cfg.Error as err:
        return _refuse(err)
    if conf.dev:
        try:
            db_engine.configure(conf)
            migration.upgrade()
        except Exception as err:
            return _refuse('Cannot migrate the database: %s'
                           % checks.one_line(err))
    try:
        application = app.load_app(conf)
    except checks.StartupFailure as err:
        return _refuse(err)
    service.settle_start_up_objects()
    try:
        server = simple_server.make_server(
            conf.api.bind_host, conf.api.bind_port, application,
            server_class=ThreadingWSGIServer)
    except OSError as err:
        return _refuse('Cannot listen on %s port %d: %s'
                       % (conf.api.bind_host, conf.api.bind_port, err))
    if conf.dev:
        # The embedded default needs no heat-deploy-worker.
        worker.make_sweeper(conf).start_thread()
    host, port = server.server_address[:2]
    url = 'http://%s:%d/' % (host if ':' not in host else '[%s]' % host,
                             port)
    print('heat_deploy API (auth_strategy=%s, database=%s) serving on %s'
          % (conf.api.auth_strategy,
             db_engine.context_manager.writer.get_engine().url
             .render_as_string(hide_password=True), url), flush=True)
    if conf.api.auth_strategy == api_conf.AUTH_NOAUTH:
        print('Try: curl -H "X-Auth-Token: dev" %sv1/demo/software_configs'
              % url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
