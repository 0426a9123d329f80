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

"""Heat's timestamp format, shared by the API, events and commands."""

FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def format_time(value):
    """A naive UTC time as Heat shows it (whole seconds, literal Z); None
    stays None.
    """
    return value.strftime(FORMAT) if value is not None else None
