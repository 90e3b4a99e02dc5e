#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian packages make bench needs beyond the project's own (python3 for
# the report), installed by the shared, idempotent tests/vm/host/install-deps.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../vm/host/install-deps.sh" python3 gcc libc6-dev
