/*
 * bench.srv: the benchmark's partner in another address space. It asks the
 * coordinator (its parent) what to be, then becomes it until killed.
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/stdio.h>

#include "bench_proto.h"

static uint8_t buf[BENCH_BUF] __attribute__((aligned(4096))); /* mappable */
static struct grant_entry big_table[4096];

static void serve_data(void)
{
    struct ipc_msg m = {0};
    long rc = ipc_recv(IPC_ANY, &m);
    for (;;) {
        if (rc == 0) {
            /* The data as libipc delivers it (mapped or copied), each of
             * its pages read once. */
            struct ipc_view v;
            long n = ipc_msg_view(&m, &v, buf, sizeof(buf));
            uint64_t sum = 0;
            for (size_t i = 0; n > 0 && i < v.len; i += 4096)
                sum += ((const volatile uint8_t *)v.data)[i];
            ipc_view_end(&v);
            m.info = ipc_info(16, 0);
            m.w[0] = (uint64_t)n;
            m.w[1] = sum;
        } else {
            m.info = 0;
        }
        rc = rc == 0 ? ipc_reply_recv(m.badge, &m) : ipc_recv(IPC_ANY, &m);
    }
}

int main(void)
{
    uint32_t tid;
    kc_self(0, &tid, 0, 0);
    struct ipc_msg m = ipc_msg_make(BENCH_ORDERS, 1);
    if (ipc_call(HANDLE_PARENT, &m) < 0)
        return 1;
    uint32_t order = ipc_info_label(m.info);
    uint64_t arg = m.w[1];
    switch (order) {
    case SRV_ECHO:
        bench_echo_loop((void *)arg);
        break;
    case SRV_FLOOR:
        bench_floor_partner((void *)arg);
        break;
    case SRV_GRANT: {
        /* Fill the table with arg - 1 live grants first, so the benchmark
         * sees whether a copy costs more with a full table. */
        grant_table_init(big_table, 4096);
        long parent = ipc_handle_pid(HANDLE_PARENT);
        for (uint64_t i = 1; i < arg; i++)
            grant_create(0x7fffffff, buf, 64, GRANT_F_READ);
        memset(buf, 0xa5, sizeof(buf));
        int64_t id = grant_create((uint32_t)parent, buf, sizeof(buf),
                                  GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP);
        m = ipc_msg_make(BENCH_READY, 3);
        m.w[1] = (uint64_t)id;
        ipc_call(HANDLE_PARENT, &m);
        for (;;)
            kc_sleep(1000);
    }
    case SRV_DATA:
        serve_data();
        break;
    case SRV_NOTIFY:
        bench_notify_partner(HANDLE_PARENT);
        break;
    }
    return 1;
}
