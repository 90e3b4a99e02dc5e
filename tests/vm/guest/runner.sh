#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM: loads carveout, runs every KUnit suite (on a
# kernel with KUnit), every userspace test and the kernel's own selftests
# of expected.sh kselftest, checks kmemleak, unloads, and
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
# carveout's dma-buf heaps, where the kernel lets a module add heaps
# (Kbuild builds carveout_heap.ko only there).  It stays loaded: a heap
# cannot be removed.
if [ -f $D/carveout_heap.ko ]; then
	step "module:load carveout_heap" insmod $D/carveout_heap.ko
fi
# The kernel's own drivers for the scratch disk and vgem (the dmabuf-heaps
# selftest's importer), where it has them as modules (mkinitramfs.sh);
# without a disk the O_DIRECT tests skip.
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

# Our heaps in /dev/dma_heap (carveout_heap's names).
our_heaps() {
	ls /dev/dma_heap 2>/dev/null |
		grep -E '^reserved(-node[0-9]+)?-contiguous$'
}

# kselftest_dmabuf_heaps: the kernel's dmabuf-heaps selftest, unchanged,
# over every heap in /dev/dma_heap; it must have tested each of ours.
# Where there are none, a skip says which facility the kernel lacks.
kselftest_dmabuf_heaps() {
	name=kselftest:dmabuf-heaps
	ours=$(our_heaps)
	if [ ! -f $D/carveout_heap.ko ]; then
		why="carveout_heap is not built: the kernel does not export"
		why="$why dma_heap_add() to modules"
		[ -d /dev/dma_heap ] ||
			why="no dma-buf heaps (CONFIG_DMABUF_HEAPS); $why"
		echo "    # SKIP $why"
		result 1 "$name" 0 0 1
		return
	fi
	if [ -z "$ours" ]; then
		echo "    # carveout_heap is loaded but /dev/dma_heap has none of its heaps"
		result 0 "$name" 0 1 0
		return
	fi
	timeout 900 $D/tests/kselftest-dmabuf-heaps > /tmp/ks.out 2>&1
	rc=$?
	# Its totals in the form tap_block reads; errors count as failures.
	awk '$1 == "#" && $2 == "Totals:" && $8 ~ /^error:/ {
		for (i = 3; i <= 8; i++) { split($i, kv, ":"); n[kv[1]] = kv[2] }
		print "# Totals: pass:" n["pass"] + n["xfail"] " fail:" \
			n["fail"] + n["error"] + n["xpass"] " skip:" n["skip"]
		next
	} { print }' /tmp/ks.out > /tmp/ks.tap
	for h in $ours; do
		grep -q "^# Testing heap: $h\$" /tmp/ks.tap ||
			echo "not ok - carveout heap $h was not tested" >> /tmp/ks.tap
	done
	tap_block "$name" $rc /tmp/ks.tap
}

# kselftest NAME: one of the kernel's own selftests (expected.sh kselftest).
kselftest() {
	case "$1" in
	dmabuf-heaps) kselftest_dmabuf_heaps ;;
	*) echo "    # unknown kselftest $1"; result 0 "kselftest:$1" 0 1 0 ;;
	esac
}

# python: the Python package (userspace/python), installed with pip with
# no network into the host's root shared over 9p, and its tests
# (tests/python) run there as a chroot by the host's python3
# (hostroot.sh, /bin/python3).  Without 9p in the kernel: a skip.
python_tests() {
	name=python:carveout
	sh $D/hostroot.sh > /tmp/hostroot.out 2>&1
	rc=$?
	if [ $rc = 77 ]; then
		echo "    # SKIP $(tail -n 1 /tmp/hostroot.out)"
		result 1 "$name" 0 0 1
		return
	fi
	if [ $rc != 0 ]; then
		sed 's/^/    # /' /tmp/hostroot.out
		result 0 "$name" 0 1 0
		return
	fi
	sed 's/^/    # /' /tmp/hostroot.out
	timeout 900 python3 /tmp/carveout-src/tests/python/run.py \
		> /tmp/python.out 2>&1
	tap_block "$name" $? /tmp/python.out
}

kselftests=$(cat $D/kselftests)
tests="$(cat $D/user-tests) $kselftests python"
[ -n "$only" ] && tests=$(echo "$only" | tr ',' ' ')
for t in $tests; do
	if [ "$t" = python ]; then
		python_tests
		continue
	fi
	case " $(echo $kselftests) " in
	*" $t "*)
		kselftest "$t"
		continue
		;;
	esac
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
