#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack the test initramfs: static busybox, /init, the runner and demo
# scripts, carveout's modules, the kernel's own modules the tests need
# (kmods.sh: virtio-blk on stock kernels), the userspace tests and the lists
# of what is expected to run.
#
# Usage: mkinitramfs.sh OUT.cpio.gz MODULE_DIR USER_DIR [EXTRA_FILE...]
#   MODULE_DIR  holds carveout.ko (and carveout_kunit.ko, carveout_splat.ko)
#   USER_DIR    holds the userspace test binaries (test_*) and tools
#   EXTRA_FILE  copied to /lib/carveout (e.g. kernel modules the tests need)
set -euo pipefail

out=$1
mods=$2
user=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
guest=$top/tests/vm/guest

mkdir -p "$(dirname "$out")"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp makes it 0700: unprivileged test users need to reach /dev and /tmp.
chmod 755 "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root,lib/carveout/tests}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$guest/init" "$root/init"
install -m 0755 "$guest/runner.sh" "$guest/demo-vm.sh" "$guest/hostroot.sh" \
	"$root/lib/carveout/"
install -m 0755 "$guest/python3" "$root/bin/python3"
mv "$root/lib/carveout/demo-vm.sh" "$root/lib/carveout/demo.sh"
cp "$mods"/*.ko "$root/lib/carveout/"
# Without them the O_DIRECT tests report a skip: say why here too.
"$here/kmods.sh" "$mods" "$root/lib/carveout/kmod" ||
	echo "mkinitramfs: no block driver modules for this kernel" >&2
for f in "$user"/*; do
	[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$root/lib/carveout/tests/"
done
for f in "$@"; do
	cp "$f" "$root/lib/carveout/"
done

# What the runner runs; the host checks the same lists against the results.
"$here/expected.sh" kunit >"$root/lib/carveout/kunit-suites"
"$here/expected.sh" user >"$root/lib/carveout/user-tests"
"$here/expected.sh" kselftest >"$root/lib/carveout/kselftests"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\ntester:x:1000:1000:tester:/tmp:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ncarveout:x:1000:tester\nnogroup:x:65534:\n' >"$root/etc/group"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$out"
