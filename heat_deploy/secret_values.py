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

"""Secrets inside derived configs: encrypted at rest, masked for tenants.

A transport may hand a server a secret (HEAT_SIGNAL's password). It is
stored encrypted with [signal] encryption_keys, shown as ``***`` in every
API response, and decrypted only for the server's signed metadata URL.
"""

from cryptography import fernet

MARKER = 'heat_deploy_encrypted'
MASK = '***'


class Secret(object):
    """A derived input value that must not be stored or shown in clear."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return 'Secret(%s)' % MASK


class SecretBox(object):
    """Fernet encryption with a list of keys (first one encrypts)."""

    def __init__(self, keys):
        self._fernet = (fernet.MultiFernet([fernet.Fernet(key)
                                            for key in keys])
                        if keys else None)

    def seal(self, value):
        """The stored form of a secret string."""
        if self._fernet is None:
            raise ValueError('[signal] encryption_keys is not set')
        token = self._fernet.encrypt(value.encode('utf-8'))
        return {MARKER: token.decode('ascii')}

    def open(self, sealed):
        return self._fernet.decrypt(
            sealed[MARKER].encode('ascii')).decode('utf-8')


def is_sealed(value):
    return isinstance(value, dict) and set(value) == {MARKER}


def _map_values(inputs, function):
    result = []
    for item in inputs:
        if is_sealed(item.get('value')):
            item = dict(item, value=function(item['value']))
        result.append(item)
    return result


def mask(inputs):
    """Inputs with every sealed value shown as ***."""
    return _map_values(inputs, lambda sealed: MASK)


def reveal(inputs, box):
    """Inputs with every sealed value decrypted, for the server itself."""
    return _map_values(inputs, box.open)
