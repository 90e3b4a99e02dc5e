/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM's scratch disk: the virtio-blk disk run-vm.sh attaches with
 * serial CO_DISK_SERIAL, the tests' to overwrite.
 */
#ifndef CO_DISK_H
#define CO_DISK_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CO_DISK_SERIAL	"carveout-scratch"

/*
 * Finds the scratch disk (virtio-blk, else brd's ram0, whose I/O completes
 * before its call returns: *@sync set); its device path goes to @path_out.
 * Returns NULL, or why there is none.
 */
static inline const char *co_find_disk(char *path_out, size_t len, int *sync)
{
	char path[300], serial[64];
	struct dirent *e;
	int try, n;
	DIR *d;
	FILE *f;

	for (try = 0; try < 50; try++) {
		d = opendir("/sys/block");
		while (d && (e = readdir(d))) {
			snprintf(path, sizeof(path), "/sys/block/%s/serial",
				 e->d_name);
			f = fopen(path, "r");
			n = f && fgets(serial, sizeof(serial), f) &&
			    !strncmp(serial, CO_DISK_SERIAL, strlen(CO_DISK_SERIAL));
			if (f)
				fclose(f);
			if (n) {
				snprintf(path_out, len, "/dev/%.32s", e->d_name);
				closedir(d);
				return NULL;
			}
		}
		if (d)
			closedir(d);
		if (access("/sys/bus/virtio/drivers/virtio_blk", F_OK))
			break;
		usleep(100 * 1000);	/* the driver is there: wait for the disk */
	}
	if (!access("/dev/ram0", F_OK)) {
		snprintf(path_out, len, "/dev/ram0");
		*sync = 1;
		return NULL;
	}
	if (!access("/sys/bus/virtio/drivers/virtio_blk", F_OK))
		return "virtio_blk is loaded but no disk has serial " CO_DISK_SERIAL;
	return "no block device: the kernel has no virtio-blk driver (CONFIG_VIRTIO_BLK) nor brd (CONFIG_BLK_DEV_RAM)";
}

#endif /* CO_DISK_H */
