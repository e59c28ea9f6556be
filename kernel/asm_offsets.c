/*
 * The struct offsets the entry assembly uses, computed by the compiler from
 * the structs themselves (the Linux/seL4 asm-offsets technique): this file is
 * only compiled to assembly, and tools/asm-offsets.sh turns each line below
 * into a #define of the generated asm_offsets.h (kernel/CMakeLists.txt).
 */
#include <stddef.h>

#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/trap.h"
#include "ipc.h"
#include "proc.h"
#include "sched.h"

/* Emits "@ASM_OFFSET sym value" into the assembly; never run or linked. */
#define DEFINE(sym, val)         __asm__ volatile("\n.ascii \"@ASM_OFFSET " #sym " %c0\"" ::"i"(val))
#define OFFSET(sym, type, field) DEFINE(sym, offsetof(type, field))

void asm_offsets(void);

void asm_offsets(void)
{
    /* struct thread: the saved user registers ... */
    OFFSET(T_MR, struct thread, regs.mr);
    OFFSET(T_RAX, struct thread, regs.rax);
    OFFSET(T_RCX, struct thread, regs.rcx);
    OFFSET(T_RDX, struct thread, regs.rdx);
    OFFSET(T_RSI, struct thread, regs.rsi);
    OFFSET(T_RDI, struct thread, regs.rdi);
    OFFSET(T_RBP, struct thread, regs.rbp);
    OFFSET(T_R11, struct thread, regs.r11);
    OFFSET(T_RIP, struct thread, regs.rip);
    OFFSET(T_RSP, struct thread, regs.rsp);
    OFFSET(T_RFLAGS, struct thread, regs.rflags);
    /* ... and what the fast path reads and writes. */
    OFFSET(T_STATE, struct thread, state);
    OFFSET(T_PRIO, struct thread, prio);
    OFFSET(T_FPU_FRESH, struct thread, fpu_fresh);
    OFFSET(T_CPU, struct thread, cpu);
    OFFSET(T_TID, struct thread, tid);
    OFFSET(T_PROC, struct thread, proc);
    OFFSET(T_BADGE, struct thread, badge);
    OFFSET(T_PARTNER, struct thread, partner);
    OFFSET(T_RECV_FROM, struct thread, recv_from);
    OFFSET(T_FULL, struct thread, full_ctx);
    OFFSET(T_SENDQ, struct thread, sendq_head);
    OFFSET(T_NOTIFY, struct thread, notify);
    OFFSET(T_WAKE, struct thread, wake_tick);
    OFFSET(T_RQ_NEXT, struct thread, rq_next);
    OFFSET(T_SLICE, struct thread, slice);
    DEFINE(SCHED_SLICE_TICKS, SLICE_TICKS);
    DEFINE(NOTIFICATION_INFO, IPC_NOTIFICATION_INFO);

    OFFSET(P_CR3, struct proc, cr3);
    OFFSET(P_CAPS, struct proc, caps);
    OFFSET(CAP_TID, struct cap, tid);
    OFFSET(CAP_HANDLE, struct cap, handle);

    OFFSET(PCPU_KSTACK_TOP, struct percpu, kstack_top);
    OFFSET(PCPU_USER_RSP, struct percpu, user_rsp);
    OFFSET(PCPU_SCRATCH, struct percpu, scratch);
    OFFSET(PCPU_CUR, struct percpu, cur);
    OFFSET(PCPU_CR3, struct percpu, cr3);
    OFFSET(PCPU_FAST_CALLS, struct percpu, fast_calls);
    OFFSET(PCPU_FAST_RR, struct percpu, fast_reply_recvs);
    OFFSET(PCPU_SLOW_CALLS, struct percpu, slow_calls);
    OFFSET(PCPU_AS_SWITCH, struct percpu, as_switches);
    OFFSET(PCPU_LOCK, struct percpu, lock);
    OFFSET(PCPU_SCHED_FAST, struct percpu, sched_fast);
    _Static_assert(NUM_PRIO <= 256 && SCHED_FAST_OPEN == 1 && SCHED_FAST_SHUT == 2,
                   "the premises of SCHED_FAST_MAX_DIFF (arch/x86_64/pcpu.h)");
    DEFINE(SCHED_FAST_MAX_DIFF, SCHED_FAST_MAX_DIFF);
    OFFSET(PCPU_FPU_OWNER, struct percpu, fpu_owner);
    OFFSET(PCPU_ID, struct percpu, id);
    OFFSET(PCPU_RQ_HEAD, struct percpu, rq.head);
    OFFSET(PCPU_RQ_TAIL, struct percpu, rq.tail);
    OFFSET(PCPU_RQ_BITMAP, struct percpu, rq.bitmap);

    /* The stack at trap.S's common entry: vector, error code, CPU frame. */
    OFFSET(HW_RIP, struct trap_hw, rip);
    OFFSET(HW_CS, struct trap_hw, cs);
    OFFSET(HW_RFLAGS, struct trap_hw, rflags);
    OFFSET(HW_RSP, struct trap_hw, rsp);
}
