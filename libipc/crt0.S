/*
 * Entry point of a freestanding program (one linked without the C library;
 * libc/crt0.S starts the other kind): the kernel starts the main thread with
 * RSP at the top of its stack; the ABI wants it 16-byte aligned before a call.
 */
    .section .text.start, "ax"
    .global _start
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call libipc_start
    ud2
