/*
 * hostile.checker: keeps exchanging messages with its server while the
 * fuzzer, the grant attacks and the exhaustion test run, and checks every
 * word and every checksum. Any difference is a corrupted message, any
 * failed call a lost one; both must stay 0. It runs until the other hostile
 * programs are gone (and at least 50,000 rounds).
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "checker_proto.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
    return test_rand(&rng);
}

static int others_running(void)
{
    return kc_process_running("hostile.fuzz") || kc_process_running("hostile.grant_attacks") ||
           kc_process_running("hostile.exhaustion");
}

int main(void)
{
    long h = name_lookup_wait("checker", 500);
    if (h < 0) {
        printf("checker: no checker server: %s\n", ipc_strerror(h));
        return 1;
    }
    static uint8_t data[4096];
    uint64_t rounds = 0, bytes = 0, corrupted = 0, lost = 0, start = 0, now = 0;
    kc_time(&start, 0, 0, 0, 0);
    for (;; rounds++) {
        if (rounds % 1024 == 0) {
            if (rounds >= 50000 && !others_running())
                break;
            kc_time(&now, 0, 0, 0, 0);
            if (now - start > 24000)
                break; /* 240 s: a bound, in case something never ends */
        }
        struct ipc_msg m = ipc_msg_make(CHK_ECHO, IPC_MSG_WORDS);
        uint64_t sent[IPC_MSG_WORDS];
        for (int i = 0; i < IPC_MSG_WORDS; i++)
            sent[i] = m.w[i] = next();
        long rc = ipc_call((uint64_t)h, &m);
        if (rc < 0 || m.w[0] != 0) {
            lost++;
        } else {
            for (int i = 1; i < IPC_MSG_WORDS; i++)
                corrupted += m.w[i] != (sent[i] ^ CHK_KEY);
            corrupted += m.badge == 0 || ipc_info_len(m.info) != IPC_MSG_BYTES;
        }
        if (rounds % 16 == 0) { /* through a grant too */
            uint64_t n = 65 + next() % (sizeof(data) - 65);
            for (uint64_t i = 0; i < n; i++)
                data[i] = (uint8_t)next();
            rc = ipc_call_data((uint64_t)h, CHK_SUM, data, n, &m);
            if (rc < 0 || (long)m.w[0] != (long)n)
                lost++;
            else if (m.w[1] != test_checksum(data, n))
                corrupted++;
            bytes += n;
        }
    }
    printf("checker: %lu messages and %lu bytes through grants checked: %lu corrupted, %lu lost\n",
           rounds, bytes, corrupted, lost);
    return corrupted || lost ? 1 : 0;
}
