#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages carveout's build, tests and demo need, plus
# any extra package names given as arguments (e.g. by make bench).
# Idempotent and quiet: when everything is present it only runs dpkg-query.
set -euo pipefail

pkgs=(
	build-essential make gcc bc flex bison libelf-dev libssl-dev dwarves
	cpio xz-utils kmod sparse
	linux-source-6.12 linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static
	clang llvm libclang-rt-14-dev dkms
	"$@"
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
		"${missing[@]}"; } >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	rm -f "$log"
	echo "install-deps: apt-get failed" >&2
	exit 1
fi
rm -f "$log"
