#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: long fuzzing runs.
#  1. the allocator core under libFuzzer on the host (FUZZ_SECONDS, 600);
#  2. the ioctl/mmap fuzzer (tests/user/test_fuzz.c) in the debug test VM
#     (the newest debug kernel of tests/vm/kernels.matrix, or FUZZ_KERNEL)
#     for FUZZ_OPS operations (200000) from FUZZ_SEED (random), judged like
#     make check: the fuzzer's own checks and no kernel splat.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

secs=${FUZZ_SECONDS:-600}
ops=${FUZZ_OPS:-200000}
seed=${FUZZ_SEED:-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}
seed=0x${seed#0x}
fail=0

bash "$top/tests/vm/host/install-deps.sh" || exit 1
log "allocator core: libFuzzer for $secs s"
make -s -C "$top/tests/harness" libfuzzer-run LIBFUZZER_TIME="$secs" \
	>"$build/libfuzzer-long.log" 2>&1 || { tail -n 30 "$build/libfuzzer-long.log"; fail=1; }
tail -n 3 "$build/libfuzzer-long.log"

kname=${FUZZ_KERNEL:-$(matrix_newest debug)}
kernel_prepare "$kname" || exit 1
build_modules "k-$kname" "$k_kdir" "$k_userland" || exit 1
build_user || exit 1
out=$build/vm-fuzz
bash "$top/tests/vm/host/mkinitramfs.sh" "$out/initramfs.cpio.gz" \
	"$build/k-$kname/ko" "$build/user" || exit 1
# A budget of about 15 ops/s under TCG with KASAN, plus boot.
tmo=$(( ops / 15 + 600 ))
log "ioctl fuzzer in the VM: $ops ops, seed $seed (timeout ${tmo}s)"
bash "$top/tests/vm/host/run-vm.sh" "$k_image" \
	"$out/initramfs.cpio.gz" check "$out" "$tmo" \
	"CARVEOUT_ONLY=test_fuzz CARVEOUT_FUZZ_OPS=$ops CARVEOUT_FUZZ_SEED=$seed"
rc=$?
bash "$top/tests/vm/host/analyze.sh" "$out" 0 "$rc" test_fuzz >"$out/summary.txt"
sed '$d' "$out/summary.txt"
grep -a -E '# (seed|ops)' "$out/results.txt" | sed 's/^ *//'
set -- $(grep '^COUNTS ' "$out/summary.txt")
[ "${3:-1}" = 0 ] || fail=1
echo "${2:-0} passed, ${3:-1} failed"
exit $fail
