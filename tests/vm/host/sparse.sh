#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild's CHECK for kernels that need a newer sparse than bookworm's 0.6.4
# (7.x headers use __typeof_unqual__, which their scripts/checker-valid.sh
# tests; with an old sparse kbuild prints a note and skips the check).  Runs
# Debian sid's sparse (lib.sh sparse_args unpacks it into the trixie
# userland: it needs trixie's glibc) in that userland, with the current
# directory, /tmp, the kernel tree CARVEOUT_SPARSE_TREE and the host gcc's
# include directory bound at their own paths.
#
# Usage (by kbuild): make C=1 CHECK=.../sparse.sh ...  (arguments: sparse's)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binds=("$PWD" /tmp "$(gcc -print-file-name=include)")
[ -n "${CARVEOUT_SPARSE_TREE:-}" ] && binds+=("$CARVEOUT_SPARSE_TREE")
# shellcheck disable=SC2016
exec bash "$here/userland.sh" trixie run "${binds[@]}" -- /bin/sh -c \
	'cd "$1" && shift && exec /opt/carveout-sparse/usr/bin/sparse "$@"' \
	sparse "$PWD" "$@"
