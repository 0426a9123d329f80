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

"""Heat's fault body, built from heat_deploy and webob errors.

Every error response heat_deploy produces looks like Heat's::

    {"code": 404, "title": "Not Found",
     "explanation": "The resource could not be found.",
     "error": {"type": "NotFound", "message": "...", "traceback": null}}
"""

from oslo_db import exception as db_exc
from oslo_serialization import jsonutils
from sqlalchemy import exc as sa_exc
import webob
import webob.exc

from heat_deploy import exception

# Marks a response as already rendered here, so the outer middleware does not
# rewrite it again.
RENDERED_HEADER = 'X-Heat-Deploy-Fault'


def body(code, error_type, message, request_id=None):
    """The fault document as a dict.

    :param code: HTTP status code.
    :param error_type: the ``error.type`` value (an exception class name).
    :param message: text for the caller, or None to leave it out.
    :param request_id: added as ``error.request_id`` when given, so a 500
        can be matched with the operator's log.
    """
    status_cls = webob.exc.status_map.get(code, webob.exc.HTTPServerError)
    error = {'type': error_type, 'traceback': None}
    if message is not None:
        error['message'] = message
    if request_id:
        error['request_id'] = request_id
    return {'code': code,
            'title': status_cls.title,
            'explanation': status_cls.explanation,
            'error': error}


def response(code, error_type, message, headers=None, request_id=None):
    """A webob Response carrying the fault document."""
    resp = webob.Response(
        status=code,
        content_type='application/json',
        charset='UTF-8',
        body=jsonutils.dump_as_bytes(
            body(code, error_type, message, request_id)))
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    resp.headers[RENDERED_HEADER] = '1'
    return resp


# Seconds a client should wait before retrying when the database is away.
RETRY_AFTER = '2'

# How each database error is answered, most specific first. Deadlocks get
# here only once oslo.db's retries are used up. The database's own message
# is never shown: it may quote stored values.
_DB_ERRORS = (
    # oslo.db does not recognise every way a driver words "cannot connect"
    # (libpq's "connection to server ... failed"); SQLAlchemy's operational
    # and pool errors are the database being away, not a bad request.
    ((db_exc.DBConnectionError, sa_exc.OperationalError,
      sa_exc.DisconnectionError, sa_exc.TimeoutError),
     503, 'HTTPServiceUnavailable',
     'The service is temporarily unavailable: its database does not '
     'answer. Retry in a few seconds.'),
    (db_exc.DBDeadlock, 503, 'HTTPServiceUnavailable',
     'The service is too busy to complete the request now (database lock '
     'conflicts). Retry in a few seconds.'),
    (db_exc.DBDataError, 400, 'HTTPBadRequest',
     'A value in the request is too long or otherwise not storable; check '
     'the lengths and types of the fields and of the ids in the URL.'),
    ((db_exc.DBReferenceError, db_exc.DBDuplicateEntry,
      db_exc.DBConstraintError), 409, 'HTTPConflict',
     'The request conflicts with a concurrent change of the same objects; '
     'fetch them again and retry.'),
)


def from_database_error(exc):
    """Fault response for a database error, or None for other errors.

    Only the outermost middleware calls this, so that it logs the cause.
    """
    if type(exc) is db_exc.DBError and exc.inner_exception is not None:
        # What oslo.db could not classify: judge by the driver's error.
        exc = exc.inner_exception
    for classes, code, error_type, message in _DB_ERRORS:
        if isinstance(exc, classes):
            headers = {'Retry-After': RETRY_AFTER} if code == 503 else None
            return response(code, error_type, message, headers=headers)
    return None


def from_exception(exc):
    """Fault response for a heat_deploy or webob error.

    :returns: a webob Response, or None when the error is not one whose
        message may be shown to the caller.
    """
    if isinstance(exc, exception.HeatDeployException):
        return response(exc.code,
                        getattr(exc, 'fault_type', type(exc).__name__),
                        exc.message, headers=exc.headers)
    if isinstance(exc, webob.exc.HTTPException) and exc.code >= 400:
        headers = {}
        if exc.code == 405 and exc.allow:
            headers['Allow'] = ', '.join(exc.allow)
        error_type = getattr(exc, 'fault_type', type(exc).__name__)
        return response(exc.code, error_type,
                        exc.detail or exc.explanation, headers=headers)
    return None
