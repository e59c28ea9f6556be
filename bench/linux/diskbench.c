/*
 * diskbench: disk side of the Linux reference in `granite bench`. Times
 * sequential 1 MiB writes (with the closing fsync), the same with an
 * fdatasync after every request (each write durable when it returns, as
 * Granite's file system acknowledges a write), and reads of a 16 MiB
 * region, then random 4 KiB reads in it, all with O_DIRECT, on a block
 * device or a file; prints one BENCH line per figure and checks every byte read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchlib.h"

#define SEQ_REQ  (1024 * 1024) /* bytes per sequential request */
#define RAND_REQ 4096          /* bytes per random read */
#define ALIGN    4096          /* O_DIRECT: buffer, offset and length aligned to this */

static long region_mib = 16; /* -s */
static long passes = 5;      /* -n: timed passes over the region, each direction */
static long rand_reads = 4096;
static long per_batch = 64; /* -k: random reads timed between two TSC reads */
static long calib_ms = 200;
static uint64_t seed = 1; /* -S */
static const char *prefix = "linux.disk.";
static double tsc_hz;

/* Every 8-byte word says where it lives and which pass wrote it. */
static uint64_t pattern(uint64_t offset, uint64_t gen)
{
    return (offset | gen << 48) ^ 0x9e3779b97f4a7c15ull;
}

static void fill(uint64_t *buf, uint64_t offset, size_t len, uint64_t gen)
{
    for (size_t i = 0; i < len / 8; i++)
        buf[i] = pattern(offset + i * 8, gen);
}

/* Precondition: buf holds len bytes read from offset after pass gen wrote them. */
static void check(const char *name, const uint64_t *buf, uint64_t offset, size_t len, uint64_t gen)
{
    for (size_t i = 0; i < len / 8; i++) {
        if (buf[i] != pattern(offset + i * 8, gen)) {
            char why[96];

            snprintf(why, sizeof(why), "wrong data read at byte %llu",
                     (unsigned long long)(offset + i * 8));
            fail(name, why);
        }
    }
}

static void pwrite_full(const char *name, int fd, const void *buf, size_t len, off_t off)
{
    ssize_t r = pwrite(fd, buf, len, off);

    if (r < 0)
        die(name);
    if ((size_t)r != len) /* O_DIRECT on a device: short only at its end */
        fail(name, "short write");
}

static void pread_full(const char *name, int fd, void *buf, size_t len, off_t off)
{
    ssize_t r = pread(fd, buf, len, off);

    if (r < 0)
        die(name);
    if ((size_t)r != len)
        fail(name, "short read");
}

/* One pass of 1 MiB writes over the region, then fsync (durable: every
 * request followed by fdatasync); returns its TSC ticks. */
static uint64_t write_pass(int fd, char *buf, size_t region, int durable)
{
    uint64_t t0 = tsc_read();

    for (size_t off = 0; off < region; off += SEQ_REQ) {
        pwrite_full("seq_write", fd, buf + off, SEQ_REQ, (off_t)off);
        if (durable && fdatasync(fd) < 0)
            die("seq_write_durable fdatasync");
    }
    if (fsync(fd) < 0)
        die("seq_write fsync");
    return tsc_read() - t0;
}

static uint64_t read_pass(int fd, char *buf, size_t region)
{
    uint64_t t0 = tsc_read();

    for (size_t off = 0; off < region; off += SEQ_REQ)
        pread_full("seq_read", fd, buf + off, SEQ_REQ, (off_t)off);
    return tsc_read() - t0;
}

/*
 * samples are TSC ticks per operation of bytes bytes. The cycles_* fields are
 * what the report uses; value_* (MB/s of 10^6 bytes, or operations per
 * second) are there for whoever reads the log.
 */
static void report(const char *metric, const char *kind, double *samples, long n, long k,
                   size_t bytes)
{
    double med, min, vmed, vbest;

    median_min(samples, n, &med, &min);
    if (strcmp(kind, "MBps") == 0) {
        vmed = (double)bytes * tsc_hz / med / 1e6;
        vbest = (double)bytes * tsc_hz / min / 1e6;
    } else {
        vmed = tsc_hz / med;
        vbest = tsc_hz / min;
    }
    printf("BENCH %s%s cycles_median=%lld cycles_min=%lld ns_median=%.1f ns_min=%.1f "
           "batches=%ld per_batch=%ld kind=%s bytes=%zu value_median=%.1f value_best=%.1f\n",
           prefix, metric, (long long)(med + 0.5), (long long)(min + 0.5), med * 1e9 / tsc_hz,
           min * 1e9 / tsc_hz, n, k, kind, bytes, vmed, vbest);
    fflush(stdout);
}

/* Returns the generation the region holds afterwards. */
static uint64_t bench_sequential(int fd, char *buf, size_t region)
{
    double *wr = malloc((size_t)passes * sizeof(*wr));
    double *rd = malloc((size_t)passes * sizeof(*rd));
    double *dw = malloc((size_t)passes * sizeof(*dw));
    long per = (long)(region / SEQ_REQ);
    uint64_t gen = 1;

    if (!wr || !rd || !dw)
        die("malloc");
    /*
     * Untimed first pass: the blocks get allocated (a file's, and the image
     * file's on the host), so the timed passes all overwrite. For a file on
     * vfat this matters doubly: O_DIRECT writes past the end fall back to
     * buffered I/O.
     */
    fill((uint64_t *)buf, 0, region, gen);
    write_pass(fd, buf, region, 0);
    for (long p = 0; p < passes; p++) {
        fill((uint64_t *)buf, 0, region, ++gen);
        wr[p] = (double)write_pass(fd, buf, region, 0) / (double)per;
    }
    report("seq_write_MBps", "MBps", wr, passes, per, SEQ_REQ);
    for (long p = 0; p < passes; p++) {
        fill((uint64_t *)buf, 0, region, ++gen);
        dw[p] = (double)write_pass(fd, buf, region, 1) / (double)per;
    }
    report("seq_write_durable_MBps", "MBps", dw, passes, per, SEQ_REQ);

    memset(buf, 0, region);
    read_pass(fd, buf, region); /* warm-up */
    check("seq_read", (uint64_t *)buf, 0, region, gen);
    for (long p = 0; p < passes; p++) {
        memset(buf, 0, region); /* a read that moved nothing must fail the check */
        rd[p] = (double)read_pass(fd, buf, region) / (double)per;
        check("seq_read", (uint64_t *)buf, 0, region, gen);
    }
    report("seq_read_MBps", "MBps", rd, passes, per, SEQ_REQ);
    free(wr);
    free(rd);
    free(dw);
    return gen;
}

/* xorshift64*: a fixed seed gives every run the same positions. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dull;
}

/* Precondition: the region holds the pattern of generation gen. */
static void bench_random(int fd, char *buf, size_t region, uint64_t gen)
{
    long batches = rand_reads / per_batch;
    uint64_t blocks = region / RAND_REQ, state = seed;
    uint64_t *pos = malloc((size_t)per_batch * sizeof(*pos));
    double *samples = malloc((size_t)batches * sizeof(*samples));

    if (!pos || !samples)
        die("malloc");
    /* Batch -1 is the warm-up. Each read gets its own slot, checked after the batch. */
    for (long b = -1; b < batches; b++) {
        uint64_t t0;

        for (long i = 0; i < per_batch; i++)
            pos[i] = next_random(&state) % blocks * RAND_REQ;
        memset(buf, 0, (size_t)per_batch * RAND_REQ);
        t0 = tsc_read();
        for (long i = 0; i < per_batch; i++)
            pread_full("rand_read", fd, buf + i * RAND_REQ, RAND_REQ, (off_t)pos[i]);
        if (b >= 0)
            samples[b] = (double)(tsc_read() - t0) / (double)per_batch;
        for (long i = 0; i < per_batch; i++)
            check("rand_read", (uint64_t *)(buf + i * RAND_REQ), pos[i], RAND_REQ, gen);
    }
    report("rand_read_4KiB_iops", "iops", samples, batches, per_batch, RAND_REQ);
    free(pos);
    free(samples);
}

/* A block device must hold the region; a file grows to it in the first pass. */
static void check_size(int fd, const char *path, size_t region)
{
    struct stat st;
    uint64_t bytes;

    if (fstat(fd, &st) < 0)
        die(path);
    if (!S_ISBLK(st.st_mode))
        return;
    if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
        die(path);
    if (bytes < region)
        fail(path, "device smaller than the region (-s)");
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-p name-prefix] [-s region-MiB] [-n passes] [-r random-reads]\n"
            "          [-k reads-per-batch] [-S seed] [-q] PATH\n"
            "  PATH  block device or file, overwritten from offset 0 (O_DIRECT)\n"
            "  -q    quick smoke test (2 passes, 256 random reads, short calibration)\n",
            prog);
}

int main(int argc, char **argv)
{
    long n = 0, r = 0, k = 0; /* unset */
    size_t region;
    char *buf;
    int opt, fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "p:s:n:r:k:S:qh")) != -1) {
        switch (opt) {
        case 'p':
            prefix = optarg;
            break;
        case 's':
            region_mib = parse_count(optarg, 's', 1);
            break;
        case 'n':
            n = parse_count(optarg, 'n', 1);
            break;
        case 'r':
            r = parse_count(optarg, 'r', 1);
            break;
        case 'k':
            k = parse_count(optarg, 'k', 1);
            break;
        case 'S':
            seed = (uint64_t)parse_count(optarg, 'S', 1);
            break;
        case 'q':
            passes = 2;
            rand_reads = 256;
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
    if (optind != argc - 1) {
        usage(argv[0]);
        fail("options", strerror(EINVAL));
    }
    /* Explicit counts win over -q, whatever the order. */
    if (n)
        passes = n;
    if (r)
        rand_reads = r;
    if (k)
        per_batch = k;
    if (rand_reads < per_batch)
        fail("option-r", "must be at least the batch size (-k)");
    if (region_mib > 4096)
        fail("option-s", "must be at most 4096");
    region = (size_t)region_mib * 1024 * 1024;

    fd = open(argv[optind], O_RDWR | O_CREAT | O_DIRECT, 0644);
    if (fd < 0)
        die(argv[optind]);
    check_size(fd, argv[optind], region);
    if (posix_memalign((void **)&buf, ALIGN, region) != 0)
        fail("buffer", strerror(ENOMEM));
    memset(buf, 0, region); /* fault the pages in before timing */

    tsc_hz = calibrate_tsc_hz(calib_ms);
    printf("BENCH-INFO tsc_khz=%lld\n", (long long)(tsc_hz / 1e3 + 0.5));
    printf("BENCH-INFO disk path=%s region_mib=%ld passes=%ld rand_reads=%ld seed=%llu\n",
           argv[optind], region_mib, passes, rand_reads, (unsigned long long)seed);

    bench_random(fd, buf, region, bench_sequential(fd, buf, region));
    if (close(fd) < 0)
        die(argv[optind]);
    free(buf);
    return 0;
}
