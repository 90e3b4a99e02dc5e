# SPDX-License-Identifier: GPL-2.0
# Shared helpers for carveout's build and VM scripts (sourced).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${CARVEOUT_BUILD:-$top/build}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# The stock Debian kernel: the newest installed -amd64 image with headers.
stock_kver() {
	local v best=
	for v in $(ls /lib/modules 2>/dev/null | LC_ALL=C sort -V); do
		case "$v" in *-amd64) ;; *) continue ;; esac
		[ -f "/boot/vmlinuz-$v" ] && [ -e "/lib/modules/$v/build/Makefile" ] &&
			best=$v
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# Debian's 6.12 kernel headers (newest installed), a second distro target.
deb612_kdir() {
	local d
	d=$(ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null |
		LC_ALL=C sort -V | tail -n 1)
	[ -n "$d" ] && [ -f "$d/Makefile" ] || return 1
	echo "$d"
}

# build_modules NAME KDIR [MAKE_ARGS...]: build carveout's modules against
# KDIR in build/NAME (a copy of the sources, so several kernels can be built
# from one checkout).  Fails on any compiler or sparse warning.
build_modules() {
	local name=$1 kdir=$2
	shift 2
	local dst=$build/$name
	rm -rf "$dst"
	mkdir -p "$dst/src/tests"
	cp -r "$top/Kbuild" "$top/module" "$top/uapi" "$dst/src/"
	cp -r "$top/tests/kunit" "$top/tests/selftest" "$top/tests/edu" "$dst/src/tests/"
	if ! make -C "$kdir" M="$dst/src" W=1 CARVEOUT_TESTS=1 "$@" modules \
			>"$dst/build.log" 2>&1; then
		tail -n 40 "$dst/build.log"
		return 1
	fi
	if grep -E 'warning:|error:|^.*: (error|warning): ' "$dst/build.log" \
			>"$dst/warnings.log"; then
		cat "$dst/warnings.log"
		return 1
	fi
	mkdir -p "$dst/ko"
	find "$dst/src" -name '*.ko' -exec cp {} "$dst/ko/" \;
}

# build_user: the userspace tests and carveoutctl, static (the initramfs
# has no libc).
build_user() {
	local dst=$build/user f
	mkdir -p "$dst"
	if [ -f "$top/userspace/Makefile" ]; then
		make -s -C "$top/userspace" static || return 1
		cp "$top/userspace/build/carveoutctl-static" "$dst/carveoutctl"
	fi
	for f in "$top"/tests/user/test_*.c "$top"/tests/user/demo_*.c; do
		gcc -static -O2 -g -Wall -Wextra -Werror -I"$top/uapi" \
			-I"$top/tests/user" -I"$top/tests/edu" -o "$dst/$(basename "$f" .c)" "$f" \
			-lpthread || return 1
	done
}
