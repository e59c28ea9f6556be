/*
 * smp.victim: the partner smp.cross kills in the middle of a call. It
 * answers label 0 with w0 = 1; a call labelled 1 gets no answer while it
 * spins, one labelled 2 none while it waits for another message.
 */
#include <ipc/ipc.h>

int main(void)
{
    struct ipc_msg m = {0};
    long rc = ipc_recv(IPC_ANY, &m);
    for (;;) {
        if (rc < 0)
            return 1;
        uint32_t label = ipc_info_label(m.info);
        if (label == 1)
            for (;;)
                __asm__ volatile("pause");
        if (label == 2) {
            rc = ipc_recv(IPC_ANY, &m);
            continue;
        }
        m.w[0] = 1;
        m.info = ipc_info(8, 0);
        rc = ipc_reply_recv(m.badge, &m);
    }
}
