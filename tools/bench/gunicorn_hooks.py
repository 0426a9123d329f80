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

"""gunicorn config file of the benchmark: counts database round trips.

Loaded with ``gunicorn -c tools/bench/gunicorn_hooks.py`` for heat_deploy
and the floor alike. After the fork, each worker wraps its database
driver's calls so that every command it sends the server and waits for
(a query, BEGIN, COMMIT, ROLLBACK, a ping) adds one to a counter, kept in
``$BENCH_COUNTERS_DIR/<pid>`` (8 bytes, little-endian, memory-mapped), which
the benchmark reads at the edges of each window.

The count is the client's own, so other clients of a shared database
server do not blur it, and it costs a function call per round trip. With
``BENCH_TRACE=1`` each worker also appends every command to
``$BENCH_COUNTERS_DIR/<pid>.trace`` (what ``bench.py --trace`` prints).
PyMySQL: every ``Connection._execute_command``. psycopg2: every execute,
commit and rollback, plus the BEGIN it sends by itself before the first
statement of a transaction (it does so unless the connection is in
autocommit mode).
"""

import mmap
import os
import struct

_counter = None


class _Counter(object):

    def __init__(self, path, trace=False):
        with open(path, 'wb') as out:
            out.write(b'\0' * 8)
        self._file = open(path, 'r+b')
        self._map = mmap.mmap(self._file.fileno(), 8)
        self._trace = open(path + '.trace', 'a') if trace else None
        self.value = 0

    def add(self, count=1, what=None):
        self.value += count
        struct.pack_into('<Q', self._map, 0, self.value)
        if self._trace is not None:
            text = ' '.join(str(what).split())
            self._trace.write('%s\n' % (text[:160] + ' ...'
                                        if len(text) > 160 else text))
            self._trace.flush()


_COMMANDS = {14: 'PING', 2: 'INIT_DB', 1: 'QUIT'}


def _count_pymysql(counter):
    try:
        from pymysql import connections
    except ImportError:
        return
    execute = connections.Connection._execute_command

    def _execute_command(self, command, sql):
        if isinstance(sql, bytes):
            sql = sql.decode('utf-8', 'replace')
        counter.add(what=sql if command == 3 else _COMMANDS.get(
            command, 'command %d' % command))
        return execute(self, command, sql)

    connections.Connection._execute_command = _execute_command


def _count_psycopg2(counter):
    try:
        import psycopg2
        from psycopg2 import extensions
    except ImportError:
        return

    def begins(conn):
        return (not conn.autocommit
                and conn.status == extensions.STATUS_READY)

    class Cursor(extensions.cursor):

        def execute(self, query, params=None):
            if begins(self.connection):
                counter.add(what='BEGIN (implicit)')
            counter.add(what=query)
            return super().execute(query, params)

        def executemany(self, query, params_list):
            params_list = list(params_list)
            if begins(self.connection):
                counter.add(what='BEGIN (implicit)')
            counter.add(len(params_list), what=query)
            return super().executemany(query, params_list)

    class Connection(extensions.connection):

        def cursor(self, *args, **kwargs):
            kwargs.setdefault('cursor_factory', Cursor)
            return super().cursor(*args, **kwargs)

        def commit(self):
            if self.status != extensions.STATUS_READY:
                counter.add(what='COMMIT')
            return super().commit()

        def rollback(self):
            if self.status != extensions.STATUS_READY:
                counter.add(what='ROLLBACK')
            return super().rollback()

    connect = psycopg2.connect

    def counted_connect(*args, **kwargs):
        kwargs.setdefault('connection_factory', Connection)
        return connect(*args, **kwargs)

    psycopg2.connect = counted_connect


def post_fork(server, worker):
    global _counter
    directory = os.environ.get('BENCH_COUNTERS_DIR')
    if not directory:
        return
    _counter = _Counter(os.path.join(directory, str(os.getpid())),
                        trace=os.environ.get('BENCH_TRACE') == '1')
    _count_pymysql(_counter)
    _count_psycopg2(_counter)
