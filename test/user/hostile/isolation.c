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
#include "iso_control.h"
#include "iso_proto.h"

static struct agent attacker = {.module = "iso.attacker"}, victim = {.module = "iso.victim"};

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
    if (pid <= 0 || !proc_info_of((uint32_t)pid, &p) || strcmp(p.name, name) != 0)
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
    agent_run(&victim, ISO_PRINT, 0, 0, 0); /* the first line: libipc caches the handle */
    long first = (long)victim.r[1];
    uint32_t old = pid_of("console");
    boot_kill("console");
    long h = await_server("console", old);
    if (h > 0)
        kc_cap_delete((uint64_t)h);
    agent_order(&attacker, ISO_SEND_SELF, 0, 0, 0, victim.handle);
    agent_run(&victim, ISO_ACCEPT, 0, 0, 0);
    long pushed = (long)victim.r[1];
    agent_await(&attacker);
    agent_order(&attacker, ISO_SERVE, 100, 0, 0, 0);
    agent_run(&victim, ISO_PRINT, 0, 0, 0);
    long again = (long)victim.r[1];
    agent_await(&attacker);
    snprintf(d, sizeof(d),
             "first print %ld, handle pushed %ld, print after %ld, the attacker got %ld", first,
             pushed, again, (long)attacker.r[1]);
    check("iso.stale.printf_reaches_the_console_not_the_attacker",
          first == 28 && pushed > 0 && again == 28 && attacker.r[1] == 0, d);
    agent_run(&victim, ISO_DELETE, (uint64_t)pushed, 0, 0);
}

/* Finding 3 with a handle the victim keeps itself. */
static void stale_handle(void)
{
    char d[128];
    agent_run(&victim, ISO_LOOKUP, 0, 0, "hello");
    long kept = (long)victim.r[1];
    uint32_t old = pid_of("hello");
    boot_kill("hello");
    long h = await_server("hello", old);
    if (h > 0)
        kc_cap_delete((uint64_t)h);
    agent_order(&attacker, ISO_SEND_SELF, 0, 0, 0, victim.handle);
    agent_run(&victim, ISO_ACCEPT, 0, 0, 0);
    long pushed = (long)victim.r[1];
    agent_await(&attacker);
    snprintf(d, sizeof(d), "kept %ld, the attacker's arrived as %ld", kept, pushed);
    check("iso.stale.recycled_slot_gets_a_new_handle",
          kept > 0 && pushed > 0 && (kept & 63) == (pushed & 63) && kept != pushed, d);
    agent_order(&attacker, ISO_SERVE, 100, 0, 0, 0);
    agent_run(&victim, ISO_CALL_KEPT, 0, 0, 0);
    long rc = (long)victim.r[1];
    agent_await(&attacker);
    snprintf(d, sizeof(d), "call on the old handle: %s; the attacker got %ld calls",
             ipc_strerror(rc), (long)attacker.r[1]);
    check("iso.stale.old_handle_refused", rc == -E_BADHANDLE, d);
    check("iso.stale.attacker_got_nothing", attacker.r[1] == 0, d);
    agent_run(&victim, ISO_DELETE, (uint64_t)pushed, 0, 0);
}

/* Finding 2: capabilities pushed at the name service and at hello. */
static void pushed_caps(void)
{
    char d[160];
    uint32_t boot = pid_of("boot"), hello = pid_of("hello");
    long hb = handles_of(boot), hh = handles_of(hello);
    agent_run(&attacker, ISO_PUSH_CAPS, 80, 0, 0);
    long hb2 = handles_of(boot), hh2 = handles_of(hello);
    snprintf(d, sizeof(d),
             "80 lookups answered %lu; 80 calls to hello: %lu refused, %lu served; handles: boot "
             "%ld -> %ld, hello %ld -> %ld",
             attacker.r[1], attacker.r[2], attacker.r[3], hb, hb2, hh, hh2);
    check("iso.caps.unasked_handles_refused", attacker.r[2] == 80 && attacker.r[3] == 0, d);
    check("iso.caps.name_service_table_unchanged", attacker.r[1] == 80 && hb2 == hb && hh2 == hh,
          d);
    agent_run(&victim, ISO_REGISTER, 0, 0, "iso.victim.name");
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
    agent_run(&attacker, ISO_REGISTER, 0, 0, "iso.spare");
    snprintf(d, sizeof(d), "%s", ipc_strerror((long)attacker.r[1]));
    check("iso.names.module_names_reserved", (long)attacker.r[1] == -E_EXIST, d);
    agent_run(&attacker, ISO_REGISTER, 0, 0, "iso.attacker.own");
    snprintf(d, sizeof(d), "%s", ipc_strerror((long)attacker.r[1]));
    check("iso.names.own_name_registers", attacker.r[1] == 0, d);

    /* The attacker outranks hello: while it spins, the restarted hello
     * cannot run, so the name is free for the taking unless it is held. */
    uint32_t old = pid_of("hello");
    agent_order(&attacker, ISO_NAME_RACE, 30, 0, "hello", 0);
    boot_kill("hello");
    agent_await(&attacker);
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
    agent_order(&victim, ISO_WORK, 40, 0, 0, 0);
    agent_run(&attacker, ISO_CHURN, cycles, MEM_MAX_ALLOC_PAGES, 0);
    snprintf(d, sizeof(d),
             "%lu cycles of %u pages: kernel frames %lu before, %lu after, %lu failed", cycles,
             MEM_MAX_ALLOC_PAGES, attacker.r[1], attacker.r[2], attacker.r[3]);
    check("iso.kmem.churn_costs_no_kernel_frames",
          attacker.r[3] == 0 && attacker.r[2] <= attacker.r[1], d);
    agent_await(&victim);
    snprintf(d, sizeof(d), "%lu of 40 rounds; first error %s at step %lu", victim.r[1],
             ipc_strerror((long)victim.r[2]), victim.r[3]);
    check("iso.kmem.victim_served_during_churn", victim.r[1] == 40, d);

    agent_run(&attacker, ISO_HOARD, 0, 0, 0);
    snprintf(d, sizeof(d),
             "%lu threads (then %s), %lu pages (then %s), kernel frames %lu of a budget of %lu",
             attacker.r[1], ipc_strerror((long)attacker.r[2]), attacker.r[3],
             ipc_strerror((long)attacker.r[4]), attacker.r[5], attacker.r[6]);
    check("iso.kmem.attacker_held_to_its_budget",
          (long)attacker.r[2] == -E_LIMIT && (long)attacker.r[4] == -E_NOMEM &&
              attacker.r[6] == ATTACKER_FRAMES && attacker.r[5] <= attacker.r[6],
          d);
    agent_run(&victim, ISO_WORK, 40, 0, 0);
    snprintf(d, sizeof(d), "%lu of 40 rounds; first error %s at step %lu", victim.r[1],
             ipc_strerror((long)victim.r[2]), victim.r[3]);
    check("iso.kmem.victim_served_while_the_attacker_holds_all", victim.r[1] == 40, d);
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

/* What the sweep turned up: the console's readers, and who may kill whom. */
static void sweep(void)
{
    char d[160];
    agent_run(&attacker, ISO_READERS, 8, 0, 0);
    long busy = (long)attacker.r[1];
    snprintf(d, sizeof(d), "of the attacker's 8 readers, %ld refused with -E_BUSY", busy);
    check("iso.sweep.one_console_reader_per_process", busy == 7, d);
    agent_order(&victim, ISO_READLINE, 0, 0, 0, 0);
    printf("iso: type two lines now\n");
    agent_await(&victim);
    char line[48];
    memcpy(line, &victim.r[2], sizeof(line));
    line[sizeof(line) - 1] = '\0';
    snprintf(d, sizeof(d), "the victim read \"%s\" (status %ld)", line, (long)victim.r[1]);
    check("iso.sweep.console_reader_not_crowded_out",
          (long)victim.r[1] == 6 && strcmp(line, "second") == 0, d);

    uint32_t hello = pid_of("hello");
    long rc = kc_kill(hello);
    snprintf(d, sizeof(d), "killing hello, which we did not start: %s", ipc_strerror(rc));
    check("iso.sweep.kill_only_what_you_started", rc == -E_PERM && pid_of("hello") == hello, d);
}

int main(void)
{
    if (name_lookup_wait("hello", 500) < 0 || name_lookup_wait("mem", 500) < 0 ||
        name_lookup_wait("console", 500) < 0) {
        printf("isolation: the server set did not come up\n");
        return 1;
    }
    uint64_t before[4], after[4];
    system_snapshot(before);
    const struct kc_budget attacker_budget = {ATTACKER_FRAMES, 16, 1};
    long rc = agent_start(&victim, 8, 0);
    if (rc == 0)
        rc = agent_start(&attacker, 10, &attacker_budget);
    if (rc < 0) {
        printf("isolation: cannot start the agents: %s\n", ipc_strerror(rc));
        return 1;
    }
    stale_console();
    stale_handle();
    pushed_caps();
    names();
    sweep();
    kernel_memory(arg("cycles=", 300));

    agent_end(&attacker);
    agent_end(&victim);
    check("iso.names.freed_when_the_holder_dies", name_lookup("iso.attacker.own") == -E_NOENT, 0);
    int back = system_back_to(before, after);
    char d[200];
    snprintf(d, sizeof(d),
             "before/after: free kernel frames %lu/%lu, processes %lu/%lu, threads %lu/%lu, free "
             "pool pages %lu/%lu",
             before[0], after[0], before[1], after[1], before[2], after[2], before[3], after[3]);
    check("iso.kmem.everything_back_after_the_attacker_dies", back, d);
    printf("isolation: %d checks failed\n", check_failures);
    return check_failures;
}
