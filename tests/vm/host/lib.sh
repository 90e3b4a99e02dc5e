#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for carveout's build and VM scripts (sourced).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${CARVEOUT_BUILD:-$top/build}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

cache=${CARVEOUT_CACHE:-/var/cache/carveout}
matrix_file=$top/tests/vm/kernels.matrix

# matrix_lines SET: the kernel matrix entries of SET (check: what make check
# runs; all: every entry), one line each, comments dropped.
matrix_lines() {
	awk -v set="$1" '!/^#/ && NF >= 8 && (set == "all" || $7 == set)' \
		"$matrix_file"
}

# matrix_load NAME: set m_name m_kind m_release m_version m_suite m_userland
# m_set m_package from the matrix entry NAME; fails for an unknown name.
matrix_load() {
	local line
	line=$(awk -v n="$1" '!/^#/ && $1 == n' "$matrix_file")
	[ -n "$line" ] || { echo "no kernel $1 in $matrix_file" >&2; return 1; }
	read -r m_name m_kind m_release m_version m_suite m_userland m_set \
		m_package <<<"$line"
}

# matrix_newest KIND: the name of the KIND entry with the highest package
# version (the first listed among equals).
matrix_newest() {
	local name kind version best='' bestv=0
	while read -r name kind _ version _; do
		[ "$kind" = "$1" ] || continue
		if [ -z "$best" ] || dpkg --compare-versions "$version" gt "$bestv"; then
			best=$name
			bestv=$version
		fi
	done < <(matrix_lines all)
	[ -n "$best" ] || return 1
	echo "$best"
}

# The private apt configuration: Debian's archive with bookworm, trixie,
# trixie-backports and sid, for apt-get download only.  It never touches the
# machine's own sources, lists or package state.
apt_dir=$cache/apt
capt() {
	apt-get -q -o Dir::Etc::SourceList="$apt_dir/etc/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache="$apt_dir/cache" \
		-o APT::Sandbox::User=root "$@"
}

# apt_update: write the private sources and fetch their package lists.
apt_update() {
	local k=/usr/share/keyrings/debian-archive-keyring.gpg s
	mkdir -p "$apt_dir/etc" "$apt_dir/lists/partial" \
		"$apt_dir/cache/archives/partial"
	for s in bookworm trixie trixie-backports sid; do
		echo "deb [signed-by=$k] http://deb.debian.org/debian $s main"
	done >"$apt_dir/etc/sources.list"
	for s in bookworm-security trixie-security; do
		echo "deb [signed-by=$k] http://deb.debian.org/debian-security $s main"
	done >>"$apt_dir/etc/sources.list"
	capt update -qq
}

# fetch_deb PACKAGE VERSION: print the path of PACKAGE_VERSION.deb, kept
# under $cache/debs; downloaded (apt-get download) only when missing, and
# the package lists refreshed only when the download fails.  Serialised:
# make check fetches from two jobs at once.
fetch_deb() {
	mkdir -p "$cache/debs"
	(
		flock 7
		__fetch_deb "$@"
	) 7>"$cache/.lock-apt"
}

__fetch_deb() {
	local f=$cache/debs/${1}_$2.deb tmp
	if [ -s "$f" ]; then
		echo "$f"
		return 0
	fi
	tmp=$(mktemp -d -p "$cache/debs")
	if ! (cd "$tmp" && capt download -qq "$1=$2") >"$tmp/log" 2>&1; then
		if ! { apt_update && (cd "$tmp" && capt download -qq "$1=$2"); } \
				>"$tmp/log" 2>&1; then
			tail -n 5 "$tmp/log" >&2
			echo "fetch_deb: cannot download $1 version $2" >&2
			rm -rf "$tmp"
			return 1
		fi
	fi
	mv "$tmp"/*.deb "$f"
	rm -rf "$tmp"
	echo "$f"
}

# sparse_args KDIR: the make arguments for sparse (C=1) on the tree KDIR.
# Bookworm's sparse 0.6.4 fails the tree's own test (scripts/checker-valid.sh,
# 7.x), so there the check runs sid's sparse (pinned below, unpacked into
# the trixie userland) through sparse.sh.
sparse_pkg=sparse
sparse_version=0.6.5~rc1-2
sparse_args() {
	local kdir=$1 root deb
	if [ ! -f "$kdir/scripts/checker-valid.sh" ] ||
	   [ "$(sh "$kdir/scripts/checker-valid.sh" sparse -m64 2>/dev/null)" = 1 ]; then
		echo "C=1"
		return 0
	fi
	root=$(bash "$top/tests/vm/host/userland.sh" trixie) || return 1
	if [ ! -x "$root/opt/carveout-sparse/usr/bin/sparse" ]; then
		deb=$(fetch_deb "$sparse_pkg" "$sparse_version") || return 1
		rm -rf "$root/opt/carveout-sparse"
		dpkg-deb -x "$deb" "$root/opt/carveout-sparse" || return 1
	fi
	echo "C=1 CHECK=$top/tests/vm/host/sparse.sh CARVEOUT_SPARSE_TREE=$kdir"
}

# build_modules NAME KDIR USERLAND [MAKE_ARGS...]: build carveout's modules
# against KDIR in build/NAME (a copy of the sources, so several kernels can
# be built from one checkout), on the host or inside the userland.sh tree
# USERLAND.  Fails on any compiler or sparse warning.
build_modules() {
	local name=$1 kdir=$2 userland=$3
	shift 3
	local dst=$build/$name run=()
	rm -rf "$dst"
	mkdir -p "$dst/src/tests"
	cp -r "$top/Kbuild" "$top/dkms.conf" "$top/module" "$top/uapi" "$dst/src/"
	cp -r "$top/tests/kunit" "$top/tests/selftest" "$top/tests/edu" "$dst/src/tests/"
	[ "$userland" = host ] ||
		run=(bash "$top/tests/vm/host/userland.sh" "$userland" run "$dst" --)
	if ! "${run[@]}" make -C "$kdir" M="$dst/src" W=1 CARVEOUT_TESTS=1 "$@" \
			modules >"$dst/build.log" 2>&1; then
		tail -n 40 "$dst/build.log"
		return 1
	fi
	if grep -E 'warning:|error:|^.*: (error|warning): |is not available or not up to date' "$dst/build.log" \
			>"$dst/warnings.log"; then
		cat "$dst/warnings.log"
		return 1
	fi
	mkdir -p "$dst/ko"
	find "$dst/src" -name '*.ko' -exec cp {} "$dst/ko/" \;
}

# build_dkms_tree NAME KDIR: build from what a DKMS package ships (Kbuild,
# Makefile, dkms.conf, module/, uapi/; no tests/) against KDIR, which may
# have CONFIG_KUNIT=y: only carveout.ko may come out, and carveout_heap.ko
# where KDIR exports dma_heap_add().
build_dkms_tree() {
	local name=$1 kdir=$2 dst=$build/$1 kos want="./carveout.ko "
	rm -rf "$dst"
	mkdir -p "$dst/src"
	cp -r "$top/Kbuild" "$top/Makefile" "$top/dkms.conf" "$top/module" \
		"$top/uapi" "$dst/src/"
	if ! make -C "$kdir" M="$dst/src" W=1 CARVEOUT_TESTS=1 modules \
			>"$dst/build.log" 2>&1; then
		tail -n 40 "$dst/build.log"
		return 1
	fi
	kos=$(cd "$dst/src" && find . -name '*.ko' | sort | tr '\n' ' ')
	grep -qsw dma_heap_add "$kdir/Module.symvers" &&
		want="./carveout.ko ./carveout_heap.ko "
	[ "$kos" = "$want" ] || { echo "built: $kos, expected: $want"; return 1; }
}

# build_user: the userspace tests and carveoutctl, static (the initramfs
# has no libc), through their own Makefiles; objects under build/user-obj.
build_user() {
	local dst=$build/user
	mkdir -p "$dst"
	make -s -C "$top/userspace" O="$build/user-obj/userspace" static || return 1
	cp "$build/user-obj/userspace/carveoutctl-static" "$dst/carveoutctl"
	make -s -C "$top/tests/user" O="$build/user-obj/tests" static || return 1
	find "$build/user-obj/tests" -maxdepth 1 -type f -perm -u+x \
		\( -name 'test_*' -o -name 'demo_*' \) -exec cp {} "$dst/" \;
	build_kselftests
}

# kselftest_tree: print a directory with the kernel's own selftests
# (tools/testing/selftests) and the uapi headers they build with (usr/,
# from "make headers"), taken from the source package of the matrix's
# newest debug kernel and kept under $cache/kselftests-PACKAGE-VERSION.
# Unpacked once (what make headers needs of the tarball, about 15 s); a
# subshell, so the caller's matrix_load variables stay as they are.
kselftest_tree() (
	local name deb tmp series src dir
	name=$(matrix_newest debug) && matrix_load "$name" || exit 1
	dir=$cache/kselftests-$m_package-$m_version
	series=${m_package#linux-source-}
	mkdir -p "$cache"
	exec 9>"$cache/.lock-kselftests"
	flock 9
	if [ ! -f "$dir/.complete" ]; then
		deb=$(fetch_deb "$m_package" "$m_version") || exit 1
		tmp=$(mktemp -d -p "$cache")
		src=$tmp/linux-source-$series
		# What "make headers" and the selftests do not need stays out.
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO "./usr/src/linux-source-$series.tar.xz" |
			tar -xJ -C "$tmp" \
				--exclude="linux-source-$series/"{drivers,fs,net,sound} \
				--exclude="linux-source-$series/"{Documentation,rust} \
				--exclude="linux-source-$series/tools/perf" \
				--exclude="linux-source-$series/arch/[a-wyz]*" &&
			make -s -C "$src" headers >"$tmp/headers.log" 2>&1 || {
			tail -n 20 "$tmp/headers.log" 2>/dev/null
			echo "kselftest_tree: cannot unpack $m_package $m_version" >&2
			rm -rf "$tmp"
			exit 1
		}
		mkdir -p "$tmp/keep/tools/testing"
		mv "$src/usr" "$tmp/keep/usr"
		mv "$src/tools/testing/selftests" "$tmp/keep/tools/testing/"
		touch "$tmp/keep/.complete"
		rm -rf "$dir"
		mv "$tmp/keep" "$dir"
		rm -rf "$tmp"
	fi
	echo "$dir"
)

# build_kselftests: the kernel's selftests the VM runs (expected.sh
# kselftest), unchanged: NAME is tools/testing/selftests/NAME/*.c built
# as build/user/kselftest-NAME, static, with the flags of the selftests'
# own Makefile (dmabuf-heaps/Makefile, lib.mk: the installed uapi headers
# and the selftests directory for kselftest.h).
build_kselftests() {
	local tree t
	tree=$(kselftest_tree) || return 1
	for t in $("$top/tests/vm/host/expected.sh" kselftest); do
		gcc -static -O3 -Wl,-no-as-needed -Wall -D_GNU_SOURCE= \
			-isystem "$tree/usr/include" \
			-I"$tree/tools/testing/selftests" \
			"$tree/tools/testing/selftests/$t"/*.c \
			-o "$build/user/kselftest-$t" || return 1
	done
}

# kernel_prepare NAME: make the matrix entry NAME ready (fetch, unpack or
# build it; cached, so quick when done before) and set
#   k_image     the kernel image to boot
#   k_kdir      the tree to build modules against (for a userland other than
#               the host's, its path inside that userland)
#   k_userland  host or the userland.sh suite to build in
#   k_kver      the kernel release
# Fails, with the reason on stderr, when any part cannot be had.
kernel_prepare() {
	matrix_load "$1" || return 1
	k_userland=$m_userland
	case "$m_kind" in
	debug)
		k_kdir=$(bash "$top/tests/vm/host/build-kernel.sh" \
			"$m_package" "$m_version") || return 1
		k_image=$k_kdir/arch/x86/boot/bzImage
		k_kver=$(cat "$k_kdir/include/config/kernel.release")
		;;
	stock)
		k_kver=$m_release
		k_image=$cache/kernels/${m_release}_$m_version/vmlinuz
		k_kdir=/usr/src/linux-headers-$m_release
		[ "$m_userland" = host ] && k_kdir=/lib/modules/$m_release/build
		mkdir -p "$cache/kernels"
		(
			flock 8
			stock_image && stock_headers
		) 8>"$cache/.lock-kernels" || return 1
		;;
	*)
		echo "kernel $1: unknown kind $m_kind" >&2
		return 1
		;;
	esac
}

# stock_image: unpack the kernel image of the loaded entry from its .deb.
stock_image() {
	local deb tmp f
	[ -s "$k_image" ] && return 0
	deb=$(fetch_deb "$m_package" "$m_version") || return 1
	tmp=$(mktemp -d -p "$cache/kernels")
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" --wildcards '*vmlinuz*' 2>/dev/null
	f=$(find "$tmp" -type f -name 'vmlinuz*' -path "*$m_release*" | head -n 1)
	if [ -z "$f" ]; then
		echo "kernel $m_name: no vmlinuz of $m_release in $deb" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$(dirname "$k_image")"
	mv "$f" "$k_image"
	rm -rf "$tmp"
}

# stock_headers: the loaded entry's headers, installed on the host (by
# install-deps.sh, pinned) or unpacked into its userland with the common
# headers, kbuild tools and linux-base files (System.map, modules.builtin:
# depmod needs them) they depend on.
stock_headers() {
	local root deb dep have
	if [ "$m_userland" = host ]; then
		have=$(dpkg-query -W -f='${Version}' "linux-headers-$m_release" 2>/dev/null)
		if [ "$have" != "$m_version" ] || [ ! -f "$k_kdir/Makefile" ]; then
			echo "kernel $m_name: linux-headers-$m_release $m_version is not installed (install-deps.sh installs it)" >&2
			return 1
		fi
		return 0
	fi
	root=$(bash "$top/tests/vm/host/userland.sh" "$m_userland") || return 1
	[ -f "$root/var/lib/carveout/prepared-${m_release}_$m_version" ] &&
		[ -f "$root$k_kdir/Makefile" ] && return 0
	deb=$(fetch_deb "linux-headers-$m_release" "$m_version") || return 1
	dpkg-deb -x "$deb" "$root"
	for dep in $(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' |
			awk '{ print $1 }' |
			grep -E '^linux-(headers-.*-common.*|kbuild-.*|base-.+)$'); do
		deb=$(fetch_deb "$dep" "$m_version") || return 1
		dpkg-deb -x "$deb" "$root"
	done
	if [ ! -f "$root$k_kdir/Makefile" ]; then
		echo "kernel $m_name: $k_kdir/Makefile missing after unpacking" >&2
		return 1
	fi
	mkdir -p "$root/var/lib/carveout"
	touch "$root/var/lib/carveout/prepared-${m_release}_$m_version"
}
