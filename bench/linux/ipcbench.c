/*
 * ipcbench: Linux side of `granite bench`. Times a null syscall and IPC
 * ping-pongs/transfers between two processes sharing one CPU, and prints one
 * machine-readable BENCH line per metric (format fixed by the lead's parser).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"

typedef int (*op_fn)(void *ctx);

static long n_batches = 100;   /* -n */
static long per_batch = 64;    /* -k: ops timed between two TSC reads */
static long warmup_ops = 1000; /* -w */
static long calib_ms = 200;
static double tsc_hz;

/* Set by SIGCHLD so a parent blocked on a dead peer fails instead of hanging. */
static volatile sig_atomic_t peer_gone;

/* A blocking call saw EINTR: retry unless it was the peer dying. */
static int interrupted_retry(void)
{
    if (errno != EINTR)
        return 0;
    if (peer_gone) {
        errno = ESRCH;
        return 0;
    }
    return 1;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t r = write(fd, p, len);

        if (r > 0) {
            p += r;
            len -= (size_t)r;
        } else if (r < 0 && interrupted_retry()) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Returns 1 when len bytes arrived, 0 on EOF before the first byte, -1 on error. */
static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);

        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0) {
            if (got == 0)
                return 0;
            errno = EPIPE;
            return -1;
        } else if (!interrupted_retry()) {
            return -1;
        }
    }
    return 1;
}

static void on_sigchld(int sig)
{
    (void)sig;
    peer_gone = 1;
}

static pid_t spawn_peer(const char *name, void (*serve)(void *), void *ctx)
{
    pid_t pid;

    fflush(stdout); /* or the child would repeat buffered output */
    peer_gone = 0;
    pid = fork();
    if (pid < 0)
        die(name);
    if (pid == 0) {
        /* A parent that bails out must not leave a peer spinning on the CPU. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        serve(ctx);
        exit(0);
    }
    return pid;
}

static void reap_peer(const char *name, pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die(name);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(name, "peer process failed");
}

static void report(const char *name, const char *kind, double *samples, long n, long k)
{
    double med, min;

    median_min(samples, n, &med, &min);
    printf("BENCH %s cycles_median=%lld cycles_min=%lld ns_median=%.1f "
           "ns_min=%.1f batches=%ld per_batch=%ld kind=%s\n",
           name, (long long)(med + 0.5), (long long)(min + 0.5), med * 1e9 / tsc_hz,
           min * 1e9 / tsc_hz, n, k, kind);
    fflush(stdout);
}

/*
 * The one method used for every metric: discarded warm-up, then n batches of
 * k ops each timed as a whole (the TSC is too coarse under TCG for single ops),
 * sample = batch cycles / k.
 */
static void measure(const char *name, const char *kind, op_fn op, void *ctx, long k, long warmup)
{
    double *samples = malloc((size_t)n_batches * sizeof(*samples));

    if (!samples)
        die(name);
    for (long i = 0; i < warmup; i++)
        if (op(ctx) < 0)
            die(name);
    for (long b = 0; b < n_batches; b++) {
        uint64_t t0 = tsc_read();

        for (long i = 0; i < k; i++)
            if (op(ctx) < 0)
                die(name);
        samples[b] = (double)(tsc_read() - t0) / (double)k;
    }
    report(name, kind, samples, n_batches, k);
    free(samples);
}

/* ---- null syscall ---- */

static int op_getppid(void *ctx)
{
    (void)ctx;
    syscall(SYS_getppid); /* raw syscall: no libc-side caching possible */
    return 0;
}

/* ---- pipes: ping-pong is a transfer of 1 byte ---- */

struct pipe_ctx {
    int to_peer, from_peer;
    int parent_ends[2]; /* the peer must close these or it never sees EOF */
    size_t len;         /* bytes sent per op; the reply is always 1 byte */
    char *buf;
};

static int op_pipe(void *arg)
{
    struct pipe_ctx *c = arg;
    char ack;
    int r;

    if (write_full(c->to_peer, c->buf, c->len) < 0)
        return -1;
    r = read_full(c->from_peer, &ack, 1);
    if (r == 0)
        errno = EPIPE;
    return r == 1 ? 0 : -1;
}

static void serve_pipe(void *arg)
{
    struct pipe_ctx *c = arg;
    char ack = 'a';
    int r;

    close(c->parent_ends[0]);
    close(c->parent_ends[1]);
    while ((r = read_full(c->to_peer, c->buf, c->len)) == 1)
        if (write_full(c->from_peer, &ack, 1) < 0)
            die("pipe-peer");
    if (r < 0)
        die("pipe-peer");
}

static void bench_pipe(const char *name, const char *kind, size_t len, long k, long warmup)
{
    int down[2], up[2];
    struct pipe_ctx c;
    pid_t pid;

    if (pipe(down) < 0 || pipe(up) < 0)
        die(name);
    c.len = len;
    c.buf = malloc(len);
    if (!c.buf)
        die(name);
    memset(c.buf, 'x', len); /* fault the pages in before timing */

    c.to_peer = down[0];
    c.from_peer = up[1];
    c.parent_ends[0] = down[1];
    c.parent_ends[1] = up[0];
    pid = spawn_peer(name, serve_pipe, &c);

    close(down[0]);
    close(up[1]);
    c.to_peer = down[1];
    c.from_peer = up[0];
    measure(name, kind, op_pipe, &c, k, warmup);

    close(down[1]); /* EOF tells the peer to exit */
    reap_peer(name, pid);
    close(up[0]);
    free(c.buf);
}

/* ---- futex: one shared word says whose turn it is ---- */

enum { TURN_PARENT, TURN_CHILD, TURN_STOP };

static long futex(int *uaddr, int op, int val)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static int futex_wait_while(int *word, int busy)
{
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == busy) {
        /* EAGAIN: the word changed before we slept, which is progress. */
        if (futex(word, FUTEX_WAIT, busy) < 0 && errno != EAGAIN && !interrupted_retry())
            return -1;
    }
    return 0;
}

static int futex_pass(int *word, int to)
{
    __atomic_store_n(word, to, __ATOMIC_RELEASE);
    return futex(word, FUTEX_WAKE, 1) < 0 ? -1 : 0;
}

static int op_futex(void *arg)
{
    int *turn = arg;

    if (futex_pass(turn, TURN_CHILD) < 0)
        return -1;
    return futex_wait_while(turn, TURN_CHILD);
}

static void serve_futex(void *arg)
{
    int *turn = arg;

    for (;;) {
        if (futex_wait_while(turn, TURN_PARENT) < 0)
            die("futex-peer");
        if (__atomic_load_n(turn, __ATOMIC_ACQUIRE) == TURN_STOP)
            return;
        if (futex_pass(turn, TURN_PARENT) < 0)
            die("futex-peer");
    }
}

static void bench_futex(const char *name, long k, long warmup)
{
    /* Shared (non-private) futex ops, since the word spans two processes. */
    int *turn = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid;

    if (turn == MAP_FAILED)
        die(name);
    *turn = TURN_PARENT;
    pid = spawn_peer(name, serve_futex, turn);
    measure(name, "rt", op_futex, turn, k, warmup);
    if (futex_pass(turn, TURN_STOP) < 0)
        die(name);
    reap_peer(name, pid);
    munmap(turn, 4096);
}

/* ---- eventfd: one counter per direction ---- */

struct efd_ctx {
    int to_peer, from_peer;
};

static int op_eventfd(void *arg)
{
    struct efd_ctx *c = arg;
    uint64_t v = 1;

    if (write_full(c->to_peer, &v, sizeof(v)) < 0)
        return -1;
    return read_full(c->from_peer, &v, sizeof(v)) == 1 ? 0 : -1;
}

static void serve_eventfd(void *arg)
{
    struct efd_ctx *c = arg;
    uint64_t v;

    for (;;) {
        if (read_full(c->to_peer, &v, sizeof(v)) != 1)
            die("eventfd-peer");
        if (v != 1) /* any other count is the parent's stop signal */
            return;
        if (write_full(c->from_peer, &v, sizeof(v)) < 0)
            die("eventfd-peer");
    }
}

static void bench_eventfd(const char *name, long k, long warmup)
{
    struct efd_ctx c;
    uint64_t stop = 2;
    pid_t pid;

    c.to_peer = eventfd(0, 0);
    c.from_peer = eventfd(0, 0);
    if (c.to_peer < 0 || c.from_peer < 0)
        die(name);
    pid = spawn_peer(name, serve_eventfd, &c);
    measure(name, "rt", op_eventfd, &c, k, warmup);
    if (write_full(c.to_peer, &stop, sizeof(stop)) < 0)
        die(name);
    reap_peer(name, pid);
    close(c.to_peer);
    close(c.from_peer);
}

/* ---- setup ---- */

/* Both processes inherit this, so every ping-pong is a same-CPU switch. */
static void pin_to_one_cpu(void)
{
    cpu_set_t set;
    int cpu;

    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        die("sched_getaffinity");
    for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
        ;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        die("sched_setaffinity");
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-n batches] [-k ops-per-batch] [-w warmup-ops] [-q]\n"
            "  -q  quick smoke test (few batches, short calibration)\n",
            prog);
}

int main(int argc, char **argv)
{
    long n = 0, k = 0, w = -1; /* unset */
    struct sigaction sa;
    int opt;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "n:k:w:qh")) != -1) {
        switch (opt) {
        case 'n':
            n = parse_count(optarg, 'n', 1);
            break;
        case 'k':
            k = parse_count(optarg, 'k', 1);
            break;
        case 'w':
            w = parse_count(optarg, 'w', 0);
            break;
        case 'q':
            n_batches = 3;
            per_batch = 64;
            warmup_ops = 64;
            calib_ms = 50;
            break;
        case 'h':
            usage(argv[0]);
            return 0;
        default:
            usage(argv[0]);
            fail("options", strerror(EINVAL));
        }
    }
    if (optind != argc) {
        usage(argv[0]);
        fail("options", strerror(EINVAL));
    }
    /* Explicit counts win over -q, whatever the order. */
    if (n)
        n_batches = n;
    if (k)
        per_batch = k;
    if (w >= 0)
        warmup_ops = w;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigchld; /* no SA_RESTART: blocked calls see EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        die("sigaction");
    signal(SIGPIPE, SIG_IGN); /* a dead pipe peer shows up as EPIPE instead */
    pin_to_one_cpu();

    tsc_hz = calibrate_tsc_hz(calib_ms);
    printf("BENCH-INFO tsc_khz=%lld\n", (long long)(tsc_hz / 1e3 + 0.5));

    measure("linux.getppid", "rt", op_getppid, NULL, per_batch, warmup_ops);
    bench_pipe("linux.pipe_rt_1B", "rt", 1, per_batch, warmup_ops);
    bench_futex("linux.futex_rt", per_batch, warmup_ops);
    bench_eventfd("linux.eventfd_rt", per_batch, warmup_ops);
    bench_pipe("linux.pipe_xfer_4KiB", "xfer", 4096, per_batch, warmup_ops);
    /* ~10x the cost of a ping-pong: smaller batches keep run time in line. */
    bench_pipe("linux.pipe_xfer_64KiB", "xfer", 65536, per_batch / 8 > 0 ? per_batch / 8 : 1,
               warmup_ops > 0 && warmup_ops / 8 == 0 ? 1 : warmup_ops / 8);
    return 0;
}
