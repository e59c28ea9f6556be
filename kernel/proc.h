/*
 * Processes (address space, capabilities, privileges) and threads (saved
 * user registers, scheduling and IPC state). The SYSCALL entry and the IPC
 * fast path (arch/x86_64/entry.S) read these structs directly, through
 * offsets generated from them (asm_offsets.c).
 */
#ifndef PROC_H
#define PROC_H

/* clang-format off */
#define MAX_THREADS   256
#define MAX_PROCS     128
#define THREAD_SHIFT  8            /* sizeof(struct thread) == 1 << 8 */
#define NUM_PRIO      32           /* 1 (lowest) .. 31; 0 means "none ready" */
#define PRIO_DEFAULT  8

/* Thread states (struct thread.state). */
#define TS_FREE    0
#define TS_RUNNING 1 /* pcpu.cur; not on a run queue */
#define TS_READY   2 /* on a run queue */
#define TS_SEND    3 /* blocked sending to `partner` (queued there) */
#define TS_RECV    4 /* blocked receiving (from recv_from, 0 = any) */
#define TS_REPLY   5 /* blocked waiting for `partner`'s reply */
#define TS_SLEEP   6 /* blocked until wake_tick */

/* Shifts entry.S indexes by (checked below); its offsets into these
 * structs are generated from them (asm_offsets.c). */
#define CAP_SHIFT  5  /* sizeof(struct cap) == 32 */
/* clang-format on */

#ifndef __ASSEMBLER__
#include <abi/ipc.h>
#include <abi/kcall.h>
#include <stddef.h>
#include <stdint.h>

#include "grant_map.h"
#include "quota.h"

struct proc;

/* User registers as saved on kernel entry. mr[i] is message register i,
 * whichever CPU register carries it (ABI_REG_MRi, from abi.toml): a message
 * moves as one 64-byte copy and word i of a call is mr[i]. */
struct user_regs {
    uint64_t mr[IPC_MSG_WORDS];
    uint64_t rax, rcx, rdx, rsi, rdi, rbp, r11;
    uint64_t rip, rsp, rflags;
};

struct thread {
    /* Saved user context, valid whenever the thread is not running. After
     * a SYSCALL only rip, rsp, rflags and rbp are live (the rest are the
     * call's outputs); full_ctx = 1 means every register is live (the
     * thread was interrupted) and it must go back through IRETQ. */
    struct user_regs regs;

    /* Scheduling: state, priority, run-queue link. accept_cap is IPC
     * state kept next to `state` on purpose: it is 1 only while the thread
     * is blocked in a receive (or waits for a reply) that said
     * IPC_INFO_ACCEPT, and whatever makes it run clears it (sched.c, and
     * the fast path's 16-bit store of TS_RUNNING). */
    uint8_t state;
    uint8_t accept_cap;
    /* prio, fpu_fresh and cpu are one word for the fast path, which
     * subtracts its CPU's sched_fast from it (arch/x86_64/pcpu.h). */
    uint8_t prio;
    /* 1 until the thread's first FPU/SIMD instruction (#NM): it has no
     * FPU state to save or restore (arch/x86_64/fpu.c). */
    uint8_t fpu_fresh;
    /* Its home CPU, the only one it runs on (docs/architecture.md, "SMP:
     * the design"); changed only by KC_THREAD_SET_CPU. */
    uint16_t cpu;
    uint32_t tid; /* slot | generation << ID_SLOT_BITS; 0 when free */
    struct proc *proc;
    uint64_t badge; /* pid << 32 | tid, handed to receivers */

    /* IPC: who we wait for, who waits for us, notifications, timeout. */
    struct thread *partner; /* TS_SEND: target; TS_REPLY: the callee */
    uint32_t recv_from;     /* TS_RECV: accepted sender's tid, 0 = any */
    uint8_t is_call;        /* TS_SEND: it wants a reply once its message is taken */
    uint8_t full_ctx;       /* 1: every register is live (interrupted): resume by IRETQ */
    uint8_t reserved[2];
    struct thread *sendq_head; /* threads in TS_SEND to us, oldest first */
    uint64_t notify;           /* pending notification bits */
    uint64_t wake_tick;        /* deadline of the blocking phase, 0 = none */
    struct thread *sendq_tail;
    struct thread *sendq_next; /* our link in partner's send queue */

    struct thread *rq_next; /* run queue (TS_READY) */
    uint32_t slice;         /* ticks left in the time slice */
    uint32_t stack_index;   /* which user stack slot this thread owns */
    struct thread *proc_next;
} __attribute__((aligned(1 << THREAD_SHIFT)));

/* Layout the fast path relies on beyond single offsets. */
_Static_assert(offsetof(struct thread, accept_cap) == offsetof(struct thread, state) + 1,
               "entry.S writes state and accept_cap as one word");
_Static_assert(offsetof(struct thread, fpu_fresh) == offsetof(struct thread, prio) + 1 &&
                   offsetof(struct thread, cpu) == offsetof(struct thread, prio) + 2,
               "the fast path reads prio, fpu_fresh and cpu as one word");
_Static_assert(sizeof(struct thread) == 1 << THREAD_SHIFT, "entry.S indexes threads by shift");
_Static_assert(offsetof(struct thread, full_ctx) > offsetof(struct thread, recv_from) &&
                   offsetof(struct thread, full_ctx) < offsetof(struct thread, recv_from) + 8 &&
                   offsetof(struct thread, sendq_head) == offsetof(struct thread, recv_from) + 8,
               "the receive fast path clears recv_from .. full_ctx as one quadword");

/* A capability: a handle's target thread, checked by generation on use. */
struct cap {
    struct thread *thread; /* 0: empty slot (slot 0 is the kernel, handled apart) */
    uint32_t tid;          /* the thread's tid when the cap was made */
    uint32_t rights;       /* CAP_RIGHT_* */
    /* The one handle value that names this capability: slot | generation
     * << CAP_SLOT_BITS. An empty slot s holds CAP_VACANT(s), whose slot
     * bits are not s, so no handle can ever match it (not even 0 in the
     * kernel's slot 0): one compare checks range, generation and
     * emptiness, in C and on the fast path. */
    uint64_t handle;
    uint64_t reserved;
};
#define CAP_VACANT(slot) (~(uint64_t)(slot)) /* slot bits 63 - slot, never slot */
_Static_assert(sizeof(struct cap) == 1 << CAP_SHIFT, "entry.S indexes caps by shift");
_Static_assert(offsetof(struct cap, rights) == offsetof(struct cap, tid) + 4,
               "the fast path reads tid and rights as one word");

struct death {
    uint32_t pid;
    uint32_t reason; /* DEATH_* */
    uint64_t detail;
    uint64_t badge;
};

struct proc {
    /* Read by the fast path. */
    uint64_t cr3; /* physical address of the PML4 */
    struct cap caps[CAP_SLOTS];

    /* Identity and rights, fixed at spawn. */
    uint32_t pid; /* slot | generation << ID_SLOT_BITS; 0 when free */
    uint32_t parent_pid;
    struct proc *reaper; /* told of our death (the spawner) */
    uint32_t privs;
    uint16_t io_base, io_count;
    uint32_t irq_mask;
    char name[KC_NAME_MAX];
    int module; /* boot module it came from, -1 if none */

    /* Generation of each capability slot's newest handle; it outlives
     * deletions, so a slot's handles never repeat (for 2^32 - 1 uses). */
    uint32_t cap_gen[CAP_SLOTS];

    /* Threads and resources. Every kernel frame, thread slot and process
     * slot the process holds is charged to `quota` (docs/security.md). */
    struct thread *threads;
    struct quota quota;
    uint64_t stack_slots;              /* bit i: user stack slot i in use */
    uint64_t mapped_pages;             /* user-pool pages, mapped by the memory server */
    uint64_t grant_table, grant_slots; /* registered with KC_GRANT_TABLE */

    /* Map grants (grant_map.c): the mappings in our window, part of the
     * process slot like the capabilities; and how many mappings, in
     * anyone's window, are of our own pages. */
    struct grant_map gmaps[GRANT_MAPS_MAX];
    uint32_t gmaps_out;

    /* Devices handed to us by the bus server (KC_DEV_ASSIGN): physical
     * windows we may map uncached, and interrupt lines we may bind. Set
     * only by a PRIV_BUS process; gone with us. */
    struct dev_window {
        uint64_t base, size; /* size 0: unused */
    } dev_windows[KC_DEV_WINDOWS];
    uint32_t dev_irqs; /* bit i: line i */

    /* Deaths of processes we reaped, waiting for KC_WAIT_DEATH. */
    struct death deaths[64];
    uint32_t ndeaths;
};

extern struct thread threads[MAX_THREADS];
extern struct proc procs[MAX_PROCS];

/* Thread for a tid (or badge's tid), or 0 if that thread no longer exists. */
struct thread *thread_by_tid(uint32_t tid);
struct proc *proc_by_pid(uint32_t pid);

/* Create a thread in p; precondition: p alive. Returns 0 when out of slots
 * or memory. The thread starts READY at rip with rdi = arg. */
struct thread *thread_create(struct proc *p, uint64_t rip, uint64_t arg, uint8_t prio);

/* End one thread: it leaves every queue, and everyone blocked on it gets
 * -E_DEAD. Precondition: t is not free. */
void thread_destroy(struct thread *t);

/* End the calling thread; the last thread's exit ends the process. */
void thread_exit(struct thread *t);

/* Create a process from an ELF image with the budget `budget`, carved out
 * of its reaper's (the root, which has no reaper, gets it as it is).
 * Returns 0 with *out set to the new process, or a negative error
 * (-E_NOMEM / -E_LIMIT when the reaper cannot lend the budget). */
int proc_spawn(const void *elf, uint64_t size, const char *name, uint32_t privs, uint8_t prio,
               struct proc *reaper, const uint64_t budget[Q_KINDS], struct proc **out);

/* Kill p (all threads), free its memory, report to its reaper. */
void proc_kill(struct proc *p, uint32_t reason, uint64_t detail);

/* The first process, which nobody may kill (the boot server). */
int proc_is_root(const struct proc *p);

/* Install a capability to t in p's table: the lowest slot >= 3 that is
 * empty or whose thread is gone, with a new generation. Returns the handle,
 * or -E_LIMIT. */
long cap_install(struct proc *p, struct thread *t, uint32_t rights);

/* Put a capability to t at one of the fixed slots (HANDLE_PARENT,
 * HANDLE_NAMES) of a process being created: handle = slot. */
void cap_set_fixed(struct proc *p, uint64_t slot, struct thread *t, uint32_t rights);

/* The capability handle h names in p, or 0: h is 0, stale, or its slot
 * empty (-E_BADHANDLE is the caller's answer then). */
struct cap *cap_of(struct proc *p, uint64_t h);

/* Empty the slot of capability c in p (its handle stops working). */
void cap_delete(struct proc *p, struct cap *c);

/* Whether t is still the thread that had `tid` when a reference to it was
 * taken: thread slots are reused under new tids, so a pointer alone may
 * name a newer thread. Every kept reference (capabilities, IRQ bindings)
 * is checked this way and no other. */
static inline int thread_still(const struct thread *t, uint32_t tid)
{
    return t && t->tid == tid;
}

/* The live capability handle h names in p with the given right, or 0
 * (err: -E_BADHANDLE, -E_DEAD or -E_PERM, in that order). The one lookup
 * the C side makes; the fast path in entry.S makes the same checks. */
const struct cap *cap_get(struct proc *p, uint64_t h, uint32_t right, int *err);

/* cap_get's thread, for callers that need no more than that. */
struct thread *cap_lookup(struct proc *p, uint64_t h, uint32_t right, int *err);

const char *thread_state_name(uint8_t state);
#endif

#endif
