/*
 * Where every thread from thread_create() starts, in any program: the
 * kernel starts it with RSP at the top of its stack; the ABI wants it
 * 16-byte aligned before a call.
 */
/* RDI = argument, RSI = function (set by kc_thread_create). */
    .text
    .global thread_entry
thread_entry:
    xor %ebp, %ebp
    and $-16, %rsp
    call *%rsi
    call kc_thread_exit
    ud2
