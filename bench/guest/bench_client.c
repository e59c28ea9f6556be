/*
 * bench.client: one of many clients calling the same server, for the
 * "how cost grows with clients" figure. It asks the coordinator for a
 * number of round trips, runs them against the server whose handle it was
 * given, and asks again; 0 round trips means exit.
 */
#include <ipc/ipc.h>

#include "bench_proto.h"

int main(void)
{
    uint64_t server = 0;
    for (;;) {
        struct ipc_msg m = ipc_msg_make(BENCH_ORDERS, 1);
        if (!server)
            m.info |= IPC_INFO_ACCEPT; /* the first orders bring the server's handle */
        if (ipc_call(HANDLE_PARENT, &m) < 0)
            return 1;
        if ((m.info & IPC_INFO_CAP) && (int64_t)m.cap > 0)
            server = m.cap;
        if (m.w[1] == 0)
            return 0;
        bench_call_loop(server, ipc_info(IPC_MSG_BYTES, 0), m.w[1]);
    }
}
