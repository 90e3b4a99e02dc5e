#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the carveout test VM under QEMU TCG: q35 with intel-iommu, 2 vCPUs,
# two NUMA nodes of 1 GiB, QEMU's edu PCI device (DMA engine behind the
# IOMMU), and a scratch disk for the O_DIRECT tests: virtio-blk over a raw
# 64 MiB image made afresh in OUT_DIR each run (serial carveout-scratch, so
# the tests know it is theirs to overwrite).  QEMU lets through 32 of its
# requests a second, so that I/O the tests start is still in flight while
# they act (test_mmap checks it was, and reports a skip otherwise).
# The console goes to OUT/console.log (and to the terminal when
# interactive); the test runner's TAP goes to a second serial port,
# OUT/results.tap.  no_timer_check: under TCG on a loaded host the IO-APIC
# timer check can miss its ticks and panic the boot.
# The host's root is shared read-only over 9p (mount tag hostroot) and the
# tree's path given as carveout_src=: the Python tests run the host's
# python3 in it as a chroot (guest/hostroot.sh).
#
# Usage: run-vm.sh KERNEL INITRD MODE OUT_DIR TIMEOUT_S [EXTRA_CMDLINE]
#   MODE: check | demo | shell
# Exit: QEMU's status, or 124 when the VM did not power off in time.
set -uo pipefail

kernel=$1
initrd=$2
mode=$3
out=$4
tmo=$5
extra=${6:-}
src=$(cd "$(dirname "$0")/../../.." && pwd)
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.tap" "$out/qemu.log" "$out/scratch.img"
truncate -s 64M "$out/scratch.img"

args=(
	-accel tcg -m 2G -smp 2,sockets=2,cores=1,threads=1
	-object memory-backend-ram,id=m0,size=1G
	-object memory-backend-ram,id=m1,size=1G
	-numa node,nodeid=0,cpus=0,memdev=m0
	-numa node,nodeid=1,cpus=1,memdev=m1
	-machine q35,kernel-irqchip=split
	-device intel-iommu,intremap=on
	-device edu
	-drive "file=$out/scratch.img,if=none,id=scratch,format=raw,throttling.iops-total=32"
	-device virtio-blk-pci,drive=scratch,serial=carveout-scratch
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 loglevel=5 intel_iommu=on no_timer_check panic=-1 reserve_mem=16M:2M:carveout_test carveout_mode=$mode carveout_src=$src $extra"
	-display none -no-reboot
)

case "$mode" in
shell)
	# Interactive: console on the terminal (Ctrl-A X quits QEMU).
	exec qemu-system-x86_64 "${args[@]}" -serial mon:stdio \
		-serial "file:$out/results.tap"
	;;
demo)
	timeout -k 10 "$tmo" qemu-system-x86_64 "${args[@]}" \
		-serial stdio -serial "file:$out/results.tap" \
		</dev/null | tee "$out/console.log"
	exit "${PIPESTATUS[0]}"
	;;
*)
	# QEMU's own messages (e.g. the emulated IOMMU reporting a blocked
	# DMA, which the tests provoke) go to qemu.log.
	timeout -k 10 "$tmo" qemu-system-x86_64 "${args[@]}" \
		-serial "file:$out/console.log" \
		-serial "file:$out/results.tap" </dev/null 2>"$out/qemu.log"
	;;
esac
