/*
 * Per-CPU data: one entry of pcpus[] per CPU, whose address each CPU keeps in
 * its GS base. The SYSCALL entry reaches it through GS (after swapgs), C code
 * as `pcpu`, this CPU's entry. Assembly reaches the fields through offsets
 * generated from the struct (asm_offsets.c).
 */
#ifndef ARCH_PCPU_H
#define ARCH_PCPU_H

#include <stdint.h>

struct thread;

struct percpu {
    uint64_t kstack_top; /* RSP on kernel entry (also TSS.RSP0) */
    uint64_t user_rsp;   /* scratch: user RSP during SYSCALL entry */
    uint64_t scratch[2]; /* spare registers of the notify fast path (no stack) */
    struct thread *cur;  /* thread whose user context is live */
    uint64_t cr3;        /* page-table root currently loaded */

    /* Counters for KC_STATS (tests check the fast path is really taken). */
    uint64_t fast_calls, fast_reply_recvs, slow_calls, as_switches;

    uint32_t id;      /* index in pcpus[]; 0 is the bootstrap CPU */
    uint32_t apic_id; /* its local APIC's ID (the target of an IPI) */
    uint32_t online;  /* set by the CPU itself once it runs kernel code */
};

#define MAX_CPUS 16

extern struct percpu pcpus[MAX_CPUS];

/* This CPU's entry. GCC's __seg_gs makes each field access one %gs-relative
 * instruction, as many as the global it replaced, so no path grows. Its
 * address is GS-relative: pass &pcpus[i] where a real pointer is needed. */
#define pcpu (*(__seg_gs struct percpu *)0)

#endif
