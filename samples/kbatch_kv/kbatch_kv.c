// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_kv: a small in-kernel key-value table that user space drives in
 * batches through /dev/kbatch.  It uses only kbatch's exported API.
 *
 * Ops (look them up by name with KBATCH_IOC_LOOKUP):
 *   kv.put   args[0] key, args[1] value (0 to S64_MAX): result 0;
 *            -EINVAL for a value above S64_MAX, -ENOSPC when the table
 *            holds KV_MAX_KEYS keys, -ENOMEM
 *   kv.get   args[0] key: result the value, or -ENOENT
 *   kv.del   args[0] key: result 0, or -ENOENT
 *   kv.clear (CAP_SYS_ADMIN) empties the table: result the number of keys
 *            it held
 *
 * The table sits behind one mutex, and each handler takes it once per
 * batch it is given, not once per op: that is what kbatch buys a driver.
 * The table is shared by every user, but the wait for it is killable: a
 * submitter killed while another user's batch holds the table gets
 * -EINTR for its batch instead of sleeping on uninterruptibly.
 */
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/kbatch.h>

#define KV_MAX_KEYS	65536

struct kv_node {
	struct hlist_node link;
	u64 key;
	u64 value;
};

static DEFINE_HASHTABLE(kv_table, 10);
static DEFINE_MUTEX(kv_mutex);	/* kv_table, kv_count and kv_stats */
static unsigned int kv_count;

/* What the handlers were given: /sys/kernel/debug/kbatch_kv/stats. */
static struct {
	u64 calls;	/* handler calls (batches) */
	u64 entries;	/* entries in them */
	u64 largest;	/* most entries in one call */
	u64 last;	/* entries in the latest call */
} kv_stats;
static struct dentry *kv_debugfs;

static struct kv_node *kv_find(u64 key)
{
	struct kv_node *node;

	lockdep_assert_held(&kv_mutex);
	hash_for_each_possible(kv_table, node, link, key)
		if (node->key == key)
			return node;
	return NULL;
}

static s64 kv_put_one(u64 key, u64 value)
{
	struct kv_node *node;

	if (value > S64_MAX)
		return -EINVAL;
	node = kv_find(key);
	if (node) {
		node->value = value;
		return 0;
	}
	if (kv_count >= KV_MAX_KEYS)
		return -ENOSPC;
	node = kmalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return -ENOMEM;
	node->key = key;
	node->value = value;
	hash_add(kv_table, &node->link, key);
	kv_count++;
	return 0;
}

static s64 kv_del_one(u64 key)
{
	struct kv_node *node = kv_find(key);

	if (!node)
		return -ENOENT;
	hash_del(&node->link);
	kfree(node);
	kv_count--;
	return 0;
}

static s64 kv_clear_all(void)
{
	struct hlist_node *tmp;
	struct kv_node *node;
	unsigned int bkt;
	s64 n = kv_count;

	lockdep_assert_held(&kv_mutex);
	hash_for_each_safe(kv_table, bkt, tmp, node, link) {
		hash_del(&node->link);
		kfree(node);
	}
	kv_count = 0;
	return n;
}

/* Take the table for a batch; false (every entry -EINTR) if killed first. */
static bool kv_lock(struct kbatch_op_batch *b)
{
	unsigned int i, len = kbatch_op_batch_len(b);

	if (!mutex_lock_killable(&kv_mutex)) {
		kv_stats.calls++;
		kv_stats.entries += len;
		kv_stats.largest = max_t(u64, kv_stats.largest, len);
		kv_stats.last = len;
		return true;
	}
	for (i = 0; i < len; i++)
		kbatch_op_set_result(b, i, -EINTR);
	return false;
}

/* The batch handlers: one lock round trip for the whole batch. */
static void kv_put_run(struct kbatch_op_batch *b)
{
	unsigned int i;

	if (!kv_lock(b))
		return;
	for (i = 0; i < kbatch_op_batch_len(b); i++)
		kbatch_op_set_result(b, i, kv_put_one(kbatch_op_arg(b, i, 0),
						      kbatch_op_arg(b, i, 1)));
	mutex_unlock(&kv_mutex);
}

static void kv_get_run(struct kbatch_op_batch *b)
{
	struct kv_node *node;
	unsigned int i;

	if (!kv_lock(b))
		return;
	for (i = 0; i < kbatch_op_batch_len(b); i++) {
		node = kv_find(kbatch_op_arg(b, i, 0));
		kbatch_op_set_result(b, i, node ? (s64)node->value : -ENOENT);
	}
	mutex_unlock(&kv_mutex);
}

static void kv_del_run(struct kbatch_op_batch *b)
{
	unsigned int i;

	if (!kv_lock(b))
		return;
	for (i = 0; i < kbatch_op_batch_len(b); i++)
		kbatch_op_set_result(b, i, kv_del_one(kbatch_op_arg(b, i, 0)));
	mutex_unlock(&kv_mutex);
}

static void kv_clear_run(struct kbatch_op_batch *b)
{
	unsigned int i;

	if (!kv_lock(b))
		return;
	for (i = 0; i < kbatch_op_batch_len(b); i++)
		kbatch_op_set_result(b, i, kv_clear_all());
	mutex_unlock(&kv_mutex);
}

static struct kbatch_op kv_ops[] = {
	{ .name = "kv.put", .run = kv_put_run },
	{ .name = "kv.get", .run = kv_get_run },
	{ .name = "kv.del", .run = kv_del_run },
	{ .name = "kv.clear", .run = kv_clear_run, .admin = true },
};

static int kv_stats_show(struct seq_file *m, void *unused)
{
	mutex_lock(&kv_mutex);
	seq_printf(m, "calls: %llu\nentries: %llu\nlargest: %llu\nlast: %llu\nkeys: %u\n",
		   kv_stats.calls, kv_stats.entries, kv_stats.largest,
		   kv_stats.last, kv_count);
	mutex_unlock(&kv_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kv_stats);

static int __init kv_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(kv_ops); i++) {
		ret = kbatch_register_op(&kv_ops[i]);
		if (ret < 0) {
			kbatch_unregister_ops(kv_ops, i);
			return ret;
		}
	}
	kv_debugfs = debugfs_create_dir("kbatch_kv", NULL);
	debugfs_create_file("stats", 0444, kv_debugfs, NULL, &kv_stats_fops);
	return 0;
}

/* Ops first: once they are gone no handler runs, and the table can go. */
static void __exit kv_exit(void)
{
	debugfs_remove_recursive(kv_debugfs);
	kbatch_unregister_ops(kv_ops, ARRAY_SIZE(kv_ops));
	mutex_lock(&kv_mutex);
	kv_clear_all();
	mutex_unlock(&kv_mutex);
}

module_init(kv_init);
module_exit(kv_exit);

MODULE_DESCRIPTION("kbatch sample: a key-value table with batched ops");
MODULE_AUTHOR("The kbatch developers");
MODULE_LICENSE("GPL");
