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
 * order, which bench/report.py pairs with it.
 *
 * QEMU 7.2 plugin API, version 1.  Debian's QEMU ships no plugin header,
 * so the few declarations used are written out in kb_qemu_plugin.h.
 * Load it with: -plugin kb_insn.so -d plugin
 */
#include <stdio.h>
#include <string.h>

#include "kb_qemu_plugin.h"

KB_EXPORT int qemu_plugin_version = 1;

/* nopl 0x4b4200XX(%rax): 0f 1f 80, then the displacement, little-endian. */
static const unsigned char kb_start[7] = { 0x0f, 0x1f, 0x80, 0x01, 0x00, 0x42, 0x4b };
static const unsigned char kb_stop[7] = { 0x0f, 0x1f, 0x80, 0x02, 0x00, 0x42, 0x4b };

static __u64 kb_insns;
static __u64 kb_base;
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
