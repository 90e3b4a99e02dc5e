#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian packages make bench needs beyond tests/vm/install-deps.sh (which
# this runs first): python3 for the report.  Idempotent: when everything is
# present it only runs dpkg-query.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../vm/install-deps.sh"

pkgs=(python3 gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "bench install-deps: missing packages: ${missing[*]}" >&2
	echo "bench install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "bench install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
