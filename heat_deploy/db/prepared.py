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

"""SELECTs compiled once per dialect and run on the driver's cursor.

The reads that agents and clients repeat all day (a server's metadata, a
metadata URL's poll) are one indexed SELECT each. Run through SQLAlchemy's
Connection.execute, the execution context, the result's metadata and a Row
per row cost 0.55 million of the 4.05 million instructions of a metadata
GET of ten deployments (callgrind, MariaDB). A PreparedSelect keeps what
SQLAlchemy gives that matters here, and does the rest once:

* the statement is a SQLAlchemy Core select, compiled for each dialect
  the first time it runs there;
* it runs on the cursor of the SQLAlchemy Connection it is given, from
  that connection's pool;
* each column's value goes through the column type's own result
  processor (JSON documents, SQLite's datetimes), as SQLAlchemy would;
* a driver error is handed back to SQLAlchemy: the statement runs again
  through Connection.execute, whose error handling (oslo.db's exceptions,
  a lost connection thrown out of the pool) applies as to any statement,
  and whose result is returned if it succeeds this time;
* on a connection in a transaction, the statement goes through
  SQLAlchemy from the start: there a driver error may have ended the
  transaction (a deadlock, or a Galera cluster's certification failure,
  reported on the next statement), and run again the statement would read
  in a new one as if nothing had happened; only SQLAlchemy's handling
  reports it. The reads that agents repeat run on a connection of their
  own, in autocommit mode;
* while SQLAlchemy logs the engine's statements ([database]
  connection_debug), every statement goes through it, to be logged.
"""

import collections
import logging
import weakref

import sqlalchemy as sa


class PreparedSelect(object):
    """A SELECT whose rows are named tuples of processed values.

    :param statement: a SQLAlchemy Core select (or text with columns).
        Its bound values must reach the driver as they are (strings,
        numbers): it is refused, when first compiled for a dialect, if
        one of its parameters' types would convert them.
    :param name: the class name of its rows, for reprs.
    """

    def __init__(self, statement, name='Row'):
        self.statement = statement
        self.row = collections.namedtuple(
            name, [column.key for column in statement.selected_columns])
        # By dialect: an engine made anew (the tests make many) has a new
        # one, and the old one's compiled form goes with it.
        self._compiled = weakref.WeakKeyDictionary()

    def rows(self, connection, values):
        """All rows the statement selects with ``values``.

        :param connection: a SQLAlchemy Connection.
        :param values: the statement's bound values, by name.
        """
        if (connection.in_transaction()
                or connection.engine.logger.isEnabledFor(logging.INFO)):
            return self._rows_through_sqlalchemy(connection, values)
        dialect = connection.dialect
        try:
            compiled = self._compiled[dialect]
        except KeyError:
            compiled = self._compiled[dialect] = _Compiled(self.statement,
                                                           dialect)
        try:
            cursor = connection.connection.cursor()
            try:
                cursor.execute(compiled.sql, compiled.parameters(values))
                found = cursor.fetchall()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error:
            return self._rows_through_sqlalchemy(connection, values)
        make = self.row._make
        processors = compiled.processors
        if not processors:
            return [make(row) for row in found]
        rows = []
        for row in found:
            row = list(row)
            for index, process in processors:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows

    def one_or_none(self, connection, values):
        """The one row the statement selects, or None.

        :raises sqlalchemy.exc.MultipleResultsFound: it selects several.
        """
        rows = self.rows(connection, values)
        if len(rows) > 1:
            raise sa.exc.MultipleResultsFound(
                'Multiple rows were found when one or none was required')
        return rows[0] if rows else None

    def _rows_through_sqlalchemy(self, connection, values):
        result = connection.execute(self.statement, values)
        return [self.row._make(row) for row in result]


class _Compiled(object):
    """A statement's SQL for one dialect, and how to run it there."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        for name, bind in compiled.binds.items():
            if bind.type.dialect_impl(dialect).bind_processor(dialect):
                raise ValueError(
                    'A prepared select passes its values to the driver as '
                    'they are; parameter %s of type %s would be converted.'
                    % (name, bind.type))
        self.sql = compiled.string
        self._compiled = compiled
        self._order = compiled.positiontup if compiled.positional else None
        self.processors = [
            (index, process) for index, process in enumerate(
                column.type.dialect_impl(dialect).result_processor(
                    dialect, None)
                for column in statement.selected_columns)
            if process is not None]

    def parameters(self, values):
        """The driver's parameters: literal values of the statement with
        ``values``, by position or by name as the driver wants them.
        """
        every = self._compiled.construct_params(values)
        if self._order is None:
            return every
        return [every[name] for name in self._order]
