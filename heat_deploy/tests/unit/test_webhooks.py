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

"""Webhooks: URL checks, signatures, backoff, denied addresses, and real
deliveries to HTTP and HTTPS receivers run by the tests on loopback.
"""

import datetime
import hashlib
import hmac
import http.server
import os
import socket
import ssl
import threading
import time
from unittest import mock

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID
import fixtures
from oslo_serialization import jsonutils
import testtools

from heat_deploy import exception
from heat_deploy.tests.functional.fixtures import service
from heat_deploy import webhooks

SECRET = 'notify-secret-0123456789abcdef'
# Tests check that the receiver's token never shows up in a log.
TOKEN = 'path-token-fedcba9876543210'
NOW = 1767355200
DOCUMENT = {'software_deployment': {
    'id': '0f6b7d0e-4b4e-4a4a-9d43-3c3c1f0c8a55', 'status': 'COMPLETE',
    'status_reason': 'Outputs received', 'output_values': {'result': 'ok'},
    'creation_time': datetime.datetime(2026, 1, 2, 12, 0, 0)}}
# A host name only the tests' resolver knows, resolved to loopback.
RECEIVER = 'receiver.example'


def _conf(**webhook_options):
    return service.make_conf({('webhooks', name): value
                              for name, value in webhook_options.items()})


class TestOptions(testtools.TestCase):

    def test_defaults(self):
        conf = _conf()
        self.assertEqual([], conf.webhooks.allowed_hosts)
        self.assertEqual(2, conf.webhooks.retry_delay)
        self.assertEqual(5, conf.webhooks.max_attempts)
        self.assertEqual(10, conf.webhooks.timeout)
        self.assertIsNone(conf.webhooks.ca_file)
        for network in ('127.0.0.0/8', '::1/128', '169.254.0.0/16',
                        'fe80::/10', '10.0.0.0/8', '172.16.0.0/12',
                        '192.168.0.0/16', 'fc00::/7', '0.0.0.0/8'):
            self.assertIn(network, conf.webhooks.denied_networks)

    def test_denied_networks_are_checked_and_normalised(self):
        conf = _conf(denied_networks=['10.1.2.3/8', ' 2001:DB8::/32'])
        self.assertEqual(['10.0.0.0/8', '2001:db8::/32'],
                         conf.webhooks.denied_networks)
        self.assertRaises(ValueError, _conf, denied_networks=['intranet'])

    def test_limits(self):
        self.assertRaises(ValueError, _conf, max_attempts=0)
        self.assertRaises(ValueError, _conf, retry_delay=-1)


class TestCheckUrl(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = _conf(allowed_hosts=['hooks.example.com', 'LOCALHOST',
                                         '[2001:db8::1]'])

    def _refused(self, url, conf=None):
        return self.assertRaises(exception.Invalid, webhooks.check_url,
                                 conf or self.conf, url)

    def test_allowed(self):
        for url in ('https://hooks.example.com/deploy?token=abc',
                    'http://hooks.example.com',
                    'http://hooks.example.com:8080/x#fragment',
                    'HTTPS://HOOKS.Example.COM/Path',
                    'http://localhost/', 'http://[2001:DB8::1]:8443/'):
            self.assertIn(webhooks.check_url(self.conf, url),
                          ('hooks.example.com', 'localhost', '2001:db8::1'))

    def test_the_host_is_returned_lower_case(self):
        self.assertEqual('hooks.example.com', webhooks.check_url(
            self.conf, 'https://Hooks.Example.Com/x'))

    def test_a_host_not_allowed_is_named_and_the_operator_decides(self):
        err = self._refused('https://evil.example.net/hook')
        self.assertEqual(400, err.code)
        self.assertIn('evil.example.net', err.message)
        self.assertIn('allowed_hosts', err.message)
        self.assertIn('operator', err.message)

    def test_look_alike_hosts_are_refused(self):
        for url in ('https://hooks.example.com.evil.net/',
                    'https://evilhooks.example.com/',
                    'https://evil.net#@hooks.example.com/',
                    'https://evil.net/?@hooks.example.com',
                    'https://127.0.0.1/', 'https://localhost./',
                    'https://[::1]/'):
            self._refused(url)

    def test_userinfo_is_refused_and_never_echoed(self):
        for url in ('https://admin:hunter2@hooks.example.com/',
                    'https://hunter2@hooks.example.com/',
                    'https://hooks.example.com:hunter2@evil.net/',
                    'https://evil.net\\@hooks.example.com/',
                    'https://:hunter2@hooks.example.com/'):
            err = self._refused(url)
            self.assertNotIn('hunter2', err.message)
            self.assertIn('user name or password', err.message)

    def test_only_http_and_https(self):
        for url in ('ftp://hooks.example.com/', 'file:///etc/passwd',
                    'gopher://hooks.example.com/', 'javascript:alert(1)',
                    'hooks.example.com/hook', '//hooks.example.com/hook'):
            err = self._refused(url)
            self.assertIn('http or https', err.message)

    def test_a_host_is_needed(self):
        for url in ('http:///hook', 'https://:443/hook', 'http:'):
            err = self._refused(url)
            self.assertIn('no host', err.message)

    def test_malformed_urls(self):
        for url in ('http://hooks.example.com:99999/',
                    'http://hooks.example.com:0/',
                    'http://hooks.example.com:port/',
                    'http://[2001:db8::1/', 'http://hooks.example.com/a b',
                    'http://hooks.example.com\n.evil.net/',
                    'http://hooks.example.com\t/',
                    'http://hooks.exämple.com/',
                    'http://hooks.example.com/' + 'x' * 2048,
                    None, 42):
            self._refused(url)

    def test_disabled_when_no_host_is_allowed(self):
        for hosts in ([], ['', ' ']):
            err = self._refused('https://hooks.example.com/',
                                conf=_conf(allowed_hosts=hosts))
            self.assertIn('disabled', err.message)
            self.assertIn('allowed_hosts', err.message)

    def test_masked_url(self):
        self.assertEqual(
            'https://hooks.example.com:8443/***',
            webhooks.masked_url('https://u:pw@Hooks.Example.com:8443/'
                                'a?token=x'))
        self.assertEqual('http://[::1]/***',
                         webhooks.masked_url('http://[::1]/%s' % TOKEN))
        self.assertEqual('<invalid URL>',
                         webhooks.masked_url('http://x:99999/'))


class TestSignature(testtools.TestCase):

    body = b'{"software_deployment": {"status": "COMPLETE"}}'

    def test_matches_an_independent_hmac(self):
        expected = hmac.new(SECRET.encode(), b'%d.%s' % (NOW, self.body),
                            hashlib.sha256).hexdigest()
        self.assertEqual('t=%d,v1=%s' % (NOW, expected),
                         webhooks.signature(SECRET, self.body, NOW))
        # Fractions of a second are dropped, from the header and the MAC.
        self.assertEqual(webhooks.signature(SECRET, self.body, NOW),
                         webhooks.signature(SECRET, self.body, NOW + 0.9))

    def test_verify(self):
        header = webhooks.signature(SECRET, self.body, NOW)
        self.assertTrue(webhooks.verify(SECRET, header, self.body, NOW))
        self.assertTrue(webhooks.verify(SECRET.encode(), header, self.body,
                                        NOW + 300))
        self.assertTrue(webhooks.verify(SECRET, header, self.body, NOW - 300))

    def test_verify_rejects_tampering(self):
        header = webhooks.signature(SECRET, self.body, NOW)
        self.assertFalse(webhooks.verify(
            SECRET, header, self.body.replace(b'COMPLETE', b'FAILED'), NOW))
        self.assertFalse(webhooks.verify('other secret', header, self.body,
                                         NOW))
        # Another time in the header breaks the MAC.
        forged = header.replace('t=%d' % NOW, 't=%d' % (NOW + 60))
        self.assertFalse(webhooks.verify(SECRET, forged, self.body,
                                         NOW + 60))

    def test_verify_rejects_old_and_future_timestamps(self):
        header = webhooks.signature(SECRET, self.body, NOW)
        self.assertFalse(webhooks.verify(SECRET, header, self.body, NOW + 301))
        self.assertFalse(webhooks.verify(SECRET, header, self.body, NOW - 301))
        self.assertFalse(webhooks.verify(SECRET, header, self.body, NOW + 30,
                                         tolerance=10))

    def test_verify_uses_the_clock_by_default(self):
        now = time.time()
        self.assertTrue(webhooks.verify(
            SECRET, webhooks.signature(SECRET, self.body, now), self.body))
        self.assertFalse(webhooks.verify(
            SECRET, webhooks.signature(SECRET, self.body, now - 3600),
            self.body))

    def test_verify_rejects_malformed_headers(self):
        good = webhooks.signature(SECRET, self.body, NOW)
        mac = good.split('v1=')[1]
        for header in (None, '', 'v1=%s' % mac, 't=%d' % NOW,
                       't=,v1=%s' % mac, 't=-1,v1=%s' % mac,
                       't=1e9,v1=%s' % mac, 't=%d,v0=%s' % (NOW, mac),
                       't=%d,v1=%s' % (NOW, mac[:-1]),
                       't=%d,v1=%sé' % (NOW, mac[:-1])):
            self.assertFalse(webhooks.verify(SECRET, header, self.body, NOW),
                             header)

    def test_verify_accepts_any_of_several_signatures(self):
        good = webhooks.signature(SECRET, self.body, NOW)
        header = 't=%d,v1=%s, v1=%s' % (NOW, '0' * 64, good.split('v1=')[1])
        self.assertTrue(webhooks.verify(SECRET, header, self.body, NOW))

    def test_new_secret(self):
        first, second = webhooks.new_secret(), webhooks.new_secret()
        self.assertNotEqual(first, second)
        self.assertGreaterEqual(len(first), 43)
        self.assertRegex(first, r'^[A-Za-z0-9_-]+$')


class TestRetries(testtools.TestCase):

    def test_backoff_doubles(self):
        conf = _conf()
        self.assertEqual([2, 4, 8, 16],
                         [webhooks.retry_delay(conf, tries)
                          for tries in range(1, 5)])
        conf = _conf(retry_delay=5)
        self.assertEqual([5, 10, 20], [webhooks.retry_delay(conf, tries)
                                       for tries in range(1, 4)])
        conf = _conf(retry_delay=0)
        self.assertEqual(0, webhooks.retry_delay(conf, 3))

    def test_success_is_a_2xx(self):
        for result in (200, 201, 202, 204, 299):
            self.assertTrue(webhooks.succeeded(result))
        for result in (199, 300, 302, 404, 500, webhooks.DELIVERY_FAILED,
                       None):
            self.assertFalse(webhooks.succeeded(result))

    def test_should_retry_until_max_attempts(self):
        conf = _conf()
        for result in (webhooks.DELIVERY_FAILED, 500, 302, 404):
            self.assertEqual([True, True, True, True, False],
                             [webhooks.should_retry(conf, tries, result)
                              for tries in range(1, 6)])
        self.assertFalse(webhooks.should_retry(conf, 1, 204))
        self.assertFalse(webhooks.should_retry(_conf(max_attempts=1), 1,
                                               500))


class TestDeniedNetworks(testtools.TestCase):

    def test_the_defaults_deny_local_and_private_addresses(self):
        conf = _conf()
        for address in ('127.0.0.1', '127.8.9.10', '::1', '0.0.0.0', '::',
                        '10.0.0.1', '10.255.255.255', '172.16.0.1',
                        '172.31.255.255', '192.168.1.1', '169.254.169.254',
                        'fe80::1', 'fe80::1%eth0', 'fd00:ec2::254',
                        'fc00::1', '::ffff:127.0.0.1', '::ffff:10.1.2.3',
                        '::ffff:169.254.169.254', '::ffff:0.0.0.0'):
            self.assertTrue(webhooks.address_denied(conf, address), address)

    def test_the_defaults_allow_public_addresses(self):
        conf = _conf()
        for address in ('8.8.8.8', '172.32.0.1', '192.169.0.1',
                        '2001:4860:4860::8888', '::ffff:8.8.8.8'):
            self.assertFalse(webhooks.address_denied(conf, address), address)

    def test_an_empty_list_denies_nothing(self):
        conf = _conf(denied_networks=[])
        for address in ('127.0.0.1', '::1', '10.0.0.1', '169.254.169.254',
                        '::ffff:127.0.0.1', '8.8.8.8'):
            self.assertFalse(webhooks.address_denied(conf, address), address)

    def test_what_is_not_an_address_is_denied(self):
        conf = _conf(denied_networks=[])
        for address in ('localhost', '', '127.0.0.1:80', None):
            self.assertTrue(webhooks.address_denied(conf, address), address)

    def test_a_bad_configuration_file_denies_everything(self):
        logger = self.useFixture(fixtures.FakeLogger())
        directory = self.useFixture(fixtures.TempDir()).path
        path = service.write_conf_file(
            directory, {'webhooks': {'denied_networks': '10.0.0.0/8, lan'}})
        conf = service.make_conf()
        conf(['--config-file', path], project='heat_deploy',
             default_config_files=[])
        self.assertTrue(webhooks.address_denied(conf, '8.8.8.8'))
        self.assertIn('denied_networks is not valid', logger.output)
        self.assertIn("'lan' is not a network", logger.output)

    def test_mapped_addresses_match_ipv6_networks_too(self):
        conf = _conf(denied_networks=['::ffff:0:0/96'])
        self.assertTrue(webhooks.address_denied(conf, '::ffff:8.8.8.8'))
        self.assertFalse(webhooks.address_denied(conf, '8.8.8.8'))


def _write_pem(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, 'wb') as pem:
        pem.write(data)
    return path


def _make_certificates(directory, host_name):
    """A CA (ca.pem) and a server certificate for host_name signed by it
    (server.pem, key in server.key); returns the three paths.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=1),
                  now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            'heat_deploy test CA')])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                       critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                    host_name)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                       critical=True)
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(host_name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(
            key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (
        _write_pem(directory, 'ca.pem', ca_cert.public_bytes(pem)),
        _write_pem(directory, 'server.pem', cert.public_bytes(pem)),
        _write_pem(directory, 'server.key', key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())))


# How much /huge offers: far more than socket buffers hold.
HUGE = 64 * 1024 * 1024


class _Handler(http.server.BaseHTTPRequestHandler):

    def _record(self):
        length = int(self.headers.get('Content-Length') or 0)
        self.server.received.append({
            'method': self.command, 'path': self.path,
            'headers': self.headers, 'body': self.rfile.read(length)})

    def _answer(self, status, body=b'', headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._record()
        self._answer(200, b'followed')

    def do_POST(self):
        self._record()
        route = self.path.split('?')[0]
        if route == '/redirect':
            self._answer(302, headers=[('Location', '/followed')])
        elif route == '/error':
            self._answer(500, b'Internal error: ' + b'x' * 4096)
        elif route == '/huge':
            self._huge()
        else:
            self._answer(200, b'ok')

    def _huge(self):
        self.send_response(200)
        self.send_header('Content-Length', str(HUGE))
        self.end_headers()
        chunk = b'x' * 65536
        try:
            while self.server.huge_written < HUGE:
                self.wfile.write(chunk)
                self.server.huge_written += len(chunk)
        except OSError:
            self.server.huge_aborted = True
        finally:
            self.server.huge_done.set()

    def log_message(self, *args):
        pass


class _Receiver(fixtures.Fixture):
    """An HTTP(S) receiver on 127.0.0.1 that records what it gets.

    :param certificates: (ca, cert, key) paths to serve https, or None.
    """

    def __init__(self, certificates=None):
        super().__init__()
        self.certificates = certificates

    def _setUp(self):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.daemon_threads = True
        server.received = []
        server.server_names = []
        server.huge_written = 0
        server.huge_aborted = False
        server.huge_done = threading.Event()
        if self.certificates:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificates[1],
                                    self.certificates[2])
            context.sni_callback = (
                lambda sock, name, ctx: server.server_names.append(name))
            server.socket = context.wrap_socket(server.socket,
                                                server_side=True)
            # A failed handshake is what some tests want: keep it quiet.
            server.handle_error = lambda request, address: None
        self.server = server
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever,
                                  kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.shutdown)

    @property
    def received(self):
        return self.server.received


def _resolving(names):
    """A socket.getaddrinfo that resolves some names itself (to the
    addresses given) and leaves all else to the real one, with a list of
    the names it was asked about.
    """
    real = socket.getaddrinfo
    asked = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host in names:
            return [(socket.AF_INET6 if ':' in address else socket.AF_INET,
                     socket.SOCK_STREAM, socket.IPPROTO_TCP, '',
                     (address, port))
                    for address in names[host]]
        return real(host, port, *args, **kwargs)
    return getaddrinfo, asked


def _read_request(conn):
    """Read a whole request (headers and Content-Length body) from a raw
    socket, so that closing it later does not reset the connection.
    """
    data = b''
    while b'\r\n\r\n' not in data:
        data += conn.recv(65536)
    head, _sep, body = data.partition(b'\r\n\r\n')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _sep, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head, body


class TestSend(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger())
        self.receiver = self.useFixture(_Receiver())
        self.conf = _conf(allowed_hosts=['127.0.0.1', 'localhost', RECEIVER],
                          denied_networks=[], timeout=5)

    def _url(self, path, host='127.0.0.1', scheme='http', port=None):
        return '%s://%s:%d%s?token=%s' % (scheme, host,
                                          port or self.receiver.port, path,
                                          TOKEN)

    def _resolve(self, names):
        getaddrinfo, asked = _resolving(names)
        self.useFixture(fixtures.MockPatchObject(
            webhooks.socket, 'getaddrinfo', side_effect=getaddrinfo))
        return asked

    def _send(self, url, conf=None):
        result = webhooks.send(conf or self.conf, url, SECRET, DOCUMENT,
                               now=NOW)
        self._check_log()
        return result

    def _check_log(self):
        log = self.logger.output
        self.assertNotIn(SECRET, log)
        self.assertNotIn(TOKEN, log)
        self.assertNotIn('v1=', log)

    def test_delivers_the_signed_document(self):
        result = self._send(self._url('/hook', host='localhost'))
        self.assertEqual(200, result)
        self.assertTrue(webhooks.succeeded(result))
        self.assertEqual(1, len(self.receiver.received))
        request = self.receiver.received[0]
        self.assertEqual('POST', request['method'])
        self.assertEqual('/hook?token=%s' % TOKEN, request['path'])
        headers = request['headers']
        self.assertEqual('application/json', headers['Content-Type'])
        self.assertEqual(str(len(request['body'])),
                         headers['Content-Length'])
        self.assertEqual('localhost:%d' % self.receiver.port,
                         headers['Host'])
        body = request['body']
        self.assertEqual(jsonutils.loads(jsonutils.dumps(DOCUMENT)),
                         jsonutils.loads(body))
        header = headers[webhooks.SIGNATURE_HEADER]
        self.assertEqual(webhooks.signature(SECRET, body, NOW), header)
        expected = hmac.new(SECRET.encode(), b'%d.' % NOW + body,
                            hashlib.sha256).hexdigest()
        self.assertEqual('t=%d,v1=%s' % (NOW, expected), header)
        self.assertTrue(webhooks.verify(SECRET, header, body, NOW + 1))
        self.assertIn('delivered', self.logger.output)
        self.assertIn('http://localhost:%d/***' % self.receiver.port,
                      self.logger.output)

    def test_signs_with_the_clock_by_default(self):
        before = int(time.time())
        self.assertEqual(200, webhooks.send(self.conf, self._url('/hook'),
                                            SECRET, DOCUMENT))
        request = self.receiver.received[0]
        header = request['headers'][webhooks.SIGNATURE_HEADER]
        self.assertTrue(webhooks.verify(SECRET, header, request['body']))
        self.assertGreaterEqual(int(header.split(',')[0][2:]), before)

    def test_a_redirect_is_not_followed(self):
        self.assertEqual(302, self._send(self._url('/redirect')))
        self.assertEqual(['/redirect?token=%s' % TOKEN],
                         [request['path']
                          for request in self.receiver.received])

    def test_an_error_is_its_status(self):
        self.assertEqual(500, self._send(self._url('/error')))
        self.assertIn('answered 500', self.logger.output)
        # The answer's start, and no more, is told to the operator.
        self.assertIn('Internal error: xxx', self.logger.output)
        self.assertNotIn('x' * (webhooks.MAX_ANSWER_BYTES + 1),
                         self.logger.output)

    def test_a_huge_answer_is_not_read(self):
        started = time.monotonic()
        self.assertEqual(200, self._send(self._url('/huge')))
        self.assertLess(time.monotonic() - started, 5)
        self.assertTrue(self.receiver.server.huge_done.wait(10))
        self.assertTrue(self.receiver.server.huge_aborted)
        self.assertLess(self.receiver.server.huge_written, HUGE // 2)

    def test_a_closed_port_is_delivery_failed(self):
        port = service.free_port()
        self.assertEqual(webhooks.DELIVERY_FAILED,
                         self._send(self._url('/hook', port=port)))
        # What went wrong is told to the operator only.
        self.assertIn('Connection refused', self.logger.output)
        self.assertIn('http://127.0.0.1:%d/***' % port, self.logger.output)

    def test_no_answer_is_delivery_failed_after_the_timeout(self):
        silent = socket.socket()
        self.addCleanup(silent.close)
        silent.bind(('127.0.0.1', 0))
        silent.listen(1)
        conf = _conf(allowed_hosts=['127.0.0.1'], denied_networks=[],
                     timeout=0.5)
        started = time.monotonic()
        self.assertEqual(webhooks.DELIVERY_FAILED, self._send(
            self._url('/hook', port=silent.getsockname()[1]), conf=conf))
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn('longer than [webhooks] timeout, 0.5 seconds',
                      self.logger.output)

    def test_a_trickling_answer_ends_at_the_timeout(self):
        # Each byte comes well within the timeout, the whole never does.
        trickler = socket.socket()
        self.addCleanup(trickler.close)
        trickler.bind(('127.0.0.1', 0))
        trickler.listen(1)
        stop = threading.Event()
        self.addCleanup(stop.set)

        def trickle():
            conn, _address = trickler.accept()
            with conn:
                try:
                    conn.sendall(b'HTTP/1.1 200 OK\r\n')
                    while not stop.wait(0.05):
                        conn.sendall(b'X')
                except OSError:
                    pass

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        conf = _conf(allowed_hosts=['127.0.0.1'], denied_networks=[],
                     timeout=1)
        started = time.monotonic()
        self.assertEqual(webhooks.DELIVERY_FAILED, self._send(
            self._url('/hook', port=trickler.getsockname()[1]), conf=conf))
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn('longer than [webhooks] timeout', self.logger.output)

    def test_malformed_answers_do_not_leak_the_url(self):
        raw = socket.socket()
        self.addCleanup(raw.close)
        raw.bind(('127.0.0.1', 0))
        raw.listen(1)

        def answer():
            conn, _address = raw.accept()
            with conn:
                _read_request(conn)
                conn.sendall(b'HTTP/1.1 200 OK\r\nNot a header\r\n'
                             b' folded\r\nContent-Length: 2\r\n\r\nok')

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.assertEqual(200, self._send(
            self._url('/hook', port=raw.getsockname()[1])))

    def test_no_thread_outlives_a_send(self):
        before = threading.active_count()
        self.assertEqual(200, self._send(self._url('/hook')))
        self.assertEqual(webhooks.DELIVERY_FAILED, self._send(
            self._url('/hook', port=service.free_port())))
        deadline = time.monotonic() + 5
        while (threading.active_count() > before
               and time.monotonic() < deadline):
            time.sleep(0.01)
        self.assertLessEqual(threading.active_count(), before)

    def test_loopback_is_denied_by_default(self):
        conf = _conf(allowed_hosts=['127.0.0.1', 'localhost'])
        for host in ('127.0.0.1', 'localhost'):
            self.assertEqual(webhooks.DELIVERY_FAILED,
                             self._send(self._url('/hook', host=host),
                                        conf=conf))
        self.assertEqual([], self.receiver.received)
        self.assertIn('denied_networks', self.logger.output)

    def test_a_host_no_longer_allowed_is_not_sent_to(self):
        conf = _conf(allowed_hosts=['localhost'], denied_networks=[])
        self.assertEqual(webhooks.DELIVERY_FAILED,
                         self._send(self._url('/hook'), conf=conf))
        conf = _conf(allowed_hosts=[], denied_networks=[])
        self.assertEqual(webhooks.DELIVERY_FAILED,
                         self._send(self._url('/hook'), conf=conf))
        self.assertEqual([], self.receiver.received)

    def test_connects_to_the_address_resolved_once(self):
        asked = self._resolve({RECEIVER: ['127.0.0.1']})
        self.assertEqual(200, self._send(self._url('/hook', host=RECEIVER)))
        self.assertEqual(1, asked.count(RECEIVER))
        self.assertEqual('%s:%d' % (RECEIVER, self.receiver.port),
                         self.receiver.received[0]['headers']['Host'])

    def test_one_denied_address_denies_the_host(self):
        conf = _conf(allowed_hosts=[RECEIVER])
        self._resolve({RECEIVER: ['203.0.113.7', '10.0.0.1']})
        with mock.patch.object(webhooks, '_post', autospec=True) as post:
            self.assertEqual(webhooks.DELIVERY_FAILED,
                             self._send(self._url('/hook', host=RECEIVER),
                                        conf=conf))
        post.assert_not_called()
        self.assertIn('10.0.0.1', self.logger.output)

    def test_mapped_loopback_is_denied(self):
        conf = _conf(allowed_hosts=[RECEIVER])
        self._resolve({RECEIVER: ['::ffff:127.0.0.1']})
        with mock.patch.object(webhooks, '_post', autospec=True) as post:
            self.assertEqual(webhooks.DELIVERY_FAILED,
                             self._send(self._url('/hook', host=RECEIVER),
                                        conf=conf))
        post.assert_not_called()

    def test_the_next_address_is_tried_when_one_refuses(self):
        # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses.
        self._resolve({RECEIVER: ['127.0.0.2', '127.0.0.1']})
        self.assertEqual(200, self._send(self._url('/hook', host=RECEIVER)))
        self.assertEqual(1, len(self.receiver.received))
        self.assertIn('no connection to 127.0.0.2', self.logger.output)

    def test_a_name_that_does_not_resolve(self):
        self._resolve({})
        conf = _conf(allowed_hosts=['nowhere.invalid'], denied_networks=[])
        self.assertEqual(webhooks.DELIVERY_FAILED, self._send(
            'http://nowhere.invalid/hook?token=%s' % TOKEN, conf=conf))
        self.assertIn('does not resolve', self.logger.output)


class TestSendHttps(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logger = self.useFixture(fixtures.FakeLogger())
        directory = self.useFixture(fixtures.TempDir()).path
        certificates = _make_certificates(directory, RECEIVER)
        self.ca_file = certificates[0]
        self.receiver = self.useFixture(_Receiver(certificates))
        getaddrinfo, _asked = _resolving({RECEIVER: ['127.0.0.1']})
        self.useFixture(fixtures.MockPatchObject(
            webhooks.socket, 'getaddrinfo', side_effect=getaddrinfo))

    def _send(self, host, ca_file=None):
        conf = _conf(allowed_hosts=[RECEIVER, '127.0.0.1', 'localhost'],
                     denied_networks=[], timeout=5,
                     ca_file=ca_file or self.ca_file)
        url = 'https://%s:%d/hook?token=%s' % (
            host, self.receiver.port, TOKEN)
        result = webhooks.send(conf, url, SECRET, DOCUMENT, now=NOW)
        self.assertNotIn(SECRET, self.logger.output)
        self.assertNotIn(TOKEN, self.logger.output)
        return result

    def test_the_certificate_is_verified_for_the_host_name(self):
        self.assertEqual(200, self._send(RECEIVER))
        self.assertEqual([RECEIVER], self.receiver.server.server_names)
        request = self.receiver.received[0]
        self.assertEqual('%s:%d' % (RECEIVER, self.receiver.port),
                         request['headers']['Host'])
        self.assertTrue(webhooks.verify(
            SECRET, request['headers'][webhooks.SIGNATURE_HEADER],
            request['body'], NOW))

    def test_a_certificate_for_another_name_fails(self):
        # Same server and address, but the URL names another host.
        for host in ('localhost', '127.0.0.1'):
            self.assertEqual(webhooks.DELIVERY_FAILED, self._send(host))
        self.assertEqual([], self.receiver.received)
        self.assertIn('certificate', self.logger.output)

    def test_an_unknown_ca_fails(self):
        directory = self.useFixture(fixtures.TempDir()).path
        other_ca = _make_certificates(directory, RECEIVER)[0]
        self.assertEqual(webhooks.DELIVERY_FAILED,
                         self._send(RECEIVER, ca_file=other_ca))
        self.assertEqual([], self.receiver.received)
