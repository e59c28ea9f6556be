/*
 * Map grants (docs/grants.md, "Map grants"): one program in six roles.
 * role=server (gmap.server) grants its page-aligned buffer and answers;
 * role=client (grant.maps, the test) maps what the server grants and tries
 * every misuse, each with its documented error; role=ro_write,
 * role=after_revoke and role=after_unmap must be killed by a page fault (a
 * write through a read-only mapping, a read after the server revoked, a
 * read after our own unmap, with the entries in our TLB); role=dying has the
 * server map its pages, then dies: the server's mapping must be gone.
 */
#include <abi/layout.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#include "testlib.h"

#define BUF_PAGES  64 /* the client's part of the server's buffer */
#define SIDE_PAGES 16 /* the killed roles' part: they run beside the client */
#define PAGE       4096ull
/* The roles that run beside the client use pages the client never fills
 * nor checks (one of them writes through its mapping): the client's
 * checksums hold whatever order the boot server's scheduling gives. */
#define SIDE(k)    ((uint64_t)(BUF_PAGES + (k)) * PAGE)

/* clang-format off */
#define OP_GRANT       1 /* w1 offset, w2 len, w3 access -> w0 id over buf + offset, for the caller */
#define OP_REVOKE      2 /* w1 id -> w0 rc */
#define OP_FILL        3 /* w1 seed: fill buf -> w0 0 */
#define OP_SUM         4 /* w1 offset, w2 len -> w0 0, w1 checksum of buf's bytes */
#define OP_INDIRECT    5 /* w1 src id (the caller's), w2 offset, w3 len, w4 access -> w0 id */
#define OP_MAP_FROM    6 /* w1 id (the caller's grant, 1 page, write): map it -> w0 rc, w1 sum */
#define OP_DYING_CHECK 7 /* -> w0 -E_AGAIN while the granter of OP_MAP_FROM lives, else
                            the number of checks that failed */
#define OP_POOL_GRANT  8 /* map a pool page of ours, grant it to the caller -> w0 id */
#define OP_POOL_UNMAP  9 /* unmap that pool page (as the memory server would) -> w0 rc */
/* clang-format on */

#define DYING_VA (USER_MAP_MIN + 0x40000000ull) /* where the server maps the dying granter */
#define POOL_VA  0x3000000000ull                /* the server's own pool page */
#define WIN(k)   ((uint8_t *)(USER_MAP_MIN + (uint64_t)(k)*0x100000))

static uint8_t buf[(BUF_PAGES + SIDE_PAGES) * PAGE] __attribute__((aligned(4096)));
static uint32_t my_pid;
static int failures;

static uint8_t pattern(uint64_t seed, uint64_t i)
{
    return (uint8_t)(seed * 37 + i * 11 + (i >> 12));
}

static void fill(uint8_t *p, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        p[i] = pattern(seed, i);
}

/* The checksum of bytes [off, off + len) of a buffer filled with seed. */
static uint64_t expected(uint64_t seed, uint64_t off, uint64_t len)
{
    uint64_t h = 1469598103934665603ull; /* test_checksum's FNV-1a */
    for (uint64_t i = 0; i < len; i++)
        h = (h ^ pattern(seed, off + i)) * 1099511628211ull;
    return h;
}

static void check(const char *who, const char *what, long got, long want)
{
    if (got != want) {
        failures++;
        printf("%s: FAIL %s: got %ld (%s), want %ld (%s)\n", who, what, got, ipc_strerror(got),
               want, ipc_strerror(want));
    } else {
        printf("%s: ok   %s\n", who, what);
    }
}

/* Is our page at va there to read? A copy from it through a grant to
 * ourselves walks it without touching it: -E_FAULT when nothing is mapped. */
static long probe(const void *va)
{
    static uint8_t tmp[64];
    int64_t id = grant_create(my_pid, va, sizeof(tmp), GRANT_F_READ);
    if (id < 0)
        return id;
    long rc = grant_copy_from(my_pid, (uint64_t)id, 0, tmp, sizeof(tmp));
    grant_revoke((uint64_t)id);
    return rc;
}

/* ---- server --------------------------------------------------------------- */

static uint32_t dying_pid;
static long dying_map_rc = 1;

static long dying_check(void)
{
    struct kc_proc_info info;
    if (kc_proc_info(dying_pid & ID_SLOT_MASK, &info) == 0 && info.pid == dying_pid)
        return -E_AGAIN;
    int before = failures;
    const char *me = "gmap.server";
    check(me, "the dying granter's pages were mapped here", dying_map_rc, 0);
    check(me, "  ... and are gone with it", probe((void *)DYING_VA), -E_FAULT);
    check(me, "  ... so is the mapping's record", grant_unmap((void *)DYING_VA), -E_NOENT);
    return failures - before;
}

static long op(struct ipc_msg *m)
{
    uint32_t caller = badge_pid(m->badge);
    uint64_t w1 = m->w[1], w2 = m->w[2], w3 = m->w[3], w4 = m->w[4], sum = 0;
    long rc = -E_NOSYS;
    switch (ipc_info_label(m->info)) {
    case OP_GRANT:
        rc = w1 <= sizeof(buf) ? grant_create(caller, buf + w1, w2, (uint32_t)w3) : -E_RANGE;
        break;
    case OP_REVOKE:
        rc = grant_revoke(w1);
        break;
    case OP_FILL:
        fill(buf, BUF_PAGES * PAGE, w1);
        rc = 0;
        break;
    case OP_SUM:
        rc = w1 <= sizeof(buf) && w2 <= sizeof(buf) - w1 ? 0 : -E_RANGE;
        if (rc == 0)
            sum = test_checksum(buf + w1, w2);
        break;
    case OP_INDIRECT:
        rc = grant_create_indirect(caller, caller, w1, w2, w3, (uint32_t)w4);
        break;
    case OP_MAP_FROM:
        dying_pid = caller;
        rc = dying_map_rc = grant_map(caller, w1, 0, (void *)DYING_VA, PAGE, GRANT_F_WRITE);
        if (rc == 0)
            sum = test_checksum((const uint8_t *)DYING_VA, PAGE);
        break;
    case OP_DYING_CHECK:
        rc = dying_pid ? dying_check() : -E_AGAIN;
        break;
    case OP_POOL_GRANT: {
        uint64_t base, end, state;
        rc = kc_meminfo(&base, &end, &state);
        if (rc == 0)
            rc = kc_map(my_pid, POOL_VA, end - PAGE, 1, KC_MAP_WRITE | KC_MAP_ZERO);
        if (rc == 0) {
            fill((uint8_t *)POOL_VA, PAGE, 77);
            rc = grant_create(caller, (void *)POOL_VA, PAGE, GRANT_F_READ | GRANT_F_MAP);
        }
        break;
    }
    case OP_POOL_UNMAP:
        rc = kc_unmap(my_pid, POOL_VA, 1);
        break;
    }
    m->info = ipc_info(16, 0);
    m->w[1] = sum;
    return rc;
}

static int server(void)
{
    static const struct server_op ops[] = {
        {OP_GRANT, op},       {OP_REVOKE, op},     {OP_FILL, op},
        {OP_SUM, op},         {OP_INDIRECT, op},   {OP_MAP_FROM, op},
        {OP_DYING_CHECK, op}, {OP_POOL_GRANT, op}, {OP_POOL_UNMAP, op},
    };
    fill(buf + SIDE(0), SIDE_PAGES * PAGE, 1);
    struct server s = {.name = "gmap.server", .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}

/* ---- the roles that call the server --------------------------------------- */

static long srv;
static uint32_t srv_pid;

static long ask(uint32_t label, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4, uint64_t *sum)
{
    struct ipc_msg m = ipc_msg_make(label, 5);
    m.w[1] = w1;
    m.w[2] = w2;
    m.w[3] = w3;
    m.w[4] = w4;
    long rc = ipc_call((uint64_t)srv, &m);
    if (rc < 0)
        return rc;
    if (sum)
        *sum = m.w[1];
    return (long)m.w[0];
}

static int connect(const char *who)
{
    kc_self(&my_pid, 0, 0, 0);
    srv = name_lookup_wait("gmap.server", 500);
    if (srv < 0) {
        printf("%s: no server: %s\n", who, ipc_strerror(srv));
        return -1;
    }
    srv_pid = (uint32_t)ipc_handle_pid((uint64_t)srv);
    return 0;
}

static uint64_t server_sum(uint64_t off, uint64_t len)
{
    uint64_t sum = 0;
    ask(OP_SUM, off, len, 0, 0, &sum);
    return sum;
}

static const char *const C = "grant.maps";

/* Map, read, write both ways, unmap; and who pays for the page tables. */
static void shared(void)
{
    ask(OP_FILL, 5, 0, 0, 0, 0);
    int64_t ro = ask(OP_GRANT, 0, 4 * PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    struct kc_proc_info before, mapped, after;
    kc_proc_info(my_pid & ID_SLOT_MASK, &before);
    check(C, "map 4 pages read-only", grant_map(srv_pid, (uint64_t)ro, 0, WIN(0), 4 * PAGE, 0), 0);
    kc_proc_info(my_pid & ID_SLOT_MASK, &mapped);
    check(C, "  ... we see the server's bytes",
          test_checksum(WIN(0), 4 * PAGE) == server_sum(0, 4 * PAGE), 1);
    check(C, "  ... the window's page tables are charged to us (3: PDPT, PD, PT)",
          (long)(mapped.kernel_pages - before.kernel_pages), 3);
    ask(OP_FILL, 6, 0, 0, 0, 0);
    check(C, "  ... and the server's later writes, at once",
          test_checksum(WIN(0), 4 * PAGE) == server_sum(0, 4 * PAGE), 1);
    check(C, "unmap it", grant_unmap(WIN(0)), 4);
    kc_proc_info(my_pid & ID_SLOT_MASK, &after);
    check(C, "  ... the page tables stay ours, for the next mapping",
          (long)(after.kernel_pages - before.kernel_pages), 3);
    check(C, "  ... and the pages are gone", probe(WIN(0)), -E_FAULT);
    check(C, "unmap it again", grant_unmap(WIN(0)), -E_NOENT);
    check(C, "map it again at an offset", grant_map(srv_pid, (uint64_t)ro, PAGE, WIN(0), PAGE, 0),
          0);
    kc_proc_info(my_pid & ID_SLOT_MASK, &mapped);
    check(C, "  ... with no new page table", (long)(mapped.kernel_pages - after.kernel_pages), 0);
    check(C, "  ... the right page", test_checksum(WIN(0), PAGE) == server_sum(PAGE, PAGE), 1);
    grant_unmap(WIN(0));
    check(C, "write map of a read-only map grant",
          grant_map(srv_pid, (uint64_t)ro, 0, WIN(0), PAGE, GRANT_F_WRITE), -E_GRANT_ACCESS);
    check(C, "revoke it", ask(OP_REVOKE, (uint64_t)ro, 0, 0, 0, 0), 0);

    int64_t rw =
        ask(OP_GRANT, 8 * PAGE, 2 * PAGE, GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP, 0, 0);
    check(C, "map 2 pages read-write",
          grant_map(srv_pid, (uint64_t)rw, 0, WIN(1), 2 * PAGE, GRANT_F_WRITE), 0);
    fill(WIN(1), 2 * PAGE, 9);
    check(C, "  ... the server sees our writes",
          server_sum(8 * PAGE, 2 * PAGE) == test_checksum(WIN(1), 2 * PAGE), 1);
    check(C, "  ... and no byte after them changed",
          server_sum(10 * PAGE, PAGE) == expected(6, 10 * PAGE, PAGE), 1);
    check(C, "  ... nor before them", server_sum(7 * PAGE, PAGE) == expected(6, 7 * PAGE, PAGE), 1);
    check(C, "the same pages mapped twice", grant_map(srv_pid, (uint64_t)rw, 0, WIN(2), PAGE, 0),
          -E_EXIST);
    int64_t other = ask(OP_GRANT, 12 * PAGE, PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    check(C, "other pages over a mapping of ours",
          grant_map(srv_pid, (uint64_t)other, 0, WIN(1) + PAGE, PAGE, 0), -E_EXIST);
    check(C, "revoke while mapped", ask(OP_REVOKE, (uint64_t)rw, 0, 0, 0, 0), 0);
    check(C, "  ... the mapping is gone at once", probe(WIN(1)), -E_FAULT);
    check(C, "  ... and so is its record", grant_unmap(WIN(1)), -E_NOENT);
    /* Its slot is free (-E_GRANT_INVALID) unless a role running beside us
     * got a grant from the server meanwhile (-E_GRANT_STALE): either way
     * the old id names nothing. */
    long old = grant_map(srv_pid, (uint64_t)rw, 0, WIN(1), PAGE, 0);
    check(C, "  ... the old id maps nothing", old == -E_GRANT_STALE ? -E_GRANT_INVALID : old,
          -E_GRANT_INVALID);
    check(C, "  ... and the window is free again",
          grant_map(srv_pid, (uint64_t)other, 0, WIN(1), PAGE, 0), 0);
    grant_unmap(WIN(1));
    ask(OP_REVOKE, (uint64_t)other, 0, 0, 0, 0);
}

/* A mapping whose pages run past the end of one of our page tables (and
 * maybe of the server's): the kernel copies the entries a table's run at
 * a time, so every page must still land in its place, and all go. */
static void across_tables(void)
{
    ask(OP_FILL, 11, 0, 0, 0, 0);
    int64_t id = ask(OP_GRANT, 0, BUF_PAGES * PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    uint8_t *at = (uint8_t *)(USER_MAP_MIN + 0x10000000ull - 20 * PAGE);
    check(C, "map 64 pages across the end of a page table",
          grant_map(srv_pid, (uint64_t)id, 0, at, BUF_PAGES * PAGE, 0), 0);
    long misplaced = 0;
    for (uint64_t p = 0; p < BUF_PAGES; p++)
        misplaced += test_checksum(at + p * PAGE, PAGE) != expected(11, p * PAGE, PAGE);
    check(C, "  ... every page in its place (pages misplaced)", misplaced, 0);
    check(C, "unmap them", grant_unmap(at), BUF_PAGES);
    check(C, "  ... the last page before the table's end is gone", probe(at + 19 * PAGE), -E_FAULT);
    check(C, "  ... and the first after it", probe(at + 20 * PAGE), -E_FAULT);
    check(C, "  ... and the last", probe(at + (BUF_PAGES - 1) * PAGE), -E_FAULT);
    ask(OP_REVOKE, (uint64_t)id, 0, 0, 0, 0);
}

static void misuse(void)
{
    int64_t copy_only = ask(OP_GRANT, 0, 4 * PAGE, GRANT_F_READ | GRANT_F_WRITE, 0, 0);
    check(C, "map without the map right",
          grant_map(srv_pid, (uint64_t)copy_only, 0, WIN(0), PAGE, 0), -E_GRANT_ACCESS);
    ask(OP_REVOKE, (uint64_t)copy_only, 0, 0, 0, 0);
    int64_t wo = ask(OP_GRANT, 0, PAGE, GRANT_F_WRITE | GRANT_F_MAP, 0, 0);
    check(C, "map a map grant without read", grant_map(srv_pid, (uint64_t)wo, 0, WIN(0), PAGE, 0),
          -E_GRANT_ACCESS);
    ask(OP_REVOKE, (uint64_t)wo, 0, 0, 0, 0);

    int64_t id = ask(OP_GRANT, 0, 8 * PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    check(C, "offset not page-aligned", grant_map(srv_pid, (uint64_t)id, 100, WIN(0), PAGE, 0),
          -E_INVAL);
    check(C, "address not page-aligned", grant_map(srv_pid, (uint64_t)id, 0, WIN(0) + 8, PAGE, 0),
          -E_INVAL);
    check(C, "length not whole pages", grant_map(srv_pid, (uint64_t)id, 0, WIN(0), 100, 0),
          -E_INVAL);
    check(C, "length 0", grant_map(srv_pid, (uint64_t)id, 0, WIN(0), 0, 0), -E_INVAL);
    check(C, "an unknown flag", grant_map(srv_pid, (uint64_t)id, 0, WIN(0), PAGE, 1u << 7),
          -E_INVAL);
    check(C, "a flag other than write (no mapping is executable)",
          grant_map(srv_pid, (uint64_t)id, 0, WIN(0), PAGE, GRANT_F_MAP), -E_INVAL);
    check(C, "over our code", grant_map(srv_pid, (uint64_t)id, 0, (void *)USER_IMAGE_MIN, PAGE, 0),
          -E_RANGE);
    uint64_t stack = (uint64_t)&id & ~(PAGE - 1);
    check(C, "over our stack", grant_map(srv_pid, (uint64_t)id, 0, (void *)stack, PAGE, 0),
          -E_RANGE);
    check(C, "into the heap window",
          grant_map(srv_pid, (uint64_t)id, 0, (void *)USER_HEAP_MIN, PAGE, 0), -E_RANGE);
    check(C, "below the window",
          grant_map(srv_pid, (uint64_t)id, 0, (void *)(USER_MAP_MIN - PAGE), PAGE, 0), -E_RANGE);
    check(C, "across the window's end",
          grant_map(srv_pid, (uint64_t)id, 0, (void *)(USER_MAP_MAX - PAGE), 2 * PAGE, 0),
          -E_RANGE);
    check(C, "more than GRANT_MAP_MAX",
          grant_map(srv_pid, (uint64_t)id, 0, WIN(0), GRANT_MAP_MAX + PAGE, 0), -E_RANGE);
    check(C, "past the grant's end",
          grant_map(srv_pid, (uint64_t)id, 4 * PAGE, WIN(0), 5 * PAGE, 0), -E_GRANT_RANGE);
    check(C, "not the grantee", grant_map(srv_pid, grant_id(0, 0), 0, WIN(0), PAGE, 0) < 0, 1);
    ask(OP_REVOKE, (uint64_t)id, 0, 0, 0, 0);
    int64_t odd = ask(OP_GRANT, 8, PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    check(C, "a grant that does not start on a page",
          grant_map(srv_pid, (uint64_t)odd, 0, WIN(0), PAGE, 0), -E_INVAL);
    ask(OP_REVOKE, (uint64_t)odd, 0, 0, 0, 0);

    /* A mapping's pages must be the granter's own: not its map window. */
    int64_t self = grant_create(my_pid, WIN(0), PAGE, GRANT_F_READ | GRANT_F_MAP);
    check(C, "a grant over the granter's own map window",
          grant_map(my_pid, (uint64_t)self, 0, WIN(1), PAGE, 0), -E_FAULT);
    grant_revoke((uint64_t)self);
    int64_t gap = grant_create(my_pid, (void *)0x2000000000ull, PAGE, GRANT_F_READ | GRANT_F_MAP);
    check(C, "a grant over memory nobody mapped",
          grant_map(my_pid, (uint64_t)gap, 0, WIN(1), PAGE, 0), -E_FAULT);
    grant_revoke((uint64_t)gap);
}

/* Limits: GRANT_MAPS_MAX mappings at once, then -E_LIMIT; and
 * grant_map_any's areas. */
static void limits(void)
{
    int64_t id = ask(OP_GRANT, 0, BUF_PAGES * PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    long bad = 0;
    for (int k = 0; k < GRANT_MAPS_MAX; k++)
        bad += grant_map(srv_pid, (uint64_t)id, (uint64_t)k * PAGE, WIN(k), PAGE, 0) != 0;
    check(C, "GRANT_MAPS_MAX mappings", bad, 0);
    check(C, "  ... and not one more",
          grant_map(srv_pid, (uint64_t)id, GRANT_MAPS_MAX * PAGE, WIN(GRANT_MAPS_MAX), PAGE, 0),
          -E_LIMIT);
    check(C, "revoking removes all of them", ask(OP_REVOKE, (uint64_t)id, 0, 0, 0, 0), 0);
    bad = 0;
    for (int k = 0; k < GRANT_MAPS_MAX; k++)
        bad += probe(WIN(k)) != -E_FAULT;
    check(C, "  ... every page", bad, 0);
    id = ask(OP_GRANT, 0, BUF_PAGES * PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    long err = 0;
    uint8_t *a = grant_map_any(srv_pid, (uint64_t)id, 0, 2 * PAGE, 0, &err);
    uint8_t *b = grant_map_any(srv_pid, (uint64_t)id, 2 * PAGE, PAGE, 0, &err);
    check(C, "grant_map_any twice: two places", a && b && a != b, 1);
    check(C, "  ... with the right bytes",
          b && test_checksum(b, PAGE) == server_sum(2 * PAGE, PAGE), 1);
    check(C, "  ... undone", grant_unmap_any(a) + grant_unmap_any(b), 3);
    ask(OP_REVOKE, (uint64_t)id, 0, 0, 0, 0);
}

/* Indirect chains: our own buffer, granted to the server, passed back to
 * us by the server with an indirect grant; we map our pages through it. */
static void chains(void)
{
    fill(buf, 8 * PAGE, 3);
    int64_t mine = grant_create(srv_pid, buf, 8 * PAGE, GRANT_F_READ | GRANT_F_MAP);
    int64_t widen_w = ask(OP_INDIRECT, (uint64_t)mine, 0, 4 * PAGE,
                          GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP, 0);
    check(C, "chain that would add write",
          grant_map(srv_pid, (uint64_t)widen_w, 0, WIN(3), PAGE, GRANT_F_WRITE), -E_GRANT_ACCESS);
    int64_t widen_r =
        ask(OP_INDIRECT, (uint64_t)mine, 4 * PAGE, 8 * PAGE, GRANT_F_READ | GRANT_F_MAP, 0);
    check(C, "chain that would widen the range",
          grant_map(srv_pid, (uint64_t)widen_r, 0, WIN(3), 8 * PAGE, 0), -E_GRANT_RANGE);
    int64_t narrow =
        ask(OP_INDIRECT, (uint64_t)mine, 2 * PAGE, 2 * PAGE, GRANT_F_READ | GRANT_F_MAP, 0);
    check(C, "chain that narrows", grant_map(srv_pid, (uint64_t)narrow, 0, WIN(3), 2 * PAGE, 0), 0);
    check(C, "  ... our own pages, through the server",
          test_checksum(WIN(3), 2 * PAGE) == test_checksum(buf + 2 * PAGE, 2 * PAGE), 1);
    check(C, "the middle link revoked", ask(OP_REVOKE, (uint64_t)narrow, 0, 0, 0, 0), 0);
    check(C, "  ... the mapping is gone", probe(WIN(3)), -E_FAULT);
    narrow = ask(OP_INDIRECT, (uint64_t)mine, 0, PAGE, GRANT_F_READ | GRANT_F_MAP, 0);
    check(C, "mapped through a new link", grant_map(srv_pid, (uint64_t)narrow, 0, WIN(3), PAGE, 0),
          0);
    check(C, "the first link revoked", grant_revoke((uint64_t)mine), 0);
    check(C, "  ... the mapping is gone", probe(WIN(3)), -E_FAULT);
    ask(OP_REVOKE, (uint64_t)narrow, 0, 0, 0, 0);
    ask(OP_REVOKE, (uint64_t)widen_w, 0, 0, 0, 0);
    ask(OP_REVOKE, (uint64_t)widen_r, 0, 0, 0, 0);

    int64_t copy_only = grant_create(srv_pid, buf, PAGE, GRANT_F_READ);
    int64_t add_map = ask(OP_INDIRECT, (uint64_t)copy_only, 0, PAGE, GRANT_F_READ | GRANT_F_MAP, 0);
    check(C, "chain that would add the map right",
          grant_map(srv_pid, (uint64_t)add_map, 0, WIN(3), PAGE, 0), -E_GRANT_ACCESS);
    ask(OP_REVOKE, (uint64_t)add_map, 0, 0, 0, 0);
    grant_revoke((uint64_t)copy_only);
}

/* The granter's pages leave its space (the memory server unmaps them):
 * our mapping goes first, before the frame can be anyone else's. */
static void source_unmapped(void)
{
    int64_t id = ask(OP_POOL_GRANT, 0, 0, 0, 0, 0);
    check(C, "map the server's pool page", grant_map(srv_pid, (uint64_t)id, 0, WIN(4), PAGE, 0), 0);
    uint8_t want[PAGE];
    fill(want, PAGE, 77);
    check(C, "  ... its bytes", memcmp(WIN(4), want, PAGE), 0);
    /* Another of the server's pages stays mapped meanwhile: the sweep
     * must leave it, and end with the table even though the server still
     * has a mapping out. */
    int64_t other = ask(OP_GRANT, 30 * PAGE, PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    check(C, "map another page of the server",
          grant_map(srv_pid, (uint64_t)other, 0, WIN(5), PAGE, 0), 0);
    check(C, "the server's page unmapped under it", ask(OP_POOL_UNMAP, 0, 0, 0, 0, 0), 1);
    check(C, "  ... our mapping is gone", probe(WIN(4)), -E_FAULT);
    check(C, "  ... and its record", grant_unmap(WIN(4)), -E_NOENT);
    check(C, "  ... the other page's mapping stays",
          test_checksum(WIN(5), PAGE) == server_sum(30 * PAGE, PAGE), 1);
    check(C, "  ... until we unmap it", grant_unmap(WIN(5)), 1);
    ask(OP_REVOKE, (uint64_t)other, 0, 0, 0, 0);
}

static int client(void)
{
    if (connect(C) < 0)
        return 1;
    shared();
    across_tables();
    misuse();
    limits();
    chains();
    source_unmapped();
    /* The dying granter's mapping in the server: asked until it has died
     * (the boot server starts it with us). */
    long rc = -E_AGAIN;
    for (int i = 0; i < 3000 && rc == -E_AGAIN; i++) {
        rc = ask(OP_DYING_CHECK, 0, 0, 0, 0, 0);
        if (rc == -E_AGAIN)
            kc_sleep(1);
    }
    check(C, "granter killed while mapped: the grantee's mapping went with it", rc, 0);
    printf("grant.maps: %d checks failed\n", failures);
    return failures;
}

/* role=ro_write: a write through a read-only mapping is a page fault. */
static int ro_write(void)
{
    if (connect("grant.map_ro_write") < 0)
        return 1;
    int64_t id = ask(OP_GRANT, SIDE(0), PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    if (grant_map(srv_pid, (uint64_t)id, 0, WIN(0), PAGE, 0) != 0)
        return 2;
    if (test_checksum(WIN(0), PAGE) != server_sum(SIDE(0), PAGE))
        return 3;
    printf("grant.map_ro_write: writing through the read-only mapping\n");
    *(volatile uint8_t *)WIN(0) = 1;
    printf("grant.map_ro_write: FAIL: the write went through\n");
    return 4;
}

/* role=after_revoke: the server revokes while we use the mapping. */
static int after_revoke(void)
{
    if (connect("grant.map_after_revoke") < 0)
        return 1;
    int64_t id = ask(OP_GRANT, SIDE(4), 2 * PAGE, GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP, 0, 0);
    if (grant_map(srv_pid, (uint64_t)id, 0, WIN(0), 2 * PAGE, GRANT_F_WRITE) != 0)
        return 2;
    WIN(0)[5] = 42;
    if (ask(OP_REVOKE, (uint64_t)id, 0, 0, 0, 0) != 0)
        return 3;
    printf("grant.map_after_revoke: reading the mapping after the revoke\n");
    uint8_t v = *(volatile uint8_t *)(WIN(0) + PAGE);
    printf("grant.map_after_revoke: FAIL: read %u after the revoke\n", v);
    return 4;
}

/* role=after_unmap: we unmap a mapping we just read through; the next read
 * must fault: the kernel flushed our TLB's copy of the entries it cleared
 * (our own address space is the loaded one, so no CR3 write does it). */
static int after_unmap(void)
{
    if (connect("grant.map_after_unmap") < 0)
        return 1;
    int64_t id = ask(OP_GRANT, SIDE(8), 2 * PAGE, GRANT_F_READ | GRANT_F_MAP, 0, 0);
    if (grant_map(srv_pid, (uint64_t)id, 0, WIN(0), 2 * PAGE, 0) != 0)
        return 2;
    if (test_checksum(WIN(0), 2 * PAGE) != server_sum(SIDE(8), 2 * PAGE))
        return 3;
    /* Read again after the call and the message (the switches to the
     * server and the console flushed the TLB): both pages are in it now,
     * and nothing switches address spaces before the read that must fault. */
    printf("grant.map_after_unmap: reading the mapping after our own unmap\n");
    (void)*(volatile uint8_t *)WIN(0);
    (void)*(volatile uint8_t *)(WIN(0) + PAGE);
    if (grant_unmap(WIN(0)) != 2)
        return 4;
    uint8_t v = *(volatile uint8_t *)(WIN(0) + PAGE);
    printf("grant.map_after_unmap: FAIL: read %u after the unmap\n", v);
    return 5;
}

/* role=dying: the server maps our page; then we die of a fault. */
static int dying(void)
{
    if (connect("grant.map_dying_granter") < 0)
        return 1;
    fill(buf, PAGE, 123);
    int64_t id = grant_create(srv_pid, buf, PAGE, GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP);
    uint64_t sum = 0;
    if (ask(OP_MAP_FROM, (uint64_t)id, 0, 0, 0, &sum) != 0 || sum != test_checksum(buf, PAGE))
        return 2;
    printf("grant.map_dying_granter: the server maps our page; now we die\n");
    return *(volatile int *)0;
}

int main(void)
{
    char args[256];
    kc_args(args, sizeof(args));
    kc_self(&my_pid, 0, 0, 0);
    if (strstr(args, "role=server"))
        return server();
    if (strstr(args, "role=ro_write"))
        return ro_write();
    if (strstr(args, "role=after_revoke"))
        return after_revoke();
    if (strstr(args, "role=after_unmap"))
        return after_unmap();
    if (strstr(args, "role=dying"))
        return dying();
    return client();
}
