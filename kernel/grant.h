/*
 * Grant copies (SYS_GRANT_COPY_FROM/TO) and grant-table registration
 * (KC_GRANT_TABLE); their handlers are declared in calls_gen.h. The checks
 * are in grant_verify.h.
 */
#ifndef GRANT_H
#define GRANT_H

#include "grant_verify.h"
#include "proc.h"

/* grant_verify_chain over the grant tables in the granters' own memory;
 * on success *g is the process the bytes are in (t->granter's). */
int grant_verify_kernel(uint32_t caller, uint32_t granter, uint64_t id, uint64_t offset,
                        uint64_t len, uint32_t access, struct grant_target *t,
                        struct grant_link *links, uint32_t *nlinks, struct proc **g);

/* SYS_GRANT_COPY_FROM (nr) or _TO for the current thread, called by
 * entry.S's lean path with the call's registers as arguments (RDI, RSI,
 * RDX, MR0, MR1); the same as sys_grant_copy_from/_to. */
long grant_copy_lean(uint32_t granter, uint64_t id, uint64_t offset, uint64_t local, uint64_t len,
                     uint64_t nr);

#endif
