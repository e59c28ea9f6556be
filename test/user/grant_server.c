/*
 * grant.server: the grantee side of the grant test. It performs whatever
 * use of a grant the client asks for and reports the kernel's answer.
 */
#include <ipc/grant.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#include "grant_proto.h"

static uint8_t buf[GT_BUF] __attribute__((aligned(4096))); /* offsets below are page offsets */

static long serve(struct ipc_msg *m)
{
    uint32_t client = badge_pid(m->badge);
    uint64_t id = m->w[1], off = m->w[2], len = m->w[3];
    long rc = -E_NOSYS;
    uint64_t sum = 0;
    switch (ipc_info_label(m->info)) {
    case GT_COPY_FROM:
        for (uint64_t i = 0; i < GT_BUF; i++)
            buf[i] = GT_GUARD;
        rc = grant_copy_from(client, id, off, buf, len);
        if (rc > 0)
            sum = test_checksum(buf, (uint64_t)rc);
        break;
    case GT_COPY_TO:
        /* From buf + w5; around the bytes, bytes that differ from the
         * client's guard bytes. */
        for (uint64_t i = 0; i < GT_BUF; i++)
            buf[i] = i >= m->w[5] && i - m->w[5] < len ? gt_pattern(m->w[4], i - m->w[5])
                                                       : (uint8_t)~GT_GUARD;
        rc = m->w[5] < GT_BUF ? grant_copy_to(client, id, off, buf + m->w[5], len) : -E_RANGE;
        break;
    case GT_FROM_UNMAPPED:
        rc = grant_copy_from(client, id, 0, (void *)0x3000000000ull, len);
        break;
    case GT_MAKE_INDIRECT:
        rc = grant_create_indirect(client, (uint32_t)m->w[1], m->w[2], m->w[3], m->w[4],
                                   (uint32_t)m->w[5]);
        break;
    case GT_MAKE_DIRECT:
        for (uint64_t i = 0; i < GT_BUF; i++)
            buf[i] = gt_pattern(99, i);
        rc = grant_create(client, buf, len, (uint32_t)m->w[5]);
        break;
    case GT_REVOKE:
        rc = grant_revoke(id);
        break;
    case GT_GUARDS: /* after a GT_COPY_FROM of len bytes into buf */
        rc = 0;
        for (uint64_t i = len; i < GT_BUF; i++)
            rc += buf[i] != GT_GUARD;
        break;
    }
    m->info = ipc_info(16, 0);
    m->w[1] = sum;
    return rc;
}

static const struct server_op ops[] = {
    {GT_COPY_FROM, serve},     {GT_COPY_TO, serve},     {GT_FROM_UNMAPPED, serve},
    {GT_MAKE_INDIRECT, serve}, {GT_MAKE_DIRECT, serve}, {GT_REVOKE, serve},
    {GT_GUARDS, serve},
};

int main(void)
{
    struct server s = {.name = "grant.server", .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}
