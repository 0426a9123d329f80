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

"""Signal transports: derived configs, signal URLs, metadata URLs, plug-ins."""

import email.utils
import time
from urllib import parse

from heat_deploy.api import app as api_app
from heat_deploy import capability
from heat_deploy import checks
from heat_deploy.signal import manager
from heat_deploy.tests.functional import base
from heat_deploy.tests.functional.fixtures import service
from heat_deploy.tests.functional.fixtures import thirdparty

SCRIPT = '#!/bin/sh\necho "$foo" > $heat_outputs_path.result\n'


def inputs_by_name(config):
    return {item['name']: item for item in config['inputs']}


class TransportTestCase(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.source = self.create_config(
            name='install', group='script', config=SCRIPT,
            inputs=[{'name': 'foo', 'default': 'dflt'},
                    {'name': 'bar', 'type': 'Number', 'default': 1}],
            outputs=[{'name': 'result'},
                     {'name': 'oops', 'error_output': True}],
            options={'o': 1})

    def deploy(self, transport='CFN_SIGNAL', server_id='server-1', **extra):
        fields = {'config_id': self.source['id'], 'server_id': server_id,
                  'input_values': {'foo': 'given', 'extra': 'x',
                                   'deploy_signal_transport': transport}}
        fields.update(extra)
        deployment = self.create_deployment(**fields)
        config = self.get_config(deployment['config_id']).json
        return deployment, config['software_config']

    def signal_url(self, config):
        return inputs_by_name(config)['deploy_signal_id']['value']


class TestDerivedConfigs(TransportTestCase):

    def test_cfn_signal_derives_the_config_heat_would(self):
        deployment, config = self.deploy('CFN_SIGNAL')
        self.assertEqual('IN_PROGRESS', deployment['status'])
        self.assertEqual('Deploy data available',
                         deployment['status_reason'])
        self.assertEqual('CREATE', deployment['action'])
        self.assertNotEqual(self.source['id'], deployment['config_id'])
        self.assertEqual('install', config['name'])
        self.assertEqual('script', config['group'])
        self.assertEqual(SCRIPT, config['config'])
        self.assertEqual({'o': 1}, config['options'])
        self.assertEqual(self.source['outputs'], config['outputs'])
        inputs = inputs_by_name(config)
        self.assertEqual(
            ['foo', 'bar', 'extra', 'deploy_server_id', 'deploy_action',
             'deploy_signal_transport', 'deploy_signal_id',
             'deploy_signal_verb'],
            [item['name'] for item in config['inputs']])
        self.assertEqual('given', inputs['foo']['value'])
        self.assertEqual(1, inputs['bar']['value'])
        self.assertEqual({'name': 'extra', 'type': 'String', 'value': 'x'},
                         inputs['extra'])
        self.assertEqual('server-1', inputs['deploy_server_id']['value'])
        self.assertEqual('CREATE', inputs['deploy_action']['value'])
        self.assertEqual('CFN_SIGNAL',
                         inputs['deploy_signal_transport']['value'])
        self.assertEqual('POST', inputs['deploy_signal_verb']['value'])
        url = parse.urlsplit(inputs['deploy_signal_id']['value'])
        self.assertEqual('http://heat-deploy.test',
                         '%s://%s' % (url.scheme, url.netloc))
        self.assertEqual('/agent/v1/deployments/%s/signal'
                         % deployment['id'], url.path)
        self.assertEqual({'expires', 'signature'},
                         set(parse.parse_qs(url.query)))

    def test_temp_url_signal_by_body_field_uses_put(self):
        deployment = self.create_deployment(
            config_id=self.source['id'], server_id='s',
            signal_transport='TEMP_URL_SIGNAL')
        config = self.get_config(deployment['config_id']).json
        inputs = inputs_by_name(config['software_config'])
        self.assertEqual('PUT', inputs['deploy_signal_verb']['value'])
        self.assertEqual('TEMP_URL_SIGNAL',
                         inputs['deploy_signal_transport']['value'])

    def test_no_signal_is_complete_at_once(self):
        deployment, config = self.deploy('NO_SIGNAL')
        self.assertEqual('COMPLETE', deployment['status'])
        self.assertEqual('Not waiting for outputs signal',
                         deployment['status_reason'])
        self.assertNotIn('deploy_signal_id', inputs_by_name(config))

    def test_transport_not_enabled_is_400(self):
        resp = self.call('POST', self.v1('/software_deployments'), json={
            'config_id': self.source['id'], 'server_id': 's',
            'signal_transport': 'ZAQAR_SIGNAL'})
        self.assertEqual(400, resp.status)
        self.assertEqual('Data supplied was not valid: Signal transport '
                         'ZAQAR_SIGNAL is not enabled; enabled transports '
                         'are CFN_SIGNAL, NO_SIGNAL, TEMP_URL_SIGNAL.',
                         resp.json['error']['message'])

    def test_deployment_without_transport_uses_the_config_as_is(self):
        deployment = self.create_deployment(config_id=self.source['id'],
                                            server_id='s')
        self.assertEqual(self.source['id'], deployment['config_id'])
        self.assertEqual('COMPLETE', deployment['status'])

    def test_new_action_rederives(self):
        deployment, config = self.deploy()
        url = self.v1('/software_deployments/' + deployment['id'])
        self.call('POST', self.signal_url(config), json={}, token=None)
        resp = self.call('PUT', url, json={'action': 'UPDATE'})
        self.assertEqual(200, resp.status, resp.body)
        updated = resp.json['software_deployment']
        self.assertNotEqual(deployment['config_id'], updated['config_id'])
        self.assertEqual('IN_PROGRESS', updated['status'])
        self.assertEqual('Deploy data available', updated['status_reason'])
        self.assertEqual('UPDATE', updated['action'])
        new_config = self.get_config(updated['config_id']).json
        inputs = inputs_by_name(new_config['software_config'])
        self.assertEqual('UPDATE', inputs['deploy_action']['value'])
        self.assertEqual(404, self.get_config(deployment['config_id']).status)

    def test_new_input_values_rederive(self):
        deployment, config = self.deploy()
        resp = self.call(
            'PUT', self.v1('/software_deployments/' + deployment['id']),
            json={'input_values': {'foo': 'changed'}})
        updated = resp.json['software_deployment']
        self.assertNotEqual(deployment['config_id'], updated['config_id'])
        new_config = self.get_config(updated['config_id']).json
        self.assertEqual('changed', inputs_by_name(
            new_config['software_config'])['foo']['value'])

    def test_naming_the_same_config_again_keeps_the_derived_one(self):
        deployment, config = self.deploy()
        url = self.v1('/software_deployments/' + deployment['id'])
        for config_id in (self.source['id'], deployment['config_id']):
            resp = self.call('PUT', url, json={'config_id': config_id,
                                               'status': 'IN_PROGRESS'})
            self.assertEqual(200, resp.status, resp.body)
            self.assertEqual(deployment['config_id'],
                             resp.json['software_deployment']['config_id'])

    def test_status_update_does_not_rederive(self):
        deployment, config = self.deploy()
        resp = self.call(
            'PUT', self.v1('/software_deployments/' + deployment['id']),
            json={'status': 'FAILED', 'status_reason': 'Deployment '
                                                       'cancelled.'})
        updated = resp.json['software_deployment']
        self.assertEqual(deployment['config_id'], updated['config_id'])
        self.assertEqual('FAILED', updated['status'])

    def test_delete_removes_the_derived_config(self):
        deployment, config = self.deploy()
        resp = self.call('DELETE', self.v1('/software_deployments/'
                                           + deployment['id']))
        self.assertEqual(204, resp.status)
        self.assertEqual(404, self.get_config(deployment['config_id']).status)
        self.assertEqual(200, self.get_config(self.source['id']).status)


class TestSignalURLs(TransportTestCase):

    def _show(self, deployment):
        return self.call('GET', self.v1('/software_deployments/'
                                        + deployment['id'])).json[
            'software_deployment']

    def test_signal_completes_the_deployment(self):
        deployment, config = self.deploy()
        resp = self.call('POST', self.signal_url(config), token=None, json={
            'deploy_stdout': 'out', 'deploy_stderr': 'err',
            'deploy_status_code': 0, 'result': 'done', 'junk': 1})
        self.assertEqual(200, resp.status, resp.body)
        self.assertEqual('applied', resp.json['signal'])
        shown = self._show(deployment)
        self.assertEqual('COMPLETE', shown['status'])
        self.assertEqual('Outputs received', shown['status_reason'])
        self.assertEqual({'deploy_stdout': 'out', 'deploy_stderr': 'err',
                          'deploy_status_code': 0, 'result': 'done'},
                         shown['output_values'])

    def test_repeated_signal_changes_nothing(self):
        deployment, config = self.deploy()
        url = self.signal_url(config)
        self.call('POST', url, token=None, json={'result': 'first'})
        before = self._show(deployment)
        resp = self.call('POST', url, token=None,
                         json={'result': 'second', 'deploy_status_code': 1})
        self.assertEqual('ignored', resp.json['signal'])
        self.assertEqual(before, self._show(deployment))

    def test_failing_script_fails_with_heats_reason(self):
        deployment, config = self.deploy()
        self.call('POST', self.signal_url(config), token=None,
                  json={'deploy_status_code': 3, 'oops': 'disk full'})
        shown = self._show(deployment)
        self.assertEqual('FAILED', shown['status'])
        self.assertEqual('deploy_status_code : Deployment exited with '
                         'non-zero status code: 3, oops : disk full',
                         shown['status_reason'])

    def test_temp_url_signal_takes_put(self):
        deployment, config = self.deploy('TEMP_URL_SIGNAL')
        url = self.signal_url(config)
        resp = self.call('POST', url, token=None, json={})
        self.assertEqual(403, resp.status)
        self.assertEqual('This signal URL accepts PUT requests only.',
                         resp.json['error']['message'])
        self.assertEqual('IN_PROGRESS', self._show(deployment)['status'])
        self.assertEqual(200, self.call('PUT', url, token=None,
                                        json={}).status)
        self.assertEqual('COMPLETE', self._show(deployment)['status'])

    def test_bad_urls_are_refused_and_change_nothing(self):
        deployment, config = self.deploy()
        url = self.signal_url(config)
        split = parse.urlsplit(url)
        query = parse.parse_qs(split.query)
        tampered = url.replace(query['signature'][0],
                               '0' * len(query['signature'][0]))
        other = self.deploy(server_id='server-2')[0]
        cases = [
            (split.path, 401, 'needs its signature'),
            (tampered, 403, 'signature is not valid'),
            (url.replace(deployment['id'], other['id']), 403,
             'signature is not valid'),
            (url.replace('expires=', 'expires=1'), 403,
             'signature is not valid'),
        ]
        for bad_url, status, message in cases:
            resp = self.call('POST', bad_url, token=None,
                             json={'result': 'x'})
            self.assertEqual(status, resp.status, bad_url)
            self.assertIn(message, resp.json['error']['message'])
            self.assertEqual('application/json',
                             resp.headers['Content-Type'].split(';')[0])
        self.assertEqual('IN_PROGRESS', self._show(deployment)['status'])
        self.assertEqual(405, self.call('GET', url, token=None).status)

    def test_expired_url_is_refused(self):
        deployment, config = self.deploy()
        signer = capability.Signer([service.SIGNING_KEY])
        expired = capability.signal_url(
            signer, 'http://heat-deploy.test', deployment['id'], 'POST',
            ttl=60, now=time.time() - 120)
        resp = self.call('POST', expired, token=None, json={})
        self.assertEqual(403, resp.status)
        self.assertIn('expired', resp.json['error']['message'])
        self.assertEqual('IN_PROGRESS', self._show(deployment)['status'])

    def test_deleted_deployment_is_404(self):
        deployment, config = self.deploy()
        self.call('DELETE', self.v1('/software_deployments/'
                                    + deployment['id']))
        resp = self.call('POST', self.signal_url(config), token=None,
                         json={})
        self.assertEqual(404, resp.status)

    def test_non_object_signal_is_400(self):
        deployment, config = self.deploy()
        resp = self.call('POST', self.signal_url(config), token=None,
                         data=b'[1, 2]')
        self.assertEqual(400, resp.status)
        self.assertEqual('IN_PROGRESS', self._show(deployment)['status'])

    def test_key_rotation_keeps_old_urls_valid(self):
        deployment, config = self.deploy()
        url = self.signal_url(config)
        self.app = service.make_app(
            {('signal', 'signing_keys'): ['new-key', service.SIGNING_KEY]})
        # URLs signed with the old key still work ...
        self.assertEqual(200, self.call('POST', url, token=None,
                                        json={}).status)
        # ... until the old key is removed.
        self.app = service.make_app({('signal', 'signing_keys'):
                                     ['new-key']})
        self.assertEqual(403, self.call('POST', url, token=None,
                                        json={}).status)

    def test_signal_urls_and_keys_stay_out_of_logs(self):
        deployment, config = self.deploy()
        url = self.signal_url(config)
        self.call('POST', url, token=None, json={'result': 'x'})
        self.call('POST', url.replace('signature=', 'signature=0'),
                  token=None, json={})
        signature = parse.parse_qs(parse.urlsplit(url).query)['signature'][0]
        self.assertIn('Signal: deployment %s succeeded' % deployment['id'],
                      self.logs.output)
        self.assertNotIn(signature, self.logs.output)
        self.assertNotIn(service.SIGNING_KEY, self.logs.output)


class TestAuthenticatedSignal(TransportTestCase):

    def test_member_signals_with_a_token(self):
        deployment, config = self.deploy()
        resp = self.call('POST', self.v1('/software_deployments/%s/signal'
                                         % deployment['id']),
                         json={'deploy_status_code': 0, 'result': 'r'})
        self.assertEqual(200, resp.status, resp.body)
        shown = resp.json['software_deployment']
        self.assertEqual('COMPLETE', shown['status'])
        self.assertEqual('r', shown['output_values']['result'])
        self.assertEqual('"2"', resp.headers['ETag'])

    def test_reader_may_not_signal(self):
        deployment, config = self.deploy()
        resp = self.call('POST', self.v1('/software_deployments/%s/signal'
                                         % deployment['id']),
                         json={}, headers={'X-Roles': 'reader'})
        self.assertEqual(403, resp.status)
        self.assertEqual('You are not authorized to use '
                         'software_deployments:signal.',
                         resp.json['error']['message'])

    def test_another_project_gets_404(self):
        deployment, config = self.deploy()
        resp = self.call('POST', '/v1/other/software_deployments/%s/signal'
                         % deployment['id'], json={})
        self.assertEqual(404, resp.status)


class TestMetadataURLs(TransportTestCase):

    def settings(self, server_id='server-1'):
        resp = self.call('GET', self.v1('/servers/%s/os-collect-config'
                                        % server_id))
        self.assertEqual(200, resp.status, resp.body)
        return resp.json['os-collect-config']

    def test_settings_for_user_data(self):
        settings = self.settings()
        self.assertEqual(['request', 'local'], settings['collectors'])
        self.assertEqual(30, settings['polling_interval'])
        url = parse.urlsplit(settings['request']['metadata_url'])
        self.assertEqual('heat-deploy.test', url.netloc)
        self.assertEqual('/agent/v1/metadata/%s/server-1' % self.tenant,
                         url.path)

    def test_public_endpoint_is_used_for_urls(self):
        self.app = service.make_app({('api', 'public_endpoint'):
                                     'https://orch.example.com:8004/'})
        url = self.settings()['request']['metadata_url']
        self.assertTrue(url.startswith(
            'https://orch.example.com:8004/agent/v1/metadata/'), url)
        deployment, config = self.deploy()
        self.assertTrue(self.signal_url(config).startswith(
            'https://orch.example.com:8004/agent/v1/deployments/'))

    def test_document_lists_the_servers_configs_with_values(self):
        url = self.settings()['request']['metadata_url']
        deployment, config = self.deploy()
        self.deploy(server_id='server-2')
        resp = self.call('GET', url, token=None)
        self.assertEqual(200, resp.status, resp.body)
        self.assertEqual([config], resp.json['deployments'])
        self.assertEqual(url, resp.json['os-collect-config']['request']
                         ['metadata_url'])
        self.assertIn('ETag', resp.headers)
        self.assertTrue(resp.headers['Last-Modified'].endswith(' GMT'))

    def test_conditional_requests_and_head(self):
        url = self.settings()['request']['metadata_url']
        self.deploy()
        first = self.call('GET', url, token=None)
        head = self.call('HEAD', url, token=None)
        self.assertEqual(200, head.status)
        self.assertEqual(b'', head.body)
        self.assertEqual(first.headers['ETag'], head.headers['ETag'])
        self.assertEqual(304, self.call('GET', url, token=None, headers={
            'If-None-Match': first.headers['ETag']}).status)
        self.assertEqual(304, self.call('GET', url, token=None, headers={
            'If-Modified-Since': first.headers['Last-Modified']}).status)

    def test_a_304_carries_the_headers_of_the_full_answer(self):
        url = self.settings()['request']['metadata_url']
        self.deploy()
        first = self.call('GET', url, token=None)
        again = self.call('GET', url, token=None, headers={
            'If-None-Match': first.headers['ETag']})
        self.assertEqual(304, again.status)
        self.assertEqual(b'', again.body)
        for name in ('ETag', 'Last-Modified', 'Cache-Control'):
            self.assertEqual(first.headers[name], again.headers[name])
        self.assertIn('x-openstack-request-id', again.headers)
        # HEAD answers 304 the same way.
        self.assertEqual(304, self.call('HEAD', url, token=None, headers={
            'If-None-Match': first.headers['ETag']}).status)

    def test_a_stale_etag_gets_the_current_document(self):
        url = self.settings()['request']['metadata_url']
        self.deploy()
        first = self.call('GET', url, token=None)
        self.deploy()
        changed = self.call('GET', url, token=None, headers={
            'If-None-Match': first.headers['ETag']})
        self.assertEqual(200, changed.status)
        self.assertEqual(2, len(changed.json['deployments']))
        self.assertNotEqual(first.headers['ETag'], changed.headers['ETag'])

    def test_a_current_etag_does_not_pass_a_revoked_or_forged_url(self):
        url = self.settings()['request']['metadata_url']
        etag = self.call('GET', url, token=None).headers['ETag']
        forged = url.replace('signature=', 'signature=0')
        self.assertEqual(403, self.call('GET', forged, token=None, headers={
            'If-None-Match': etag}).status)
        self.call('DELETE', self.v1('/servers/server-1/os-collect-config'))
        # The revoke changed the ETag too; an agent still sending the old
        # one with the old URL is refused, not told "not modified".
        revoked = self.call('GET', url, token=None, headers={
            'If-None-Match': etag})
        self.assertEqual(403, revoked.status)
        self.assertIn('revoked', revoked.json['error']['message'])

    def test_last_modified_strictly_increases_on_every_change(self):
        url = self.settings()['request']['metadata_url']
        seen = []
        for step in range(4):
            if step % 2 == 0:
                deployment, config = self.deploy()
            else:
                self.call('DELETE', self.v1('/software_deployments/'
                                            + deployment['id']))
            resp = self.call('HEAD', url, token=None)
            seen.append(email.utils.parsedate_to_datetime(
                resp.headers['Last-Modified']).timestamp())
        self.assertEqual(sorted(set(seen)), seen)

    def test_document_changes_on_rederive_and_delete(self):
        url = self.settings()['request']['metadata_url']
        deployment, config = self.deploy()
        self.call('PUT', self.v1('/software_deployments/' + deployment['id']),
                  json={'action': 'UPDATE'})
        ids = [item['id'] for item in
               self.call('GET', url, token=None).json['deployments']]
        self.assertEqual(1, len(ids))
        self.assertNotEqual(config['id'], ids[0])
        self.call('DELETE', self.v1('/software_deployments/'
                                    + deployment['id']))
        self.assertEqual([], self.call('GET', url,
                                       token=None).json['deployments'])

    def test_revoke_makes_the_old_url_403(self):
        old = self.settings()['request']['metadata_url']
        resp = self.call('DELETE', self.v1('/servers/server-1/'
                                           'os-collect-config'))
        self.assertEqual(204, resp.status)
        revoked = self.call('GET', old, token=None)
        self.assertEqual(403, revoked.status)
        self.assertIn('revoked', revoked.json['error']['message'])
        new = self.settings()['request']['metadata_url']
        self.assertNotEqual(old, new)
        self.assertEqual(200, self.call('GET', new, token=None).status)

    def test_tampered_url_is_403(self):
        url = self.settings()['request']['metadata_url']
        other_tenant = url.replace(self.tenant, 'someone-else')
        self.assertEqual(403, self.call('GET', other_tenant,
                                        token=None).status)
        self.assertEqual(401, self.call('GET', url.split('?')[0],
                                        token=None).status)

    def test_reader_may_get_settings_but_not_revoke(self):
        resp = self.call('GET', self.v1('/servers/s/os-collect-config'),
                         headers={'X-Roles': 'reader'})
        self.assertEqual(200, resp.status)
        resp = self.call('DELETE', self.v1('/servers/s/os-collect-config'),
                         headers={'X-Roles': 'reader'})
        self.assertEqual(403, resp.status)


class TestThirdPartyTransports(TransportTestCase):

    overrides = {('signal', 'enabled_transports'):
                 ['CFN_SIGNAL', 'TEST_MAILBOX', 'TEST_BROKEN', 'TEST_BUGGY']}

    def setUp(self):
        self.plugin = self.useFixture(thirdparty.ThirdPartyTransports())
        super().setUp()

    def test_a_pull_transport_from_an_entry_point_alone(self):
        deployment, config = self.deploy('TEST_MAILBOX')
        self.assertEqual(deployment['id'], inputs_by_name(
            config)['deploy_mailbox_id']['value'])
        url = self.v1('/software_deployments/' + deployment['id'])
        self.assertEqual('IN_PROGRESS', self.call('GET', url).json[
            'software_deployment']['status'])
        self.plugin.module.MAILBOX[deployment['id']] = {
            'deploy_status_code': 0, 'result': 'from the mailbox'}
        shown = self.call('GET', url).json['software_deployment']
        self.assertEqual('COMPLETE', shown['status'])
        self.assertEqual('from the mailbox', shown['output_values']['result'])
        self.call('DELETE', url)
        self.assertIn(('delete_signal', deployment['id']),
                      self.plugin.module.CALLS)

    def test_driver_errors_show_the_user_string_only(self):
        resp = self.call('POST', self.v1('/software_deployments'), json={
            'config_id': self.source['id'], 'server_id': 's',
            'signal_transport': 'TEST_BROKEN'})
        self.assertEqual(502, resp.status)
        self.assertEqual('The mailbox service is unavailable; try again '
                         'later.', resp.json['error']['message'])
        self.assertNotIn(b'hunter2', resp.body)
        self.assertIn('password=hunter2', self.logs.output)
        listed = self.call('GET', self.v1('/software_deployments')).json
        self.assertEqual([], listed['software_deployments'])

    def test_a_driver_bug_is_a_502_with_the_cause_in_the_log(self):
        resp = self.call('POST', self.v1('/software_deployments'), json={
            'config_id': self.source['id'], 'server_id': 's',
            'signal_transport': 'TEST_BUGGY'})
        self.assertEqual(502, resp.status, resp.body)
        self.assertIn('service log', resp.json['error']['message'])
        self.assertNotIn(b'no such key', resp.body)
        self.assertIn('no such key: a bug', self.logs.output)

    def test_a_transport_publishes_its_own_options(self):
        groups = {group.name: [opt.name for opt in opts]
                  for group, opts in manager.list_transport_opts()}
        self.assertEqual(['input_name'], groups['test_mailbox'])
        conf = service.make_conf(self.overrides)
        self.app = api_app.load_app(conf)
        # Registered when the transport was loaded.
        conf.set_override('input_name', 'deploy_box', group='test_mailbox')
        deployment, config = self.deploy('TEST_MAILBOX')
        self.assertEqual(deployment['id'], inputs_by_name(
            config)['deploy_box']['value'])

    def test_enabled_transport_that_fails_to_load_stops_start_up(self):
        for name, message in [
                ('NO_SUCH_TRANSPORT', 'no installed package provides'),
                ('TEST_MISSING_MODULE', 'failed to load'),
                ('TEST_NOT_A_DRIVER', 'is not a SignalDriver')]:
            err = self.assertRaises(
                checks.StartupFailure, service.make_app,
                {('signal', 'enabled_transports'): ['CFN_SIGNAL', name]})
            self.assertIn(name, str(err))
            self.assertIn(message, str(err))

    def test_default_transport_must_be_enabled(self):
        err = self.assertRaises(
            checks.StartupFailure, service.make_app,
            {('signal', 'enabled_transports'): ['NO_SIGNAL']})
        self.assertIn('default_transport CFN_SIGNAL is not one of the '
                      'enabled transports', str(err))
