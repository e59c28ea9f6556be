/*
 * Threads of the calling process (see ipc/thread.h).
 */
#include <ipc/kcall.h>
#include <ipc/thread.h>

extern void thread_entry(void);

long thread_create(void (*fn)(void *), void *arg, uint32_t prio)
{
    return kc_thread_create((uint64_t)thread_entry, (uint64_t)arg, (uint64_t)fn, prio, 0);
}
