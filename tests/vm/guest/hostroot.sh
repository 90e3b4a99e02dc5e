#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM: mounts the host's root, which run-vm.sh shares
# read-only over 9p (mount tag hostroot), at /host and makes it a chroot
# with the VM's /dev, /proc, /sys, /tmp and /root, so the host's python3
# and numpy run against the VM's carveout.  Then installs the Python
# package from the host's tree (carveout_src= on the kernel command line,
# bound at /tmp/carveout-src) with pip, offline, into
# /tmp/carveout-python.  The VM's /lib/carveout is at /tmp/carveout.
# Once done, later calls return at once; /bin/python3 (guest/python3)
# calls it before running python3 in the chroot.
#
# Exit: 0 ready; 77 the kernel has no 9p (the reason on the last line);
# 1 anything else failed (the reason on stderr).
H=/host
D=/lib/carveout
PY=/tmp/carveout-python

[ -f $PY/.ready ] && exit 0

fail() {
	echo "hostroot: $*" >&2
	exit 1
}

if ! grep -qw 9p /proc/filesystems; then
	# Stock kernels have 9p as modules (kmods.sh); the runner loaded
	# them already, a shell did not: 9p and what it stands on only.
	for m in $(cat $D/kmod/order 2>/dev/null); do
		case "$m" in
		virtio*|netfs|fscache|9p*) insmod $D/kmod/$m.ko 2>/dev/null ;;
		esac
	done
fi
if ! grep -qw 9p /proc/filesystems ||
   [ ! -d /sys/bus/virtio/drivers/9pnet_virtio ]; then
	echo "no host root: the kernel has no 9p filesystem over virtio (CONFIG_9P_FS, CONFIG_NET_9P_VIRTIO)"
	exit 77
fi

src=
for arg in $(cat /proc/cmdline); do
	case "$arg" in carveout_src=*) src=${arg#carveout_src=} ;; esac
done
[ -n "$src" ] || fail "no carveout_src= on the kernel command line (run-vm.sh)"

if ! grep -q " $H 9p " /proc/mounts; then
	mkdir -p $H /mnt/carveout-src
	mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose \
		hostroot $H || fail "cannot mount the host root (tag hostroot)"
	# The tree first: it may lie under a directory covered below (/tmp,
	# /root), where the host's copy would be hidden.
	mount -o bind "$H$src" /mnt/carveout-src ||
		fail "cannot bind the tree $src"
	mount -o rbind /dev $H/dev || fail "cannot bind /dev"
	mount -o bind /proc $H/proc || fail "cannot bind /proc"
	mount -o rbind /sys $H/sys || fail "cannot bind /sys"
	mount -o bind /tmp $H/tmp || fail "cannot bind /tmp"
	mount -o bind /root $H/root || fail "cannot bind /root"
	mkdir -p /tmp/carveout /tmp/carveout-src
	mount -o bind $D $H/tmp/carveout || fail "cannot bind $D"
	mount -o bind /mnt/carveout-src $H/tmp/carveout-src ||
		fail "cannot bind the tree $src"
fi

# pip with no network (the VM has none): the package's own build backend
# needs nothing beyond make and cc, which the host has.
rm -rf $PY /tmp/carveout-pip.log
t0=$(cut -d. -f1 /proc/uptime)
chroot $H /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp \
	PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8 \
	python3 -m pip install --no-index --no-deps --no-cache-dir \
	--disable-pip-version-check --root-user-action=ignore \
	--target $PY /tmp/carveout-src/userspace/python \
	>/tmp/carveout-pip.log 2>&1 || {
	tail -n 20 /tmp/carveout-pip.log >&2
	fail "pip install of the carveout package failed"
}
touch $PY/.ready
echo "hostroot: package installed in $(($(cut -d. -f1 /proc/uptime) - t0)) s"
