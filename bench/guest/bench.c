/*
 * bench: Granite's IPC benchmark, run inside the guest. Every figure is the
 * median and minimum over many batches, each batch timing `per` operations
 * between two lfence;rdtsc reads after a warm-up. One line per figure:
 *   BENCH <name> cycles_median=N cycles_min=N batches=N per_batch=N kind=K
 * Under QEMU -icount shift=0 the TSC counts retired instructions, so the
 * same program gives wall time (plain TCG) or exact instruction counts.
 * With "quick" in its arguments it runs fewer batches (the regression test);
 * with "table" (the shell's bench) it says what it measures as it goes and
 * ends with a table in microseconds, with ratios, instead of BENCH lines.
 * With "only=A,B,..." it measures only the figures whose names contain one
 * of the texts (bench/rows.sh: a quick look at a few rows); "warmup=N" runs
 * N untimed batches first (a long steady run for a profiler on the host).
 */
#include <abi/layout.h>
#include <abi/proto/blk.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/measure.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "bench_proto.h"

#define MAX_BATCHES 512
#define PRIO        8

static uint32_t samples[MAX_BATCHES];
static int batches = 301, warmup = 20;
static uint8_t buf[BENCH_BUF] __attribute__((aligned(4096))); /* whole pages: mappable */
static uint32_t my_tid;

/* ---- reporting: BENCH lines, or progress and a table for people ---------- */

static int table;
static uint64_t tsc_khz; /* from KC_TIME: the kernel's calibration of the TSC */

#define MAX_FIGURES 64

static struct {
    char name[48];
    uint32_t median;
} figures[MAX_FIGURES];
static int nfigures;

/* cycles as microseconds with three decimals (the TSC ticks tsc_khz per ms). */
static const char *micros(char *out, size_t size, uint64_t cycles)
{
    if (!tsc_khz) {
        snprintf(out, size, "?");
        return out;
    }
    uint64_t thousandths = (cycles * 1000000 + tsc_khz / 2) / tsc_khz;
    snprintf(out, size, "%lu.%03lu", thousandths / 1000, thousandths % 1000);
    return out;
}

/* Large messages (kind xfer) are a call carrying the data, and its reply. */
static const char *kind_words(const char *kind, const char *name)
{
    if (strncmp(name, "ipc.large_send", 14) == 0)
        return "round trip, the data one way";
    return strcmp(kind, "rt") == 0     ? "round trip"
           : strcmp(kind, "iops") == 0 ? "one request"
                                       : "one-way";
}

static void report(const char *name, const char *kind, uint32_t median, uint32_t min, int n,
                   uint64_t per, const char *extra)
{
    if (!table) {
        printf("BENCH %s cycles_median=%u cycles_min=%u batches=%d per_batch=%lu kind=%s%s\n", name,
               median, min, n, per, kind, extra);
        return;
    }
    if (nfigures < MAX_FIGURES) {
        strncpy_safe(figures[nfigures].name, name, sizeof(figures[nfigures].name));
        figures[nfigures++].median = median;
    }
    char us[24];
    printf("bench:   %-34s %9u cycles = %9s us, %s\n", name, median, micros(us, sizeof(us), median),
           kind_words(kind, name));
}

/* What is measured next (progress, in table mode only). */
static void section(const char *what)
{
    if (table)
        printf("bench: %s\n", what);
}

typedef void (*run_fn)(void *ctx, uint64_t per);

static char only[256]; /* "only=A,B": just the figures whose names contain A or B */

static int wanted(const char *name)
{
    if (!only[0])
        return 1;
    for (const char *t = only; *t;) {
        size_t n = 0;
        while (t[n] && t[n] != ',')
            n++;
        for (const char *s = name; *s; s++)
            if (strncmp(s, t, n) == 0)
                return 1;
        t += n + (t[n] == ',');
    }
    return 0;
}

static void measure_extra(const char *name, const char *kind, run_fn run, void *ctx, uint64_t per,
                          int n, const char *extra)
{
    if (!wanted(name))
        return;
    for (int b = -warmup; b < n; b++) {
        uint64_t t0 = measure_rdtsc();
        run(ctx, per);
        uint64_t t = (measure_rdtsc() - t0 + per / 2) / per;
        if (b >= 0)
            samples[b] = (uint32_t)(t > 0xffffffffu ? 0xffffffffu : t);
    }
    measure_sort(samples, n);
    report(name, kind, samples[n / 2], samples[0], n, per, extra);
}

static void measure(const char *name, const char *kind, run_fn run, void *ctx, uint64_t per, int n)
{
    measure_extra(name, kind, run, ctx, per, n, "");
}

/* ---- helpers in other processes ------------------------------------- */

struct helper {
    long handle;
    uint32_t pid;
};

/* Start bench.srv and give it its orders; returns 0 or an error. */
static long start_srv(struct helper *h, uint32_t order, uint64_t arg)
{
    long mod = kc_module_find("bench.srv");
    if (mod < 0)
        return -E_NOENT;
    h->handle = kc_spawn_budget((uint32_t)mod, PRIV_LOG, PRIO, 0, 0, 0, "bench.srv", 0, &h->pid);
    if (h->handle < 0)
        return h->handle;
    struct ipc_msg m = {0};
    long rc = ipc_recv((uint64_t)h->handle, &m); /* its BENCH_ORDERS call */
    if (rc < 0)
        return rc;
    uint64_t badge = m.badge;
    m = ipc_msg_make(order, 2);
    m.w[1] = arg;
    return ipc_reply(badge, &m);
}

/* Our helpers' deaths come to us (we started them): take the records, so
 * the kernel's queue of them never fills. */
static void reap(void)
{
    uint32_t pid, reason;
    uint64_t detail;
    while (kc_wait_death(&pid, &reason, &detail, 0) == 0)
        ;
}

/* Receive a message from anyone, skipping death notifications. */
static void recv_msg(struct ipc_msg *m)
{
    for (;;) {
        *m = (struct ipc_msg){0};
        if (ipc_recv(IPC_ANY, m) < 0)
            continue;
        if (!(m->info & IPC_INFO_NOTIFY))
            return;
        reap();
    }
}

static void stop(struct helper *h)
{
    kc_kill(h->pid);
    kc_cap_delete((uint64_t)h->handle);
    reap();
}

static uint32_t slot_of(uint64_t handle)
{
    uint64_t badge = 0;
    kc_cap_identify(handle, &badge);
    return badge_tid(badge) & ID_SLOT_MASK;
}

/* ---- what is measured --------------------------------------------------- */

struct call_ctx {
    uint64_t handle, info;
};

static void run_call(void *ctx, uint64_t per)
{
    struct call_ctx *c = ctx;
    bench_call_loop(c->handle, c->info, per);
}

static void run_nr(void *ctx, uint64_t per)
{
    bench_nr_loop(*(uint64_t *)ctx, per);
}

static void run_int80(void *ctx, uint64_t per)
{
    (void)ctx;
    bench_int80_loop(per);
}

static void run_ud2(void *ctx, uint64_t per)
{
    (void)ctx;
    bench_ud2_loop(per);
}

static void run_floor(void *ctx, uint64_t per)
{
    bench_floor_loop(*(uint32_t *)ctx, per);
}

static void run_notify(void *ctx, uint64_t per)
{
    bench_notify_loop(*(uint64_t *)ctx, per);
}

struct copy_ctx {
    uint32_t pid;
    uint64_t id, len;
};

static void run_copy(void *ctx, uint64_t per)
{
    struct copy_ctx *c = ctx;
    for (uint64_t i = 0; i < per; i++)
        grant_copy_from(c->pid, c->id, 0, buf, c->len);
}

/* Map, read one byte of every page, unmap. */
static void run_map(void *ctx, uint64_t per)
{
    struct copy_ctx *c = ctx;
    volatile uint8_t *w = (volatile uint8_t *)USER_MAP_MIN;
    for (uint64_t i = 0; i < per; i++) {
        grant_map(c->pid, c->id, 0, (void *)w, c->len, 0);
        for (uint64_t off = 0; off < c->len; off += 4096)
            (void)w[off];
        grant_unmap((void *)w);
    }
}

static void run_data(void *ctx, uint64_t per)
{
    struct copy_ctx *c = ctx;
    struct ipc_msg m;
    for (uint64_t i = 0; i < per; i++)
        ipc_call_data(c->id, 0, buf, c->len, &m);
}

static void entries(void)
{
    uint64_t nr = SYS_BENCH_NULL;
    int bench_kernel = bench_nr_loop(SYS_BENCH_NULL, 1) != -E_NOSYS;
    if (bench_kernel) {
        measure("syscall.null_rt", "rt", run_nr, &nr, 64, batches);
        measure("entry.int80_null_rt", "rt", run_int80, 0, 64, batches);
        measure("entry.ud2_null_rt", "rt", run_ud2, 0, 64, batches);
    } else {
        printf("bench: not the benchmark kernel: no floor, int 0x80 or ud2 figures\n");
    }
    nr = 99; /* unknown: the whole slow path, registers saved and restored */
    measure("syscall.enosys_rt", "rt", run_nr, &nr, 64, batches);
}

static void floors(void)
{
    if (bench_nr_loop(SYS_BENCH_NULL, 1) == -E_NOSYS)
        return;
    uint32_t me = my_tid & ID_SLOT_MASK;
    long t = thread_create(bench_floor_partner, (void *)(uint64_t)me, PRIO);
    kc_sleep(2); /* let it park in its receive */
    uint32_t slot = slot_of((uint64_t)t);
    measure("floor.same_as_rt", "rt", run_floor, &slot, 64, batches);
    struct helper h;
    if (start_srv(&h, SRV_FLOOR, me) == 0) {
        kc_sleep(2);
        slot = slot_of((uint64_t)h.handle);
        measure("floor.cross_as_rt", "rt", run_floor, &slot, 64, batches);
        stop(&h);
    }
}

#define SLOW (0xffffffffull << IPC_INFO_TIMEOUT_SHIFT) /* a timeout forces the slow path */

static void ipc_round_trips(void)
{
    static const uint32_t lens[] = {0, 8, 64};
    char name[64];
    for (int slow = 0; slow < 2; slow++) {
        for (int same = 1; same >= 0; same--) {
            struct helper h = {0};
            uint64_t reply_info = ipc_info(IPC_MSG_BYTES, 0) | (slow ? SLOW : 0);
            if (same) {
                h.handle = thread_create(bench_echo_loop, (void *)reply_info, PRIO);
            } else if (start_srv(&h, SRV_ECHO, reply_info) < 0) {
                continue;
            }
            kc_sleep(1);
            for (unsigned i = 0; i < 3; i++) {
                struct call_ctx c = {(uint64_t)h.handle, ipc_info(lens[i], 0) | (slow ? SLOW : 0)};
                snprintf(name, sizeof(name), "ipc.%s_rt_%uB_%s", same ? "same_as" : "cross_as",
                         lens[i], slow ? "slow" : "fast");
                measure(name, "rt", run_call, &c, 64, batches);
            }
            if (!same)
                stop(&h);
        }
    }
}

static void grant_copies(void)
{
    static const uint64_t sizes[] = {64, 4096, 65536, BENCH_BUF};
    static const char *const names[] = {"64B", "4KiB", "64KiB", "1MiB"};
    char name[64];
    for (int live = 1; live <= 4096; live *= 4096) {
        struct helper h;
        if (start_srv(&h, SRV_GRANT, (uint64_t)live) < 0)
            return;
        struct ipc_msg m = {0};
        ipc_recv((uint64_t)h.handle, &m); /* BENCH_READY with the grant id */
        struct copy_ctx c = {h.pid, m.w[1], 0};
        ipc_reply(m.badge, &(struct ipc_msg){0});
        for (int s = 0; s < 4; s++) {
            if (live > 1 && sizes[s] != 4096)
                continue;
            c.len = sizes[s];
            uint64_t per = sizes[s] >= 65536 ? (sizes[s] == BENCH_BUF ? 1 : 4) : 64;
            snprintf(name, sizeof(name), "grant.copy_%s%s", names[s],
                     live > 1 ? "_4096_live_grants" : "");
            measure(name, "copy", run_copy, &c, per, sizes[s] == BENCH_BUF ? batches / 3 : batches);
        }
        if (live == 1) {
            c.len = 4096;
            measure("grant.map_4KiB", "xfer", run_map, &c, 64, batches);
            c.len = BENCH_BUF;
            measure("grant.map_1MiB", "xfer", run_map, &c, 4, batches);
        }
        stop(&h);
    }
    struct helper h;
    if (start_srv(&h, SRV_DATA, 0) == 0) {
        kc_sleep(1);
        struct copy_ctx c = {h.pid, (uint64_t)h.handle, 4096};
        measure("ipc.large_send_4KiB", "xfer", run_data, &c, 16, batches);
        c.len = 65536;
        measure("ipc.large_send_64KiB", "xfer", run_data, &c, 4, batches);
        c.len = BENCH_BUF;
        measure("ipc.large_send_1MiB", "xfer", run_data, &c, 4, batches / 3);
        stop(&h);
    }
}

/* Round trips per client process while n of them call one server at once;
 * the figure is total time / total round trips. */
static void scaling(void)
{
    if (!wanted("ipc.cross_as_rt_64B_1_clients") && !wanted("ipc.cross_as_rt_64B_64_clients"))
        return;
    struct helper srv;
    if (start_srv(&srv, SRV_ECHO, ipc_info(IPC_MSG_BYTES, 0)) < 0)
        return;
    long mod = kc_module_find("bench.client");
    static const int counts[] = {1, 8, 64};
    static struct helper clients[64];
    static uint64_t badges[64];
    /* A client is one small thread: 64 of them fit in our budget. */
    const struct kc_budget small = {48, 1, 1};
    for (int c = 0; c < 3 && mod >= 0; c++) {
        int n = counts[c], started = 0;
        for (int i = 0; i < n; i++) {
            clients[i].handle = kc_spawn_budget((uint32_t)mod, 0, PRIO, 0, 0, 0, "bench.client",
                                                &small, &clients[i].pid);
            if (clients[i].handle < 0)
                break;
            kc_cap_delete((uint64_t)clients[i].handle);
            started++;
        }
        if (started < n) {
            printf("bench: could only start %d of %d clients\n", started, n);
            n = started;
        }
        uint64_t rounds = 6400 / (uint64_t)n;
        int nb = batches / 10 + 1;
        for (int b = -2; b < nb; b++) {
            /* Collect everyone's request for orders, then let them go at once. */
            for (int i = 0; i < n; i++) {
                struct ipc_msg m;
                recv_msg(&m);
                badges[i] = m.badge;
            }
            uint64_t t0 = measure_rdtsc();
            for (int i = 0; i < n; i++) {
                struct ipc_msg m = ipc_msg_make(CLIENT_GO, 2);
                m.w[1] = rounds;
                if (b == -2) { /* the first time, with the server's handle */
                    m.info |= IPC_INFO_CAP;
                    m.cap = (uint64_t)srv.handle;
                }
                ipc_reply(badges[i], &m);
            }
            for (int i = 0; i < n; i++) {
                struct ipc_msg m;
                recv_msg(&m);
                badges[i] = m.badge;
            }
            uint64_t t = (measure_rdtsc() - t0) / (rounds * (uint64_t)n);
            if (b >= 0)
                samples[b] = (uint32_t)t;
            for (int i = 0; i < n; i++) { /* hold them at the next order */
                struct ipc_msg m = ipc_msg_make(CLIENT_GO, 2);
                m.w[1] = b == nb - 1 ? 0 : 1;
                ipc_reply(badges[i], &m);
            }
        }
        measure_sort(samples, nb);
        char name[48];
        snprintf(name, sizeof(name), "ipc.cross_as_rt_64B_%d_clients", counts[c]);
        report(name, "rt", samples[nb / 2], samples[0], nb, rounds * (uint64_t)n, "");
        kc_sleep(5); /* let the clients exit */
        reap();
    }
    stop(&srv);
}

static void notifications(void)
{
    struct helper h;
    if (start_srv(&h, SRV_NOTIFY, 0) < 0)
        return;
    kc_sleep(1);
    uint64_t handle = (uint64_t)h.handle;
    measure("notify.rt", "rt", run_notify, &handle, 64, batches);
    stop(&h);
}

/* ---- the disk driver alone (docs/storage.md) ------------------------- */

#define DISK_REGION_SECTORS ((16u << 20) / 512) /* the first 16 MiB, as Linux's run */

struct disk_ctx {
    uint64_t handle;
    int64_t grant;
    uint64_t seed;
    long errors;
};

static void run_disk_read(void *ctx, uint64_t per)
{
    struct disk_ctx *d = ctx;
    for (uint64_t i = 0; i < per; i++) {
        d->seed ^= d->seed << 13, d->seed ^= d->seed >> 7, d->seed ^= d->seed << 17;
        struct ipc_msg m = ipc_msg_make(BLK_READ, 5);
        m.w[1] = d->seed % (DISK_REGION_SECTORS / 8) * 8; /* 4 KiB-aligned */
        m.w[2] = 8;
        m.w[3] = (uint64_t)d->grant;
        m.w[4] = 0;
        d->errors += ipc_call_status(d->handle, &m) < 0;
    }
}

/* 4 KiB reads at random 4 KiB-aligned offsets of the first 16 MiB, one at
 * a time, through the block protocol: driver, device and grant copy. */
static void disk(void)
{
    long h = name_lookup_wait("disk", 300);
    if (h < 0) {
        printf("bench: no disk driver (%s): no disk figures\n", ipc_strerror(h));
        return;
    }
    struct disk_ctx d = {(uint64_t)h, 0, 0x6772616e697465ull, 0};
    d.grant = grant_create((uint32_t)ipc_handle_pid((uint64_t)h), buf, 4096, GRANT_F_WRITE);
    if (d.grant < 0)
        return;
    measure_extra("disk.raw_read_4KiB_iops", "iops", run_disk_read, &d, 16, batches / 3,
                  " bytes=4096");
    if (d.errors)
        printf("bench: %ld disk reads failed\n", d.errors);
    grant_revoke((uint64_t)d.grant);
}

/* ---- the shell's summary ------------------------------------------------ */

/* The rows of the table: a figure, in words, and optionally the figure it
 * is compared with. Every row is also compared with the bare system call. */
static const struct row {
    const char *name, *what, *kind, *vs, *vs_what;
} rows[] = {
    {"syscall.enosys_rt", "system call, unknown number (slow path)", "rt", 0, 0},
    {"syscall.null_rt", "system call, empty (benchmark kernel)", "rt", 0, 0},
    {"ipc.same_as_rt_64B_fast", "IPC call+reply 64 B, same address space", "rt", 0, 0},
    {"ipc.cross_as_rt_64B_fast", "IPC call+reply 64 B, cross address space", "rt",
     "ipc.same_as_rt_64B_fast", "same AS"},
    {"ipc.cross_as_rt_64B_slow", "IPC call+reply 64 B, cross AS, slow path", "rt",
     "ipc.cross_as_rt_64B_fast", "fast path"},
    {"ipc.cross_as_rt_64B_64_clients", "IPC call+reply 64 B, 64 clients, per call", "rt",
     "ipc.cross_as_rt_64B_1_clients", "1 client"},
    {"notify.rt", "notification there and back", "rt", 0, 0},
    {"grant.copy_4KiB", "grant copy 4 KiB", "copy", 0, 0},
    {"grant.map_4KiB", "grant map 4 KiB, read, unmap", "xfer", "grant.copy_4KiB", "copy"},
    {"grant.copy_1MiB", "grant copy 1 MiB", "copy", 0, 0},
    {"grant.map_1MiB", "grant map 1 MiB, read, unmap", "xfer", "grant.copy_1MiB", "copy"},
    {"ipc.large_send_64KiB", "IPC call with 64 KiB of data, replied", "rt", 0, 0},
};

static uint32_t figure(const char *name)
{
    for (int i = 0; i < nfigures; i++)
        if (strcmp(figures[i].name, name) == 0)
            return figures[i].median;
    return 0;
}

/* a / b with one decimal, two below 1. */
static const char *ratio(char *out, size_t size, uint32_t a, uint32_t b)
{
    uint64_t hundredths = ((uint64_t)a * 100 + b / 2) / b;
    if (hundredths < 100)
        snprintf(out, size, "0.%02lux", hundredths);
    else
        snprintf(out, size, "%lu.%lux", hundredths / 100, hundredths % 100 / 10);
    return out;
}

static void summary(void)
{
    uint32_t base = figure("syscall.enosys_rt");
    printf("bench: summary: medians of %d batches, TSC %lu kHz; \"round trip\" is there and "
           "back, \"one-way\" a transfer in one direction\n",
           batches, tsc_khz);
    printf("  %-42s %-10s %10s %9s  %s\n", "figure", "kind", "us", "x syscall", "compared");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        uint32_t c = figure(r->name), vs = r->vs ? figure(r->vs) : 0;
        if (!c)
            continue; /* not measured here (e.g. the empty call outside the bench kernel) */
        char us[24], x[24] = "", cmp[48] = "";
        if (base)
            ratio(x, sizeof(x), c, base);
        if (vs) {
            char v[24];
            snprintf(cmp, sizeof(cmp), "%s %s", ratio(v, sizeof(v), c, vs), r->vs_what);
        }
        printf("  %-42s %-10s %10s %9s%s%s\n", r->what, kind_words(r->kind, ""),
               micros(us, sizeof(us), c), x, *cmp ? "  " : "", cmp);
    }
}

int main(void)
{
    static char args[KC_ARGS_MAX]; /* the whole line: only= may be long */
    kc_args(args, sizeof(args));
    if (strstr(args, "quick")) {
        batches = 21;
        warmup = 4;
    }
    table = strstr(args, "table") != 0;
    const char *o = strstr(args, "only=");
    if (o) {
        o += 5;
        size_t n = 0;
        while (o[n] && o[n] != ' ' && n + 1 < sizeof(only))
            n++;
        memcpy(only, o, n);
    }
    const char *w = strstr(args, "warmup=");
    if (w)
        for (warmup = 0, w += 7; *w >= '0' && *w <= '9' && warmup < 10000000; w++)
            warmup = warmup * 10 + (*w - '0');
    kc_time(0, 0, &tsc_khz, 0, 0);
    kc_self(0, &my_tid, 0, 0);
    if (!table)
        printf("BENCH-INFO tsc_khz=%lu\n", tsc_khz);
    printf("bench: measuring (%d batches per figure)\n", batches);
    section("system-call entry and exit");
    entries();
    floors();
    section("IPC round trips: same and cross address space, fast and slow path");
    ipc_round_trips();
    section("grants: copies and mappings, one-way; large messages");
    grant_copies();
    section("notifications");
    notifications();
    section("1, 8 and 64 client processes calling one server");
    scaling();
    if (!strstr(args, "quick") && wanted("disk.raw_read_4KiB_iops")) {
        section("the disk driver");
        disk();
    }
    if (table)
        summary();
    else
        printf("BENCH-DONE\n");
    return 0;
}
