/*
 * Deadlock report (see deadlock.h). Idle, with no thread that has a
 * deadline and none an interrupt could wake, nothing will ever run again:
 * every thread waits for another thread. The kernel says who waits on whom,
 * once; with "deadlock=stop" on its command line (the test images) it then
 * ends the machine as a failure, so a test fails on that report rather than
 * on a time-out. "noinput" says no device will interrupt (nobody types at a
 * test that expects no input): a thread waiting for an IRQ then counts as
 * stuck too.
 */
#include "deadlock.h"

#include <common/string.h>

#include "arch/x86_64/qemu.h"
#include "bootinfo.h"
#include "irq.h"
#include "klog.h"
#include "proc.h"

static int reported; /* until some thread runs again */

static int can_wake(void)
{
    for (int i = 0; i < MAX_THREADS; i++) {
        const struct thread *t = &threads[i];
        if (t->state == TS_READY || t->state == TS_RUNNING || (t->state != TS_FREE && t->wake_tick))
            return 1;
    }
    char arg[4];
    return !cmdline_get("noinput", arg, sizeof(arg)) && irq_waiter_exists();
}

void deadlock_check(void)
{
    if (can_wake()) {
        reported = 0;
        return;
    }
    if (reported)
        return;
    reported = 1;
    kprintf("kernel: DEADLOCK: no thread can ever run again (no deadline, no interrupt "
            "expected)\n");
    for (int i = 0; i < MAX_THREADS; i++) {
        const struct thread *t = &threads[i];
        if (t->state == TS_FREE)
            continue;
        kprintf("kernel:   \"%s\" tid %x %s", t->proc->name, t->tid, thread_state_name(t->state));
        if ((t->state == TS_SEND || t->state == TS_REPLY) && t->partner)
            kprintf(" (\"%s\" tid %x)", t->partner->proc->name, t->partner->tid);
        else if (t->state == TS_RECV && t->recv_from)
            kprintf(" (from tid %x)", t->recv_from);
        kprintf("\n");
    }
    char arg[8];
    if (cmdline_get("deadlock", arg, sizeof(arg)) && strcmp(arg, "stop") == 0)
        qemu_exit(QEMU_EXIT_FAILURE);
}
