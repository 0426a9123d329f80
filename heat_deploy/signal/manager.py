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

"""Loading the enabled signal transports, and calling them safely."""

from oslo_config import cfg
from oslo_log import log as logging
from stevedore import extension as extension_manager
from stevedore import named

from heat_deploy import exception
from heat_deploy.signal import base

LOG = logging.getLogger(__name__)

NAMESPACE = 'heat_deploy.signal_transports'


class SignalDriverLoadError(Exception):
    """An enabled transport could not be loaded; the service cannot start."""


def _groups(driver_class):
    for group, opts in driver_class.list_opts():
        if isinstance(group, cfg.OptGroup):
            # A new OptGroup per ConfigOpts: oslo.config keeps registered
            # options on the group object.
            group = cfg.OptGroup(group.name, title=group.title,
                                 help=group.help)
        else:
            group = cfg.OptGroup(group)
        yield group, opts


def register_opts(conf, driver_class):
    """Register a transport's own option groups with the service's conf."""
    for group, opts in _groups(driver_class):
        conf.register_group(group)
        conf.register_opts(opts, group=group.name)


def list_transport_opts():
    """The option groups of every installed transport, for the sample
    configuration, whether enabled or not.
    """
    found = []
    for extension in extension_manager.ExtensionManager(NAMESPACE):
        if (isinstance(extension.plugin, type)
                and issubclass(extension.plugin, base.SignalDriver)):
            found.extend(_groups(extension.plugin))
    return found


class SignalDriverManager(object):
    """The transports listed in [signal] enabled_transports, loaded once.

    :raises SignalDriverLoadError: an enabled name has no entry point, its
        driver fails to load, or default_transport is not enabled.
    """

    def __init__(self, conf):
        enabled = list(dict.fromkeys(conf.signal.enabled_transports))

        def on_missing(names):
            raise SignalDriverLoadError(
                'Signal transport(s) %s are enabled in [signal] '
                'enabled_transports but no installed package provides them '
                '(entry point namespace %s).'
                % (', '.join(sorted(names)), NAMESPACE))

        def on_load_failure(manager, entry_point, error):
            raise SignalDriverLoadError(
                'Signal transport %s (%s) failed to load: %s'
                % (entry_point.name, entry_point.value, error))

        extensions = named.NamedExtensionManager(
            NAMESPACE, names=enabled, name_order=True,
            on_missing_entrypoints_callback=on_missing,
            on_load_failure_callback=on_load_failure)
        self.drivers = {}
        for extension in extensions:
            driver_class = extension.plugin
            if not (isinstance(driver_class, type)
                    and issubclass(driver_class, base.SignalDriver)):
                raise SignalDriverLoadError(
                    'Signal transport %s is not a SignalDriver.'
                    % extension.name)
            register_opts(conf, driver_class)
            try:
                driver = driver_class(conf)
            except Exception as error:
                on_load_failure(extensions, extension.entry_point, error)
            driver.name = extension.name
            if not driver.supported:
                LOG.warning('Signal transport %s is marked unsupported.',
                            extension.name)
            self.drivers[extension.name] = driver
        self.default = conf.signal.default_transport
        if self.default not in self.drivers:
            raise SignalDriverLoadError(
                '[signal] default_transport %s is not one of the enabled '
                'transports (%s).' % (self.default, ', '.join(enabled)))
        LOG.info('Signal transports enabled: %s (default %s)',
                 ', '.join(self.drivers), self.default)

    def find(self, name):
        """The driver of an enabled transport, or None (for None too)."""
        return self.drivers.get(name)

    def get(self, name):
        """The driver of an enabled transport.

        :raises heat_deploy.exception.Invalid: not enabled here.
        """
        try:
            return self.drivers[name]
        except KeyError:
            raise exception.Invalid(
                reason='Signal transport %s is not enabled; enabled '
                       'transports are %s.'
                % (name, ', '.join(sorted(self.drivers))))


class SignalTransportFailed(exception.HeatDeployException):
    """A transport driver failed; the message is the driver's user string."""

    msg_fmt = '%(reason)s'


def call_driver(driver, method, *args):
    """Call a driver method, turning its errors into API errors.

    The operator string goes to the log; the caller gets the user string
    with the driver error's status (400, 501 or 502). Any other exception
    is a fault of the driver or of what it talks to: logged with its
    traceback, and a 502 for the caller, never a 500.
    """
    try:
        return getattr(driver, method)(*args)
    except base.SignalDriverError as err:
        LOG.warning('Signal transport %(name)s %(method)s failed: '
                    '%(reason)s', {'name': driver.name, 'method': method,
                                   'reason': err.operator_fault_string})
        failure = SignalTransportFailed(reason=err.user_fault_string)
        failure.code = err.code
        raise failure
    except Exception:
        LOG.exception('Signal transport %(name)s %(method)s raised an '
                      'unexpected error', {'name': driver.name,
                                           'method': method})
        failure = SignalTransportFailed(
            reason='The %s signal transport failed; the operator can find '
                   'the cause in the service log.' % driver.name)
        failure.code = 502
        raise failure
