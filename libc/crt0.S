/*
 * Entry point of a C-library program: the kernel starts the main thread
 * with RSP at the top of its stack; the ABI wants it 16-byte aligned before
 * a call. libc/start.c does the rest.
 */
    .section .text.start, "ax"
    .global _start
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call granite_libc_start
    ud2
