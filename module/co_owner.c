// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: owners of buffers and what they may hold.
 *
 * An owner (struct co_file) is an open file of /dev/carveout or the one
 * in-kernel client.  It holds the file's handles and its private slab
 * caches, one set per node, so a page never holds two owners' objects.
 *
 * What an owner holds is charged to it and to its user (struct co_user,
 * one per uid, kept until unload): the pages of a whole-page buffer from
 * when it is made until its memory goes back, and the pages of the
 * owner's slabs from when a slab takes them from the buddy until it gives
 * them back (the slab set's charge hook, struct co_slab_owner).  Sub-page
 * buffers are not charged one by one: a live object pins its whole slab,
 * and the per-CPU magazines and the empty-slab reserve sit in slab pages
 * too, so file_bytes and user_bytes are what the owner keeps out of the
 * regions.
 *
 * Limits, checked when a charge is made:
 *  - carveout.file_limit: bytes one file may hold (0: none);
 *  - carveout.user_limit: bytes one user may hold over all files; when it
 *    is 0, a file opened without CAP_SYS_ADMIN is held to
 *    carveout.user_share percent of all regions (default 50), so one
 *    member of the device's group cannot take every node by default;
 *  - carveout.reserve: percent of every node's region (default 10) that
 *    only files opened with CAP_SYS_ADMIN and the in-kernel client may
 *    take; for the others the node is full (ENOMEM) when its free bytes
 *    would drop below the reserve.  Whole pages are checked after they
 *    were taken (and given back when they broke it); a slab grow is
 *    checked before, so concurrent grows may overshoot by a slab each;
 *  - carveout.max_handles and carveout.max_maps: live handles and MAP
 *    mappings per file (EMFILE past them; 0: no cap).
 * The in-kernel client is charged too (so its bytes show) but no limit
 * applies to it, and its account is its own: in-kernel buffers never count
 * against root's (or anyone's) user limit.
 *
 * Kernel memory an open file causes (the owner, its handle table, its
 * buffers, slab sets and DMA mapping records) is allocated with
 * GFP_KERNEL_ACCOUNT and so charged to the opener's memory cgroup; the
 * in-kernel client's is not (co_file_gfp()).
 *
 * Locks: see carveout.h.  The slab charge hook runs under a slab class
 * lock and takes the node's arena locks one at a time.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "carveout.h"

unsigned long co_file_limit;
EXPORT_SYMBOL_IF_KUNIT(co_file_limit);
module_param_named(file_limit, co_file_limit, ulong, 0644);
MODULE_PARM_DESC(file_limit, "Bytes one open file may hold (0: no limit)");

unsigned long co_user_limit;
EXPORT_SYMBOL_IF_KUNIT(co_user_limit);
module_param_named(user_limit, co_user_limit, ulong, 0644);
MODULE_PARM_DESC(user_limit, "Bytes one user may hold over all files (0: user_share applies to unprivileged files)");

/* A percentage parameter: 0 .. 100, anything else is refused. */
static int co_param_set_pct(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v > 100)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops co_param_pct_ops = {
	.set = co_param_set_pct,
	.get = param_get_uint,
};

unsigned int co_user_share = 50;
EXPORT_SYMBOL_IF_KUNIT(co_user_share);
module_param_cb(user_share, &co_param_pct_ops, &co_user_share, 0644);
MODULE_PARM_DESC(user_share, "While user_limit is 0: percent of all regions one user may hold through files opened without CAP_SYS_ADMIN (0: no limit; default 50)");

unsigned int co_reserve_pct = 10;
EXPORT_SYMBOL_IF_KUNIT(co_reserve_pct);
module_param_cb(reserve, &co_param_pct_ops, &co_reserve_pct, 0644);
MODULE_PARM_DESC(reserve, "Percent of every node's region only files opened with CAP_SYS_ADMIN and in-kernel clients may take (default 10)");

unsigned int co_max_handles = 65536;
EXPORT_SYMBOL_IF_KUNIT(co_max_handles);
module_param_named(max_handles, co_max_handles, uint, 0644);
MODULE_PARM_DESC(max_handles, "Live handles one open file may hold (0: no cap; default 65536)");

unsigned int co_max_maps = 4096;
EXPORT_SYMBOL_IF_KUNIT(co_max_maps);
module_param_named(max_maps, co_max_maps, uint, 0644);
MODULE_PARM_DESC(max_maps, "DMA mappings (MAP) one open file may hold (0: no cap; default 4096)");

LIST_HEAD(co_files);
/* Protects co_files; see carveout.h for the order. */
DEFINE_MUTEX(co_files_lock);

/* uid -> struct co_user; entries live until unload. */
static DEFINE_XARRAY(co_users);

/* The in-kernel client's account, apart from every user's. */
static struct co_user co_kernel_user = { .uid = GLOBAL_ROOT_UID };

static struct co_user *co_user_get(kuid_t uid)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	struct co_user *u, *old;

	u = xa_load(&co_users, key);
	if (u)
		return u;
	u = co_kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return NULL;
	u->uid = uid;
	old = xa_cmpxchg(&co_users, key, NULL, u, GFP_KERNEL);
	if (xa_is_err(old)) {
		kfree(u);
		return NULL;
	}
	if (old) {
		kfree(u);
		return old;
	}
	return u;
}

/**
 * co_users_exit() - free the per-user accounts
 *
 * Context: module unload, when no buffer is left.
 */
void co_users_exit(void)
{
	struct co_user *u;
	unsigned long key;

	xa_for_each(&co_users, key, u) {
		WARN_ON_ONCE(atomic64_read(&u->bytes));
		kfree(u);
	}
	xa_destroy(&co_users);
	WARN_ON_ONCE(atomic64_read(&co_kernel_user.bytes));
}

/* Owner ids: never reused while the module lives (see co_place.c). */
static atomic64_t co_file_ids;

static struct co_file *co_owner_create(struct co_user *user, pid_t pid,
				       const char *comm, bool kernel)
{
	gfp_t gfp = kernel ? GFP_KERNEL : GFP_KERNEL_ACCOUNT;
	struct co_file *f;

	f = co_kzalloc(sizeof(*f), gfp);
	if (!f)
		return NULL;
	f->slab = co_kcalloc(nr_node_ids, sizeof(*f->slab), gfp);
	f->user = user;
	if (!f->slab || !f->user) {
		kfree(f->slab);
		kfree(f);
		return NULL;
	}
	kref_init(&f->ref);
	mutex_init(&f->lock);
	xa_init_flags(&f->handles, XA_FLAGS_ALLOC1 |
				   (kernel ? 0 : XA_FLAGS_ACCOUNT));
	f->id = atomic64_inc_return(&co_file_ids);
	f->pid = pid;
	strscpy(f->comm, comm, sizeof(f->comm));
	f->kernel = kernel;
	f->privileged = kernel || capable(CAP_SYS_ADMIN);
	mutex_lock(&co_files_lock);
	list_add_tail(&f->link, &co_files);
	mutex_unlock(&co_files_lock);
	return f;
}

/**
 * co_file_create() - make the owner state of a newly opened file
 *
 * The owner is charged to the current user and named after the current
 * process; whether it may use the reserve is decided now, by the opener's
 * CAP_SYS_ADMIN.
 *
 * Context: process context.
 * Return: the owner with one reference, or NULL.
 */
struct co_file *co_file_create(void)
{
	struct co_user *u = co_user_get(current_uid());
	char comm[TASK_COMM_LEN];

	if (!u)
		return NULL;
	get_task_comm(comm, current);
	return co_owner_create(u, task_tgid_nr(current), comm, false);
}
EXPORT_SYMBOL_IF_KUNIT(co_file_create);

/**
 * co_kernel_client_create() - make the owner of in-kernel buffers
 *
 * No limit applies to it, and it is charged to an account of its own.
 *
 * Context: module load.
 * Return: the owner with one reference, or NULL.
 */
struct co_file *co_kernel_client_create(void)
{
	return co_owner_create(&co_kernel_user, 0, "kernel", true);
}

static void co_file_release(struct kref *ref)
{
	struct co_file *f = container_of(ref, struct co_file, ref);
	int nid;

	mutex_lock(&co_files_lock);
	list_del(&f->link);
	mutex_unlock(&co_files_lock);
	for (nid = 0; nid < nr_node_ids; nid++) {
		if (!f->slab[nid])
			continue;
		co_slab_drain(f->slab[nid]);
		/* Every object is gone: each buffer held a file reference. */
		WARN_ON_ONCE(co_slab_set_destroy(f->slab[nid]));
	}
	WARN_ON_ONCE(!xa_empty(&f->handles));
	xa_destroy(&f->handles);
	mutex_destroy(&f->lock);
	kfree(f->slab);
	kfree(f);
}

/**
 * co_file_put() - drop a reference to an owner
 * @f: the owner
 *
 * Context: process context.
 */
void co_file_put(struct co_file *f)
{
	kref_put(&f->ref, co_file_release);
}
EXPORT_SYMBOL_IF_KUNIT(co_file_put);

/*
 * The slab charge hook: a slab of @f's set is about to take @pages pages
 * of @b, one of the node's arenas.  Under a slab class lock.
 */
static int co_file_slab_charge(void *priv, struct co_buddy *b,
			       unsigned long pages)
{
	struct co_piece *p = container_of(b, struct co_piece, buddy);
	u64 bytes = (u64)pages << PAGE_SHIFT;
	struct co_file *f = priv;

	if (!co_reserve_ok(f, p->node, bytes))
		return -ENOMEM;
	return co_charge(f, bytes) ? 0 : -EDQUOT;
}

static void co_file_slab_uncharge(void *priv, struct co_buddy *b,
				  unsigned long pages)
{
	struct co_piece *p = container_of(b, struct co_piece, buddy);

	co_uncharge(priv, (u64)pages << PAGE_SHIFT);
	/* The slab's pages went back to the arena: zero them there. */
	co_zero_kick(p->node, (u64)pages << PAGE_SHIFT);
}

/**
 * co_file_slab() - an owner's slab caches on a node, made on first use
 * @f: the owner
 * @cn: the node
 *
 * Context: process context; takes @f->lock.
 * Return: the set, or NULL without memory.
 */
struct co_slab_set *co_file_slab(struct co_file *f, struct co_node *cn)
{
	struct co_slab_owner owner = {
		.charge = co_file_slab_charge, .uncharge = co_file_slab_uncharge,
		.priv = f, .gfp = co_file_gfp(f),
	};
	struct co_slab_set *s;
	char name[32];

	mutex_lock(&f->lock);
	s = f->slab[cn->nid];
	if (!s) {
		snprintf(name, sizeof(name), "pid%d-node%d", f->pid, cn->nid);
		/* A file's sub-page objects live in the node's first piece. */
		s = co_slab_set_create_owned(&cn->pieces[0].buddy, name,
					     &owner);
		f->slab[cn->nid] = s;
	}
	mutex_unlock(&f->lock);
	return s;
}

/**
 * co_file_lookup() - the buffer behind a handle, with a reference
 * @f: the owner
 * @handle: the handle
 *
 * The reference is taken under the handle table's lock, so a concurrent
 * FREE cannot pull the buffer away before the caller holds it.
 *
 * Context: any.
 * Return: the buffer, or NULL when @handle names none.
 */
struct co_buffer *co_file_lookup(struct co_file *f, u32 handle)
{
	struct co_buffer *buf;

	xa_lock(&f->handles);
	buf = xa_load(&f->handles, handle);
	if (buf)
		co_buffer_get(buf);
	xa_unlock(&f->handles);
	return buf;
}

/**
 * co_charge() - charge bytes to an owner and its user
 * @f: the owner
 * @bytes: bytes about to be held
 *
 * Context: any.
 * Return: true, or false (and nothing charged) when a limit would be
 * exceeded.
 */
bool co_charge(struct co_file *f, u64 bytes)
{
	u64 fb, ub, file_limit, user_limit;

	fb = atomic64_add_return(bytes, &f->bytes);
	ub = atomic64_add_return(bytes, &f->user->bytes);
	if (f->kernel)
		return true;
	file_limit = READ_ONCE(co_file_limit);
	user_limit = co_file_user_limit(f);
	if ((file_limit && fb > file_limit) || (user_limit && ub > user_limit)) {
		co_uncharge(f, bytes);
		return false;
	}
	return true;
}

/**
 * co_uncharge() - give back bytes charged with co_charge()
 * @f: the owner
 * @bytes: bytes no longer held
 *
 * Context: any.
 */
void co_uncharge(struct co_file *f, u64 bytes)
{
	atomic64_sub(bytes, &f->bytes);
	atomic64_sub(bytes, &f->user->bytes);
}

/* Bytes of all regions; they are fixed between load and unload. */
static u64 co_regions_bytes(void)
{
	static u64 total;
	struct co_node *cn;
	u64 sum = 0;

	if (READ_ONCE(total))
		return READ_ONCE(total);
	co_for_each_node(cn)
		sum += cn->bytes;
	WRITE_ONCE(total, sum);
	return sum;
}

/**
 * co_file_user_limit() - the per-user limit an owner's charges meet
 * @f: the owner
 *
 * carveout.user_limit when it is set; otherwise carveout.user_share
 * percent of all regions for a file opened without CAP_SYS_ADMIN.
 *
 * Context: any.
 * Return: the limit in bytes, 0 for none.
 */
u64 co_file_user_limit(const struct co_file *f)
{
	unsigned long limit = READ_ONCE(co_user_limit);

	if (f->kernel)
		return 0;
	if (limit)
		return limit;
	if (f->privileged)
		return 0;
	return div_u64(co_regions_bytes() * READ_ONCE(co_user_share), 100) &
	       PAGE_MASK;
}
EXPORT_SYMBOL_IF_KUNIT(co_file_user_limit);

/**
 * co_reserve_bytes() - bytes of a node only privileged owners may take
 * @cn: the node
 *
 * Context: any.
 * Return: carveout.reserve percent of the node's region, in whole pages.
 */
u64 co_reserve_bytes(const struct co_node *cn)
{
	return div_u64(cn->bytes * READ_ONCE(co_reserve_pct), 100) & PAGE_MASK;
}
EXPORT_SYMBOL_IF_KUNIT(co_reserve_bytes);

/**
 * co_reserve_ok() - may an owner leave a node with what is free now?
 * @f: the owner
 * @cn: the node
 * @extra: bytes the owner is about to take (0 when it already took them)
 *
 * Context: process context; takes the node's arena locks one at a time.
 * Return: true for a privileged owner, or when the node keeps its reserve
 * free after @extra more bytes are taken.
 */
bool co_reserve_ok(const struct co_file *f, struct co_node *cn, u64 extra)
{
	u64 keep;

	if (f->privileged)
		return true;
	keep = co_reserve_bytes(cn);
	return !keep || co_node_free_bytes(cn) >= keep + extra;
}
EXPORT_SYMBOL_IF_KUNIT(co_reserve_ok);

/* Count one more of @n against @cap (0: no cap); false past it. */
static bool co_count_take(atomic_t *n, unsigned int cap, bool capped)
{
	if ((unsigned int)atomic_inc_return(n) <= cap || !cap || !capped)
		return true;
	atomic_dec(n);
	return false;
}

/**
 * co_handle_take() - count a handle ALLOC is about to make
 * @f: the owner
 *
 * Context: any.
 * Return: 0, or -EMFILE when @f holds carveout.max_handles handles.
 */
int co_handle_take(struct co_file *f)
{
	return co_count_take(&f->nr_handles, READ_ONCE(co_max_handles),
			     !f->kernel) ? 0 : -EMFILE;
}

/**
 * co_handle_drop() - a handle of @f is gone (or ALLOC failed)
 * @f: the owner
 *
 * Context: any.
 */
void co_handle_drop(struct co_file *f)
{
	atomic_dec(&f->nr_handles);
}

/**
 * co_map_take() - count a DMA mapping about to be made through MAP
 * @f: the owner of the buffer
 *
 * The in-kernel client is counted but never capped.
 *
 * Context: any.
 * Return: 0, or -EMFILE when @f holds carveout.max_maps mappings.
 */
int co_map_take(struct co_file *f)
{
	return co_count_take(&f->nr_maps, READ_ONCE(co_max_maps),
			     !f->kernel) ? 0 : -EMFILE;
}

/**
 * co_map_drop() - a DMA mapping of one of @f's buffers is gone
 * @f: the owner of the buffer
 *
 * Context: any.
 */
void co_map_drop(struct co_file *f)
{
	atomic_dec(&f->nr_maps);
}

/**
 * co_file_gfp() - allocation flags for kernel memory made for an owner
 * @f: the owner
 *
 * Context: any.
 * Return: GFP_KERNEL_ACCOUNT (charged to the memory cgroup of the task
 * that makes the allocation) for a file, GFP_KERNEL for the in-kernel
 * client.
 */
gfp_t co_file_gfp(const struct co_file *f)
{
	return f->kernel ? GFP_KERNEL : GFP_KERNEL_ACCOUNT;
}
