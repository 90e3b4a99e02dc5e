#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark VM (see tests/bench/run.sh).  Progress to the
# console, result lines (R/NA/M/I) to /dev/ttyS1.
#   main    all in-kernel and userspace benchmarks, IOMMU translating
#   direct  the MAP/UNMAP benchmark only (booted with intel_iommu=off)
#   prof    one part under the function_graph tracer (BENCH_PROF in
#           run.sh): "T depth calls microseconds function" lines
# COBENCH_ONLY (from the command line, see BENCH_ONLY in run.sh): the parts
# of main to run, comma-separated, or all.
mode=$1
L=/lib/carveout
REPS=${COBENCH_REPS:-7}
ONLY=${COBENCH_ONLY:-all}
want() { [ "$ONLY" = all ] || case ",$ONLY," in *",$1,"*) ;; *) false ;; esac; }
res=/dev/ttyS1
say() { echo "cobench-vm: $*"; }
out() { echo "$*" >$res; }

# co_bench.ko runs at load and logs its results; pass them on.
kbench() {
	dmesg -c >/dev/null
	say "co_bench $*"
	insmod $L/co_bench.ko "$@" || say "insmod co_bench $* failed"
	rmmod co_bench 2>/dev/null
	dmesg | sed -n 's/^.*cobench: //p' >$res
}

out "I kernel=$(uname -r) mode=$mode cpus=$(grep -c ^processor /proc/cpuinfo) mem_kb=$(sed -n 's/MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
out "I cmdline=$(cat /proc/cmdline | tr ' ' ',')"
if ! insmod $L/carveout.ko size=320M; then
	say "carveout failed to load"; dmesg | tail -20
	out "I carveout_load=failed"
	exit 1
fi
out "I carveout_region=$(dmesg | grep -i 'carveout' | grep -io 'node [0-9].*' | head -2 | tr ' ' '_' | tr '\n' ';')"
out "I iommu_groups=$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l) edu_iommu_group=$(basename "$(readlink /sys/bus/pci/devices/0000:00:03.0/iommu_group 2>/dev/null)" 2>/dev/null)"
[ -e /dev/dma_heap/system ] && out "I dma_heap_system=yes" || out "I dma_heap_system=no"
out "I dma_heaps=$(ls /dev/dma_heap 2>/dev/null | tr '\n' ',')"
# The default CMA area (cma= on the command line): "Reserved N MiB at 0x..."
cma_mb=$(dmesg | sed -n 's/.*cma: Reserved \([0-9]*\) MiB at \(0x[0-9a-f]*\).*/\1/p' | head -1)
cma_base=$(dmesg | sed -n 's/.*cma: Reserved \([0-9]*\) MiB at \(0x[0-9a-f]*\).*/\2/p' | head -1)
out "I cma_area=${cma_mb:-none}M@${cma_base:-none} meminfo_CmaTotal_kb=$(sed -n 's/CmaTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
cma_args="cma_base=${cma_base:-0} cma_size=$(( ${cma_mb:-0} << 20 ))"

case "$mode" in
prof)
	T=/sys/kernel/debug/tracing
	echo 0 >$T/tracing_on
	echo 65536 >$T/buffer_size_kb
	for f in $(echo $COBENCH_PROF_FUNCS | tr , " "); do echo $f >>$T/set_graph_function; done
	echo ${COBENCH_PROF_DEPTH:-6} >$T/max_graph_depth
	echo function_graph >$T/current_tracer
	echo funcgraph-tail >$T/trace_options
	echo funcgraph-proc >$T/trace_options
	echo nofuncgraph-irqs >$T/trace_options
	echo 1 >$T/tracing_on
	case "$COBENCH_PROF_PART" in
	fast) kbench test=fast reps=1 ;;
	user) COBENCH_SIZES=4K $L/cobench-user user 1 >/dev/null ;;
	esac
	echo 0 >$T/tracing_on
	out "I overrun=$(cat $T/per_cpu/cpu*/stats | sed -n 's/^overrun: //p' | tr '\n' ,)"
	awk -F'|' 'NF >= 3 && $(NF-1) ~ /[0-9] us/ {
		d = $(NF-1); gsub(/[^0-9.]/, "", d); t = $NF; n = t; sub(/[^ ].*/, "", n)
		depth = length(n) / 2; gsub(/^ +/, "", t)
		if (t ~ /^}/) { sub(/.*\/\* /, "", t); sub(/ \*\/.*/, "", t) } else sub(/\(\);.*/, "", t)
		k = depth " " t; c[k]++; s[k] += d }
		END { for (k in c) { split(k, a, " "); printf "T %d %d %.1f %s\n", a[1], c[k], s[k], substr(k, length(a[1]) + 2) } }' $T/trace >$res
	;;
main)
	want meta && kbench test=meta
	want fast && kbench test=fast reps=$REPS
	if want large; then
		kbench test=large reps=7 label=idle $cma_args
		# The same allocations with no clean memory: zeroed at allocation.
		echo 0 >/sys/module/carveout/parameters/prezero
		kbench test=large reps=5 label=idle dirty=1
		echo 1 >/sys/module/carveout/parameters/prezero
	fi
	if want elastic; then
		# From the floor without a ceiling, then with one (first thing
		# test=elastic does): the same allocations back to back.
		kbench test=elastic floor_only=1 reps=5 label=idle
		# Growth above the floor: node 0 may grow to twice its region.
		$L/cobench-user resize 0 640 200 >$res
		kbench test=elastic reps=5 label=idle $cma_args
		$L/cobench-user resize 0 0 1000 >$res
	fi
	say "userspace"
	want user && $L/cobench-user user $REPS >$res
	want touch && $L/cobench-user touch 3 >$res
	want map && $L/cobench-user map $REPS iommu >$res
	# edu as a dma-buf importer for the sync benchmark; out again, so
	# edu has no driver for the benchmarks after it.
	if ! want sync; then
		:
	elif insmod $L/carveout_edu.ko; then
		$L/cobench-user sync $REPS >$res
		rmmod carveout_edu
	else
		out "NA part=sync name=64M_4K impl=all reason=carveout_edu_failed_to_load"
	fi
	if want frag; then
		say "fragmenting"
		dmesg -c >/dev/null
		# pages in the CMA area are not pinned (see tests/bench/kmod/pin.c)
		insmod $L/co_bench_pin.ko every=1024 $cma_args
		dmesg | sed -n 's/^.*cobench: //p' >$res
		rm -f /tmp/ready
		$L/cobench-user frag 320 256 /tmp/ready &
		pid=$!
		i=0
		while [ ! -e /tmp/ready ] && [ $i -lt 600 ]; do sleep 1; i=$((i + 1)); done
		out "M frag_ready=$([ -e /tmp/ready ] && echo yes || echo no) meminfo_free_kb=$(sed -n 's/MemFree: *\([0-9]*\).*/\1/p' /proc/meminfo)"
		cat /proc/buddyinfo | while read -r l; do out "I buddyinfo_frag=$(echo $l | tr ' ' '_')"; done
		out "M frag_CmaFree_kb=$(sed -n 's/CmaFree: *\([0-9]*\).*/\1/p' /proc/meminfo)"
		want large && kbench test=large reps=5 label=frag $cma_args
		if want elastic; then
			kbench test=elastic floor_only=1 reps=5 label=frag
			$L/cobench-user resize 0 640 200 >$res
			kbench test=elastic reps=5 label=frag $cma_args
			$L/cobench-user resize 0 0 1000 >$res
		fi
		kill $pid; wait $pid 2>/dev/null
		rm -f /tmp/cobench-fill
		rmmod co_bench_pin
	fi
	;;
direct)
	$L/cobench-user map $REPS direct >$res
	;;
esac
rmmod carveout
out "END"
say "done"
