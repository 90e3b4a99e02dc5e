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
#  1. runs the host part once (fragmentation traces, metadata:
#     tests/bench/host);
#  then for each kernel of BENCH_KERNELS (default: the benchmark kernel and
#  the newest stock kernel of tests/vm/kernels.matrix, Debian's 7.3 today):
#  2. builds carveout's modules, the benchmark modules (tests/bench/kmod,
#     allocator core compiled in) and the static userspace tool against it;
#  3. boots the QEMU VM of tests/vm/host/run-vm.sh twice: intel-iommu translating
#     (all in-kernel and userspace benchmarks, idle and after fragmenting
#     memory) and with intel_iommu=off (DMA MAP/UNMAP without translation);
#     a stock kernel built with CONFIG_DMA_CMA is booted with the same cma=;
#  4. writes build/bench/KERNEL/report.md, results.csv and SVG plots;
#  and last build/bench/report.md: the targets of every kernel side by side,
#  then each kernel's report.
#
# Environment:
#   BENCH_KERNELS (default "bench NEWEST-STOCK"): "bench" and/or matrix names
#     of stock kernels (e.g. stock-6.1: Debian's 6.1, no CMA area and no
#     dma-buf heaps: those baselines are reported n/a)
#   BENCH_ONLY: a comma-separated subset of the parts to run, for a
#     quick look at one figure (default all): host (the fragmentation
#     traces, run on the host), meta, fast (slab, pages and the in-kernel
#     API's order-0/4/9), large, elastic, user (userspace
#     alloc+mmap+touch+free against the dma-buf heaps), touch (mmap + first
#     touch of large buffers: page faults), map, sync, frag (fragment the
#     VM, then run the frag variants of large and elastic where selected);
#     e.g. BENCH_ONLY=elastic,frag for section 2b alone, or
#     BENCH_KERNELS=stock-7.3 BENCH_ONLY=fast,user BENCH_SKIP_DIRECT=1.
#     The report marks the rows of parts not run as n/a.
#   BENCH_PROF=fast|user: instead of the benchmarks, a profile on the first
#     kernel of BENCH_KERNELS: the VM runs that part once (user: 4 KiB only)
#     under the function_graph tracer, graphs rooted at the functions of
#     BENCH_PROF_FUNCS (space-separated), BENCH_PROF_DEPTH (default 6)
#     levels deep, and build/bench/KERNEL/profile.txt gets per depth and
#     function the calls and the summed microseconds (tracer overhead
#     included: it weighs every traced call, compare counts and shares
#     rather than absolute times)
#   BENCH_CMA (default 384M): the cma= size; with carveout's 320 MiB per
#     node it must fit node 1's 1 GiB.  A kernel with
#     CONFIG_CMA_SIZE_PERNUMA (Debian's 7.3) would also reserve that size
#     on every node, leaving no room for carveout's regions: it is booted
#     with numa_cma=0:0 (no per-node areas, the default area only)
#   COBENCH_REPS (repetitions, default 7), BENCH_SKIP_DIRECT=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../vm/host/lib.sh
. "$here/../vm/host/lib.sh"

out=$build/bench
bash "$here/install-deps.sh"
mkdir -p "$out"
t_start=$(date +%s)
cma=${BENCH_CMA:-384M}
reps=${COBENCH_REPS:-7}

# prepare NAME: kernel, kver, kdir, kdesc, vm_extra and run (the command
# prefix that builds against kdir) for one entry of BENCH_KERNELS.
prepare() {
	run=()
	case "$1" in
	bench)
		log "bench: benchmark kernel (tests/bench/bench-kernel.config; a cold build takes 10-20 min)"
		matrix_load debug-6.12
		kdir=$(bash "$top/tests/vm/host/build-kernel.sh" "$m_package" \
			"$m_version" "$here/bench-kernel.config")
		kernel=$kdir/arch/x86/boot/bzImage
		kver=$(cat "$kdir/include/config/kernel.release")
		k_userland=host
		kdesc="$kver built from Debian's linux-source-6.12 with tests/bench/bench-kernel.config (non-debug; CMA, dma-buf heaps), booted with cma=$cma"
		vm_extra="cma=$cma"
		;;
	stock-*)
		kernel_prepare "$1"
		kver=$k_kver
		kdir=$k_kdir
		kernel=$k_image
		[ "$k_userland" = host ] ||
			run=(bash "$top/tests/vm/host/userland.sh" "$k_userland" run "$out/$1" --)
		kdesc="$kver ($1 of tests/vm/kernels.matrix: stock Debian $m_package $m_version, non-debug"
		vm_extra=""
		if "${run[@]}" grep -q '^CONFIG_DMA_CMA=y' "$kdir/.config"; then
			vm_extra="cma=$cma"
			if "${run[@]}" grep -q '^CONFIG_CMA_SIZE_PERNUMA=y' "$kdir/.config"; then
				vm_extra+=" numa_cma=0:0"
			fi
			kdesc+="; booted with $vm_extra"
		else
			kdesc+="; no CMA"
		fi
		if ! "${run[@]}" grep -q '^CONFIG_DMABUF_HEAPS_SYSTEM=y' "$kdir/.config"; then
			kdesc+="; no dma-buf heaps"
		fi
		kdesc+=")"
		;;
	*)
		echo "bench: BENCH_KERNELS entries are bench or stock-* matrix names, not '$1'" >&2
		return 1
		;;
	esac
}

# build NAME: carveout, the benchmark modules, the tool and the initramfs.
build() {
	local name=$1 o=$out/$1 kb root
	log "bench: building carveout for $kver"
	build_modules "bench/$name/carveout" "$kdir" "${k_userland:-host}"
	co=$out/$name/carveout

	log "bench: building the benchmark modules"
	kb=$o/kmod
	rm -rf "$kb"
	mkdir -p "$kb/module"
	cp "$here"/kmod/* "$kb/"
	cp "$top"/module/co_buddy*.c "$top"/module/co_slab*.c "$top"/module/*.h "$kb/module/"
	cp -r "$top/module/include" "$kb/module/"
	cp -r "$top/uapi" "$kb/"
	if ! "${run[@]}" make -C "$kdir" M="$kb" W=1 \
			KBUILD_EXTRA_SYMBOLS="$co/src/Module.symvers" \
			modules >"$kb/build.log" 2>&1 ||
			grep -E '(warning|error):' "$kb/build.log"; then
		tail -n 40 "$kb/build.log"
		return 1
	fi

	log "bench: packing the initramfs"
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root,lib/carveout}
	cp /bin/busybox "$root/bin/busybox"
	install -m 0755 "$here/vm/init" "$root/init"
	install -m 0755 "$here/vm/bench-vm.sh" "$root/lib/carveout/"
	cp "$co/ko/carveout.ko" "$co/ko/carveout_edu.ko" "$kb/co_bench.ko" \
		"$kb/co_bench_pin.ko" "$out/cobench-user" "$root/lib/carveout/"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -1 >"$o/initramfs.cpio.gz"
	rm -rf "$root"
}

run_vm() { # NAME MODE TIMEOUT EXTRA_CMDLINE
	local o=$out/$1 mode=$2 tmo=$3 extra=$4
	log "bench: $1: VM '$mode' (QEMU TCG, 2 vCPUs, 2 NUMA nodes; console in $o/vm-$mode/console.log)"
	bash "$top/tests/vm/host/run-vm.sh" "$kernel" "$o/initramfs.cpio.gz" check \
		"$o/vm-$mode" "$tmo" \
		"cobench_mode=$mode COBENCH_REPS=$reps COBENCH_ONLY=${BENCH_ONLY:-all} $extra" || true
	if ! grep -q '^END' "$o/vm-$mode/results.tap" 2>/dev/null; then
		echo "bench: $1: VM '$mode' did not finish; last console lines:" >&2
		tail -n 30 "$o/vm-$mode/console.log" >&2
		return 1
	fi
}

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

host_desc="$(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
kernels=${BENCH_KERNELS:-"bench $(matrix_newest stock)"}
done_=()
for name in $kernels; do
	t_k=$(date +%s)
	mkdir -p "$out/$name"
	prepare "$name"
	build "$name"
	rm -rf "$out/$name/vm-main" "$out/$name/vm-direct"
	if [ -n "${BENCH_PROF:-}" ]; then
		funcs=$(echo "${BENCH_PROF_FUNCS:?BENCH_PROF needs BENCH_PROF_FUNCS}" | tr ' ' ,)
		run_vm "$name" prof 1200 "COBENCH_PROF_PART=$BENCH_PROF COBENCH_PROF_FUNCS=$funcs COBENCH_PROF_DEPTH=${BENCH_PROF_DEPTH:-6} $vm_extra"
		sed -n 's/^T //p' "$out/$name/vm-prof/results.tap" |
			sort -k1,1n -k3,3nr >"$out/$name/profile.txt"
		log "bench: profile in $out/$name/profile.txt"
		exit 0
	fi
	run_vm "$name" main 1200 "$vm_extra" || continue
	if [ -z "${BENCH_SKIP_DIRECT:-}" ]; then
		run_vm "$name" direct 300 "intel_iommu=off $vm_extra" || true
	fi
	python3 "$here/report.py" --out "$out/$name" --kernel "$kdesc" \
		--host "$host_desc, load $(cut -d' ' -f1-3 /proc/loadavg)" \
		--elapsed $(( $(date +%s) - t_k )) \
		"$out/$name/vm-main/results.tap" "$out/$name/vm-direct/results.tap" \
		"$out/host.txt" >/dev/null
	done_+=("$name")
done
[ ${#done_[@]} -gt 0 ] || { echo "bench: no kernel finished" >&2; exit 1; }
python3 "$here/report.py" --combine --out "$out" \
	--elapsed $(( $(date +%s) - t_start )) "${done_[@]/#/$out/}"
log "bench: report in $out/report.md (per kernel: $out/KERNEL/report.md, results.csv, *.svg)"
[ ${#done_[@]} -eq "$(wc -w <<<"$kernels")" ]
