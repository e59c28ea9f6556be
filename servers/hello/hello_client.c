/*
 * hello-client: the client half of the example. Finds "hello" by name,
 * asks for a greeting, then has 2000 bytes shouted back through grants.
 * Exits 0 when both answers are right.
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "hello.h"

int main(void)
{
    long hello = name_lookup_wait("hello", 500);
    if (hello < 0) {
        printf("hello-client: no hello server: %s\n", ipc_strerror(hello));
        return 1;
    }

    struct ipc_msg m;
    long rc = ipc_call_data((uint64_t)hello, HELLO_GREET, "Granite", 7, &m);
    if (rc < 0 || (long)m.w[0] < 0) {
        printf("hello-client: greeting failed: %s\n", ipc_strerror(rc < 0 ? rc : (long)m.w[0]));
        return 1;
    }
    char greeting[IPC_INLINE_MAX + 1] = {0};
    memcpy(greeting, &m.w[2], m.w[1] < IPC_INLINE_MAX ? m.w[1] : IPC_INLINE_MAX);
    printf("hello-client: the server says \"%s\"\n", greeting);

    /* Shout: the text goes out through a read grant (ipc_call_data makes
     * it), the answer comes back through a write grant we make here. */
    static char text[2000], loud[2000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = "granite microkernel "[i % 20];
    int64_t answer =
        grant_create((uint32_t)ipc_handle_pid((uint64_t)hello), loud, sizeof(loud), GRANT_F_WRITE);
    struct ipc_msg req = ipc_msg_make(HELLO_SHOUT, IPC_MSG_WORDS);
    long pid = ipc_handle_pid((uint64_t)hello);
    int64_t question = grant_create((uint32_t)pid, text, sizeof(text), GRANT_F_READ);
    req.w[0] = sizeof(text);
    req.w[1] = (uint64_t)question;
    req.w[7] = (uint64_t)answer;
    rc = ipc_call_status((uint64_t)hello, &req);
    grant_revoke((uint64_t)question);
    grant_revoke((uint64_t)answer);
    int ok = rc == (long)sizeof(text);
    for (size_t i = 0; ok && i < sizeof(text); i++)
        ok = loud[i] == (text[i] >= 'a' && text[i] <= 'z' ? text[i] - 'a' + 'A' : text[i]);
    printf("hello-client: shout of %zu bytes through grants: %s\n", sizeof(text),
           ok ? "ok" : "WRONG");
    return ok && strcmp(greeting, "Hello, Granite!") == 0 ? 0 : 1;
}
