/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The markers of a window whose guest instructions QEMU's kb_insn plugin
 * counts (bench/tcg/kb_insn.c): two 7-byte no-ops that nothing else
 * emits, "nopl 0x4b420001(%rax)" and "nopl 0x4b420002(%rax)".  Without
 * the plugin they do nothing.  Shared by kbatch_bench.ko and kbatch_ubench.
 */
#ifndef _KB_INSN_H
#define _KB_INSN_H

static inline void kb_insn_start(void)
{
	asm volatile(".byte 0x0f, 0x1f, 0x80, 0x01, 0x00, 0x42, 0x4b" ::: "memory");
}

static inline void kb_insn_stop(void)
{
	asm volatile(".byte 0x0f, 0x1f, 0x80, 0x02, 0x00, 0x42, 0x4b" ::: "memory");
}

#endif /* _KB_INSN_H */
