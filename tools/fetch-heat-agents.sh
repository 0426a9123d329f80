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

# Fetch the heat-agents sources used by the functional agent harness
# (heat_deploy/tests/functional/fixtures/agents.py).
#
# Usage: tools/fetch-heat-agents.sh [DEST]   (default: .tox/heat-agents)
#
# Downloads the heat-agents sdist from PyPI with pip and unpacks it so that
# DEST itself is the source root (DEST/heat-config/..., DEST/heat-config-script/
# ...), then prints DEST. Point HEAT_AGENTS_SRC at that path. Running it again
# with the sources already in place does nothing but print the path.
#
# The sdist is needed because the heat-agents wheel ships only release notes;
# the hooks and os-refresh-config scripts are in the sdist alone.
#
# Environment: PYTHON (default python3) is the interpreter whose pip is used.

set -euo pipefail

VERSION=13.0.0
# NOTE: pinned so that a re-published file cannot change what the tests run.
SHA256=346099c6e9f16bd5e68913b825013acdd97b6743a1764ebcfc08d6528cefa9d6
PYTHON=${PYTHON:-python3}
DEST=${1:-.tox/heat-agents}
MARKER=.heat-agents-version

if [ -f "$DEST/$MARKER" ] && [ "$(cat "$DEST/$MARKER")" = "$VERSION" ] &&
        [ -x "$DEST/heat-config/os-refresh-config/configure.d/55-heat-config" ]; then
    echo "$DEST"
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
work=$(mktemp -d "$parent/.heat-agents-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "heat-agents==$VERSION --hash=sha256:$SHA256" > "$work/requirements.txt"
# --no-binary: the wheel lacks the agent scripts. --require-hashes makes pip
# check the sdist against the pinned hash above.
"$PYTHON" -m pip download --quiet --disable-pip-version-check \
    --no-binary :all: --no-deps --require-hashes \
    -r "$work/requirements.txt" -d "$work/dist" >&2

mkdir "$work/src"
tar -xzf "$work"/dist/heat[_-]agents-"$VERSION".tar.gz \
    -C "$work/src" --strip-components=1 --no-same-owner
echo "$VERSION" > "$work/src/$MARKER"

rm -rf "$DEST"
mv "$work/src" "$DEST"
echo "$DEST"
