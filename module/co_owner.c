// SPDX-License-Identifier: GPL-2.0
/*
 * carveout: owners of buffers and what they may hold.
 *
 * An owner (struct co_file) is an open file of /dev/carveout or the one
 * in-kernel client.  It holds the file's handles and its private slab
 * caches, one set per node, so a page never holds two owners' objects.
 *
 * Bytes are charged to the owner and to its user (struct co_user, one per
 * uid, kept until unload) when a buffer is made, and uncharged when its
 * memory goes back, against carveout.file_limit and carveout.user_limit.
 * The in-kernel client is charged too (so its bytes show) but no limit
 * applies to it, and its account is its own: in-kernel buffers never count
 * against root's (or anyone's) user limit.
 *
 * Locks: see carveout.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/module.h>
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
MODULE_PARM_DESC(user_limit, "Bytes one user may hold over all files (0: no limit)");

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

static struct co_file *co_owner_create(struct co_user *user, pid_t pid,
				       const char *comm, bool kernel)
{
	struct co_file *f;

	f = co_kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->slab = co_kcalloc(nr_node_ids, sizeof(*f->slab), GFP_KERNEL);
	f->user = user;
	if (!f->slab || !f->user) {
		kfree(f->slab);
		kfree(f);
		return NULL;
	}
	kref_init(&f->ref);
	mutex_init(&f->lock);
	xa_init_flags(&f->handles, XA_FLAGS_ALLOC1);
	f->pid = pid;
	strscpy(f->comm, comm, sizeof(f->comm));
	f->kernel = kernel;
	mutex_lock(&co_files_lock);
	list_add_tail(&f->link, &co_files);
	mutex_unlock(&co_files_lock);
	return f;
}

/**
 * co_file_create() - make the owner state of a newly opened file
 *
 * The owner is charged to the current user and named after the current
 * process.
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
	struct co_slab_set *s;
	char name[32];

	mutex_lock(&f->lock);
	s = f->slab[cn->nid];
	if (!s) {
		snprintf(name, sizeof(name), "pid%d-node%d", f->pid, cn->nid);
		/* A file's sub-page objects live in the node's first piece. */
		s = co_slab_set_create(&cn->pieces[0].buddy, name);
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
	u64 fb, ub;

	fb = atomic64_add_return(bytes, &f->bytes);
	ub = atomic64_add_return(bytes, &f->user->bytes);
	if (f->kernel)
		return true;
	if ((co_file_limit && fb > co_file_limit) ||
	    (co_user_limit && ub > co_user_limit)) {
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
