#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel modules of a stock kernel the tests need in the VM: the
# virtio-blk driver for the scratch disk run-vm.sh attaches (O_DIRECT
# tests), with the virtio PCI transport where Debian builds that as modules
# too (6.1), vgem, the DRM driver the kernel's dmabuf-heaps selftest
# imports buffers into, the other consumers test_consumers drives
# (vfio-pci with the type1 IOMMU backend, the vivid V4L2 test driver), and
# 9p over virtio with netfs (and fscache, where separate) for the host
# root the Python tests use (guest/hostroot.sh);
# each with the modules it depends on.  The kernel is the one carveout.ko in KO_DIR was built for (its
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
	drivers/virtio/virtio_pci drivers/block/virtio_blk
	drivers/gpu/drm/vgem/vgem
	drivers/vfio/vfio drivers/vfio/vfio_iommu_type1
	drivers/vfio/pci/vfio-pci drivers/media/test-drivers/vivid/vivid
	fs/9p/9p net/9p/9pnet net/9p/9pnet_virtio fs/netfs/netfs
	fs/fscache/fscache"

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

# decompress FILE: a module's bytes, whatever Debian compressed it with.
decompress() {
	case "$1" in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}

# unpack: extract the wanted modules, and those they depend on that the
# package holds (the others are built in), decompressed into $kdir;
# .complete lists what was wanted, so a longer list unpacks again.
unpack() {
	local deb tmp list m f d p paths='' more
	deb=$(fetch_deb "$pkg" "$ver") || return 1
	if ! has_modules "$deb"; then
		deb=$(fetch_deb "linux-modules-$rel" "$ver") || return 1
		has_modules "$deb" || {
			echo "kmods: no virtio_blk module for $rel" >&2
			return 1
		}
	fi
	list=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | grep '/kernel/.*\.ko')
	for m in $wanted; do
		paths="$paths $(echo "$list" | grep -m 1 "/kernel/$m\.ko" || true)"
	done
	tmp=$(mktemp -d -p "$cache/kernels")
	mkdir -p "$tmp/x" "$tmp/kmod"
	while [ -n "${paths// /}" ]; do
		# shellcheck disable=SC2086 # one member name per word
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" $paths
		while IFS= read -r f; do
			m=$(basename "$f")
			m=${m%%.ko*}
			[ -f "$tmp/kmod/$m.ko" ] || decompress "$f" >"$tmp/kmod/$m.ko"
		done < <(find "$tmp/x" -name '*.ko*')
		more=''
		for f in "$tmp"/kmod/*.ko; do
			for d in $(modinfo -F depends "$f" | tr , ' '); do
				[ -f "$tmp/kmod/$d.ko" ] && continue
				p=$(echo "$list" | grep -m 1 -E "/${d//[-_]/[-_]}\.ko" || true)
				# Not in the package: built in.
				if [ -n "$p" ] && [ ! -e "$tmp/x/$p" ] &&
				   [ "${more/ $p /}" = "$more" ]; then
					more="$more $p "
				fi
			done
		done
		paths=$more
	done
	printf '%s\n' "$wanted" >"$tmp/kmod/.complete"
	rm -rf "$kdir"
	mkdir -p "$(dirname "$kdir")"
	mv "$tmp/kmod" "$kdir"
	rm -rf "$tmp"
}

(
	flock 8
	[ "$(cat "$kdir/.complete" 2>/dev/null)" = "$wanted" ] || unpack
) 8>"$cache/.lock-kernels"
mkdir -p "$dst"
cp "$kdir"/*.ko "$dst/"
load_order "$dst" >"$dst/order"
