/*
 * Host-side helpers for the FAT32 tests (see fat_tools.h): the test block
 * device and the runners for mkfs.fat, fsck.fat and mtools. Any tool that
 * is missing or misbehaves fails the test with what it printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "fat_tools.h"
#include "hostlib.h"

#ifndef FAT_MKFS
#define FAT_MKFS ""
#endif
#ifndef FAT_FSCK
#define FAT_FSCK ""
#endif
#ifndef FAT_MTOOLS
#define FAT_MTOOLS ""
#endif
#ifndef FAT_WORK_DIR
#define FAT_WORK_DIR "fat-work"
#endif

static void need(const char *tool, const char *what)
{
    if (!tool[0])
        fail_msg("%s not found when configuring: install dosfstools and mtools (./granite test "
                 "does), then reconfigure",
                 what);
}

const char *work_path(const char *name)
{
    static char buf[4][512];
    static int i;
    mkdir(FAT_WORK_DIR, 0777);
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", FAT_WORK_DIR, name);
    return buf[i];
}

/* ---- the device ---- */

static void oob(const char *op, uint64_t block, uint32_t count, uint64_t blocks)
{
    fprintf(stderr, "FAT device: %s of %u blocks at %llu outside the %llu-block device\n", op,
            count, (unsigned long long)block, (unsigned long long)blocks);
    abort();
}

/* A request the device would refuse: outside it, across its sectors, or
 * larger than it takes. */
static void check_request(const struct tdev *d, const char *op, uint64_t block, uint32_t count)
{
    uint32_t a = d->align ? d->align : 1;
    if (count == 0 || block > d->blocks || count > d->blocks - block)
        oob(op, block, count, d->blocks);
    if (block % a || count % a || (d->max_blocks && count > d->max_blocks)) {
        fprintf(stderr,
                "FAT device: %s of %u blocks at %llu: not whole %u-block sectors, or "
                "more than %u blocks\n",
                op, count, (unsigned long long)block, a, d->max_blocks);
        abort();
    }
}

static int td_read(void *ctx, uint64_t block, uint32_t count, void *buf)
{
    struct tdev *d = ctx;
    check_request(d, "read", block, count);
    if (d->dead)
        return -E_IO;
    d->reads++;
    if (d->fail_read && (long)d->reads == d->fail_read) {
        d->fail_read = 0;
        return -E_IO;
    }
    d->rblocks += count;
    size_t bytes = (size_t)count * FAT_DEV_BLOCK;
    if (d->mem) {
        memcpy(buf, d->mem + block * FAT_DEV_BLOCK, bytes);
        return 0;
    }
    return pread(d->fd, buf, bytes, (off_t)(block * FAT_DEV_BLOCK)) == (ssize_t)bytes ? 0 : -E_IO;
}

static int td_write(void *ctx, uint64_t block, uint32_t count, const void *buf)
{
    struct tdev *d = ctx;
    check_request(d, "write", block, count);
    if (d->dead)
        return -E_IO;
    d->writes++;
    if (d->fail_write && (long)d->writes == d->fail_write) {
        d->fail_write = 0;
        return -E_IO; /* a driver that died and came back: nothing written */
    }
    if (d->log) {
        if (d->nlog == d->logcap) {
            d->logcap *= 2;
            d->log = realloc(d->log, d->logcap * sizeof(*d->log));
            d->log_block = realloc(d->log_block, d->logcap * sizeof(*d->log_block));
            assert_non_null(d->log);
            assert_non_null(d->log_block);
        }
        d->log_block[d->nlog] = block;
        d->log[d->nlog++] = d->wblocks;
    }
    const uint8_t *src = buf;
    for (uint32_t i = 0; i < count; i++, block++, src += FAT_DEV_BLOCK) {
        if (d->budget == 0) {
            d->dead = 1;
            return -E_IO;
        }
        if (d->budget > 0)
            d->budget--;
        d->wblocks++;
        if (!d->mem) {
            if (pwrite(d->fd, src, FAT_DEV_BLOCK, (off_t)(block * FAT_DEV_BLOCK)) != FAT_DEV_BLOCK)
                return -E_IO;
            continue;
        }
        memcpy(d->mem + block * FAT_DEV_BLOCK, src, FAT_DEV_BLOCK);
        if (d->durable) {
            if (d->npend == d->cap) {
                d->cap = d->cap ? d->cap * 2 : 256;
                d->pend = realloc(d->pend, d->cap * sizeof(*d->pend));
                assert_non_null(d->pend);
            }
            d->pend[d->npend].block = block;
            memcpy(d->pend[d->npend].data, src, FAT_DEV_BLOCK);
            d->npend++;
        }
    }
    return 0;
}

static int td_flush(void *ctx)
{
    struct tdev *d = ctx;
    if (d->budget == 0)
        d->dead = 1; /* the power goes between the last write and this flush */
    if (d->dead)
        return -E_IO;
    d->flushes++;
    if (d->fail_flush && (long)d->flushes == d->fail_flush) {
        d->fail_flush = 0;
        return -E_IO;
    }
    for (size_t i = 0; d->durable && i < d->npend; i++)
        memcpy(d->durable + d->pend[i].block * FAT_DEV_BLOCK, d->pend[i].data, FAT_DEV_BLOCK);
    d->npend = 0;
    return 0;
}

struct fat_dev tdev_ops(struct tdev *d)
{
    struct fat_dev dev;
    memset(&dev, 0, sizeof(dev));
    dev.ctx = d;
    dev.blocks = d->blocks;
    dev.sector_size = (d->align ? d->align : 1) * FAT_DEV_BLOCK;
    dev.max_blocks = d->max_blocks;
    dev.read = td_read;
    dev.write = td_write;
    dev.flush = td_flush;
    return dev;
}

void tdev_log_start(struct tdev *d)
{
    d->logcap = 64;
    d->nlog = 0;
    d->log = realloc(d->log, d->logcap * sizeof(*d->log));
    d->log_block = realloc(d->log_block, d->logcap * sizeof(*d->log_block));
    assert_non_null(d->log);
    assert_non_null(d->log_block);
}

void tdev_load(struct tdev *d, const char *path, int crash)
{
    memset(d, 0, sizeof(*d));
    d->budget = -1;
    d->fd = -1;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(size > 0 && size % FAT_DEV_BLOCK == 0);
    d->blocks = (uint64_t)size / FAT_DEV_BLOCK;
    d->mem = malloc((size_t)size);
    assert_non_null(d->mem);
    assert_int_equal(fread(d->mem, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    if (crash) {
        d->durable = malloc((size_t)size);
        assert_non_null(d->durable);
        memcpy(d->durable, d->mem, (size_t)size);
    }
}

void tdev_file(struct tdev *d, const char *path)
{
    memset(d, 0, sizeof(*d));
    d->budget = -1;
    d->fd = open(path, O_RDWR);
    assert_true(d->fd >= 0);
    struct stat st;
    assert_int_equal(fstat(d->fd, &st), 0);
    d->blocks = (uint64_t)st.st_size / FAT_DEV_BLOCK;
}

void tdev_save(const struct tdev *d, const char *path)
{
    assert_non_null(d->mem);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t bytes = (size_t)d->blocks * FAT_DEV_BLOCK;
    assert_int_equal(fwrite(d->mem, 1, bytes, f), bytes);
    assert_int_equal(fclose(f), 0);
}

void tdev_free(struct tdev *d)
{
    free(d->mem);
    free(d->durable);
    free(d->pend);
    free(d->log);
    free(d->log_block);
    if (d->fd >= 0 && !d->mem)
        close(d->fd);
    memset(d, 0, sizeof(*d));
    d->fd = -1;
}

void tdev_crash(struct tdev *d, uint64_t seed)
{
    uint64_t saved = rng_state;
    rng_state = seed | 1;
    for (size_t i = 0; i < d->npend; i++)
        if (rng() & 1)
            memcpy(d->durable + d->pend[i].block * FAT_DEV_BLOCK, d->pend[i].data, FAT_DEV_BLOCK);
    rng_state = saved;
    d->npend = 0;
    memcpy(d->mem, d->durable, (size_t)d->blocks * FAT_DEV_BLOCK);
    d->dead = 0;
    d->budget = -1;
}

void tdev_crash_mask(struct tdev *d, const uint8_t *durable, const struct tdev_pend *pend,
                     size_t npend, uint64_t mask)
{
    size_t bytes = (size_t)d->blocks * FAT_DEV_BLOCK;
    memcpy(d->durable, durable, bytes);
    for (size_t i = 0; i < npend; i++)
        if (mask >> i & 1)
            memcpy(d->durable + pend[i].block * FAT_DEV_BLOCK, pend[i].data, FAT_DEV_BLOCK);
    memcpy(d->mem, d->durable, bytes);
    d->npend = 0;
    d->dead = 0;
    d->budget = -1;
}

int tvol_mount(struct tvol *t, struct tdev *d, unsigned flags, size_t cache_bytes)
{
    struct fat_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dev = tdev_ops(d);
    cfg.cache = t->cache;
    cfg.cache_bytes = cache_bytes ? cache_bytes : sizeof(t->cache);
    free(t->scratch);
    cfg.scratch_bytes = FAT_SCRATCH_BYTES(d->blocks);
    t->scratch = cfg.scratch = malloc(cfg.scratch_bytes);
    assert_non_null(t->scratch);
    cfg.flags = flags;
    t->d = d;
    return fat_mount(&t->v, &cfg);
}

/* ---- tools ---- */

int tool_run(char *const argv[], char **out, size_t *len)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        ssize_t r = read(fds[0], buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fds[0]);
    buf[n] = '\0';
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (out)
        *out = buf;
    else
        free(buf);
    if (len)
        *len = n;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void tool_mkfs(const char *path, unsigned long kib, const char *opts)
{
    need(FAT_MKFS, "mkfs.fat");
    char *argv[32], optbuf[256], size[32];
    int n = 0;
    argv[n++] = FAT_MKFS;
    argv[n++] = "-F";
    argv[n++] = "32";
    snprintf(optbuf, sizeof(optbuf), "%s", opts);
    for (char *tok = strtok(optbuf, " "); tok && n < 26; tok = strtok(NULL, " "))
        argv[n++] = tok;
    argv[n++] = "-C";
    argv[n++] = (char *)path;
    snprintf(size, sizeof(size), "%lu", kib);
    argv[n++] = size;
    argv[n] = NULL;
    unlink(path);
    char *out;
    int rc = tool_run(argv, &out, NULL);
    if (rc != 0)
        fail_msg("mkfs.fat %s failed (%d):\n%s", opts, rc, out);
    free(out);
}

int tool_fsck(const char *img, char **out)
{
    need(FAT_FSCK, "fsck.fat");
    char *argv[] = {FAT_FSCK, "-n", (char *)img, NULL};
    return tool_run(argv, out, NULL);
}

long tool_fsck_clean(const char *img)
{
    char *out;
    int rc = tool_fsck(img, &out);
    long used = -1;
    int bad = rc != 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long files, u, total;
        if (strncmp(line, "fsck.fat ", 9) == 0)
            continue;
        if (strstr(line, "Warning: Filesystem is FAT32 according to fat_length") ||
            strstr(line, "but has only ") || strstr(line, "This may lead to problems"))
            continue; /* small FAT32 volumes: expected */
        const char *colon = strrchr(line, ':');
        if (colon && sscanf(colon, ": %lu files, %lu/%lu clusters", &files, &u, &total) == 3) {
            used = (long)u;
            continue;
        }
        fprintf(stderr, "fsck.fat: %s\n", line);
        bad = 1;
    }
    free(out);
    if (bad || used < 0)
        fail_msg("fsck.fat -n %s is not clean (exit %d)", img, rc);
    return used;
}

static char *mt_argv0(const char *tool)
{
    static char buf[512];
    need(FAT_MTOOLS, "mtools");
    snprintf(buf, sizeof(buf), "%s/%s", FAT_MTOOLS, tool);
    return buf;
}

uint8_t *tool_mcat(const char *img, const char *path, size_t *len)
{
    char mpath[2048];
    snprintf(mpath, sizeof(mpath), "::%s", path);
    char *argv[] = {mt_argv0("mcopy"), "-n", "-i", (char *)img, mpath, "-", NULL};
    char *out;
    int rc = tool_run(argv, &out, len);
    if (rc != 0) {
        fprintf(stderr, "mcopy %s: exit %d: %s\n", path, rc, out);
        free(out);
        return NULL;
    }
    return (uint8_t *)out;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tool_mlist(const char *img)
{
    char *argv[] = {mt_argv0("mdir"), "-/", "-b", "-i", (char *)img, "::/", NULL};
    char *out;
    size_t len;
    int rc = tool_run(argv, &out, &len);
    if (rc != 0 && strstr(out, "No files") == NULL)
        fail_msg("mdir on %s failed (%d):\n%s", img, rc, out);
    size_t nl = 0, k = 0;
    for (size_t i = 0; i < len; i++)
        nl += out[i] == '\n';
    char **lines = calloc(nl + 1, sizeof(char *));
    assert_non_null(lines);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "::/", 3) == 0)
            lines[k++] = line + 2;
    qsort(lines, k, sizeof(char *), cmp_line);
    char *res = malloc(len + 2);
    assert_non_null(res);
    size_t o = 0;
    for (size_t i = 0; i < k; i++)
        o += (size_t)sprintf(res + o, "%s\n", lines[i]);
    res[o] = '\0';
    free(lines);
    free(out);
    return res;
}

int tool_mtools(const char *tool, const char *img, const char *a1, const char *a2)
{
    char *argv[8];
    int n = 0;
    argv[n++] = mt_argv0(tool);
    argv[n++] = "-i";
    argv[n++] = (char *)img;
    if (a1)
        argv[n++] = (char *)a1;
    if (a2)
        argv[n++] = (char *)a2;
    argv[n] = NULL;
    char *out;
    int rc = tool_run(argv, &out, NULL);
    if (rc != 0)
        fprintf(stderr, "%s %s %s: exit %d: %s\n", tool, a1 ? a1 : "", a2 ? a2 : "", rc, out);
    free(out);
    return rc;
}
