/*
 * Entry points of every Granite program: _start for the main thread and
 * thread_entry for threads from thread_create(). The kernel starts threads
 * with RSP at the top of their stack; the ABI wants it 16-byte aligned
 * before a call.
 */
    .section .text.start, "ax"
    .global _start
_start:
    xor %ebp, %ebp
    and $-16, %rsp
    call libipc_start
    ud2

/* RDI = argument, RSI = function (set by kc_thread_create). */
    .text
    .global thread_entry
thread_entry:
    xor %ebp, %ebp
    and $-16, %rsp
    call *%rsi
    call kc_thread_exit
    ud2
