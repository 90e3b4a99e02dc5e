// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz: the second owner.  A helper process, forked at start and
 * running as FUZZ_UID (when the fuzzer runs as root; else as the same
 * uid), holds the second owner's device files, dma-bufs, mappings and
 * pins.  It does nothing on its own: this process decides every op (one
 * PRNG, one model) and sends the helper the syscall to make over a
 * socketpair, one request and one answer at a time.  So the second
 * owner's buffers are mapped into, and pinned from, another address space
 * by an unprivileged process, while ours coexist with them.
 *
 * It also opens the file this process uses as slot SLOT_PASSED and sends
 * it back with SCM_RIGHTS: the module charges a file to its opener, so
 * that file's buffers count against FUZZ_UID though root makes them.
 *
 * The helper is a fork of this process made after the argument arena was
 * mapped, so the arena's addresses (args.c) mean the same in both.
 *
 * x_*(): a syscall in whichever process (@who) holds the fd or address:
 * here directly, else through the helper.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "fuzz.h"

uint32_t b_uid;
unsigned long n_rpc;
static int sock = -1;
static pid_t helper;

enum { R_OPEN, R_CLOSE, R_CALL, R_IOCTL, R_FCNTL, R_MMAP, R_MUNMAP,
       R_MREMAP, R_WALK, R_PIN_TAKE, R_PIN_READ, R_PIN_FILL, R_PIN_DROP,
       R_UID, R_QUIT };

struct rpc_req {
	int32_t op;
	int32_t fd;
	uint64_t a[6];
	uint32_t len;		/* bytes of data that follow */
	uint32_t pad;
};

struct rpc_rsp {
	int64_t ret;
	int32_t err;
	uint32_t len;		/* bytes of data that follow */
};

/* The biggest data: a pin's bytes. */
#define RPC_MAX		(PIN_PAGES * PG + PG)

static int xfer(int fd, void *p, size_t n, int out)
{
	char *c = p;

	while (n) {
		ssize_t r = out ? send(fd, c, n, MSG_NOSIGNAL) : read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= r;
	}
	return 0;
}

/* -------------------------------------------------------------------- */
/* The helper's side                                                     */

static int send_fd(int s, const struct rpc_rsp *rsp, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)rsp, .iov_len = sizeof(*rsp) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*rsp) ? 0 : -1;
}

/* An ioctl through local_call(); the struct, then any array it wrote. */
static void serve_call(const struct rpc_req *q, char *data, struct rpc_rsp *a)
{
	struct argvar v;
	size_t ksize = q->a[1], outlen = q->a[3];

	memcpy(&v, data, sizeof(v));
	a->err = local_call(q->fd, q->a[0], data + sizeof(v), ksize, &v);
	memmove(data, data + sizeof(v), ksize);
	if (outlen > RPC_MAX - ksize)
		outlen = 0;
	memcpy(data + ksize, (void *)(uintptr_t)q->a[2], outlen);
	a->len = ksize + outlen;
}

static void serve_walk(const struct rpc_req *q, char *data, struct rpc_rsp *a)
{
	struct mview v;
	struct mbuf b;
	struct walk_res r;

	memcpy(&v, data, sizeof(v));
	memcpy(&b, data + sizeof(v), sizeof(b));
	view_walk(&v, &b, q->a[0], &r);
	memcpy(data, &r, sizeof(r));
	a->len = sizeof(r);
}

static void serve_one(const struct rpc_req *q, char *data, struct rpc_rsp *a)
{
	void *p;
	size_t n = 0;

	a->ret = 0;
	a->err = 0;
	a->len = 0;
	switch (q->op) {
	case R_CLOSE:
		a->ret = close(q->fd);
		break;
	case R_CALL:
		serve_call(q, data, a);
		return;
	case R_IOCTL:
		a->ret = ioctl(q->fd, q->a[0], data);
		a->len = q->len;
		break;
	case R_FCNTL:
		a->ret = fcntl(q->fd, q->a[0]);
		break;
	case R_MMAP:
		p = mmap(NULL, q->a[0], q->a[1], q->a[2], q->fd, q->a[3]);
		a->ret = p == MAP_FAILED ? -1 : (int64_t)(uintptr_t)p;
		break;
	case R_MUNMAP:
		a->ret = munmap((void *)(uintptr_t)q->a[0], q->a[1]);
		break;
	case R_MREMAP:
		p = mremap((void *)(uintptr_t)q->a[0], q->a[1], q->a[2], q->a[3],
			   (void *)(uintptr_t)q->a[4]);
		a->ret = p == MAP_FAILED ? -1 : (int64_t)(uintptr_t)p;
		break;
	case R_WALK:
		serve_walk(q, data, a);
		return;
	case R_PIN_TAKE:
		a->ret = lpin_take(q->a[0], (char *)(uintptr_t)q->a[1], q->a[2],
				   &n);
		a->err = a->ret < 0 ? -a->ret : 0;
		memcpy(data, &n, sizeof(n));
		a->len = sizeof(n);
		return;
	case R_PIN_READ:
		a->ret = lpin_read(q->a[0], data, q->a[1]);
		a->len = a->ret > 0 ? a->ret : 0;
		return;
	case R_PIN_FILL:
		a->ret = lpin_fill(q->a[0], data, q->len);
		return;
	case R_PIN_DROP:
		lpin_drop(q->a[0], q->a[1]);
		break;
	case R_UID:
		a->ret = (int64_t)getuid() << 32 | geteuid();
		return;
	}
	a->err = a->ret == -1 ? errno : 0;
}

static int serve_open(int s, const struct rpc_req *q)
{
	struct rpc_rsp a = { 0 };
	int fd = co_open();

	a.ret = fd;
	a.err = fd < 0 ? errno : 0;
	if (fd < 0 || !q->a[0])
		return xfer(s, &a, sizeof(a), 1);
	/* Pass it: the file stays ours (charged to us) in their hands. */
	a.ret = send_fd(s, &a, fd);
	close(fd);
	return a.ret;
}

static void __attribute__((noreturn)) serve(int s)
{
	static char data[RPC_MAX];
	struct rpc_req q;
	struct rpc_rsp a;

	for (;;) {
		if (xfer(s, &q, sizeof(q), 0) || q.len > RPC_MAX ||
		    xfer(s, data, q.len, 0) || q.op == R_QUIT)
			break;
		if (q.op == R_OPEN) {
			if (serve_open(s, &q))
				break;
			continue;
		}
		serve_one(&q, data, &a);
		if (xfer(s, &a, sizeof(a), 1) || xfer(s, data, a.len, 1))
			break;
	}
	_exit(0);
}

/*
 * Starts the helper as @uid (and gid @uid, no supplementary groups).
 * Returns 0, or -1 (errno) when it could not be started.
 */
int owner_start(uint32_t uid)
{
	int sv[2];

	b_uid = uid;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	fflush(stdout);
	helper = fork();
	if (helper < 0)
		return -1;
	if (helper == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (uid != getuid() &&
		    (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		     setresuid(uid, uid, uid)))
			_exit(2);
		serve(sv[1]);
	}
	close(sv[1]);
	sock = sv[0];
	return 0;
}

int owner_alive(void)
{
	return sock >= 0;
}

/*
 * Ends the helper: everything it still holds goes with it.  Returns 0 when
 * it exited cleanly.
 */
int owner_stop(void)
{
	struct rpc_req q = { .op = R_QUIT };
	int status = -1;

	if (sock < 0)
		return -1;
	xfer(sock, &q, sizeof(q), 1);
	close(sock);
	sock = -1;
	if (waitpid(helper, &status, 0) != helper)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : status;
}

static void __attribute__((noreturn)) owner_lost(void)
{
	int status = 0;

	waitpid(helper, &status, WNOHANG);
	tap_bail("op %lu: the second owner's helper is gone (status %#x)",
		 op_idx, status);
}

/*
 * One request: @op on @fd with arguments @a and @in (@inlen bytes); the
 * answer's data goes to @out (up to @outcap bytes).  Returns the helper's
 * return value, its errno in *@err.
 */
static int64_t rpc(int op, int fd, const uint64_t *a, const void *in,
		   size_t inlen, void *out, size_t outcap, int *err)
{
	static char data[RPC_MAX];
	struct rpc_req q = { .op = op, .fd = fd, .len = inlen };
	struct rpc_rsp r;

	if (in_child || sock < 0)
		tap_bail("op %lu: a request for the second owner from %s", op_idx,
			 in_child ? "a fork child" : "nowhere");
	if (a)
		memcpy(q.a, a, sizeof(q.a));
	n_rpc++;
	if (xfer(sock, &q, sizeof(q), 1) || xfer(sock, (void *)in, inlen, 1) ||
	    xfer(sock, &r, sizeof(r), 0) || r.len > RPC_MAX ||
	    xfer(sock, data, r.len, 0))
		owner_lost();
	if (out)
		memcpy(out, data, r.len < outcap ? r.len : outcap);
	if (err)
		*err = r.err;
	return r.ret;
}

/* The helper's real and effective uid (both must be b_uid). */
uint32_t owner_uid(void)
{
	int64_t r = rpc(R_UID, -1, NULL, NULL, 0, NULL, 0, NULL);

	return (uint32_t)(r >> 32) == (uint32_t)r ? (uint32_t)r : ~0U;
}

/* -------------------------------------------------------------------- */
/* Syscalls wherever the fd or address is                                */

/* Opens the device in @who's process; @pass: and hands the fd to us. */
int x_open(int who, int pass)
{
	struct rpc_req q = { .op = R_OPEN, .a = { pass } };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct rpc_rsp r;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int fd = -1;

	if (who == W_SELF)
		return co_open();
	if (in_child || sock < 0) {
		errno = ENODEV;
		return -1;
	}
	n_rpc++;
	if (xfer(sock, &q, sizeof(q), 1) ||
	    recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(r))
		owner_lost();
	if (!pass || r.ret < 0) {
		errno = r.err;
		return r.ret;
	}
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0)
		errno = EBADMSG;
	return fd;
}

void x_close(int who, int fd)
{
	if (who == W_SELF)
		close(fd);
	else
		rpc(R_CLOSE, fd, NULL, NULL, 0, NULL, 0, NULL);
}

int x_call(int fd, unsigned long cmd, void *st, size_t ksize,
	   const struct argvar *v, void *out, size_t outlen)
{
	uint64_t a[6] = { cmd, ksize, (uintptr_t)out, outlen };
	static char in[sizeof(*v) + 1024], res[RPC_MAX];
	int err;

	memcpy(in, v, sizeof(*v));
	memcpy(in + sizeof(*v), st, ksize);
	rpc(R_CALL, fd, a, in, sizeof(*v) + ksize, res, ksize + outlen, &err);
	memcpy(st, res, ksize);
	if (outlen)
		memcpy(out, res + ksize, outlen);
	return err;
}

/* ioctl(@fd, @cmd, @arg of @len bytes); returns 0 or the errno. */
int x_ioctl(int who, int fd, unsigned long cmd, void *arg, size_t len)
{
	uint64_t a[6] = { cmd };
	int err;

	if (who == W_SELF)
		return ioctl(fd, cmd, arg) ? errno : 0;
	rpc(R_IOCTL, fd, a, arg, len, arg, len, &err);
	return err;
}

int x_fcntl(int who, int fd, int cmd)
{
	uint64_t a[6] = { cmd };

	if (who == W_SELF)
		return fcntl(fd, cmd);
	return rpc(R_FCNTL, fd, a, NULL, 0, NULL, 0, NULL);
}

/* mmap(); NULL with the errno in *@err on failure. */
char *x_mmap(int who, size_t len, int prot, int flags, int fd, uint64_t off,
	     int *err)
{
	uint64_t a[6] = { len, prot, flags, off };
	int64_t r;
	void *p;

	if (who == W_SELF) {
		p = mmap(NULL, len, prot, flags, fd, off);
		*err = errno;
		return p == MAP_FAILED ? NULL : p;
	}
	r = rpc(R_MMAP, fd, a, NULL, 0, NULL, 0, err);
	return r == -1 ? NULL : (char *)(uintptr_t)r;
}

/* munmap(); returns 0 or the errno. */
int x_munmap(int who, void *addr, size_t len)
{
	uint64_t a[6] = { (uintptr_t)addr, len };
	int err;

	if (who == W_SELF)
		return munmap(addr, len) ? errno : 0;
	return rpc(R_MUNMAP, -1, a, NULL, 0, NULL, 0, &err) ? err : 0;
}

char *x_mremap(int who, void *old, size_t oldlen, size_t newlen, int flags,
	       void *dst, int *err)
{
	uint64_t a[6] = { (uintptr_t)old, oldlen, newlen, flags,
			  (uintptr_t)dst };
	int64_t r;
	void *p;

	if (who == W_SELF) {
		p = mremap(old, oldlen, newlen, flags, dst);
		*err = errno;
		return p == MAP_FAILED ? NULL : p;
	}
	r = rpc(R_MREMAP, -1, a, NULL, 0, NULL, 0, err);
	return r == -1 ? NULL : (char *)(uintptr_t)r;
}

/* view_walk() where the view is. */
void x_walk(const struct mview *v, const struct mbuf *b, int write,
	    struct walk_res *r)
{
	uint64_t a[6] = { write };
	char in[sizeof(*v) + sizeof(*b)];

	if (v->who == W_SELF) {
		view_walk(v, b, write, r);
		return;
	}
	memcpy(in, v, sizeof(*v));
	memcpy(in + sizeof(*v), b, sizeof(*b));
	memset(r, 0, sizeof(*r));
	rpc(R_WALK, -1, a, in, sizeof(in), r, sizeof(*r), NULL);
}

int x_pin_take(int who, int kind, char *addr, size_t len, size_t *got)
{
	uint64_t a[6] = { kind, (uintptr_t)addr, len };

	if (who == W_SELF)
		return lpin_take(kind, addr, len, got);
	*got = 0;
	return rpc(R_PIN_TAKE, -1, a, NULL, 0, got, sizeof(*got), NULL);
}

long x_pin_read(int who, int lid, void *dst, size_t len)
{
	uint64_t a[6] = { lid, len };

	if (who == W_SELF)
		return lpin_read(lid, dst, len);
	return rpc(R_PIN_READ, -1, a, NULL, 0, dst, len, NULL);
}

long x_pin_fill(int who, int lid, const void *src, size_t len)
{
	uint64_t a[6] = { lid };

	if (who == W_SELF)
		return lpin_fill(lid, src, len);
	return rpc(R_PIN_FILL, -1, a, src, len, NULL, 0, NULL);
}

void x_pin_drop(int who, int lid, int quick)
{
	uint64_t a[6] = { lid, quick };

	if (who == W_SELF)
		lpin_drop(lid, quick);
	else
		rpc(R_PIN_DROP, -1, a, NULL, 0, NULL, 0, NULL);
}
