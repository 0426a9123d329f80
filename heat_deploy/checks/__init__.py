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

"""What a running service needs from its configuration, checked up front.

Each check in ``CHECKS`` takes the parsed ConfigOpts and returns a
:class:`Result`: ``OK``, ``WARNING`` or ``FAILURE``, a message saying what
it found and a hint saying what to do. The same checks serve twice:

* at start-up, :func:`check_startup` (called by
  ``heat_deploy.api.app.load_app``) logs the warnings and raises
  :class:`StartupFailure` when any check fails, so that no server serves a
  configuration whose requests would all fail;
* ``heat-deploy-manage check`` prints every result and exits 0 (all OK),
  1 (warnings only) or 2 (a failure), as ``nova-status upgrade check``
  does.

A check never contacts Keystone or memcached: either being down is a
runtime condition (503), not a configuration error. It does connect to the
database, whose schema must be the one this release was written for.

The checks live in :mod:`heat_deploy.checks.keystone` (token validation and
the token cache), :mod:`heat_deploy.checks.service` (signal transports,
keys, the database) and :mod:`heat_deploy.checks.galera` (a Galera
cluster's settings, part of the database check; heat-deploy-worker runs it
alone at start-up); :mod:`heat_deploy.checks.base` holds what they share.
Every public name is importable from here.
"""

from oslo_config import cfg
from oslo_log import log as oslo_logging

from heat_deploy.checks import base
from heat_deploy.checks import galera
from heat_deploy.checks import keystone
from heat_deploy.checks import service

LOG = oslo_logging.getLogger(__name__)

OK = base.OK
WARNING = base.WARNING
FAILURE = base.FAILURE
Result = base.Result
one_line = base.one_line
titled = base.titled

AUTHTOKEN_GROUP = keystone.AUTHTOKEN_GROUP
check_keystone = keystone.check_keystone
check_token_cache = keystone.check_token_cache

DB_SYNC = service.DB_SYNC
MIN_SIGNING_KEY_LENGTH = service.MIN_SIGNING_KEY_LENGTH
check_transports = service.check_transports
check_keys = service.check_keys
check_events = service.check_events
check_database = service.check_database
check_galera = galera.check_galera
galera_result = galera.galera_result
schema_result = service.schema_result

#: Exit status of ``heat-deploy-manage check`` for the worst result.
EXIT_CODES = {OK: 0, WARNING: 1, FAILURE: 2}

#: Every check, in the order they run and are printed.
CHECKS = [
    check_keystone,
    check_token_cache,
    check_transports,
    check_keys,
    check_events,
    check_database,
]


class StartupFailure(Exception):
    """A start-up check failed: the service must not serve.

    Its message has one line per failed check (message and hint).

    :param failures: the failed :class:`Result` objects.
    """

    def __init__(self, failures):
        self.failures = list(failures)
        super().__init__('\n'.join(result.line()
                                   for result in self.failures))


def run(conf, checks=None):
    """Run the checks.

    A check that raises fails with the error as its message: an option
    value oslo.config refuses, for instance.

    :param checks: the check functions; default ``CHECKS``.
    :returns: a list of (title, :class:`Result`), in the order run.
    """
    results = []
    for check in CHECKS if checks is None else checks:
        try:
            result = check(conf)
        except cfg.Error as err:
            result = Result(FAILURE, one_line(err),
                            'Correct the configuration file.')
        except Exception as err:
            LOG.debug('Check %s raised', check.title, exc_info=True)
            result = Result(FAILURE, 'The check itself failed: %s: %s'
                            % (type(err).__name__, one_line(err)))
        results.append((check.title, result))
    return results


def exit_code(results):
    """0 when every result is OK, 1 with warnings only, 2 with a failure.

    :param results: what :func:`run` returned.
    """
    return max([EXIT_CODES[result.code] for _title, result in results],
               default=0)


def check_startup(conf):
    """Run every check before the service starts serving.

    Warnings are logged, one line each.

    :raises StartupFailure: a check failed; its message has one line per
        failure.
    """
    failures = []
    for title, result in run(conf):
        if result.code == FAILURE:
            failures.append(result)
        elif result.code == WARNING:
            LOG.warning('%(title)s: %(line)s',
                        {'title': title, 'line': result.line()})
    if failures:
        raise StartupFailure(failures)
