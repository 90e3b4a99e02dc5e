#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM: loads carveout, runs every KUnit suite (on a
# kernel with KUnit) and every userspace test, checks kmemleak, unloads, and
# prints one TAP stream.  Each top-level result carries the leaf counts of
# what it ran ("# pass:X fail:Y skip:Z"), which the host adds up.  The host,
# not this script, decides whether every expected suite ran.
D=/lib/carveout
n=0
# Regions big enough for the tests' large buffers.
CARVEOUT_ARGS="size=128M"
export PATH=/bin:/sbin:$D/tests

# result OK NAME PASS FAIL SKIP
result() {
	n=$((n + 1))
	if [ "$1" = 1 ]; then s="ok"; else s="not ok"; fi
	echo "$s $n - $2 # pass:$3 fail:$4 skip:$5"
}

# step NAME CMD...: a single check that passes when CMD succeeds.
step() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		result 1 "$name" 1 0 0
	else
		[ -n "$out" ] && echo "$out" | sed 's/^/    # /'
		result 0 "$name" 0 1 0
	fi
}

# tap_block NAME RC FILE: report a TAP/KTAP log with a "# Totals:" line.
tap_block() {
	name=$1
	rc=$2
	f=$3
	sed 's/^/    /' "$f"
	t=$(grep -E '^ *# Totals: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+' "$f" | tail -n 1)
	if [ -z "$t" ]; then
		echo "    # no totals: $name did not finish"
		result 0 "$name" 0 1 0
		return
	fi
	p=$(echo "$t" | sed 's/.*pass:\([0-9]*\).*/\1/')
	f_=$(echo "$t" | sed 's/.*fail:\([0-9]*\).*/\1/')
	s=$(echo "$t" | sed 's/.*skip:\([0-9]*\).*/\1/')
	ok=1
	[ "$rc" = 0 ] && [ "$f_" = 0 ] || ok=0
	grep -qE '^ *not ok' "$f" && ok=0
	[ "$ok" = 0 ] && [ "$f_" = 0 ] && f_=1
	result $ok "$name" "$p" "$f_" "$s"
}

echo "TAP version 13"
echo "# carveout tests on $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, nodes: $(ls -d /sys/devices/system/node/node* | wc -l)"

kunit=0
[ -d /sys/kernel/debug/kunit ] && kunit=1
leakcheck=0
if [ -w /sys/kernel/debug/kmemleak ]; then
	# Forget what boot left behind; only leaks from here on count.
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
	leakcheck=1
fi

step "module:load carveout" insmod $D/carveout.ko $CARVEOUT_ARGS
# The test driver for QEMU's edu device: a DMA master for the DMA tests.
step "module:load carveout_edu" insmod $D/carveout_edu.ko
# The kernel's own drivers for the scratch disk, where it has them as
# modules (mkinitramfs.sh); without a disk the O_DIRECT tests skip.
for m in $(cat $D/kmod/order 2>/dev/null); do
	out=$(insmod $D/kmod/$m.ko 2>&1) || echo "    # insmod $m: $out"
done

# CARVEOUT_ONLY (kernel command line, e.g. from make fuzz): run just these
# userspace tests, no KUnit.
only=${CARVEOUT_ONLY:-}
[ -n "$only" ] && kunit=0

if [ $kunit = 1 ]; then
	# The suites run while the module loads.
	step "module:load carveout_kunit" insmod $D/carveout_kunit.ko
	for s in $(cat $D/kunit-suites); do
		r=/sys/kernel/debug/kunit/$s/results
		if [ -r "$r" ]; then
			cat "$r" > /tmp/kunit.out
			tap_block "kunit:$s" 0 /tmp/kunit.out
		else
			echo "    # $r missing: suite $s did not run"
			result 0 "kunit:$s" 0 1 0
		fi
	done
	step "module:unload carveout_kunit" rmmod carveout_kunit
fi

tests=$(cat $D/user-tests)
[ -n "$only" ] && tests=$(echo "$only" | tr ',' ' ')
for t in $tests; do
	timeout 600 $D/tests/$t > /tmp/user.out 2>&1
	rc=$?
	tap_block "user:$t" $rc /tmp/user.out
done

step "module:unload carveout_edu" rmmod carveout_edu
step "module:unload carveout" rmmod carveout

if [ $leakcheck = 1 ]; then
	# kmemleak reports objects older than 5 s that nothing references.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > /tmp/leaks
	if [ -s /tmp/leaks ]; then
		sed 's/^/    # /' /tmp/leaks
		result 0 "kmemleak:scan" 0 1 0
	else
		result 1 "kmemleak:scan" 1 0 0
	fi
fi

echo "1..$n"
echo "CARVEOUT-DMESG-BEGIN"
dmesg
echo "CARVEOUT-DMESG-END"

if [ -f $D/carveout_splat.ko ]; then
	# Harness self-test: this splat must be caught by the host's scanner.
	# The marker goes through printk so it orders with the splat.
	echo "CARVEOUT-SELFTEST-BEGIN" > /dev/kmsg
	echo "CARVEOUT-SELFTEST-BEGIN"
	insmod $D/carveout_splat.ko
	sleep 1
	dmesg | tail -n 40
	echo "CARVEOUT-SELFTEST-END"
fi
echo "CARVEOUT-END"
