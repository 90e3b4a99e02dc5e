#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove the DKMS packaging: dkms add, build and install carveout against
# a stock Debian kernel's headers from a copy of what a DKMS package ships
# (Kbuild, Makefile, dkms.conf, module/, uapi/: no tests), check the
# installed module, then remove it again.  Needs root and Debian's dkms.
# With a USERLAND other than host (tests/vm/host/userland.sh), the whole
# check runs inside that userland, against the headers unpacked there.
#
# Usage: dkms-check.sh KVER [USERLAND]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kver=$1
userland=${2:-host}
if [ "$userland" != host ]; then
	mkdir -p "$build"
	exec bash "$top/tests/vm/host/userland.sh" "$userland" run "$top" \
		"$build" -- bash "$top/tests/vm/host/dkms-check.sh" "$kver"
fi
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src=/usr/src/carveout-$ver
logf=$build/dkms-$kver.log

cleanup() {
	dkms remove "carveout/$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src"
}
cleanup
trap cleanup EXIT
# dkms installs nothing for a kernel without modules.dep (it takes that for
# a kernel that is not installed) and deletes an empty one when it removes
# the last module: do what the image package's postinst would.
[ -f "/lib/modules/$kver/modules.dep" ] || depmod -a "$kver" 2>/dev/null
mkdir -p "$src"
cp -r "$top/Kbuild" "$top/Makefile" "$top/dkms.conf" "$top/module" \
	"$top/uapi" "$src/"
{
	dkms add "carveout/$ver"
	dkms build "carveout/$ver" -k "$kver"
	dkms install "carveout/$ver" -k "$kver" --force
} >"$logf" 2>&1 || { tail -n 30 "$logf"; exit 1; }
ko=$(find "/lib/modules/$kver/updates/dkms" -name 'carveout.ko*' | head -n 1)
if [ -z "$ko" ]; then
	echo "dkms-check: carveout.ko not installed under /lib/modules/$kver/updates/dkms"
	exit 1
fi
if ! modinfo -k "$kver" carveout | grep -q '^vermagic: *'"$kver"' '; then
	echo "dkms-check: installed module has the wrong vermagic"
	modinfo "$ko" | head -n 10
	exit 1
fi
# carveout_heap comes with it exactly where the kernel exports dma_heap_add().
hko=$(find "/lib/modules/$kver/updates/dkms" -name 'carveout_heap.ko*' | head -n 1)
if grep -qsw dma_heap_add "/lib/modules/$kver/build/Module.symvers"; then
	[ -n "$hko" ] || {
		echo "dkms-check: carveout_heap.ko not installed, yet $kver exports dma_heap_add()"
		exit 1
	}
elif [ -n "$hko" ]; then
	echo "dkms-check: carveout_heap.ko installed for $kver, which has no heap API"
	exit 1
fi
dkms status "carveout/$ver" | grep -q installed || {
	echo "dkms-check: dkms status does not show carveout installed"
	exit 1
}
echo "dkms-check: carveout $ver built and installed for $kver ($ko${hko:+, $hko})"
