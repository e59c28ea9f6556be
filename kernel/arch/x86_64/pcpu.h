/*
 * Per-CPU data, reached through GS in the SYSCALL entry (after swapgs) and as
 * the global `pcpu` from C. Granite runs on one CPU; the GS indirection keeps
 * the entry code the same when more arrive. Offsets are used from assembly
 * and pinned next to the struct.
 */
#ifndef ARCH_PCPU_H
#define ARCH_PCPU_H

/* clang-format off */
#define PCPU_KSTACK_TOP 0
#define PCPU_USER_RSP   8
#define PCPU_CUR        16
#define PCPU_CR3        24
#define PCPU_FAST_CALLS 32
#define PCPU_FAST_RR    40
#define PCPU_SLOW_CALLS 48
#define PCPU_AS_SWITCH  56
/* clang-format on */

#ifndef __ASSEMBLER__
#include <stddef.h>
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

_Static_assert(offsetof(struct pcpu, kstack_top) == PCPU_KSTACK_TOP, "asm offset");
_Static_assert(offsetof(struct pcpu, user_rsp) == PCPU_USER_RSP, "asm offset");
_Static_assert(offsetof(struct pcpu, cur) == PCPU_CUR, "asm offset");
_Static_assert(offsetof(struct pcpu, cr3) == PCPU_CR3, "asm offset");
_Static_assert(offsetof(struct pcpu, fast_calls) == PCPU_FAST_CALLS, "asm offset");
_Static_assert(offsetof(struct pcpu, fast_reply_recvs) == PCPU_FAST_RR, "asm offset");
_Static_assert(offsetof(struct pcpu, slow_calls) == PCPU_SLOW_CALLS, "asm offset");
_Static_assert(offsetof(struct pcpu, as_switches) == PCPU_AS_SWITCH, "asm offset");
#endif

#endif
