/*
 * Grant verification (see grant_verify.h). Each entry is read once into a
 * local copy, so a granter rewriting its table concurrently cannot make a
 * check pass on one value and the copy use another.
 */
#include "grant_verify.h"

#include <abi/errno.h>

int grant_verify_chain(const struct grant_source *src, uint32_t caller, uint32_t granter,
                       uint64_t id, uint64_t offset, uint64_t len, uint32_t access,
                       struct grant_target *out, struct grant_link *links, uint32_t *nlinks)
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

int grant_verify(const struct grant_source *src, uint32_t caller, uint32_t granter, uint64_t id,
                 uint64_t offset, uint64_t len, uint32_t access, struct grant_target *out)
{
    return grant_verify_chain(src, caller, granter, id, offset, len, access, out, 0, 0);
}
