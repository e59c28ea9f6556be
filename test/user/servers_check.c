/*
 * servers.check: the server set as a client sees it. Console write (short,
 * long) and read; memory allocate, free, out of memory; name lookups;
 * malformed requests to every server (each answered with an error while
 * the server keeps serving); and servers killed in the middle of a request,
 * which are restarted while their client gets an error instead of hanging.
 * Prints "CHECK <name> PASS|FAIL" per check; exit status = failures.
 */
#include <abi/layout.h>
#include <abi/proto/console.h>
#include <abi/proto/mem.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/console.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/measure.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "../../servers/hello/hello.h"
#include "check.h"

static const void *main_code; /* an address in our (read-only) code */

static long call(const char *server, uint32_t label, uint64_t w0, uint64_t w1, uint64_t w2)
{
    long h = name_lookup(server);
    if (h < 0)
        return h;
    struct ipc_msg m = ipc_msg_make(label, 3);
    m.w[0] = w0;
    m.w[1] = w1;
    m.w[2] = w2;
    return ipc_call_status((uint64_t)h, &m);
}

static char line_read[64];
static volatile long line_rc = 1;

static void line_reader(void *arg)
{
    (void)arg;
    line_rc = console_readline(line_read, sizeof(line_read));
}

static void console_checks(void)
{
    check_rc("console.write_short", console_write("servers.check: short line\n", 26), 26);
    static char text[3000];
    memset(text, '-', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\n';
    check_rc("console.write_long_through_grant", console_write(text, sizeof(text)), sizeof(text));
    check_rc("console.malformed_too_long", call("console", CON_WRITE, 5000, 0, 0), -E_RANGE);
    /* Our table exists (the long write used it) but has no such grant. */
    check_rc("console.malformed_bad_grant", call("console", CON_WRITE, 100, grant_id(3, 77), 0),
             -E_GRANT_INVALID);
    check_rc("console.malformed_unknown_op", call("console", 0x3ff, 0, 0, 0), -E_NOSYS);
    check_rc("console.still_serving", console_write("servers.check: still here\n", 26), 26);
    /* The line is typed once "console.still_serving" is printed. A reader
     * thread waits for it, we wait for the reader: 30 s at most, so an
     * input path that never delivers is a failed check, not a hang. */
    thread_create(line_reader, 0, 0);
    for (int i = 0; i < 3000 && line_rc == 1; i++)
        kc_sleep(1);
    check("console.readline", line_rc == 13 && strcmp(line_read, "hello granite") == 0,
          line_rc == 1 ? "no line within 30 s" : line_read);
}

static void memory_checks(void)
{
    struct mem_stats s0, s1;
    check_rc("mem.stats", mem_stats(&s0), 0);
    long err = 0;
    uint64_t *p = mem_alloc_pages(10, &err);
    int ok = p != 0;
    for (int i = 0; ok && i < 10 * 512; i++)
        ok = p[i] == 0; /* fresh pages are zeroed */
    for (int i = 0; ok && i < 10 * 512; i++)
        p[i] = (uint64_t)i;
    for (int i = 0; ok && i < 10 * 512; i++)
        ok = p[i] == (uint64_t)i;
    check("mem.alloc_zeroed_writable", ok, 0);
    check_rc("mem.free", p ? mem_free_pages(p, 10) : -1, 10);
    mem_stats(&s1);
    check("mem.free_returns_pages", s1.free_pages == s0.free_pages, 0);

    /* A heap grows in place after the latest allocation, nowhere else. */
    char *h = mem_alloc_pages(2, &err);
    char *more = h ? mem_alloc_pages_at(h + 2 * 4096, 3, &err) : 0;
    ok = more == h + 2 * 4096;
    for (int i = 0; ok && i < 5 * 4096; i += 512)
        h[i] = (char)i; /* all five pages mapped, no guard between */
    check("mem.grow_in_place", ok, 0);
    check("mem.grow_elsewhere_refused",
          !mem_alloc_pages_at(h + 4 * 4096, 1, &err) && err == -E_RANGE &&
              !mem_alloc_pages_at(h - 4096, 1, &err) && err == -E_RANGE,
          0);
    check_rc("mem.grown_frees_whole", h ? mem_free_pages(h, 5) : -1, 5);

    /* Freeing one allocation frees exactly that one: another one's pages
     * stay ours, with their contents. */
    uint64_t *a = mem_alloc_pages(2, &err), *b = mem_alloc_pages(3, &err);
    int kept = a && b;
    for (int i = 0; kept && i < 3 * 512; i++)
        b[i] = 0xb0b0000000000000ull | (uint64_t)i;
    kept = kept && mem_free_pages(a, 2) == 2;
    mem_stats(&s1);
    kept = kept && s1.my_pages == 3 && s1.free_pages == s0.free_pages - 3;
    uint64_t *c = mem_alloc_pages(3, &err); /* may reuse a's frames, never b's */
    for (int i = 0; kept && i < 3 * 512; i++)
        kept = b[i] == (0xb0b0000000000000ull | (uint64_t)i);
    check("mem.free_frees_only_that_allocation", kept, 0);
    if (b)
        mem_free_pages(b, 3);
    if (c)
        mem_free_pages(c, 3);

    /* Out of memory: take 16 MiB at a time until refused, then halve the
     * request down to one page, so every last page we may have is taken. */
    void *chunks[128];
    uint64_t sizes[128], total = 0;
    int n = 0;
    long rc = 0;
    for (uint64_t want = MEM_MAX_ALLOC_PAGES; want > 0 && n < 128;) {
        chunks[n] = mem_alloc_pages(want, &rc);
        if (!chunks[n]) {
            want /= 2;
            continue;
        }
        /* Leave a mark in every page: the next owner must not see it. */
        for (uint64_t pg = 0; pg < want; pg++)
            ((uint64_t *)chunks[n])[pg * 512 + pg % 512] = 0x6d61726b00000000ull | pg;
        sizes[n++] = want;
        total += want;
    }
    char d[80];
    snprintf(d, sizeof(d), "refused after %lu pages (%lu MiB) with %s", total, total >> 8,
             ipc_strerror(rc));
    check("mem.out_of_memory_is_an_error", n > 0 && rc == -E_NOMEM, d);
    check_rc("mem.not_even_one_page_more", mem_alloc_pages(1, &rc) ? 0 : rc, -E_NOMEM);
    for (int i = 0; i < n; i++)
        mem_free_pages(chunks[i], sizes[i]);
    mem_stats(&s1);
    check("mem.everything_back_after_oom", s1.free_pages == s0.free_pages && s1.my_pages == 0, 0);

    /* Take as much again: more than the pool has left untouched, so some of
     * the marked frames come back to us, and every page must be zero. */
    uint64_t dirty = 0, again = 0;
    int m = 0;
    for (uint64_t want = MEM_MAX_ALLOC_PAGES; want > 0 && m < 128 && again < total;) {
        uint64_t *c = mem_alloc_pages(want, &rc);
        if (!c) {
            want /= 2;
            continue;
        }
        for (uint64_t pg = 0; pg < want; pg++)
            for (uint64_t w = 0; w < 512; w += 64)
                dirty += c[pg * 512 + w] != 0 || c[pg * 512 + pg % 512] != 0;
        chunks[m] = c;
        sizes[m++] = want;
        again += want;
    }
    snprintf(d, sizeof(d), "%lu of %lu pages taken again hold old data", dirty, again);
    check("mem.pages_zeroed_on_reuse", again == total && dirty == 0, d);
    for (int i = 0; i < m; i++)
        mem_free_pages(chunks[i], sizes[i]);

    check_rc("mem.malformed_zero_pages", call("mem", MEM_ALLOC, 0, 0, 0), -E_RANGE);
    check_rc("mem.malformed_huge", call("mem", MEM_ALLOC, 0, 1ull << 40, 0), -E_RANGE);
    check_rc("mem.malformed_free", call("mem", MEM_FREE, 0, 0x123000, 4), -E_INVAL);
    check_rc("mem.malformed_free_at_heap_end", call("mem", MEM_FREE, 0, USER_HEAP_MAX, 1),
             -E_INVAL);
    /* Well-formed, but nothing of ours is there (near the heap window's
     * end, far from any allocation): nothing to free is an error. */
    check_rc("mem.free_of_nothing_refused", call("mem", MEM_FREE, 0, USER_HEAP_MAX - 64 * 4096, 4),
             -E_INVAL);
    check_rc("mem.malformed_died_not_from_boot", call("mem", BOOT_DIED, 0, 1, 0), -E_PERM);
    check_rc("mem.malformed_unknown_op", call("mem", 0x2ff, 0, 0, 0), -E_NOSYS);
    p = mem_alloc_pages(1, &err);
    check("mem.still_serving", p != 0, 0);
    mem_free_pages(p, 1);
}

/* BOOT_RUN's data is "name\0arg\0..."; returns w0 (and *pid). */
static long run(const char *words, size_t len, uint32_t *pid)
{
    struct ipc_msg m;
    long rc = ipc_call_data(HANDLE_NAMES, BOOT_RUN, words, len, &m);
    if (rc < 0)
        return rc;
    if (pid)
        *pid = (uint32_t)m.w[1];
    return (long)m.w[0];
}

static long wait_run(uint32_t pid, uint64_t flags, struct ipc_msg *m)
{
    *m = ipc_msg_make(BOOT_WAIT, 3);
    m->w[1] = pid;
    m->w[2] = flags;
    return ipc_call_status(HANDLE_NAMES, m);
}

/* Programs ("program" on their module line) run with arguments. */
static void run_checks(void)
{
    struct ipc_msg m;
    uint32_t me, pid = 0;
    kc_self(&me, 0, 0, 0);
    check_rc("boot.run_unknown", run("nobody-here", 12, 0), -E_NOENT);
    check_rc("boot.run_not_a_program", run("hello.again", 12, 0), -E_NOENT);
    check_rc("boot.run_without_nul", run("lua", 3, 0), -E_INVAL);
    check_rc("boot.wait_not_a_run", wait_run(me, 0, &m), -E_NOENT);
    /* The status comes from the arguments: they reached the program. */
    static const char exit7[] = "lua\0-e\0x = 3\0-e\0os.exit(x + 4)";
    long rc = run(exit7, sizeof(exit7), &pid);
    rc = rc < 0 ? rc : wait_run(pid, 0, &m);
    check("boot.run_with_arguments", rc == 0 && m.w[1] == DEATH_EXIT && m.w[2] == 7, 0);
    check_rc("boot.wait_answers_once", wait_run(pid, 0, &m), -E_NOENT);
    static const char spin[] = "lua\0-e\0local t = os.clock() while os.clock() - t < 0.3 do end";
    rc = run(spin, sizeof(spin), &pid);
    check_rc("boot.wait_poll_while_running", rc < 0 ? rc : wait_run(pid, BOOT_WAIT_POLL, &m),
             -E_AGAIN);
    rc = wait_run(pid, 0, &m);
    check("boot.wait_after_poll", rc == 0 && m.w[1] == DEATH_EXIT && m.w[2] == 0, 0);
}

static void name_checks(void)
{
    check("names.lookup_known", name_lookup("console") >= 0 && name_lookup("mem") >= 0, 0);
    check_rc("names.lookup_unknown", name_lookup("nobody-here"), -E_NOENT);
    struct ipc_msg m = ipc_msg_make(NAME_REGISTER, 4);
    name_pack(&m, "no-handle");
    check_rc("boot.malformed_register_without_handle", ipc_call_status(HANDLE_NAMES, &m), -E_INVAL);
    m = ipc_msg_make(0x1ff, 1);
    check_rc("boot.malformed_unknown_op", ipc_call_status(HANDLE_NAMES, &m), -E_NOSYS);
    check("boot.still_serving", name_lookup("hello") >= 0, 0);

    /* Programs started on request ("ondemand" on their module line): one
     * that exits, one that faults; the boot server counts both deaths. */
    struct ipc_msg st = ipc_msg_make(BOOT_STATS, 1);
    ipc_call_status(HANDLE_NAMES, &st);
    uint64_t deaths = st.w[2], faults = st.w[3];
    /* With a time limit: a request the boot server drops must not hang us. */
    m = ipc_msg_make(BOOT_SPAWN, 4);
    m.info |= ipc_info_timeout(3000);
    name_pack(&m, "hello.again");
    check_rc("boot.spawn_on_demand", ipc_call_status(HANDLE_NAMES, &m), 0);
    m = ipc_msg_make(BOOT_SPAWN, 4);
    m.info |= ipc_info_timeout(3000);
    name_pack(&m, "fault.again");
    check_rc("boot.spawn_one_that_faults", ipc_call_status(HANDLE_NAMES, &m), 0);
    for (int i = 0; i < 500 && (st.w[2] < deaths + 2 || st.w[3] < faults + 1); i++) {
        kc_sleep(1);
        st = ipc_msg_make(BOOT_STATS, 1);
        ipc_call_status(HANDLE_NAMES, &st);
    }
    char d[64];
    snprintf(d, sizeof(d), "%lu deaths, %lu faults more", st.w[2] - deaths, st.w[3] - faults);
    /* Other tests may end meanwhile (more deaths); nothing else faults. */
    check("boot.stats_count_deaths_and_faults", st.w[2] >= deaths + 2 && st.w[3] == faults + 1, d);
    m = ipc_msg_make(BOOT_SPAWN, 4);
    name_pack(&m, "nobody-here");
    check_rc("boot.spawn_unknown", ipc_call_status(HANDLE_NAMES, &m), -E_NOENT);
    run_checks();
}

static void hello_checks(void)
{
    check_rc("hello.malformed_greet_too_long", call("hello", HELLO_GREET, 1000, 0, 0), -E_RANGE);
    check_rc("hello.malformed_shout_without_grant", call("hello", HELLO_SHOUT, 10, 0, 0), -E_INVAL);
    long h = name_lookup("hello");
    struct ipc_msg m;
    long rc = h < 0 ? h : ipc_call_data((uint64_t)h, HELLO_GREET, "again", 5, &m);
    check("hello.still_serving",
          rc == 0 && (long)m.w[0] == 0 && memcmp(&m.w[2], "Hello, again!", 13) == 0, 0);
    m = ipc_msg_make(HELLO_MIRROR, IPC_MSG_WORDS);
    for (int i = 0; i < IPC_MSG_WORDS; i++)
        m.w[i] = 0x1111111111111111ull * (uint64_t)(i + 1);
    rc = h < 0 ? h : ipc_call((uint64_t)h, &m);
    int mirrored = rc == 0 && ipc_info_len(m.info) == IPC_MSG_BYTES;
    for (int i = 0; i < IPC_MSG_WORDS; i++)
        mirrored = mirrored && m.w[i] == 0x1111111111111111ull * (uint64_t)(IPC_MSG_WORDS - i);
    check("hello.reply_of_64_bytes_of_data", mirrored, 0);
}

/* Every privileged kernel operation is refused to a process without its
 * privilege (we have only PRIV_LOG), with arguments that would otherwise
 * succeed: our module line gives us port 0x80 and IRQ 5, which need
 * PRIV_IO and PRIV_IRQ as well. */
/* KC_THREAD_INFO (the operation added only through abi.toml and its
 * handler): our own thread as the kernel sees it, and the slot bounds. */
static void thread_info_checks(void)
{
    uint32_t pid, tid, tpid = 0, ttid = 0, prio = 0, cpu = 99;
    char state[16] = "";
    kc_self(&pid, &tid, 0, 0);
    long rc = kc_thread_info(tid & ID_SLOT_MASK, &ttid, &tpid, &prio, state, &cpu);
    check("kc.thread_info_self",
          rc == 0 && ttid == tid && tpid == pid && prio > 0 && strcmp(state, "running") == 0 &&
              cpu == 0,
          state);
    check_rc("kc.thread_info_past_the_end", kc_thread_info(256, 0, 0, 0, 0, 0), -E_RANGE);
}

static void privilege_checks(void)
{
    struct kc_module_info mi;
    uint32_t me, pid;
    uint64_t badge, b, e, st;
    uint32_t v;
    kc_self(&me, 0, 0, 0);
    check_rc("priv.module_info_refused", kc_module_info(0, &mi), -E_PERM);
    check_rc("priv.spawn_refused", kc_spawn_budget(1000, 0, 0, 0, 0, 0, "x", 0, 0), -E_PERM);
    check_rc("priv.spawn_args_refused", kc_spawn_argv_budget(1000, 0, 0, 0, 0, 0, 0, "x", 2, 0),
             -E_PERM);
    /* Without the privilege the block is never looked at: no E_RANGE or
     * E_FAULT to learn anything from. */
    check_rc("priv.spawn_args_too_long_refused",
             kc_spawn_argv_budget(0, 0, 0, 0, 0, 0, 0, "x", KC_SPAWN_ARGV_MAX + 1, 0), -E_PERM);
    check_rc("priv.spawn_args_unreadable_refused",
             kc_spawn_argv_budget(0, 0, 0, 0, 0, 0, 0, 0, 16, 0), -E_PERM);
    check_rc("priv.kill_refused", kc_kill(1), -E_PERM);
    check_rc("priv.wait_death_refused", kc_wait_death(&pid, &v, &st, &badge), -E_PERM);
    check_rc("priv.map_refused", kc_map(me, 0x4000000000ull, 0, 1, 0), -E_PERM);
    check_rc("priv.unmap_refused", kc_unmap(me, 0x4000000000ull, 1), -E_PERM);
    check_rc("priv.meminfo_refused", kc_meminfo(&b, &e, &st), -E_PERM);
    check_rc("priv.io_in_refused", kc_io_in(0x80, 1, &v), -E_PERM);
    check_rc("priv.io_out_refused", kc_io_out(0x80, 1, 0), -E_PERM);
    check_rc("priv.io_write_refused", kc_io_write(0x80, 0x80, 0, "x", 1), -E_PERM);
    check_rc("priv.irq_bind_refused", kc_irq_bind(5, 3), -E_PERM);
    check_rc("priv.irq_ack_refused", kc_irq_ack(5), -E_PERM);
    check_rc("priv.shutdown_refused", kc_shutdown(1), -E_PERM);
    check_rc("priv.dev_assign_refused", kc_dev_assign(me, 0xfe000000ull, 4096, KC_DEV_NO_IRQ),
             -E_PERM);
    check_rc("priv.dev_holder_refused", kc_dev_holder(0xfe000000ull, 4096, KC_DEV_NO_IRQ), -E_PERM);
    check_rc("priv.mmio_map_refused", kc_mmio_map(USER_DEVICE_MIN, 0xfe000000ull, 1), -E_PERM);
    uint64_t pa = 0;
    long err = 0;
    void *dma = mem_alloc_dma(1, &pa, &err);
    check_rc("priv.dma_alloc_refused", dma ? 0 : err, -E_PERM);
}

/* The kernel never writes into a page of ours that is not writable: our
 * code and read-only data are mapped, user, and read-only. */
static const char read_only[64] = "read-only";

static void read_only_checks(void)
{
    struct kc_proc_info pi;
    check_rc("uaccess.args_into_code_refused", kc_args((char *)(uintptr_t)main_code, 16), -E_FAULT);
    check_rc("uaccess.args_into_rodata_refused", kc_args((char *)(uintptr_t)read_only, 16),
             -E_FAULT);
    check_rc("uaccess.proc_info_into_code_refused",
             kc_proc_info(0, (struct kc_proc_info *)(uintptr_t)main_code), -E_FAULT);
    check("uaccess.rodata_unchanged", strcmp(read_only, "read-only") == 0, 0);
    check_rc("uaccess.proc_info_into_writable", kc_proc_info(0, &pi), 0);

    /* The kernel writes exactly what it says, not to the end of the page. */
    static uint8_t page[4096] __attribute__((aligned(4096)));
    memset(page, 0xa5, sizeof(page));
    long len = kc_args((char *)page + 100, 6);
    int bad = page[105] != 0;
    for (int i = 0; i < 4096; i++)
        bad += (i < 100 || i > 105) && page[i] != 0xa5;
    check("uaccess.args_writes_exactly", len > 6 && bad == 0, 0);
    memset(page, 0xa5, sizeof(page));
    kc_proc_info(0, (struct kc_proc_info *)(page + 200));
    bad = 0;
    for (int i = 0; i < 4096; i++)
        bad += (i < 200 || i >= 200 + (int)sizeof(pi)) && page[i] != 0xa5;
    check("uaccess.proc_info_writes_exactly", bad == 0, 0);
}

static long kill_server(const char *name)
{
    struct ipc_msg m = ipc_msg_make(BOOT_KILL, 4);
    name_pack(&m, name);
    return ipc_call_status(HANDLE_NAMES, &m);
}

static volatile long reader_rc = 1;

static void blocked_reader(void *arg)
{
    (void)arg;
    char line[32];
    reader_rc = console_readline(line, sizeof(line)); /* nothing more is typed: blocks */
}

static volatile int churn_stop;
static volatile long churn_first_error, churn_ok_after_error;

static void churn(void *arg)
{
    (void)arg;
    void *held = 0; /* allocated, but its free met the dead server: free it again */
    while (!churn_stop || held) {
        long err = 0;
        if (held) {
            long rc = mem_free_pages(held, 8);
            if (rc == 8)
                held = 0;
            else if (!churn_first_error)
                churn_first_error = rc;
            continue;
        }
        void *p = mem_alloc_pages(8, &err);
        if (!p) {
            if (!churn_first_error)
                churn_first_error = err;
            continue;
        }
        long rc = mem_free_pages(p, 8);
        if (rc != 8) {
            held = p;
            if (!churn_first_error)
                churn_first_error = rc;
        } else if (churn_first_error) {
            churn_ok_after_error++;
        }
    }
}

static void restart_checks(void)
{
    /* Console: a reader is waiting inside the console when it dies. */
    thread_create(blocked_reader, 0, 0);
    kc_sleep(5);
    check_rc("restart.kill_console", kill_server("console"), 0);
    for (int i = 0; i < 100 && reader_rc == 1; i++)
        kc_sleep(1);
    check_rc("restart.console_client_gets_error", reader_rc, -E_DEAD);
    long h = name_lookup_wait("console", 300);
    check("restart.console_is_back", h >= 0, 0);
    check_rc("restart.console_works_again", console_write("servers.check: console is back\n", 31),
             31);

    /* Memory: a client keeps allocating while the server is killed. */
    struct mem_stats s0, s1;
    mem_stats(&s0);
    thread_create(churn, 0, 0);
    kc_sleep(5);
    check_rc("restart.kill_mem", kill_server("mem"), 0);
    for (int i = 0; i < 300 && !churn_ok_after_error; i++)
        kc_sleep(1);
    churn_stop = 1;
    kc_sleep(20);
    char d[64];
    snprintf(d, sizeof(d), "first error %s", ipc_strerror(churn_first_error));
    check("restart.mem_client_gets_error", churn_first_error == -E_DEAD, d);
    check("restart.mem_works_again", churn_ok_after_error > 0, 0);
    mem_stats(&s1);
    snprintf(d, sizeof(d), "free %lu before, %lu after; we hold %lu", s0.free_pages, s1.free_pages,
             s1.my_pages);
    check("restart.mem_accounts_recovered", s1.free_pages == s0.free_pages && s1.my_pages == 0, d);
}

/* KC_TIME's wall clock (the real-time clock at boot): a date between
 * 2024 and 2100, and the TSC moving on from the moment it was read. */
static void time_checks(void)
{
    uint64_t khz = 0, boot_unix = 0, boot_tsc = 0;
    check_rc("time.kc_time", kc_time(0, 0, &khz, &boot_unix, &boot_tsc), 0);
    char d[64];
    snprintf(d, sizeof(d), "%lu s since 1970", boot_unix);
    check("time.rtc_date_plausible", boot_unix >= 1704067200 && boot_unix < 4102444800, d);
    check("time.tsc_after_boot_reading", khz > 0 && measure_rdtsc() > boot_tsc, 0);
}

int main(void)
{
    main_code = (const void *)(uintptr_t)main;
    if (name_lookup_wait("hello", 500) < 0 || name_lookup_wait("mem", 500) < 0) {
        printf("servers.check: the server set did not come up\n");
        return 1;
    }
    console_checks();
    privilege_checks();
    thread_info_checks();
    read_only_checks();
    memory_checks();
    name_checks();
    hello_checks();
    restart_checks();
    time_checks();
    printf("servers.check: %d checks failed\n", failures);
    return failures;
}
