#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the kernels of tests/vm/kernels.matrix ready: stock images and
# headers fetched and unpacked (headers for a non-host userland into that
# userland, which is debootstrap'd first), debug kernels built.  Everything
# is cached under $CARVEOUT_CACHE, so a second run only checks markers.
#
# Usage: prepare-kernels.sh [SET [KIND]]
#   SET   check (default: what make check runs) or all
#   KIND  stock, debug or any (default)
# Prints one line per kernel; fails when any kernel could not be prepared.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

set_=${1:-check}
kind=${2:-any}
fail=0
while read -r name k _; do
	[ "$kind" = any ] || [ "$kind" = "$k" ] || continue
	t=$(date +%s)
	if kernel_prepare "$name"; then
		log "kernel $name: ready, $k_kver ($(( $(date +%s) - t )) s)"
	else
		log "kernel $name: could not be prepared"
		fail=1
	fi
done < <(matrix_lines "$set_")
exit $fail
