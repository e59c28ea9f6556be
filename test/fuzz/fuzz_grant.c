/*
 * libFuzzer target for grant verification (kernel/grant_verify.c): the input
 * decodes to a few processes' grant tables and one copy request; an accepted
 * grant is re-walked here and must really give the caller those bytes.
 *
 * Input layout (bytes past the end read as 0):
 *   query:  caller, granter (pid bytes), id, offset, len (values), access byte
 *   nprocs byte, then per process: pid byte, slots byte, unreadable byte,
 *           and `slots` entries of: flags byte, gen, grantee, src_pid,
 *           addr, len, src_id (values / pid bytes).
 * Pids and values are packed so that small pids, small numbers and numbers
 * near 2^64 (where the overflow checks live) are each one or two bytes away.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>
#include <abi/grant.h>

#include "grant_verify.h"

#define MAX_PROCS 6
#define MAX_SLOTS 16

typedef unsigned __int128 u128;

struct fproc {
    uint32_t pid;
    uint64_t slots;          /* 0: no table */
    int unreadable;          /* registered, but the table's memory is gone */
    struct grant_entry *tab; /* exactly `slots` entries, so ASan sees overreads */
};

struct world {
    struct fproc p[MAX_PROCS];
    unsigned n;
};

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t raw(struct reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

/* Low two bits of the tag pick small / 16-bit / near 2^64 / any value. */
static uint64_t val(struct reader *r)
{
    uint8_t tag = u8(r);
    switch (tag & 3) {
    case 0:
        return tag >> 2;
    case 1:
        return raw(r, 2);
    case 2:
        return UINT64_MAX - (tag >> 2);
    default:
        return raw(r, 8);
    }
}

/* Pids 0..7 cover the processes (and some that do not exist); 0xff brings
 * in a full 32-bit pid so huge ones are tried too. */
static uint32_t pid(struct reader *r)
{
    uint8_t b = u8(r);
    return b == 0xff ? (uint32_t)raw(r, 4) : b & 7;
}

static uint64_t grant_id_val(struct reader *r)
{
    uint64_t index = val(r), gen = val(r);
    return (uint64_t)(uint32_t)gen << 32 | (uint32_t)index;
}

static const struct fproc *find(const struct world *w, uint32_t pid)
{
    for (unsigned i = 0; i < w->n; i++)
        if (w->p[i].pid == pid)
            return &w->p[i];
    return NULL;
}

static uint64_t w_slots(void *ctx, uint32_t pid)
{
    const struct fproc *p = find(ctx, pid);
    return p ? p->slots : 0;
}

static unsigned reads;

static int w_read(void *ctx, uint32_t pid, uint64_t index, struct grant_entry *out)
{
    /* The kernel's read_entry trusts grant_verify to have bounded index by
     * the slot count; reading anything else is a bug in grant_verify. */
    const struct fproc *p = find(ctx, pid);
    if (!p || p->slots == 0 || index >= p->slots)
        abort();
    reads++;
    if (p->unreadable) {
        memset(out, 0xa5, sizeof(*out)); /* a failed user copy leaves junk */
        return -1;
    }
    *out = p->tab[index];
    return 0;
}

/*
 * The rules, re-stated with 128-bit sums and the depth limit counted as
 * links followed. Every link must be used, valid, current, addressed to the
 * previous holder, carry the access and cover the range; only then is the
 * last (direct) entry's granter memory handed out.
 */
static int ref_verify(const struct world *w, uint32_t caller, uint32_t granter, uint64_t id,
                      uint64_t offset, uint64_t len, uint32_t access, struct grant_target *out)
{
    for (int links = 0;; links++) {
        const struct fproc *p = find(w, granter);
        if (!p || p->slots == 0)
            return -E_GRANT_NOTABLE;
        uint32_t index = grant_id_index(id);
        if (index >= p->slots)
            return -E_GRANT_INDEX;
        if (p->unreadable)
            return -E_GRANT_NOTABLE;
        const struct grant_entry *e = &p->tab[index];
        if (!(e->flags & GRANT_F_USED) || !(e->flags & GRANT_F_VALID) || (e->flags & ~GRANT_F_ALL))
            return -E_GRANT_INVALID;
        if (e->gen != grant_id_gen(id))
            return -E_GRANT_STALE;
        if (e->grantee != caller)
            return -E_GRANT_GRANTEE;
        if (access & ~e->flags)
            return -E_GRANT_ACCESS;
        if ((u128)offset + len > e->len || (u128)e->addr + offset > UINT64_MAX)
            return -E_GRANT_RANGE;
        if (!(e->flags & GRANT_F_INDIRECT)) {
            if ((u128)e->addr + offset + len > ((u128)1 << 64))
                return -E_GRANT_RANGE; /* the bytes would run past 2^64 */
            out->granter = granter;
            out->addr = e->addr + offset;
            return 0;
        }
        if (links == GRANT_MAX_DEPTH)
            return -E_GRANT_DEPTH;
        caller = granter;
        granter = e->src_pid;
        offset += e->addr;
        id = e->src_id;
    }
}

/* An accepted grant, walked link by link from the request: it must end at
 * out->granter in a direct entry that covers [out->addr, out->addr + len). */
static void check_success(const struct world *w, uint32_t caller, uint32_t granter, uint64_t id,
                          uint64_t offset, uint64_t len, uint32_t access,
                          const struct grant_target *out)
{
    const struct fproc *g = find(w, out->granter);
    if (!g || g->slots == 0 || g->unreadable)
        abort();
    for (int links = 0; links <= GRANT_MAX_DEPTH; links++) {
        const struct fproc *p = find(w, granter);
        if (!p || p->unreadable || grant_id_index(id) >= p->slots)
            abort();
        const struct grant_entry *e = &p->tab[grant_id_index(id)];
        if ((e->flags & (GRANT_F_USED | GRANT_F_VALID)) != (GRANT_F_USED | GRANT_F_VALID) ||
            (e->flags & ~GRANT_F_ALL) || e->gen != grant_id_gen(id) || e->grantee != caller ||
            (e->flags & access) != access || (u128)offset + len > e->len)
            abort();
        if (!(e->flags & GRANT_F_INDIRECT)) {
            u128 start = (u128)e->addr + offset;
            if (granter != out->granter || start != out->addr)
                abort();
            /* The bytes handed out are within the entry's bytes. */
            if (out->addr < e->addr || (u128)out->addr + len > (u128)e->addr + e->len)
                abort();
            return;
        }
        if ((u128)e->addr + offset > UINT64_MAX)
            abort();
        caller = granter;
        granter = e->src_pid;
        offset += e->addr;
        id = e->src_id;
    }
    abort(); /* more links than GRANT_MAX_DEPTH were accepted */
}

static void decode_world(struct reader *r, struct world *w)
{
    unsigned n = u8(r) % (MAX_PROCS + 1);
    for (unsigned i = 0; i < n; i++) {
        uint32_t id = pid(r);
        uint64_t slots = u8(r) % (MAX_SLOTS + 1);
        int unreadable = (u8(r) & 0x0f) == 0x0f;
        struct grant_entry *tab = slots ? calloc(slots, sizeof(*tab)) : NULL;
        for (uint64_t k = 0; k < slots; k++) {
            struct grant_entry *e = &tab[k];
            uint8_t f = u8(r);
            /* The top bit of the flags byte reaches the flags word's top bit. */
            e->flags = (f & 0x7f) | (uint32_t)(f & 0x80) << 24;
            e->gen = (uint32_t)val(r);
            e->grantee = pid(r);
            e->src_pid = pid(r);
            e->addr = val(r);
            e->len = val(r);
            e->src_id = grant_id_val(r);
        }
        if (find(w, id)) { /* pids are unique: a repeated one is dropped */
            free(tab);
            continue;
        }
        w->p[w->n++] = (struct fproc){id, slots, unreadable, tab};
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    uint32_t caller = pid(&r), granter = pid(&r);
    uint64_t id = grant_id_val(&r), offset = val(&r), len = val(&r);
    /* The kernel only ever asks for one of these (copy from / copy to);
     * both at once is the strictest request. */
    static const uint32_t accesses[3] = {GRANT_F_READ, GRANT_F_WRITE, GRANT_F_READ | GRANT_F_WRITE};
    uint32_t access = accesses[u8(&r) % 3];

    struct world w = {0};
    decode_world(&r, &w);

    struct grant_source src = {w_slots, w_read, &w};
    struct grant_target out = {0xdeadbeef, 0xdeadbeef}, want = {0, 0};
    reads = 0;
    int rc = grant_verify(&src, caller, granter, id, offset, len, access, &out);
    int ref = ref_verify(&w, caller, granter, id, offset, len, access, &want);

    /* Each link costs one read, and at most GRANT_MAX_DEPTH links follow. */
    if (reads > GRANT_MAX_DEPTH + 1)
        abort();
    if (rc != ref)
        abort();
    if (rc == 0) {
        if (out.granter != want.granter || out.addr != want.addr)
            abort();
        check_success(&w, caller, granter, id, offset, len, access, &out);
    } else if (rc < -E_GRANT_DEPTH || rc > -E_GRANT_NOTABLE) {
        abort();
    }

    for (unsigned i = 0; i < w.n; i++)
        free(w.p[i].tab);
    return 0;
}
