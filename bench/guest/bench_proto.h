/*
 * How the benchmark coordinator (bench.c) drives its helper processes:
 * each helper calls its parent for orders, the reply says what to be.
 */
#ifndef BENCH_PROTO_H
#define BENCH_PROTO_H

#include <stdint.h>

/* clang-format off */
#define BENCH_ORDERS 1 /* helper -> coordinator: what now? */
#define BENCH_READY  2 /* helper -> coordinator: set up; w1 = grant id, w2 = thread slot */

/* Orders (reply label) for bench.srv */
#define SRV_ECHO       1 /* w1 = reply info: serve call/reply_recv forever */
#define SRV_FLOOR      2 /* w1 = caller's thread slot: floor-switch partner */
#define SRV_GRANT      3 /* w1 = live grants wanted: grant our buffer to the caller */
#define SRV_DATA       4 /* serve ipc_call_data requests of any size */
#define SRV_NOTIFY     5 /* notification partner of our parent */

/* Orders for bench.client: w1 = round trips to run (0: exit); the reply
 * carries the server's handle (IPC_INFO_CAP) the first time. */
#define CLIENT_GO      1
/* clang-format on */

#define BENCH_BUF (1u << 20)

long bench_call_loop(uint64_t handle, uint64_t info, uint64_t n);
void bench_echo_loop(void *reply_info); /* a thread entry: the info word as a pointer */
long bench_nr_loop(uint64_t nr, uint64_t n);
void bench_int80_loop(uint64_t n);
void bench_ud2_loop(uint64_t n);
void bench_floor_loop(uint32_t partner_slot, uint64_t n);
void bench_floor_partner(void *caller_slot);
void bench_notify_loop(uint64_t handle, uint64_t n);
void bench_notify_partner(uint64_t handle);

#endif
