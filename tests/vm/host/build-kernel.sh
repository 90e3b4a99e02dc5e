#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the carveout test kernel from Debian's linux-source-6.12 and cache it.
#
# The kernel tree is unpacked and built under $CARVEOUT_CACHE (default
# /var/cache/carveout), in a directory keyed by a hash of the config fragment,
# this script and the source package version, so a second run with the same
# inputs only prints the path.  External modules build against that tree
# (it holds Module.symvers).
#
# Usage: build-kernel.sh [FRAGMENT]   prints the kernel tree path on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=${1:-$here/../kernel.config}
cache=${CARVEOUT_CACHE:-/var/cache/carveout}
tarball=/usr/src/linux-source-6.12.tar.xz
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$( { cat "$frag" "$0"; echo "$ver"; } | sha256sum | cut -c1-16)
name=$(basename "$frag" .config)
dir=$cache/kernel-$name-$key
tree=$dir/linux

mkdir -p "$cache"
exec 9>"$cache/.lock-$name"
flock 9

if [ -f "$dir/.built" ]; then
	echo "$tree"
	exit 0
fi

log=$dir/build.log
rm -rf "$dir"
mkdir -p "$dir"
echo "build-kernel: cold build of $name ($ver) in $dir; log: $log" >&2
start=$(date +%s)
{
	tar -C "$dir" -xf "$tarball"
	mv "$dir"/linux-source-6.12 "$tree"
	make -C "$tree" allnoconfig
	"$tree"/scripts/kconfig/merge_config.sh -m -O "$tree" "$tree/.config" "$frag"
	make -C "$tree" olddefconfig
} >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }

# A fragment option that did not survive olddefconfig is a silent hole in
# the test coverage: refuse to build with it.
bad=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	grep -qxF "$line" "$tree/.config" || {
		echo "build-kernel: $line did not survive olddefconfig" >&2
		bad=1
	}
done <"$frag"
[ $bad -eq 0 ] || exit 1

if ! make -C "$tree" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	exit 1
fi
touch "$dir/.built"
echo "build-kernel: built in $(( $(date +%s) - start )) s" >&2
# Drop older builds of the same fragment.
for old in "$cache"/kernel-"$name"-*; do
	[ "$old" = "$dir" ] || rm -rf "$old"
done
echo "$tree"
