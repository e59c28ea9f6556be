/*
 * long garbage_syscall(const uint64_t regs[16]): SYSCALL with every
 * register (RSP and RBP included) loaded from regs, in the order
 * rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15 rsp.
 * Returns RAX; restores our own stack afterwards, and leaves RSI and RDX
 * as the call returned them in garbage_out_rsi and garbage_out_rdx.
 */
    .text
    .global garbage_syscall
garbage_syscall:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, saved_rsp(%rip)
    mov 0(%rdi), %rax
    mov 8(%rdi), %rbx
    mov 16(%rdi), %rcx
    mov 24(%rdi), %rdx
    mov 32(%rdi), %rsi
    mov 48(%rdi), %rbp
    mov 56(%rdi), %r8
    mov 64(%rdi), %r9
    mov 72(%rdi), %r10
    mov 80(%rdi), %r11
    mov 88(%rdi), %r12
    mov 96(%rdi), %r13
    mov 104(%rdi), %r14
    mov 112(%rdi), %r15
    mov 120(%rdi), %rsp
    mov 40(%rdi), %rdi
    syscall
    mov %rsi, garbage_out_rsi(%rip)
    mov %rdx, garbage_out_rdx(%rip)
    mov saved_rsp(%rip), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

    .bss
    .align 8
saved_rsp: .skip 8
    .global garbage_out_rsi, garbage_out_rdx
garbage_out_rsi: .skip 8
garbage_out_rdx: .skip 8
