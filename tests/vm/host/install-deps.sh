#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages carveout's build, tests and demo need, plus
# any extra package names given as arguments (e.g. by make bench), and the
# exact headers of every kernel of tests/vm/kernels.matrix built on the
# host (linux-headers-RELEASE=VERSION).  Kernels themselves are never
# installed: prepare-kernels.sh fetches and unpacks them under the cache.
# Idempotent and quiet: when everything is present it only runs dpkg-query.
#
# Usage: install-deps.sh [--kernels SET] [PACKAGE...]
#   --kernels SET  then prepare the matrix kernels of SET (check or all)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kset=
if [ "${1:-}" = --kernels ]; then
	kset=$2
	shift 2
fi

pkgs=(
	build-essential make gcc bc flex bison libelf-dev libssl-dev dwarves
	cpio xz-utils kmod sparse debootstrap
	qemu-system-x86 busybox-static
	clang llvm libclang-rt-14-dev dkms
	python3 python3-numpy python3-pip python3-setuptools
	"$@"
)
# Pinned headers: NAME=VERSION, checked by their installed version.
while read -r _ kind release version _ userland _; do
	[ "$kind" = stock ] && [ "$userland" = host ] &&
		pkgs+=("linux-headers-$release=$version")
done < <(matrix_lines all)

missing=()
for p in "${pkgs[@]}"; do
	want=
	case "$p" in *=*) want=${p#*=} ;; esac
	st=$(dpkg-query -W -f='${Status}/${Version}' "${p%%=*}" 2>/dev/null || true)
	if [ "${st%%/*}" != "install ok installed" ] ||
	   { [ -n "$want" ] && [ "${st#*/}" != "$want" ]; }; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	logf=$(mktemp)
	apt-get update -qq >"$logf" 2>&1 || true
	echo "install-deps: installing ${missing[*]}"
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>>"$logf" 2>&1; then
		tail -n 30 "$logf" >&2
		rm -f "$logf"
		echo "install-deps: apt-get failed" >&2
		exit 1
	fi
	rm -f "$logf"
fi

[ -z "$kset" ] || bash "$top/tests/vm/host/prepare-kernels.sh" "$kset"
