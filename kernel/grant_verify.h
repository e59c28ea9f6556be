/*
 * Grant verification, Minix's verify_grant order. Pure logic: the kernel
 * (grant.c) and the host tests supply how a granter's table is found and
 * how one entry is read, so every branch can be tested on the host.
 */
#ifndef GRANT_VERIFY_H
#define GRANT_VERIFY_H

#include <abi/errno.h>
#include <abi/grant.h>
#include <stdint.h>

struct grant_source {
    /* Slots of pid's registered table: > 0, 0 when there is none (or the
     * process does not exist). */
    uint64_t (*table_slots)(void *ctx, uint32_t pid);
    /* Read entry `index` of pid's table; 0 on success, < 0 if the table's
     * memory cannot be read. Called only right after table_slots of the
     * same pid returned more than index (the kernel keeps the process it
     * found there). */
    int (*read_entry)(void *ctx, uint32_t pid, uint64_t index, struct grant_entry *out);
    void *ctx;
};

struct grant_target {
    uint32_t granter; /* whose memory the bytes are in (after indirection) */
    uint64_t addr;    /* first byte there */
};

/* One grant of a chain: whose table, which id. */
struct grant_link {
    uint32_t pid;
    uint64_t id;
};

/*
 * May `caller` copy `len` bytes at `offset` of grant `id` of `granter`,
 * reading (GRANT_F_READ) or writing (GRANT_F_WRITE)? Checks, in order:
 * granter has a table, index in range, entry in use and valid, generation,
 * grantee, access, overflow-safe range; an indirect grant is followed to
 * its source (at most GRANT_MAX_DEPTH links), each link checked the same
 * way with the intermediate granter as the caller. Returns 0 and fills
 * *out, or the first failing check's -E_GRANT_* code.
 */
int grant_verify(const struct grant_source *src, uint32_t caller, uint32_t granter, uint64_t id,
                 uint64_t offset, uint64_t len, uint32_t access, struct grant_target *out);

/* grant_verify that also records the grants the check went through, the
 * caller's first: links[0 .. *nlinks - 1], at most GRANT_MAX_DEPTH + 1
 * (map grants keep it, so that revoking any link finds the mapping). */
int grant_verify_chain(const struct grant_source *src, uint32_t caller, uint32_t granter,
                       uint64_t id, uint64_t offset, uint64_t len, uint32_t access,
                       struct grant_target *out, struct grant_link *links, uint32_t *nlinks);

/* The body of both, inline: with a source known where it is called, its
 * two callbacks are inlined too (the kernel's copy path, which must not
 * pay for indirect calls; docs/benchmarks.md). Each entry is read once
 * into a local copy, so a granter rewriting its table concurrently cannot
 * make a check pass on one value and the copy use another. */
static inline __attribute__((always_inline)) int
grant_verify_inline(const struct grant_source *src, uint32_t caller, uint32_t granter, uint64_t id,
                    uint64_t offset, uint64_t len, uint32_t access, struct grant_target *out,
                    struct grant_link *links, uint32_t *nlinks)
{
    for (int depth = 0;; depth++) {
        if (depth > GRANT_MAX_DEPTH)
            return -E_GRANT_DEPTH; /* too long a chain, or a loop */
        uint64_t slots = src->table_slots(src->ctx, granter);
        if (slots == 0)
            return -E_GRANT_NOTABLE;
        uint64_t index = grant_id_index(id);
        if (index >= slots)
            return -E_GRANT_INDEX;
        struct grant_entry e;
        if (src->read_entry(src->ctx, granter, index, &e) < 0)
            return -E_GRANT_NOTABLE; /* the table itself is not readable */
        if ((e.flags & (GRANT_F_USED | GRANT_F_VALID)) != (GRANT_F_USED | GRANT_F_VALID) ||
            (e.flags & ~GRANT_F_ALL))
            return -E_GRANT_INVALID;
        if (e.gen != grant_id_gen(id))
            return -E_GRANT_STALE;
        if (e.grantee != caller)
            return -E_GRANT_GRANTEE;
        if ((e.flags & access) != access)
            return -E_GRANT_ACCESS;
        if (offset > e.len || len > e.len - offset)
            return -E_GRANT_RANGE;
        if (links) {
            links[depth] = (struct grant_link){granter, id};
            *nlinks = (uint32_t)depth + 1;
        }
        if (!(e.flags & GRANT_F_INDIRECT)) {
            /* The bytes must not run past the top of the address space:
             * neither their start nor their end may wrap. */
            uint64_t addr = e.addr + offset;
            if (addr < e.addr || (len && len - 1 > UINT64_MAX - addr))
                return -E_GRANT_RANGE;
            out->granter = granter;
            out->addr = addr;
            return 0;
        }
        /* Indirect: this granter passes on bytes of a grant it holds. The
         * next link must grant *it* at least the same access and range. */
        if (e.addr + offset < e.addr)
            return -E_GRANT_RANGE;
        offset += e.addr;
        caller = granter;
        granter = e.src_pid;
        id = e.src_id;
    }
}

#endif
