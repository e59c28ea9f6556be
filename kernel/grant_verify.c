/*
 * Grant verification, out of line, for callers that need not inline it
 * (the map path, the host tests, the fuzzer). The checks themselves are
 * grant_verify_inline in grant_verify.h.
 */
#include "grant_verify.h"

int grant_verify_chain(const struct grant_source *src, uint32_t caller, uint32_t granter,
                       uint64_t id, uint64_t offset, uint64_t len, uint32_t access,
                       struct grant_target *out, struct grant_link *links, uint32_t *nlinks)
{
    return grant_verify_inline(src, caller, granter, id, offset, len, access, out, links, nlinks);
}

int grant_verify(const struct grant_source *src, uint32_t caller, uint32_t granter, uint64_t id,
                 uint64_t offset, uint64_t len, uint32_t access, struct grant_target *out)
{
    return grant_verify_chain(src, caller, granter, id, offset, len, access, out, 0, 0);
}
