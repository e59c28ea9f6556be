/*
 * hostile.hog: takes everything it can until each is refused: threads,
 * processes, handles, grants and memory. Its budget (from
 * hostile.exhaustion) is what refuses processes and threads; the memory
 * server's quota refuses pages, its own table handles. It reports what it
 * got to its parent and exits holding all of it.
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

static void park(void *arg)
{
    (void)arg;
    for (;;)
        kc_sleep(100000);
}

int main(void)
{
    struct ipc_msg m = ipc_msg_make(1, IPC_MSG_WORDS);
    long rc;

    /* Processes: spawn sleepers, each as small as it can be, until our
     * budget says no. Their handles are dropped: those are counted apart. */
    long sleeper = kc_module_find("hostile.sleeper");
    const struct kc_budget tiny = {40, 1, 1};
    uint64_t spawned = 0;
    for (;;) {
        rc = kc_spawn_budget((uint32_t)sleeper, 0, 1, 0, 0, 0, "hostile.sleeper", &tiny, 0);
        if (rc < 0)
            break;
        kc_cap_delete((uint64_t)rc);
        spawned++;
    }
    m.w[1] = spawned;
    m.w[2] = (uint64_t)-rc;

    uint64_t threads = 0;
    while ((rc = thread_create(park, 0, 1)) >= 0) {
        kc_cap_delete((uint64_t)rc); /* keep the handle table for its own test */
        threads++;
    }
    m.w[3] = threads;
    m.w[4] = (uint64_t)-rc;

    uint64_t grants = 0;
    static char buf[64];
    while ((rc = grant_create((uint32_t)ipc_handle_pid(HANDLE_PARENT), buf, sizeof(buf),
                              GRANT_F_READ)) >= 0)
        grants++;
    m.w[5] = grants;

    /* Memory: 16 MiB at a time, then halving down to one page. */
    uint64_t pages = 0;
    for (uint64_t want = 4096; want > 0;) {
        long err = 0;
        if (mem_alloc_pages(want, &err))
            pages += want;
        else
            want /= 2;
    }
    m.w[6] = pages;

    /* Handles last: every lookup installs one more in our table. */
    uint64_t handles = 0;
    while ((rc = name_lookup("console")) >= 0)
        handles++;
    m.w[7] = handles;
    m.w[0] = (uint64_t)-rc;

    ipc_call(HANDLE_PARENT, &m); /* report, then die holding it all */
    return 0;
}
