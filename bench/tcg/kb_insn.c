// SPDX-License-Identifier: GPL-2.0
/*
 * kb_insn.so: a QEMU TCG plugin that counts guest instructions between two
 * marker instructions, for `make bench`'s deterministic figures.
 *
 * The guest (kbatch_ubench, kbatch_bench.ko) brackets a measured window
 * with two 7-byte no-ops that nothing else uses, "nopl 0x4b420001(%rax)"
 * (start) and "nopl 0x4b420002(%rax)" (stop); see bench/kb_insn.h.  At
 * the stop marker the plugin prints "@kb insn <n> <count>": the
 * instructions every vCPU executed since the start marker (counted per
 * translated block as it is entered, so the offsets at both ends are
 * constant).  The counter is one plain variable: run the VM with one
 * vCPU (the inline add is not atomic).  <n> numbers the windows from 0;
 * the guest prints one "@kb insn-label" line per window, in the same
 * order, which scripts/bench_report.py pairs with it.
 *
 * QEMU 7.2 plugin API, version 1.  Debian's QEMU ships no plugin header,
 * so the few declarations used are written out here (the ABI is C).
 * Load it with: -plugin kb_insn.so -d plugin
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KB_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info_t;

enum { KB_CB_NO_REGS = 0 };		/* QEMU_PLUGIN_CB_NO_REGS */
enum { KB_INLINE_ADD_U64 = 0 };		/* QEMU_PLUGIN_INLINE_ADD_U64 */

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
	void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      int op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
	void (*cb)(unsigned int vcpu, void *udata), int flags, void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

KB_EXPORT int qemu_plugin_version = 1;

/* nopl 0x4b4200XX(%rax): 0f 1f 80, then the displacement, little-endian. */
static const unsigned char kb_start[7] = { 0x0f, 0x1f, 0x80, 0x01, 0x00, 0x42, 0x4b };
static const unsigned char kb_stop[7] = { 0x0f, 0x1f, 0x80, 0x02, 0x00, 0x42, 0x4b };

static uint64_t kb_insns;
static uint64_t kb_base;
static unsigned long kb_windows;

static void kb_on_start(unsigned int vcpu, void *udata)
{
	kb_base = kb_insns;
}

static void kb_on_stop(unsigned int vcpu, void *udata)
{
	char line[80];

	snprintf(line, sizeof(line), "@kb insn %lu %llu\n", kb_windows++,
		 (unsigned long long)(kb_insns - kb_base));
	qemu_plugin_outs(line);
}

static void kb_on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;

	qemu_plugin_register_vcpu_tb_exec_inline(tb, KB_INLINE_ADD_U64,
						 &kb_insns, n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const void *data = qemu_plugin_insn_data(insn);

		if (qemu_plugin_insn_size(insn) != sizeof(kb_start))
			continue;
		if (!memcmp(data, kb_start, sizeof(kb_start)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, kb_on_start,
							       KB_CB_NO_REGS, NULL);
		else if (!memcmp(data, kb_stop, sizeof(kb_stop)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, kb_on_stop,
							       KB_CB_NO_REGS, NULL);
	}
}

KB_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
				  const struct qemu_info_t *info,
				  int argc, char **argv)
{
	qemu_plugin_register_vcpu_tb_trans_cb(id, kb_on_trans);
	return 0;
}
