/*
 * Threads of the calling process. Each gets its own 64 KiB stack (with a
 * guard page) from the kernel and runs until fn returns or it calls
 * kc_thread_exit().
 */
#ifndef IPC_THREAD_H
#define IPC_THREAD_H

#include <stdint.h>

/* Start fn(arg) in a new thread at priority prio (0: the caller's).
 * Returns a handle to the thread (for IPC with it) or a negative error. */
long thread_create(void (*fn)(void *), void *arg, uint32_t prio);

#endif
