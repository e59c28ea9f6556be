/*
 * The benchmark's inner loops, in assembly so that the user side of every
 * measured round trip is a handful of known instructions. Each loop runs
 * its body n times; the C caller reads the TSC around it. MR registers are
 * loaded with data once and travel with every message (abi/syscall.h).
 */
#include <abi/ipc.h>
#include <abi/syscall.h>

    .text

.macro LOAD_MRS
    mov $0x1111111111111111, %r8
    mov $0x2222222222222222, %r9
    mov $0x3333333333333333, %r10
    mov $0x4444444444444444, %r12
    mov $0x5555555555555555, %r13
    mov $0x6666666666666666, %r14
    mov $0x7777777777777777, %r15
    mov $0x8888888888888888, %rbx
.endm

.macro SAVE_CALLEE
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro RESTORE_CALLEE
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
.endm

/* long bench_call_loop(uint64_t handle, uint64_t info, uint64_t n):
 * n x SYS_IPC_CALL(handle, info); returns the last status. */
    .global bench_call_loop
bench_call_loop:
    SAVE_CALLEE
    push %rdi
    push %rsi
    mov %rdx, %rbp
    LOAD_MRS
1:  mov $SYS_IPC_CALL, %eax
    mov 8(%rsp), %rdi
    mov (%rsp), %rsi
    syscall
    dec %rbp
    jnz 1b
    add $16, %rsp
    RESTORE_CALLEE
    ret

/* void bench_echo_loop(uint64_t info): the server side, forever: receive
 * from anyone, then reply_recv with the same registers. RDI (the badge the
 * kernel returned) is the next reply's target. */
    .global bench_echo_loop
bench_echo_loop:
    mov %rdi, %rbp
    mov $SYS_IPC_RECV, %eax
    mov $IPC_ANY, %rdi
    xor %esi, %esi
    syscall
1:  mov $SYS_IPC_REPLY_RECV, %eax
    mov %rbp, %rsi
    syscall
    jmp 1b

/* long bench_nr_loop(uint64_t nr, uint64_t n): n x SYSCALL with RAX = nr. */
    .global bench_nr_loop
bench_nr_loop:
    SAVE_CALLEE
    mov %rdi, %r12
    mov %rsi, %rbp
1:  mov %r12, %rax
    syscall
    dec %rbp
    jnz 1b
    RESTORE_CALLEE
    ret

/* void bench_int80_loop(uint64_t n) / bench_ud2_loop(uint64_t n): the same
 * null round trip through a software interrupt, or a trap. */
    .global bench_int80_loop
bench_int80_loop:
    mov $SYS_BENCH_NULL, %eax
1:  int $0x80
    dec %rdi
    jnz 1b
    ret

    .global bench_ud2_loop
bench_ud2_loop:
    mov $SYS_BENCH_NULL, %eax
1:  ud2
    dec %rdi
    jnz 1b
    ret

/* void bench_floor_loop(uint32_t partner_slot, uint64_t n): n x floor
 * switch to the partner (which switches straight back). The floor restores
 * only RIP, RSP and RFLAGS: every other register passes through from one
 * side to the other, so each side keeps its state in registers the other
 * never touches (here R12, RBP) or on its own stack (the partner). */
    .global bench_floor_loop
bench_floor_loop:
    SAVE_CALLEE
    mov %rdi, %r12
    mov %rsi, %rbp
1:  mov $SYS_BENCH_FLOOR, %eax
    mov %r12, %rdi
    syscall
    dec %rbp
    jnz 1b
    RESTORE_CALLEE
    ret

/* void bench_floor_partner(void *caller_slot): park in a receive, then
 * forever switch back to the caller (slot kept on our stack). */
    .global bench_floor_partner
bench_floor_partner:
    push %rdi
    mov $SYS_IPC_RECV, %eax
    mov $IPC_ANY, %rdi
    xor %esi, %esi
    syscall
1:  mov $SYS_BENCH_FLOOR, %eax
    mov (%rsp), %rdi
    syscall
    jmp 1b

/* void bench_notify_loop(uint64_t handle, uint64_t n): n x (notify the
 * partner, then receive its notification back). */
    .global bench_notify_loop
bench_notify_loop:
    SAVE_CALLEE
    mov %rdi, %r12
    mov %rsi, %rbp
1:  mov $SYS_IPC_NOTIFY, %eax
    mov %r12, %rdi
    mov $1, %esi
    syscall
    mov $SYS_IPC_RECV, %eax
    mov $IPC_ANY, %rdi
    xor %esi, %esi
    syscall
    dec %rbp
    jnz 1b
    RESTORE_CALLEE
    ret

/* void bench_notify_partner(uint64_t handle): forever receive a
 * notification and answer with one. */
    .global bench_notify_partner
bench_notify_partner:
    mov %rdi, %r12
1:  mov $SYS_IPC_RECV, %eax
    mov $IPC_ANY, %rdi
    xor %esi, %esi
    syscall
    mov $SYS_IPC_NOTIFY, %eax
    mov %r12, %rdi
    mov $1, %esi
    syscall
    jmp 1b
