/*
 * Per-CPU data: one entry of pcpus[] per CPU, whose address each CPU keeps in
 * its GS base. The SYSCALL entry reaches it through GS (after swapgs), C code
 * as `pcpu`, this CPU's entry. Assembly reaches the fields through offsets
 * generated from the struct (asm_offsets.c).
 */
#ifndef ARCH_PCPU_H
#define ARCH_PCPU_H

#include <stdint.h>

#include "../../proc.h" /* NUM_PRIO */

#define MAX_CPUS 16

/*
 * The IPC fast path's one test of who may get the CPU (sched.h): it
 * subtracts this, read as one 32-bit word, from the target's
 * prio | fpu_fresh << 8 | cpu << 16 and switches only if the difference is
 * at most SCHED_FAST_MAX_DIFF: the same CPU, no FPU state live, no higher
 * priority ready here. On the same CPU a passing difference is
 * (1 << 8 | prio) - (1 << 8 | ready_max) <= 0xff; every failing one wraps
 * past 0xffff0000, except for a thread of the next CPU, whose low half
 * below ours (>= 0x100) borrows from the cpu field: 0x10000 minus at most
 * 0x2ff (SCHED_FAST_SHUT << 8 | 0xff). A bound of 0xffff let that thread
 * run here (smp.cross checks it does not).
 */
#define SCHED_FAST_MAX_DIFF 0xff

struct sched_fast {
    uint8_t ready_max; /* highest priority with a ready thread here, 0 if none */
    uint8_t fpu;       /* SCHED_FAST_OPEN, or SCHED_FAST_SHUT while FPU state is live */
    uint16_t cpu;      /* this CPU's index */
};

/* One CPU's run queues: a FIFO per priority and a bitmap of the non-empty
 * ones. Only under the kernel lock. */
struct runq {
    struct thread *head[NUM_PRIO], *tail[NUM_PRIO];
    uint32_t bitmap;  /* bit p: queue p not empty */
    uint32_t resched; /* kernel_exit should reconsider who runs */
};

/* What another CPU asks of this one (klock.c), answered with interrupts
 * off outside any lock. */
#define SMP_REQ_NONE  0
#define SMP_REQ_DROP  1 /* stop running `req_thread`: it is killed or moved */
#define SMP_REQ_LEAVE 2 /* load the kernel's tables if req_cr3 is loaded (it is freed) */
#define SMP_REQ_FLUSH 3 /* req_cr3 loses mappings: reload CR3 once in the kernel lock */

struct percpu {
    uint64_t kstack_top; /* RSP on kernel entry (also TSS.RSP0) */
    uint64_t user_rsp;   /* scratch: user RSP during SYSCALL entry */
    uint64_t scratch[2]; /* spare registers of the notify fast path (no stack) */
    struct thread *cur;  /* thread whose user context is live */
    uint64_t cr3;        /* page-table root currently loaded */

    /* This CPU's part of the kernel lock, and the whole lock of its fast
     * path (docs/architecture.md, "SMP: the design"). */
    uint32_t lock;
    struct sched_fast sched_fast;

    /* Counters for KC_STATS (tests check the fast path is really taken). */
    uint64_t fast_calls, fast_reply_recvs, slow_calls, as_switches;

    uint32_t id;      /* index in pcpus[]; 0 is the bootstrap CPU */
    uint32_t apic_id; /* its local APIC's ID (the target of an IPI) */
    uint32_t online;  /* set by the CPU itself once it runs kernel code */

    struct runq rq;
    struct thread *fpu_owner; /* whose FPU state is in the registers (fpu.c) */
    uint32_t ts_set;          /* CR0.TS as last written */
    uint32_t dropped;         /* cur was taken away by a request: kernel_exit at once */
    uint32_t flush;           /* reload CR3 on taking the kernel lock (SMP_REQ_FLUSH) */
    uint32_t in_syscall;      /* klock_enter waits for the SYSCALL slow path */

    uint32_t req; /* SMP_REQ_*, written by the requester, cleared here */
    struct thread *req_thread;
    uint64_t req_cr3;
    uint64_t ipis, timer_ticks;   /* received, for KC_STATS */
} __attribute__((aligned(1024))); /* &pcpus[i] is a shift, not a multiply */

extern struct percpu pcpus[MAX_CPUS];

/* This CPU's entry. GCC's __seg_gs makes each field access one %gs-relative
 * instruction, as many as the global it replaced, so no path grows. Its
 * address is GS-relative: pass &pcpus[i] where a real pointer is needed. */
#define pcpu (*(__seg_gs struct percpu *)0)

#endif
