/*
 * Host tests for grant verification (kernel/grant_verify.c): every check and
 * its error code, the order of the checks, indirect chains (rights, ranges,
 * depth, loops), and a seeded run against a recursive reference model.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>
#include <abi/grant.h>

#include "grant_verify.h"
#include "hostlib.h"

#define R  GRANT_F_READ
#define W  GRANT_F_WRITE
#define RW (GRANT_F_READ | GRANT_F_WRITE)
#define UV (GRANT_F_USED | GRANT_F_VALID)

/* ---- fake process world ---- */

#define MAX_PID 16

struct fproc {
    uint64_t slots;          /* 0: no table (or no such process) */
    struct grant_entry *tab; /* exactly `slots` entries, so ASan sees overreads */
    int unreadable;          /* table registered but its memory is gone */
};

struct world {
    struct fproc p[MAX_PID];
    unsigned reads; /* read_entry calls, to check each link is read once */
};

static uint64_t fake_slots(void *ctx, uint32_t pid)
{
    struct world *w = ctx;
    return pid < MAX_PID ? w->p[pid].slots : 0;
}

static int fake_read(void *ctx, uint32_t pid, uint64_t index, struct grant_entry *out)
{
    struct world *w = ctx;
    /* The kernel's read_entry does no bounds check of its own: it relies on
     * grant_verify having checked the index against the slot count. */
    assert_true(pid < MAX_PID);
    assert_true(w->p[pid].slots > 0);
    assert_true(index < w->p[pid].slots);
    w->reads++;
    if (w->p[pid].unreadable) {
        /* A failed user read may leave a partial copy; it must not be used. */
        memset(out, 0xa5, sizeof(*out));
        return -1;
    }
    *out = w->p[pid].tab[index];
    return 0;
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    *state = w;
    return 0;
}

static void w_clear(struct world *w)
{
    for (int i = 0; i < MAX_PID; i++)
        free(w->p[i].tab);
    memset(w, 0, sizeof(*w));
}

static int teardown(void **state)
{
    w_clear(*state);
    free(*state);
    return 0;
}

static void w_table(struct world *w, uint32_t pid, uint64_t slots)
{
    assert_true(pid < MAX_PID);
    free(w->p[pid].tab);
    w->p[pid].tab = slots ? calloc(slots, sizeof(struct grant_entry)) : NULL;
    assert_true(slots == 0 || w->p[pid].tab != NULL);
    w->p[pid].slots = slots;
    w->p[pid].unreadable = 0;
}

static struct grant_entry *ent(struct world *w, uint32_t pid, uint32_t index)
{
    assert_true(pid < MAX_PID && index < w->p[pid].slots);
    return &w->p[pid].tab[index];
}

static void direct(struct world *w, uint32_t pid, uint32_t index, uint32_t gen, uint32_t grantee,
                   uint32_t rights, uint64_t addr, uint64_t len)
{
    *ent(w, pid, index) = (struct grant_entry){
        .flags = UV | rights, .gen = gen, .grantee = grantee, .addr = addr, .len = len};
}

static void indirect(struct world *w, uint32_t pid, uint32_t index, uint32_t gen, uint32_t grantee,
                     uint32_t rights, uint32_t src_pid, uint64_t src_id, uint64_t offset,
                     uint64_t len)
{
    *ent(w, pid, index) = (struct grant_entry){.flags = UV | GRANT_F_INDIRECT | rights,
                                               .gen = gen,
                                               .grantee = grantee,
                                               .src_pid = src_pid,
                                               .addr = offset,
                                               .len = len,
                                               .src_id = src_id};
}

static struct grant_target last;

static int verify(struct world *w, uint32_t caller, uint32_t granter, uint64_t id, uint64_t offset,
                  uint64_t len, uint32_t access)
{
    struct grant_source src = {fake_slots, fake_read, w};
    w->reads = 0;
    last = (struct grant_target){0xdeadbeef, 0xdeadbeefdeadbeefull};
    return grant_verify(&src, caller, granter, id, offset, len, access, &last);
}

/* Process ids used by the fixed tests. */
enum { A = 1, B = 2, C = 3, D = 4, NOBODY = 9 };

/* ---- table and index ---- */

static void test_granter_unknown(void **state)
{
    struct world *w = *state;
    assert_int_equal(verify(w, B, NOBODY, grant_id(0, 0), 0, 1, R), -E_GRANT_NOTABLE);
    assert_int_equal(verify(w, B, MAX_PID + 100, grant_id(0, 0), 0, 1, R), -E_GRANT_NOTABLE);
    assert_int_equal(verify(w, B, UINT32_MAX, grant_id(0, 0), 0, 1, R), -E_GRANT_NOTABLE);
    assert_int_equal(w->reads, 0);
}

static void test_granter_no_table(void **state)
{
    struct world *w = *state;
    w_table(w, A, 0);
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), -E_GRANT_NOTABLE);
    assert_int_equal(w->reads, 0);
}

static void test_table_unreadable(void **state)
{
    struct world *w = *state;
    w_table(w, A, 4);
    direct(w, A, 2, 0, B, R, 0x1000, 0x100);
    w->p[A].unreadable = 1;
    assert_int_equal(verify(w, B, A, grant_id(2, 0), 0, 1, R), -E_GRANT_NOTABLE);
    assert_int_equal(w->reads, 1);
    /* The index is checked before the table is touched. */
    assert_int_equal(verify(w, B, A, grant_id(4, 0), 0, 1, R), -E_GRANT_INDEX);
    assert_int_equal(w->reads, 0);
}

static void test_index_out_of_range(void **state)
{
    struct world *w = *state;
    w_table(w, A, 4);
    for (uint32_t i = 0; i < 4; i++)
        direct(w, A, i, 0, B, R, 0x1000 * (i + 1), 0x100);
    assert_int_equal(verify(w, B, A, grant_id(3, 0), 0, 1, R), 0);
    assert_int_equal(last.addr, 0x4000);
    assert_int_equal(verify(w, B, A, grant_id(4, 0), 0, 1, R), -E_GRANT_INDEX);
    assert_int_equal(verify(w, B, A, grant_id(UINT32_MAX, 0), 0, 1, R), -E_GRANT_INDEX);
    assert_int_equal(verify(w, B, A, grant_id(UINT32_MAX, UINT32_MAX), 0, 1, R), -E_GRANT_INDEX);
    assert_int_equal(w->reads, 0);
}

static void test_index_in_max_table(void **state)
{
    struct world *w = *state;
    w_table(w, A, GRANT_MAX_SLOTS);
    direct(w, A, GRANT_MAX_SLOTS - 1, 7, B, RW, 0x5000, 0x10);
    assert_int_equal(verify(w, B, A, grant_id(GRANT_MAX_SLOTS - 1, 7), 0, 0x10, W), 0);
    assert_int_equal(verify(w, B, A, grant_id(GRANT_MAX_SLOTS, 7), 0, 0x10, W), -E_GRANT_INDEX);
}

/* ---- entry checks ---- */

static void test_entry_not_used(void **state)
{
    struct world *w = *state;
    w_table(w, A, 2);
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 0, R), -E_GRANT_INVALID);
    /* A slot freed with its old contents left behind is still unused. */
    direct(w, A, 1, 0, B, R, 0x1000, 0x100);
    ent(w, A, 1)->flags &= ~GRANT_F_USED;
    assert_int_equal(verify(w, B, A, grant_id(1, 0), 0, 1, R), -E_GRANT_INVALID);
}

static void test_entry_used_not_valid(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    direct(w, A, 0, 0, B, R, 0x1000, 0x100);
    /* A granter half-way through filling the slot. */
    ent(w, A, 0)->flags &= ~GRANT_F_VALID;
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), -E_GRANT_INVALID);
    ent(w, A, 0)->flags = GRANT_F_VALID | R;
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), -E_GRANT_INVALID);
}

static void test_entry_unknown_flags(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    /* Bits defined later must not be silently granted by an old kernel. */
    for (unsigned bit = (unsigned)__builtin_ctz(~GRANT_F_ALL); bit < 32; bit++) {
        direct(w, A, 0, 0, B, R, 0x1000, 0x100);
        ent(w, A, 0)->flags |= 1u << bit;
        assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), -E_GRANT_INVALID);
    }
    direct(w, A, 0, 0, B, R, 0x1000, 0x100);
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), 0);
}

static void test_generation(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    direct(w, A, 0, 5, B, R, 0x1000, 0x100);
    uint64_t old = grant_id(0, 5);
    assert_int_equal(verify(w, B, A, old, 0, 1, R), 0);
    /* Revoke and reuse the slot: the kept id must not reach the new grant,
     * even though the new grant is for the same grantee. */
    direct(w, A, 0, 6, B, RW, 0x8000, 0x1000);
    assert_int_equal(verify(w, B, A, old, 0, 1, R), -E_GRANT_STALE);
    assert_int_equal(verify(w, B, A, grant_id(0, 6), 0x10, 1, W), 0);
    assert_int_equal(last.granter, A);
    assert_int_equal(last.addr, 0x8010);
    /* An id from the future is just as stale, and the whole 32 bits count. */
    assert_int_equal(verify(w, B, A, grant_id(0, 7), 0, 1, R), -E_GRANT_STALE);
    direct(w, A, 0, UINT32_MAX, B, R, 0x1000, 0x100);
    assert_int_equal(verify(w, B, A, grant_id(0, UINT32_MAX), 0, 1, R), 0);
    assert_int_equal(verify(w, B, A, grant_id(0, 0x7fffffff), 0, 1, R), -E_GRANT_STALE);
}

static void test_not_grantee(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    direct(w, A, 0, 0, B, RW, 0x1000, 0x100);
    assert_int_equal(verify(w, C, A, grant_id(0, 0), 0, 1, R), -E_GRANT_GRANTEE);
    /* The granter itself is not the grantee of its own grant either. */
    assert_int_equal(verify(w, A, A, grant_id(0, 0), 0, 1, R), -E_GRANT_GRANTEE);
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), 0);
}

static void test_access(void **state)
{
    struct world *w = *state;
    w_table(w, A, 3);
    direct(w, A, 0, 0, B, W, 0x1000, 0x100);
    direct(w, A, 1, 0, B, R, 0x1000, 0x100);
    direct(w, A, 2, 0, B, 0, 0x1000, 0x100);
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, R), -E_GRANT_ACCESS);
    assert_int_equal(verify(w, B, A, grant_id(0, 0), 0, 1, W), 0);
    assert_int_equal(verify(w, B, A, grant_id(1, 0), 0, 1, W), -E_GRANT_ACCESS);
    assert_int_equal(verify(w, B, A, grant_id(1, 0), 0, 1, RW), -E_GRANT_ACCESS);
    assert_int_equal(verify(w, B, A, grant_id(1, 0), 0, 1, R), 0);
    assert_int_equal(verify(w, B, A, grant_id(2, 0), 0, 1, R), -E_GRANT_ACCESS);
    assert_int_equal(verify(w, B, A, grant_id(2, 0), 0, 1, W), -E_GRANT_ACCESS);
    direct(w, A, 2, 0, B, RW, 0x1000, 0x100);
    assert_int_equal(verify(w, B, A, grant_id(2, 0), 0, 1, RW), 0);
}

/* ---- range ---- */

static void test_range_edges(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    direct(w, A, 0, 0, B, R, 0x1000, 0x100);
    uint64_t id = grant_id(0, 0);
    /* An empty copy at the very end is allowed; one byte past is not. */
    assert_int_equal(verify(w, B, A, id, 0x100, 0, R), 0);
    assert_int_equal(last.addr, 0x1100);
    assert_int_equal(verify(w, B, A, id, 0x101, 0, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0x100, 1, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0, 0x100, R), 0);
    assert_int_equal(last.addr, 0x1000);
    assert_int_equal(verify(w, B, A, id, 0, 0x101, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0x80, 0x80, R), 0);
    assert_int_equal(last.addr, 0x1080);
    assert_int_equal(verify(w, B, A, id, 0x80, 0x81, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0xff, 1, R), 0);
    assert_int_equal(verify(w, B, A, id, 0xff, 2, R), -E_GRANT_RANGE);
}

static void test_range_overflow(void **state)
{
    struct world *w = *state;
    w_table(w, A, 2);
    direct(w, A, 0, 0, B, R, 0x1000, 0x100);
    uint64_t id = grant_id(0, 0);
    /* offset + len wraps to a small number that a naive sum would accept. */
    assert_int_equal(verify(w, B, A, id, 0x80, UINT64_MAX - 0x7f + 0x10, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, UINT64_MAX, 1, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, UINT64_MAX - 1, 2, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 1, UINT64_MAX, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, UINT64_MAX, UINT64_MAX, R), -E_GRANT_RANGE);

    /* A grant of the whole address space: only the sum can overflow. */
    direct(w, A, 1, 0, B, R, 0, UINT64_MAX);
    uint64_t all = grant_id(1, 0);
    assert_int_equal(verify(w, B, A, all, 10, UINT64_MAX - 5, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, all, UINT64_MAX - 5, 10, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, all, 10, UINT64_MAX - 10, R), 0);
    assert_int_equal(last.addr, 10);
    assert_int_equal(verify(w, B, A, all, UINT64_MAX, 0, R), 0);
    assert_int_equal(last.addr, UINT64_MAX);
    assert_int_equal(verify(w, B, A, all, UINT64_MAX, 1, R), -E_GRANT_RANGE);
}

static void test_range_address_wraps(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    /* The entry's own length is fine; addr + offset runs past 2^64. */
    direct(w, A, 0, 0, B, R, UINT64_MAX - 0xf, 0x100);
    uint64_t id = grant_id(0, 0);
    assert_int_equal(verify(w, B, A, id, 0xf, 0, R), 0);
    assert_int_equal(last.addr, UINT64_MAX);
    assert_int_equal(verify(w, B, A, id, 0x10, 0, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0x10, 1, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0xff, 1, R), -E_GRANT_RANGE);
    /* The start fits but the end runs past 2^64. */
    assert_int_equal(verify(w, B, A, id, 0, 0x10, R), 0);
    assert_int_equal(verify(w, B, A, id, 0, 0x11, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, B, A, id, 0xe, 2, R), 0);
    assert_int_equal(verify(w, B, A, id, 0xe, 3, R), -E_GRANT_RANGE);
}

/* ---- success ---- */

static void test_direct_success(void **state)
{
    struct world *w = *state;
    w_table(w, A, 3);
    direct(w, A, 2, 3, B, RW, 0x400000, 0x2000);
    assert_int_equal(verify(w, B, A, grant_id(2, 3), 0x123, 0x456, R), 0);
    assert_int_equal(last.granter, A);
    assert_int_equal(last.addr, 0x400123);
    assert_int_equal(w->reads, 1);
    assert_int_equal(verify(w, B, A, grant_id(2, 3), 0, 0x2000, W), 0);
    assert_int_equal(last.addr, 0x400000);
    assert_int_equal(verify(w, B, A, grant_id(2, 3), 0, 0, R), 0);
    assert_int_equal(last.addr, 0x400000);
    /* Fields that only matter for indirect grants are ignored here. */
    ent(w, A, 2)->src_pid = NOBODY;
    ent(w, A, 2)->src_id = grant_id(99, 99);
    assert_int_equal(verify(w, B, A, grant_id(2, 3), 0x10, 0x10, W), 0);
    assert_int_equal(last.granter, A);
    assert_int_equal(last.addr, 0x400010);
    assert_int_equal(w->reads, 1);
}

/* ---- order ---- */

static void test_order_table_checks(void **state)
{
    struct world *w = *state;
    /* An index that would be out of range still reports the missing table. */
    assert_int_equal(verify(w, B, A, grant_id(UINT32_MAX, 0), 0, 1, R), -E_GRANT_NOTABLE);
    w_table(w, A, 1);
    w->p[A].unreadable = 1;
    assert_int_equal(verify(w, B, A, grant_id(UINT32_MAX, 0), 0, 1, R), -E_GRANT_INDEX);
    /* An unreadable table hides whatever is wrong with the entry. */
    assert_int_equal(verify(w, B, A, grant_id(0, 9), UINT64_MAX, 1, RW), -E_GRANT_NOTABLE);
}

static void test_order_entry_checks(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    /* Everything wrong at once, then fix one fault at a time: each step
     * reports the next check in Minix's verify_grant order. */
    *ent(w, A, 0) = (struct grant_entry){
        .flags = GRANT_F_USED | R, .gen = 2, .grantee = C, .addr = 0x1000, .len = 0x10};
    uint64_t id = grant_id(0, 1);
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), -E_GRANT_INVALID);
    ent(w, A, 0)->flags |= GRANT_F_VALID;
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), -E_GRANT_STALE);
    ent(w, A, 0)->gen = 1;
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), -E_GRANT_GRANTEE);
    ent(w, A, 0)->grantee = B;
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), -E_GRANT_ACCESS);
    ent(w, A, 0)->flags |= W;
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), -E_GRANT_RANGE);
    ent(w, A, 0)->len = 0x18;
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), 0);
    assert_int_equal(last.addr, 0x1008);

    /* Unknown flag bits are caught with the other validity checks. */
    ent(w, A, 0)->flags |= 1u << 31;
    ent(w, A, 0)->gen = 2;
    assert_int_equal(verify(w, B, A, id, 0x8, 0x10, W), -E_GRANT_INVALID);
}

/* ---- indirect ---- */

/* A grants B [0x10000, +0x1000) read/write; B passes [0x100, +0x200) of it to C. */
static void ab_chain(struct world *w, uint32_t a_rights, uint32_t b_rights)
{
    w_table(w, A, 2);
    w_table(w, B, 3);
    direct(w, A, 1, 4, B, a_rights, 0x10000, 0x1000);
    indirect(w, B, 2, 7, C, b_rights, A, grant_id(1, 4), 0x100, 0x200);
}

static void test_indirect_success(void **state)
{
    struct world *w = *state;
    ab_chain(w, RW, RW);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x20, 0x30, R), 0);
    assert_int_equal(last.granter, A);
    assert_int_equal(last.addr, 0x10000 + 0x100 + 0x20);
    assert_int_equal(w->reads, 2);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 0x200, W), 0);
    assert_int_equal(last.addr, 0x10100);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x200, 0, W), 0);
    assert_int_equal(last.addr, 0x10300);
    /* B's own sub-range bounds C, not A's larger grant. */
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x1ff, 2, R), -E_GRANT_RANGE);
    assert_int_equal(w->reads, 1);
    /* B can still use A's grant directly; C cannot. */
    assert_int_equal(verify(w, B, A, grant_id(1, 4), 0, 0x1000, R), 0);
    assert_int_equal(verify(w, C, A, grant_id(1, 4), 0, 1, R), -E_GRANT_GRANTEE);
}

static void test_indirect_link_caller_is_intermediate(void **state)
{
    struct world *w = *state;
    ab_chain(w, RW, RW);
    /* A's grant names C, not B: B has nothing to pass on, even to C. */
    ent(w, A, 1)->grantee = C;
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R), -E_GRANT_GRANTEE);
    assert_int_equal(w->reads, 2);
    ent(w, A, 1)->grantee = D;
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R), -E_GRANT_GRANTEE);
    ent(w, A, 1)->grantee = B;
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R), 0);
    /* The first link is checked against the real caller. */
    assert_int_equal(verify(w, D, B, grant_id(2, 7), 0, 1, R), -E_GRANT_GRANTEE);
    assert_int_equal(w->reads, 1);
}

static void test_indirect_widening_rights(void **state)
{
    struct world *w = *state;
    ab_chain(w, R, RW);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, W), -E_GRANT_ACCESS);
    assert_int_equal(w->reads, 2);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, RW), -E_GRANT_ACCESS);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R), 0);
    /* Narrowing is fine, and B's narrowing binds C even where A allows. */
    ab_chain(w, RW, R);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, W), -E_GRANT_ACCESS);
    assert_int_equal(w->reads, 1);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R), 0);
}

/* Map grants: the map right must be on every link, and the chain the
 * check went through is recorded, the caller's grant first. */
static void test_indirect_map_right_and_chain(void **state)
{
    struct world *w = *state;
    const uint32_t M = GRANT_F_MAP;
    struct grant_source src = {fake_slots, fake_read, w};
    struct grant_link links[GRANT_MAX_DEPTH + 1];
    uint32_t n = 0;
    ab_chain(w, R, R | M);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R | M), -E_GRANT_ACCESS);
    assert_int_equal(w->reads, 2);
    ab_chain(w, R | M, R);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, R | M), -E_GRANT_ACCESS);
    assert_int_equal(w->reads, 1);
    ab_chain(w, RW | M, R | M);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 1, RW | M), -E_GRANT_ACCESS);
    assert_int_equal(
        grant_verify_chain(&src, C, B, grant_id(2, 7), 0x100, 0x100, R | M, &last, links, &n), 0);
    assert_int_equal(last.granter, A);
    assert_int_equal(last.addr, 0x10200);
    assert_int_equal(n, 2);
    assert_int_equal(links[0].pid, B);
    assert_int_equal(links[0].id, grant_id(2, 7));
    assert_int_equal(links[1].pid, A);
    assert_int_equal(links[1].id, grant_id(1, 4));
}

static void test_indirect_widening_range(void **state)
{
    struct world *w = *state;
    ab_chain(w, RW, RW);
    /* B claims 0x100 bytes from 0xf80 of A's 0x1000: only 0x80 exist. */
    ent(w, B, 2)->addr = 0xf80;
    ent(w, B, 2)->len = 0x100;
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 0x100, R), -E_GRANT_RANGE);
    assert_int_equal(w->reads, 2);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x7f, 2, R), -E_GRANT_RANGE);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x80, 0, R), 0);
    assert_int_equal(last.addr, 0x11000);
    /* The part of B's claim that A does cover stays usable. */
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 0x80, R), 0);
    assert_int_equal(last.addr, 0x10f80);
    /* B's offset itself past the end of A's grant. */
    ent(w, B, 2)->addr = 0x1001;
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 0, R), -E_GRANT_RANGE);
}

static void test_indirect_offset_overflow(void **state)
{
    struct world *w = *state;
    ab_chain(w, RW, RW);
    /* B's offset into A's grant plus C's offset wraps 2^64 back into A's
     * small range; it must not land on 0x10000 + a few bytes. */
    ent(w, B, 2)->addr = UINT64_MAX - 0xf;
    ent(w, B, 2)->len = 0x100;
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x10, 0x10, R), -E_GRANT_RANGE);
    assert_int_equal(w->reads, 1);
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0x20, 0x10, R), -E_GRANT_RANGE);
    assert_int_equal(w->reads, 1);
    /* Without the wrap it is A's range check that refuses it. */
    assert_int_equal(verify(w, C, B, grant_id(2, 7), 0, 0, R), -E_GRANT_RANGE);
    assert_int_equal(w->reads, 2);
}

static void test_indirect_source_failures(void **state)
{
    struct world *w = *state;
    ab_chain(w, RW, RW);
    uint64_t id = grant_id(2, 7);

    /* A revoked and reissued the slot B's indirect grant points at. */
    direct(w, A, 1, 5, B, RW, 0x10000, 0x1000);
    assert_int_equal(verify(w, C, B, id, 0, 1, R), -E_GRANT_STALE);
    direct(w, A, 1, 4, B, RW, 0x10000, 0x1000);
    assert_int_equal(verify(w, C, B, id, 0, 1, R), 0);

    ent(w, A, 1)->flags &= ~GRANT_F_VALID;
    assert_int_equal(verify(w, C, B, id, 0, 1, R), -E_GRANT_INVALID);
    ent(w, A, 1)->flags |= GRANT_F_VALID;

    ent(w, B, 2)->src_id = grant_id(2, 4);
    assert_int_equal(verify(w, C, B, id, 0, 1, R), -E_GRANT_INDEX);
    ent(w, B, 2)->src_id = grant_id(1, 4);

    w->p[A].unreadable = 1;
    assert_int_equal(verify(w, C, B, id, 0, 1, R), -E_GRANT_NOTABLE);
    w->p[A].unreadable = 0;

    ent(w, B, 2)->src_pid = NOBODY;
    assert_int_equal(verify(w, C, B, id, 0, 1, R), -E_GRANT_NOTABLE);
    ent(w, B, 2)->src_pid = A;

    /* A fault in B's own entry is reported before anything about A's. */
    w_table(w, A, 0);
    ent(w, B, 2)->grantee = D;
    assert_int_equal(verify(w, C, B, id, 0, 1, R), -E_GRANT_GRANTEE);
    assert_int_equal(w->reads, 1);
}

static void test_indirect_loop(void **state)
{
    struct world *w = *state;
    w_table(w, A, 1);
    w_table(w, B, 2);
    /* B:0 -> A:0 -> B:1 -> A:0 -> ...; every link names the right grantee
     * and range, so only the depth limit can stop it. */
    indirect(w, B, 0, 0, C, RW, A, grant_id(0, 0), 0, 0x100);
    indirect(w, A, 0, 0, B, RW, B, grant_id(1, 0), 0, 0x100);
    indirect(w, B, 1, 0, A, RW, A, grant_id(0, 0), 0, 0x100);
    assert_int_equal(verify(w, C, B, grant_id(0, 0), 0, 1, R), -E_GRANT_DEPTH);
    assert_int_equal(w->reads, GRANT_MAX_DEPTH + 1);

    /* A grant that passes on itself. */
    w_table(w, D, 1);
    indirect(w, D, 0, 0, D, R, D, grant_id(0, 0), 0, 0x100);
    assert_int_equal(verify(w, D, D, grant_id(0, 0), 0, 1, R), -E_GRANT_DEPTH);
    assert_int_equal(w->reads, GRANT_MAX_DEPTH + 1);
}

/*
 * Pid 1 grants pid 2 [0x100000, +0x1000) directly; pid k+1 passes on pid
 * k's grant to pid k+2 from offset k. The caller, pid links + 2, uses pid
 * links + 1's grant: `links` indirect links in all.
 */
static uint32_t make_chain(struct world *w, int links, uint64_t *addr)
{
    assert_true(links + 2 < MAX_PID);
    w_table(w, 1, 1);
    direct(w, 1, 0, 0, 2, R, 0x100000, 0x1000);
    uint64_t left = 0x1000;
    *addr = 0x100000;
    for (int k = 1; k <= links; k++) {
        w_table(w, (uint32_t)k + 1, 1);
        indirect(w, (uint32_t)k + 1, 0, 0, (uint32_t)k + 2, R, (uint32_t)k, grant_id(0, 0),
                 (uint64_t)k, left - (uint64_t)k);
        left -= (uint64_t)k;
        *addr += (uint64_t)k;
    }
    return (uint32_t)links + 1;
}

static void test_indirect_depth_limit(void **state)
{
    struct world *w = *state;
    uint64_t addr;
    for (int links = 1; links <= GRANT_MAX_DEPTH; links++) {
        uint32_t g = make_chain(w, links, &addr);
        assert_int_equal(verify(w, g + 1, g, grant_id(0, 0), 3, 4, R), 0);
        assert_int_equal(last.granter, 1);
        assert_int_equal(last.addr, addr + 3);
        assert_int_equal(w->reads, (unsigned)links + 1);
        w_clear(w);
    }

    uint32_t g = make_chain(w, GRANT_MAX_DEPTH + 1, &addr);
    assert_int_equal(verify(w, g + 1, g, grant_id(0, 0), 3, 4, R), -E_GRANT_DEPTH);
    assert_int_equal(w->reads, GRANT_MAX_DEPTH + 1);
    /* The limit is hit before the link past it is even looked at. */
    w_table(w, 1, 0);
    assert_int_equal(verify(w, g + 1, g, grant_id(0, 0), 3, 4, R), -E_GRANT_DEPTH);
    w_clear(w);

    /* At the limit, a broken final link is reported as itself. */
    g = make_chain(w, GRANT_MAX_DEPTH, &addr);
    w_table(w, 1, 0);
    assert_int_equal(verify(w, g + 1, g, grant_id(0, 0), 3, 4, R), -E_GRANT_NOTABLE);
    /* ... and a fault early in an over-long chain wins over the depth. */
    w_clear(w);
    g = make_chain(w, GRANT_MAX_DEPTH + 1, &addr);
    assert_int_equal(verify(w, g + 1, g, grant_id(0, 0), 3, 4, W), -E_GRANT_ACCESS);
    assert_int_equal(w->reads, 1);
}

/* ---- seeded comparison against a reference model ---- */

/*
 * Written from the rules, not from grant_verify.c: recursion instead of a
 * loop, 128-bit sums instead of subtraction tricks, and the depth limit as
 * "links followed", checked when a link is about to be followed.
 */
static int ref_verify(struct world *w, uint32_t caller, uint32_t granter, uint64_t id,
                      uint64_t offset, uint64_t len, uint32_t access, int links,
                      struct grant_target *out, unsigned *reads)
{
    if (granter >= MAX_PID || w->p[granter].slots == 0)
        return -E_GRANT_NOTABLE;
    const struct fproc *p = &w->p[granter];
    uint64_t index = id & 0xffffffffu;
    if (index >= p->slots)
        return -E_GRANT_INDEX;
    ++*reads;
    if (p->unreadable)
        return -E_GRANT_NOTABLE;
    const struct grant_entry *e = &p->tab[index];
    if (!(e->flags & GRANT_F_USED) || !(e->flags & GRANT_F_VALID) || (e->flags & ~GRANT_F_ALL))
        return -E_GRANT_INVALID;
    if (e->gen != (uint32_t)(id >> 32))
        return -E_GRANT_STALE;
    if (e->grantee != caller)
        return -E_GRANT_GRANTEE;
    if (access & ~e->flags)
        return -E_GRANT_ACCESS;
    if ((unsigned __int128)offset + len > e->len)
        return -E_GRANT_RANGE;
    if ((unsigned __int128)e->addr + offset > UINT64_MAX)
        return -E_GRANT_RANGE;
    if (!(e->flags & GRANT_F_INDIRECT)) {
        if ((unsigned __int128)e->addr + offset + len > ((unsigned __int128)1 << 64))
            return -E_GRANT_RANGE; /* the bytes would run past 2^64 */
        out->granter = granter;
        out->addr = e->addr + offset;
        return 0;
    }
    if (links == GRANT_MAX_DEPTH)
        return -E_GRANT_DEPTH;
    return ref_verify(w, granter, e->src_pid, e->src_id, e->addr + offset, len, access, links + 1,
                      out, reads);
}

static uint32_t pick(uint32_t n)
{
    return (uint32_t)(rng() % n);
}

/*
 * Two kinds of world alternate. A sparse one has five processes and any
 * fault can turn up. A dense one has two processes with small tables of
 * mostly valid, read/write, indirect grants, so that long chains and loops
 * (the only way to reach -E_GRANT_DEPTH) are common. Pids 0..rnd_pids-1
 * may have tables; rnd_pids never does.
 */
static uint32_t rnd_pids;
static int rnd_dense;

/* Mostly small values so ranges meet, some at the top so sums overflow. */
static uint64_t rnd_u64(uint64_t small)
{
    switch (pick(rnd_dense ? 32 : 8)) {
    case 0:
        return UINT64_MAX - pick(0x40);
    case 1:
        return pick(2) ? UINT64_MAX : (uint64_t)1 << 63;
    default:
        return pick((uint32_t)small + 1);
    }
}

static void rnd_entry(struct grant_entry *e)
{
    if (rnd_dense) {
        e->flags = UV | (pick(4) ? RW : pick(4) << 2) | (pick(4) ? GRANT_F_INDIRECT : 0);
        e->gen = pick(32) == 0;
        e->grantee = pick(rnd_pids);
        e->src_pid = pick(rnd_pids);
        e->src_id = grant_id(pick(2), 0);
        e->addr = e->flags & GRANT_F_INDIRECT ? pick(3) : rnd_u64(0x10000);
        e->len = pick(8) ? 0x100 + pick(0x100) : rnd_u64(0x100);
    } else {
        e->flags = UV | pick(4) << 2 | (pick(2) ? GRANT_F_INDIRECT : 0);
        if (pick(12) == 0)
            e->flags &= ~(pick(2) ? GRANT_F_USED : GRANT_F_VALID);
        if (pick(16) == 0)
            e->flags |= 1u << (5 + pick(27));
        e->gen = pick(8) == 0;
        e->grantee = pick(rnd_pids + 1);
        e->src_pid = pick(rnd_pids + 1);
        e->src_id = grant_id(pick(5), pick(8) == 0);
        e->addr = rnd_u64(e->flags & GRANT_F_INDIRECT ? 0x40 : 0x10000);
        e->len = rnd_u64(0x100);
    }
    e->reserved = rng();
}

static void rnd_world(struct world *w)
{
    w_clear(w);
    rnd_dense = !rnd_dense;
    rnd_pids = rnd_dense ? 2 : 5;
    for (uint32_t pid = 0; pid < rnd_pids; pid++) {
        if (!rnd_dense && pick(8) == 0)
            continue;
        uint64_t slots = 1 + pick(rnd_dense ? 2 : 4);
        w_table(w, pid, slots);
        w->p[pid].unreadable = pick(rnd_dense ? 64 : 24) == 0;
        for (uint32_t i = 0; i < slots; i++)
            rnd_entry(ent(w, pid, i));
    }
}

static void test_random_vs_reference(void **state)
{
    struct world *w = *state;
    static const uint32_t accesses[] = {R, W, RW};
    unsigned hits[E_MAX] = {0}, indirect_ok = 0;
    rng_state = 0x6772616e74766572ull;
    rnd_dense = 0;
    for (int it = 0; it < 50000; it++) {
        if (it % 4 == 0)
            rnd_world(w);
        /* Now and then a process without a table, or no process at all. */
        uint32_t caller = pick(rnd_pids + 1);
        uint32_t granter = pick(16) == 0 ? (uint32_t)rng() : pick(8) ? pick(rnd_pids) : rnd_pids;
        uint64_t id = pick(16) == 0 ? rng()
                      : rnd_dense   ? grant_id(pick(2), pick(32) == 0)
                                    : grant_id(pick(4), pick(8) == 0);
        uint64_t offset = rnd_u64(rnd_dense ? 0x10 : 0x100);
        uint64_t len = rnd_u64(rnd_dense ? 0x10 : 0x100);
        uint32_t access = accesses[pick(3)];

        struct grant_target want = {0, 0};
        unsigned want_reads = 0;
        int want_rc =
            ref_verify(w, caller, granter, id, offset, len, access, 0, &want, &want_reads);
        int rc = verify(w, caller, granter, id, offset, len, access);
        if (rc != want_rc || w->reads != want_reads ||
            (rc == 0 && (last.granter != want.granter || last.addr != want.addr)))
            fail_msg("iteration %d: caller %u granter %u id %#llx offset %#llx len %#llx "
                     "access %u: got %d (granter %u addr %#llx, %u reads), want %d "
                     "(granter %u addr %#llx, %u reads)",
                     it, caller, granter, (unsigned long long)id, (unsigned long long)offset,
                     (unsigned long long)len, access, rc, last.granter,
                     (unsigned long long)last.addr, w->reads, want_rc, want.granter,
                     (unsigned long long)want.addr, want_reads);
        hits[-rc]++;
        if (rc == 0 && w->reads > 1)
            indirect_ok++;
    }
    print_message("random: ok %u (indirect %u) notable %u index %u invalid %u stale %u "
                  "grantee %u access %u range %u depth %u\n",
                  hits[0], indirect_ok, hits[E_GRANT_NOTABLE], hits[E_GRANT_INDEX],
                  hits[E_GRANT_INVALID], hits[E_GRANT_STALE], hits[E_GRANT_GRANTEE],
                  hits[E_GRANT_ACCESS], hits[E_GRANT_RANGE], hits[E_GRANT_DEPTH]);
    /* The run is only worth something if it reached every outcome. */
    for (int code = E_GRANT_NOTABLE; code <= E_GRANT_DEPTH; code++) {
        if (hits[code] < 20)
            fail_msg("code %d reached only %u times", code, hits[code]);
    }
    if (hits[0] < 500 || indirect_ok < 50)
        fail_msg("too few successes: %u (%u indirect)", hits[0], indirect_ok);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_granter_unknown),
        T(test_granter_no_table),
        T(test_table_unreadable),
        T(test_index_out_of_range),
        T(test_index_in_max_table),
        T(test_entry_not_used),
        T(test_entry_used_not_valid),
        T(test_entry_unknown_flags),
        T(test_generation),
        T(test_not_grantee),
        T(test_access),
        T(test_range_edges),
        T(test_range_overflow),
        T(test_range_address_wraps),
        T(test_direct_success),
        T(test_order_table_checks),
        T(test_order_entry_checks),
        T(test_indirect_success),
        T(test_indirect_link_caller_is_intermediate),
        T(test_indirect_widening_rights),
        T(test_indirect_map_right_and_chain),
        T(test_indirect_widening_range),
        T(test_indirect_offset_overflow),
        T(test_indirect_source_failures),
        T(test_indirect_loop),
        T(test_indirect_depth_limit),
        T(test_random_vs_reference),
    };
    return cmocka_run_group_tests_name("grant", tests, NULL, NULL);
}
