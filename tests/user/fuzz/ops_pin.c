// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: page pins.  A pin takes page references from outside the
 * module through a mapping: vmsplice() of a range into a pipe (kept for a
 * random while), or an io_uring fixed-buffer registration of the range
 * (raw system calls; Linux before 6.3 refuses file-backed buffers with
 * EOPNOTSUPP, counted as unsupported).  Right after pinning, the owner
 * often lets go of the buffer: unmaps the mapping, FREEs the handle or
 * closes the file.  The module must then hold the memory back (counted in
 * STATS, charged) until the pin goes; no other owner may get those pages.
 * When the pin is released its bytes are read back (the pipe's contents,
 * or the fixed buffer written to a memfd with IORING_OP_WRITE_FIXED) and
 * judged by the cross-owner checker: the pinning owner's pattern (or
 * zeros if it never wrote one), never another owner's bytes and never a
 * newer buffer's zeros.  A fixed buffer is also written through with
 * IORING_OP_READ_FIXED (the owner's own pattern again): had the pages
 * reached another owner, the write would show up in its buffer.
 *
 * lpin_*() work in the calling process (ours, the helper's, a fork
 * child's); the model's pins[] say which process holds each pin.
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "../co_ring.h"
#include "fuzz.h"

unsigned long n_pin_splice, n_pin_uring, n_pin_unsupp, n_pin_refused;
unsigned long n_pin_letgo, n_pin_fill, n_pin_read, n_pin_bytes, n_pin_quick;
const char *uring_why;

/* -------------------------------------------------------------------- */
/* Pins in this process                                                  */

static struct lpin {
	int used, kind;
	int rfd, wfd;		/* the pipe */
	struct ring r;		/* the ring, its one fixed buffer */
	int memfd;
	char *addr;
	size_t len;
} lpins[2 * MAXP];

static int lpin_splice(struct lpin *p, char *addr, size_t len, size_t *got)
{
	int pfd[2];
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	ssize_t r;

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	p->rfd = pfd[0];
	p->wfd = pfd[1];
	while (iov.iov_len) {
		r = vmsplice(p->wfd, &iov, 1, SPLICE_F_NONBLOCK);
		if (r <= 0)
			break;
		iov.iov_base = (char *)iov.iov_base + r;
		iov.iov_len -= r;
		*got += r;
	}
	if (*got)
		return 0;
	r = errno;
	close(p->rfd);
	close(p->wfd);
	return -(int)r;
}

static int lpin_register(struct lpin *p, char *addr, size_t len, size_t *got)
{
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	int ret;

	ret = ring_setup(&p->r);
	if (ret)
		return ret;
	if (syscall(__NR_io_uring_register, p->r.fd, IORING_REGISTER_BUFFERS,
		    &iov, 1)) {
		ret = -errno;
		ring_unmap(&p->r);
		close(p->r.fd);
		return ret;
	}
	p->memfd = memfd_create("fuzz-pin", MFD_CLOEXEC);
	*got = len;
	return 0;
}

/*
 * Pins [@addr, @addr + @len) of a mapping in this process; *@got: the
 * bytes pinned (a pipe may take fewer).  Returns the pin's id or -errno.
 */
int lpin_take(int kind, char *addr, size_t len, size_t *got)
{
	struct lpin *p;
	int i, ret;

	*got = 0;
	for (i = 0; i < 2 * MAXP && lpins[i].used; i++)
		;
	if (i == 2 * MAXP)
		return -ENOSPC;
	p = &lpins[i];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->memfd = -1;
	ret = kind == PIN_PIPE ? lpin_splice(p, addr, len, got) :
				 lpin_register(p, addr, len, got);
	if (ret)
		return ret;
	p->used = 1;
	p->addr = addr;
	p->len = *got;
	return i;
}

/*
 * The pinned bytes, @len of them, into @dst: what the pipe holds (read
 * out: the pipe lets go of its pages), or the fixed buffer written to a
 * memfd.  Returns the bytes got or -errno.
 */
long lpin_read(int lid, void *dst, size_t len)
{
	struct lpin *p = &lpins[lid];
	size_t n = 0;
	ssize_t r;
	int res;

	if (lid < 0 || lid >= 2 * MAXP || !p->used || len > p->len)
		return -EINVAL;
	if (p->kind == PIN_PIPE) {
		while (n < len && (r = read(p->rfd, (char *)dst + n, len - n)) > 0)
			n += r;
		return n;
	}
	if (p->memfd < 0)
		return -EBADF;
	res = ring_rw_fixed(&p->r, IORING_OP_WRITE_FIXED, p->memfd, p->addr, len,
			    0);
	if (res < 0)
		return res;
	if (pread(p->memfd, dst, len, 0) != (ssize_t)len)
		return -EIO;
	return res;
}

/* Writes @src into a fixed buffer with READ_FIXED; returns its res. */
long lpin_fill(int lid, const void *src, size_t len)
{
	struct lpin *p = &lpins[lid];

	if (lid < 0 || lid >= 2 * MAXP || !p->used || p->kind != PIN_URING ||
	    len > p->len || p->memfd < 0)
		return -EINVAL;
	if (pwrite(p->memfd, src, len, 0) != (ssize_t)len)
		return -EIO;
	return ring_rw_fixed(&p->r, IORING_OP_READ_FIXED, p->memfd, p->addr, len,
			     0);
}

/*
 * Lets go: closes the pipe, or unregisters the buffer and closes the ring;
 * @quick: closes the ring as it is (the kernel unpins from a work later).
 */
void lpin_drop(int lid, int quick)
{
	struct lpin *p = &lpins[lid];

	if (lid < 0 || lid >= 2 * MAXP || !p->used)
		return;
	if (p->kind == PIN_PIPE) {
		close(p->rfd);
		close(p->wfd);
	} else {
		if (!quick)
			syscall(__NR_io_uring_register, p->r.fd,
				IORING_UNREGISTER_BUFFERS, NULL, 0);
		ring_unmap(&p->r);
		close(p->r.fd);
		if (p->memfd >= 0)
			close(p->memfd);
	}
	p->used = 0;
}

/*
 * In a fork child: forget the pins inherited from the parent without
 * touching them (an unregister would act on the parent's ring); only the
 * ring mappings go, the fds are closed by the caller.
 */
void lpin_forget_all(void)
{
	int i;

	for (i = 0; i < 2 * MAXP; i++) {
		if (lpins[i].used && lpins[i].kind == PIN_URING)
			ring_unmap(&lpins[i].r);
		lpins[i].used = 0;
	}
}

/* -------------------------------------------------------------------- */
/* Pins in the model                                                     */

/*
 * A range of buffer @b's own bytes that view @v shows, touching at most
 * @maxpg pages: [*@off, *@off + *@len) from the buffer's first byte.
 * Bytes are 8-byte aligned (a buffer starts 64-byte aligned, a view on a
 * page).  Returns 0, or -1 when the view shows none of the buffer.
 */
int pin_range(const struct mview *v, const struct mbuf *b, size_t maxpg,
	      uint64_t *off, uint64_t *len)
{
	uint64_t lo = b->page_offset, hi = lo + b->granted;
	uint64_t vs = v->pgoff * PG, ve = vs + v->len, s, e, n, max;

	s = vs > lo ? vs : lo;
	e = ve < hi ? ve : hi;
	if (s >= e)
		return -1;
	if (pct(30))
		s += 8 * rr((e - s) / 8);		/* from mid-page */
	else if (pct(50))
		s += PG * rr((e - s) / PG);		/* from a later page */
	/* Mostly from a page the pattern covers (see page_sampled()). */
	for (n = 0; n < 8 && !page_sampled(b, s / PG) && pct(90); n++) {
		uint64_t span = span_pages(b), pg = n & 1 ? span - 1 - rr(4) :
						   67 * rr(span / 67);

		if (pg * PG >= vs && pg * PG < e)
			s = pg * PG;
	}
	max = maxpg * PG - (s & (PG - 1));
	n = e - s < max ? e - s : max;
	if (pct(30))
		n = 8 * (1 + rr(n / 8));
	*off = s - lo;
	*len = n;
	return 0;
}

/* A view to pin from: mostly one of a buffer carrying its pattern. */
static int pick_pin_view(void)
{
	int i, vi = -1;

	for (i = 0; i < 6; i++) {
		int c = rr(MAXV);

		if (!views[c].used || bufs[views[c].buf].patterned < 0)
			continue;
		vi = c;
		if (bufs[views[c].buf].patterned > 0 || !pct(70))
			break;
	}
	return vi;
}

/*
 * Let go of the buffer right after pinning it: unmap the view, FREE the
 * handle, close the file (and open its slot again).
 */
static void let_go(int vi)
{
	int b = views[vi].buf, f = bufs[b].file;
	struct carveout_handle h = { .size = sizeof(h) };
	struct argvar av = { .usize = sizeof(h), .min = CARVEOUT_HANDLE_MIN_SIZE };

	if (pct(60))
		view_close(vi);
	if (bufs[b].handle && files[f].fd >= 0 && files[f].gen == bufs[b].gen &&
	    pct(60)) {
		h.handle = bufs[b].handle;
		snprintf(desc, sizeof(desc), "pinned buffer %u slot %d handle %u",
			 bufs[b].serial, f, h.handle);
		if (judge(K_FREE, desc, call(f, CARVEOUT_IOC_FREE, &h, sizeof(h),
					    &av), 0, NULL, ok_free))
			free_handle_model(f, b);
		if (pct(20)) {
			note("close file slot %d with a pinned buffer", f);
			close_file(f);
			open_slot(f);
		}
	}
	n_pin_letgo++;
}

static void pin_take(int i)
{
	int vi = pick_pin_view(), kind = pct(60) ? PIN_PIPE : PIN_URING, lid;
	struct mview *v;
	struct mbuf *b;
	uint64_t off, len;
	size_t got;

	if (vi < 0)
		return;
	v = &views[vi];
	b = &bufs[v->buf];
	if (pin_range(v, b, PIN_PAGES, &off, &len))
		return;
	lid = x_pin_take(v->who, kind, v->addr + (b->page_offset + off -
						   v->pgoff * PG), len, &got);
	note("pin %s: buffer %u +%" PRIu64 " %" PRIu64 " bytes (%s): %d",
	     kind == PIN_PIPE ? "vmsplice" : "io_uring", b->serial, off, len,
	     v->who == W_B ? "helper" : "here", lid);
	n_calls[K_PIN]++;
	if (lid < 0) {
		if (kind == PIN_URING && (lid == -EOPNOTSUPP || lid == -ENOSYS ||
					  lid == -EPERM)) {
			n_pin_unsupp++;
			uring_why = lid == -EOPNOTSUPP ?
				    "file-backed fixed buffers refused (EOPNOTSUPP)" :
				    lid == -ENOSYS ? "no io_uring (ENOSYS)" :
				    "io_uring disabled (EPERM)";
			return;
		}
		/*
		 * The memlock limit, a full pipe; a fixed buffer must be
		 * writable, so a read-only mapping faults.
		 */
		if (lid == -ENOMEM || lid == -EAGAIN ||
		    (lid == -EFAULT && kind == PIN_URING && !v->writable)) {
			n_pin_refused++;
			return;
		}
		n_mismatch++;
		report("pin %s of buffer %u (+%" PRIu64 ", %" PRIu64 " bytes, "
		       "%s mapping): %s", kind == PIN_PIPE ? "vmsplice" :
		       "io_uring register", b->serial, off, len,
		       v->writable ? "writable" : "read-only", strerror(-lid));
		return;
	}
	n_succ[K_PIN]++;
	*(kind == PIN_PIPE ? &n_pin_splice : &n_pin_uring) += 1;
	pins[i] = (struct mpin){ .used = 1, .who = v->who, .kind = kind,
				 .lid = lid, .buf = v->buf, .off = off,
				 .len = got };
	b->pins++;
	if (pct(50))
		let_go(vi);
}

/* The owner's pattern for bytes [off, off + len) of @b (8-byte aligned). */
static void pattern_bytes(const struct mbuf *b, uint64_t off, size_t len,
			  uint64_t *dst)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		dst[i] = pat_word(b->gen, b->serial, off / 8 + i);
}

static void pin_check(struct mpin *p, uint64_t *data, size_t n)
{
	struct mbuf *b = &bufs[p->buf];
	struct walk_res r;

	if (b->patterned < 0)
		return;
	memset(&r, 0, sizeof(r));
	walk_words(data, n / 8, b, p->off, 0, &r);
	n_pin_bytes += n;
	n_xchecks_b += p->who == W_B;
	if (!judge_bytes(b, &r, p->kind == PIN_PIPE ? "a pipe after vmsplice" :
			 "a fixed buffer (WRITE_FIXED)") && r.bad)
		b->patterned = -1;
}

/*
 * Reads pin @i's bytes back and checks them, writes a fixed buffer's
 * through it too (PR_FILL), and lets the pin go.  PR_QUICK: a pipe is
 * closed unread; a ring is closed without unregistering its buffer, so
 * the pages are unpinned some time later and the buffer can only be
 * "draining" once its references go.
 */
void pin_release(int i, int how)
{
	static uint64_t data[PIN_PAGES * PG / 8 + 2];
	struct mpin *p = &pins[i];
	struct mbuf *b = &bufs[p->buf];
	int quick = (how & PR_QUICK) && !is_slab(b);
	long n;

	n_calls[K_UNPIN]++;
	if (quick && p->kind == PIN_PIPE)
		goto drop;
	n = x_pin_read(p->who, p->lid, data, p->len);
	if (n != (long)p->len) {
		n_mismatch++;
		report("pin of buffer %u (%s): read back %ld of %" PRIu64 " bytes",
		       b->serial, p->kind == PIN_PIPE ? "pipe" : "io_uring", n,
		       p->len);
	} else {
		n_succ[K_UNPIN]++;
		n_pin_read++;
		pin_check(p, data, n);
	}
	if ((how & PR_FILL) && p->kind == PIN_URING && b->patterned > 0) {
		pattern_bytes(b, p->off, p->len, data);
		n = x_pin_fill(p->who, p->lid, data, p->len);
		n_pin_fill++;
		if (n != (long)p->len) {
			n_mismatch++;
			report("READ_FIXED into the pinned buffer %u: %ld of %"
			       PRIu64, b->serial, n, p->len);
		}
	}
drop:
	n_pin_quick += quick;
	x_pin_drop(p->who, p->lid, quick);
	p->used = 0;
	b->pins--;
	if (quick && p->kind == PIN_URING)
		b->linger = 1;
	buf_check_gone(p->buf);
}

void op_pin(void)
{
	int i = rr(MAXP);

	if (pins[i].used)
		pin_release(i, (pct(60) ? PR_FILL : 0) | (pct(20) ? PR_QUICK : 0));
	else
		pin_take(i);
}
