/*
 * cpu.fpu_a, cpu.fpu_b: floating point in two processes at once, with two
 * computing threads each (built with FPU flags: the compiler uses SSE and,
 * for long double, x87). Every round each thread
 *  - computes results known exactly in advance (sums of squares in
 *    doubles, sums in long double, 1/10 and 1/3 whose last bits depend on
 *    the thread's own rounding mode and precision, an AVX addition where
 *    the CPU has it);
 *  - fills x87, MXCSR, XMM and YMM with its own pattern and keeps it there
 *    while it is preempted (the witness thread ran: the timer took the CPU
 *    from it), while it sleeps, and across an IPC call to another process,
 *    then checks every register.
 * Thread 1 of each process runs with round-toward-zero (MXCSR) and 53-bit
 * x87 precision, thread 0 with the defaults, so a control word that
 * travelled between threads would show in the results.
 */
#include <common/string.h>
#include <ipc/name.h>

#include "cpulib.h"
#include "fpu_regs.h"

#define ROUNDS 8
#define N      20000

#define GENERAL_REGS_ONLY __attribute__((target("general-regs-only")))

struct worker {
    int index;
    uint64_t seed;
    int rz; /* round toward zero, 53-bit x87 precision */
    uint64_t bad_results, bad_preempted, bad_sleep, bad_ipc;
    volatile int done;
    struct fpu_regs in, out;
};

static struct worker workers[2];
static int avx;

static uint16_t worker_fcw(const struct worker *w)
{
    return w->rz ? 0x0e7f : FCW_INIT; /* RC = toward zero, PC = 53 bits */
}

static uint32_t worker_mxcsr(const struct worker *w)
{
    return w->rz ? 0x7f80 : MXCSR_INIT; /* RC = toward zero */
}

static volatile double one = 1.0, ten = 10.0;
static volatile long double lone = 1.0L, lthree = 3.0L;

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static uint64_t mantissa(long double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

/* Every result exact and known, under the worker's own modes. */
static int results_ok(const struct worker *w)
{
    double squares = 0;
    long double sum = 0;
    for (int k = 1; k <= N; k++) {
        double x = (double)k;
        squares += x * x;
        sum += (long double)k;
    }
    int ok = squares == (double)((int64_t)N * (N + 1) * (2 * N + 1) / 6);
    ok = ok && sum == (long double)((int64_t)N * (N + 1) / 2);
    ok = ok && bits(one / ten) == (w->rz ? 0x3fb9999999999999ull : 0x3fb999999999999aull);
    ok = ok && mantissa(lone / lthree) == (w->rz ? 0xaaaaaaaaaaaaa800ull : 0xaaaaaaaaaaaaaaabull);
    if (avx) {
        static const double a[4] = {1.5, 2.5, -3.0, 1e100}, b[4] = {0.25, -2.5, 7.0, 1e100};
        double c[4] __attribute__((aligned(32)));
        __asm__ volatile("vmovupd %1, %%ymm0; vaddpd %2, %%ymm0, %%ymm0; vmovupd %%ymm0, %0"
                         : "=m"(c)
                         : "m"(a), "m"(b)
                         : "xmm0");
        ok = ok && c[0] == 1.75 && c[1] == 0.0 && c[2] == 4.0 && c[3] == 2e100;
    }
    return ok;
}

/* The waits run between loading a pattern and checking it: general
 * registers only, and nothing but out-of-line libipc calls (libipc is
 * built without FPU code). */
GENERAL_REGS_ONLY static void wait_preempted(void *arg)
{
    (void)arg;
    uint64_t seen = witness_count;
    while (witness_count == seen)
        ;
}

GENERAL_REGS_ONLY static void wait_sleep(void *arg)
{
    (void)arg;
    kc_sleep(1);
}

GENERAL_REGS_ONLY static void wait_ipc(void *arg)
{
    (void)arg;
    name_lookup("cpu.nobody"); /* a call to the boot server, answered -E_NOENT */
}

static uint64_t hold(struct worker *w, uint64_t seed, void (*wait)(void *))
{
    fpu_regs_pattern(&w->in, seed, worker_fcw(w), worker_mxcsr(w));
    memset(&w->out, 0, sizeof(w->out));
    fpu_regs_hold(&w->in, &w->out, avx, wait, 0);
    __asm__ volatile("emms"); /* the pattern filled the x87 stack: empty it for C code */
    return fpu_regs_diff(&w->in, &w->out, avx) != 0;
}

static void work(struct worker *w)
{
    uint16_t fcw = worker_fcw(w);
    uint32_t mxcsr = worker_mxcsr(w);
    __asm__ volatile("fldcw %0; ldmxcsr %1" ::"m"(fcw), "m"(mxcsr));
    for (int r = 0; r < ROUNDS; r++) {
        w->bad_results += !results_ok(w);
        uint64_t seed = w->seed * 1000 + (uint64_t)r * 4;
        w->bad_preempted += hold(w, seed, wait_preempted);
        w->bad_sleep += hold(w, seed + 1, wait_sleep);
        w->bad_ipc += hold(w, seed + 2, wait_ipc);
        w->bad_results += !results_ok(w);
    }
    w->done = 1;
}

static void second_worker(void *arg)
{
    work(arg);
}

int main(void)
{
    char args[64], name[48];
    kc_args(args, sizeof(args));
    const char *s = strstr(args, "tag=");
    char tag = s ? s[4] : '?';
    avx = fpu_has_avx();
    printf("fpu_%c: x87, SSE%s\n", tag, avx ? ", AVX" : " (no AVX on this CPU)");
    for (int i = 0; i < 2; i++) {
        workers[i].index = i;
        workers[i].seed = (uint64_t)tag * 2 + (uint64_t)i;
        workers[i].rz = i;
    }
    if (witness_start() < 0 || thread_create(second_worker, &workers[1], 0) < 0) {
        printf("fpu_%c: cannot start threads\n", tag);
        return 1;
    }
    work(&workers[0]);
    while (!workers[1].done)
        kc_sleep(1);
    uint64_t results = 0, preempted = 0, sleep = 0, ipc = 0;
    for (int i = 0; i < 2; i++) {
        results += workers[i].bad_results;
        preempted += workers[i].bad_preempted;
        sleep += workers[i].bad_sleep;
        ipc += workers[i].bad_ipc;
    }
    printf("fpu_%c: %d rounds x 2 threads: %lu wrong results, registers changed %lu times "
           "(preempted), %lu (sleep), %lu (IPC)\n",
           tag, ROUNDS, results, preempted, sleep, ipc);
    snprintf(name, sizeof(name), "fpu_%c.results_exact", tag);
    check(name, results == 0, "a result differs from the exact value");
    snprintf(name, sizeof(name), "fpu_%c.registers_kept_when_preempted", tag);
    check(name, preempted == 0, "registers changed while the thread was preempted");
    snprintf(name, sizeof(name), "fpu_%c.registers_kept_across_sleep", tag);
    check(name, sleep == 0, "registers changed across a sleep");
    snprintf(name, sizeof(name), "fpu_%c.registers_kept_across_ipc", tag);
    check(name, ipc == 0, "registers changed across an IPC call");
    return failures;
}
