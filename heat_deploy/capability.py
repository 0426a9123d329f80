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

"""Capability URLs: unauthenticated URLs whose HMAC signature is the key.

Servers hold no Keystone credentials for the URL transports, so the service
hands them URLs that carry their own authorisation: a signal URL bound to
one deployment and one HTTP method that expires, and a metadata URL bound to
one project's server that lasts until it is revoked. Keys come from
[signal] signing_keys; the first signs, all verify, so keys can be rotated.
"""

import hashlib
import hmac
import time
from urllib import parse

from heat_deploy import exception

AGENT_PREFIX = '/agent/v1'


class CapabilityDenied(exception.HeatDeployException):
    """The URL's signature is wrong, expired or revoked."""

    code = 403
    msg_fmt = '%(reason)s'


class CapabilityMissing(exception.HeatDeployException):
    """The URL carries no signature at all."""

    code = 401
    msg_fmt = ('This URL needs its signature and expiry parameters; use the '
               'complete URL the service handed out.')


class NoSigningKey(exception.HeatDeployException):
    code = 500
    msg_fmt = ('The service has no [signal] signing_keys configured, so it '
               'cannot hand out signal or metadata URLs. Ask the operator '
               'to set one.')


class Signer(object):
    """HMAC-SHA256 signatures with a list of keys (first one signs)."""

    def __init__(self, keys):
        self.keys = [key.encode('utf-8') for key in keys if key]

    def _digest(self, key, parts):
        message = '\n'.join(parts).encode('utf-8')
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def sign(self, *parts):
        if not self.keys:
            raise NoSigningKey()
        return self._digest(self.keys[0], parts)

    def verify(self, signature, *parts):
        """Whether any configured key made this signature."""
        # Bytes: compare_digest refuses str with non-ASCII characters.
        signature = signature.encode('utf-8')
        return any(hmac.compare_digest(self._digest(key, parts).encode(),
                                       signature)
                   for key in self.keys)


def _signal_parts(method, deployment_id, expires, attempt):
    # URLs of attempt 1 sign no attempt, as URLs made before attempts
    # existed did, so those stay valid for the attempt they were made for.
    parts = ('signal', method, deployment_id, str(expires))
    if str(attempt) != '1':
        parts += ('attempt', str(attempt))
    return parts


def signal_path(deployment_id):
    return '%s/deployments/%s/signal' % (AGENT_PREFIX, deployment_id)


def signal_url(signer, base_url, deployment_id, method, ttl, now=None,
               attempt=1):
    """A signal URL for one attempt of a deployment and one method, valid
    for ttl seconds.
    """
    expires = int((now or time.time()) + ttl)
    signature = signer.sign(*_signal_parts(method, deployment_id, expires,
                                           attempt))
    query = {'expires': expires, 'signature': signature}
    if attempt != 1:
        query['attempt'] = attempt
    return '%s%s?%s' % (base_url, signal_path(deployment_id),
                        parse.urlencode(query))


def check_signal(signer, method, deployment_id, params, now=None):
    """Verify a signal URL's query parameters for this request.

    :returns: the number of the attempt the URL was made for.
    :raises CapabilityMissing: no signature or expiry.
    :raises CapabilityDenied: tampered, wrong method, or expired.
    """
    signature, expires = params.get('signature'), params.get('expires')
    attempt = params.get('attempt', '1')
    if not signature or not expires:
        raise CapabilityMissing()
    if not (expires.isascii() and expires.isdigit()):
        raise CapabilityDenied(reason='The signal URL\'s expiry is not '
                                      'valid.')
    if not (attempt.isascii() and attempt.isdigit()):
        raise CapabilityDenied(reason='The signal URL\'s attempt is not '
                                      'valid.')
    if not signer.verify(signature, *_signal_parts(method, deployment_id,
                                                   expires, attempt)):
        for other in ('POST', 'PUT'):
            if other != method and signer.verify(
                    signature, *_signal_parts(other, deployment_id, expires,
                                              attempt)):
                raise CapabilityDenied(
                    reason='This signal URL accepts %s requests only.'
                    % other)
        raise CapabilityDenied(reason='The signal URL\'s signature is not '
                                      'valid.')
    if int(expires) < (now or time.time()):
        raise CapabilityDenied(
            reason='This signal URL expired; update the deployment to get a '
                   'new one.')
    return int(attempt)


def _metadata_parts(tenant, server_id, generation):
    return ('metadata', tenant, server_id, str(generation))


def metadata_path(tenant, server_id):
    return '%s/metadata/%s/%s' % (AGENT_PREFIX, tenant,
                                  parse.quote(server_id, safe=''))


def metadata_url(signer, base_url, tenant, server_id, generation):
    """A metadata URL for one project's server, valid until revoked."""
    signature = signer.sign(*_metadata_parts(tenant, server_id, generation))
    return '%s%s?%s' % (base_url, metadata_path(tenant, server_id),
                        parse.urlencode({'generation': generation,
                                         'signature': signature}))


def check_metadata(signer, tenant, server_id, params, current_generation):
    """Verify a metadata URL.

    :param current_generation: the server's credential generation now; URLs
        of older generations were revoked.
    :raises CapabilityMissing: no signature.
    :raises CapabilityDenied: tampered or revoked.
    """
    signature, generation = params.get('signature'), params.get('generation')
    if not signature or not generation:
        raise CapabilityMissing()
    if not signer.verify(signature,
                         *_metadata_parts(tenant, server_id, generation)):
        raise CapabilityDenied(reason='The metadata URL\'s signature is not '
                                      'valid.')
    if generation != str(current_generation):
        raise CapabilityDenied(reason='This metadata URL was revoked; ask '
                                      'the server\'s owner for the new one.')
