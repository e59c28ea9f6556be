/*
 * hostile.isolation: the attacks of issue 11 (findings 1-4), each run by an
 * unprivileged attacker (iso.attacker) against the servers and a victim
 * (iso.victim) that must not notice: kernel memory nobody pays for,
 * capabilities pushed into a server's table, a stale handle that comes to
 * name the attacker, and a restarting server's name taken over. Every
 * check prints "CHECK <name> PASS|FAIL"; the exit status is the number of
 * failures. Nothing here depends on timing to pass.
 */
#include <abi/proto/mem.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "../../../servers/hello/hello.h"
#include "iso_proto.h"

#define AWAIT_TICKS 6000 /* an agent that does not report within a minute has failed */

struct agent {
    const char *module;
    long handle; /* its main thread */
    uint32_t pid;
    uint64_t badge; /* its ISO_READY call we have not answered yet */
    uint64_t r[IPC_MSG_WORDS];
};

static struct agent attacker = {.module = "iso.attacker"}, victim = {.module = "iso.victim"};
static int failures;

static void check(const char *name, int ok, const char *detail)
{
    failures += !ok;
    printf("CHECK %s %s%s%s\n", name, ok ? "PASS" : "FAIL", detail ? ": " : "",
           detail ? detail : "");
}

/* Wait for a's next ISO_READY and keep its results in a->r. */
static long await(struct agent *a)
{
    struct ipc_msg m = {0};
    m.info = ipc_info_timeout(AWAIT_TICKS);
    memset(a->r, 0xff, sizeof(a->r));
    long rc = ipc_recv((uint64_t)a->handle, &m);
    if (rc < 0) {
        printf("isolation: %s did not report: %s\n", a->module, ipc_strerror(rc));
        a->badge = 0;
        return rc;
    }
    a->badge = m.badge;
    memcpy(a->r, m.w, sizeof(a->r));
    return 0;
}

/* Give a its next order; cap > 0 travels with it. */
static void order(struct agent *a, uint32_t what, uint64_t w1, uint64_t w2, const char *name,
                  long cap)
{
    struct ipc_msg m = ipc_msg_make(what, IPC_MSG_WORDS);
    m.w[1] = w1;
    m.w[2] = w2;
    if (name) { /* names go in w1..w3, or w2..w4 after a count */
        char buf[NAME_MAX_LEN] = {0};
        strncpy_safe(buf, name, sizeof(buf));
        memcpy(&m.w[w1 ? 2 : 1], buf, sizeof(buf));
    }
    if (cap > 0) {
        m.info |= IPC_INFO_CAP;
        m.cap = (uint64_t)cap;
    }
    long rc = ipc_reply(a->badge, &m);
    if (rc < 0)
        printf("isolation: cannot order %s: %s\n", a->module, ipc_strerror(rc));
    a->badge = 0;
}

static long run(struct agent *a, uint32_t what, uint64_t w1, uint64_t w2, const char *name)
{
    order(a, what, w1, w2, name, 0);
    return await(a);
}

static long start(struct agent *a, uint32_t prio, const struct kc_budget *budget)
{
    long mod = kc_module_find(a->module);
    if (mod < 0)
        return mod;
    a->handle = kc_spawn_budget((uint32_t)mod, 0, prio, 0, 0, 0, a->module, budget, &a->pid);
    if (a->handle < 0)
        return a->handle;
    return await(a);
}

static int proc_info(uint32_t pid, struct kc_proc_info *out)
{
    for (uint32_t slot = 0; kc_proc_info(slot, out) != -E_RANGE; slot++)
        if (out->pid == pid)
            return 1;
    return 0;
}

static uint32_t pid_of(const char *name)
{
    struct kc_proc_info p;
    for (uint32_t slot = 0; kc_proc_info(slot, &p) != -E_RANGE; slot++)
        if (p.pid && strcmp(p.name, name) == 0)
            return p.pid;
    return 0;
}

static long handles_of(uint32_t pid)
{
    struct kc_proc_info p;
    return proc_info(pid, &p) ? (long)p.handles : -1;
}

static long boot_kill(const char *name)
{
    struct ipc_msg m = ipc_msg_make(BOOT_KILL, 4);
    name_pack(&m, name);
    return ipc_call_status(HANDLE_NAMES, &m);
}

/* After a kill: wait until `name` is registered again by another process
 * than old_pid; returns a handle to it (the caller checks who it is). */
static long await_server(const char *name, uint32_t old_pid)
{
    for (int i = 0; i < 1000; i++) {
        long h = name_lookup(name);
        if (h > 0) {
            long pid = ipc_handle_pid((uint64_t)h);
            if (pid > 0 && (uint32_t)pid != old_pid)
                return h;
            kc_cap_delete((uint64_t)h);
        }
        kc_sleep(1);
    }
    return -E_TIMEDOUT;
}

/* The server behind h is a process called `name` and greets us. */
static int genuine(long h, const char *name)
{
    struct kc_proc_info p;
    long pid = h > 0 ? ipc_handle_pid((uint64_t)h) : h;
    if (pid <= 0 || !proc_info((uint32_t)pid, &p) || strcmp(p.name, name) != 0)
        return 0;
    struct ipc_msg m = ipc_msg_make(HELLO_GREET, IPC_MSG_WORDS);
    m.info |= ipc_info_timeout(300);
    m.w[0] = 3;
    memcpy(&m.w[2], "iso", 3);
    return ipc_call((uint64_t)h, &m) == 0 && m.w[0] == 0 && memcmp(&m.w[2], "Hello, iso!", 11) == 0;
}

/* Finding 3 through libipc: the victim's cached console handle dies, the
 * attacker's capability lands in the same slot, and the victim prints. */
static void stale_console(void)
{
    char d[128];
    run(&victim, ISO_PRINT, 0, 0, 0); /* the first line: libipc caches the handle */
    long first = (long)victim.r[1];
    uint32_t old = pid_of("console");
    boot_kill("console");
    long h = await_server("console", old);
    if (h > 0)
        kc_cap_delete((uint64_t)h);
    order(&attacker, ISO_SEND_SELF, 0, 0, 0, victim.handle);
    run(&victim, ISO_ACCEPT, 0, 0, 0);
    long pushed = (long)victim.r[1];
    await(&attacker);
    order(&attacker, ISO_SERVE, 100, 0, 0, 0);
    run(&victim, ISO_PRINT, 0, 0, 0);
    long again = (long)victim.r[1];
    await(&attacker);
    snprintf(d, sizeof(d),
             "first print %ld, handle pushed %ld, print after %ld, the attacker got %ld", first,
             pushed, again, (long)attacker.r[1]);
    check("iso.stale.printf_reaches_the_console_not_the_attacker",
          first == 28 && pushed > 0 && again == 28 && attacker.r[1] == 0, d);
    run(&victim, ISO_DELETE, (uint64_t)pushed, 0, 0);
}

/* Finding 3 with a handle the victim keeps itself. */
static void stale_handle(void)
{
    char d[128];
    run(&victim, ISO_LOOKUP, 0, 0, "hello");
    long kept = (long)victim.r[1];
    uint32_t old = pid_of("hello");
    boot_kill("hello");
    long h = await_server("hello", old);
    if (h > 0)
        kc_cap_delete((uint64_t)h);
    order(&attacker, ISO_SEND_SELF, 0, 0, 0, victim.handle);
    run(&victim, ISO_ACCEPT, 0, 0, 0);
    long pushed = (long)victim.r[1];
    await(&attacker);
    snprintf(d, sizeof(d), "kept %ld, the attacker's arrived as %ld", kept, pushed);
    check("iso.stale.recycled_slot_gets_a_new_handle",
          kept > 0 && pushed > 0 && (kept & 63) == (pushed & 63) && kept != pushed, d);
    order(&attacker, ISO_SERVE, 100, 0, 0, 0);
    run(&victim, ISO_CALL_KEPT, 0, 0, 0);
    long rc = (long)victim.r[1];
    await(&attacker);
    snprintf(d, sizeof(d), "call on the old handle: %s; the attacker got %ld calls",
             ipc_strerror(rc), (long)attacker.r[1]);
    check("iso.stale.old_handle_refused", rc == -E_BADHANDLE, d);
    check("iso.stale.attacker_got_nothing", attacker.r[1] == 0, d);
    run(&victim, ISO_DELETE, (uint64_t)pushed, 0, 0);
}

/* Finding 2: capabilities pushed at the name service and at hello. */
static void pushed_caps(void)
{
    char d[160];
    uint32_t boot = pid_of("boot"), hello = pid_of("hello");
    long hb = handles_of(boot), hh = handles_of(hello);
    run(&attacker, ISO_PUSH_CAPS, 80, 0, 0);
    long hb2 = handles_of(boot), hh2 = handles_of(hello);
    snprintf(d, sizeof(d),
             "80 lookups answered %lu; 80 calls to hello: %lu refused, %lu served; handles: boot "
             "%ld -> %ld, hello %ld -> %ld",
             attacker.r[1], attacker.r[2], attacker.r[3], hb, hb2, hh, hh2);
    check("iso.caps.unasked_handles_refused", attacker.r[2] == 80 && attacker.r[3] == 0, d);
    check("iso.caps.name_service_table_unchanged", attacker.r[1] == 80 && hb2 == hb && hh2 == hh,
          d);
    run(&victim, ISO_REGISTER, 0, 0, "iso.victim.name");
    snprintf(d, sizeof(d), "register: %s", ipc_strerror((long)victim.r[1]));
    check("iso.caps.names_still_register", victim.r[1] == 0, d);
    boot_kill("hello");
    long h = await_server("hello", hello);
    check("iso.caps.crashed_server_still_restarts", genuine(h, "hello"), 0);
    if (h > 0)
        kc_cap_delete((uint64_t)h);
}

/* Finding 4: names across a restart, and names of boot modules. */
static void names(void)
{
    char d[160];
    run(&attacker, ISO_REGISTER, 0, 0, "iso.spare");
    snprintf(d, sizeof(d), "%s", ipc_strerror((long)attacker.r[1]));
    check("iso.names.module_names_reserved", (long)attacker.r[1] == -E_EXIST, d);
    run(&attacker, ISO_REGISTER, 0, 0, "iso.attacker.own");
    snprintf(d, sizeof(d), "%s", ipc_strerror((long)attacker.r[1]));
    check("iso.names.own_name_registers", attacker.r[1] == 0, d);

    /* The attacker outranks hello: while it spins, the restarted hello
     * cannot run, so the name is free for the taking unless it is held. */
    uint32_t old = pid_of("hello");
    order(&attacker, ISO_NAME_RACE, 30, 0, "hello", 0);
    boot_kill("hello");
    await(&attacker);
    snprintf(d, sizeof(d), "%lu attempts, %lu accepted; %lu lookups, %lu not -E_AGAIN",
             attacker.r[1], attacker.r[2], attacker.r[3], attacker.r[4]);
    check("iso.names.held_for_the_restarting_server", attacker.r[1] > 0 && attacker.r[2] == 0, d);
    check("iso.names.lookups_say_again_meanwhile", attacker.r[3] > 0 && attacker.r[4] == 0, d);
    long h = await_server("hello", old);
    check("iso.names.restarted_server_gets_its_name", genuine(h, "hello"), 0);
    if (h > 0)
        kc_cap_delete((uint64_t)h);
}

/* Finding 1: kernel memory. The victim works while the attacker churns
 * the memory server, then while it holds all it could get. */
static void kernel_memory(uint64_t cycles)
{
    char d[160];
    order(&victim, ISO_WORK, 40, 0, 0, 0);
    run(&attacker, ISO_CHURN, cycles, MEM_MAX_ALLOC_PAGES, 0);
    snprintf(d, sizeof(d),
             "%lu cycles of %u pages: kernel frames %lu before, %lu after, %lu failed", cycles,
             MEM_MAX_ALLOC_PAGES, attacker.r[1], attacker.r[2], attacker.r[3]);
    check("iso.kmem.churn_costs_no_kernel_frames",
          attacker.r[3] == 0 && attacker.r[2] <= attacker.r[1], d);
    await(&victim);
    snprintf(d, sizeof(d), "%lu of 40 rounds; first error %s at step %lu", victim.r[1],
             ipc_strerror((long)victim.r[2]), victim.r[3]);
    check("iso.kmem.victim_served_during_churn", victim.r[1] == 40, d);

    run(&attacker, ISO_HOARD, 0, 0, 0);
    snprintf(d, sizeof(d),
             "%lu threads (then %s), %lu pages (then %s), kernel frames %lu of a budget of %lu",
             attacker.r[1], ipc_strerror((long)attacker.r[2]), attacker.r[3],
             ipc_strerror((long)attacker.r[4]), attacker.r[5], attacker.r[6]);
    check("iso.kmem.attacker_held_to_its_budget",
          (long)attacker.r[2] == -E_LIMIT && (long)attacker.r[4] == -E_NOMEM &&
              attacker.r[6] == ATTACKER_FRAMES && attacker.r[5] <= attacker.r[6],
          d);
    run(&victim, ISO_WORK, 40, 0, 0);
    snprintf(d, sizeof(d), "%lu of 40 rounds; first error %s at step %lu", victim.r[1],
             ipc_strerror((long)victim.r[2]), victim.r[3]);
    check("iso.kmem.victim_served_while_the_attacker_holds_all", victim.r[1] == 40, d);
}

static void snapshot(uint64_t out[4])
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

static uint64_t arg(const char *key, uint64_t dflt)
{
    char args[128];
    kc_args(args, sizeof(args));
    const char *s = strstr(args, key);
    if (!s)
        return dflt;
    uint64_t v = 0;
    for (s += strlen(key); *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

int main(void)
{
    if (name_lookup_wait("hello", 500) < 0 || name_lookup_wait("mem", 500) < 0 ||
        name_lookup_wait("console", 500) < 0) {
        printf("isolation: the server set did not come up\n");
        return 1;
    }
    uint64_t before[4], after[4];
    snapshot(before);
    const struct kc_budget attacker_budget = {ATTACKER_FRAMES, 16, 1};
    long rc = start(&victim, 8, 0);
    if (rc == 0)
        rc = start(&attacker, 10, &attacker_budget);
    if (rc < 0) {
        printf("isolation: cannot start the agents: %s\n", ipc_strerror(rc));
        return 1;
    }
    stale_console();
    stale_handle();
    pushed_caps();
    names();
    kernel_memory(arg("cycles=", 300));

    order(&attacker, ISO_EXIT, 0, 0, 0, 0);
    order(&victim, ISO_EXIT, 0, 0, 0, 0);
    int dead = 0;
    for (int i = 0; i < 3000 && dead < 2; i++) {
        uint32_t pid, reason;
        uint64_t detail;
        while (kc_wait_death(&pid, &reason, &detail, 0) == 0)
            dead += pid == attacker.pid || pid == victim.pid;
        if (dead < 2)
            kc_sleep(1);
    }
    kc_cap_delete((uint64_t)attacker.handle);
    kc_cap_delete((uint64_t)victim.handle);
    check("iso.names.freed_when_the_holder_dies", name_lookup("iso.attacker.own") == -E_NOENT, 0);
    /* The memory server hears of deaths through the boot server. */
    for (int i = 0; i < 500; i++) {
        snapshot(after);
        if (memcmp(after, before, sizeof(before)) == 0)
            break;
        kc_sleep(1);
    }
    char d[200];
    snprintf(d, sizeof(d),
             "before/after: free kernel frames %lu/%lu, processes %lu/%lu, threads %lu/%lu, free "
             "pool pages %lu/%lu",
             before[0], after[0], before[1], after[1], before[2], after[2], before[3], after[3]);
    check("iso.kmem.everything_back_after_the_attacker_dies",
          memcmp(after, before, sizeof(before)) == 0, d);
    printf("isolation: %d checks failed\n", failures);
    return failures;
}
