#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian userland other than the host's, for building against kernel
# headers whose prebuilt tools (fixdep, modpost, objtool) and compiler
# (gcc-14) come from a newer release than bookworm: Debian's trixie and
# trixie-backports headers need trixie's glibc and gcc.
#
# The tree is made with debootstrap once and cached under
# $CARVEOUT_CACHE/userland-SUITE-KEY (KEY: a hash of the suite, the package
# list and this recipe's version), so later runs only check a marker file.
# Commands run in it through a private mount namespace (unshare -m) and
# chroot: /proc, /dev and the given directories are bind-mounted at their
# own paths, nothing stays mounted afterwards, the host's apt and dpkg state
# are never touched.
#
# Usage: userland.sh SUITE                  prepare; print the root path
#        userland.sh SUITE run DIR... -- CMD...
#                                           run CMD (cwd /) with DIRs bound
#                                           and the CARVEOUT_* environment
set -euo pipefail

suite=$1
shift
cache=${CARVEOUT_CACHE:-/var/cache/carveout}
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# What a Debian external-module build needs (the headers' Depends), plus
# pahole (dwarves) for the BTF of modules, dkms and kmod for the DKMS check.
pkgs=gcc-14,make,libc6-dev,libelf1t64,libssl3t64,dwarves,kmod,dkms,xz-utils
recipe=1
key=$(echo "$suite $pkgs $recipe" | sha256sum | cut -c1-12)
dir=$cache/userland-$suite-$key
root=$dir/root

prepare() {
	local log=$dir/debootstrap.log t0 old
	[ -f "$dir/.built" ] && return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "userland: debootstrap $suite into $root (log: $log)" >&2
	t0=$(date +%s)
	if ! debootstrap --variant=minbase --keyring="$keyring" \
			--include="$pkgs" "$suite" "$root" "$mirror" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		return 1
	fi
	# Kernel header postinst scripts and dkms look for these.
	mkdir -p "$root/lib/modules"
	touch "$dir/.built"
	echo "userland: $suite ready in $(( $(date +%s) - t0 )) s" >&2
	for old in "$cache"/userland-"$suite"-*; do
		[ "$old" = "$dir" ] || rm -rf "$old"
	done
}

mkdir -p "$cache"
exec 9>"$cache/.lock-userland-$suite"
flock 9
prepare
if [ "${1:-}" != run ]; then
	echo "$root"
	exit 0
fi
shift
binds=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	binds+=("$(cd "$1" && pwd)")
	shift
done
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "userland: no command" >&2; exit 2; }
# The lock only guards the preparation; let other builds run in parallel.
exec 9>&-

# Only CARVEOUT_* settings pass into the userland's environment.
envs=()
while IFS= read -r -d '' e; do
	case "$e" in CARVEOUT_*=*) envs+=("$e") ;; esac
done < <(env -0)

# shellcheck disable=SC2016
exec unshare --mount --propagation private -- bash -c '
	set -e
	root=$1; shift
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	while [ "$1" != -- ]; do
		mkdir -p "$root$1"
		mount --bind "$1" "$root$1"
		shift
	done
	shift
	exec chroot "$root" "$@"
' userland "$root" "${binds[@]}" -- /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	"${envs[@]}" "$@"
