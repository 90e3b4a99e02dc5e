#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, prepare every kernel of the matrix
# (tests/vm/kernels.matrix; cached), build carveout against each kernel's
# own headers, prove DKMS, run the host harness, boot each kernel in QEMU
# and run every test inside, then print per-kernel counts and a last line
# "N passed, N failed".
#
# Usage: check.sh [SET]   SET: check (default, make check) or all
#                         (make check-all: also the entries marked "all")
# CARVEOUT_KERNELS="NAME..." runs only those matrix entries (for working on
# one kernel; make check and CI run the whole set).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

set_=${1:-check}
# DKMS is proven against these kernels' headers (matrix names).
dkms_kernels="stock-6.1 stock-7.3"
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

# Kernels.  The stock ones (downloads, the debootstrap'd userland) are
# prepared in the background while the debug kernels build; a kernel that
# cannot be prepared is a failure, and the others still run.
names=$(matrix_lines "$set_" | awk '{ print $1 }')
if [ -n "${CARVEOUT_KERNELS:-}" ]; then
	names=$(for n in $CARVEOUT_KERNELS; do matrix_load "$n" && echo "$n"; done)
fi
log "kernels: $(echo $names) (cached under $cache)"
(
	for n in $names; do
		matrix_load "$n" && [ "$m_kind" = stock ] && kernel_prepare "$n"
	done
) >"$build/prepare-stock.log" 2>&1 &
prep=$!
declare -A kimage kkver kdesc kuser kkind unprepared
for n in $names; do
	matrix_load "$n" && [ "$m_kind" = debug ] || continue
	kernel_prepare "$n" || unprepared[$n]=1
done
wait $prep

for n in $names; do
	rm -rf "$build/vm-$n"
	if [ -n "${unprepared[$n]:-}" ] ||
	   ! kernel_prepare "$n" 2>"$build/prepare-$n.log"; then
		cat "$build/prepare-$n.log" "$build/prepare-stock.log" 2>/dev/null
		fail=$((fail + 1)); failed+=("kernel $n: could not be prepared")
		continue
	fi
	kimage[$n]=$k_image
	kkver[$n]=$k_kver
	kuser[$n]=$k_userland
	kkind[$n]=$m_kind
	kdesc[$n]="$k_kver ($m_package $m_version)"
	extra=()
	if [ "$m_kind" = debug ]; then
		if ! sa=$(sparse_args "$k_kdir"); then
			fail=$((fail + 1)); failed+=("kernel $n: no working sparse")
			continue
		fi
		read -ra extra <<<"$sa"
	fi
	stage "build: carveout on $n, $k_kver headers (W=1${extra:+, sparse}; userland $k_userland)" \
		build_modules "k-$n" "$k_kdir" "$k_userland" "${extra[@]}"
	if [ "$m_kind" = debug ] && [ "$k_userland" = host ]; then
		stage "build: DKMS tree (module/ and uapi/ only) on $n, CONFIG_KUNIT=y" \
			build_dkms_tree "k-dkms-$n" "$k_kdir"
	fi
done
stage "build: userspace tests and tools" build_user
for n in $dkms_kernels; do
	[ -n "${kkver[$n]:-}" ] || continue
	stage "dkms: add, build and install on ${kkver[$n]} (log: build/dkms-${kkver[$n]}.log)" \
		bash "$top/tests/vm/host/dkms-check.sh" "${kkver[$n]}" "${kuser[$n]}"
done

if [ -f "$top/tests/harness/Makefile" ]; then
	log "host harness: allocator core under ASan/UBSan"
	make -s -C "$top/tests/harness" check 2>&1 | tee "$build/harness.log"
	hrc=${PIPESTATUS[0]}
	sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\).*/COUNTS \1 \2 \3/p' \
		"$build/harness.log" >"$build/harness.counts"
	[ "$hrc" = 0 ] || echo "COUNTS 0 1 0" >>"$build/harness.counts"
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
	log "vm-$name: booting ${kdesc[$name]} (timeout ${tmo}s)"
	bash "$top/tests/vm/host/run-vm.sh" "$kernel" "$out/initramfs.cpio.gz" check \
		"$out" "$tmo"
	rc=$?
	bash "$top/tests/vm/host/analyze.sh" "$out" "$kunit" "$rc" >"$out/summary.txt"
	sed '$d' "$out/summary.txt"
	add_counts "vm-$name" "$out/summary.txt"
}

# Debug kernels run KUnit and the kmemleak scan besides the userspace suite.
for n in $names; do
	[ -n "${kimage[$n]:-}" ] || continue
	if [ "${kkind[$n]}" = debug ]; then
		run_vm "$n" "${kimage[$n]}" "$build/k-$n/ko" 1 1500
	else
		run_vm "$n" "${kimage[$n]}" "$build/k-$n/ko" 0 600
	fi
done

# Per kernel: its exact version, its counts, its splat scan.
echo
log "per kernel:"
for n in $names; do
	sum=$build/vm-$n/summary.txt
	if [ -z "${kimage[$n]:-}" ]; then
		printf '  %-13s could not be prepared\n' "$n"
	elif [ ! -f "$sum" ]; then
		printf '  %-13s %s: no VM run\n' "$n" "${kdesc[$n]}"
	else
		set -- $(grep '^COUNTS ' "$sum" | tail -n 1)
		splat="splat scan: clean"
		grep -q '^not ok - console: kernel splat' "$sum" &&
			splat="splat scan: SPLAT (build/vm-$n/splats.txt)"
		printf '  %-13s %s: %s passed, %s failed, %s skipped; %s\n' \
			"$n" "${kdesc[$n]}" "${2:-0}" "${3:-1}" "${4:-0}" "$splat"
	fi
done
finish
