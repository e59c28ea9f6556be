/*
 * Grant verification, Minix's verify_grant order. Pure logic: the kernel
 * (grant.c) and the host tests supply how a granter's table is found and
 * how one entry is read, so every branch can be tested on the host.
 */
#ifndef GRANT_VERIFY_H
#define GRANT_VERIFY_H

#include <abi/grant.h>
#include <stdint.h>

struct grant_source {
    /* Slots of pid's registered table: > 0, 0 when there is none (or the
     * process does not exist). */
    uint64_t (*table_slots)(void *ctx, uint32_t pid);
    /* Read entry `index` of pid's table; 0 on success, < 0 if the table's
     * memory cannot be read. */
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

#endif
