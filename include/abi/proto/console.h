/*
 * Console server protocol. Text of any length travels as ipc_call_data
 * does (libipc/ipc/grant.h): w0 = length, w1 = grant id or 0, w2.. inline.
 * Replies: w0 = status (>= 0 success, -E_* error).
 */
#ifndef ABI_PROTO_CONSOLE_H
#define ABI_PROTO_CONSOLE_H

/* clang-format off */
#define CON_WRITE     0x300 /* text -> w0 = bytes written; one request is never split by
                               another client's output */
#define CON_READLINE  0x301 /* w1 = write grant on the caller's buffer (0: inline reply),
                               w2 = capacity -> w0 = length of the line (no newline),
                               inline text in w2..w7 when w1 was 0; the reply waits until a
                               line has been typed; -E_EOF: Ctrl-D at the start of a line
                               (the end of piped input). The line is echoed as its reader
                               takes it; input nobody reads yet waits (4 lines queued,
                               then in the UART), never dropped */
#define CON_WRITE_MAX 4096
/* clang-format on */

#endif
