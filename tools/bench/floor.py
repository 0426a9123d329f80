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

"""The floor: the benchmarked paths as a bare WSGI app over raw SQL.

What a minimal implementation of heat_deploy's hot paths costs on the same
machine and database: no framework, no ORM, no policy, one database
connection per process (gunicorn sync worker), made on the first request
and kept. It reads and writes heat_deploy's own tables (the schema of
``heat-deploy-manage db sync``) and answers the same documents, so that
the benchmark can drive both with the same requests.

The connection runs in autocommit mode: a read is one statement, one round
trip; a write of several statements is one explicit transaction (BEGIN ...
COMMIT). The SQL of each path (MariaDB; PostgreSQL differs where noted):

``PUT /v1/{t}/software_deployments/{id}`` (status, status_reason,
output_values, action)::

    BEGIN
    UPDATE software_deployment SET ..., generation = generation + 1
        WHERE id = ? AND tenant = ?          -- PostgreSQL: ... RETURNING
    SELECT ... FROM software_deployment WHERE id = ?   -- not on PostgreSQL
    COMMIT

``POST /agent/v1/deployments/{id}/signal?expires&signature[&attempt]``::

    (HMAC-SHA256 check of the URL, as heat_deploy.capability signs it)
    BEGIN
    SELECT d.status, d.output_values, ..., c.config
        FROM software_deployment d JOIN software_config c
        ON c.id = d.config_id WHERE d.id = ? FOR UPDATE
    UPDATE software_deployment SET output_values, status, status_reason,
        ended_at, updated_at, generation = generation + 1 WHERE id = ?
    COMMIT

``POST /v1/{t}/software_configs`` with a quota (``FLOOR_CONFIG_QUOTA``,
default 4096; -1 for none)::

    BEGIN
    UPDATE project_quota_lock SET software_configs = software_configs + 1
        WHERE project_id = ? AND software_configs < ?
    INSERT INTO software_config (...) VALUES (...)
    COMMIT

(the project's usage row, made on first use, counts its configs),
and without: the INSERT alone (autocommit).

``GET /v1/{t}/software_deployments/metadata/{server}``::

    SELECT c.id, c.name, c.group, c.config, c.created_at
        FROM software_config c JOIN software_deployment d
        ON d.config_id = c.id
        WHERE d.server_id = ? AND d.tenant = ?
        AND (d.ended_by IS NULL OR d.ended_by <> 'cancel')

``GET /agent/v1/metadata/{t}/{server}?generation&signature``::

    SELECT revision, last_modified, credential_generation
        FROM server_metadata WHERE tenant = ? AND server_id = ?
    (HMAC check; 304 if If-None-Match names the ETag, else the query
    above, plus an UPDATE of delivered_at when a deployment waits for it)

Deliberately left out, because the benchmarked requests never need them:
Keystone, policy, JSON Schema validation beyond the fields used, secret
decryption, deadlines, attempts, events and webhooks. The floor is a yard
stick for what the work costs, not a second implementation.

Settings come from the environment: ``FLOOR_DATABASE`` (JSON: backend
``mysql`` or ``postgresql``, host, port, user, password, database),
``FLOOR_SIGNING_KEY`` (the first of heat_deploy's [signal] signing_keys)
and ``FLOOR_CONFIG_QUOTA``. Run it as gunicorn does in the benchmark::

    gunicorn --workers 2 --pythonpath tools/bench floor:application
"""

import datetime
import email.utils
import hashlib
import hmac
import json
import os
import time
from urllib import parse
import uuid

TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
STATUSES = ('IN_PROGRESS', 'COMPLETE', 'FAILED')
STANDARD_OUTPUTS = ('deploy_stdout', 'deploy_stderr', 'deploy_status_code')
CANCELLED = 'cancel'
MASK = '***'
SEALED = 'heat_deploy_encrypted'

_JSON = [('Content-Type', 'application/json; charset=UTF-8')]

_DEPLOYMENT_COLUMNS = (
    'id, config_id, server_id, input_values, output_values, action, '
    'status, status_reason, created_at, updated_at, timeout, '
    'delivery_timeout, deadline_at, delivered_at, generation')


# Capability URLs: the same messages heat_deploy.capability signs.

def signal_parts(method, deployment_id, expires, attempt):
    parts = ('signal', method, deployment_id, str(expires))
    if str(attempt) != '1':
        parts += ('attempt', str(attempt))
    return parts


def metadata_parts(tenant, server_id, generation):
    return ('metadata', tenant, server_id, str(generation))


def sign(key, parts):
    return hmac.new(key.encode('utf-8'), '\n'.join(parts).encode('utf-8'),
                    hashlib.sha256).hexdigest()


def _verify(key, signature, parts):
    return hmac.compare_digest(sign(key, parts).encode(),
                               signature.encode('utf-8'))


class HTTPError(Exception):

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Database(object):
    """The worker's one connection, in autocommit mode."""

    def __init__(self, settings):
        self.settings = settings
        self.backend = settings['backend']
        self.conn = None
        # The column named "group" needs quoting in both dialects.
        self.group = '`group`' if self.backend == 'mysql' else '"group"'

    def connect(self):
        if self.backend == 'mysql':
            import pymysql
            self.conn = pymysql.connect(
                host=self.settings['host'], port=self.settings['port'],
                user=self.settings['user'],
                password=self.settings.get('password') or '',
                database=self.settings['database'], charset='utf8mb4',
                autocommit=True)
        else:
            import psycopg2
            self.conn = psycopg2.connect(
                host=self.settings['host'], port=self.settings['port'],
                user=self.settings['user'],
                password=self.settings.get('password') or None,
                dbname=self.settings['database'])
            self.conn.autocommit = True

    def cursor(self):
        if self.conn is None:
            self.connect()
        return self.conn.cursor()

    def reset(self):
        """Drop a connection that failed; the next request reconnects."""
        try:
            self.conn.close()
        except Exception:  # nosec - it is being thrown away
            pass
        self.conn = None


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None)


def _time(value):
    return value.strftime(TIME_FORMAT) if value is not None else None


def _loads(text):
    return json.loads(text) if text is not None else None


def _dumps(value):
    return json.dumps(value) if value is not None else None


def _mask(inputs):
    return [dict(item, value=MASK)
            if isinstance(item.get('value'), dict)
            and set(item['value']) == {SEALED} else item
            for item in inputs]


def _config_view(row):
    config_id, name, group, document, created_at = row
    doc = _loads(document) or {}
    return {'id': config_id, 'name': name, 'group': group,
            'config': doc.get('config'),
            'inputs': _mask(doc.get('inputs', [])),
            'outputs': doc.get('outputs', []),
            'options': doc.get('options', {}),
            'creation_time': _time(created_at)}


def _deployment_view(row):
    (deployment_id, config_id, server_id, input_values, output_values,
     action, status, status_reason, created_at, updated_at, timeout,
     delivery_timeout, deadline_at, delivered_at, _generation) = row
    result = {'id': deployment_id, 'config_id': config_id,
              'server_id': server_id,
              'input_values': _loads(input_values),
              'output_values': _loads(output_values),
              'action': action, 'status': status,
              'status_reason': status_reason,
              'creation_time': _time(created_at)}
    if updated_at is not None:
        result['updated_time'] = _time(updated_at)
    result.update(timeout=timeout, delivery_timeout=delivery_timeout,
                  deadline_time=_time(deadline_at),
                  delivered_time=_time(delivered_at))
    return result


def _server_configs(db, cur, tenant, server_id):
    """Rows (config view, status, delivered_at) of a server's configs."""
    cur.execute(
        'SELECT c.id, c.name, c.%s, c.config, c.created_at, d.status, '
        'd.delivered_at, d.config_id FROM software_config c '
        'JOIN software_deployment d ON d.config_id = c.id '
        'WHERE d.server_id = %%s AND d.tenant = %%s '
        'AND (d.ended_by IS NULL OR d.ended_by <> %%s)' % db.group,
        (server_id, tenant, CANCELLED))
    rows = list(cur.fetchall())
    rows.sort(key=lambda row: (row[1] is not None, row[1] or '', row[0]))
    return rows


class Floor(object):
    """The WSGI application."""

    def __init__(self, environ=os.environ):
        self.db = Database(json.loads(environ['FLOOR_DATABASE']))
        self.key = environ['FLOOR_SIGNING_KEY']
        self.config_quota = int(environ.get('FLOOR_CONFIG_QUOTA', '4096'))

    def __call__(self, environ, start_response):
        try:
            status, headers, body = self.route(environ)
        except HTTPError as err:
            status, headers = err.status, []
            body = json.dumps({'error': {'message': str(err)}}).encode()
        except Exception as err:
            # A database error: the next request starts afresh.
            self.db.reset()
            status, headers = 500, []
            body = json.dumps({'error': {'message': repr(err)}}).encode()
        if body:
            headers = headers + _JSON
        headers.append(('Content-Length', str(len(body))))
        start_response('%d %s' % (status, _REASONS.get(status, 'Status')),
                       headers)
        return [body]

    def route(self, environ):
        method = environ['REQUEST_METHOD']
        parts = environ.get('PATH_INFO', '').strip('/').split('/')
        query = _query(environ.get('QUERY_STRING', ''))
        if parts == ['healthcheck']:
            return 200, [('Content-Type', 'text/plain')], b'OK'
        if parts[:2] == ['agent', 'v1']:
            if (len(parts) == 5 and parts[2] == 'deployments'
                    and parts[4] == 'signal' and method in ('POST', 'PUT')):
                return self.signal(environ, method, parts[3], query)
            if (len(parts) == 5 and parts[2] == 'metadata'
                    and method == 'GET'):
                return self.agent_metadata(environ, parts[3], parts[4],
                                           query)
            raise HTTPError(404, 'not found')
        if parts[:1] != ['v1'] or len(parts) < 3:
            raise HTTPError(404, 'not found')
        if not environ.get('HTTP_X_AUTH_TOKEN', '').strip():
            raise HTTPError(401, 'a token is needed')
        tenant, rest = parts[1], parts[2:]
        if rest == ['software_configs'] and method == 'POST':
            return self.create_config(environ, tenant)
        if (len(rest) == 2 and rest[0] == 'software_deployments'
                and method == 'PUT'):
            return self.update_deployment(environ, tenant, rest[1])
        if (len(rest) == 3 and rest[:2] == ['software_deployments',
                                            'metadata']
                and method == 'GET'):
            return self.metadata(tenant, rest[2])
        raise HTTPError(404, 'not found')

    # The paths

    def update_deployment(self, environ, tenant, deployment_id):
        doc = _body(environ)
        changes = {name: doc[name] for name in ('action', 'status',
                                                'status_reason')
                   if doc.get(name)}
        if doc.get('output_values'):
            if not isinstance(doc['output_values'], dict):
                raise HTTPError(400, 'output_values must be an object')
            changes['output_values'] = _dumps(doc['output_values'])
        if changes.get('status', 'COMPLETE') not in STATUSES:
            raise HTTPError(400, 'bad status')
        now = _now()
        sets = ', '.join('%s = %%s' % name for name in changes)
        values = list(changes.values())
        ends = changes.get('status') in ('COMPLETE', 'FAILED')
        cur = self.db.cursor()
        cur.execute('BEGIN')
        statement = (
            'UPDATE software_deployment SET %s%supdated_at = %%s, '
            'generation = generation + 1%s WHERE id = %%s AND tenant = %%s'
            % (sets, ', ' if sets else '',
               ', ended_at = COALESCE(ended_at, %s)' if ends else ''))
        values.append(now)
        if ends:
            values.append(now)
        values += [deployment_id, tenant]
        if self.db.backend == 'postgresql':
            cur.execute(statement + ' RETURNING ' + _DEPLOYMENT_COLUMNS,
                        values)
            row = cur.fetchone()
        else:
            cur.execute(statement, values)
            row = None
            if cur.rowcount == 1:
                cur.execute('SELECT %s FROM software_deployment '
                            'WHERE id = %%s' % _DEPLOYMENT_COLUMNS,
                            (deployment_id,))
                row = cur.fetchone()
        cur.execute('COMMIT')
        if row is None:
            raise HTTPError(404, 'no deployment %s' % deployment_id)
        return (200, [('ETag', '"%s"' % row[-1])],
                json.dumps({'software_deployment':
                            _deployment_view(row)}).encode())

    def signal(self, environ, method, deployment_id, query):
        signature, expires = query.get('signature'), query.get('expires')
        attempt = query.get('attempt', '1')
        if not signature or not expires:
            raise HTTPError(401, 'no signature')
        if not (expires.isdigit() and attempt.isdigit()
                and _verify(self.key, signature, signal_parts(
                    method, deployment_id, expires, attempt))):
            raise HTTPError(403, 'bad signature')
        if int(expires) < time.time():
            raise HTTPError(403, 'expired')
        details = _body(environ)
        cur = self.db.cursor()
        cur.execute('BEGIN')
        try:
            cur.execute(
                'SELECT d.status, d.output_values, d.attempt, d.ended_by, '
                'c.config FROM software_deployment d JOIN software_config c '
                'ON c.id = d.config_id WHERE d.id = %s FOR UPDATE',
                (deployment_id,))
            row = cur.fetchone()
            if row is None:
                raise HTTPError(404, 'no deployment %s' % deployment_id)
            status, outputs, current_attempt, ended_by, config = row
            if int(attempt) < current_attempt or ended_by is not None:
                raise HTTPError(409, 'refused')
            answer = {'deployment_id': deployment_id, 'signal': 'ignored',
                      'status': status}
            if status == 'IN_PROGRESS':
                status, reason, outputs = _apply(
                    _loads(outputs), (_loads(config) or {}).get(
                        'outputs', []), details)
                now = _now()
                cur.execute(
                    'UPDATE software_deployment SET output_values = %s, '
                    'status = %s, status_reason = %s, ended_at = %s, '
                    'updated_at = %s, generation = generation + 1 '
                    'WHERE id = %s',
                    (_dumps(outputs), status, reason, now, now,
                     deployment_id))
                answer.update(signal='applied', status=status)
            cur.execute('COMMIT')
        except Exception:
            cur.execute('ROLLBACK')
            raise
        return 200, [], json.dumps(answer).encode()

    def create_config(self, environ, tenant):
        doc = _body(environ)
        document = {'config': doc.get('config'),
                    'inputs': [_normalise(item, False)
                               for item in doc.get('inputs') or []],
                    'outputs': [_normalise(item, True)
                                for item in doc.get('outputs') or []],
                    'options': doc.get('options') or {}}
        config_id = str(uuid.uuid4())
        now = _now()
        insert = ('INSERT INTO software_config (id, created_at, name, %s, '
                  'config, tenant) VALUES (%%s, %%s, %%s, %%s, %%s, %%s)'
                  % self.db.group)
        values = (config_id, now, doc.get('name'), doc.get('group'),
                  json.dumps(document), tenant)
        cur = self.db.cursor()
        if self.config_quota < 0:
            cur.execute(insert, values)
        else:
            self._insert_under_quota(cur, tenant, insert, values)
        view = dict(document, id=config_id, name=doc.get('name'),
                    group=doc.get('group'), creation_time=_time(now))
        return 200, [], json.dumps({'software_config': view}).encode()

    def _insert_under_quota(self, cur, tenant, insert, values):
        for _try in range(2):
            cur.execute('BEGIN')
            try:
                cur.execute('UPDATE project_quota_lock SET software_configs '
                            '= software_configs + 1 WHERE project_id = %s '
                            'AND software_configs < %s',
                            (tenant, self.config_quota))
                if cur.rowcount != 1:
                    cur.execute('ROLLBACK')
                    cur.execute('SELECT 1 FROM project_quota_lock WHERE '
                                'project_id = %s', (tenant,))
                    if cur.fetchone() is not None:
                        raise HTTPError(413, 'quota reached')
                    # First use of the project: its usage row, on its own.
                    postgresql = self.db.backend == 'postgresql'
                    cur.execute(
                        ('INSERT INTO' if postgresql else 'INSERT IGNORE INTO')
                        + ' project_quota_lock (project_id, software_configs)'
                        ' SELECT %s, COUNT(*) FROM software_config WHERE '
                        'tenant = %s' + (' ON CONFLICT DO NOTHING'
                                         if postgresql else ''),
                        (tenant, tenant))
                    continue
                cur.execute(insert, values)
                cur.execute('COMMIT')
                return
            except Exception:
                cur.execute('ROLLBACK')
                raise
        raise HTTPError(500, 'no quota lock row')

    def metadata(self, tenant, server_id):
        rows = _server_configs(self.db, self.db.cursor(), tenant, server_id)
        return 200, [], json.dumps(
            {'metadata': [_config_view(row[:5]) for row in rows]}).encode()

    def agent_metadata(self, environ, tenant, server_id, query):
        signature, generation = query.get('signature'), query.get(
            'generation')
        if not signature or not generation:
            raise HTTPError(401, 'no signature')
        if not _verify(self.key, signature, metadata_parts(
                tenant, server_id, generation)):
            raise HTTPError(403, 'bad signature')
        cur = self.db.cursor()
        cur.execute('SELECT revision, last_modified, credential_generation '
                    'FROM server_metadata WHERE tenant = %s AND '
                    'server_id = %s', (tenant, server_id))
        row = cur.fetchone()
        if row is None or str(row[2]) != generation:
            raise HTTPError(403, 'revoked')
        etag = '%d-%d' % (row[2], row[0])
        headers = [('ETag', '"%s"' % etag),
                   ('Last-Modified', email.utils.formatdate(row[1],
                                                            usegmt=True)),
                   ('Cache-Control', 'no-cache')]
        if etag in _etags(environ.get('HTTP_IF_NONE_MATCH', '')):
            return 304, headers, b''
        rows = _server_configs(self.db, cur, tenant, server_id)
        waiting = [row[7] for row in rows
                   if row[5] == 'IN_PROGRESS' and row[6] is None]
        if waiting:
            cur.execute(
                'UPDATE software_deployment SET delivered_at = %%s '
                'WHERE tenant = %%s AND server_id = %%s AND config_id IN '
                '(%s) AND status = %%s AND delivered_at IS NULL'
                % ', '.join(['%s'] * len(waiting)),
                [_now(), tenant, server_id] + waiting + ['IN_PROGRESS'])
        url = 'http://%s%s?%s' % (environ.get('HTTP_HOST', ''),
                                  environ.get('PATH_INFO', ''),
                                  environ.get('QUERY_STRING', ''))
        return 200, headers, json.dumps({
            'deployments': [_config_view(row[:5]) for row in rows],
            'os-collect-config': {'collectors': ['request', 'local'],
                                  'request': {'metadata_url': url},
                                  'polling_interval': 30}}).encode()


def _apply(outputs, declared, details):
    """Heat's signal rules (heat_deploy.operations.signal_rules)."""
    details = details or {}
    outputs = dict(outputs or {})
    reasons = []
    code = details.get('deploy_status_code')
    if code and str(code) != '0':
        reasons.append('deploy_status_code : Deployment exited with '
                       'non-zero status code: %s' % code)
    for output in declared:
        if output['name'] in details:
            outputs[output['name']] = details[output['name']]
            if output.get('error_output'):
                reasons.append('%s : %s' % (output['name'],
                                            details[output['name']]))
    for name in STANDARD_OUTPUTS:
        outputs[name] = details.get(name)
    if reasons:
        return 'FAILED', ', '.join(reasons), outputs
    return 'COMPLETE', 'Outputs received', outputs


def _normalise(item, output):
    if not isinstance(item, dict) or not isinstance(item.get('name'), str):
        raise HTTPError(400, 'each input and output needs a name')
    item = {key: value for key, value in item.items() if value is not None}
    item.setdefault('type', 'String')
    if output:
        item.setdefault('error_output', False)
    return item


def _body(environ):
    try:
        length = int(environ.get('CONTENT_LENGTH') or 0)
    except ValueError:
        raise HTTPError(400, 'bad Content-Length')
    if not length:
        return {}
    try:
        doc = json.loads(environ['wsgi.input'].read(length))
    except ValueError:
        raise HTTPError(400, 'the body is not JSON')
    if not isinstance(doc, dict):
        raise HTTPError(400, 'the body must be a JSON object')
    return doc


def _query(text):
    return dict(parse.parse_qsl(text))


def _etags(header):
    return [tag.strip().strip('"') for tag in header.split(',')
            if tag.strip()]


_REASONS = {200: 'OK', 304: 'Not Modified', 400: 'Bad Request',
            401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
            409: 'Conflict', 413: 'Request Entity Too Large',
            500: 'Internal Server Error'}


def application(environ, start_response):
    """The WSGI entry point; the Floor is made in each worker on first use.
    """
    global _app
    if _app is None:
        _app = Floor()
    return _app(environ, start_response)


_app = None
