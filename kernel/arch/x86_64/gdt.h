/*
 * Segments and the TSS. The GDT order is fixed by SYSCALL/SYSRET: STAR
 * derives kernel CS/SS from one base and user SS/CS from another, so
 * user data must sit just below user code 64.
 */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H

/* clang-format off */
#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE32 0x18 /* SYSRET's STAR base; the descriptor is empty */
#define SEL_UDATA   0x23 /* 0x20 | RPL 3 */
#define SEL_UCODE   0x2b /* 0x28 | RPL 3 */
#define SEL_TSS     0x30

#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3
/* clang-format on */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The operand of lgdt and lidt. */
struct dtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Load CPU cpu's own GDT and TSS (each CPU needs its own TSS: the busy bit,
 * RSP0 and the IST stacks are per CPU). */
void gdt_init(unsigned cpu);
void tss_set_rsp0(unsigned cpu, uint64_t top);
void tss_set_ist(unsigned cpu, int n, uint64_t top);
#endif

#endif
