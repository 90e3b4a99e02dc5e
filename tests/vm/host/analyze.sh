#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Judge one VM run from its logs: add up the runner's TAP results, check
# that every expected suite and test ran, that the runner finished, and that
# the console shows no kernel splat.  The console part after
# CARVEOUT-SELFTEST-BEGIN holds a deliberate splat, which must be detected
# (it proves the scanner works) and is not held against the run.
#
# Usage: analyze.sh OUT_DIR KUNIT(0|1) QEMU_STATUS [ONLY]
#   KUNIT: 1 for a debug kernel: every KUnit suite and the kmemleak scan
#   must have reported
#   ONLY: comma-separated user tests (or kselftests, expected.sh kselftest)
#   that must be present instead of all
# Prints the results and a last line "COUNTS pass fail skip".
set -uo pipefail

dir=$1
want_kunit=$2
qemu_rc=$3
only=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
tap=$dir/results.tap
con=$dir/console.log

pass=0
fail=0
skip=0
bad() {
	echo "not ok - $*"
	fail=$((fail + 1))
}
good() {
	echo "ok - $*"
	pass=$((pass + 1))
}

# Splats: KASAN, lockdep, WARN, BUG, Oops, kmemleak, DMA-API debug, UBSAN,
# RCU stalls, hung tasks, list and refcount corruption.
splat_re='(BUG:|WARNING:|Oops|kernel BUG at|general protection fault|Kernel panic|UBSAN:|KASAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|unreferenced object 0x|DMA-API: .*(disabling|fail)|Call Trace:|self-detected stall|rcu_preempt detected stalls|list_(add|del) corruption|refcount_t: |BUG kmalloc|Poison overwritten|Redzone)'

[ -f "$con" ] || touch "$con"
[ -f "$tap" ] || touch "$tap"
tr -d '\r' <"$con" >"$dir/console.txt"
tr -d '\r' <"$tap" >"$dir/results.txt"

if [ "$qemu_rc" = 0 ]; then
	good "vm: powered off in time"
else
	bad "vm: did not power off cleanly (status $qemu_rc; 124 = timeout)"
	[ -s "$dir/qemu.log" ] && tail -n 5 "$dir/qemu.log" | sed 's/^/    # qemu: /'
fi
if grep -qx 'CARVEOUT-END' "$dir/results.txt"; then
	good "vm: runner finished"
else
	bad "vm: runner did not finish"
fi

# Top-level results with their leaf counts.
while IFS= read -r line; do
	case "$line" in
	"ok "*|"not ok "*) ;;
	*) continue ;;
	esac
	echo "$line"
	p=$(echo "$line" | sed -n 's/.*# pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\)$/\1/p')
	f=$(echo "$line" | sed -n 's/.*# pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\)$/\2/p')
	s=$(echo "$line" | sed -n 's/.*# pass:\([0-9]*\) fail:\([0-9]*\) skip:\([0-9]*\)$/\3/p')
	if [ -z "$p" ]; then
		p=0; f=1; s=0
	fi
	case "$line" in "not ok "*) [ "$f" -gt 0 ] || f=1 ;; esac
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
done <"$dir/results.txt"

# Every expected suite and test must have reported.
check_present() {
	local what=$1
	if grep -qE "^(not )?ok [0-9]+ - $what #" "$dir/results.txt"; then
		good "present: $what"
	else
		bad "missing: $what did not run"
	fi
}
if [ "$want_kunit" = 1 ]; then
	check_present "kmemleak:scan"
	for s in $("$here/expected.sh" kunit); do
		check_present "kunit:$s"
	done
fi
kselftests=" $("$here/expected.sh" kselftest | tr '\n' ' ') "
if [ -n "$only" ]; then
	users=$(echo "$only" | tr ',' ' ')
else
	users="$("$here/expected.sh" user) $kselftests $("$here/expected.sh" python)"
fi
for t in $users; do
	case "$kselftests" in
	*" $t "*) check_present "kselftest:$t" ;;
	*) if [ "$t" = python ]; then
		check_present "python:carveout"
	   else
		check_present "user:$t"
	   fi ;;
	esac
done

# Splat scan of the main part of the console log.
awk '/CARVEOUT-SELFTEST-BEGIN/ { exit } { print }' "$dir/console.txt" \
	>"$dir/console-main.txt"
if grep -nE "$splat_re" "$dir/console-main.txt" >"$dir/splats.txt"; then
	bad "console: kernel splat (see $dir/splats.txt)"
	head -n 20 "$dir/splats.txt" | sed 's/^/    # /'
else
	good "console: no kernel splat"
fi

# The harness self-test: the deliberate splat must be seen.
awk '/CARVEOUT-SELFTEST-BEGIN/ { on = 1 } on { print }' "$dir/console.txt" \
	>"$dir/console-selftest.txt"
if grep -qE "$splat_re" "$dir/console-selftest.txt" &&
   grep -q 'deliberate splat' "$dir/console-selftest.txt"; then
	good "selftest: the splat scanner catches a deliberate WARN"
else
	bad "selftest: the deliberate splat was not detected"
fi

echo "COUNTS $pass $fail $skip"
