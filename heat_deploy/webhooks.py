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

"""Webhooks: signed POSTs of a deployment to the notify_url its owner gave.

The body is the deployment's API form as JSON. The header
``X-Heat-Deploy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` signs
``"<t>.<body>"`` with the deployment's notify_secret, so the receiver can
check that the body came from the service and refuse old (replayed) ones.

The service sends from its own network, so the URL is a request forgery
risk. Three checks guard it: only hosts in [webhooks] allowed_hosts are
accepted (:func:`check_url`, at create time and again at every send); the
host is resolved once and every address it resolves to is checked against
[webhooks] denied_networks (:func:`address_denied`); and the connection
goes to a checked address, so the name cannot resolve elsewhere in between
(DNS rebinding). The Host header and, for https, the server name the
certificate is verified against stay the URL's host name. Redirects are not
followed, answers are read no further than a few bytes, and what went wrong
is told to the operator's log only: the caller sees the status code or
"delivery failed".
"""

import hashlib
import hmac
import http.client
import ipaddress
import secrets
import socket
import ssl
import threading
import time
from urllib import parse

from oslo_log import log as logging
from oslo_serialization import jsonutils

from heat_deploy import exception

LOG = logging.getLogger(__name__)

SIGNATURE_HEADER = 'X-Heat-Deploy-Signature'
# The result of a try that got no HTTP answer, whatever the reason.
DELIVERY_FAILED = 'delivery failed'
# How much of an answer is read (for the operator's log), at most.
MAX_ANSWER_BYTES = 256
MAX_URL_LENGTH = 2048
# How far a signature's time may be from the receiver's clock, by default.
DEFAULT_TOLERANCE = 300
SCHEMES = {'http': 80, 'https': 443}
USER_AGENT = 'heat-deploy-webhooks'


def _invalid(reason):
    return exception.Invalid(reason=reason)


def _allowed_hosts(conf):
    return {host.strip().strip('[]').lower()
            for host in conf.webhooks.allowed_hosts if host.strip()}


def _split(url):
    """The parts of a URL; Invalid if it is not one we could send to."""
    if not isinstance(url, str):
        raise _invalid('The notify_url must be a string.')
    if len(url) > MAX_URL_LENGTH:
        raise _invalid('The notify_url is longer than %d characters.'
                       % MAX_URL_LENGTH)
    # urlsplit quietly drops tabs and newlines, and other control
    # characters or spaces would make a different request line: refuse
    # them all rather than guess.
    if not url.isascii() or any(c <= ' ' or c == '\x7f' for c in url):
        raise _invalid('The notify_url must be ASCII without spaces or '
                       'control characters; percent-encode them, and write '
                       'international host names in their xn-- form.')
    try:
        parts = parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid('The notify_url is not a valid URL (check the port '
                       'and any brackets around an IPv6 address).')
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _invalid('The notify_url must be an http or https URL.')
    if '@' in parts.netloc:
        # Never echo it: this part may hold a password.
        raise _invalid('The notify_url must not contain a user name or '
                       'password; put any token the receiver needs in its '
                       'path or query.')
    if not parts.hostname:
        raise _invalid('The notify_url has no host name.')
    if port == 0:
        raise _invalid('The notify_url\'s port must be 1 to 65535.')
    return parts


def check_url(conf, url):
    """Check a notify_url a caller gave, before it is stored.

    Only http and https URLs without user information whose host name is
    in [webhooks] allowed_hosts (as text, case-insensitively; the name is
    not resolved here) are accepted. An empty allowed_hosts disables
    webhooks.

    :returns: the URL's host name, lower-case.
    :raises heat_deploy.exception.Invalid: a message for the caller, which
        never repeats user information the URL carried.
    """
    return _checked(conf, url).hostname


def _checked(conf, url):
    """check_url's work; the URL's parts (urllib.parse.SplitResult)."""
    allowed = _allowed_hosts(conf)
    if not allowed:
        raise _invalid('Webhooks are disabled: this service accepts no '
                       'notify_url because its operator allows no receiving '
                       'host ([webhooks] allowed_hosts is empty).')
    parts = _split(url)
    host = parts.hostname.lower()
    if host not in allowed:
        raise _invalid('The notify_url\'s host %s is not one this service '
                       'may send webhooks to; the operator\'s [webhooks] '
                       'allowed_hosts decides which hosts may receive them.'
                       % host)
    return parts


def masked_url(url):
    """The URL as logs may show it: ``scheme://host[:port]/***``.

    Paths and queries can carry the receiver's tokens, and user
    information a password, so neither is shown.
    """
    try:
        parts = parse.urlsplit(url)
        host = parts.hostname or ''
        port = parts.port
    except (TypeError, ValueError):
        return '<invalid URL>'
    if ':' in host:
        host = '[%s]' % host
    if port is not None:
        host = '%s:%d' % (host, port)
    return '%s://%s/***' % (parts.scheme.lower(), host)


def new_secret():
    """A new random notify_secret: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


def _as_bytes(value):
    return value.encode('utf-8') if isinstance(value, str) else value


def _digest(secret, body, timestamp):
    message = b'%d.' % timestamp + _as_bytes(body)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def signature(secret, body, timestamp):
    """The X-Heat-Deploy-Signature value for a body sent at a time.

    :param secret: the deployment's notify_secret (str or bytes).
    :param body: the exact bytes sent (a str is taken as UTF-8).
    :param timestamp: Unix time in seconds; fractions are dropped.
    :returns: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
    """
    timestamp = int(timestamp)
    return 't=%d,v1=%s' % (timestamp, _digest(secret, body, timestamp))


def verify(secret, header, body, now=None, tolerance=DEFAULT_TOLERANCE):
    """Whether a signature header is right for this body and recent.

    What a receiver does: the header must have a ``t`` and at least one
    ``v1`` (several are accepted, for secret rotation) made with the
    secret over ``"<t>.<body>"``, and ``t`` must be within ``tolerance``
    seconds of ``now`` (either way), so an old request cannot be replayed.

    :param body: the raw bytes received, not a re-encoding of their JSON.
    :param now: Unix time in seconds; the clock's if None.
    """
    if not header:
        return False
    timestamp, signatures = None, []
    for item in header.split(','):
        key, _sep, value = item.strip().partition('=')
        if key == 't':
            timestamp = value
        elif key == 'v1':
            signatures.append(value.encode('utf-8'))
    if not (timestamp and timestamp.isascii() and timestamp.isdigit()
            and signatures):
        return False
    timestamp = int(timestamp)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, body, timestamp).encode('ascii')
    # No early exit: every candidate is compared.
    return sum(hmac.compare_digest(expected, candidate)
               for candidate in signatures) > 0


def retry_delay(conf, tries):
    """Seconds to wait after the try number ``tries`` (1 for the first)
    failed: [webhooks] retry_delay, doubled for each try after the first.
    """
    return conf.webhooks.retry_delay * 2 ** (max(tries, 1) - 1)


def succeeded(result):
    """Whether a result of :func:`send` is a delivery: a 2xx status."""
    return isinstance(result, int) and 200 <= result < 300


def should_retry(conf, tries, result):
    """Whether to try again after the try number ``tries`` had ``result``.

    Everything but a 2xx is retried, up to [webhooks] max_attempts tries.
    """
    return not succeeded(result) and tries < conf.webhooks.max_attempts


def _denied_networks(conf):
    return [ipaddress.ip_network(network, strict=False)
            for network in conf.webhooks.denied_networks]


def address_denied(conf, address):
    """Whether [webhooks] denied_networks forbids connecting to an address.

    An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is checked as the IPv6
    address and as its IPv4 address. A zone (%eth0) is ignored. What is not
    an IP address is denied, and so is everything while denied_networks
    holds a value that is not a network (a configuration file error).

    :param address: an IP address as text.
    """
    try:
        ip = ipaddress.ip_address(address.split('%', 1)[0])
    except (AttributeError, ValueError):
        return True
    try:
        networks = _denied_networks(conf)
    except ValueError as err:
        # A bad value in the configuration file: deny, and say why.
        LOG.error('Webhooks cannot be sent: [webhooks] denied_networks is '
                  'not valid: %s', err)
        return True
    candidates = [ip]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(candidate in network
               for network in networks
               for candidate in candidates
               if candidate.version == network.version)


def _addresses(host, port):
    """Every address host resolves to, in the resolver's order, once each."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                               proto=socket.IPPROTO_TCP)
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def _host_header(host, port, default_port):
    if ':' in host:
        host = '[%s]' % host
    if port != default_port:
        host = '%s:%d' % (host, port)
    return host


class _Watchdog(object):
    """Ends a try that outlives its time, whatever it is waiting for.

    Socket timeouts bound each wait, not their sum: a receiver that
    trickles its answer a byte at a time would hold the worker for ever.
    When the time is up, the watched socket is shut down (through a
    duplicate of it, so a socket closed meanwhile is never mistaken for
    another), which ends any wait on it.
    """

    def __init__(self, seconds):
        self.fired = False
        self._lock = threading.Lock()
        self._socket = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock):
        with self._lock:
            self._close_socket()
            self._socket = sock.dup()
            if self.fired:
                self._shutdown()

    def _fire(self):
        with self._lock:
            self.fired = True
            self._shutdown()

    def _shutdown(self):
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close_socket(self):
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def stop(self):
        self._timer.cancel()
        with self._lock:
            self._close_socket()


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to a checked address for a URL's host.

    The socket goes to ``address``; TLS sends the host name as SNI and
    verifies the certificate against it. The standard library's client is
    used, not urllib3's: urllib3 logs the whole URL, query included, when a
    receiver sends malformed headers.

    :param context: an ssl.SSLContext for https, None for http.
    """

    def __init__(self, address, port, timeout, watchdog, host_name,
                 context=None):
        super().__init__(address, port, timeout=timeout)
        self.watchdog = watchdog
        self.host_name = host_name
        self.context = context
        # Whether the TCP connection was made: before, nothing was sent.
        self.reached = False

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.reached = True
        self.watchdog.watch(sock)
        if self.context is not None:
            try:
                sock = self.context.wrap_socket(
                    sock, server_hostname=self.host_name)
            except BaseException:
                sock.close()
                raise
        self.sock = sock


def _tls_context(conf):
    # check_hostname and CERT_REQUIRED, as create_default_context makes it.
    return ssl.create_default_context(cafile=conf.webhooks.ca_file or None)


def _post(conf, parts, address, body, headers, watchdog, timeout):
    """One POST to one address; the answer's status and its first bytes.

    Reads MAX_ANSWER_BYTES of the answer at most, and never follows a
    redirect.
    """
    scheme = parts.scheme.lower()
    conn = _Connection(address, parts.port or SCHEMES[scheme], timeout,
                       watchdog, parts.hostname,
                       _tls_context(conf) if scheme == 'https' else None)
    try:
        target = parts.path or '/'
        if parts.query:
            target = '%s?%s' % (target, parts.query)
        try:
            conn.request('POST', target, body=body, headers=headers)
            response = conn.getresponse()
        except OSError as err:
            if not conn.reached:
                raise _Unreached(err)
            raise
        if watchdog.fired:
            # The watchdog's shutdown may have cut the headers short.
            raise TimeoutError('the answer\'s headers came too slowly')
        start = response.read(MAX_ANSWER_BYTES)
        return response.status, start
    finally:
        # Whatever was not read is dropped with the connection.
        conn.close()


class _Unreached(Exception):
    """No connection could be made: nothing was sent."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def send(conf, url, secret, document, now=None):
    """POST a deployment's API form to its notify_url, once.

    The URL is checked again (the operator may have changed allowed_hosts
    since it was stored), its host resolved once, every address checked
    against denied_networks, and the POST made to the first address that
    accepts a connection. The body is ``document`` as JSON, signed with
    ``secret`` at time ``now``.

    :param document: what to send; it must be serialisable as JSON.
    :param now: Unix time of the signature; the clock's if None.
    :returns: the receiver's HTTP status (an int: 2xx is a delivery, a 3xx
        is not followed), or DELIVERY_FAILED when there was no answer or
        the URL or its addresses are not allowed. Details go to the
        operator's log, which shows the URL masked and never the secret.
    """
    shown = masked_url(url)
    try:
        parts = _checked(conf, url)
    except exception.Invalid as err:
        LOG.warning('Webhook to %(url)s not sent: %(reason)s',
                    {'url': shown, 'reason': err.message})
        return DELIVERY_FAILED
    scheme = parts.scheme.lower()
    port = parts.port or SCHEMES[scheme]
    host = parts.hostname
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError) as err:
        LOG.warning('Webhook to %(url)s not sent: its host name does not '
                    'resolve: %(error)s', {'url': shown, 'error': err})
        return DELIVERY_FAILED
    denied = [address for address in addresses
              if address_denied(conf, address)]
    if denied or not addresses:
        LOG.warning('Webhook to %(url)s not sent: its host resolves to '
                    '%(denied)s, in [webhooks] denied_networks.',
                    {'url': shown, 'denied': ', '.join(denied) or 'nothing'})
        return DELIVERY_FAILED

    timestamp = int(time.time() if now is None else now)
    body = jsonutils.dump_as_bytes(document)
    headers = {
        'Host': _host_header(host, port, SCHEMES[scheme]),
        'Content-Type': 'application/json',
        'Accept': '*/*',
        'Connection': 'close',
        'User-Agent': USER_AGENT,
        SIGNATURE_HEADER: signature(secret, body, timestamp),
    }
    # The whole try, every address included, ends within the timeout.
    deadline = time.monotonic() + conf.webhooks.timeout
    watchdog = _Watchdog(conf.webhooks.timeout)
    try:
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or watchdog.fired:
                break
            try:
                status, start = _post(conf, parts, address, body, headers,
                                      watchdog, remaining)
            except _Unreached as err:
                # Nothing was sent: the next address may take it.
                LOG.info('Webhook to %(url)s: no connection to '
                         '%(address)s: %(error)s',
                         {'url': shown, 'address': address, 'error': err})
                continue
            except Exception as err:
                # Something may have been sent: no second address; the
                # next try, if any, repeats the delivery.
                LOG.warning('Webhook to %(url)s at %(address)s failed: '
                            '%(type)s: %(error)s%(late)s',
                            {'url': shown, 'address': address,
                             'type': type(err).__name__, 'error': err,
                             'late': _late(watchdog, conf, err)})
                return DELIVERY_FAILED
            if succeeded(status):
                LOG.info('Webhook to %(url)s at %(address)s delivered: '
                         '%(status)d', {'url': shown, 'address': address,
                                        'status': status})
            else:
                LOG.warning('Webhook to %(url)s at %(address)s answered '
                            '%(status)d; the answer began %(start)r',
                            {'url': shown, 'address': address,
                             'status': status, 'start': start})
            return status
    finally:
        watchdog.stop()
    LOG.warning('Webhook to %(url)s failed: no address of its host '
                'accepted a connection%(late)s.',
                {'url': shown, 'late': _late(watchdog, conf)})
    return DELIVERY_FAILED


def _late(watchdog, conf, error=None):
    if watchdog.fired or isinstance(error, TimeoutError):
        return (' (the try took longer than [webhooks] timeout, %s '
                'seconds)' % conf.webhooks.timeout)
    return ''
