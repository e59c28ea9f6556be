/*
 * Process start-up: run main() and end the process with its result.
 */
#include <ipc/kcall.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

int main(void);

void libipc_start(void)
{
    int status = main();
    stdio_flush();
    kc_exit(status);
}

extern void thread_entry(void);

long thread_create(void (*fn)(void *), void *arg, uint32_t prio)
{
    return kc_thread_create((uint64_t)thread_entry, (uint64_t)arg, (uint64_t)fn, prio, 0);
}
