/*
 * hello: the smallest complete Granite server. It registers "hello" and
 * answers three requests: a greeting in the message itself, "shout",
 * which copies text of any size in and out through grants, and "mirror",
 * a reply of 64 bytes of data.
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#include "hello.h"

static long greet(struct ipc_msg *m)
{
    char name[IPC_INLINE_MAX + 1];
    long n = ipc_msg_data(m, name, IPC_INLINE_MAX);
    if (n < 0)
        return n;
    name[n] = '\0';
    char reply[IPC_INLINE_MAX];
    int len = snprintf(reply, sizeof(reply), "Hello, %s!", name);
    if (len > IPC_INLINE_MAX)
        len = IPC_INLINE_MAX;
    memcpy(&m->w[2], reply, (size_t)len);
    m->w[1] = (uint64_t)len;
    m->info = ipc_info(IPC_MSG_BYTES, 0);
    return 0;
}

static long shout(struct ipc_msg *m)
{
    static char text[64 << 10];
    uint64_t answer = m->w[7]; /* read before ipc_msg_data: inline text may reach w7 */
    if (m->w[1] == 0)
        return -E_INVAL; /* the answer goes back through a grant, so ask with one */
    long n = ipc_msg_data(m, text, sizeof(text));
    if (n < 0)
        return n;
    for (long i = 0; i < n; i++)
        if (text[i] >= 'a' && text[i] <= 'z')
            text[i] = (char)(text[i] - 'a' + 'A');
    return grant_copy_to(badge_pid(m->badge), answer, 0, text, (size_t)n);
}

/* All 64 bytes of the reply are data: the handler writes w0 too. */
static long mirror(struct ipc_msg *m)
{
    uint64_t w[IPC_MSG_WORDS];
    memcpy(w, m->w, sizeof(w));
    for (int i = 0; i < IPC_MSG_WORDS; i++)
        m->w[i] = w[IPC_MSG_WORDS - 1 - i];
    m->info = ipc_info(IPC_MSG_BYTES, 0);
    return SERVER_RAW;
}

static const struct server_op ops[] = {
    {HELLO_GREET, greet},
    {HELLO_SHOUT, shout},
    {HELLO_MIRROR, mirror},
};

int main(void)
{
    struct server s = {.name = "hello", .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}
