/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of QEMU's TCG plugin API (version 1, QEMU 7.2) that kb_insn.c
 * uses, declared from its documentation: Debian's QEMU loads plugins but
 * ships no header for them.  The calls are resolved in the QEMU binary.
 */
#ifndef _KB_QEMU_PLUGIN_H
#define _KB_QEMU_PLUGIN_H

#include <stddef.h>
#include <linux/types.h>

#define KB_EXPORT __attribute__((visibility("default")))

typedef __u64 qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info_t;

typedef void (*kb_tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*kb_vcpu_udata_cb)(unsigned int vcpu, void *udata);

enum { KB_CB_NO_REGS = 0 };		/* QEMU_PLUGIN_CB_NO_REGS */
enum { KB_INLINE_ADD_U64 = 0 };		/* QEMU_PLUGIN_INLINE_ADD_U64 */

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   kb_tb_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      int op, void *ptr, __u64 imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    kb_vcpu_udata_cb cb, int flags,
					    void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

#endif /* _KB_QEMU_PLUGIN_H */
