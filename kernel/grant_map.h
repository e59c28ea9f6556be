/*
 * Map grants (SYS_GRANT_MAP, SYS_GRANT_UNMAP, SYS_GRANT_REVOKE): a grantee
 * maps the pages of a grant carrying GRANT_F_MAP into its map window. Each
 * mapping is recorded in the grantee's process slot with the chain of
 * grants it came through, so that revoking any of them, the death of any
 * process on the chain, or the granter unmapping the pages removes it.
 */
#ifndef GRANT_MAP_H
#define GRANT_MAP_H

#include <abi/grant.h>
#include <stdint.h>

#include "grant_verify.h"

struct proc;
struct thread;

/* One mapping in a grantee's window; pages == 0: the record is free. */
struct grant_map {
    uint64_t va;     /* first page in the grantee's map window */
    uint64_t src_va; /* first page in the granter's space (the chain's last link) */
    uint32_t pages;
    uint8_t nlinks; /* links[0]: the grant the grantee named; links[nlinks - 1]: the direct one */
    uint8_t write;
    uint16_t reserved;
    struct grant_link links[GRANT_MAX_DEPTH + 1];
};

/* p is about to lose [va, va + pages * 4 KiB) of its own memory (an unmap,
 * a thread's stack): every mapping of those pages in a grantee's window
 * goes first, so no grantee keeps a frame that is about to be reused. */
void grant_map_source_gone(struct proc *p, uint64_t va, uint64_t pages);

/* p is dying: its own mappings go, and so does every mapping whose chain
 * names p (it granted or passed on the pages). Precondition: p's pid and
 * address space are still valid. */
void grant_map_proc_dying(struct proc *p);

#endif
