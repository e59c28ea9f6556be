/*
 * The controller's side of the isolation agents (see iso_control.h).
 */
#include "iso_control.h"

#include <common/string.h>
#include <ipc/mem.h>
#include <ipc/stdio.h>

#include "iso_proto.h"

#define AWAIT_TICKS 6000 /* an agent that does not report within a minute has failed */

int check_failures;

void check(const char *name, int ok, const char *detail)
{
    check_failures += !ok;
    printf("CHECK %s %s%s%s\n", name, ok ? "PASS" : "FAIL", detail ? ": " : "",
           detail ? detail : "");
}

static long receive(struct agent *a, uint64_t info)
{
    struct ipc_msg m = {0};
    m.info = info;
    long rc = ipc_recv((uint64_t)a->handle, &m);
    if (rc < 0)
        return rc;
    a->badge = m.badge;
    memcpy(a->r, m.w, sizeof(a->r));
    return 0;
}

long agent_await(struct agent *a)
{
    memset(a->r, 0xff, sizeof(a->r));
    long rc = receive(a, ipc_info_timeout(AWAIT_TICKS));
    if (rc < 0) {
        printf("iso: %s did not report: %s\n", a->module, ipc_strerror(rc));
        a->badge = 0;
    }
    return rc;
}

int agent_poll(struct agent *a)
{
    long rc = receive(a, IPC_INFO_NONBLOCK);
    if (rc == -E_AGAIN)
        return 0;
    if (rc < 0) { /* it died (or its handle went): it will never report */
        printf("iso: %s cannot report any more: %s\n", a->module, ipc_strerror(rc));
        memset(a->r, 0xff, sizeof(a->r));
        a->badge = 0;
    }
    return 1;
}

void agent_order(struct agent *a, uint32_t what, uint64_t w1, uint64_t w2, const char *name,
                 long cap)
{
    struct ipc_msg m = ipc_msg_make(what, IPC_MSG_WORDS);
    m.w[1] = w1;
    m.w[2] = w2;
    if (name) {
        char buf[24] = {0};
        strncpy_safe(buf, name, sizeof(buf));
        memcpy(&m.w[w1 ? 2 : 1], buf, sizeof(buf));
    }
    if (cap > 0) {
        m.info |= IPC_INFO_CAP;
        m.cap = (uint64_t)cap;
    }
    long rc = ipc_reply(a->badge, &m);
    if (rc < 0)
        printf("iso: cannot order %s: %s\n", a->module, ipc_strerror(rc));
    a->badge = 0;
}

long agent_run(struct agent *a, uint32_t what, uint64_t w1, uint64_t w2, const char *name)
{
    agent_order(a, what, w1, w2, name, 0);
    return agent_await(a);
}

long agent_start(struct agent *a, uint32_t prio, const struct kc_budget *budget)
{
    long mod = kc_module_find(a->module);
    if (mod < 0)
        return mod;
    a->handle = kc_spawn_budget((uint32_t)mod, 0, prio, 0, 0, 0, a->module, budget, &a->pid);
    if (a->handle < 0)
        return a->handle;
    return agent_await(a);
}

void agent_end(struct agent *a)
{
    if (a->badge)
        agent_order(a, ISO_EXIT, 0, 0, 0, 0);
    else
        kc_kill(a->pid); /* it is not listening: it is ours, so this works */
    for (int i = 0; i < 3000; i++) {
        uint32_t pid, reason;
        uint64_t detail;
        while (kc_wait_death(&pid, &reason, &detail, 0) == 0)
            if (pid == a->pid)
                goto dead;
        kc_sleep(1);
    }
    printf("iso: %s did not end\n", a->module);
dead:
    kc_cap_delete((uint64_t)a->handle);
}

int proc_info_of(uint32_t pid, struct kc_proc_info *out)
{
    for (uint32_t slot = 0; kc_proc_info(slot, out) != -E_RANGE; slot++)
        if (out->pid == pid)
            return 1;
    return 0;
}

uint32_t pid_of(const char *name)
{
    struct kc_proc_info p;
    for (uint32_t slot = 0; kc_proc_info(slot, &p) != -E_RANGE; slot++)
        if (p.pid && strcmp(p.name, name) == 0)
            return p.pid;
    return 0;
}

long handles_of(uint32_t pid)
{
    struct kc_proc_info p;
    return proc_info_of(pid, &p) ? (long)p.handles : -1;
}

void system_snapshot(uint64_t out[4])
{
    uint64_t k[7];
    struct mem_stats ms = {0};
    kc_stats(k);
    mem_stats(&ms);
    out[0] = k[4]; /* free kernel frames */
    out[1] = k[5]; /* processes */
    out[2] = k[6]; /* threads */
    out[3] = ms.free_pages;
}

int system_back_to(const uint64_t before[4], uint64_t after[4])
{
    for (int i = 0; i < 500; i++) {
        system_snapshot(after);
        if (memcmp(after, before, 4 * sizeof(uint64_t)) == 0)
            return 1;
        kc_sleep(1);
    }
    return 0;
}
