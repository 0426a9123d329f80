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

"""Capability URLs, derived configs and the transport drivers, no DB."""

from urllib import parse

import fixtures
import testtools

from heat_deploy import capability
from heat_deploy import exception
from heat_deploy.operations import derivation
from heat_deploy import service
from heat_deploy.signal import base
from heat_deploy.signal import manager
from heat_deploy.signal import noop
from heat_deploy.signal import url


def _query(signal_url):
    return {key: values[0] for key, values in
            parse.parse_qs(parse.urlsplit(signal_url).query).items()}


class TestSignalURLs(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.signer = capability.Signer(['k1'])

    def test_valid_url_passes(self):
        signal_url = capability.signal_url(self.signer, 'http://h', 'd1',
                                           'POST', 60, now=1000)
        capability.check_signal(self.signer, 'POST', 'd1',
                                _query(signal_url), now=1059)

    def test_expiry(self):
        params = _query(capability.signal_url(self.signer, 'http://h', 'd1',
                                              'POST', 60, now=1000))
        err = self.assertRaises(capability.CapabilityDenied,
                                capability.check_signal, self.signer,
                                'POST', 'd1', params, now=1061)
        self.assertIn('expired', err.message)

    def test_bound_to_deployment_and_method(self):
        params = _query(capability.signal_url(self.signer, 'http://h', 'd1',
                                              'PUT', 60))
        self.assertRaises(capability.CapabilityDenied,
                          capability.check_signal, self.signer, 'PUT', 'd2',
                          params)
        err = self.assertRaises(capability.CapabilityDenied,
                                capability.check_signal, self.signer,
                                'POST', 'd1', params)
        self.assertEqual('This signal URL accepts PUT requests only.',
                         err.message)

    def test_expiry_that_is_not_a_whole_number_is_refused(self):
        # Even correctly signed: the service never signs one.
        for expires in ('1e10', '-5', ' 7', '\u0661'):
            signature = self.signer.sign('signal', 'POST', 'd1', expires)
            self.assertRaises(capability.CapabilityDenied,
                              capability.check_signal, self.signer, 'POST',
                              'd1', {'expires': expires,
                                     'signature': signature})

    def test_non_ascii_signature_is_refused(self):
        self.assertRaises(capability.CapabilityDenied,
                          capability.check_signal, self.signer, 'POST', 'd1',
                          {'expires': '9999999999', 'signature': '\xe9'})

    def test_missing_parameters(self):
        self.assertRaises(capability.CapabilityMissing,
                          capability.check_signal, self.signer, 'POST', 'd',
                          {'expires': '1'})

    def test_rotation(self):
        params = _query(capability.signal_url(self.signer, 'http://h', 'd1',
                                              'POST', 60))
        rotated = capability.Signer(['k2', 'k1'])
        capability.check_signal(rotated, 'POST', 'd1', params)
        new_params = _query(capability.signal_url(rotated, 'http://h', 'd1',
                                                  'POST', 60))
        self.assertRaises(capability.CapabilityDenied,
                          capability.check_signal, self.signer, 'POST', 'd1',
                          new_params)

    def test_no_key_cannot_sign(self):
        self.assertRaises(capability.NoSigningKey,
                          capability.Signer([]).sign, 'x')


class TestMetadataURLs(testtools.TestCase):

    def test_generation_revokes(self):
        signer = capability.Signer(['k'])
        metadata_url = capability.metadata_url(signer, 'http://h', 'p',
                                               'srv/1', 1)
        self.assertIn('/agent/v1/metadata/p/srv%2F1?', metadata_url)
        params = _query(metadata_url)
        capability.check_metadata(signer, 'p', 'srv/1', params, 1)
        err = self.assertRaises(capability.CapabilityDenied,
                                capability.check_metadata, signer, 'p',
                                'srv/1', params, 2)
        self.assertIn('revoked', err.message)
        self.assertRaises(capability.CapabilityDenied,
                          capability.check_metadata, signer, 'q', 'srv/1',
                          params, 1)


class TestDerive(testtools.TestCase):

    SOURCE = {'name': 'n', 'group': None, 'config': None,
              'inputs': [{'name': 'a', 'type': 'String', 'default': 'd'},
                         {'name': 'b', 'type': 'String'}],
              'outputs': [{'name': 'o', 'type': 'String',
                           'error_output': False}],
              'options': {'x': 1}}

    def test_inputs_in_heats_order(self):
        transport_inputs = [base.string_input('deploy_signal_id', 'u', 'd')]
        name, group, document = derivation.derive(
            self.SOURCE, {'b': 'given', 'extra': 'e',
                          'deploy_signal_transport': 'CFN_SIGNAL',
                          'deploy_signal_id': 'forged'},
            'srv', 'CREATE', 'CFN_SIGNAL', transport_inputs)
        self.assertEqual(('n', 'Heat::Ungrouped'), (name, group))
        self.assertEqual('', document['config'])
        self.assertEqual({'x': 1}, document['options'])
        values = [(item['name'], item.get('value'))
                  for item in document['inputs']]
        self.assertEqual([('a', 'd'), ('b', 'given'), ('extra', 'e'),
                          ('deploy_server_id', 'srv'),
                          ('deploy_action', 'CREATE'),
                          ('deploy_signal_transport', 'CFN_SIGNAL'),
                          ('deploy_signal_id', 'u')], values)

    def test_source_is_not_modified(self):
        derivation.derive(self.SOURCE, {'a': 'x'}, 's', 'CREATE',
                          'NO_SIGNAL', [])
        self.assertNotIn('value', self.SOURCE['inputs'][0])


class TestDrivers(testtools.TestCase):

    def _conf(self, **signal):
        conf = service.make_conf()
        conf([], project='heat_deploy', default_config_files=[])
        for name, value in signal.items():
            conf.set_override(name, value, group='signal')
        return conf

    def _info(self):
        return base.DeploymentInfo('dep', 'p', 's', 'CREATE', {}, None,
                                   'CFN_SIGNAL', 'http://api')

    def test_url_drivers(self):
        conf = self._conf(signing_keys=['k'])
        for driver_cls, verb in ((url.CFNSignalDriver, 'POST'),
                                 (url.TempURLSignalDriver, 'PUT')):
            inputs = driver_cls(conf).create_signal(None, self._info())
            by_name = {item['name']: item['value'] for item in inputs}
            self.assertEqual(verb, by_name['deploy_signal_verb'])
            self.assertTrue(by_name['deploy_signal_id'].startswith(
                'http://api/agent/v1/deployments/dep/signal?'))

    def test_url_driver_needs_a_key(self):
        self.assertRaises(ValueError, url.CFNSignalDriver, self._conf())

    def test_no_signal(self):
        driver = noop.NoSignalDriver(self._conf())
        self.assertFalse(driver.reports_outputs)
        self.assertEqual([], driver.create_signal(None, self._info()))
        self.assertRaises(base.SignalNotSupported, driver.parse_signal,
                          None, self._info(), {})

    def test_default_parse_and_fetch(self):
        driver = noop.NoSignalDriver(self._conf())
        self.assertEqual({}, base.SignalDriver.parse_signal(
            driver, None, None, None))
        self.assertRaises(base.SignalDriverError,
                          base.SignalDriver.parse_signal, driver, None, None,
                          [1])
        self.assertRaises(base.SignalNotSupported, driver.fetch_outputs,
                          None, self._info())

    def test_manager_loads_enabled_drivers_in_order(self):
        drivers = manager.SignalDriverManager(self._conf(
            signing_keys=['k'], enabled_transports=['NO_SIGNAL',
                                                    'CFN_SIGNAL']))
        self.assertEqual(['NO_SIGNAL', 'CFN_SIGNAL'], list(drivers.drivers))
        self.assertEqual('CFN_SIGNAL', drivers.get('CFN_SIGNAL').name)
        err = self.assertRaises(exception.Invalid, drivers.get,
                                'TEMP_URL_SIGNAL')
        self.assertIn('not enabled', err.message)

    def test_url_transport_without_key_stops_start_up(self):
        err = self.assertRaises(manager.SignalDriverLoadError,
                                manager.SignalDriverManager, self._conf())
        self.assertIn('signing_keys', str(err))

    def test_call_driver_maps_errors(self):
        class Failing(object):
            name = 'X'

            def create_signal(self):
                raise base.SignalBackendError('user text', 'secret detail')

        logger = self.useFixture(fixtures.FakeLogger())
        err = self.assertRaises(manager.SignalTransportFailed,
                                manager.call_driver, Failing(),
                                'create_signal')
        self.assertEqual(502, err.code)
        self.assertEqual('user text', err.message)
        self.assertIn('secret detail', logger.output)


class TestSecrets(testtools.TestCase):

    def test_sealed_values_are_masked_or_revealed(self):
        from cryptography import fernet

        from heat_deploy import secret_values

        key = fernet.Fernet.generate_key().decode()
        box = secret_values.SecretBox([key])
        inputs = [{'name': 'user', 'value': 'u'},
                  {'name': 'password', 'value': box.seal('s3cret')}]
        self.assertNotIn('s3cret', str(inputs))
        self.assertEqual(['u', '***'], [item['value'] for item in
                                        secret_values.mask(inputs)])
        self.assertEqual(['u', 's3cret'], [item['value'] for item in
                                           secret_values.reveal(inputs, box)])
        # A rotated box still opens values sealed with the old key.
        rotated = secret_values.SecretBox(
            [fernet.Fernet.generate_key().decode(), key])
        self.assertEqual('s3cret', rotated.open(inputs[1]['value']))

    def test_derive_seals_secret_transport_inputs(self):
        from cryptography import fernet

        from heat_deploy import secret_values

        box = secret_values.SecretBox([fernet.Fernet.generate_key()])
        name, group, document = derivation.derive(
            TestDerive.SOURCE, {}, 's', 'CREATE', 'HEAT_SIGNAL',
            [base.secret_input('deploy_password', 'pw', 'd')], box)
        stored = document['inputs'][-1]['value']
        self.assertTrue(secret_values.is_sealed(stored))
        self.assertEqual('pw', box.open(stored))

    def test_heat_signal_needs_its_settings(self):
        from heat_deploy.signal import heat

        conf = service.make_conf()
        conf([], project='heat_deploy', default_config_files=[])
        err = self.assertRaises(ValueError, heat.HeatSignalDriver, conf)
        self.assertIn('[heat_signal] auth_url, stack_domain_admin, '
                      'stack_domain_admin_password must be set', str(err))
        conf.set_override('auth_url', 'http://ks/v3', group='heat_signal')
        conf.set_override('stack_domain_admin', 'a', group='heat_signal')
        conf.set_override('stack_domain_admin_password', 'p',
                          group='heat_signal')
        err = self.assertRaises(ValueError, heat.HeatSignalDriver, conf)
        self.assertIn('encryption_keys', str(err))
