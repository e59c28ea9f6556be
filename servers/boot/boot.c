/*
 * The boot server: the first process. It starts every boot module with the
 * privileges and budget its grub.cfg line grants, runs the name service,
 * learns of every death, restarts servers marked "restart" (as Minix's
 * reincarnation server does) and, in test images, judges the test programs
 * and powers off. Names have owners: a boot module's own name is its alone,
 * and a restartable module's names wait for it while it restarts. Modules
 * marked "program" are started on request, any number of times, with
 * arguments (BOOT_RUN), and their runner learns how they ended (BOOT_WAIT).
 */
#include <abi/layout.h>
#include <abi/proto/mem.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#define MAX_CHILDREN      48
#define MAX_NAMES         32
#define MAX_RESTARTS      8
#define NAMES_PER_PROCESS 4 /* so one process cannot fill the name table */
#define MAX_RUNS          16
#define MAX_PENDING       32 /* deaths the bus or memory server has not fully taken */

/* What a module line asks for (see docs/writing-a-server.md). */
struct child {
    char name[32];
    uint32_t module;
    uint32_t pid; /* 0: not running */
    uint32_t privs, prio, irq_mask;
    uint32_t cpu; /* its main thread's CPU (cpu=N), 0 by default */
    uint16_t io_base, io_count;
    struct kc_budget budget; /* carved out of ours while it runs; 0: the kernel's default */
    int restart, control, is_test, on_demand, program;
    uint32_t restarts;
    /* test expectation: how the process must end */
    uint32_t expect_reason; /* DEATH_*, or 0 for "bad executable" */
    uint64_t expect_detail;
    int expect_badelf, judged;
};

struct name_entry {
    char name[NAME_MAX_LEN]; /* "" = free entry */
    uint64_t handle;         /* in our capability table; 0 while its owner restarts */
    uint32_t pid;            /* who registered it; 0 while its owner restarts */
    struct child *owner;     /* the boot module it belongs to across restarts, or 0 */
};

/* A program started by BOOT_RUN, until its runner has waited for it. */
struct run {
    uint32_t pid;    /* 0: free entry */
    uint32_t runner; /* pid of the process that asked */
    uint64_t waiter; /* badge of the runner's thread waiting in BOOT_WAIT, or 0 */
    int ended;       /* the program has ended: */
    uint32_t reason; /* DEATH_* */
    uint64_t detail;
};

static struct child children[MAX_CHILDREN];
static struct run runs[MAX_RUNS];
static int nchildren;
static struct name_entry names[MAX_NAMES];
static int tests, passed, failed;
static uint64_t stats_restarts, stats_deaths, stats_faults;

static uint64_t parse_num(const char *s, const char **end)
{
    uint64_t v = 0;
    int base = 10;
    if (s[0] == '0' && s[1] == 'x') {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : 99;
        if (d >= base)
            break;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (end)
        *end = s;
    return v;
}

static uint32_t parse_privs(const char *s)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } table[] = {{"log", PRIV_LOG}, {"spawn", PRIV_SPAWN}, {"map", PRIV_MAP},
                 {"io", PRIV_IO},   {"irq", PRIV_IRQ},     {"shutdown", PRIV_SHUTDOWN},
                 {"bus", PRIV_BUS}, {"mmio", PRIV_MMIO},   {"dma", PRIV_DMA}};
    uint32_t privs = 0;
    while (*s && *s != ' ') {
        size_t n = 0;
        while (s[n] && s[n] != ' ' && s[n] != '+')
            n++;
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
            if (strlen(table[i].name) == n && strncmp(table[i].name, s, n) == 0)
                privs |= table[i].bit;
        s += n;
        if (*s == '+')
            s++;
    }
    return privs;
}

/* Module arguments: priv=a+b io=base:count irq=n+m prio=n cpu=n kmem=frames
 * threads=n procs=n restart control ondemand program test
 * expect=exit:N|fault:V|killed|badelf, then optionally "--" and the
 * program's own arguments (C-library programs get them as argv). */
static void parse_args(struct child *c, const char *args)
{
    c->prio = 8;
    c->expect_reason = DEATH_EXIT;
    for (const char *p = args; *p;) {
        while (*p == ' ')
            p++;
        if (p[0] == '-' && p[1] == '-' && (p[2] == ' ' || !p[2]))
            break; /* the rest is the program's own arguments */
        if (strncmp(p, "priv=", 5) == 0) {
            c->privs = parse_privs(p + 5);
        } else if (strncmp(p, "io=", 3) == 0) {
            const char *e;
            c->io_base = (uint16_t)parse_num(p + 3, &e);
            c->io_count = *e == ':' ? (uint16_t)parse_num(e + 1, 0) : 1;
        } else if (strncmp(p, "irq=", 4) == 0) {
            const char *e = p + 4;
            do {
                c->irq_mask |= 1u << parse_num(e + (*e == '+'), &e);
            } while (*e == '+');
        } else if (strncmp(p, "prio=", 5) == 0) {
            c->prio = (uint32_t)parse_num(p + 5, 0);
        } else if (strncmp(p, "cpu=", 4) == 0) {
            c->cpu = (uint32_t)parse_num(p + 4, 0);
        } else if (strncmp(p, "kmem=", 5) == 0) {
            c->budget.frames = parse_num(p + 5, 0);
        } else if (strncmp(p, "threads=", 8) == 0) {
            c->budget.threads = (uint32_t)parse_num(p + 8, 0);
        } else if (strncmp(p, "procs=", 6) == 0) {
            c->budget.procs = (uint32_t)parse_num(p + 6, 0);
        } else if (strncmp(p, "restart", 7) == 0) {
            c->restart = 1;
        } else if (strncmp(p, "control", 7) == 0) {
            c->control = 1;
        } else if (strncmp(p, "ondemand", 8) == 0) {
            c->on_demand = 1; /* started by BOOT_SPAWN (e.g. the shell's bench) */
        } else if (strncmp(p, "program", 7) == 0) {
            c->program = c->on_demand = 1; /* started by BOOT_RUN only */
        } else if (strncmp(p, "test", 4) == 0) {
            c->is_test = 1;
        } else if (strncmp(p, "expect=exit:", 12) == 0) {
            c->expect_detail = parse_num(p + 12, 0);
        } else if (strncmp(p, "expect=fault:", 13) == 0) {
            c->expect_reason = DEATH_FAULT;
            c->expect_detail = parse_num(p + 13, 0);
        } else if (strncmp(p, "expect=killed", 13) == 0) {
            c->expect_reason = DEATH_KILLED;
        } else if (strncmp(p, "expect=badelf", 13) == 0) {
            c->expect_badelf = 1;
        }
        while (*p && *p != ' ')
            p++;
    }
}

static void judge(struct child *c, int ok, const char *how)
{
    if (!c->is_test || c->judged)
        return;
    c->judged = 1;
    if (ok)
        passed++;
    else
        failed++;
    printf("TEST %s %s (%s)\n", c->name, ok ? "PASS" : "FAIL", how);
}

/* cpu=N: the main thread moves there before it has run (it is below us
 * in priority); without that CPU it stays where it is, with a warning. */
static void place(struct child *c, long h)
{
    long rc = c->cpu ? kc_thread_set_cpu((uint64_t)h, c->cpu) : 0;
    if (rc < 0)
        printf("boot: %s stays on cpu 0: cpu=%u: %s\n", c->name, c->cpu, ipc_strerror(rc));
}

static long start(struct child *c)
{
    uint32_t pid = 0;
    long h = kc_spawn_budget(c->module, c->privs, c->prio, c->io_base, c->io_count, c->irq_mask,
                             c->name, &c->budget, &pid);
    if (h < 0) {
        if (h == -E_BADELF && c->expect_badelf) {
            judge(c, 1, "bad executable refused, as expected");
            return h;
        }
        printf("boot: cannot start %s: %s\n", c->name, ipc_strerror(h));
        judge(c, 0, "could not start");
        return h;
    }
    place(c, h);
    kc_cap_delete((uint64_t)h); /* servers register a handle themselves */
    c->pid = pid;
    if (c->expect_badelf)
        judge(c, 0, "a bad executable was started");
    return 0;
}

static struct child *child_by_pid(uint32_t pid)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i].pid == pid)
            return &children[i];
    return 0;
}

static struct child *child_by_name(const char *name)
{
    for (int i = 0; i < nchildren; i++)
        if (strcmp(children[i].name, name) == 0)
            return &children[i];
    return 0;
}

static struct name_entry *find_name(const char *name)
{
    for (int i = 0; i < MAX_NAMES; i++)
        if (names[i].name[0] && strcmp(names[i].name, name) == 0)
            return &names[i];
    return 0;
}

/* pid has died: its names' handles go. The names of a module that will be
 * restarted stay reserved for it (lookups answer -E_AGAIN meanwhile);
 * everyone else's names are free again. */
static void names_after_death(uint32_t pid, const struct child *c, int restarting)
{
    for (int i = 0; i < MAX_NAMES; i++) {
        if (!names[i].name[0] || names[i].pid != pid)
            continue;
        kc_cap_delete(names[i].handle);
        names[i].handle = 0;
        names[i].pid = 0;
        if (!restarting || !c || names[i].owner != c)
            names[i] = (struct name_entry){0};
    }
}

/* c will not come back: the names held for it are free. */
static void release_names_of(const struct child *c)
{
    for (int i = 0; i < MAX_NAMES; i++)
        if (names[i].name[0] && names[i].owner == c && !names[i].pid)
            names[i] = (struct name_entry){0};
}

/* The PCI bus server turns bus mastering off on the devices a dead
 * process held (docs/storage.md). Returns 1 once they are stopped: the bus
 * server said so, or no bus server was ever configured (then no process
 * can hold a device). A bus server that is restarting or does not answer
 * means "not known yet": the death stays pending. */
static int tell_bus_server(uint32_t pid)
{
    struct name_entry *e = find_name("pci");
    if (!e)
        return !child_by_name("pci");
    if (!e->handle || e->pid == pid)
        return 0;
    struct ipc_msg m = ipc_msg_make(BOOT_DIED, 2);
    m.info |= ipc_info_timeout(100);
    m.w[1] = pid;
    long rc = ipc_call_status(e->handle, &m);
    if (rc < 0 && rc != -E_AGAIN)
        printf("boot: bus server did not take the death of %x: %s\n", pid, ipc_strerror(rc));
    return rc == 0;
}

/* The memory server frees what a dead process held (its DMA pages only if
 * its devices are stopped). The call has a timeout: a memory server that
 * is itself dying must not stall us. Returns 1 if it took the news, or if
 * no memory server was ever configured. */
static int tell_memory_server(uint32_t pid, int devices_stopped)
{
    for (int i = 0; i < MAX_NAMES; i++) {
        if (!names[i].handle || strcmp(names[i].name, "mem") != 0)
            continue; /* (a restarting memory server reclaims the dead itself, DMA pages aside) */
        struct ipc_msg m = ipc_msg_make(BOOT_DIED, 3);
        m.info |= ipc_info_timeout(100);
        m.w[1] = pid;
        m.w[2] = (uint64_t)devices_stopped;
        long rc = ipc_call_status(names[i].handle, &m);
        if (rc < 0)
            printf("boot: memory server did not take the death of %x: %s\n", pid, ipc_strerror(rc));
        return rc >= 0;
    }
    return !child_by_name("mem"); /* none configured: nobody holds pages to free */
}

/*
 * Deaths whose DMA pages may still be held: the bus server could not say
 * the devices stopped (it was restarting), or the memory server did not
 * take the news (it was). Both servers keep no memory of them across their
 * own restart, so we ask again whenever either registers its name, and at
 * every death. Pids are never reused, so asking twice is harmless.
 */
static uint32_t pending[MAX_PENDING];

/* The death of pid to both servers; 1 once its DMA pages may go. */
static int report_death(uint32_t pid)
{
    int stopped = tell_bus_server(pid);
    return tell_memory_server(pid, stopped) && stopped;
}

static void pend(uint32_t pid)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (!pending[i]) {
            pending[i] = pid;
            printf("boot: the death of %x is pending (bus or memory server away)\n", pid);
            return;
        }
    printf("boot: too many deaths pending; the DMA pages of %x stay lost\n", pid);
}

static void retry_pending(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i] && report_death(pending[i])) {
            printf("boot: the death of %x is dealt with: its DMA pages may go\n", pending[i]);
            pending[i] = 0;
        }
}

/* ---- programs: BOOT_RUN, BOOT_WAIT ---------------------------------------- */

static void reply_status(uint64_t badge, struct ipc_msg *m, long status);

static void run_answer(struct run *r, uint64_t badge)
{
    struct ipc_msg m = {.info = ipc_info(24, 0)};
    m.w[1] = r->reason;
    m.w[2] = r->detail;
    ipc_reply(badge, &m);
    *r = (struct run){0};
}

/* pid has died: if it was a run, its runner may learn how it ended; if it
 * ran programs, nobody will wait for them any more. */
static void runs_after_death(uint32_t pid, uint32_t reason, uint64_t detail)
{
    for (int i = 0; i < MAX_RUNS; i++) {
        struct run *r = &runs[i];
        if (r->pid && r->runner == pid) {
            *r = (struct run){0};
        } else if (r->pid == pid && !r->ended) {
            r->ended = 1;
            r->reason = reason;
            r->detail = detail;
            if (r->waiter)
                run_answer(r, r->waiter);
        }
    }
}

/* BOOT_RUN: m's data is "name\0arg\0...". Returns the pid or -E_*. */
static long run_program(struct ipc_msg *m, uint32_t runner)
{
    static char data[BOOT_RUN_MAX];
    long len = ipc_msg_data(m, data, sizeof(data));
    if (len < 0)
        return len;
    if (len == 0 || data[len - 1] != '\0')
        return -E_INVAL;
    struct child *c = child_by_name(data);
    if (!c || !c->program)
        return -E_NOENT;
    struct run *slot = 0;
    int mine = 0;
    for (int i = 0; i < MAX_RUNS; i++) {
        if (!runs[i].pid)
            slot = slot ? slot : &runs[i];
        else
            mine += runs[i].runner == runner;
    }
    if (!slot || mine >= BOOT_RUNS)
        return -E_LIMIT;
    size_t name_len = strlen(data) + 1;
    uint32_t pid = 0;
    long h =
        kc_spawn_argv_budget(c->module, c->privs, c->prio, c->io_base, c->io_count, c->irq_mask,
                             &c->budget, data + name_len, (size_t)len - name_len, &pid);
    if (h < 0)
        return h;
    place(c, h);
    kc_cap_delete((uint64_t)h);
    *slot = (struct run){.pid = pid, .runner = runner};
    return pid;
}

/* BOOT_WAIT: answers now, or later from runs_after_death. */
static void wait_program(struct ipc_msg *m, uint64_t badge)
{
    for (int i = 0; i < MAX_RUNS; i++) {
        struct run *r = &runs[i];
        if (!r->pid || r->pid != (uint32_t)m->w[1] || r->runner != badge_pid(badge))
            continue;
        if (r->ended)
            run_answer(r, badge);
        else if (m->w[2] & BOOT_WAIT_POLL)
            reply_status(badge, m, -E_AGAIN);
        else if (r->waiter)
            reply_status(badge, m, -E_BUSY);
        else
            r->waiter = badge;
        return;
    }
    reply_status(badge, m, -E_NOENT);
}

static const char *reason_name(uint32_t r)
{
    return r == DEATH_EXIT ? "exit" : r == DEATH_FAULT ? "fault" : "killed";
}

static void reap(void)
{
    uint32_t pid, reason;
    uint64_t detail;
    while (kc_wait_death(&pid, &reason, &detail, 0) == 0) {
        stats_deaths++;
        if (reason == DEATH_FAULT)
            stats_faults++;
        struct child *c = child_by_pid(pid);
        /* A clean exit is not a crash: the server had nothing to do
         * (a driver without its device). */
        int again =
            c && c->restart && c->restarts < MAX_RESTARTS && !(reason == DEATH_EXIT && detail == 0);
        names_after_death(pid, c, again);
        retry_pending();
        if (!report_death(pid))
            pend(pid);
        runs_after_death(pid, reason, detail);
        if (!c)
            continue;
        c->pid = 0;
        if (c->is_test) {
            char how[64];
            snprintf(how, sizeof(how), "%s %lu", reason_name(reason), detail);
            judge(c,
                  reason == c->expect_reason &&
                      (reason == DEATH_KILLED || detail == c->expect_detail),
                  how);
        }
        if (again) {
            c->restarts++;
            stats_restarts++;
            printf("boot: %s died (%s %lu); restarting it (restart %u)\n", c->name,
                   reason_name(reason), detail, c->restarts);
            if (start(c) < 0)
                release_names_of(c);
        } else if (!c->is_test && (reason != DEATH_EXIT || detail != 0)) {
            printf("boot: %s died (%s %lu)\n", c->name, reason_name(reason), detail);
        }
    }
}

static void reply_status(uint64_t badge, struct ipc_msg *m, long status)
{
    m->info = ipc_info(8, 0);
    m->w[0] = (uint64_t)status;
    ipc_reply(badge, m);
}

/*
 * Who may register what (docs/writing-a-server.md): the name of a boot
 * module belongs to that module; any other name to whoever registers it
 * first. A boot module keeps its names across restarts; anyone else's go
 * when it dies. At most NAMES_PER_PROCESS per module or process. Returns
 * 0 when the name now names `cap` (which the caller then keeps).
 */
static long register_name(const char *name, uint32_t pid, uint64_t cap)
{
    if (!name[0])
        return -E_INVAL;
    struct child *me = child_by_pid(pid), *module = child_by_name(name);
    if (module && module != me)
        return -E_EXIST; /* another module's own name */
    struct name_entry *e = find_name(name);
    if (e) {
        /* Ours while we restart, or left by a holder that has died (and
         * is not reaped yet) and belonged to no module; else someone's. */
        uint64_t badge;
        int dead = !e->handle || kc_cap_identify(e->handle, &badge) == -E_DEAD;
        if (e->owner ? e->owner != me || (e->pid && !dead) : !dead)
            return -E_EXIST;
        if (e->handle)
            kc_cap_delete(e->handle);
        e->handle = cap;
        e->pid = pid;
        e->owner = me;
        return 0;
    }
    struct name_entry *free_slot = 0;
    int mine = 0;
    for (int i = 0; i < MAX_NAMES; i++) {
        if (!names[i].name[0])
            free_slot = free_slot ? free_slot : &names[i];
        else
            mine += me ? names[i].owner == me : names[i].pid == pid;
    }
    if (!free_slot || mine >= NAMES_PER_PROCESS)
        return -E_LIMIT;
    strncpy_safe(free_slot->name, name, sizeof(free_slot->name));
    free_slot->handle = cap;
    free_slot->pid = pid;
    free_slot->owner = me;
    return 0;
}

static void answer_lookup(const char *name, uint64_t badge, struct ipc_msg *m)
{
    struct name_entry *e = find_name(name);
    if (!e) {
        reply_status(badge, m, -E_NOENT);
        return;
    }
    if (!e->handle) {
        reply_status(badge, m, -E_AGAIN); /* its server is being restarted */
        return;
    }
    m->info = ipc_info(8, 0) | IPC_INFO_CAP;
    m->cap = e->handle;
    m->w[0] = 0;
    long rc = ipc_reply(badge, m);
    /* The caller did not accept the handle, or its server has just died
     * (we have not reaped it yet): answer without one. */
    if (rc == -E_NOACCEPT || rc == -E_DEAD)
        reply_status(badge, m, rc == -E_NOACCEPT ? rc : -E_AGAIN);
}

/* A request; *cap is the handle that came with it, which the request
 * sets to 0 if it keeps it (the caller deletes any other). */
static void handle(struct ipc_msg *m, uint64_t *cap)
{
    char name[NAME_MAX_LEN];
    memcpy(name, &m->w[1], sizeof(name));
    name[NAME_MAX_LEN - 1] = '\0';
    uint64_t badge = m->badge;
    struct child *caller = child_by_pid(badge_pid(badge));

    switch (ipc_info_label(m->info)) {
    case NAME_REGISTER: {
        if (!*cap) {
            reply_status(badge, m, -E_INVAL);
            return;
        }
        long rc = register_name(name, badge_pid(badge), *cap);
        if (rc == 0)
            *cap = 0;
        reply_status(badge, m, rc);
        /* After the answer: a restarted server can take our call only then. */
        if (rc == 0 && (strcmp(name, "pci") == 0 || strcmp(name, "mem") == 0))
            retry_pending();
        return;
    }
    case NAME_LOOKUP:
        answer_lookup(name, badge, m);
        return;
    case BOOT_KILL: {
        struct child *c = child_by_name(name);
        if (!caller || !caller->control)
            reply_status(badge, m, -E_PERM);
        else if (!c || !c->pid)
            reply_status(badge, m, -E_NOENT);
        else
            reply_status(badge, m, kc_kill(c->pid));
        return;
    }
    case BOOT_SPAWN: {
        struct child *c = child_by_name(name);
        if (!caller || !caller->control)
            reply_status(badge, m, -E_PERM);
        else if (!c)
            reply_status(badge, m, -E_NOENT);
        else if (c->pid)
            reply_status(badge, m, -E_BUSY);
        else
            reply_status(badge, m, start(c));
        return;
    }
    case BOOT_RUN: {
        long rc = caller && caller->control ? run_program(m, badge_pid(badge)) : -E_PERM;
        m->info = ipc_info(16, 0);
        m->w[0] = (uint64_t)(rc < 0 ? rc : 0);
        m->w[1] = rc < 0 ? 0 : (uint64_t)rc;
        ipc_reply(badge, m);
        return;
    }
    case BOOT_WAIT:
        wait_program(m, badge);
        return;
    case BOOT_STATS:
        m->info = ipc_info(32, 0);
        m->w[0] = 0;
        m->w[1] = stats_restarts;
        m->w[2] = stats_deaths;
        m->w[3] = stats_faults;
        ipc_reply(badge, m);
        return;
    default:
        reply_status(badge, m, -E_NOSYS);
    }
}

static int tests_done(void)
{
    return tests > 0 && passed + failed == tests;
}

static long kernel_log(const char *text, size_t len)
{
    return kc_log(text, len);
}

int main(void)
{
    /* We start before the console and must never wait on it. */
    stdio_set_sink(kernel_log);
    printf("boot: Granite boot server starting\n");
    struct kc_module_info info;
    for (uint32_t i = 0; kc_module_info(i, &info) == 0; i++) {
        if (strcmp(info.name, "ksyms") == 0 || strcmp(info.name, "boot") == 0)
            continue;
        if (nchildren == MAX_CHILDREN) {
            printf("boot: more than %d modules; ignoring %s\n", MAX_CHILDREN, info.name);
            continue;
        }
        struct child *c = &children[nchildren++];
        strncpy_safe(c->name, info.name, sizeof(c->name));
        c->module = i;
        parse_args(c, info.args);
        if (c->is_test)
            tests++;
    }
    for (int i = 0; i < nchildren; i++)
        if (!children[i].on_demand)
            start(&children[i]);

    struct ipc_msg m;
    for (;;) {
        if (tests_done()) {
            printf("boot: tests finished: %d passed, %d failed\n", passed, failed);
            stdio_flush();
            kc_shutdown(failed ? 1 : 0);
        }
        /* We accept a handle with every request (a registration brings
         * one) and delete each one we do not keep, so nobody can fill our
         * table by pushing handles at us. */
        m.info = IPC_INFO_ACCEPT;
        long rc = ipc_recv(IPC_ANY, &m);
        if (rc < 0) { /* cannot fail (docs/abi.md 2.2): end the system, do not spin */
            printf("boot: receive failed: %s\n", ipc_strerror(rc));
            stdio_flush();
            return 1;
        }
        if (m.info & IPC_INFO_NOTIFY) {
            if (m.w[0] & NOTIFY_BIT_DEATH)
                reap();
            continue;
        }
        uint64_t cap = (m.info & IPC_INFO_CAP) && (int64_t)m.cap > 0 ? m.cap : 0;
        handle(&m, &cap);
        if (cap)
            kc_cap_delete(cap);
    }
}
