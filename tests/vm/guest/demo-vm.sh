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

say() {
	echo
	echo "# $*"
}

echo
echo "=== carveout demo on Linux $(uname -r): $(ls -d /sys/devices/system/node/node* | wc -l) NUMA nodes, intel-iommu, QEMU edu device ==="
say "Load carveout with a 128 MiB region on every node"
run insmod $D/carveout.ko size=128M
run sh -c 'dmesg | grep "carveout:"'
run ls -l /dev/carveout
if [ -x $D/tests/carveoutctl ]; then
	say "What the module holds"
	run carveoutctl info
	say "Allocate 1 MiB on each node (strict placement)"
	for n in $(ls -d /sys/devices/system/node/node* | sed 's#.*/node##'); do
		run carveoutctl alloc 1M --node "$n"
	done
fi
say "A real DMA transfer through the IOMMU (edu bound to a test driver)"
run insmod $D/carveout_edu.ko
run demo_dma
say "Where the memory is: debugfs"
run ls /sys/kernel/debug/carveout/ /sys/kernel/debug/carveout/node0
run cat /sys/kernel/debug/carveout/summary
run cat /sys/kernel/debug/carveout/node0/buddyinfo
run cat /sys/kernel/debug/carveout/node0/numastat
if [ -x $D/tests/carveoutctl ]; then
	say "Hold a few buffers (carveoutctl alloc --hold) and look again"
	carveoutctl alloc 24M --node 0 --hold > /tmp/hold1 2>&1 &
	h1=$!
	carveoutctl alloc 3M --node 0 --align 4M --hold > /tmp/hold2 2>&1 &
	h2=$!
	carveoutctl alloc 700 --node 1 --hold > /tmp/hold3 2>&1 &
	h3=$!
	sleep 2
	run cat /sys/kernel/debug/carveout/buffers
	run carveoutctl stats
	run cat /sys/kernel/debug/carveout/node1/slabinfo
	run carveoutctl map --width 64
	run cat /sys/kernel/debug/carveout/node0/fragmentation
	kill $h1 $h2 $h3
	wait
fi
run rmmod carveout_edu
run rmmod carveout
echo
echo "=== demo done ==="
