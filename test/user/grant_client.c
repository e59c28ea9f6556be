/*
 * grant.copies: the granter side of the grant test. Copies of 1 B to 1 MiB
 * both ways with the data checked, then every misuse the kernel must refuse,
 * each with its documented error, and a final copy showing nothing broke.
 * Exit status = number of failed checks.
 */
#include <abi/layout.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "grant_proto.h"

static uint8_t buf[GT_BUF];
static long server;
static uint32_t server_pid, my_pid;
static int failures;

static void check(const char *what, long got, long want)
{
    if (got != want) {
        failures++;
        printf("grant.copies: FAIL %s: got %ld (%s), want %ld (%s)\n", what, got, ipc_strerror(got),
               want, ipc_strerror(want));
    } else {
        printf("grant.copies: ok   %s\n", what);
    }
}

/* Ask the server to do something; returns its status, *sum its checksum. */
static long ask(uint32_t op, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4, uint64_t w5,
                uint64_t *sum)
{
    struct ipc_msg m = ipc_msg_make(op, 6);
    m.w[1] = w1;
    m.w[2] = w2;
    m.w[3] = w3;
    m.w[4] = w4;
    m.w[5] = w5;
    long rc = ipc_call((uint64_t)server, &m);
    if (rc < 0)
        return rc;
    if (sum)
        *sum = m.w[1];
    return (long)m.w[0];
}

static void sizes(void)
{
    static const uint64_t lens[] = {1, 64, 65, 4096, 65536, 1u << 20};
    char what[80];
    for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint64_t n = lens[k], sum = 0;
        /* Server reads from us. Start at an odd offset to cross pages unaligned. */
        uint64_t off = n < GT_BUF ? 3 : 0;
        for (uint64_t i = 0; i < GT_BUF; i++)
            buf[i] = gt_pattern(k + 1, i);
        int64_t id = grant_create(server_pid, buf + off, n, GRANT_F_READ);
        snprintf(what, sizeof(what), "server copies %lu bytes from us", n);
        check(what, ask(GT_COPY_FROM, (uint64_t)id, 0, n, 0, 0, &sum), (long)n);
        check("  ... and the bytes match", sum == test_checksum(buf + off, n), 1);
        check("  ... and none past them", ask(GT_GUARDS, 0, 0, n, 0, 0, 0), 0);
        grant_revoke((uint64_t)id);
        /* Server writes to us. Guard bytes that are not zero around the
         * grant: a copy one byte too long would show. */
        for (uint64_t i = 0; i < GT_BUF; i++)
            buf[i] = GT_GUARD;
        id = grant_create(server_pid, buf + off, n, GRANT_F_WRITE);
        snprintf(what, sizeof(what), "server copies %lu bytes to us", n);
        check(what, ask(GT_COPY_TO, (uint64_t)id, 0, n, k + 7, 0, 0), (long)n);
        uint64_t bad = 0;
        for (uint64_t i = 0; i < GT_BUF; i++)
            bad +=
                i >= off && i - off < n ? buf[i] != gt_pattern(k + 7, i - off) : buf[i] != GT_GUARD;
        check("  ... and exactly those bytes changed", (long)bad, 0);
        grant_revoke((uint64_t)id);
    }
}

/* Two pages adjacent in our address space whose frames are not adjacent
 * (the second page's frame comes first): copies must find each page's own
 * frame, not run on in physical memory. We map them ourselves (PRIV_MAP;
 * this image has no memory server) from the end of the user pool. */
static void scattered(void)
{
    uint64_t base, end, state;
    uint8_t *two = (uint8_t *)0x3000000000ull;
    long rc = kc_meminfo(&base, &end, &state);
    if (rc == 0)
        rc = kc_map(my_pid, (uint64_t)two, end - 4096, 1, KC_MAP_WRITE | KC_MAP_ZERO);
    if (rc == 0)
        rc = kc_map(my_pid, (uint64_t)two + 4096, end - 8192, 1, KC_MAP_WRITE | KC_MAP_ZERO);
    check("map two pages with their frames swapped", rc, 0);
    if (rc < 0)
        return;
    /* The server copies from its buffer at offset 0, 0 and 2: the last
     * makes its side's page end one byte after ours. */
    for (int k = 0; k < 3; k++) {
        uint64_t off = k ? 3 : 100, n = 8192 - off - 50, sum = 0, bad = 0, from = k == 2 ? 2 : 0;
        for (uint64_t i = 0; i < 8192; i++)
            two[i] = GT_GUARD;
        int64_t id = grant_create(server_pid, two + off, n, GRANT_F_WRITE);
        check("server writes across our swapped frames",
              ask(GT_COPY_TO, (uint64_t)id, 0, n, 11 + k, from, 0), (long)n);
        for (uint64_t i = 0; i < 8192; i++)
            bad += i >= off && i - off < n ? two[i] != gt_pattern(11 + k, i - off)
                                           : two[i] != GT_GUARD;
        check("  ... and exactly those bytes changed", (long)bad, 0);
        grant_revoke((uint64_t)id);
        for (uint64_t i = 0; i < 8192; i++)
            two[i] = gt_pattern(21 + k, i);
        id = grant_create(server_pid, two + off, n, GRANT_F_READ);
        check("server reads across our swapped frames",
              ask(GT_COPY_FROM, (uint64_t)id, 0, n, 0, 0, &sum), (long)n);
        check("  ... the right bytes", sum == test_checksum(two + off, n), 1);
        grant_revoke((uint64_t)id);
    }
    kc_unmap(my_pid, (uint64_t)two, 2);
}

/* KC_MAP's checks (docs/abi.md 6.4), and who pays for the page tables a
 * mapping needs: the process mapped into, every kernel frame of them. */
static void map_checks(void)
{
    uint64_t base, end, state, k0[7], k1[7], va = 0x5000000000ull, pa;
    struct kc_proc_info before, after;
    kc_meminfo(&base, &end, &state);
    pa = end - 4 * 4096;
    check("map into no process", kc_map(0, va, pa, 1, 0), -E_NOENT);
    check("map outside the heap window", kc_map(my_pid, 0x400000, pa, 1, 0), -E_RANGE);
    check("map a frame outside the pool", kc_map(my_pid, va, base - 4096, 1, 0), -E_RANGE);
    check("map with an unknown flag", kc_map(my_pid, va, pa, 1, 16), -E_INVAL);
    check("map DMA memory into a process without PRIV_DMA",
          kc_map(my_pid, va, pa, 1, KC_MAP_WRITE | KC_MAP_DMA), -E_PERM);
    check("map writable and executable", kc_map(my_pid, va, pa, 1, KC_MAP_WRITE | KC_MAP_EXEC),
          -E_INVAL);
    kc_proc_info(my_pid & ID_SLOT_MASK, &before);
    kc_stats(k0);
    check("map executable", kc_map(my_pid, va, pa, 1, KC_MAP_EXEC), 0);
    kc_stats(k1);
    kc_proc_info(my_pid & ID_SLOT_MASK, &after);
    check("  ... its new page tables are charged to us",
          (long)(after.kernel_pages - before.kernel_pages), (long)(k0[4] - k1[4]));
    check("  ... and tables were needed", k0[4] > k1[4], 1);
    check("  ... and the page is counted as mapped",
          (long)(after.mapped_pages - before.mapped_pages), 1);
    check("map over a mapped page", kc_map(my_pid, va, pa + 4096, 1, 0), -E_EXIST);
    check("unmap it", kc_unmap(my_pid, va, 1), 1);
    check("unmap it again", kc_unmap(my_pid, va, 1), 0);
}

static void misuse(void)
{
    uint64_t sum;
    /* Wrong grantee: a grant for the boot server is not the test server's. */
    long boot_pid = ipc_handle_pid(HANDLE_PARENT);
    int64_t id = grant_create((uint32_t)boot_pid, buf, 100, GRANT_F_READ);
    check("wrong grantee", ask(GT_COPY_FROM, (uint64_t)id, 0, 10, 0, 0, 0), -E_GRANT_GRANTEE);
    grant_revoke((uint64_t)id);

    /* Revoked: the slot is empty. Reused: the old id carries an old generation. */
    id = grant_create(server_pid, buf, 100, GRANT_F_READ);
    grant_revoke((uint64_t)id);
    check("revoked grant", ask(GT_COPY_FROM, (uint64_t)id, 0, 10, 0, 0, 0), -E_GRANT_INVALID);
    int64_t id2 = grant_create(server_pid, buf, 100, GRANT_F_READ);
    check("  (the slot is reused)", grant_id_index((uint64_t)id2) == grant_id_index((uint64_t)id),
          1);
    check("stale generation after reuse", ask(GT_COPY_FROM, (uint64_t)id, 0, 10, 0, 0, 0),
          -E_GRANT_STALE);
    check("  ... while the new id works", ask(GT_COPY_FROM, (uint64_t)id2, 0, 10, 0, 0, &sum), 10);
    grant_revoke((uint64_t)id2);

    check("index past the table", ask(GT_COPY_FROM, grant_id(100000, 1), 0, 1, 0, 0, 0),
          -E_GRANT_INDEX);

    /* Access rights. */
    id = grant_create(server_pid, buf, 100, GRANT_F_WRITE);
    check("read on a write-only grant", ask(GT_COPY_FROM, (uint64_t)id, 0, 10, 0, 0, 0),
          -E_GRANT_ACCESS);
    grant_revoke((uint64_t)id);
    id = grant_create(server_pid, buf, 100, GRANT_F_READ);
    check("write on a read-only grant", ask(GT_COPY_TO, (uint64_t)id, 0, 10, 1, 0, 0),
          -E_GRANT_ACCESS);

    /* Ranges. */
    check("range past the end", ask(GT_COPY_FROM, (uint64_t)id, 95, 6, 0, 0, 0), -E_GRANT_RANGE);
    check("offset past the end", ask(GT_COPY_FROM, (uint64_t)id, 101, 0, 0, 0, 0), -E_GRANT_RANGE);
    check("offset + length overflowing", ask(GT_COPY_FROM, (uint64_t)id, 8, ~0ull - 4, 0, 0, 0),
          -E_GRANT_RANGE);
    check("exactly the whole range", ask(GT_COPY_FROM, (uint64_t)id, 0, 100, 0, 0, 0), 100);
    check("  ... and none past it", ask(GT_GUARDS, 0, 0, 100, 0, 0, 0), 0);
    check("up to the end from an offset", ask(GT_COPY_FROM, (uint64_t)id, 37, 63, 0, 0, &sum), 63);
    check("  ... the right bytes", sum == test_checksum(buf + 37, 63), 1);
    check("  ... and none past them", ask(GT_GUARDS, 0, 0, 63, 0, 0, 0), 0);
    grant_revoke((uint64_t)id);
    for (uint64_t i = 0; i < 300; i++)
        buf[i] = GT_GUARD;
    id = grant_create(server_pid, buf + 100, 100, GRANT_F_WRITE);
    check("write up to the end from an offset", ask(GT_COPY_TO, (uint64_t)id, 40, 60, 5, 0, 0), 60);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < 300; i++)
        bad += i >= 140 && i < 200 ? buf[i] != gt_pattern(5, i - 140) : buf[i] != GT_GUARD;
    check("  ... and exactly those bytes changed", (long)bad, 0);
    check("write one byte past the end", ask(GT_COPY_TO, (uint64_t)id, 40, 61, 5, 0, 0),
          -E_GRANT_RANGE);
    check("write at the end, nothing", ask(GT_COPY_TO, (uint64_t)id, 100, 0, 5, 0, 0), 0);
    check("write at the end, one byte", ask(GT_COPY_TO, (uint64_t)id, 100, 1, 5, 0, 0),
          -E_GRANT_RANGE);
    bad = 0;
    for (uint64_t i = 0; i < 300; i++)
        bad += i >= 140 && i < 200 ? 0 : buf[i] != GT_GUARD;
    check("  ... refused copies changed nothing", (long)bad, 0);
    grant_revoke((uint64_t)id);

    /* Unmapped pages: ours (the granter's) and the server's. */
    id = grant_create(server_pid, (void *)0x2000000000ull, 4096, GRANT_F_READ);
    check("unmapped page on the granter's side", ask(GT_COPY_FROM, (uint64_t)id, 0, 4096, 0, 0, 0),
          -E_FAULT);
    grant_revoke((uint64_t)id);
    id = grant_create(server_pid, buf, 4096, GRANT_F_READ);
    check("unmapped page on the grantee's side",
          ask(GT_FROM_UNMAPPED, (uint64_t)id, 0, 4096, 0, 0, 0), -E_FAULT);
    grant_revoke((uint64_t)id);
    id = grant_create(server_pid, (void *)0xffff800000001000ull, 4096, GRANT_F_READ);
    check("grant over kernel memory", ask(GT_COPY_FROM, (uint64_t)id, 0, 4096, 0, 0, 0), -E_FAULT);
    grant_revoke((uint64_t)id);
    /* Straddling the end of the user half: the first pages are fine, the end is not. */
    id = grant_create(server_pid, (void *)(USER_TOP - 4096), 8192, GRANT_F_READ);
    check("grant running off the user half", ask(GT_COPY_FROM, (uint64_t)id, 0, 8192, 0, 0, 0),
          -E_FAULT);
    grant_revoke((uint64_t)id);

    /* Indirect: we pass on a grant the server gave us, narrower: fine. */
    int64_t s = ask(GT_MAKE_DIRECT, 0, 0, 4096, 0, GRANT_F_READ, 0);
    id = grant_create_indirect(server_pid, server_pid, (uint64_t)s, 100, 200, GRANT_F_READ);
    check("indirect grant, narrower range", ask(GT_COPY_FROM, (uint64_t)id, 0, 200, 0, 0, &sum),
          200);
    grant_revoke((uint64_t)id);
    id = grant_create_indirect(server_pid, server_pid, (uint64_t)s, 4000, 200, GRANT_F_READ);
    check("indirect grant widening the range", ask(GT_COPY_FROM, (uint64_t)id, 0, 200, 0, 0, 0),
          -E_GRANT_RANGE);
    grant_revoke((uint64_t)id);
    id = grant_create_indirect(server_pid, server_pid, (uint64_t)s, 0, 100, GRANT_F_WRITE);
    check("indirect grant widening rights", ask(GT_COPY_TO, (uint64_t)id, 0, 10, 1, 0, 0),
          -E_GRANT_ACCESS);
    grant_revoke((uint64_t)id);
    ask(GT_REVOKE, (uint64_t)s, 0, 0, 0, 0, 0);

    /* A loop: our C -> server's S -> our C. */
    id = grant_create(server_pid, buf, 1, GRANT_F_READ); /* placeholder to learn C's id */
    grant_revoke((uint64_t)id);
    int64_t c_next =
        (int64_t)grant_id(grant_id_index((uint64_t)id), grant_id_gen((uint64_t)id) + 1);
    s = ask(GT_MAKE_INDIRECT, my_pid, (uint64_t)c_next, 0, 10, GRANT_F_READ, 0);
    id = grant_create_indirect(server_pid, server_pid, (uint64_t)s, 0, 10, GRANT_F_READ);
    check("  (the loop closes on the predicted id)", id == c_next, 1);
    check("indirect loop", ask(GT_COPY_FROM, (uint64_t)id, 0, 10, 0, 0, 0), -E_GRANT_DEPTH);
    grant_revoke((uint64_t)id);
    ask(GT_REVOKE, (uint64_t)s, 0, 0, 0, 0, 0);

    /* Chains alternating between the server and us, `links` indirect
     * entries ending in one of ours, which the server uses. The chain starts
     * with a direct grant: ours when links is even, the server's when odd. */
    for (int links = GRANT_MAX_DEPTH; links <= GRANT_MAX_DEPTH + 1; links++) {
        int ours = links % 2 == 0; /* who made the grant at the chain's end so far */
        int64_t prev = ours ? grant_create(server_pid, buf, 64, GRANT_F_READ)
                            : ask(GT_MAKE_DIRECT, 0, 0, 64, 0, GRANT_F_READ, 0);
        for (int l = 0; l < links; l++) {
            if (ours) /* the server passes our grant back to us */
                prev = ask(GT_MAKE_INDIRECT, my_pid, (uint64_t)prev, 0, 64, GRANT_F_READ, 0);
            else
                prev = grant_create_indirect(server_pid, server_pid, (uint64_t)prev, 0, 64,
                                             GRANT_F_READ);
            ours = !ours;
        }
        char what[64];
        snprintf(what, sizeof(what), "chain of %d indirect links", links);
        check(what, ask(GT_COPY_FROM, (uint64_t)prev, 0, 64, 0, 0, 0),
              links <= GRANT_MAX_DEPTH ? 64 : -E_GRANT_DEPTH);
    }

    /* Tables the kernel must refuse. */
    check("grant table in kernel memory", kc_grant_table((void *)0xffff800000000000ull, 16),
          -E_RANGE);
    check("grant table at an unmapped address", kc_grant_table((void *)0x2000000000ull, 16),
          -E_FAULT);
    check("grant table running past the user half", kc_grant_table((void *)(USER_TOP - 48), 2),
          -E_RANGE);
}

/* An echo thread answering with reply_recv, and a thread that only yields:
 * a peer of the same priority that is ready nearly all the time. */
static void echo_rr(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    long rc = ipc_recv(IPC_ANY, &m);
    while (rc == 0) {
        m.info = ipc_info(8, 1);
        rc = ipc_reply_recv(m.badge, &m);
    }
}

static volatile int spin_stop;

static void yielder(void *arg)
{
    (void)arg;
    while (!spin_stop)
        kc_yield();
}

/* The fast path's priority checks are >=: a ready thread of the same
 * priority does not send a call or its reply to the slow path (docs/abi.md
 * 3.1 and 3.2, check 10). Nothing else here uses the fast path meanwhile. */
static void fast_path_with_a_peer_ready(void)
{
    long e = thread_create(echo_rr, 0, 0);
    thread_create(yielder, 0, 0);
    kc_yield();
    uint64_t before[7], after[7];
    kc_stats(before);
    for (int i = 0; i < 200; i++) {
        struct ipc_msg m = ipc_msg_make(5, 1);
        ipc_call((uint64_t)e, &m);
    }
    kc_stats(after);
    spin_stop = 1;
    char what[96];
    snprintf(what, sizeof(what), "fast path with a peer ready: %lu calls, %lu replies of 200 fast",
             after[0] - before[0], after[1] - before[1]);
    check(what, after[0] - before[0] >= 150 && after[1] - before[1] >= 150, 1);
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + i / 251);
}

/* Whether buf[at, at + n) holds pattern(from + i) and every other byte of
 * buf[0, total) holds pattern(i): the result of memmove. */
static int moved(size_t total, size_t at, size_t from, size_t n)
{
    for (size_t i = 0; i < total; i++)
        if (buf[i] != (i >= at && i < at + n ? pattern(from + i - at) : pattern(i)))
            return 0;
    return 1;
}

/* A copy through a grant onto an overlapping range (a grant to ourselves)
 * has memmove's result, whichever side is higher, across pages. */
static void overlapping(void)
{
    enum { TOTAL = 3 * 4096 + 300 };
    int64_t id = grant_create(my_pid, buf, TOTAL, GRANT_F_READ | GRANT_F_WRITE);
    static const struct {
        const char *what;
        int to;           /* copy-to (else copy-from) */
        size_t off, here; /* the grant's offset, our address's offset */
        size_t n;
    } cases[] = {
        {"overlapping copy-from, destination above", 0, 0, 100, 9000},
        {"overlapping copy-from, destination below", 0, 4000, 3, 8000},
        {"overlapping copy-to, destination above", 1, 5, 0, 12000},
        {"overlapping copy-to, destination below", 1, 0, 4097, 8000},
        {"copy onto itself", 0, 77, 77, 10000},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (size_t i = 0; i < TOTAL; i++)
            buf[i] = pattern(i);
        size_t off = cases[c].off, here = cases[c].here, n = cases[c].n;
        long rc = cases[c].to ? grant_copy_to(my_pid, (uint64_t)id, off, buf + here, n)
                              : grant_copy_from(my_pid, (uint64_t)id, off, buf + here, n);
        check(cases[c].what, rc, (long)n);
        int ok = cases[c].to ? moved(TOTAL, off, here, n) : moved(TOTAL, here, off, n);
        check("  ... with memmove's result", ok, 1);
    }
    grant_revoke((uint64_t)id);
}

/* grant_table_init after grants were made in the built-in table (printf
 * makes one for a long line): they move to the new table and keep working;
 * revoked ones stay dead. */
static void table_switch(void)
{
    static struct grant_entry bigger[GRANT_DEFAULT_SLOTS * 2], tiny[1];
    printf("grant.copies: a line of more than 48 bytes goes to the console through a grant\n");
    int64_t live = grant_create(my_pid, buf, 64, GRANT_F_READ);
    int64_t dead = grant_create(my_pid, buf, 64, GRANT_F_READ);
    grant_revoke((uint64_t)dead);
    check("switch to a table too small for a live grant", grant_table_init(tiny, 1), -E_BUSY);
    check("switch to a bigger table after grants were made",
          grant_table_init(bigger, GRANT_DEFAULT_SLOTS * 2), 0);
    check("  ... a grant made before works",
          grant_copy_from(my_pid, (uint64_t)live, 0, buf + 64, 64), 64);
    check("  ... one revoked before stays dead",
          grant_copy_from(my_pid, (uint64_t)dead, 0, buf + 64, 64), -E_GRANT_INVALID);
    grant_revoke((uint64_t)live);
    printf("grant.copies: and a long line after the switch goes through the new table\n");
}

int main(void)
{
    server = name_lookup_wait("grant.server", 500);
    if (server < 0) {
        printf("grant.copies: no server: %s\n", ipc_strerror(server));
        return 1;
    }
    server_pid = (uint32_t)ipc_handle_pid((uint64_t)server);
    kc_self(&my_pid, 0, 0, 0);
    fast_path_with_a_peer_ready();
    sizes();
    scattered();
    map_checks();
    misuse();
    overlapping();
    table_switch();
    /* The refused calls broke nothing: a plain copy still works. */
    int64_t id = grant_create(server_pid, buf, 4096, GRANT_F_READ);
    check("a normal copy afterwards", ask(GT_COPY_FROM, (uint64_t)id, 0, 4096, 0, 0, 0), 4096);
    printf("grant.copies: %d checks failed\n", failures);
    return failures;
}
