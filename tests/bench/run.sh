#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: carveout against the kernel's allocators.
#
#  0. builds (once; cached like the test kernel by tests/vm/host/build-kernel.sh)
#     the benchmark kernel: Debian's linux-source-6.12 (the version of
#     debug-6.12 in tests/vm/kernels.matrix) with
#     tests/bench/bench-kernel.config, the test kernel's options without any
#     debug option, with CMA and dma-buf heaps (system + CMA) for the
#     baselines; booted with a CMA area (cma=384M);
#  1. builds carveout's modules, the benchmark modules (tests/bench/kmod,
#     allocator core compiled in) and the static userspace tool against it;
#  2. runs the host part (fragmentation traces, metadata: tests/bench/host);
#  3. boots the QEMU VM of tests/vm/host/run-vm.sh twice: intel-iommu translating
#     (all in-kernel and userspace benchmarks, idle and after fragmenting
#     memory) and with intel_iommu=off (DMA MAP/UNMAP without translation);
#  4. writes build/bench/report.md, results.csv and SVG plots.
#
# Environment:
#   BENCH_KERNEL=bench (default) | stock: stock = Debian's 6.1 kernel of
#     tests/vm/kernels.matrix (stock-6.1: non-debug, no dma-buf heaps or
#     CMA: those baselines are reported n/a)
#   BENCH_ONLY: a comma-separated subset of the VM's parts to run (default
#     all): meta, fast, large, elastic, user, map, sync, frag (fragment the
#     VM, then run the frag variants of large and elastic where selected);
#     host (the fragmentation traces on the host).  E.g.
#     BENCH_ONLY=elastic,frag BENCH_SKIP_DIRECT=1 for section 2b alone; the
#     report shows the rows of parts not run as missing.
#   BENCH_CMA (default 384M): the cma= size for the bench kernel; with
#     carveout's 320 MiB per node it must fit node 1's 1 GiB
#   COBENCH_REPS (repetitions, default 7), BENCH_SKIP_DIRECT=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/host/lib.sh
. "$here/../vm/host/lib.sh"

out=$build/bench
bash "$here/install-deps.sh"

mkdir -p "$out"
t_start=$(date +%s)
case "${BENCH_KERNEL:-bench}" in
bench)
	log "bench: benchmark kernel (tests/bench/bench-kernel.config; a cold build takes 10-20 min)"
	matrix_load debug-6.12
	kdir=$(bash "$top/tests/vm/host/build-kernel.sh" "$m_package" "$m_version" \
		"$here/bench-kernel.config")
	kernel=$kdir/arch/x86/boot/bzImage
	kver=$(cat "$kdir/include/config/kernel.release")
	kdesc="$kver built from Debian's linux-source-6.12 with tests/bench/bench-kernel.config (non-debug; CMA, dma-buf heaps), booted with cma=${BENCH_CMA:-384M}"
	vm_extra="cma=${BENCH_CMA:-384M}"
	;;
stock)
	kernel_prepare stock-6.1
	kver=$k_kver
	kdir=$k_kdir
	kernel=$k_image
	kdesc="$kver (stock Debian, non-debug; no dma-buf heaps, no CMA)"
	vm_extra=""
	;;
*)
	echo "bench: BENCH_KERNEL must be bench or stock" >&2
	exit 1
	;;
esac

log "bench: building carveout for $kver"
build_modules bench/carveout "$kdir" host
co=$build/bench/carveout

log "bench: building the benchmark modules"
kb=$out/kmod
rm -rf "$kb"
mkdir -p "$kb/module"
cp "$here"/kmod/* "$kb/"
cp "$top"/module/co_buddy*.c "$top"/module/co_slab*.c "$top"/module/*.h "$kb/module/"
cp -r "$top/module/include" "$kb/module/"
cp -r "$top/uapi" "$kb/"
if ! make -C "$kdir" M="$kb" W=1 KBUILD_EXTRA_SYMBOLS="$co/src/Module.symvers" \
		modules >"$kb/build.log" 2>&1 ||
		grep -E '(warning|error):' "$kb/build.log"; then
	tail -n 40 "$kb/build.log"
	exit 1
fi

log "bench: building the userspace tool"
gcc -static -O2 -g -Wall -Wextra -Werror -I"$top/uapi" -I"$top/tests/edu" \
	-o "$out/cobench-user" "$here/user/cobench-user.c"

log "bench: host part (fragmentation traces, metadata)"
mkdir -p "$out/host"
gcc -std=gnu11 -O2 -g -DNDEBUG -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers \
	-I"$top/tests/harness" -include co_internal.h -DKBUILD_MODNAME='"carveout"' \
	-o "$out/host/frag" "$top"/module/co_buddy*.c "$top"/module/co_slab*.c \
	"$top/tests/harness/shim.c" "$here/host/frag.c" -lpthread -lm
if [ -z "${BENCH_ONLY:-}" ] || [[ ",$BENCH_ONLY," == *,host,* ]]; then
	"$out/host/frag" >"$out/host.txt"
else
	: >"$out/host.txt"
fi

log "bench: packing the initramfs"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root,lib/carveout}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$here/vm/init" "$root/init"
install -m 0755 "$here/vm/bench-vm.sh" "$root/lib/carveout/"
cp "$co/ko/carveout.ko" "$co/ko/carveout_edu.ko" "$kb/co_bench.ko" "$kb/co_bench_pin.ko" \
	"$out/cobench-user" "$root/lib/carveout/"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$out/initramfs.cpio.gz"

reps=${COBENCH_REPS:-7}
run_vm() { # NAME TIMEOUT EXTRA_CMDLINE
	local name=$1 tmo=$2 extra=$3
	log "bench: VM '$name' (QEMU TCG, 2 vCPUs, 2 NUMA nodes; console in $out/vm-$name/console.log)"
	bash "$top/tests/vm/host/run-vm.sh" "$kernel" "$out/initramfs.cpio.gz" check \
		"$out/vm-$name" "$tmo" "cobench_mode=$name COBENCH_REPS=$reps COBENCH_ONLY=${BENCH_ONLY:-all} $extra" || true
	if ! grep -q '^END' "$out/vm-$name/results.tap" 2>/dev/null; then
		echo "bench: VM '$name' did not finish; last console lines:" >&2
		tail -n 30 "$out/vm-$name/console.log" >&2
		return 1
	fi
}
run_vm main 1200 "$vm_extra"
if [ -z "${BENCH_SKIP_DIRECT:-}" ]; then
	run_vm direct 300 "intel_iommu=off $vm_extra" || true
fi

host_desc="$(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/report.py" --out "$out" --kernel "$kdesc" --host "$host_desc" \
	--elapsed $(( $(date +%s) - t_start )) \
	"$out/vm-main/results.tap" "$out/vm-direct/results.tap" "$out/host.txt"
log "bench: report in $out/report.md ($out/results.csv, $out/*.svg)"
