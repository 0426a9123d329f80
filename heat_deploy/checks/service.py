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

"""The service's own checks: signal transports, keys and the database.

:func:`schema_result` also serves the healthcheck
(heat_deploy.api.middleware.healthcheck), which asks it again every few
seconds while the service runs.
"""

import contextlib
import functools
import logging

from alembic import script as alembic_script
from cryptography import fernet
from oslo_config import cfg
from sqlalchemy.engine import url as sa_url

from heat_deploy.checks import base
from heat_deploy.checks import galera
from heat_deploy.db import engine as db_engine
from heat_deploy.db import migration
from heat_deploy import notifier
from heat_deploy.signal import manager

DB_SYNC = 'heat-deploy-manage db sync'

#: Signing keys shorter than this draw a warning (the option's help asks
#: for 32 bytes or more).
MIN_SIGNING_KEY_LENGTH = 32


@contextlib.contextmanager
def _quiet(logger_name):
    """Drop records below ERROR from one logger for a dry run.

    The transports are loaded once to check them and once more to serve;
    only the second should tell the log which are enabled.
    """
    logger = logging.getLogger(logger_name)

    def below_error(record):
        return record.levelno >= logging.ERROR

    logger.addFilter(below_error)
    try:
        yield
    finally:
        logger.removeFilter(below_error)


@base.titled('Signal transports')
def check_transports(conf):
    """Every enabled transport loads with the options it needs."""
    try:
        with _quiet(manager.__name__):
            transports = manager.SignalDriverManager(conf)
    except manager.SignalDriverLoadError as err:
        return base.Result(base.FAILURE, str(err),
                           'Give the transport the options it needs (see '
                           'doc/source/transports.rst) or remove it from '
                           '[signal] enabled_transports.')
    unsupported = sorted(name for name, driver in transports.drivers.items()
                         if not driver.supported)
    if unsupported:
        return base.Result(base.WARNING, 'Signal transport(s) %s are marked '
                                         'unsupported.'
                           % ', '.join(unsupported),
                           'Prefer a supported transport, or check that the '
                           'unsupported one is maintained.')
    return base.Result(base.OK, 'Enabled: %s (default %s).'
                       % (', '.join(transports.drivers), transports.default))


@base.titled('Signing and encryption keys')
def check_keys(conf):
    """[signal] encryption_keys are Fernet keys; signing keys are set and
    long enough.
    """
    for number, key in enumerate(conf.signal.encryption_keys, 1):
        try:
            fernet.Fernet(key)
        except (ValueError, TypeError):
            return base.Result(
                base.FAILURE,
                '[signal] encryption_keys: key %d is not a Fernet key (32 '
                'url-safe base64-encoded bytes).' % number,
                'Make one with: python3 -c "from cryptography.fernet import '
                'Fernet; print(Fernet.generate_key().decode())"')
    signing_keys = [key for key in conf.signal.signing_keys if key]
    make_one = ('Set a long random string, such as the output of: python3 '
                '-c "import secrets; print(secrets.token_urlsafe(32))"')
    if not signing_keys:
        return base.Result(base.WARNING, '[signal] signing_keys is empty: '
                                         'the service cannot hand out '
                                         'metadata URLs or signal URLs.',
                           make_one)
    short = [str(number) for number, key in enumerate(signing_keys, 1)
             if len(key) < MIN_SIGNING_KEY_LENGTH]
    if short:
        return base.Result(base.WARNING, '[signal] signing_keys: %s shorter '
                                         'than %d characters, which makes '
                                         'signed URLs easier to forge.'
                           % ('key %s is' % short[0] if len(short) == 1
                              else 'keys %s are' % ', '.join(short),
                              MIN_SIGNING_KEY_LENGTH), make_one)
    return base.Result(base.OK, '%d signing key(s), %d encryption key(s).'
                       % (len(signing_keys),
                          len(conf.signal.encryption_keys)))


@base.titled('Notifications and webhooks')
def check_events(conf):
    """Webhooks have the key to seal their secrets; the notification
    drivers are ones heat_deploy publishes with.
    """
    if conf.webhooks.allowed_hosts and not conf.signal.encryption_keys:
        return base.Result(
            base.FAILURE, '[webhooks] allowed_hosts is set but [signal] '
                          'encryption_keys is empty: webhook secrets are '
                          'stored encrypted.',
            'Add an encryption key (heat-deploy-manage keys generate), or '
            'empty [webhooks] allowed_hosts to disable webhooks.')
    try:
        conf.webhooks.denied_networks
    except cfg.Error as err:
        # Its type checks each network as the file is read.
        return base.Result(base.FAILURE, '[webhooks] denied_networks: %s'
                           % base.one_line(err).split(' is not valid: ')[-1],
                           'Write each as an address or CIDR, such as '
                           '10.0.0.0/8.')
    if not conf.notifications.enabled:
        return base.Result(base.OK, 'Notifications off; webhooks %s.'
                           % ('to %s' % ', '.join(conf.webhooks.allowed_hosts)
                              if conf.webhooks.allowed_hosts else 'off'))
    try:
        publisher = notifier.Publisher(conf)
    except Exception as err:
        return base.Result(base.FAILURE, 'Notifications cannot be published: '
                                         '%s' % base.one_line(err),
                           'Fix [oslo_messaging_notifications] (driver, '
                           'transport_url) or set [notifications] enabled = '
                           'false.')
    publisher.close()
    return base.Result(base.OK, 'Notifications on (%s, publisher %s).'
                       % (', '.join(publisher.drivers),
                          publisher.publisher_id))


@functools.lru_cache(maxsize=1)
def _revisions():
    """(head, every revision) of the migrations this release ships."""
    scripts = alembic_script.ScriptDirectory(migration.MIGRATIONS_DIR)
    return (scripts.get_current_head(),
            frozenset(script.revision for script in scripts.walk_revisions()))


def _display_url(conf):
    return sa_url.make_url(conf.database.connection).render_as_string(
        hide_password=True)


def schema_result(url=None):
    """Whether the configured database's schema is the one this release
    needs.

    :param url: the database URL to name in the messages (password
        hidden), or None.
    :raises Exception: the database cannot be read.
    """
    name = 'the database %s' % url if url else 'the database'
    title = 'T' + name[1:]
    # alembic says which dialect it found, at INFO, every time.
    with _quiet('alembic.runtime.migration'):
        current = migration.version()
    head, known = _revisions()
    if current == head:
        return base.Result(base.OK, '%s answers; its schema is at revision '
                                    '%s, the newest this release knows.'
                           % (title, head))
    if current is None:
        return base.Result(base.FAILURE, '%s has no schema; this release of '
                                         'heat_deploy needs revision %s.'
                           % (title, head),
                           'Run `%s` to create it.' % DB_SYNC)
    if current in known:
        return base.Result(base.FAILURE, 'The schema of %s is at revision '
                                         '%s; this release of heat_deploy '
                                         'needs revision %s.'
                           % (name, current, head),
                           'Run `%s` to upgrade it.' % DB_SYNC)
    return base.Result(base.FAILURE, 'The schema of %s is at revision %s, '
                                     'which this release of heat_deploy '
                                     'does not know (it needs %s): a newer '
                                     'release has migrated it.'
                       % (name, current, head),
                       'Run the heat_deploy release that migrated the '
                       'database.')


@base.titled('Database')
def check_database(conf):
    """[database] connection answers, its schema is at the head revision
    and, on a Galera cluster, its settings are those heat_deploy needs
    (heat_deploy.checks.galera).
    """
    try:
        url = _display_url(conf)
    except Exception:
        return base.Result(base.FAILURE, '[database] connection is not a '
                                         'database URL that SQLAlchemy '
                                         'understands.',
                           'Write it as, for example, mysql+pymysql://USER:'
                           'PASSWORD@HOST/heat_deploy.')
    try:
        db_engine.configure(conf)
        db_engine.ping()
    except ImportError as err:
        return base.Result(base.FAILURE, 'Cannot use the database %s: %s'
                           % (url, err),
                           'Install its driver: pip install '
                           '\'heat-deploy[mysql]\' or '
                           '\'heat-deploy[postgresql]\'.')
    except Exception as err:
        return base.Result(base.FAILURE, 'Cannot connect to the database %s: '
                                         '%s' % (url, base.one_line(err)),
                           'Check [database] connection and that the '
                           'database server is up and reachable from this '
                           'host.')
    try:
        schema = schema_result(url)
    except Exception as err:
        return base.Result(base.FAILURE, 'Cannot read the schema revision of '
                                         'the database %s: %s'
                           % (url, base.one_line(err)),
                           'Check that the database user may read it.')
    if schema.code != base.OK:
        return schema
    try:
        cluster = galera.check_connections()
    except Exception as err:
        return base.Result(base.FAILURE, 'Cannot read the Galera settings of '
                                         'the database %s: %s'
                           % (url, base.one_line(err)),
                           'Check that the database user may run SHOW '
                           'VARIABLES and SHOW STATUS.')
    if cluster is None:
        return schema
    if cluster.code == base.OK:
        return base.Result(base.OK, '%s %s' % (schema.message,
                                               cluster.message))
    return cluster
