#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build the test kernel (cached), build
# carveout against it and against the stock Debian kernel, run the host
# harness, boot both kernels in QEMU and run every test inside, then print
# the counts and a last line "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

pass=0
fail=0
skip=0
failed=()
t0=$(date +%s)

# stage NAME CMD...: a single pass/fail check.
stage() {
	local name=$1
	shift
	log "$name"
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$name")
		log "FAILED: $name"
	fi
}

# quiet LOG CMD...: run CMD with its output in LOG; show the end on failure.
quiet() {
	local logf=$1
	shift
	if "$@" >"$logf" 2>&1; then
		tail -n 2 "$logf"
		return 0
	fi
	tail -n 30 "$logf"
	return 1
}

# add_counts NAME FILE: add the "COUNTS p f s" last line of FILE.
add_counts() {
	local name=$1 c
	c=$(grep '^COUNTS ' "$2" | tail -n 1)
	if [ -z "$c" ]; then
		fail=$((fail + 1))
		failed+=("$name (no result)")
		return
	fi
	set -- $c
	pass=$((pass + $2))
	fail=$((fail + $3))
	skip=$((skip + $4))
	[ "$3" = 0 ] || failed+=("$name ($3 failed)")
}

finish() {
	echo
	log "total time $(( $(date +%s) - t0 )) s; logs under $build"
	if [ ${#failed[@]} -gt 0 ]; then
		printf 'failed: %s\n' "${failed[@]}"
	fi
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	[ "$fail" = 0 ]
	exit
}

mkdir -p "$build"
if ! bash "$top/tests/vm/host/install-deps.sh"; then
	fail=$((fail + 1)); failed+=("install-deps"); finish
fi

log "test kernel (cached under ${CARVEOUT_CACHE:-/var/cache/carveout})"
if ! ktree=$(bash "$top/tests/vm/host/build-kernel.sh"); then
	fail=$((fail + 1)); failed+=("test kernel build"); finish
fi
if ! skver=$(stock_kver); then
	fail=$((fail + 1)); failed+=("stock kernel: no image with headers"); finish
fi

stage "build: carveout on the test kernel (W=1, sparse)" \
	build_modules k-test "$ktree" C=1
stage "build: carveout on stock $skver headers (W=1)" \
	build_modules k-stock "/lib/modules/$skver/build"
if deb612=$(deb612_kdir); then
	stage "build: carveout on Debian $(basename "$deb612") headers (W=1)" \
		build_modules k-deb612 "$deb612"
else
	fail=$((fail + 1)); failed+=("no Debian 6.12 headers installed")
fi
stage "build: userspace tests and tools" build_user
stage "dkms: add, build and install on $skver (log: build/dkms.log)" \
	bash "$top/tests/vm/host/dkms-check.sh" "$skver"

if [ -f "$top/tests/harness/Makefile" ]; then
	log "host harness: allocator core under ASan/UBSan"
	make -s -C "$top/tests/harness" check 2>&1 | tee "$build/harness.log"
	sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\).*/COUNTS \1 \2 \3/p' \
		"$build/harness.log" >"$build/harness.counts"
	[ "${PIPESTATUS[0]}" = 0 ] || echo "COUNTS 0 1 0" >>"$build/harness.counts"
	add_counts "harness" "$build/harness.counts"
	stage "harness: libFuzzer short run (log: build/libfuzzer.log)" \
		quiet "$build/libfuzzer.log" make -s -C "$top/tests/harness" libfuzzer-run
fi

# run_vm NAME KERNEL KO_DIR KUNIT TIMEOUT
run_vm() {
	local name=$1 kernel=$2 ko=$3 kunit=$4 tmo=$5 out=$build/vm-$1 rc
	if [ ! -f "$ko/carveout.ko" ]; then
		fail=$((fail + 1)); failed+=("vm-$name: no module built")
		return
	fi
	mkdir -p "$out"
	bash "$top/tests/vm/host/mkinitramfs.sh" "$out/initramfs.cpio.gz" "$ko" \
		"$build/user" || { fail=$((fail + 1)); failed+=("vm-$name: initramfs"); return; }
	log "vm-$name: booting $(basename "$kernel") (timeout ${tmo}s)"
	bash "$top/tests/vm/host/run-vm.sh" "$kernel" "$out/initramfs.cpio.gz" check \
		"$out" "$tmo"
	rc=$?
	bash "$top/tests/vm/host/analyze.sh" "$out" "$kunit" "$rc" >"$out/summary.txt"
	sed '$d' "$out/summary.txt"
	add_counts "vm-$name" "$out/summary.txt"
}

run_vm test "$ktree/arch/x86/boot/bzImage" "$build/k-test/ko" 1 1500
run_vm stock "/boot/vmlinuz-$skver" "$build/k-stock/ko" 0 600
finish
