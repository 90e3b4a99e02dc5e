#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel modules of a stock kernel the tests need in the VM: the
# virtio-blk driver for the scratch disk run-vm.sh attaches (O_DIRECT
# tests), with the virtio PCI transport where Debian builds that as modules
# too (6.1).  The kernel is the one carveout.ko in KO_DIR was built for (its
# vermagic), looked up among the stock entries of tests/vm/kernels.matrix;
# the modules come from that entry's image package, or from
# linux-modules-RELEASE when the image package holds none (7.x), fetched
# like the image (fetch_deb) and kept decompressed under
# cache/kernels/RELEASE_VERSION/kmod.  Debug kernels build in what they
# need: nothing is added for them.
#
# Usage: kmods.sh KO_DIR OUT_DIR
#   copies the modules to OUT_DIR with OUT_DIR/order, their load order
#   (each after those it depends on; modules the kernel has built in are
#   not there)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ko_dir=$1
dst=$2
wanted="drivers/virtio/virtio drivers/virtio/virtio_ring
	drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
	drivers/virtio/virtio_pci drivers/block/virtio_blk"

rel=$(modinfo -F vermagic "$ko_dir/carveout.ko" | awk '{ print $1 }')
read -r ver pkg < <(awk -v r="$rel" '!/^#/ && $2 == "stock" && $3 == r {
	print $4, $8; exit }' "$matrix_file") || exit 0
kdir=$cache/kernels/${rel}_$ver/kmod

# has_modules DEB: does DEB hold the kernel's virtio_blk module?
has_modules() {
	dpkg-deb -c "$1" | grep '/kernel/drivers/block/virtio_blk\.ko' >/dev/null
}

# load_order DIR: the modules of DIR, each after those of DIR it depends on.
load_order() {
	local left next m d ready loaded=" "
	left=$(cd "$1" && ls -- *.ko | sed 's/\.ko$//' | tr '\n' ' ')
	while [ -n "${left// /}" ]; do
		next=
		for m in $left; do
			ready=1
			for d in $(modinfo -F depends "$1/$m.ko" | tr , ' '); do
				if [ -f "$1/$d.ko" ] && [ "${loaded#* $d }" = "$loaded" ]; then
					ready=0
				fi
			done
			if [ $ready = 1 ]; then
				echo "$m"
				loaded="$loaded$m "
			else
				next="$next$m "
			fi
		done
		if [ "$next" = "$left" ]; then
			echo "kmods: cannot order $left" >&2
			return 1
		fi
		left=$next
	done
}

# unpack: extract and decompress the wanted modules into $kdir.
unpack() {
	local deb tmp m f
	deb=$(fetch_deb "$pkg" "$ver") || return 1
	if ! has_modules "$deb"; then
		deb=$(fetch_deb "linux-modules-$rel" "$ver") || return 1
		has_modules "$deb" || {
			echo "kmods: no virtio_blk module for $rel" >&2
			return 1
		}
	fi
	tmp=$(mktemp -d -p "$cache/kernels")
	mkdir -p "$tmp/x" "$tmp/kmod"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards \
		'*/kernel/drivers/virtio/virtio*.ko*' \
		'*/kernel/drivers/block/virtio_blk.ko*'
	for m in $wanted; do
		f=$(find "$tmp/x" -path "*/kernel/$m.ko*" | head -n 1)
		[ -n "$f" ] || continue		# built in
		case "$f" in
		*.xz) xz -dc "$f" ;;
		*.zst) zstd -qdc "$f" ;;
		*.gz) gzip -dc "$f" ;;
		*) cat "$f" ;;
		esac >"$tmp/kmod/$(basename "$m").ko"
	done
	touch "$tmp/kmod/.complete"
	rm -rf "$kdir"
	mkdir -p "$(dirname "$kdir")"
	mv "$tmp/kmod" "$kdir"
	rm -rf "$tmp"
}

(
	flock 8
	[ -f "$kdir/.complete" ] || unpack
) 8>"$cache/.lock-kernels"
mkdir -p "$dst"
cp "$kdir"/*.ko "$dst/"
load_order "$dst" >"$dst/order"
