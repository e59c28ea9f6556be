/*
 * Interrupt and exception entry stubs. Each pushes a dummy error code where
 * the CPU does not, then its vector (struct trap_hw). From user mode,
 * trap_common saves every user register straight into the current thread's
 * user_regs, as the SYSCALL entry does, and leaves through kernel_exit() and
 * arch_resume_user like every other way back to user mode. From kernel mode
 * (the idle loop, or a kernel fault) it pushes a struct trap_frame for the
 * fault dump and returns by IRETQ. swapgs happens only for user mode, so GS
 * always holds the kernel's per-CPU base inside the kernel.
 */
#include "asm_offsets.h" /* T_*, PCPU_*, HW_*: generated (asm_offsets.c) */
#include "gdt.h"
#include "trap.h"
#include "user_regs_asm.h"

.macro STUB_NOERR n
    .align 16
trap_stub_\n:
    pushq $0
    pushq $\n
    jmp trap_common
.endm

.macro STUB_ERR n
    .align 16
trap_stub_\n:
    pushq $\n
    jmp trap_common
.endm

    .text
/* Vectors with a CPU error code: 8, 10-14, 17, 21, 29, 30. */
    STUB_NOERR 0
    STUB_NOERR 1
    STUB_NOERR 2
    STUB_NOERR 3
    STUB_NOERR 4
    STUB_NOERR 5
    STUB_NOERR 6
    STUB_NOERR 7
    STUB_ERR   8
    STUB_NOERR 9
    STUB_ERR   10
    STUB_ERR   11
    STUB_ERR   12
    STUB_ERR   13
    STUB_ERR   14
    STUB_NOERR 15
    STUB_NOERR 16
    STUB_ERR   17
    STUB_NOERR 18
    STUB_NOERR 19
    STUB_NOERR 20
    STUB_ERR   21
    STUB_NOERR 22
    STUB_NOERR 23
    STUB_NOERR 24
    STUB_NOERR 25
    STUB_NOERR 26
    STUB_NOERR 27
    STUB_NOERR 28
    STUB_ERR   29
    STUB_ERR   30
    STUB_NOERR 31
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,241,242,255
    STUB_NOERR \n
    .endr

trap_common:
    /* First, from user or kernel mode alike: an interrupt gate clears IF
     * and TF but keeps the interrupted code's AC and DF (SYSCALL has
     * SFMASK for that; here it is up to us).
     *   AC - user mode may set it (popf); with SMAP, AC = 1 would let every
     *        handler touch user pages. CLAC exists only on CPUs with SMAP,
     *        so the bit is cleared in the flags image, which works on all.
     *   DF - the C code assumes string operations go forward.
     * trap_dispatch asserts both are clear. */
    pushfq
    andq $~TRAP_ENTRY_CLEAR_FLAGS, (%rsp)
    popfq
    testb $3, HW_CS(%rsp)           /* CS of the interrupted context */
    jnz trap_from_user
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    call trap_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector, error code */
    iretq

/* Into pcpu.cur's user_regs, with full_ctx = 1: every register is live, so
 * it resumes by IRETQ (arch_resume_user). */
trap_from_user:
    swapgs
    push %rax                       /* scratch; its slot also aligns the stack for the call */
    mov %gs:PCPU_CUR, %rax
    SAVE_ARGS %rax
    mov %rcx, T_RCX(%rax)
    mov %r11, T_R11(%rax)
    mov (%rsp), %rcx
    mov %rcx, T_RAX(%rax)
    lea 8(%rsp), %rsi               /* struct trap_hw */
    mov HW_RIP(%rsi), %rcx
    mov %rcx, T_RIP(%rax)
    mov HW_RFLAGS(%rsi), %rcx
    mov %rcx, T_RFLAGS(%rax)
    mov HW_RSP(%rsi), %rcx
    mov %rcx, T_RSP(%rax)
    movb $1, T_FULL(%rax)
    mov %rax, %rdi
    xor %ebp, %ebp                  /* backtraces stop here */
    call trap_dispatch_user         /* ends in kernel_exit(), never returns */
    ud2

/* void gdt_reload_segments(void): load the new GDT's selectors. */
    .global gdt_reload_segments
gdt_reload_segments:
    mov $SEL_KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    pushq $SEL_KCODE
    lea 1f(%rip), %rax
    push %rax
    lretq
1:  ret

    .section .rodata
    .align 8
    .global trap_stub_table
trap_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad trap_stub_\n
    .endr
    .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
    .quad trap_stub_\n
    .endr
    .global trap_stub_spurious
trap_stub_spurious:
    .quad trap_stub_255
/* The local APIC's own vectors (klock.h: VEC_IPI_RESCHED, VEC_APIC_TIMER). */
    .global trap_stub_apic
trap_stub_apic:
    .quad trap_stub_241
    .quad trap_stub_242
