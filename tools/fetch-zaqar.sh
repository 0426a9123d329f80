#!/bin/bash
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

# Make the virtualenv that runs Zaqar for the functional tests
# (heat_deploy/tests/functional/fixtures/zaqar.py).
#
# Usage: tools/fetch-zaqar.sh [DEST]   (default: .tox/zaqar)
#
# Creates DEST as a virtualenv with zaqar (the 21 series, the last one that
# still serves the deprecated v1.1 API that heat-agents' heat-config-notify
# posts to), its Redis driver and gunicorn, then prints DEST/bin/python.
# Point HEAT_DEPLOY_TEST_ZAQAR_PYTHON at that path. Running it again with the
# same requirements in place does nothing but print the path.
#
# Zaqar lives in a virtualenv of its own: its pinned dependencies must not
# meet heat_deploy's, and the test process never imports it.
#
# Environment: PYTHON (default python3) is the interpreter the virtualenv is
# made from.

set -euo pipefail

PYTHON=${PYTHON:-python3}
DEST=${1:-.tox/zaqar}
MARKER=.heat-deploy-zaqar
# What the marker records; change it and the virtualenv is made anew.
REQUIREMENTS="zaqar==21.* redis>=4.0.0 gunicorn>=23.0.0"

if [ -f "$DEST/$MARKER" ] && [ "$(cat "$DEST/$MARKER")" = "$REQUIREMENTS" ] &&
        [ -x "$DEST/bin/python" ]; then
    echo "$DEST/bin/python"
    exit 0
fi

# Only ever replace a directory this script made (or an empty one), since
# DEST comes from the caller.
if [ -d "$DEST" ] && [ ! -f "$DEST/$MARKER" ] && [ -n "$(ls -A "$DEST")" ]; then
    echo "$0: $DEST exists, is not empty and was not made by this script" >&2
    exit 1
fi

parent=$(dirname "$DEST")
mkdir -p "$parent"
work=$(mktemp -d "$parent/.zaqar-venv.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Built where it will live: a virtualenv's scripts name their interpreter
# by absolute path, so it cannot be moved into place afterwards. The marker
# is written last, so an interrupted run is made anew next time.
rm -rf "$DEST"
"$PYTHON" -m venv "$DEST"
# shellcheck disable=SC2086
"$DEST/bin/python" -m pip install --quiet --disable-pip-version-check \
    $REQUIREMENTS >"$work/pip.log" 2>&1 || {
    cat "$work/pip.log" >&2
    echo "$0: installing $REQUIREMENTS into $DEST failed" >&2
    exit 1
}
echo "$REQUIREMENTS" > "$DEST/$MARKER"
echo "$DEST/bin/python"
