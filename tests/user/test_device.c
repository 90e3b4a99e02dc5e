// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/carveout device node, its permissions, the INFO ioctl and the
 * generic argument rules every command follows.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/carveout.h>

#include "tap.h"

int main(void)
{
	struct carveout_info info;
	struct stat st;
	char big[sizeof(info) + 16];
	int fd, ret;

	tap_plan_begin("carveout device node and INFO");

	ret = stat("/dev/carveout", &st);
	if (!tap_ok(ret == 0 && S_ISCHR(st.st_mode), "/dev/carveout is a character device"))
		tap_bail("no device node");
	tap_ok((st.st_mode & 0777) == 0600 && st.st_uid == 0,
	       "default mode 0600 owned by root (mode %o uid %u)",
	       st.st_mode & 0777, st.st_uid);
	tap_ok(stat("/sys/kernel/debug/carveout/summary", &st) == 0,
	       "debugfs summary exists");

	fd = open("/dev/carveout", O_RDWR | O_CLOEXEC);
	if (!tap_ok(fd >= 0, "open /dev/carveout"))
		tap_bail("cannot open: %s", strerror(errno));

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ret = ioctl(fd, CARVEOUT_IOC_INFO, &info);
	tap_ok(ret == 0, "INFO succeeds");
	tap_ok(info.page_size == (unsigned int)sysconf(_SC_PAGESIZE),
	       "INFO page_size %u matches the system page size", info.page_size);
	tap_ok(info.size == sizeof(info), "INFO leaves the size field alone");
	tap_ok(info.caps & CARVEOUT_CAP_PHYS, "root sees CARVEOUT_CAP_PHYS");

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = 1;
	ret = ioctl(fd, CARVEOUT_IOC_INFO, &info);
	tap_errno(ret, EINVAL, "INFO with unknown flags");

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.caps = 1;
	ret = ioctl(fd, CARVEOUT_IOC_INFO, &info);
	tap_errno(ret, EINVAL, "INFO with a non-zero output field");

	memset(&info, 0, sizeof(info));
	info.size = CARVEOUT_INFO_MIN_SIZE - 8;
	ret = ioctl(fd, CARVEOUT_IOC_INFO, &info);
	tap_errno(ret, EINVAL, "INFO with a size below its minimum");

	memset(big, 0, sizeof(big));
	((struct carveout_info *)big)->size = sizeof(big);
	ret = ioctl(fd, CARVEOUT_IOC_INFO, big);
	tap_ok(ret == 0, "INFO with a larger zero-padded structure");
	memset(big, 0, sizeof(big));
	((struct carveout_info *)big)->size = sizeof(big);
	big[sizeof(big) - 1] = 1;
	ret = ioctl(fd, CARVEOUT_IOC_INFO, big);
	tap_errno(ret, E2BIG, "INFO with unknown non-zero trailing bytes");

	ret = ioctl(fd, CARVEOUT_IOC_INFO, (void *)16);
	tap_errno(ret, EFAULT, "INFO with a bad pointer");

	ret = ioctl(fd, _IO(CARVEOUT_IOC_MAGIC, 0x7f), &info);
	tap_errno(ret, ENOTTY, "unknown command");
	ret = ioctl(fd, _IOWR(CARVEOUT_IOC_MAGIC, 0x00, struct carveout_info), &info);
	tap_errno(ret, ENOTTY, "a size-encoded number of the 0.1 ABI");

	close(fd);
	return tap_finish();
}
