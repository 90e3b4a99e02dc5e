#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo / make vm-shell: build carveout and boot the VM with it.
# Boots the newest stock kernel of tests/vm/kernels.matrix (by its pinned
# package version; no kernel build needed); CARVEOUT_DEMO_KERNEL=NAME picks
# another matrix entry (e.g. stock-6.1, or debug-7.3 for the debug kernel).
#
# Usage: demo.sh [--shell]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=demo
[ "${1:-}" = --shell ] && mode=shell

bash "$top/tests/vm/host/install-deps.sh"
name=${CARVEOUT_DEMO_KERNEL:-$(matrix_newest stock)}
kernel_prepare "$name"
log "building carveout against $k_kver headers ($m_package $m_version)"
build_modules "demo-$name" "$k_kdir" "$k_userland"
build_user
rm -f "$build/demo-$name/ko/carveout_splat.ko"
bash "$top/tests/vm/host/mkinitramfs.sh" "$build/demo-$name/initramfs.cpio.gz" \
	"$build/demo-$name/ko" "$build/user"
log "booting $name, $k_kver, under QEMU (TCG; takes a little while)"
bash "$top/tests/vm/host/run-vm.sh" "$k_image" "$build/demo-$name/initramfs.cpio.gz" \
	"$mode" "$build/demo-$name/vm" 600
