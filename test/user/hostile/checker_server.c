/*
 * hostile.checker_server: the server half of the checker pair, answering
 * with values the client can predict exactly.
 */
#include <ipc/grant.h>
#include <ipc/server.h>

#include "checker_proto.h"

static long echo(struct ipc_msg *m)
{
    for (int i = 1; i < IPC_MSG_WORDS; i++)
        m->w[i] ^= CHK_KEY;
    m->info = ipc_info(IPC_MSG_BYTES, 0);
    return 0;
}

static long sum(struct ipc_msg *m)
{
    static uint8_t buf[8192];
    long n = ipc_msg_data(m, buf, sizeof(buf));
    if (n < 0)
        return n;
    m->w[1] = test_checksum(buf, (uint64_t)n);
    m->info = ipc_info(16, 0);
    return n;
}

static const struct server_op ops[] = {
    {CHK_ECHO, echo},
    {CHK_SUM, sum},
};

int main(void)
{
    struct server s = {.name = "checker", .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}
