/*
 * Assembly only: the eight message registers between the CPU and a thread's
 * user_regs.mr, for every entry that saves user state (entry.S, trap.S).
 * Which CPU register is MR i comes from abi.toml (ABI_ASM_MRi).
 */
#ifndef ARCH_USER_REGS_ASM_H
#define ARCH_USER_REGS_ASM_H

#include <abi/calls_gen.h>

#include "asm_offsets.h"

/* clang-format off */
/* All but MR0: what a notification leaves as it was (the receive fast
 * path, entry.S). */
.macro SAVE_MRS_1_7 t
    mov ABI_ASM_MR1, T_MR + 1 * 8(\t)
    mov ABI_ASM_MR2, T_MR + 2 * 8(\t)
    mov ABI_ASM_MR3, T_MR + 3 * 8(\t)
    mov ABI_ASM_MR4, T_MR + 4 * 8(\t)
    mov ABI_ASM_MR5, T_MR + 5 * 8(\t)
    mov ABI_ASM_MR6, T_MR + 6 * 8(\t)
    mov ABI_ASM_MR7, T_MR + 7 * 8(\t)
.endm

.macro SAVE_MRS t
    mov ABI_ASM_MR0, T_MR + 0 * 8(\t)
    SAVE_MRS_1_7 \t
.endm

.macro SAVE_ARGS t
    /* What both entries save alike: the argument registers SYSCALL and an
     * interrupt leave untouched, and the message registers. */
    mov %rdx, T_RDX(\t)
    mov %rsi, T_RSI(\t)
    mov %rdi, T_RDI(\t)
    mov %rbp, T_RBP(\t)
    SAVE_MRS \t
.endm

.macro RESTORE_MRS t
    mov T_MR + 0 * 8(\t), ABI_ASM_MR0
    mov T_MR + 1 * 8(\t), ABI_ASM_MR1
    mov T_MR + 2 * 8(\t), ABI_ASM_MR2
    mov T_MR + 3 * 8(\t), ABI_ASM_MR3
    mov T_MR + 4 * 8(\t), ABI_ASM_MR4
    mov T_MR + 5 * 8(\t), ABI_ASM_MR5
    mov T_MR + 6 * 8(\t), ABI_ASM_MR6
    mov T_MR + 7 * 8(\t), ABI_ASM_MR7
.endm
/* clang-format on */

#endif
