/*
 * Console client: write text and read lines through the console server.
 * printf uses console_write once the console is up (ipc/stdio.h).
 */
#ifndef IPC_CONSOLE_H
#define IPC_CONSOLE_H

#include <stddef.h>

/* Write len bytes as one request (never interleaved with another client's
 * request). Returns bytes written or -E_*. */
long console_write(const char *text, size_t len);

/* Read one typed line (without its newline) into buf, NUL-terminated.
 * Blocks until a line is complete. Returns its length, -E_EOF for the end
 * of input (Ctrl-D at the start of a line), or another -E_*. */
long console_readline(char *buf, size_t size);

#endif
