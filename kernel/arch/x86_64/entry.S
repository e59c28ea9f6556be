/*
 * SYSCALL entry, the IPC fast path, and the return to user mode.
 *
 * Register contract (abi/syscall.h): RAX = call number in, status out;
 * RDI handle/badge, RSI info, RDX handle to pass; the message in
 * R8 R9 R10 R12 R13 R14 R15 RBX. The CPU put the user RIP in RCX and RFLAGS
 * in R11, and masked RFLAGS with SFMASK (syscall_init):
 *   IF  - no interrupt until we are on the kernel stack; the kernel is not
 *         preemptible anyway, it re-enables interrupts only when idle.
 *   DF  - the C code assumes string operations go forward.
 *   TF  - a single-stepping user would otherwise trap on our first
 *         instruction, still on its own stack.
 *   AC  - with SMAP, AC=1 would let the kernel touch user pages.
 *   NT  - a stale nested-task flag must not reach kernel code.
 *
 * Fast path (docs/abi.md, "When a call takes the fast path"): CALL to a
 * thread already waiting in a receive, and REPLY_RECV to a caller waiting
 * for our reply with nobody queued behind. Then the message stays in its
 * registers: the kernel saves four registers of the sender, restores four
 * of the receiver, writes RAX/RDI/RDX and returns. NOTIFY, RECV from any
 * and the grant copies have paths of their own here too (section 3.7-3.8
 * there). Anything else goes to syscall_dispatch() in C with every
 * register saved (the slow path, which defines the semantics).
 *
 * SMP (docs/architecture.md, "SMP: the design"): each fast path holds this
 * CPU's lock, which every slow path also holds, and touches only threads
 * of this CPU and its run queues (%gs:); so it needs no other lock. The
 * lean grant copy runs C that needs the kernel lock: with more than one
 * CPU it takes the slow path. With one CPU online none of that is needed
 * (the kernel lock is not taken either, klock.h): the paths are assembled
 * twice (FAST_PATHS), and MSR_LSTAR names the entry whose table leads to
 * the variant for the CPUs online, chosen once before any user code runs.
 */
#include <abi/ipc.h>
#include <abi/syscall.h>

#include "../../proc.h"
#include "asm_offsets.h" /* T_*, P_*, CAP_*, PCPU_*: generated (asm_offsets.c) */
#include "gdt.h"
#include "user_regs_asm.h"

/* entry_table's calls: every number the kernel knows (and the benchmark's). */
#ifdef GRANITE_BENCH
#define ENTRY_TABLE_SIZE (SYS_BENCH_FLOOR + 1)
#else
#define ENTRY_TABLE_SIZE SYS_COUNT
#endif

/* The notify and receive fast paths write BADGE_KERNEL as a zeroed register. */
.if BADGE_KERNEL != 0
.error "BADGE_KERNEL is not 0"
.endif

/* Shared steps of the two fast paths. */

/* Flags, a timeout or a reserved bit in the info word, or more than 64
 * bytes: take the slow path (RAX is reloaded there; RDX may be an input). */
.macro FAST_CHECK_INFO slow
    movabs $IPC_INFO_SLOW_BITS, %rax
    test %rax, %rsi
    jnz \slow
    cmp $IPC_MSG_BYTES, %sil
    ja \slow
.endm

/* RAX = current thread; its user RIP and RFLAGS saved, freeing RCX, R11. */
.macro FAST_SAVE_RETURN
    mov %gs:PCPU_CUR, %rax
    mov %rcx, T_RIP(%rax)
    mov %r11, T_RFLAGS(%rax)
.endm

/* The rest of what a thread blocked in a syscall needs: RBP and RSP
 * (still the user's: the fast paths run on no stack). */
.macro FAST_PARK
    mov %rbp, T_RBP(%rax)
    mov %rsp, T_RSP(%rax)
    movb $0, T_FULL(%rax)
.endm

/* This CPU's lock: the fast paths' only one, in their SMP variant (smp =
 * 1). Taken means a slow path runs somewhere and would make us wait
 * anyway: go the slow way, where the kernel lock is taken. With one CPU
 * online nobody else runs kernel code: the variant for it (smp = 0) has
 * neither lock nor release. */
.macro FAST_LOCK smp, slow
.if \smp
    lock btsl $0, %gs:PCPU_LOCK
    jc \slow
.endif
.endm

.macro FAST_UNLOCK smp
.if \smp
    movl $0, %gs:PCPU_LOCK
.endif
.endm

/* May the thread at \t run here at once, by the fast path? Not if it
 * lives on another CPU (the slow path wakes it there), a higher priority
 * is ready here (let the scheduler choose), or either thread has FPU
 * state (the slow path saves and restores it): its cpu:fpu_fresh:prio
 * word minus sched_fast is above 0xff (arch/x86_64/pcpu.h; not 0xffff: a
 * thread of the next CPU whose low half is below sched_fast's borrows
 * from the cpu field and lands just under 0x10000). With one CPU online
 * every cpu field is 0: the 16-bit fpu_fresh:prio compare says the same
 * in one instruction less. Clobbers R11. */
.macro FAST_MAY_RUN smp, t, slow
.if \smp
    mov T_PRIO(\t), %r11d
    sub %gs:PCPU_SCHED_FAST, %r11d
    cmp $SCHED_FAST_MAX_DIFF, %r11d
    ja \slow
.else
    movzwl T_PRIO(\t), %r11d
    cmp %gs:PCPU_SCHED_FAST, %r11w
    jb \slow
.endif
.endm

/* Back out after FAST_SAVE_RETURN: RCX and R11 as SYSCALL left them, RDX
 * cleared (it held a kernel pointer and is no input here), RAX = call. */
.macro FAST_BAIL smp, nr
    FAST_UNLOCK \smp
    mov T_RIP(%rax), %rcx
    mov T_RFLAGS(%rax), %r11
    xor %edx, %edx
    mov $\nr, %eax
    jmp slow_path
.endm

/* Every user register but RCX, R11, RSP and RDI, from the thread at RDI. */
.macro RESTORE_COMMON
    mov T_RAX(%rdi), %rax
    mov T_RDX(%rdi), %rdx
    mov T_RSI(%rdi), %rsi
    mov T_RBP(%rdi), %rbp
    RESTORE_MRS %rdi
.endm

/* The SYSRETQ half of resume_regs: to `bad` when RIP is not canonical
 * user; with null_gs, GS is nulled after the SWAPGS (as fast_switch does),
 * from memory: every register is the thread's by then. */
.macro RESUME_SYSRET bad, null_gs
    mov T_RIP(%rdi), %rcx
    mov %rcx, %rax
    shr $47, %rax
    jnz \bad
    mov T_RFLAGS(%rdi), %r11
    RESTORE_COMMON
    mov T_RSP(%rdi), %rsp
    mov T_RDI(%rdi), %rdi
    swapgs
.if \null_gs
    mov null_selector(%rip), %gs
.endif
    sysretq
.endm

/* Null DS, ES, FS and GS (clobbers EAX); see arch_null_user_selectors. */
.macro NULL_USER_SELECTORS
    xor %eax, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    swapgs
    mov %eax, %gs
    swapgs
.endm

/*
 * Switch to the thread in RDX, which blocked in a syscall (only RIP, RSP,
 * RFLAGS and RBP of it are live), handing it RDI = badge, RSI = info and
 * the message registers as they are.
 *
 * Segment selectors: DS, ES, FS and GS are not saved per thread; user code
 * may load any of a few values into them and read them back, so they must
 * not travel from one process to another. Between two threads of one
 * address space (one process) they may; so they are reset (to null) only
 * where CR3 is written anyway, here and in sched_load_as.
 */
.macro FAST_RETURN smp, null_selectors
    mov T_RIP(%rdx), %rcx
    /* SYSRET to a non-canonical RIP raises #GP in ring 0 on the user's
     * stack. RIP came from the thread's own SYSCALL, so it is canonical
     * and below the user top, but the check is three instructions. */
    mov %rcx, %rax
    shr $47, %rax                       /* RAX = 0 when canonical user: the status */
    jnz fast_bad_rip
    mov T_RFLAGS(%rdx), %r11
    mov T_RSP(%rdx), %rsp
    mov T_RBP(%rdx), %rbp
    xor %edx, %edx                      /* no handle transferred */
    FAST_UNLOCK \smp                    /* both threads are saved or loaded */
.if \null_selectors
    mov %edx, %ds
    mov %edx, %es
    mov %edx, %fs
.endif
    swapgs
.if \null_selectors
    mov %edx, %gs                       /* after swapgs: the base it sets is the user's */
.endif
    sysretq
.endm

/* Each call to its path (entry_table): a fast or lean one, or the slow
 * path. Still on the user's RSP: the fast paths use no stack, so they
 * neither save nor load it; only slow_path and the lean grant copy
 * switch to the kernel stack. Nothing can arrive meanwhile on a stack
 * it should not: IF and TF are masked (SFMASK), NMI, #DF and #MC have
 * IST stacks of their own, and these paths touch only kernel data.
 * Two entries, one per variant of the paths (FAST_PATHS): MSR_LSTAR
 * names the one for the CPUs online (syscall_choose_entry). */
.macro SYSCALL_ENTRY sfx
    .align 64
    .global syscall_entry\sfx
syscall_entry\sfx:
    swapgs
    cmp $ENTRY_TABLE_SIZE, %rax
    jae slow_path
    jmp *entry_table\sfx(, %rax, 8)
.endm

    .text
    SYSCALL_ENTRY _up
    SYSCALL_ENTRY _smp

slow_path:
    mov %rsp, %gs:PCPU_USER_RSP
    mov %gs:PCPU_KSTACK_TOP, %rsp
    incq %gs:PCPU_SLOW_CALLS
    push %rax                           /* scratch: the thread pointer */
    mov %gs:PCPU_CUR, %rax
    mov %rcx, T_RIP(%rax)
    mov %r11, T_RFLAGS(%rax)
    mov %gs:PCPU_USER_RSP, %rcx
    mov %rcx, T_RSP(%rax)
    pop %rcx
    mov %rcx, T_RAX(%rax)
    SAVE_ARGS %rax
    movb $0, T_FULL(%rax)
    mov %rax, %rdi
    xor %ebp, %ebp                      /* backtraces stop here */
    call syscall_dispatch               /* ends in kernel_exit(), never returns */
    ud2

/* The fast paths, assembled twice: FAST_PATHS 0, _up for one CPU online,
 * FAST_PATHS 1, _smp for more; they differ only in this CPU's lock, the
 * notify target's CPU check and FAST_MAY_RUN. */
.macro FAST_PATHS smp, sfx
/* ---- fast path: CALL ------------------------------------------------- */
fast_call\sfx:
    FAST_CHECK_INFO call_slow\sfx
    FAST_LOCK \smp, call_slow\sfx
    FAST_SAVE_RETURN
    mov T_PROC(%rax), %rdx
    mov %edi, %ecx
    and $CAP_SLOT_MASK, %ecx
    shl $CAP_SHIFT, %ecx
    lea P_CAPS(%rdx, %rcx), %rcx        /* rcx = &caps[handle's slot] */
    cmp CAP_HANDLE(%rcx), %rdi          /* it names this cap: in range, current generation, */
    jne call_slow_saved\sfx                 /* not empty, not the kernel (see struct cap) */
    mov (%rcx), %rdx                    /* rdx = target thread */
    mov CAP_TID(%rcx), %r11             /* tid | rights << 32 */
    cmp T_TID(%rdx), %r11d              /* target died since the cap was made */
    jne call_slow_saved\sfx
    bt $32, %r11                        /* CAP_RIGHT_SEND */
    jnc call_slow_saved\sfx
    cmpb $TS_RECV, T_STATE(%rdx)        /* target must be waiting ... */
    jne call_slow_saved\sfx
    mov T_RECV_FROM(%rdx), %r11d        /* ... for anyone, or for us */
    test %r11d, %r11d
    jz 1f
    cmp T_TID(%rax), %r11d
    jne call_slow_saved\sfx
1:
    FAST_MAY_RUN \smp, %rdx, call_slow_saved\sfx
    /* Commit: we wait for the reply, the target runs with our message. */
    movb $TS_REPLY, T_STATE(%rax)
    mov %rdx, T_PARTNER(%rax)
    movq $0, T_WAKE(%rax)               /* no timeout on this call (slow bits were clear) */
    FAST_PARK
    movq $0, T_WAKE(%rdx)
    mov T_BADGE(%rax), %rdi             /* the receiver learns who called */
    incq %gs:PCPU_FAST_CALLS
    jmp fast_switch\sfx
call_slow_saved\sfx:
    FAST_BAIL \smp, SYS_IPC_CALL
call_slow\sfx:
    mov $SYS_IPC_CALL, %eax
    jmp slow_path

/* ---- fast path: REPLY_RECV ------------------------------------------- */
fast_reply_recv\sfx:
    FAST_CHECK_INFO rr_slow\sfx
    FAST_LOCK \smp, rr_slow\sfx
    FAST_SAVE_RETURN
    cmpq $0, T_SENDQ(%rax)              /* a sender is queued: it is next, slow path */
    jne rr_slow_saved\sfx
    cmpq $0, T_NOTIFY(%rax)             /* a notification is pending: same */
    jne rr_slow_saved\sfx
    mov %edi, %edx                      /* badge -> thread slot */
    and $ID_SLOT_MASK, %edx
    cmp $MAX_THREADS, %edx
    jae rr_slow_saved\sfx
    shl $THREAD_SHIFT, %rdx
    lea threads(%rdx), %rdx
    cmp T_TID(%rdx), %edi               /* that thread still exists */
    jne rr_slow_saved\sfx
    cmpb $TS_REPLY, T_STATE(%rdx)       /* ... and waits for our reply */
    jne rr_slow_saved\sfx
    cmp T_PARTNER(%rdx), %rax
    jne rr_slow_saved\sfx
    FAST_MAY_RUN \smp, %rdx, rr_slow_saved\sfx
    /* Commit: we wait for anyone's next message, the caller runs. */
    movb $TS_RECV, T_STATE(%rax)
    movl $0, T_RECV_FROM(%rax)
    movq $0, T_WAKE(%rax)
    movq $0, T_WAKE(%rdx)               /* the caller's deadline is over: it has its reply */
    FAST_PARK
    mov T_BADGE(%rax), %rdi             /* the caller learns who answered */
    incq %gs:PCPU_FAST_RR
    jmp fast_switch\sfx
rr_slow_saved\sfx:
    FAST_BAIL \smp, SYS_IPC_REPLY_RECV
rr_slow\sfx:
    mov $SYS_IPC_REPLY_RECV, %eax
    jmp slow_path

/* ---- fast path: NOTIFY ------------------------------------------------ */
/* RDI = handle, RSI = bits. The target takes the bits now if it waits in a
 * receive from anyone (as deliver_notification, into its saved registers,
 * and it is queued as sched_ready does), else they wait in its notify
 * word. We go on running either way, as on the slow path: so a target of
 * higher priority than ours (kernel_exit would switch to it) is declined.
 * Only RAX changes; RCX is scratch (kept in pcpu.scratch meanwhile). */
fast_notify\sfx:
    FAST_LOCK \smp, slow_path                 /* RAX is still SYS_IPC_NOTIFY */
    mov %rcx, %gs:PCPU_SCRATCH
    mov %gs:PCPU_CUR, %rax
    mov T_PROC(%rax), %rax
    mov %edi, %ecx                      /* the capability, as in fast_call */
    and $CAP_SLOT_MASK, %ecx
    shl $CAP_SHIFT, %ecx
    lea P_CAPS(%rax, %rcx), %rcx
    cmp CAP_HANDLE(%rcx), %rdi
    jne notify_slow\sfx
    mov (%rcx), %rax                    /* rax = target thread */
    mov CAP_TID(%rcx), %rcx
    cmp T_TID(%rax), %ecx
    jne notify_slow\sfx
    bt $32, %rcx                        /* CAP_RIGHT_SEND */
    jnc notify_slow\sfx
.if \smp
    movzwl T_CPU(%rax), %ecx            /* a thread of another CPU: its fast */
    cmp %gs:PCPU_ID, %ecx               /* paths may touch its notify word */
    jne notify_slow\sfx
.endif
    cmpb $TS_RECV, T_STATE(%rax)
    jne notify_pend\sfx
    cmpl $0, T_RECV_FROM(%rax)          /* waiting for one sender: bits wait */
    je notify_wake\sfx
notify_pend\sfx:
    or %rsi, T_NOTIFY(%rax)
lean_notify_done\sfx:
    mov %gs:PCPU_SCRATCH, %rcx
    xor %eax, %eax
    FAST_UNLOCK \smp
    swapgs
    sysretq
notify_wake\sfx:
    test %rsi, %rsi                     /* no bits: nothing to deliver, nobody woken */
    jz lean_notify_done\sfx
    mov %gs:PCPU_CUR, %rcx
    movzbl T_PRIO(%rcx), %ecx
    cmp %cl, T_PRIO(%rax)               /* it would preempt us: kernel_exit's choice */
    ja notify_slow\sfx
    mov T_NOTIFY(%rax), %rcx            /* deliver_notification */
    or %rsi, %rcx
    mov %rcx, T_MR(%rax)
    xor %ecx, %ecx
    mov %rcx, T_NOTIFY(%rax)
    mov %rcx, T_RAX(%rax)
    mov %rcx, T_RDI(%rax)               /* BADGE_KERNEL */
    mov %rcx, T_RDX(%rax)
    mov %rcx, T_WAKE(%rax)
    movq $NOTIFICATION_INFO, T_RSI(%rax)
    movw $TS_READY, T_STATE(%rax)       /* sched_ready: accept_cap = 0 too */
    mov %rcx, T_RQ_NEXT(%rax)
    movzbl T_PRIO(%rax), %ecx
    cmpq $0, %gs:PCPU_RQ_TAIL(, %rcx, 8)
    jne notify_link\sfx
    mov %rax, %gs:PCPU_RQ_HEAD(, %rcx, 8) /* the queue was empty */
notify_linked\sfx:
    mov %rax, %gs:PCPU_RQ_TAIL(, %rcx, 8)
    bts %ecx, %gs:PCPU_RQ_BITMAP
    cmp %gs:PCPU_SCHED_FAST, %cl        /* ready_max */
    jbe lean_notify_done\sfx
    mov %cl, %gs:PCPU_SCHED_FAST
    jmp lean_notify_done\sfx
notify_link\sfx:                            /* behind the queue's last */
    mov %gs:PCPU_RQ_TAIL(, %rcx, 8), %rcx
    mov %rax, T_RQ_NEXT(%rcx)
    movzbl T_PRIO(%rax), %ecx
    jmp notify_linked\sfx
notify_slow\sfx:
    FAST_UNLOCK \smp
    mov %gs:PCPU_SCRATCH, %rcx
    mov $SYS_IPC_NOTIFY, %eax
    jmp slow_path

/* ---- fast path: RECV ------------------------------------------------ */
/* RDI = IPC_ANY only (a named sender needs a lookup). A pending
 * notification is delivered at once, into the live registers. Else,
 * with no flag and no timeout in RSI, nobody queued, and a thread ready
 * to run that has no FPU state while none is live (the fast_call test
 * against sched_fast), we block as recv_phase does and resume the first
 * thread of the highest ready queue as kernel_exit would. */
fast_recv\sfx:
    cmp $IPC_ANY, %rdi
    jne slow_path
    FAST_LOCK \smp, slow_path                 /* RAX is still SYS_IPC_RECV */
    mov %gs:PCPU_CUR, %rax
    cmpq $0, T_NOTIFY(%rax)
    je recv_block\sfx
    /* deliver_notification. Not its wake_tick = 0: a running thread's
     * deadline means nothing (ipc_timeouts clears it), and every block
     * sets it. */
    mov T_NOTIFY(%rax), ABI_ASM_MR0
    movq $0, T_NOTIFY(%rax)
    xor %eax, %eax
    xor %edi, %edi                      /* BADGE_KERNEL */
    mov $NOTIFICATION_INFO, %esi
    xor %edx, %edx
    FAST_UNLOCK \smp
    swapgs
    sysretq
recv_block\sfx:
    mov %rcx, T_RIP(%rax)
    mov %r11, T_RFLAGS(%rax)
    test %rsi, %rsi                     /* NONBLOCK, ACCEPT, a timeout, any bit: slow */
    jnz recv_bail\sfx
    cmpq $0, T_SENDQ(%rax)              /* a queued sender is taken first */
    jne recv_bail\sfx
    movzbl %gs:PCPU_SCHED_FAST, %ecx    /* ready_max (0: nobody, rq.head[0] is */
    mov %gs:PCPU_RQ_HEAD(, %rcx, 8), %rdi /* sched.c's no_thread, which fails below) */
    movzwl T_PRIO(%rdi), %r11d          /* who kernel_exit would pick: its */
    cmp %gs:PCPU_SCHED_FAST, %r11w      /* fpu_fresh:prio, as in fast_call */
    jb recv_bail\sfx
    /* Commit: park as TS_RECV from anyone, with the registers a
     * notification does not overwrite (MR1..MR7) saved too. One quadword
     * clears recv_from and full_ctx (and is_call, which only a send
     * reads, and the reserved bytes: asm_offsets.c checks the layout). */
    mov %rbp, T_RBP(%rax)
    mov %rsp, T_RSP(%rax)
    movq $0, T_RECV_FROM(%rax)
    movw $TS_RECV, T_STATE(%rax)        /* accept_cap = 0: ACCEPT is a slow bit */
    movq $0, T_WAKE(%rax)
    SAVE_MRS_1_7 %rax
    /* pop_highest (its rq_next = 0 is left out: a running thread's is
     * never read, and sched_ready sets it) */
    mov T_RQ_NEXT(%rdi), %r11
    mov %r11, %gs:PCPU_RQ_HEAD(, %rcx, 8)
    test %r11, %r11
    jnz 1f
    movq $0, %gs:PCPU_RQ_TAIL(, %rcx, 8)
    btr %ecx, %gs:PCPU_RQ_BITMAP
    xor %ecx, %ecx
    bsr %gs:PCPU_RQ_BITMAP, %r11d       /* ZF: no bit left */
    cmovnz %r11d, %ecx
    mov %cl, %gs:PCPU_SCHED_FAST
    /* kernel_exit: it runs, with a new slice if its last one is over */
1:  movb $TS_RUNNING, T_STATE(%rdi)
    cmpl $0, T_SLICE(%rdi)
    jne 2f
    movl $SCHED_SLICE_TICKS, T_SLICE(%rdi)
2:  mov %rdi, %gs:PCPU_CUR
    mov T_PROC(%rdi), %rax
    mov P_CR3(%rax), %rax
    cmp %rax, %gs:PCPU_CR3
    jne 4f
    FAST_UNLOCK \smp                    /* both threads are saved or this CPU's */
    jmp resume_regs
4:  mov %rax, %cr3
    mov %rax, %gs:PCPU_CR3
    FAST_UNLOCK \smp                    /* after pcpu.cr3: what TLB shootdown reads */
    incq %gs:PCPU_AS_SWITCH
    /* Another process: null selectors (arch_null_user_selectors), GS
     * after the last SWAPGS as fast_switch does, when leaving by SYSRET. */
    xor %eax, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    cmpb $0, T_FULL(%rdi)
    jne 3f
    RESUME_SYSRET 3f, 1
3:  swapgs
    mov null_selector(%rip), %gs
    swapgs
    jmp resume_iret
recv_bail\sfx:
    mov $IPC_ANY, %rdi
    FAST_BAIL \smp, SYS_IPC_RECV

fast_switch\sfx:
    movw $TS_RUNNING, T_STATE(%rdx)     /* and accept_cap = 0: it asked for a handle, got none */
    mov %rdx, %gs:PCPU_CUR
    mov T_PROC(%rdx), %rax
    mov P_CR3(%rax), %rax
    cmp %rax, %gs:PCPU_CR3              /* same address space: no CR3 write, */
    jne fast_switch_as\sfx                  /* which under TCG flushes the whole soft-TLB */
    FAST_RETURN \smp, 0
fast_switch_as\sfx:
    mov %rax, %cr3
    mov %rax, %gs:PCPU_CR3
    incq %gs:PCPU_AS_SWITCH
    FAST_RETURN \smp, 1
.endm

    FAST_PATHS 0, _up
    FAST_PATHS 1, _smp

fast_bad_rip:
    /* Cannot happen (see above); if it did, the thread's process is
     * killed rather than resumed at that address. */
    FAST_UNLOCK 1                       /* kernel_bad_resume takes the kernel lock (with one
                                         * CPU nobody takes this lock: no harm) */
    mov %gs:PCPU_KSTACK_TOP, %rsp
    mov %rdx, %rdi
    call kernel_bad_resume
    ud2

/* ---- lean path: grant copies ---------------------------------------- */
/* A grant copy never blocks, wakes nobody and changes no scheduling
 * state: its caller resumes at once. So rather than the slow path (every
 * register saved, syscall_dispatch, kernel_exit), save what the C call may
 * clobber and the caller must get back, call grant_copy_lean with the
 * arguments in registers, and SYSRET to the RIP and RFLAGS SYSCALL left
 * in RCX and R11: canonical, as every SYSCALL's (section 4 of
 * docs/abi.md: nothing is mapped at or above USER_TOP). */
lean_grant_copy:                        /* one CPU online only: it runs C without the kernel lock */
    mov %rsp, %gs:PCPU_USER_RSP
    mov %gs:PCPU_KSTACK_TOP, %rsp
    push %rcx
    push %r11
    push %rdi
    push %rsi
    push %rdx
    push %r8
    push %r9
    push %r10
    mov ABI_ASM_MR0, %rcx               /* local address */
    mov ABI_ASM_MR1, %r8                /* length */
    mov %eax, %r9d                      /* SYS_GRANT_COPY_FROM or _TO */
    call grant_copy_lean
    pop %r10
    pop %r9
    pop %r8
    pop %rdx
    pop %rsi
    pop %rdi
    pop %r11
    pop %rcx
    mov %gs:PCPU_USER_RSP, %rsp
    swapgs
    sysretq

/* The entries' dispatch: each call number's path, per variant. */
    .section .rodata
null_selector:                          /* GS's, loaded from memory (RESUME_SYSRET) */
    .word 0
    .align 8
.macro ENTRY_TABLE smp, sfx
entry_table\sfx:
    .set nr, 0
    .rept ENTRY_TABLE_SIZE
    .if nr == SYS_IPC_CALL
    .quad fast_call\sfx
    .elseif nr == SYS_IPC_REPLY_RECV
    .quad fast_reply_recv\sfx
    .elseif nr == SYS_IPC_NOTIFY
    .quad fast_notify\sfx
    .elseif nr == SYS_IPC_RECV
    .quad fast_recv\sfx
    .elseif (nr == SYS_GRANT_COPY_FROM || nr == SYS_GRANT_COPY_TO) && \smp == 0
    .quad lean_grant_copy
#ifdef GRANITE_BENCH
    .elseif nr == SYS_BENCH_NULL
    .quad bench_null
    .elseif nr == SYS_BENCH_FLOOR
    .quad bench_floor
#endif
    .else
    .quad slow_path
    .endif
    .set nr, nr + 1
    .endr
.endm

    ENTRY_TABLE 0, _up
    ENTRY_TABLE 1, _smp
    .text

/*
 * void arch_resume_user(struct thread *t): leave the kernel into t, whose
 * address space is loaded: the one way back to user mode for every entry
 * (SYSCALL's slow path, interrupts and exceptions from user mode), all of
 * which saved into t->regs. First its FPU state, unless none is in play
 * (fpu.h). Then SYSRETQ or IRETQ, by this rule:
 *   SYSRETQ loads RIP from RCX and RFLAGS from R11, so it can only resume
 *   a context in which RCX and R11 are dead: one that entered by SYSCALL
 *   (full_ctx = 0; the ABI says SYSCALL clobbers both). And only at a
 *   canonical user RIP: SYSRETQ to a non-canonical one raises #GP in ring
 *   0 on the user's stack. Everything else (interrupted or faulting
 *   threads, full_ctx = 1, whose RCX and R11 are live) leaves by IRETQ,
 *   which restores all of them. The fast path (fast_switch) always uses
 *   SYSRETQ: its target blocked in a SYSCALL, and it checks RIP too.
 * DS, ES, FS and GS are as the last user code of this address space left
 * them (see fast_switch and arch_null_user_selectors).
 */
    .global arch_resume_user
arch_resume_user:
    cmpq $0, %gs:PCPU_FPU_OWNER
    jne resume_fpu
    cmpb $0, T_FPU_FRESH(%rdi)
    je resume_fpu
resume_regs:
    cmpb $0, T_FULL(%rdi)
    jne resume_iret
    RESUME_SYSRET resume_iret, 0
resume_iret:
    mov %gs:PCPU_KSTACK_TOP, %rsp       /* from fast_recv we are on the user's */
    pushq $SEL_UDATA
    pushq T_RSP(%rdi)
    pushq T_RFLAGS(%rdi)
    pushq $SEL_UCODE
    pushq T_RIP(%rdi)
    mov T_RCX(%rdi), %rcx
    mov T_R11(%rdi), %r11
    RESTORE_COMMON
    mov T_RDI(%rdi), %rdi
    swapgs
    iretq
resume_fpu:
    push %rdi                           /* also aligns the stack for the call */
    call fpu_switch
    pop %rdi
    jmp resume_regs

/*
 * void arch_null_user_selectors(void): null DS, ES, FS and GS for the user
 * code about to run (sched_load_as, when the address space changes, as
 * fast_switch does). GS is loaded between two SWAPGS, so the base the
 * load sets (0) is the user's, not the kernel's per-CPU base; interrupts
 * are off in the kernel.
 */
    .global arch_null_user_selectors
arch_null_user_selectors:
    NULL_USER_SELECTORS
    ret

#ifdef GRANITE_BENCH
/* ---- benchmark kernel only -------------------------------------------- */

/* Null SYSCALL: straight back. */
bench_null:
    swapgs
    sysretq

/* The floor of a thread switch: save RIP/RFLAGS/RSP of the caller, load
 * those of the thread in slot RDI, switch CR3 if needed, SYSRET. No checks
 * and no register saved or cleared; only the two state bytes change, so a
 * timer tick in the middle of a run still finds a running thread. */
bench_floor:
    and $ID_SLOT_MASK, %edi
    cmp $MAX_THREADS, %edi              /* the one check: stay inside threads[] */
    jae bench_null                      /* (before RCX, RAX change: a plain return) */
    mov %gs:PCPU_CUR, %rax
    mov %rcx, T_RIP(%rax)
    mov %r11, T_RFLAGS(%rax)
    mov %rsp, T_RSP(%rax)
    movb $TS_SLEEP, T_STATE(%rax)       /* parked (no deadline) */
    shl $THREAD_SHIFT, %rdi
    lea threads(%rdi), %rdx
    movb $TS_RUNNING, T_STATE(%rdx)
    mov %rdx, %gs:PCPU_CUR
    mov T_PROC(%rdx), %rax
    mov P_CR3(%rax), %rax
    cmp %rax, %gs:PCPU_CR3
    je 1f
    mov %rax, %cr3
    mov %rax, %gs:PCPU_CR3
1:  mov T_RIP(%rdx), %rcx
    mov T_RFLAGS(%rdx), %r11
    mov T_RSP(%rdx), %rsp
    swapgs
    sysretq

/* Software interrupt entry (a DPL 3 gate on vector 0x80, installed only in
 * this kernel): the same null round trip through the IDT and IRETQ. */
    .global bench_int80_entry
bench_int80_entry:
    swapgs
    swapgs
    iretq

/* Trap entry: UD2 with RAX = SYS_BENCH_NULL from user mode is a null call
 * (RIP steps over the 2-byte UD2); every other #UD takes the normal path. */
    .global bench_ud_entry
bench_ud_entry:
    testb $3, 8(%rsp)
    jz 2f
    cmp $SYS_BENCH_NULL, %rax
    jne 2f
    swapgs
    addq $2, (%rsp)
    swapgs
    iretq
2:  jmp *trap_stub_table + 6 * 8(%rip)
#endif

/*
 * SYSCALL from 32-bit compatibility mode lands here (MSR_CSTAR). Granite
 * has no 32-bit user code segment, so this should be unreachable; if a CPU
 * gets here anyway, the process that did it is killed.
 */
    .global syscall_entry_compat
syscall_entry_compat:
    swapgs
    mov %gs:PCPU_KSTACK_TOP, %rsp
    mov %gs:PCPU_CUR, %rdi
    call kernel_bad_syscall_mode
    ud2

/* void vm_run_on_stack(uint64_t top, void (*fn)(void)): never returns. */
    .global vm_run_on_stack
vm_run_on_stack:
    mov %rdi, %rsp
    xor %ebp, %ebp
    call *%rsi
    ud2
