/*
 * Per-CPU data, reached through GS in the SYSCALL entry (after swapgs) and as
 * the global `pcpu` from C. Granite runs on one CPU; the GS indirection keeps
 * the entry code the same when more arrive. Assembly reaches the fields
 * through offsets generated from the struct (asm_offsets.c).
 */
#ifndef ARCH_PCPU_H
#define ARCH_PCPU_H

#include <stdint.h>

struct thread;

struct pcpu {
    uint64_t kstack_top; /* RSP on kernel entry (also TSS.RSP0) */
    uint64_t user_rsp;   /* scratch: user RSP during SYSCALL entry */
    struct thread *cur;  /* thread whose user context is live */
    uint64_t cr3;        /* page-table root currently loaded */

    /* Counters for KC_STATS (tests check the fast path is really taken). */
    uint64_t fast_calls, fast_reply_recvs, slow_calls, as_switches;
};

extern struct pcpu pcpu;

#endif
