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

"""The settings heat_deploy needs of a MariaDB Galera cluster.

Read once at start-up, on a connection of the service's own pool (so with
what oslo.db set on it, such as ``[database] mysql_wsrep_sync_wait``); a
server that is not a Galera node (``wsrep_on`` OFF or absent: MySQL, a
single MariaDB) has nothing to check. :func:`galera_result` decides from
the values alone; doc/source/ha.rst says why each setting matters.
"""

from sqlalchemy.engine import url as sa_url

from heat_deploy.checks import base
from heat_deploy.db import engine as db_engine

#: The bit of wsrep_sync_wait that makes reads causal (a read waits until
#: the node applied every transaction committed before it started).
SYNC_WAIT_READ = 1
#: The isolation levels heat_deploy is written for: REPEATABLE-READ, the
#: default of MariaDB, and READ-COMMITTED, the default of PostgreSQL.
ISOLATION_LEVELS = ('REPEATABLE-READ', 'READ-COMMITTED')

# Session values, where a variable has one: what this service's
# connections run with. tx_isolation was renamed transaction_isolation
# (MariaDB 11.1, MySQL 8); either may be there.
VARIABLES = ('wsrep_on', 'wsrep_sync_wait', 'tx_isolation',
             'transaction_isolation', 'binlog_format',
             'innodb_autoinc_lock_mode')
STATUS = ('wsrep_cluster_status', 'wsrep_local_state_comment')

_SET_SYNC_WAIT = ('Set [database] mysql_wsrep_sync_wait = 1 in '
                  'heat_deploy\'s configuration (any value with bit 1, '
                  'READ, will do), then start it again.')


def _show(connection, what, names):
    rows = connection.exec_driver_sql(
        'SHOW %s WHERE Variable_name IN (%s)'
        % (what, ', '.join("'%s'" % name for name in names))).all()
    return {name.lower(): value for name, value in rows}


def read_settings(connection):
    """The values :func:`galera_result` needs, by lower-case name.

    One round trip on a server that is not a Galera node, two on one.
    Variables the server does not have are absent.

    :param connection: a SQLAlchemy Connection to MySQL or MariaDB.
    """
    settings = _show(connection, 'SESSION VARIABLES', VARIABLES)
    if _is_on(settings.get('wsrep_on')):
        settings.update(_show(connection, 'GLOBAL STATUS', STATUS))
    return settings


def _is_on(value):
    return str(value).upper() in ('ON', '1')


def galera_result(settings):
    """Whether a Galera node's settings are what heat_deploy needs.

    :param settings: what :func:`read_settings` returned.
    :returns: None if the server is not a Galera node (nothing to check);
        else a Result: FAILURE for what breaks heat_deploy's guarantees
        (reads that miss a write acknowledged by another node, events of
        rolled-back changes, replication that is not row-based), WARNING
        for what only slows it or may pass, OK otherwise.
    """
    if not _is_on(settings.get('wsrep_on')):
        return None
    failures, warnings = [], []
    sync_wait = int(settings.get('wsrep_sync_wait') or 0)
    if not sync_wait & SYNC_WAIT_READ:
        failures.append((
            'Galera cluster (wsrep_on=ON) but wsrep_sync_wait=%d for this '
            'service\'s connections: a client that writes through one node '
            'may not see its write through another, and a worker may '
            'publish an event or post a webhook twice.' % sync_wait,
            _SET_SYNC_WAIT))
    isolation = (settings.get('transaction_isolation')
                 or settings.get('tx_isolation') or '').upper()
    if isolation == 'READ-UNCOMMITTED':
        failures.append((
            'The connections\' transaction isolation is READ-UNCOMMITTED: '
            'the worker could publish events of changes that are then '
            'rolled back.',
            'Set transaction_isolation = REPEATABLE-READ (the default) or '
            'READ-COMMITTED in the server\'s configuration.'))
    elif isolation and isolation not in ISOLATION_LEVELS:
        warnings.append((
            'The connections\' transaction isolation is %s, which Galera '
            'honours on one node only; heat_deploy needs no more than '
            'REPEATABLE-READ and gets more lock conflicts with it.'
            % isolation,
            'Set transaction_isolation = REPEATABLE-READ (the default) or '
            'READ-COMMITTED.'))
    binlog_format = (settings.get('binlog_format') or '').upper()
    if binlog_format and binlog_format != 'ROW':
        failures.append((
            'binlog_format=%s: Galera replicates row events only, and the '
            'nodes may drift apart.' % binlog_format,
            'Set binlog_format = ROW on every node.'))
    autoinc = settings.get('innodb_autoinc_lock_mode')
    if autoinc is not None and str(autoinc) != '2':
        warnings.append((
            'innodb_autoinc_lock_mode=%s: Galera needs 2 (interleaved), or '
            'concurrent inserts into the event outbox and the webhook '
            'deliveries may deadlock its appliers.' % autoinc,
            'Set innodb_autoinc_lock_mode = 2 on every node.'))
    status = settings.get('wsrep_cluster_status')
    state = settings.get('wsrep_local_state_comment')
    if status is not None and status != 'Primary':
        warnings.append((
            'This node is not in the primary component (%s): every request '
            'fails with 503 until it rejoins.' % status,
            'Check the cluster (SHOW STATUS LIKE \'wsrep_%\') or point '
            '[database] connection at a node of the primary component.'))
    elif state is not None and state != 'Synced':
        warnings.append((
            'This node is %s, not Synced: it may answer slowly or refuse '
            'requests until it is.' % state,
            'Wait for it to sync, or point [database] connection at a '
            'synced node.'))
    if failures or warnings:
        found = failures + warnings
        return base.Result(base.FAILURE if failures else base.WARNING,
                           ' '.join(message for message, _hint in found),
                           ' '.join(hint for _message, hint in found))
    return base.Result(base.OK, 'Galera cluster: this node is %s in a '
                                'Primary component; wsrep_sync_wait=%d, '
                                '%s, binlog_format=ROW.'
                       % (state or 'up', sync_wait, isolation or 'default '
                          'isolation'))


def check_connections():
    """:func:`galera_result` for a connection of the service's pool.

    No round trip on SQLite or PostgreSQL.

    :returns: None when the database is not a Galera node.
    :raises Exception: the database cannot be read.
    """
    database = db_engine.get_engine()
    if database.dialect.name != 'mysql':
        return None
    with database.connect() as connection:
        return galera_result(read_settings(connection))


@base.titled('Database cluster')
def check_galera(conf):
    """The Galera settings alone, for heat-deploy-worker's start-up (the
    API and heat-deploy-manage check them with the database, in
    heat_deploy.checks.service.check_database).
    """
    if sa_url.make_url(conf.database.connection).get_backend_name() != (
            'mysql'):
        return base.Result(base.OK, 'Not MySQL or MariaDB: nothing to '
                                    'check.')
    db_engine.configure(conf)
    try:
        result = check_connections()
    except Exception as err:
        return base.Result(base.WARNING, 'Cannot read the database\'s '
                                         'Galera settings: %s'
                           % base.one_line(err),
                           'They are checked again at the next start.')
    if result is None:
        return base.Result(base.OK, 'Not a Galera cluster: nothing to '
                                    'check.')
    return result
