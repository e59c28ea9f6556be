/*
 * Entry point of a C-library program: the kernel starts the main thread
 * with RSP at the top of its stack (or below the argument block of
 * KC_SPAWN_ARGV, whose address and length are in RDI and RSI, passed on as
 * they are); the ABI wants RSP 16-byte aligned before a call.
 * libc/start.c does the rest.
 */
    .section .text.start, "ax"
    .global _start
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call granite_libc_start
    ud2
