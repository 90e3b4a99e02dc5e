#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Lists what a test run must contain, read from the sources so that a new
# suite or test is expected as soon as it exists:
#   expected.sh kunit   the KUnit suite names (tests/kunit/*_kunit.c)
#   expected.sh user    the userspace test programs (tests/user/test_*.c)
#   expected.sh kselftest  the kernel's own selftests run unchanged
#                       (tools/testing/selftests/NAME of the matrix's
#                       kernel source, built by lib.sh build_kselftests)
#   expected.sh python  the Python package's suite (tests/python, run
#                       in the host's root over 9p; name "python" in
#                       CARVEOUT_ONLY, "python:carveout" in the results)
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
case "${1:-}" in
kunit)
	sed -n 's/^[[:space:]]*\.name = "\(carveout_[a-z0-9_]*\)",.*/\1/p' \
		"$top"/tests/kunit/*_kunit.c | LC_ALL=C sort -u
	;;
user)
	for f in "$top"/tests/user/test_*.c; do
		basename "$f" .c
	done | LC_ALL=C sort -u
	;;
kselftest)
	# dma-buf heaps: carveout's own (carveout_heap) and the kernel's.
	echo dmabuf-heaps
	;;
python)
	[ -f "$top/tests/python/run.py" ] && echo python
	;;
*)
	echo "usage: $0 kunit|user|kselftest|python" >&2
	exit 2
	;;
esac
