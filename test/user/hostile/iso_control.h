/*
 * The controller's side of iso_proto.h, shared by hostile.isolation and
 * hostile.noisy_neighbour: start agents, give them orders, collect their
 * results; plus the checks and figures both tests use.
 */
#ifndef ISO_CONTROL_H
#define ISO_CONTROL_H

#include <ipc/kcall.h>

struct agent {
    const char *module;
    long handle; /* its main thread */
    uint32_t pid;
    uint64_t badge;            /* its ISO_READY call we have not answered yet */
    uint64_t r[IPC_MSG_WORDS]; /* the results it reported (all ones: none) */
};

/* Checks that failed so far; check() prints "CHECK name PASS|FAIL: detail". */
extern int check_failures;
void check(const char *name, int ok, const char *detail);

/* Spawn a's module at prio with budget (0: the default) and wait for its
 * first ISO_READY. Returns 0 or an error. */
long agent_start(struct agent *a, uint32_t prio, const struct kc_budget *budget);

/* Wait (at most a minute) for a's next ISO_READY and keep its results. */
long agent_await(struct agent *a);

/* Whether a has reported meanwhile (its results are then in a->r) or can
 * no longer report (it died: a->r all ones, a->badge 0). */
int agent_poll(struct agent *a);

/* Give a its next order: w1, w2, a name (in w1..w3, or w2..w4 when w1 is
 * not 0), and a handle when cap > 0. */
void agent_order(struct agent *a, uint32_t what, uint64_t w1, uint64_t w2, const char *name,
                 long cap);

/* agent_order, then agent_await. */
long agent_run(struct agent *a, uint32_t what, uint64_t w1, uint64_t w2, const char *name);

/* Order a to exit and wait for its death; then its handle goes. */
void agent_end(struct agent *a);

int proc_info_of(uint32_t pid, struct kc_proc_info *out);
uint32_t pid_of(const char *name);
long handles_of(uint32_t pid); /* -1: no such process */

/* Free kernel frames, processes, threads, free pool pages. */
void system_snapshot(uint64_t out[4]);

/* Wait (at most 5 s, for the memory server to hear of deaths) until the
 * snapshot equals `before`; leaves the last one in `after`. */
int system_back_to(const uint64_t before[4], uint64_t after[4]);

#endif
