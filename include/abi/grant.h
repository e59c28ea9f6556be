/*
 * Memory grants (Minix 3 style): a process keeps a table of grants in its
 * own memory and registers it with KC_GRANT_TABLE. A grant says who (the
 * grantee pid) may read and/or write which bytes of the granter's memory.
 * The grantee names it by an id and asks the kernel to copy
 * (SYS_GRANT_COPY_FROM / SYS_GRANT_COPY_TO); docs/grants.md has the rules.
 */
#ifndef ABI_GRANT_H
#define ABI_GRANT_H

#include <stdint.h>

/* clang-format off */
#define GRANT_F_USED     (1u << 0) /* slot holds a grant */
#define GRANT_F_VALID    (1u << 1) /* ... that is complete and may be used */
#define GRANT_F_READ     (1u << 2) /* grantee may copy from it */
#define GRANT_F_WRITE    (1u << 3) /* grantee may copy to it */
#define GRANT_F_INDIRECT (1u << 4) /* passes on a grant the granter was given */
#define GRANT_F_MAP      (1u << 5) /* grantee may map the pages (SYS_GRANT_MAP) */
#define GRANT_F_ALL      0x3fu

#define GRANT_MAX_SLOTS  65536        /* largest table the kernel accepts */
#define GRANT_MAX_DEPTH  4            /* indirect links followed at most */
#define GRANT_COPY_MAX   (16ull << 20) /* bytes per copy call */
#define GRANT_MAP_MAX    (16ull << 20) /* bytes per map call */
#define GRANT_MAPS_MAX   16            /* live mappings per grantee process */
/* clang-format on */

struct grant_entry {
    uint32_t flags;   /* GRANT_F_* */
    uint32_t gen;     /* generation: bumped on revoke; the id must carry it */
    uint32_t grantee; /* pid that may use the grant */
    uint32_t src_pid; /* indirect: the granter of the grant passed on */
    uint64_t addr;    /* direct: first byte; indirect: offset in the source grant */
    uint64_t len;     /* bytes */
    uint64_t src_id;  /* indirect: the grant id in src_pid's table */
    uint64_t reserved;
};
_Static_assert(sizeof(struct grant_entry) == 48, "grant entry layout is ABI");

/* A grant id: slot index in the low half, generation in the high half, so
 * an id kept after a revoke never matches the slot's next grant. */
static inline uint64_t grant_id(uint32_t index, uint32_t gen)
{
    return (uint64_t)gen << 32 | index;
}

static inline uint32_t grant_id_index(uint64_t id)
{
    return (uint32_t)id;
}

static inline uint32_t grant_id_gen(uint64_t id)
{
    return (uint32_t)(id >> 32);
}

/*
 * Copy calls: RAX = SYS_GRANT_COPY_FROM or _TO, RDI = granter pid,
 * RSI = grant id, RDX = offset in the grant, R8 = local address,
 * R9 = length. RAX out: bytes copied, or -E_*: first the grant checks
 * (E_GRANT_*, in the order docs/grants.md gives), then E_RANGE for more
 * than GRANT_COPY_MAX bytes, then E_FAULT for a missing page.
 *
 * Map grants (docs/grants.md, "Map grants"): SYS_GRANT_MAP, RDI = granter
 * pid, RSI = grant id, RDX = offset in the grant, R8 = local address in the
 * map window (abi/layout.h), R9 = length, R10 = 0 (read-only) or
 * GRANT_F_WRITE; offset, address and length whole pages. RAX out: 0 or -E_*.
 * SYS_GRANT_UNMAP, R8 = the local address a mapping starts at: RAX = pages
 * unmapped or -E_NOENT. SYS_GRANT_REVOKE, RSI = an id of the caller's own
 * table: every mapping made through it (directly or down an indirect chain)
 * is removed; RAX = mappings removed. libipc's grant_revoke makes that call
 * after clearing the entry when the grant carried GRANT_F_MAP.
 */

#endif
