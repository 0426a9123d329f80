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

"""The database engine: oslo.db's enginefacade, configured once.

Operations (heat_deploy.operations) open transactions with ``@reader`` and
``@writer``; the queries (the other heat_deploy.db modules) run in the
session those give the request context, or, for the hot paths, on a
connection: the one ``@writer_connection`` gives the request context, or
the one ``@reader_connection`` hands the function it decorates.
"""

import functools
import inspect
import time

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url
from sqlalchemy.pool import base as pool_base

from heat_deploy import exception

context_manager = enginefacade.transaction_context()

# The one-statement reads of reader_connection, on MySQL and PostgreSQL,
# run on a pool of their own whose connections are in autocommit mode: the
# SELECT is the only round trip (no BEGIN on PostgreSQL, no ROLLBACK after
# it). On SQLite it is context_manager itself.
polls = enginefacade.transaction_context()

_configured = None


class SetUpThenRetry(Exception):
    """Raised inside a write transaction that needs something set up first.

    The transaction is rolled back, ``set_up`` runs on its own (so that
    it holds none of the transaction's locks), and the transaction runs
    again once.

    :param set_up: a callable without arguments.
    """

    def __init__(self, set_up):
        super().__init__('set up, then retry')
        self.set_up = set_up


def _in_transaction(ctx):
    try:
        ctx.transaction_ctx
    except AttributeError:
        return False
    return True


def reader(function):
    """A read transaction that runs again once if its connection was lost.

    A connection that the database dropped while it sat in the pool fails
    on its first statement (connections in steady use are not pinged, see
    _check_connections); the pool is emptied then, and a read can simply
    run again on a new connection. Called inside another transaction, it
    joins that one.
    """
    own = context_manager.reader(function)
    return _retried_read(function, own, own)


def reader_connection(function):
    """A read of one statement, for the reads that every agent poll and
    metadata view makes: ``function`` gets a SQLAlchemy Core Connection as
    its keyword argument ``connection``, and no ORM session.

    Run on its own, it reads on a connection of the polls' pool, in
    autocommit mode on MySQL and PostgreSQL (see ``polls``), without the
    enginefacade's transaction context (0.12 million of the 3.5 million
    instructions of a metadata GET, for one statement that needs no
    transaction), and runs again on a lost connection as @reader does.
    Called inside another transaction, it reads in that one.
    """
    context_index = _context_index(function)

    def with_connection(*args, **kwargs):
        ctx = args[context_index]
        return function(*args, connection=ctx.connection, **kwargs)
    # The enginefacade finds the context argument by the signature.
    with_connection.__signature__ = inspect.signature(function)
    joined = context_manager.reader.connection(with_connection)

    def own(*args, **kwargs):
        with polls.reader.get_engine().connect() as connection:
            return function(*args, connection=connection, **kwargs)
    return _retried_read(function, own, joined)


def _retried_read(function, own, joined):
    """``function`` read by ``own`` when it opens the read, run again on
    a lost connection (see _after_lost_connection); by ``joined`` inside
    another transaction.
    """
    def outermost(*args, **kwargs):
        return _after_lost_connection(db_exc.DBConnectionError, own,
                                      *args, **kwargs)
    return _joining(function, joined, outermost)


# Seconds before each run again of a transaction whose connection was
# lost: the first at once, then about a second in all, the time a load
# balancer in front of a database cluster takes to see that a node is
# gone and to send new connections to another.
LOST_CONNECTION_PAUSES = (0, 0.1, 0.25, 0.5)


def _after_lost_connection(lost, call, *args, **kwargs):
    """``call``, run again while it fails with ``lost``; the last is raised.

    The first run again is at once: most often the pool held a connection
    that the database had dropped, and the pool is emptied then. Not
    oslo.db's retry decorator: it logs a traceback when it gives up, and a
    database that is away is an operator's message, not a bug.
    """
    for pause in LOST_CONNECTION_PAUSES:
        try:
            return call(*args, **kwargs)
        except lost:
            time.sleep(pause)
    return call(*args, **kwargs)


def _context_index(function):
    """Where the context is among ``function``'s arguments: first, after
    self for methods.
    """
    return 1 if inspect.getfullargspec(function).args[0] in (
        'self', 'cls') else 0


def _joining(function, in_transaction, outermost):
    """``function`` run by ``outermost`` when it opens the transaction,
    and simply joined to its caller's transaction otherwise (only the
    outermost may run again).
    """
    context_index = _context_index(function)

    @functools.wraps(function)
    def run(*args, **kwargs):
        if _in_transaction(args[context_index]):
            return in_transaction(*args, **kwargs)
        return outermost(*args, **kwargs)
    return run


def writer(function):
    """A write transaction that runs again when it loses a race, or its
    connection before it commits.

    A deadlock, or a lock conflict that a Galera cluster reports as one,
    rolls the transaction back; it is retried with a growing random delay,
    so that no request fails because another one touched the same rows.
    A connection lost while the transaction runs (a database node that
    stops, a load balancer moving connections to another node) is retried
    as a read is (_after_lost_connection): nothing was committed. A
    connection lost during the COMMIT is not retried, as the transaction
    may have committed; the caller gets the error (503 from the API).
    Called inside another transaction, it joins that one, and the
    outermost is the one retried.
    """
    return _writer(function, context_manager.writer, _roll_back_session)


def writer_connection(function):
    """A write transaction as writer() opens it, with ``ctx.connection``
    (SQLAlchemy Core) and no ORM session, for the writes every signal
    makes: the session's unit of work would add CPU and nothing else.

    A @writer function called inside it joins its transaction with a
    session on the same connection. That session's commit is not the
    transaction's, yet SQLAlchemy's after_commit hooks run at it, so
    nothing whose listeners act on a commit (server_metadata.touch) may be
    called in such a session. A refusal needs no early rollback
    here (see _uncommitted): the enginefacade's rollback of a connection
    raises what it meets, a deadlock included, without logging it.
    """
    return _writer(function, context_manager.writer.connection)


def _roll_back_session(ctx):
    ctx.session.rollback()


def _writer(function, mode, roll_back=None):
    """writer() of the enginefacade's ``mode``; ``roll_back(ctx)``, if
    given, ends the transaction at once when it refuses (see _uncommitted).
    """
    in_transaction = mode(_uncommitted(function))
    retried = _retried_write(mode(
        _uncommitted(function, roll_back=roll_back)))

    def once(*args, **kwargs):
        try:
            return retried(*args, **kwargs)
        except SetUpThenRetry as missing:
            # The set-up is a write that loses races too: on a Galera
            # cluster two first creates of a project on two nodes both
            # insert its row, and the loser's commit fails as a deadlock,
            # not as a duplicate.
            _retried_write(missing.set_up)()
            return retried(*args, **kwargs)

    def outermost(*args, **kwargs):
        return _after_lost_connection(LostBeforeCommit, once, *args,
                                      **kwargs)
    return _joining(function, in_transaction, outermost)


class LostBeforeCommit(db_exc.DBConnectionError):
    """The connection of a write transaction was lost before its COMMIT:
    nothing of it was committed.
    """


def _uncommitted(function, roll_back=None):
    """``function``, whose lost connection is a LostBeforeCommit: it runs
    inside the transaction, before its COMMIT.

    :param roll_back: given when the transaction is ``function``'s own,
        not one it joined: a refusal it raises (a HeatDeployException:
        404, 412...) then rolls the transaction back at once, with
        ``roll_back(ctx)``. On a Galera cluster the transaction may have
        been aborted meanwhile by a replicated write of a row it locked,
        and its ROLLBACK then reports a deadlock: raised from here, that
        deadlock runs the transaction again like any other, where raised
        from the enginefacade's own rollback it would be logged as an
        error that hid the refusal.
    """
    context_index = _context_index(function)

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except LostBeforeCommit:
            raise
        except db_exc.DBConnectionError as lost:
            raise LostBeforeCommit(lost.inner_exception) from lost
        except exception.HeatDeployException:
            if roll_back is not None:
                roll_back(args[context_index])
            raise
    # The enginefacade finds the context argument by the signature.
    run.__signature__ = inspect.signature(function)
    return run


def _retried_write(function):
    """``function``, run again with a growing random delay on a deadlock
    (or a RetryRequest).
    """
    return oslo_db_api.wrap_db_retry(
        max_retries=8, retry_interval=0.02, max_retry_interval=0.5,
        retry_on_deadlock=True)(function)


def _settings(conf):
    settings = dict(conf.database.items())
    # oslo.db's sleep(0) at every check-in only helps eventlet servers.
    settings['thread_checkin'] = False
    # oslo.db picks MySQL's 3-byte "utf8" unless the URL names a charset;
    # configs and outputs must keep 4-byte characters such as emoji.
    url = sa_url.make_url(settings['connection'])
    if url.get_backend_name() == 'mysql' and 'charset' not in url.query:
        url = url.update_query_dict({'charset': 'utf8mb4'})
        settings['connection'] = url.render_as_string(hide_password=False)
    # SQLite enforces foreign keys only when asked to.
    settings['sqlite_fk'] = True
    return settings


def configure(conf):
    """Point the enginefacade at [database] of ``conf``.

    Calling it again with the same settings does nothing, so several
    applications built in one process (as in the tests) share one engine.
    """
    global _configured
    settings = _settings(conf)
    if settings == _configured:
        return
    if context_manager.is_started:
        context_manager.patch_factory(enginefacade.transaction_context())
    context_manager.configure(**settings)
    context_manager.append_on_engine_create(_serialise_sqlite_writes)
    context_manager.append_on_engine_create(functools.partial(
        _check_connections, conf.database_pool.ping_after_idle))
    if sa_url.make_url(settings['connection']).get_backend_name() == 'sqlite':
        # One writer at a time, and reads of a local file: a pool of its
        # own would save nothing.
        polls.patch_factory(context_manager)
    else:
        polls.patch_factory(enginefacade.transaction_context())
        polls.configure(**settings)
        polls.append_on_engine_create(_autocommit)
        polls.append_on_engine_create(functools.partial(
            _check_connections, conf.database_pool.ping_after_idle))
    _configured = settings


def _autocommit(engine):
    """Put each new connection of ``engine`` in autocommit mode, where
    SQLAlchemy skips the ROLLBACK that ends its transactions.
    """
    engine.dialect.skip_autocommit_rollback = True

    @sa.event.listens_for(engine, 'connect')
    def _connect(dbapi_connection, connection_record):
        engine.dialect.set_isolation_level(dbapi_connection, 'AUTOCOMMIT')

    # oslo.db opened a first connection, to test the URL, before this hook
    # ran; the pool makes it anew.
    engine.dispose()


def _check_connections(ping_after_idle, engine):
    """No reset after a commit; ping only connections that sat unused.

    oslo.db turns on SQLAlchemy's pre-ping, one round trip to the database
    whenever a request takes a connection, and the pool rolls back every
    connection it gets back, another round trip after every COMMIT. Both
    double what a short request costs. Here a connection is pinged only
    after ``ping_after_idle`` seconds unused, when the database may have
    closed it; a dead one is replaced before the request uses it. And the
    pool leaves connections as they come back: every transaction of the
    service ends through its Session or Connection (commit, or rollback,
    which closing one with a transaction open does), so none comes back
    in the middle of one.
    """
    pool = engine.pool
    # The pool keeps these settings only in private attributes; the round
    # trip counts of test_bench and the pings counted by
    # test_connection_pool (functional tests) fail if a SQLAlchemy release
    # ignores them.
    pool._reset_on_return = pool_base.reset_none
    if ping_after_idle <= 0:
        return
    pool._pre_ping = False

    @sa.event.listens_for(pool, 'checkin')
    def _checkin(dbapi_connection, connection_record):
        connection_record.info['idle_since'] = time.monotonic()

    @sa.event.listens_for(pool, 'checkout')
    def _checkout(dbapi_connection, connection_record, connection_proxy):
        idle_since = connection_record.info.get('idle_since')
        if (idle_since is None
                or time.monotonic() - idle_since < ping_after_idle):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            # The pool replaces it and tries again.
            raise sa.exc.DisconnectionError()


def _serialise_sqlite_writes(engine):
    """Make SQLite transactions take the write lock when they begin.

    oslo.db begins SQLite transactions with a plain (deferred) BEGIN; two of
    them that read and then write fail with "database is locked" instead of
    waiting for each other. BEGIN IMMEDIATE makes the second wait
    (busy_timeout), which is what the quota lock and the signal path rely
    on. WAL lets readers go on while one transaction writes.
    """
    if engine.dialect.name != 'sqlite':
        return

    @sa.event.listens_for(engine, 'connect')
    def _connect(dbapi_connection, connection_record):
        dbapi_connection.execute('PRAGMA busy_timeout = 30000')
        if engine.url.database not in (None, '', ':memory:'):
            dbapi_connection.execute('PRAGMA journal_mode = WAL')

    @sa.event.listens_for(engine, 'before_cursor_execute', retval=True)
    def _begin_immediate(connection, cursor, statement, parameters, context,
                         executemany):
        # oslo.db sends a plain BEGIN itself; make it take the write lock.
        if statement == 'BEGIN':
            statement = 'BEGIN IMMEDIATE'
        return statement, parameters


def get_engine():
    return context_manager.writer.get_engine()


def ping():
    """Run a trivial query; raises when the database does not answer."""
    with get_engine().connect() as connection:
        connection.execute(sa.text('SELECT 1'))
