#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for "make demo": a short session a user can read.
D=/lib/carveout
export PATH=/bin:/sbin:$D/tests

run() {
	echo
	echo "\$ $*"
	"$@"
}

echo
echo "=== carveout demo on Linux $(uname -r) ==="
echo "NUMA nodes: $(ls -d /sys/devices/system/node/node* | sed 's#.*/node##' | tr '\n' ' ')"
run insmod $D/carveout.ko
run sh -c 'dmesg | grep carveout'
run ls -l /dev/carveout
run ls /sys/kernel/debug/carveout/
run cat /sys/kernel/debug/carveout/summary
run rmmod carveout
echo
echo "=== demo done ==="
