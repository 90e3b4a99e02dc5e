#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a carveout test kernel from a Debian linux-source-X.Y package of an
# exact version, and cache it.
#
# The source .deb is fetched with the private apt configuration (lib.sh
# fetch_deb; never installed), its tarball unpacked and built with the
# host's compiler under $CARVEOUT_CACHE (default /var/cache/carveout), in
# kernel-FRAGMENT-X.Y-KEY, KEY a hash of the fragment's CONFIG_ lines (its
# comments do not count), the package and version and this recipe's
# version (bump "recipe" when a change here must rebuild).  A second run with the same inputs only prints the path.
# External modules build against that tree (it holds Module.symvers).
#
# Every CONFIG_ line of the fragment must survive olddefconfig: an option
# the kernel renamed or dropped would silently leave a hole in the tests.
#
# Usage: build-kernel.sh SOURCE-PACKAGE VERSION [FRAGMENT]
#   e.g. build-kernel.sh linux-source-7.3 7.3.4-1~bpo13+1
# Prints the kernel tree path on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

srcpkg=$1
ver=$2
frag=${3:-$top/tests/vm/kernel.config}
recipe=2
series=${srcpkg#linux-source-}
key=$( { grep -E '^(# )?CONFIG_' "$frag"; echo "$srcpkg $ver $recipe"; } |
	sha256sum | cut -c1-16)
name=$(basename "$frag" .config)
dir=$cache/kernel-$name-$series-$key
tree=$dir/linux

mkdir -p "$cache"
exec 9>"$cache/.lock-$name-$series"
flock 9

if [ -f "$dir/.built" ]; then
	echo "$tree"
	exit 0
fi

deb=$(fetch_deb "$srcpkg" "$ver")
log=$dir/build.log
rm -rf "$dir"
mkdir -p "$dir"
echo "build-kernel: cold build of $name on $srcpkg $ver in $dir; log: $log" >&2
start=$(date +%s)
{
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO "./usr/src/linux-source-$series.tar.xz" |
		tar -xJ -C "$dir"
	mv "$dir/linux-source-$series" "$tree"
	make -C "$tree" allnoconfig
	"$tree"/scripts/kconfig/merge_config.sh -m -O "$tree" "$tree/.config" "$frag"
	make -C "$tree" olddefconfig
} >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }

bad=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	grep -qxF "$line" "$tree/.config" || {
		echo "build-kernel: $line did not survive olddefconfig on $srcpkg $ver" >&2
		bad=1
	}
done <"$frag"
[ $bad -eq 0 ] || exit 1

if ! make -C "$tree" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	exit 1
fi
touch "$dir/.built"
echo "build-kernel: built $srcpkg $ver in $(( $(date +%s) - start )) s" >&2
# Drop older builds of the same fragment and source series.
for old in "$cache"/kernel-"$name"-"$series"-*; do
	[ "$old" = "$dir" ] || rm -rf "$old"
done
echo "$tree"
