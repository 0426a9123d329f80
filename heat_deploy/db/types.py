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

"""Column types shared by the models and the migrations."""

import json

from oslo_serialization import jsonutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


def LongText():
    # MySQL's TEXT holds only 64 KiB; configs and outputs may be larger.
    return sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')


def Timestamp():
    # Microseconds on every backend so "newest first" ordering and marker
    # paging stay stable when several rows are created within one second.
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


class Json(sa.types.TypeDecorator):
    """Any JSON value, stored as text (NULL stays SQL NULL)."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == 'mysql':
            return dialect.type_descriptor(mysql.LONGTEXT())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return jsonutils.dumps(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        # The drivers give text columns as str: the standard library's
        # parser without jsonutils' decoding step (every row of the
        # metadata views goes through here).
        return json.loads(value)
