// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: where and how an argument structure is passed (size-field
 * variants, faulting and read-only placements), and device names.
 * See fuzz.h.
 */
#define _GNU_SOURCE
#include "fuzz.h"

char *arena;		/* ARENA_RW bytes then a PROT_NONE page */
char *ro_page;		/* toggled read-only around a call */
char *none_page;	/* always PROT_NONE */

void pick_argvar(struct argvar *v, size_t ksize, size_t min)
{
	int r = rr(1000);

	memset(v, 0, sizeof(*v));
	v->usize = ksize;
	v->min = min;
	v->place = PL_NORMAL;
	if (r < 880)
		return;
	if (r < 890) {
		v->usize = rr(min);			/* below the minimum */
	} else if (r < 900) {
		v->usize = min + rr(ksize - min + 1);	/* an older caller */
	} else if (r < 930) {
		v->usize = ksize + 1 + rr(r < 915 ? 16 : 3000);	/* zero tail */
	} else if (r < 950) {
		v->usize = ksize + 1 + rr(64);		/* garbage tail */
		v->garbage = 1;
		v->gpos = ksize + rr(v->usize - ksize);
		v->gval = 1 + rr(255);
	} else if (r < 960) {
		v->usize = r & 1 ? 0xffffffffU : (1U << 20) + rr(1000);
	} else if (r < 970) {
		v->place = PL_EDGE;
	} else if (r < 980) {
		v->place = PL_CROSS;
	} else if (r < 993) {
		v->place = PL_RO;
	} else {
		v->place = PL_NULL;
	}
}

/*
 * The error the argument alone causes, 0 if none.  Commands read the size,
 * then the struct and its tail (copy_struct_from_user() semantics): below
 * the command's minimum EINVAL, a non-zero unknown tail E2BIG.
 */
int argvar_err(const struct argvar *v, size_t ksize)
{
	(void)ksize;
	if (v->place == PL_NULL)
		return EFAULT;
	if (v->usize < v->min)
		return EINVAL;
	if (v->place == PL_CROSS || v->usize > ARENA_RW)
		return EFAULT;
	if (v->garbage)
		return E2BIG;
	return 0;
}

/*
 * Issues @cmd on @fd (of this process) with @st (ksize bytes) placed as @v
 * says; returns 0/errno.
 */
int local_call(int fd, unsigned long cmd, void *st, size_t ksize,
	       const struct argvar *v)
{
	size_t n = v->usize > ARENA_RW ? ARENA_RW : v->usize;
	char *p;
	int ret, err;

	if (n < ksize)
		n = ksize;
	switch (v->place) {
	case PL_NULL:
		ret = ioctl(fd, cmd, NULL);
		return ret ? errno : 0;
	case PL_RO:
		memcpy(ro_page, st, ksize);
		*(uint32_t *)ro_page = v->usize;
		mprotect(ro_page, PG, PROT_READ);
		ret = ioctl(fd, cmd, ro_page);
		err = errno;
		mprotect(ro_page, PG, PROT_READ | PROT_WRITE);
		memcpy(st, ro_page, ksize);
		return ret ? err : 0;
	case PL_EDGE:
		p = arena + ARENA_RW - ksize;
		n = ksize;
		break;
	case PL_CROSS:
		p = arena + ARENA_RW - ksize + 8;
		memcpy(p, st, ksize - 8);
		*(uint32_t *)p = v->usize;
		ret = ioctl(fd, cmd, p);
		return ret ? errno : 0;
	default:
		p = arena;
		break;
	}
	memset(p, 0, n);
	memcpy(p, st, ksize);
	*(uint32_t *)p = v->usize;
	if (v->garbage)
		p[v->gpos] = v->gval;
	ret = ioctl(fd, cmd, p);
	err = errno;
	memcpy(st, p, ksize);
	return ret ? err : 0;
}

/*
 * The same on file slot @f, in whichever process holds its fd.  A command
 * that writes an array (@out, @outlen bytes; static, so at the same
 * address in the helper) gets the helper's copy back.
 */
int call_out(int f, unsigned long cmd, void *st, size_t ksize,
	     const struct argvar *v, void *out, size_t outlen)
{
	if (files[f].who == W_SELF)
		return local_call(files[f].fd, cmd, st, ksize, v);
	return x_call(files[f].fd, cmd, st, ksize, v, out, outlen);
}

int call(int f, unsigned long cmd, void *st, size_t ksize,
	 const struct argvar *v)
{
	return call_out(f, cmd, st, ksize, v, NULL, 0);
}

/* -------------------------------------------------------------------- */
/* Device names                                                          */

int pick_devname(char *name)
{
	int r = rr(100), k, i;

	memset(name, 0, CARVEOUT_DEV_NAME_LEN);
	if (r < 70)
		k = DN_EDU;
	else if (r < 76)
		k = DN_PCI_EDU;
	else if (r < 82)
		k = DN_EDU_TAIL;
	else if (r < 88)
		k = DN_GARBAGE;
	else if (r < 92)
		k = DN_EMPTY;
	else if (r < 96)
		k = DN_UNTERM;
	else
		k = DN_PLATFORM;
	switch (k) {
	case DN_EDU:
		strcpy(name, CO_EDU_PCI);
		break;
	case DN_PCI_EDU:
		strcpy(name, "pci:" CO_EDU_PCI);
		break;
	case DN_EDU_TAIL:	/* bytes after the NUL do not count */
		strcpy(name, CO_EDU_PCI);
		for (i = strlen(CO_EDU_PCI) + 1; i < CARVEOUT_DEV_NAME_LEN; i++)
			name[i] = 'a' + rr(26);
		break;
	case DN_GARBAGE:
		name[0] = 'q';
		for (i = 1; i < 1 + (int)rr(CARVEOUT_DEV_NAME_LEN - 2); i++)
			name[i] = 'a' + rr(26);
		break;
	case DN_UNTERM:
		for (i = 0; i < CARVEOUT_DEV_NAME_LEN; i++)
			name[i] = 'a' + rr(26);
		break;
	case DN_PLATFORM:
		strcpy(name, "platform:nosuchdev");
		break;
	}
	return k;
}

/* Error of a device name for MAP/UNMAP or the DEVICE policy. */
int devname_err(int k, int *lookup)
{
	*lookup = 0;
	switch (k) {
	case DN_UNTERM:
		return EINVAL;
	case DN_EMPTY:
		return -1;	/* MAP: EINVAL; DEVICE policy: ENODEV */
	case DN_GARBAGE:
	case DN_PLATFORM:
		*lookup = ENODEV;
		return 0;
	default:
		return 0;
	}
}
