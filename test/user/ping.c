/*
 * ipc.pingpong: 1,000,000 call/reply_recv round trips to "pong" with a full
 * 64-byte message, every reply checked word by word, with its badge (pong's)
 * and no handle (RDX = 0) both ways. Also reports the round
 * trip time: median and minimum over batches of 64 between lfence;rdtsc.
 */
#include <ipc/ipc.h>
#include <ipc/kcall.h>
#include <ipc/measure.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#define ROUNDS  1000000
#define BATCH   64
#define BATCHES (ROUNDS / BATCH)

static uint32_t samples[BATCHES];

int main(void)
{
    long pong = name_lookup_wait("pong", 500);
    if (pong < 0) {
        printf("ping: no pong server: %s\n", ipc_strerror(pong));
        return 1;
    }
    uint64_t bad = 0, errors = 0, seq = 0, before[7], after[7], pong_badge = 0;
    kc_cap_identify((uint64_t)pong, &pong_badge);
    struct ipc_msg m;
    kc_stats(before);
    for (int b = 0; b < BATCHES; b++) {
        uint64_t t0 = measure_rdtsc();
        for (int i = 0; i < BATCH; i++, seq++) {
            m.info = ipc_info(IPC_MSG_BYTES, 7);
            m.cap = 0;
            for (int w = 0; w < IPC_MSG_WORDS; w++)
                m.w[w] = seq * 8 + (uint64_t)w;
            long rc = ipc_call((uint64_t)pong, &m);
            if (rc < 0) {
                errors++;
                continue;
            }
            for (int w = 0; w < IPC_MSG_WORDS; w++)
                bad += m.w[w] != ~(seq * 8 + (uint64_t)w);
            bad += ipc_info_len(m.info) != IPC_MSG_BYTES || ipc_info_label(m.info) != 7;
            bad += m.cap != 0 || m.badge != pong_badge;
        }
        samples[b] = (uint32_t)((measure_rdtsc() - t0) / BATCH);
    }
    kc_stats(after);
    uint64_t khz = 0;
    kc_time(0, 0, &khz, 0, 0);
    /* Every call and every reply should have taken the fast path; a few may
     * not (a timer tick making another thread ready at a higher priority). */
    uint64_t fast_calls = after[0] - before[0], fast_rr = after[1] - before[1];
    printf("ping: fast path: %lu of %d calls, %lu of %d replies\n", fast_calls, ROUNDS, fast_rr,
           ROUNDS);
    int fast_ok = fast_calls >= ROUNDS - ROUNDS / 100 && fast_rr >= ROUNDS - ROUNDS / 100;
    measure_sort(samples, BATCHES);
    uint64_t med = samples[BATCHES / 2], min = samples[0];
    printf("ping: %d round trips, %lu bad words, %lu errors\n", ROUNDS, bad, errors);
    printf("ping: cross-address-space call/reply_recv round trip, 64-byte message: median %lu "
           "cycles (%lu ns), min %lu cycles (%lu ns), over %d batches of %d\n",
           med, khz ? med * 1000000 / khz : 0, min, khz ? min * 1000000 / khz : 0, BATCHES, BATCH);
    return bad || errors || !fast_ok ? 1 : 0;
}
