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
# Debian's 6.12 kernel headers (a second distro target): any version will
# do; without one, the newest the archive has.
have612=$(dpkg-query -W -f='${Package} ${Status}\n' \
	'linux-headers-6.12.*+deb12-amd64' 2>/dev/null | grep -c ' install ok installed' || true)
[ ${#missing[@]} -eq 0 ] && [ "$have612" -gt 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
apt-get update -qq >"$log" 2>&1 || true
if [ "$have612" -eq 0 ]; then
	h=$(apt-cache search --names-only '^linux-headers-6\.12\..*\+deb12-amd64$' |
		awk '{ print $1 }' | sort -V | tail -n 1)
	[ -n "$h" ] && missing+=("$h")
fi
[ ${#missing[@]} -eq 0 ] && { rm -f "$log"; exit 0; }
echo "install-deps: installing ${missing[*]}"
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>>"$log" 2>&1; then
	tail -n 30 "$log" >&2
	rm -f "$log"
	echo "install-deps: apt-get failed" >&2
	exit 1
fi
rm -f "$log"
