#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo / make vm-shell: build carveout and boot the VM with it.
# Uses the stock Debian kernel (no kernel build needed); set
# CARVEOUT_DEMO_KERNEL=test to use the debug test kernel instead.
#
# Usage: demo.sh [--shell]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=demo
[ "${1:-}" = --shell ] && mode=shell

bash "$top/tests/vm/host/install-deps.sh"
if [ "${CARVEOUT_DEMO_KERNEL:-stock}" = test ]; then
	ktree=$(bash "$top/tests/vm/host/build-kernel.sh")
	kernel=$ktree/arch/x86/boot/bzImage
	name=demo-test
	kdir=$ktree
else
	skver=$(stock_kver)
	kernel=/boot/vmlinuz-$skver
	name=demo-stock
	kdir=/lib/modules/$skver/build
fi
log "building carveout against $kdir"
build_modules "$name" "$kdir"
build_user
rm -f "$build/$name/ko/carveout_splat.ko"
bash "$top/tests/vm/host/mkinitramfs.sh" "$build/$name/initramfs.cpio.gz" \
	"$build/$name/ko" "$build/user"
log "booting $(basename "$kernel") under QEMU (TCG; takes a little while)"
bash "$top/tests/vm/host/run-vm.sh" "$kernel" "$build/$name/initramfs.cpio.gz" \
	"$mode" "$build/$name/vm" 600
