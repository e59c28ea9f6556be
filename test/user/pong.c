/*
 * ipc.pong: the server half of the ping-pong test. Registers "pong" and
 * answers every call with each word inverted, so the caller can check that
 * all 64 bytes made the round trip. A call that arrives with a handle (RDX
 * not 0: none is ever sent) is answered with the label + 1, which the
 * caller counts as bad.
 */
#include <ipc/ipc.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

int main(void)
{
    long rc = name_register("pong");
    if (rc < 0) {
        printf("pong: cannot register: %s\n", ipc_strerror(rc));
        return 1;
    }
    struct ipc_msg m = {0};
    rc = ipc_recv(IPC_ANY, &m);
    for (;;) {
        if (rc < 0) { /* neither can fail (docs/abi.md 2.2, 2.5): say so, stop */
            printf("pong: receive failed: %s\n", ipc_strerror(rc));
            return 1;
        }
        for (int i = 0; i < IPC_MSG_WORDS; i++)
            m.w[i] = ~m.w[i];
        m.info = ipc_info(IPC_MSG_BYTES, ipc_info_label(m.info) + (m.cap != 0));
        rc = ipc_reply_recv(m.badge, &m);
    }
}
