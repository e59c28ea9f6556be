/*
 * Protocol between the grant test's client (granter) and server (grantee):
 * the client asks the server to use a grant in some way, the server replies
 * with the kernel's status (w0) and a checksum of what it copied (w1).
 */
#ifndef GRANT_PROTO_H
#define GRANT_PROTO_H

#include "testlib.h"

#define GT_BUF (1u << 20) /* 1 MiB buffers on both sides */

/* clang-format off */
#define GT_COPY_FROM     1 /* w1 id, w2 offset, w3 len -> w0 rc, w1 checksum of the bytes */
#define GT_COPY_TO       2 /* w1 id, w2 offset, w3 len, w4 seed, w5 offset in the server's
                            * buffer to copy from -> w0 rc (pattern written) */
#define GT_FROM_UNMAPPED 3 /* w1 id, w3 len: copy into an unmapped local address -> w0 rc */
#define GT_MAKE_INDIRECT 4 /* w1 src pid, w2 src id, w3 offset, w4 len, w5 access -> w0 id */
#define GT_MAKE_DIRECT   5 /* w3 len, w5 access -> w0 id over the server's buffer */
#define GT_REVOKE        6 /* w1 id -> w0 rc */
#define GT_GUARDS        7 /* w3 len: bytes past the last GT_COPY_FROM's len that changed */

/* What both sides fill their buffers with around a copy: not 0, so that a
 * byte written past the end shows even when it is a 0. */
#define GT_GUARD 0xa5
/* clang-format on */

static inline uint8_t gt_pattern(uint64_t seed, uint64_t i)
{
    return (uint8_t)((seed * 131 + i * 7 + (i >> 9)) ^ (i >> 3));
}

#endif
