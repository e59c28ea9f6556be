/*
 * The C library on Granite (newlib over libc/syscalls.c): formatted floats,
 * the heap through sbrk, qsort, strtod, setjmp, the wall clock, getpid,
 * arguments from the module line, file calls answering as an empty disk,
 * and libipc's server loop in a thread. Prints "CHECK <name> PASS|FAIL"
 * per check; exit status = failures.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/server.h>
#include <ipc/thread.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int failures;
static const char *argv0;

static void check(const char *name, int ok, const char *detail)
{
    printf("CHECK %s %s%s%s\n", name, ok ? "PASS" : "FAIL", detail && !ok ? ": " : "",
           detail && !ok ? detail : "");
    failures += !ok;
}

/* snprintf(fmt, v) must give want. */
static void check_fmt(const char *name, const char *fmt, double v, const char *want)
{
    char got[64];
    snprintf(got, sizeof(got), fmt, v);
    check(name, strcmp(got, want) == 0, got);
}

static void formatting(void)
{
    check_fmt("libc.printf_f", "%f", 3.14159265, "3.141593");
    check_fmt("libc.printf_f_precision", "%.4f", sqrt(2.0), "1.4142");
    check_fmt("libc.printf_g", "%g", 0.00001234, "1.234e-05");
    check_fmt("libc.printf_g_integral", "%g", 100000.0, "100000");
    check_fmt("libc.printf_e", "%e", 12345.678, "1.234568e+04");
    check_fmt("libc.printf_negative_width", "%10.2f", -2.5, "     -2.50");
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%d %s %lld %zu %x", -7, "ok", 1ll << 40, (size_t)9, 255);
    check("libc.snprintf_ints", n == 24 && strcmp(buf, "-7 ok 1099511627776 9 ff") == 0, buf);
    volatile size_t cap = 8; /* unknown to gcc, which would warn of the cut */
    n = snprintf(buf, cap, "%s truncated", argv0);
    check("libc.snprintf_truncates", n == 20 && strcmp(buf, "libc.ch") == 0, buf);
    printf("libc: pi is about %f, e is about %.3e\n", 3.14159265, exp(1.0));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

static void heap(void)
{
    /* Many sizes at once, each filled with its own byte and checked. */
    enum { N = 400 };
    static unsigned char *p[N];
    static size_t size[N];
    int ok = 1;
    for (int i = 0; i < N; i++) {
        size[i] = i % 50 == 0 ? (size_t)(next() % (1 << 20)) + 1 : next() % 3000 + 1;
        p[i] = malloc(size[i]);
        ok = ok && p[i] && ((uintptr_t)p[i] & 15) == 0;
        if (p[i])
            memset(p[i], i & 0xff, size[i]);
    }
    for (int i = 0; ok && i < N; i += 2) { /* free half, then grow the rest */
        free(p[i]);
        p[i] = 0;
    }
    for (int i = 1; ok && i < N; i += 2) {
        unsigned char *q = realloc(p[i], size[i] * 2 + 100);
        ok = q != 0;
        for (size_t k = 0; ok && k < size[i]; k++)
            ok = q[k] == (i & 0xff);
        p[i] = q;
    }
    for (int i = 0; i < N; i++)
        free(p[i]);
    check("libc.malloc_many_sizes", ok, 0);
    /* Bigger than the heap's first piece: the break must grow. */
    char *big = malloc(8u << 20);
    ok = big != 0;
    if (big) {
        big[0] = 1;
        big[(8u << 20) - 1] = 2;
        ok = big[0] + big[(8u << 20) - 1] == 3;
    }
    free(big);
    check("libc.malloc_8mib", ok, 0);
    char *z = calloc(1000, 8);
    ok = z != 0;
    for (int i = 0; ok && i < 8000; i++)
        ok = z[i] == 0;
    free(z);
    check("libc.calloc_zeroed", ok, 0);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void sorting_and_parsing(void)
{
    static int v[5000];
    for (int i = 0; i < 5000; i++)
        v[i] = (int)(next() % 100000) - 50000;
    qsort(v, 5000, sizeof(v[0]), cmp_int);
    int ok = 1;
    for (int i = 1; i < 5000; i++)
        ok = ok && v[i - 1] <= v[i];
    check("libc.qsort", ok, 0);

    char *end;
    double d = strtod("  -3.25e2xyz", &end);
    check("libc.strtod", d == -325.0 && strcmp(end, "xyz") == 0, end);
    check("libc.strtod_hex", strtod("0x1p-2", 0) == 0.25, 0);
    check("libc.strtol", strtol("-0x7f", 0, 16) == -127 && atoi("42") == 42, 0);
    check("libc.math",
          fabs(sin(M_PI / 6) - 0.5) < 1e-12 && pow(2.0, 10.0) == 1024.0 && floor(-1.5) == -2.0, 0);
}

static jmp_buf jump;
static int depth;
static volatile int bottom = 10; /* volatile: gcc cannot see the recursion end */

static void dive(int n)
{
    depth = n;
    if (n == bottom)
        longjmp(jump, n * 4);
    if (n < bottom)
        dive(n + 1);
}

static void jumping(void)
{
    volatile int count = 0;
    int v = setjmp(jump);
    count++;
    if (v == 0)
        dive(0);
    check("libc.setjmp_longjmp", v == 40 && depth == 10 && count == 2, 0);
}

static void clocks(void)
{
    time_t t = time(0);
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("libc: the date is %s\n", date);
    check("libc.time_plausible", tm.tm_year + 1900 >= 2024 && tm.tm_year + 1900 < 2100, date);

    struct timeval a, b;
    gettimeofday(&a, 0);
    kc_sleep(2);
    gettimeofday(&b, 0);
    check("libc.gettimeofday_advances",
          b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_usec > a.tv_usec), 0);
    /* time() ticks once a second: wait (a bounded number of ticks) for it. */
    int waited = 0;
    while (time(0) == t && waited < 1000) {
        kc_sleep(1);
        waited++;
    }
    check("libc.time_advances", time(0) > t, 0);
    clock_t c0 = clock();
    kc_sleep(2);
    check("libc.clock_advances", clock() > c0, 0);

    struct timespec m0, m1, r;
    clock_gettime(CLOCK_MONOTONIC, &m0);
    usleep(30000); /* at least 3 ticks */
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    long long slept = (m1.tv_sec - m0.tv_sec) * 1000000000ll + (m1.tv_nsec - m0.tv_nsec);
    char d[64];
    snprintf(d, sizeof(d), "slept %lld ns", slept);
    /* Only that it advanced: the TSC and the tick are different clocks, and
     * how far they agree depends on the host. */
    check("libc.usleep_and_monotonic", slept > 0, d);
    printf("libc: usleep(30000) took %lld us by the TSC\n", slept / 1000);
    check("libc.clock_gettime_realtime", r.tv_sec >= t, 0);
}

static void process(int argc, char **argv)
{
    uint32_t pid = 0;
    kc_self(&pid, 0, 0, 0);
    check("libc.getpid", getpid() == (int)pid && pid > 0, 0);
    check("libc.isatty_console", isatty(1) && isatty(2), 0);
    char detail[160];
    snprintf(detail, sizeof(detail), "argc=%d [%s] [%s] [%s] [%s]", argc, argv[0],
             argc > 1 ? argv[1] : "", argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : "");
    check("libc.argv",
          argc == 4 && strcmp(argv[0], "libc.check") == 0 && strcmp(argv[1], "one") == 0 &&
              strcmp(argv[2], "two words") == 0 && strcmp(argv[3], "it's") == 0 && !argv[4],
          detail);
}

/* libipc's server loop in a C-library program: a thread serves the mean of
 * two integers as a double (its own FPU use), main calls it by name. */
#define MEAN 1

static long mean(struct ipc_msg *m)
{
    double v = ((double)(int64_t)m->w[1] + (double)(int64_t)m->w[2]) / 2;
    memcpy(&m->w[1], &v, sizeof(v));
    m->info = ipc_info(16, 0);
    return 0;
}

static void serve(void *arg)
{
    static const struct server_op ops[] = {{MEAN, mean}};
    struct server s = {.name = "libc.mean", .ops = ops, .nops = 1};
    (void)arg;
    server_run(&s);
}

static void server_in_thread(void)
{
    long rc = thread_create(serve, 0, 0);
    long h = rc < 0 ? rc : name_lookup_wait("libc.mean", 300);
    struct ipc_msg m = ipc_msg_make(MEAN, 3);
    m.w[1] = (uint64_t)-3;
    m.w[2] = 8;
    double v = 0;
    if (h >= 0 && ipc_call_status((uint64_t)h, &m) == 0)
        memcpy(&v, &m.w[1], sizeof(v));
    char d[32];
    snprintf(d, sizeof(d), "%g", v);
    check("libc.server_thread", v == 2.5, d);
}

static void files(void)
{
    errno = 0;
    FILE *f = fopen("/hello.txt", "r");
    check("libc.fopen_enoent", !f && errno == ENOENT, strerror(errno));
    errno = 0;
    check("libc.open_enoent", open("/x", O_RDWR | O_CREAT, 0644) == -1 && errno == ENOENT, 0);
    struct stat st;
    errno = 0;
    check("libc.stat_enoent", stat("/x", &st) == -1 && errno == ENOENT, 0);
    errno = 0;
    check("libc.unlink_enoent", unlink("/x") == -1 && errno == ENOENT, 0);
    errno = 0;
    check("libc.opendir_enoent", !opendir("/") && errno == ENOENT, 0);
    errno = 0;
    check("libc.close_ebadf", close(7) == -1 && errno == EBADF, 0);
    errno = 0;
    check("libc.lseek_console_espipe", lseek(1, 0, SEEK_SET) == -1 && errno == ESPIPE, 0);
}

int main(int argc, char **argv)
{
    argv0 = argv[0];
    formatting();
    heap();
    sorting_and_parsing();
    jumping();
    clocks();
    process(argc, argv);
    files();
    server_in_thread();
    printf("libc.check: %d checks failed\n", failures);
    return failures;
}
