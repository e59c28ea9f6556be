/*
 * Exceptions and interrupts: the IDT, the frames the entry stubs build, and
 * the C handlers they call. No gate has DPL 3: from user mode only SYSCALL
 * enters the kernel on purpose; `int n` of any vector is a #GP.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

/* clang-format off */
#define VEC_DE   0
#define VEC_DB   1
#define VEC_NMI  2
#define VEC_BP   3
#define VEC_UD   6
#define VEC_NM   7
#define VEC_DF   8
#define VEC_GP   13
#define VEC_PF   14
#define VEC_MC   18
#define VEC_IRQ0 32  /* 8259 PIC remapped here: IRQ n is vector 32 + n */
#define VEC_SPURIOUS 255
#define NUM_IRQS 16

/* RFLAGS bits trap.S clears on every entry: AC and DF (pinned in trap.c). */
#define TRAP_ENTRY_CLEAR_FLAGS 0x40400
/* clang-format on */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* What every entry stub leaves on the stack: the vector and error code it
 * pushed (a dummy 0 where the CPU pushes none), then the CPU's frame. */
struct trap_hw {
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Kernel mode only: trap.S pushes the general registers above it, for the
 * fault dump and to resume the kernel. From user mode the registers go
 * straight into the thread's user_regs instead. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    struct trap_hw hw;
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap.S pushes 22 words");

void idt_init(void);
/* Install an interrupt gate (kernel only, no IST) for vector vec. */
void idt_set_gate(int vec, uint64_t handler);

struct thread;

/* Called for an entry from kernel mode; returns to the interrupted code (or
 * never: a kernel fault stops the machine). */
void trap_dispatch(struct trap_frame *f);

/* Called for an entry from user mode, after trap.S saved every user
 * register into t->regs (t is pcpu.cur); ends in kernel_exit(). */
__attribute__((noreturn)) void trap_dispatch_user(struct thread *t, const struct trap_hw *h);

/* Print the readable dump of a fault (vector name, error, RIP with symbol,
 * RSP, CR2, CPL, registers). */
void trap_dump(const struct trap_frame *f, const char *who);

const char *trap_name(uint64_t vector);
#endif

#endif
