/*
 * Host tests for the FAT32 core (servers/fs): images made by mkfs.fat,
 * checked after every test by fsck.fat -n and read back with mtools; files
 * made by mtools read by the library; error codes; a seeded model-checked
 * random run; power cuts at random points (with reordered writes) followed
 * by the repair, which must leave fsck.fat clean and every acknowledged
 * byte intact; and mutated (hostile) images.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "fat.h"
#include "fat_priv.h"
#include "fat_tools.h"
#include "hostlib.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* A fixed clock: 2024-05-06 07:08:10 UTC. */
#define TEST_TIME 1714979290
static int64_t test_now(void *ctx)
{
    (void)ctx;
    return TEST_TIME;
}

static int mount_t(struct tvol *t, struct tdev *d, unsigned flags)
{
    int rc = tvol_mount(t, d, flags, 0);
    t->v.now = test_now;
    return rc;
}

static void pattern(uint8_t *buf, size_t len, uint32_t seed, uint64_t off)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (off + i) * 0x9E3779B97F4A7C15ull ^ seed;
        buf[i] = (uint8_t)(x >> 29 ^ x >> 7);
    }
}

static uint8_t *xmalloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

/* Creates `path` holding `len` bytes of pattern(seed), written in chunks. */
static void put_file(struct fat_vol *v, const char *path, size_t len, uint32_t seed, size_t chunk)
{
    int h = fat_open(v, path, FAT_O_CREATE | FAT_O_TRUNC);
    if (h < 0)
        fail_msg("open %s: %d", path, h);
    uint8_t *buf = xmalloc(len);
    pattern(buf, len, seed, 0);
    for (size_t off = 0; off < len;) {
        size_t n = len - off < chunk ? len - off : chunk;
        long w = fat_write(v, h, off, buf + off, n);
        if (w != (long)n)
            fail_msg("write %s at %zu: %ld", path, off, w);
        off += n;
    }
    assert_int_equal(fat_close(v, h), 0);
    free(buf);
}

/* The library reads back exactly pattern(seed) of len bytes. */
static void check_file(struct fat_vol *v, const char *path, size_t len, uint32_t seed)
{
    struct fat_stat st;
    int rc = fat_stat_path(v, path, &st);
    if (rc != 0)
        fail_msg("stat %s: %d", path, rc);
    assert_int_equal(st.size, len);
    int h = fat_open(v, path, 0);
    assert_true(h >= 0);
    uint8_t *want = xmalloc(len), *got = xmalloc(len + 16);
    pattern(want, len, seed, 0);
    assert_int_equal(fat_read(v, h, 0, got, len + 16), (long)len);
    if (memcmp(want, got, len) != 0)
        fail_msg("content of %s differs", path);
    assert_int_equal(fat_close(v, h), 0);
    free(want);
    free(got);
}

/* mtools reads back exactly pattern(seed) of len bytes. */
static void check_mtools(const char *img, const char *path, size_t len, uint32_t seed)
{
    size_t got_len;
    uint8_t *got = tool_mcat(img, path, &got_len);
    if (!got)
        fail_msg("mcopy cannot read %s", path);
    uint8_t *want = xmalloc(len);
    pattern(want, len, seed, 0);
    if (got_len != len || memcmp(want, got, len) != 0)
        fail_msg("mtools reads %s as %zu bytes, differing from the %zu written", path, got_len,
                 len);
    free(want);
    free(got);
}

/* Unmounts, saves, and has fsck.fat agree with our free count. */
static void finish(struct tvol *t, struct tdev *d, const char *img)
{
    struct fat_statfs sf;
    assert_int_equal(fat_statfs(&t->v, &sf), 0);
    assert_int_equal(fat_unmount(&t->v), 0);
    if (d->mem)
        tdev_save(d, img);
    long used = tool_fsck_clean(img);
    assert_int_equal(used, (long)(sf.clusters - sf.free_clusters));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- names ---- */

static uint32_t u16(const char *s, uint16_t *out)
{
    uint32_t n;
    assert_int_equal(name_from_utf8(s, strlen(s), out, &n), 0);
    return n;
}

static void test_names(void **state)
{
    (void)state;
    uint16_t u[FAT_NAME_MAX + 1];
    uint8_t raw[11], nt;
    uint32_t n;
    int lossy;

    /* pure 8.3 names keep their case in the NT flags */
    n = u16("README.TXT", u);
    assert_int_equal(sfn_pure(u, n, raw, &nt), 1);
    assert_memory_equal(raw, "README  TXT", 11);
    assert_int_equal(nt, 0);
    n = u16("readme.txt", u);
    assert_int_equal(sfn_pure(u, n, raw, &nt), 1);
    assert_int_equal(nt, NT_LOWER_BASE | NT_LOWER_EXT);
    n = u16("ReadMe.txt", u);
    assert_int_equal(sfn_pure(u, n, raw, &nt), 0);
    n = u16("a.b.c", u);
    assert_int_equal(sfn_pure(u, n, raw, &nt), 0);
    n = u16("ninechars", u);
    assert_int_equal(sfn_pure(u, n, raw, &nt), 0);
    n = u16("a+b", u);
    assert_int_equal(sfn_pure(u, n, raw, &nt), 0);

    /* basis names: Windows' rules */
    n = u16("A long file name.text", u);
    sfn_basis(u, n, raw, &lossy);
    assert_memory_equal(raw, "ALONGFILTEX", 11);
    assert_true(lossy);
    n = u16("Mixed.Txt", u);
    sfn_basis(u, n, raw, &lossy);
    assert_memory_equal(raw, "MIXED   TXT", 11);
    assert_false(lossy);
    n = u16(".bashrc", u);
    sfn_basis(u, n, raw, &lossy);
    assert_memory_equal(raw, "BASHRC     ", 11);
    n = u16("caf\xc3\xa9 a+b.tar.gz", u);
    sfn_basis(u, n, raw, &lossy);
    assert_memory_equal(raw, "CAF_A_BTGZ ", 11);

    /* tails */
    uint8_t basis[11], t[11];
    memcpy(basis, "ALONGFILTXT", 11);
    assert_int_equal(sfn_tail(basis, 1, t), 1);
    assert_memory_equal(t, "ALONGF~1TXT", 11);
    assert_int_equal(sfn_tail_num(basis, t), 1);
    assert_int_equal(sfn_tail(basis, 12345, t), 1);
    assert_memory_equal(t, "AL~12345TXT", 11);
    assert_int_equal(sfn_tail_num(basis, t), 12345);
    assert_int_equal(sfn_tail_num(basis, (const uint8_t *)"ALONGF~0TXT"), 0);
    assert_int_equal(sfn_tail_num(basis, (const uint8_t *)"ALONGF~1DAT"), 0);
    memcpy(basis, "AB      C  ", 11);
    assert_int_equal(sfn_tail(basis, 7, t), 1);
    assert_memory_equal(t, "AB~7    C  ", 11);

    /* the checksum of a known alias (from the FAT specification's algorithm) */
    assert_int_equal(sfn_checksum((const uint8_t *)"README  TXT"), 0x73);

    /* UTF-8 in and out, surrogates for characters beyond the BMP */
    n = u16("\xf0\x9f\x98\x80-\xc3\xa9", u);
    assert_int_equal(n, 4);
    assert_int_equal(u[0], 0xD83D);
    char back[FAT_NAME_BYTES];
    name_to_utf8(u, n, back, sizeof(back));
    assert_string_equal(back, "\xf0\x9f\x98\x80-\xc3\xa9");
    uint16_t lone[2] = {0xD800, 'x'};
    name_to_utf8(lone, 2, back, sizeof(back));
    assert_string_equal(back, "\xef\xbf\xbdx");
    name_to_utf8(u, n, back, 5); /* truncates at a character, still terminated */
    assert_string_equal(back, "\xf0\x9f\x98\x80");

    /* refused names */
    const char *bad[] = {".",         "..",   "a/b",      "a:b",          "a*",   "a?",
                         "a<",        "a>",   "a|",       "a\"",          "a\\",  "trailing.",
                         "trailing ", "\x01", "\xc0\xaf", "\xed\xa0\x80", "\xff", "\xe2\x82",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(name_from_utf8(bad[i], strlen(bad[i]), u, &n), -E_INVAL);
    char long_name[300];
    memset(long_name, 'x', sizeof(long_name));
    assert_int_equal(name_from_utf8(long_name, 255, u, &n), 0);
    assert_int_equal(name_from_utf8(long_name, 256, u, &n), -E_NAMETOOLONG);

    /* lookups fold case beyond ASCII */
    uint16_t a[8], b[8];
    uint32_t na = u16("\xc3\xa9t\xc3\xa9-\xce\xb1", a), nb = u16("\xc3\x89T\xc3\x89-\xce\x91", b);
    assert_true(name_eq(a, na, b, nb));
    assert_int_equal(name_fold(0x3C2), 0x3A3);

    /* short names shown with their case flags and code page 850 */
    const uint8_t e5[11] = {0x05, 'A', 'B', ' ', ' ', ' ', ' ', ' ', 'T', 'X', 'T'};
    n = sfn_to_name(e5, NT_LOWER_EXT, u);
    assert_int_equal(n, 7);
    assert_int_equal(u[0], 0x00D5); /* 0xE5 in code page 850 */
    assert_int_equal(u[4], 't');
}

/* ---- mount: hostile boot sectors are refused ---- */

static void test_mount_rejects(void **state)
{
    (void)state;
    const char *img = work_path("rejects.img");
    tool_mkfs(img, 4 * KIB, "-s 1");
    struct tdev d;
    tdev_load(&d, img, 0);
    uint8_t boot[512];
    memcpy(boot, d.mem, 512);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    assert_int_equal(fat_unmount(&t->v), 0);

    struct {
        unsigned off, size;
        uint32_t val;
    } cases[] = {
        {0x0B, 2, 256},    {0x0B, 2, 513},    {0x0B, 2, 8192}, {0x0D, 1, 0},   {0x0D, 1, 3},
        {0x0E, 2, 0},      {0x10, 1, 0},      {0x10, 1, 3},    {0x11, 2, 512}, {0x16, 2, 1},
        {0x24, 4, 0},      {0x2A, 2, 1},      {0x15, 1, 0x12}, {0x2C, 4, 0},   {0x2C, 4, 1},
        {0x2C, 4, 9000},   {0x13, 2, 0},      {0x13, 2, 16},   {0x1FE, 1, 0},  {0x24, 4, 1},
        {0x13, 2, 0xFFFF}, {0x0E, 2, 0xFFFF},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(d.mem, boot, 512);
        for (unsigned b = 0; b < cases[i].size; b++)
            d.mem[cases[i].off + b] = (uint8_t)(cases[i].val >> (8 * b));
        int rc = mount_t(t, &d, 0);
        if (rc >= 0)
            fail_msg("boot sector case %zu (offset 0x%x = %u) mounted", i, cases[i].off,
                     cases[i].val);
        assert_true(rc == -E_CORRUPT || rc == -E_RANGE);
    }
    memcpy(d.mem, boot, 512);
    /* a device smaller than the volume */
    d.blocks /= 2;
    assert_int_equal(mount_t(t, &d, 0), -E_RANGE);
    d.blocks *= 2;
    /* a device with larger sectors than the volume's, or tiny requests */
    d.align = 8;
    assert_int_equal(mount_t(t, &d, 0), -E_INVAL);
    d.align = 0;
    d.max_blocks = 1;
    assert_int_equal(mount_t(t, &d, 0), 0);
    assert_int_equal(fat_unmount(&t->v), 0);
    d.max_blocks = 0;
    /* too little cache */
    assert_int_equal(tvol_mount(t, &d, 0, 3 * 512), -E_INVAL);
    assert_int_equal(tvol_mount(t, &d, 0, 4 * 512), 0);
    assert_int_equal(fat_unmount(&t->v), 0);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- real images: mkfs.fat in, fsck.fat and mtools out ---- */

struct geometry {
    const char *name;
    unsigned long kib;
    const char *opts;
    int file_mode;       /* large: the device reads and writes the file */
    int mtools;          /* mtools refuses FAT32 with fewer than 65525 clusters */
    uint32_t align;      /* the device's sector, in blocks */
    uint32_t max_blocks; /* the device's largest request */
};

static const struct geometry geometries[] = {
    {"64m-512", 64 * KIB, "", 0, 1, 1, 0},
    {"300m-4k-clusters", 300 * KIB, "-s 8", 1, 1, 1, 8192},
    {"300m-4k-sectors", 300 * KIB, "-S 4096 -s 1", 1, 1, 8, 256},
    {"40m-one-fat", 40 * KIB, "-s 1 -f 1", 0, 1, 1, 1},
    {"2m-tiny", 2 * KIB, "-s 1", 0, 0, 1, 0},
    {"8m-2k-sectors", 8 * KIB, "-S 2048 -s 2", 0, 0, 4, 12},
};

static void run_geometry(const struct geometry *g)
{
    char name[64];
    snprintf(name, sizeof(name), "geo-%s.img", g->name);
    const char *img = work_path(name);
    tool_mkfs(img, g->kib, g->opts);
    struct tdev d;
    if (g->file_mode)
        tdev_file(&d, img);
    else
        tdev_load(&d, img, 0);
    d.align = g->align;
    d.max_blocks = g->max_blocks;
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    uint32_t cs = v->cluster_bytes;
    size_t sizes[] = {0, 1, 511, 512, 513, 4095, 4096, 4097, cs - 1, cs, cs + 1, 3 * cs + 7};
    struct fat_statfs sf;
    assert_int_equal(fat_statfs(v, &sf), 0);
    size_t big = sf.free_clusters * (size_t)cs > 40 * MIB ? 3 * MIB + 123 : 300 * KIB + 5;

    assert_int_equal(fat_mkdir(v, "/Dir One"), 0);
    assert_int_equal(fat_mkdir(v, "/Dir One/nested"), 0);
    assert_int_equal(fat_mkdir(v, "/Dir One/nested/deeper still"), 0);
    char path[512];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(path, sizeof(path), "/Dir One/nested/File %zu of size %zu.bin", i, sizes[i]);
        put_file(v, path, sizes[i], (uint32_t)i, 1000);
    }
    put_file(v, "/BIG.DAT", big, 99, 64 * KIB);
    put_file(v, "/readme.txt", 12, 7, 100);
    put_file(v, "/Dir One/nested/deeper still/\xc3\xa9t\xc3\xa9 caf\xc3\xa9.txt", 4000, 8, 333);
    assert_int_equal(fat_sync(v), 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(path, sizeof(path), "/dir one/NESTED/file %zu of SIZE %zu.bin", i, sizes[i]);
        check_file(v, path, sizes[i], (uint32_t)i);
    }
    check_file(v, "/big.dat", big, 99);
    finish(t, &d, img);

    /* mounted again: the same bytes */
    assert_int_equal(mount_t(t, &d, FAT_MOUNT_CHECK), 0);
    const struct fat_check_report *r = fat_last_check(&t->v);
    assert_int_equal(r->ran, 1);
    assert_int_equal(r->lost_freed + r->chains_cut + r->sizes_fixed + r->entries_removed +
                         r->dots_fixed + r->other_fixed + r->fat_copies,
                     0);
    check_file(&t->v, "/Dir One/nested/deeper still/\xc3\x89T\xc3\x89 CAF\xc3\x89.TXT", 4000, 8);
    assert_int_equal(fat_unmount(&t->v), 0);

    if (g->mtools) {
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            snprintf(path, sizeof(path), "/Dir One/nested/File %zu of size %zu.bin", i, sizes[i]);
            check_mtools(img, path, sizes[i], (uint32_t)i);
        }
        check_mtools(img, "/BIG.DAT", big, 99);
        check_mtools(img, "/readme.txt", 12, 7);
        check_mtools(img, "/Dir One/nested/deeper still/\xc3\xa9t\xc3\xa9 caf\xc3\xa9.txt", 4000,
                     8);
        char *list = tool_mlist(img);
        assert_non_null(strstr(list, "/BIG.DAT\n"));
        assert_non_null(strstr(list, "/readme.txt\n"));
        assert_non_null(strstr(list, "/Dir One/nested/deeper still/\n"));
        assert_non_null(strstr(list, "/Dir One/nested/File 11 of size "));
        free(list);
    }
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

static void test_geometries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(geometries) / sizeof(geometries[0]); i++)
        run_geometry(&geometries[i]);
}

/* ---- the other way: mtools writes, the library reads ---- */

static void write_host_file(const char *path, size_t len, uint32_t seed)
{
    uint8_t *buf = xmalloc(len);
    pattern(buf, len, seed, 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

static void test_mtools_to_library(void **state)
{
    (void)state;
    const char *img = work_path("from-mtools.img");
    tool_mkfs(img, 40 * KIB, "-s 1");
    const char *host = work_path("host-file");
    assert_int_equal(tool_mtools("mmd", img, "::/Photos 2024", NULL), 0);
    assert_int_equal(
        tool_mtools("mmd", img, "::/Photos 2024/Summer holiday in M\xc3\xbcnchen", NULL), 0);
    const char *names[] = {
        "::/Photos 2024/Summer holiday in M\xc3\xbcnchen/A very long file name that needs "
        "several LFN slots.jpeg",
        "::/Photos 2024/short.txt",
        "::/Photos 2024/UPPER.TXT",
        "::/Photos 2024/MiXeD.TxT",
        "::/Photos 2024/several.dots.in.the.name",
        "::/\xc3\xbc"
        "ber.txt",
    };
    size_t lens[] = {700 * KIB + 3, 0, 512, 1, 70000, 4096};
    for (size_t i = 0; i < 6; i++) {
        write_host_file(host, lens[i], (uint32_t)(100 + i));
        assert_int_equal(tool_mtools("mcopy", img, host, names[i]), 0);
    }
    /* a directory with many entries from mtools: ~N tails of its own */
    for (int i = 0; i < 40; i++) {
        char n[128];
        snprintf(n, sizeof(n), "::/Photos 2024/Holiday picture number %d.png", i);
        write_host_file(host, (size_t)i * 37, (uint32_t)(200 + i));
        assert_int_equal(tool_mtools("mcopy", img, host, n), 0);
    }
    tool_fsck_clean(img);

    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    for (size_t i = 0; i < 6; i++)
        check_file(v, names[i] + 2, lens[i], (uint32_t)(100 + i));
    /* lookups ignore case, also through the short alias */
    check_file(v,
               "/photos 2024/SUMMER HOLIDAY IN M\xc3\x9cNCHEN/a very long FILE name that "
               "needs several lfn slots.JPEG",
               lens[0], 100);
    check_file(v, "/PHOTOS~1/SHORT.TXT", 0, 101);
    /* readdir: the names mtools wrote, in UTF-8 */
    int h = fat_open(v, "/Photos 2024", FAT_O_DIR);
    assert_true(h >= 0);
    uint32_t pos = 0;
    struct fat_dirent de;
    int seen = 0, found_mixed = 0, found_upper = 0;
    while (fat_readdir(v, h, &pos, &de) == 1) {
        seen++;
        found_mixed += strcmp(de.name, "MiXeD.TxT") == 0;
        found_upper += strcmp(de.name, "UPPER.TXT") == 0 && de.st.size == 512;
        if (strncmp(de.name, "Holiday picture number ", 23) == 0) {
            int i = atoi(de.name + 23);
            assert_int_equal(de.st.size, (uint32_t)i * 37);
        }
    }
    assert_int_equal(seen, 1 + 4 + 40);
    assert_int_equal(found_mixed, 1);
    assert_int_equal(found_upper, 1);
    assert_int_equal(fat_close(v, h), 0);
    for (int i = 0; i < 40; i++) {
        char n[128];
        snprintf(n, sizeof(n), "/Photos 2024/Holiday picture number %d.png", i);
        check_file(v, n, (size_t)i * 37, (uint32_t)(200 + i));
    }
    /* and the library changes what mtools made */
    assert_int_equal(fat_rename(v, "/Photos 2024/short.txt", "/short moved.txt"), 0);
    assert_int_equal(fat_unlink(v, "/Photos 2024/UPPER.TXT"), 0);
    put_file(v, "/Photos 2024/Holiday picture number 3.png", 5000, 77, 4096);
    finish(t, &d, img);
    check_mtools(img, "/Photos 2024/Holiday picture number 3.png", 5000, 77);
    check_mtools(img, "/short moved.txt", 0, 0);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- error codes and semantics ---- */

static void expect_rc(long got, long want, const char *what)
{
    if (got != want)
        fail_msg("%s: got %ld, want %ld", what, got, want);
}

static void test_semantics(void **state)
{
    (void)state;
    const char *img = work_path("semantics.img");
    tool_mkfs(img, 40 * KIB, "-s 1");
    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;

    /* paths */
    expect_rc(fat_open(v, "relative", FAT_O_CREATE), -E_INVAL, "relative path");
    expect_rc(fat_open(v, "", 0), -E_INVAL, "empty path");
    expect_rc(fat_mkdir(v, "/a"), 0, "mkdir /a");
    expect_rc(fat_open(v, "/a/../b", FAT_O_CREATE), -E_INVAL, "..");
    expect_rc(fat_open(v, "/./b", FAT_O_CREATE), -E_INVAL, ".");
    expect_rc(fat_open(v, "/a/..", 0), -E_INVAL, "trailing ..");
    expect_rc(fat_open(v, "/a:b", FAT_O_CREATE), -E_INVAL, "colon");
    expect_rc(fat_open(v, "/a\\b", FAT_O_CREATE), -E_INVAL, "backslash");
    expect_rc(fat_open(v, "/x.", FAT_O_CREATE), -E_INVAL, "trailing dot");
    expect_rc(fat_open(v, "/bad\xff", FAT_O_CREATE), -E_INVAL, "bad UTF-8");
    char name[1100];
    memset(name, 0, sizeof(name));
    name[0] = '/';
    memset(name + 1, 'n', 256);
    expect_rc(fat_open(v, name, FAT_O_CREATE), -E_NAMETOOLONG, "256 units");
    name[256] = '\0';
    int h = fat_open(v, name, FAT_O_CREATE);
    assert_true(h >= 0);
    assert_int_equal(fat_close(v, h), 0);
    memset(name, 0, sizeof(name));
    for (int i = 0; i < 1030; i += 2)
        name[i] = '/', name[i + 1] = 'a';
    expect_rc(fat_open(v, name, 0), -E_NAMETOOLONG, "path of 1030 bytes");
    h = fat_open(v, "//a///", FAT_O_DIR);
    expect_rc(h >= 0, 1, "repeated slashes");
    assert_int_equal(fat_close(v, h), 0);
    h = fat_open(v, "/a/", FAT_O_DIR);
    expect_rc(h >= 0, 1, "directory with a trailing slash");
    assert_int_equal(fat_close(v, h), 0);
    expect_rc(fat_open(v, "/new/", FAT_O_CREATE), -E_ISDIR, "create \"name/\"");
    expect_rc(fat_mkdir(v, "/made with a slash/"), 0, "mkdir \"name/\"");
    expect_rc(fat_rmdir(v, "/made with a slash//"), 0, "rmdir \"name//\"");
    expect_rc(fat_open(v, "/nope", 0), -E_NOENT, "missing");
    expect_rc(fat_open(v, "/nope/x", FAT_O_CREATE), -E_NOENT, "missing parent");
    put_file(v, "/f", 100, 1, 100);
    expect_rc(fat_open(v, "/f/x", FAT_O_CREATE), -E_NOTDIR, "file as directory");
    expect_rc(fat_mkdir(v, "/f/x"), -E_NOTDIR, "mkdir under a file");
    expect_rc(fat_open(v, "/f", FAT_O_DIR), -E_NOTDIR, "O_DIR on a file");
    expect_rc(fat_open(v, "/f/", 0), -E_NOTDIR, "a file with a trailing slash");
    expect_rc(fat_unlink(v, "/f/"), -E_NOTDIR, "unlink \"file/\"");
    expect_rc(fat_rename(v, "/f", "/g/"), -E_NOTDIR, "rename a file to \"name/\"");
    expect_rc(fat_open(v, "/F", FAT_O_CREATE | FAT_O_EXCL), -E_EXIST, "O_EXCL, other case");
    expect_rc(fat_open(v, "/", FAT_O_CREATE | FAT_O_EXCL), -E_EXIST, "O_EXCL on /");
    expect_rc(fat_open(v, "/", FAT_O_TRUNC), -E_ISDIR, "O_TRUNC on /");
    expect_rc(fat_open(v, "/a", FAT_O_CREATE), -E_ISDIR, "O_CREATE on a directory");
    expect_rc(fat_open(v, "/f", 0x100), -E_INVAL, "unknown flag");
    expect_rc(fat_mkdir(v, "/A"), -E_EXIST, "mkdir exists");
    expect_rc(fat_mkdir(v, "/"), -E_EXIST, "mkdir /");
    expect_rc(fat_rmdir(v, "/"), -E_BUSY, "rmdir /");
    put_file(v, "/a/inside", 5, 2, 5);
    expect_rc(fat_rmdir(v, "/a"), -E_NOTEMPTY, "rmdir not empty");
    expect_rc(fat_rmdir(v, "/f"), -E_NOTDIR, "rmdir a file");
    expect_rc(fat_unlink(v, "/a"), -E_ISDIR, "unlink a directory");
    expect_rc(fat_unlink(v, "/"), -E_ISDIR, "unlink /");
    expect_rc(fat_unlink(v, "/nope"), -E_NOENT, "unlink missing");

    /* open files and handles */
    h = fat_open(v, "/f", 0);
    assert_true(h >= 0);
    int h2 = fat_open(v, "/F", 0);
    assert_true(h2 >= 0);
    expect_rc(fat_unlink(v, "/f"), -E_BUSY, "unlink an open file");
    assert_int_equal(fat_write(v, h2, 100, "tail", 4), 4);
    struct fat_stat st;
    assert_int_equal(fat_stat(v, h, &st), 0);
    assert_int_equal(st.size, 104); /* the two opens share the file */
    assert_int_equal(fat_close(v, h), 0);
    assert_int_equal(fat_close(v, h2), 0);
    expect_rc(fat_close(v, h), -E_BADHANDLE, "closed twice");
    expect_rc(fat_read(v, h, 0, name, 1), -E_BADHANDLE, "read on a closed handle");
    expect_rc(fat_stat(v, -1, &st), -E_BADHANDLE, "negative handle");
    expect_rc(fat_stat(v, 12345, &st), -E_BADHANDLE, "made-up handle");
    expect_rc(fat_unlink(v, "/f"), 0, "unlink after close");
    int hd = fat_open(v, "/a", FAT_O_DIR);
    assert_true(hd >= 0);
    expect_rc(fat_read(v, hd, 0, name, 1), -E_ISDIR, "read a directory");
    expect_rc(fat_write(v, hd, 0, name, 1), -E_ISDIR, "write a directory");
    expect_rc(fat_truncate(v, hd, 0), -E_ISDIR, "truncate a directory");
    assert_int_equal(fat_unlink(v, "/a/inside"), 0);
    expect_rc(fat_rmdir(v, "/a"), -E_BUSY, "rmdir an open directory");
    assert_int_equal(fat_close(v, hd), 0);
    int hs[FAT_OPEN_MAX];
    for (int i = 0; i < FAT_OPEN_MAX; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/many%d", i);
        hs[i] = fat_open(v, p, FAT_O_CREATE);
        assert_true(hs[i] >= 0);
    }
    expect_rc(fat_open(v, "/one more", FAT_O_CREATE), -E_LIMIT, "node table full");
    h = fat_open(v, "/many3", 0); /* already open: shares its node */
    assert_true(h >= 0);
    assert_int_equal(fat_close(v, h), 0);
    for (int i = 0; i < FAT_OPEN_MAX; i++)
        assert_int_equal(fat_close(v, hs[i]), 0);
    expect_rc(fat_readdir(v, hs[0], &(uint32_t){0}, &(struct fat_dirent){0}), -E_BADHANDLE,
              "readdir on a closed handle");

    /* rename */
    assert_int_equal(fat_mkdir(v, "/a/b"), 0);
    assert_int_equal(fat_mkdir(v, "/a/b/c"), 0);
    put_file(v, "/a/b/c/data.bin", 3000, 3, 1000);
    expect_rc(fat_rename(v, "/a", "/a/b/c/x"), -E_INVAL, "directory into itself, deep");
    expect_rc(fat_rename(v, "/a", "/a/x"), -E_INVAL, "directory into itself");
    expect_rc(fat_rename(v, "/a/b", "/a/b"), 0, "rename to itself");
    expect_rc(fat_rename(v, "/a/b", "/many1"), -E_EXIST, "target exists");
    expect_rc(fat_rename(v, "/nope", "/x"), -E_NOENT, "source missing");
    expect_rc(fat_rename(v, "/", "/x"), -E_BUSY, "rename /");
    expect_rc(fat_rename(v, "/many1", "/"), -E_EXIST, "rename onto /");
    expect_rc(fat_rename(v, "/many1", "/nope/x"), -E_NOENT, "target parent missing");
    h = fat_open(v, "/a/b/c/data.bin", 0);
    assert_true(h >= 0);
    expect_rc(fat_rename(v, "/a/b", "/moved b"), 0, "move a directory to the root");
    expect_rc(fat_rename(v, "/moved b/c", "/many2 dir"), 0, "and another");
    assert_int_equal(fat_mkdir(v, "/many2 dir/sub"), 0);
    expect_rc(fat_rename(v, "/moved b", "/many2 dir/sub/moved again"), 0, "into a subdirectory");
    /* the open file followed its directory */
    assert_int_equal(fat_write(v, h, 3000, "more", 4), 4);
    assert_int_equal(fat_close(v, h), 0);
    assert_int_equal(fat_stat_path(v, "/many2 dir/data.bin", &st), 0);
    assert_int_equal(st.size, 3004);
    expect_rc(fat_stat_path(v, "/a/b", &st), -E_NOENT, "old path gone");
    put_file(v, "/many2 dir/case.txt", 10, 4, 10);
    expect_rc(fat_rename(v, "/many2 dir/case.txt", "/many2 dir/CASE.TXT"), 0, "change of case");
    hd = fat_open(v, "/many2 dir", FAT_O_DIR);
    uint32_t pos = 0;
    struct fat_dirent de;
    int n_case = 0;
    while (fat_readdir(v, hd, &pos, &de) == 1)
        if (strcasecmp(de.name, "case.txt") == 0) {
            assert_string_equal(de.name, "CASE.TXT");
            n_case++;
        }
    assert_int_equal(n_case, 1);
    assert_int_equal(fat_close(v, hd), 0);
    check_file(v, "/many2 dir/case.txt", 10, 4);

    /* truncate, holes, limits */
    put_file(v, "/t", 10000, 5, 4096);
    h = fat_open(v, "/t", 0);
    assert_int_equal(fat_truncate(v, h, 100), 0);
    assert_int_equal(fat_truncate(v, h, 5000), 0);
    assert_int_equal(fat_write(v, h, 20000, "0123456789", 10), 10);
    uint8_t *buf = xmalloc(20010), *want = xmalloc(20010);
    memset(want, 0, 20010);
    pattern(want, 100, 5, 0);
    memcpy(want + 20000, "0123456789", 10);
    assert_int_equal(fat_read(v, h, 0, buf, 30000), 20010);
    assert_memory_equal(buf, want, 20010);
    assert_int_equal(fat_read(v, h, 20010, buf, 10), 0);
    assert_int_equal(fat_read(v, h, 1ull << 40, buf, 10), 0);
    expect_rc(fat_write(v, h, FAT_FILE_MAX, "x", 1), -E_RANGE, "write at 4 GiB - 1");
    expect_rc(fat_write(v, h, 1ull << 33, "x", 1), -E_RANGE, "write past 4 GiB");
    expect_rc(fat_truncate(v, h, 1ull << 32), -E_RANGE, "truncate past 4 GiB");
    assert_int_equal(fat_truncate(v, h, 0), 0);
    assert_int_equal(fat_stat(v, h, &st), 0);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.cluster, 0);
    assert_int_equal(fat_write(v, h, 0, "again", 5), 5);
    assert_int_equal(fat_close(v, h), 0);
    h = fat_open(v, "/t", FAT_O_TRUNC);
    assert_int_equal(fat_stat(v, h, &st), 0);
    assert_int_equal(st.size, 0);
    assert_int_equal(st.mtime, TEST_TIME);
    assert_int_equal(fat_close(v, h), 0);
    free(buf);
    free(want);

    /* readdir keeps its place while the directory changes */
    assert_int_equal(fat_mkdir(v, "/list"), 0);
    for (int i = 0; i < 30; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/list/entry number %02d", i);
        put_file(v, p, (size_t)i, 6, 64);
    }
    hd = fat_open(v, "/list", FAT_O_DIR);
    pos = 0;
    int seen[30] = {0}, count = 0;
    while (fat_readdir(v, hd, &pos, &de) == 1) {
        int i;
        assert_int_equal(sscanf(de.name, "entry number %d", &i), 1);
        seen[i]++;
        assert_int_equal(de.st.size, (uint32_t)i);
        if (++count == 10) {
            assert_int_equal(fat_unlink(v, "/list/entry number 00"), 0);
            put_file(v, "/list/a newcomer", 1, 6, 1);
        }
    }
    for (int i = 1; i < 30; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(fat_close(v, hd), 0);

    finish(t, &d, img);
    char *list = tool_mlist(img);
    assert_non_null(strstr(list, "/many2 dir/sub/moved again/\n"));
    assert_non_null(strstr(list, "/many2 dir/CASE.TXT\n"));
    assert_non_null(strstr(list, "/list/a newcomer\n"));
    assert_null(strstr(list, "/list/entry number 00\n"));
    free(list);
    check_mtools(img, "/many2 dir/CASE.TXT", 10, 4);

    /* read-only: reads work, nothing is written */
    assert_int_equal(mount_t(t, &d, FAT_MOUNT_RDONLY), 0);
    unsigned long writes = d.writes;
    check_file(v, "/many2 dir/case.txt", 10, 4);
    expect_rc(fat_open(v, "/new", FAT_O_CREATE), -E_PERM, "create read-only");
    expect_rc(fat_mkdir(v, "/new"), -E_PERM, "mkdir read-only");
    expect_rc(fat_unlink(v, "/t"), -E_PERM, "unlink read-only");
    h = fat_open(v, "/t", 0);
    expect_rc(fat_write(v, h, 0, "x", 1), -E_PERM, "write read-only");
    assert_int_equal(fat_close(v, h), 0);
    assert_int_equal(fat_unmount(v), 0);
    assert_int_equal(d.writes, writes);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- a full disk ---- */

static void test_full_disk(void **state)
{
    (void)state;
    const char *img = work_path("full.img");
    tool_mkfs(img, 2 * KIB, "-s 1");
    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    size_t chunk = 100 * KIB, sizes[64];
    uint8_t *buf = xmalloc(chunk);
    int n = 0;
    long w = 0;
    for (; n < 64; n++) {
        char p[32];
        snprintf(p, sizeof(p), "/fill %d", n);
        int h = fat_open(v, p, FAT_O_CREATE);
        assert_true(h >= 0);
        pattern(buf, chunk, (uint32_t)n, 0);
        w = fat_write(v, h, 0, buf, chunk);
        assert_int_equal(fat_close(v, h), 0);
        sizes[n] = w > 0 ? (size_t)w : 0;
        if (w != (long)chunk)
            break;
    }
    assert_true(n < 64);
    assert_true(w == -E_NOSPC || (w > 0 && w < (long)chunk));
    struct fat_statfs sf;
    assert_int_equal(fat_statfs(v, &sf), 0);
    assert_int_equal(sf.free_clusters, 0);
    expect_rc(fat_mkdir(v, "/no room"), -E_NOSPC, "mkdir on a full disk");
    int h = fat_open(v, "/fill 0", 0);
    expect_rc(fat_write(v, h, chunk, "x", 1), -E_NOSPC, "append on a full disk");
    expect_rc(fat_truncate(v, h, chunk + 5000), -E_NOSPC, "grow on a full disk");
    assert_int_equal(fat_close(v, h), 0);
    for (int i = 0; i <= n; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/fill %d", i);
        check_file(v, p, sizes[i], (uint32_t)i);
    }
    finish(t, &d, img);

    /* room again after an unlink */
    assert_int_equal(mount_t(t, &d, 0), 0);
    assert_int_equal(fat_unlink(v, "/fill 1"), 0);
    put_file(v, "/after", 50 * KIB, 77, 8192);
    assert_int_equal(fat_mkdir(v, "/room again"), 0);
    check_file(v, "/after", 50 * KIB, 77);
    finish(t, &d, img);

    /* a directory filling the disk with entries */
    tool_mkfs(img, 1 * KIB, "-s 1");
    tdev_free(&d);
    tdev_load(&d, img, 0);
    assert_int_equal(mount_t(t, &d, 0), 0);
    put_file(v, "/hog", 900 * KIB, 1, 64 * KIB);
    assert_int_equal(fat_mkdir(v, "/dir"), 0);
    int rc = 0, made = 0;
    while (rc >= 0 && made < 100000) {
        char p[96];
        snprintf(p, sizeof(p), "/dir/A long name to use up entries quickly %d", made);
        rc = fat_open(v, p, FAT_O_CREATE);
        if (rc >= 0) {
            fat_close(v, rc);
            made++;
        }
    }
    assert_int_equal(rc, -E_NOSPC);
    assert_true(made > 10);
    finish(t, &d, img);
    free(buf);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- the data path: few large device requests ---- */

static void test_efficiency(void **state)
{
    (void)state;
    const char *img = work_path("efficiency.img");
    tool_mkfs(img, 64 * KIB, "-s 8");
    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    size_t len = 1 * MIB;
    uint8_t *buf = xmalloc(16 * MIB), *back = xmalloc(len);
    pattern(buf, 16 * MIB, 1, 0);
    int h = fat_open(v, "/one", FAT_O_CREATE);
    assert_true(h >= 0);
    d.writes = d.reads = 0;
    assert_int_equal(fat_write(v, h, 0, buf, len), (long)len);
    /* the data in one request; the FAT and the entry wait for the commit */
    assert_true(d.writes <= 1);
    assert_int_equal(fat_sync(v), 0);
    /* + 256 FAT entries (three sectors here) in two copies, and the entry */
    print_message("1 MiB write and sync: %lu device writes\n", d.writes);
    assert_true(d.writes <= 1 + 3 * 2 + 1);
    d.writes = d.reads = 0;
    assert_int_equal(fat_read(v, h, 0, back, len), (long)len);
    assert_memory_equal(back, buf, len);
    assert_true(d.reads <= 1);
    /* 4 KiB random reads: one device request each */
    d.reads = 0;
    uint64_t saved = rng_state;
    rng_state = 42;
    for (int i = 0; i < 64; i++) {
        uint64_t off = (rng() % (len / 4096)) * 4096;
        assert_int_equal(fat_read(v, h, off, back, 4096), 4096);
        assert_memory_equal(back, buf + off, 4096);
    }
    rng_state = saved;
    assert_int_equal(d.reads, 64);
    assert_int_equal(fat_close(v, h), 0);
    /* 16 MiB in 64 KiB writes, each acknowledged by a sync */
    h = fat_open(v, "/sixteen", FAT_O_CREATE);
    d.writes = d.flushes = 0;
    for (size_t off = 0; off < 16 * MIB; off += 64 * KIB) {
        assert_int_equal(fat_write(v, h, off, buf + off, 64 * KIB), 64 * KIB);
        assert_int_equal(fat_sync(v), 0);
    }
    print_message("16 MiB in 256 synced writes: %lu device writes, %lu flushes\n", d.writes,
                  d.flushes);
    assert_true(d.writes <=
                256 * 5); /* data, FAT sector in two copies, entry; sometimes one more */
    assert_int_equal(fat_close(v, h), 0);
    check_file(v, "/sixteen", 16 * MIB, 1);
    finish(t, &d, img);

    /* small clusters: 16 MiB is 32768 of them; random reads map offsets
     * through the file's runs, not by walking 256 FAT sectors each time */
    tool_mkfs(img, 64 * KIB, "-s 1");
    tdev_free(&d);
    tdev_load(&d, img, 0);
    assert_int_equal(mount_t(t, &d, 0), 0);
    put_file(v, "/sixteen", 16 * MIB, 1, 1 * MIB);
    assert_int_equal(fat_unmount(v), 0);
    assert_int_equal(mount_t(t, &d, 0), 0);
    h = fat_open(v, "/sixteen", 0);
    d.reads = 0;
    rng_state = 43;
    for (int i = 0; i < 256; i++) {
        uint64_t off = (rng() % (16 * MIB / 4096)) * 4096;
        assert_int_equal(fat_read(v, h, off, back, 4096), 4096);
        assert_memory_equal(back, buf + off, 4096);
    }
    print_message("256 random 4 KiB reads, 512-byte clusters, cold: %lu device reads\n", d.reads);
    assert_true(d.reads <= 256 + 300); /* one each, and the FAT once */
    assert_int_equal(fat_close(v, h), 0);
    assert_int_equal(fat_unmount(v), 0);
    free(buf);
    free(back);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- a driver that fails and comes back: the caller retries ---- */

static void test_transient_errors(void **state)
{
    (void)state;
    const char *img = work_path("transient.img");
    tool_mkfs(img, 16 * KIB, "-s 2");
    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    size_t len = 4 * MIB, chunk = 64 * KIB;
    uint8_t *buf = xmalloc(len);
    pattern(buf, len, 9, 0);
    int h = fat_open(v, "/four", FAT_O_CREATE);
    assert_true(h >= 0);
    int failures = 0;
    uint64_t saved = rng_state;
    rng_state = 7;
    for (size_t off = 0; off < len;) {
        if (rng() % 3 == 0)
            d.fail_write = (long)(d.writes + 1 + rng() % 3);
        if (rng() % 5 == 0)
            d.fail_flush = (long)(d.flushes + 1 + rng() % 2);
        if (rng() % 7 == 0)
            d.fail_read = (long)(d.reads + 1);
        long w = fat_write(v, h, off, buf + off, chunk);
        if (w < 0) {
            assert_int_equal(w, -E_IO);
            failures++;
            continue; /* retry what was in flight */
        }
        off += (size_t)w;
        while (fat_sync(v) == -E_IO)
            failures++;
    }
    rng_state = saved;
    d.fail_write = d.fail_flush = d.fail_read = 0;
    assert_true(failures > 5);
    assert_int_equal(fat_close(v, h), 0);
    check_file(v, "/four", len, 9);
    d.fail_read = (long)(d.reads + 1);
    h = fat_open(v, "/four", 0);
    long r = h >= 0 ? fat_read(v, h, 0, buf, 4096) : h;
    assert_true(r == -E_IO || r == 4096);
    if (h >= 0)
        fat_close(v, h);
    finish(t, &d, img);
    free(buf);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- a seeded random run checked against a model ---- */

#define M_MAX 200

struct ment {
    char path[1400]; /* as created; canonical: one '/' between components */
    int dir;
    uint8_t *data;
    size_t size;
};

struct model {
    struct ment e[M_MAX];
    int n;
    size_t bytes;
};

/* Next component of *p: its start and length; 0 at the end. */
static size_t next_comp(const char **p, const char **start)
{
    while (**p == '/')
        (*p)++;
    *start = *p;
    while (**p && **p != '/')
        (*p)++;
    return (size_t)(*p - *start);
}

static int comp_eq(const char *a, size_t la, const char *b, size_t lb)
{
    uint16_t ua[FAT_NAME_MAX + 1], ub[FAT_NAME_MAX + 1];
    uint32_t na, nb;
    assert_int_equal(name_from_utf8(a, la, ua, &na), 0);
    assert_int_equal(name_from_utf8(b, lb, ub, &nb), 0);
    return name_eq(ua, na, ub, nb);
}

/* How many leading components of `inner` match all of `outer` (-1 if
 * they do not all match); the library's case folding. */
static int path_prefix(const char *outer, const char *inner)
{
    const char *a = outer, *b = inner, *sa, *sb;
    for (;;) {
        size_t la = next_comp(&a, &sa), lb = next_comp(&b, &sb);
        if (la == 0)
            return lb == 0 ? 0 : 1; /* equal, or inner is below */
        if (lb == 0 || !comp_eq(sa, la, sb, lb))
            return -1;
    }
}

static int path_same(const char *a, const char *b)
{
    return path_prefix(a, b) == 0;
}

static int path_below(const char *inner, const char *outer)
{
    return strcmp(outer, "/") == 0 ? strcmp(inner, "/") != 0 : path_prefix(outer, inner) == 1;
}

static int m_find(const struct model *m, const char *path)
{
    for (int i = 0; i < m->n; i++)
        if (path_same(m->e[i].path, path))
            return i;
    return -1;
}

static void parent_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    snprintf(out, cap, "%.*s", (int)len, path);
}

static int depth_of(const char *path)
{
    int d = 0;
    for (; *path; path++)
        d += *path == '/';
    return strcmp(path, "/") == 0 ? 0 : d;
}

static int m_children(const struct model *m, const char *dir)
{
    int n = 0;
    char par[1400];
    for (int i = 0; i < m->n; i++) {
        parent_of(m->e[i].path, par, sizeof(par));
        n += path_same(par, dir);
    }
    return n;
}

static void join(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
}

static void rand_name(char *out, size_t cap)
{
    unsigned k = (unsigned)(rng() % 40);
    switch (rng() % 9) {
    case 0:
        snprintf(out, cap, "F%u.TXT", k);
        break;
    case 1:
        snprintf(out, cap, "f%u.dat", k);
        break;
    case 2:
        snprintf(out, cap, "Mixed%u.Bin", k);
        break;
    case 3:
        snprintf(out, cap, "A longer name %u with spaces.text", k);
        break;
    case 4:
        snprintf(out, cap, "caf\xc3\xa9 %u", k);
        break;
    case 5:
        snprintf(out, cap, "many.dots.%u.x.y", k);
        break;
    case 6: {
        size_t len = 100 + rng() % 100;
        int n = snprintf(out, cap, "L%u", k);
        for (size_t i = (size_t)n; i < len && i + 1 < cap; i++)
            out[i] = (char)('a' + (i * 7 + k) % 26);
        out[len < cap ? len : cap - 1] = '\0';
        break;
    }
    case 7:
        snprintf(out, cap, "name+%u,;=", k);
        break;
    default:
        snprintf(out, cap, "Long Name %u.txt", k);
        break;
    }
}

/* "/" or a random directory of the model, no deeper than max_depth. */
static const char *pick_dir(const struct model *m, int max_depth)
{
    int cand[M_MAX], n = 0;
    for (int i = 0; i < m->n; i++)
        if (m->e[i].dir && depth_of(m->e[i].path) <= max_depth)
            cand[n++] = i;
    if (n == 0 || rng() % 4 == 0)
        return "/";
    return m->e[cand[rng() % (uint64_t)n]].path;
}

static int pick(const struct model *m, int want_dir)
{
    int cand[M_MAX], n = 0;
    for (int i = 0; i < m->n; i++)
        if (want_dir < 0 || m->e[i].dir == want_dir)
            cand[n++] = i;
    return n ? cand[rng() % (uint64_t)n] : -1;
}

static void m_remove(struct model *m, int i)
{
    free(m->e[i].data);
    m->bytes -= m->e[i].size;
    m->e[i] = m->e[--m->n];
}

static void m_resize(struct model *m, struct ment *e, size_t size)
{
    if (size > e->size) {
        e->data = realloc(e->data, size);
        assert_non_null(e->data);
        memset(e->data + e->size, 0, size - e->size);
    }
    m->bytes += size;
    m->bytes -= e->size;
    e->size = size;
}

static void verify_model(struct fat_vol *v, const struct model *m)
{
    for (int i = 0; i < m->n; i++) {
        const struct ment *e = &m->e[i];
        struct fat_stat st;
        assert_int_equal(fat_stat_path(v, e->path, &st), 0);
        assert_int_equal(!!(st.attr & FAT_ATTR_DIR), e->dir);
        if (e->dir)
            continue;
        assert_int_equal(st.size, e->size);
        int h = fat_open(v, e->path, 0);
        assert_true(h >= 0);
        uint8_t *buf = xmalloc(e->size + 1);
        assert_int_equal(fat_read(v, h, 0, buf, e->size + 1), (long)e->size);
        if (e->size && memcmp(buf, e->data, e->size) != 0)
            fail_msg("content of %s differs from the model", e->path);
        free(buf);
        assert_int_equal(fat_close(v, h), 0);
    }
    /* every directory lists exactly its children, by the names given */
    for (int i = -1; i < m->n; i++) {
        if (i >= 0 && !m->e[i].dir)
            continue;
        const char *dir = i < 0 ? "/" : m->e[i].path;
        int h = fat_open(v, dir, FAT_O_DIR);
        assert_true(h >= 0);
        uint32_t pos = 0;
        struct fat_dirent de;
        int n = 0;
        while (fat_readdir(v, h, &pos, &de) == 1) {
            char p[1400];
            join(p, sizeof(p), dir, de.name);
            int k = m_find(m, p);
            if (k < 0 || strcmp(strrchr(m->e[k].path, '/') + 1, de.name) != 0)
                fail_msg("%s: listed entry %s is not in the model", dir, de.name);
            n++;
        }
        assert_int_equal(n, m_children(m, dir));
        assert_int_equal(fat_close(v, h), 0);
    }
}

/* What a model run did: successes and expected refusals per kind. */
static unsigned m_ok[12], m_refused[12];
#define OK_(k) (m_ok[k]++)
#define NO_(k) (m_refused[k]++)

static void model_step(struct tvol *t, struct tdev *d, struct model *m)
{
    struct fat_vol *v = &t->v;
    uint32_t cs = v->cluster_bytes;
    char name[300], path[1400], par[1400];
    uint64_t r = rng() % 100;
    if (r < 15) { /* create */
        if (m->n >= M_MAX)
            return;
        rand_name(name, sizeof(name));
        join(path, sizeof(path), pick_dir(m, 3), name);
        int exists = m_find(m, path) >= 0;
        int h = fat_open(v, path, FAT_O_CREATE | FAT_O_EXCL);
        if (exists) {
            expect_rc(h, -E_EXIST, path);
            NO_(0);
            return;
        }
        if (h < 0)
            fail_msg("create %s: %d", path, h);
        OK_(0);
        assert_int_equal(fat_close(v, h), 0);
        struct ment *e = &m->e[m->n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->path, sizeof(e->path), "%s", path);
    } else if (r < 40) { /* write */
        int i = pick(m, 0);
        if (i < 0)
            return;
        struct ment *e = &m->e[i];
        uint64_t how = rng() % 10;
        size_t off = how < 7   ? (size_t)(rng() % (e->size + 1))
                     : how < 9 ? e->size
                               : e->size + (size_t)(rng() % (3 * cs + 1));
        size_t len = rng() % 5 ? (size_t)(rng() % (3 * cs + 1)) : (size_t)(rng() % (300 * KIB));
        if (m->bytes + off + len > 24 * MIB)
            return;
        uint8_t *buf = xmalloc(len);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)rng();
        int h = fat_open(v, e->path, 0);
        assert_true(h >= 0);
        long w = fat_write(v, h, off, buf, len);
        if (w != (long)len)
            fail_msg("write %zu at %zu of %s: %ld", len, off, e->path, w);
        OK_(1);
        assert_int_equal(fat_close(v, h), 0);
        if (len) {
            if (off + len > e->size)
                m_resize(m, e, off + len);
            memcpy(e->data + off, buf, len);
        }
        free(buf);
    } else if (r < 50) { /* read a range */
        int i = pick(m, 0);
        if (i < 0)
            return;
        struct ment *e = &m->e[i];
        size_t off = (size_t)(rng() % (e->size + 2)), len = (size_t)(rng() % (2 * cs + 2));
        uint8_t *buf = xmalloc(len);
        int h = fat_open(v, e->path, 0);
        long got = fat_read(v, h, off, buf, len);
        size_t want = off >= e->size ? 0 : e->size - off < len ? e->size - off : len;
        assert_int_equal(got, (long)want);
        if (want && memcmp(buf, e->data + off, want) != 0)
            fail_msg("read of %s at %zu differs", e->path, off);
        OK_(2);
        assert_int_equal(fat_close(v, h), 0);
        free(buf);
    } else if (r < 57) { /* truncate */
        int i = pick(m, 0);
        if (i < 0)
            return;
        struct ment *e = &m->e[i];
        size_t size = (size_t)(rng() % (2 * e->size + cs + 1));
        if (m->bytes + size > 24 * MIB)
            return;
        int h = fat_open(v, e->path, 0);
        assert_int_equal(fat_truncate(v, h, size), 0);
        OK_(3);
        assert_int_equal(fat_close(v, h), 0);
        m_resize(m, e, size);
    } else if (r < 64) { /* unlink */
        int i = pick(m, 0);
        if (i < 0)
            return;
        expect_rc(fat_unlink(v, m->e[i].path), 0, m->e[i].path);
        OK_(4);
        m_remove(m, i);
    } else if (r < 71) { /* mkdir */
        if (m->n >= M_MAX)
            return;
        rand_name(name, sizeof(name));
        if (strlen(name) > 60)
            name[60] = '\0';
        join(path, sizeof(path), pick_dir(m, 2), name);
        int exists = m_find(m, path) >= 0;
        int rc = fat_mkdir(v, path);
        expect_rc(rc, exists ? -E_EXIST : 0, path);
        exists ? NO_(5) : OK_(5);
        if (!exists) {
            struct ment *e = &m->e[m->n++];
            memset(e, 0, sizeof(*e));
            snprintf(e->path, sizeof(e->path), "%s", path);
            e->dir = 1;
        }
    } else if (r < 76) { /* rmdir */
        int i = pick(m, 1);
        if (i < 0)
            return;
        int busy = m_children(m, m->e[i].path) > 0;
        expect_rc(fat_rmdir(v, m->e[i].path), busy ? -E_NOTEMPTY : 0, m->e[i].path);
        busy ? NO_(6) : OK_(6);
        if (!busy)
            m_remove(m, i);
    } else if (r < 88) { /* rename */
        int i = pick(m, -1);
        if (i < 0)
            return;
        struct ment *e = &m->e[i];
        const char *dir = pick_dir(m, e->dir ? 2 : 3);
        if (rng() % 5 == 0) { /* the same name in another case */
            parent_of(e->path, par, sizeof(par));
            dir = par;
            snprintf(name, sizeof(name), "%s", strrchr(e->path, '/') + 1);
            for (char *c = name; *c; c++)
                if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z'))
                    *c ^= 0x20;
        } else {
            rand_name(name, sizeof(name));
            if (e->dir && strlen(name) > 60)
                name[60] = '\0';
        }
        join(path, sizeof(path), dir, name);
        int want;
        if (e->dir && (path_same(dir, e->path) || path_below(dir, e->path)))
            want = -E_INVAL;
        else if (path_same(path, e->path))
            want = 0;
        else if (m_find(m, path) >= 0)
            want = -E_EXIST;
        else
            want = 0;
        if (want == 0 && strlen(path) + 300 >= sizeof(e->path))
            return; /* keep every path short enough to go deeper */
        char old[1400];
        snprintf(old, sizeof(old), "%s", e->path);
        int rc = fat_rename(v, old, path);
        if (rc != want)
            fail_msg("rename %s -> %s: got %d, want %d", old, path, rc, want);
        rc ? NO_(7) : OK_(7);
        if (rc != 0)
            return;
        for (int k = 0; k < m->n; k++) {
            struct ment *c = &m->e[k];
            if (k == i) {
                snprintf(c->path, sizeof(c->path), "%s", path);
            } else if (e->dir && path_below(c->path, old)) {
                char tail[1400];
                const char *p = c->path, *sp;
                for (int dd = depth_of(old); dd > 0; dd--)
                    next_comp(&p, &sp);
                snprintf(tail, sizeof(tail), "%s", p);
                size_t pl = strlen(path), tl = strlen(tail);
                assert_true(pl + tl < sizeof(c->path));
                memcpy(c->path, path, pl);
                memcpy(c->path + pl, tail, tl + 1);
            }
        }
    } else if (r < 92) {
        assert_int_equal(fat_sync(v), 0);
        OK_(8);
    } else if (r < 95) {
        OK_(9);
        assert_int_equal(fat_unmount(v), 0);
        unsigned flags = rng() % 3 == 0 ? FAT_MOUNT_CHECK : 0;
        assert_int_equal(tvol_mount(t, d, flags, t->v.nslots * t->v.bps), 0);
        t->v.now = test_now;
        const struct fat_check_report *rep = fat_last_check(v);
        assert_int_equal(rep->lost_freed + rep->chains_cut + rep->sizes_fixed +
                             rep->entries_removed + rep->dots_fixed + rep->other_fixed +
                             rep->fat_copies,
                         0);
    } else {
        verify_model(v, m);
        OK_(10);
    }
}

static void run_model(uint64_t seed, size_t cache_bytes, int steps)
{
    const char *img = work_path("model.img");
    tool_mkfs(img, 64 * KIB, "-s 1");
    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    struct model *m = calloc(1, sizeof(*m));
    assert_int_equal(tvol_mount(t, &d, 0, cache_bytes), 0);
    t->v.now = test_now;
    rng_state = seed;
    print_message("model run: seed %#llx, %u cache slots, %d steps\n", (unsigned long long)seed,
                  t->v.nslots, steps);
    for (int i = 0; i < steps; i++)
        model_step(t, &d, m);
    verify_model(&t->v, m);
    finish(t, &d, img);

    /* mtools sees the same tree and the same bytes */
    char *list = tool_mlist(img);
    char **lines = calloc((size_t)m->n + 1, sizeof(char *));
    size_t len = 0;
    for (int i = 0; i < m->n; i++) {
        lines[i] = m->e[i].path;
        len += strlen(m->e[i].path) + 2;
    }
    qsort(lines, (size_t)m->n, sizeof(char *), cmp_str);
    char *want = (char *)xmalloc(len + 1);
    size_t o = 0;
    for (int i = 0; i < m->n; i++) {
        int k = m_find(m, lines[i]);
        o += (size_t)sprintf((char *)want + o, "%s%s\n", lines[i], m->e[k].dir ? "/" : "");
    }
    want[o] = '\0';
    if (strcmp(list, (char *)want) != 0)
        fail_msg("mdir lists\n%s\nthe model has\n%s", list, want);
    free(list);
    free(want);
    free(lines);
    int checked = 0;
    for (int i = 0; i < m->n && checked < 40; i++) {
        if (m->e[i].dir)
            continue;
        size_t got_len;
        uint8_t *got = tool_mcat(img, m->e[i].path, &got_len);
        if (!got || got_len != m->e[i].size || (got_len && memcmp(got, m->e[i].data, got_len) != 0))
            fail_msg("mtools reads %s differently", m->e[i].path);
        free(got);
        checked++;
    }
    print_message("model run: %d entries, %zu bytes, %d files read back by mtools\n", m->n,
                  m->bytes, checked);
    print_message("  create %u (+%u refused), write %u, read %u, truncate %u, unlink %u, mkdir %u "
                  "(+%u), rmdir %u (+%u), rename %u (+%u), sync %u, remount %u, verify %u\n",
                  m_ok[0], m_refused[0], m_ok[1], m_ok[2], m_ok[3], m_ok[4], m_ok[5], m_refused[5],
                  m_ok[6], m_refused[6], m_ok[7], m_refused[7], m_ok[8], m_ok[9], m_ok[10]);
    memset(m_ok, 0, sizeof(m_ok));
    memset(m_refused, 0, sizeof(m_refused));
    while (m->n)
        m_remove(m, 0);
    free(m);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

static void test_random_model(void **state)
{
    (void)state;
    run_model(0x6772616e697465ull, 0, 1500);
    run_model(0x5eed2, 4 * 512, 700); /* four cache slots: commits on every eviction */
}

/* ---- power cuts: the durability rule ---- */

/*
 * A workload whose acknowledged state is known: phase A builds files and
 * directories and syncs; phase B changes them (each file at most once
 * between two syncs, syncing now and then) until the power goes after a
 * random number of written blocks, with the writes since the last flush
 * landing in any subset. After the repair at the next mount, every file
 * must be in a state its operations allow, nothing else may exist,
 * fsck.fat must be clean and a second check must find nothing.
 */
enum { C_NONE, C_APPEND, C_OVERWRITE, C_TRUNC, C_UNLINK, C_RENAME, C_CREATE, C_MKDIR };

struct cfile {
    char path[160];  /* where it is acknowledged (or created) */
    char path2[160]; /* rename target */
    int dir;         /* 1: a directory; 2: a directory holding "child.bin" = base */
    int acked;       /* exists at the last acknowledgment */
    uint8_t *base;   /* content then */
    size_t base_len;
    int op;       /* what happened since, at most one */
    uint8_t *cur; /* content after it */
    size_t cur_len;
};

struct cworld {
    struct cfile f[96];
    int n;
    int names;
};

static const char *const cdirs[] = {"/", "/d1", "/d1/sub"};

static void cw_name(struct cworld *w, char *out, size_t cap)
{
    const char *dir = cdirs[rng() % 3];
    int k = w->names++;
    if (rng() % 2)
        snprintf(out, cap, "%s/A long file name number %d.data", strcmp(dir, "/") ? dir : "", k);
    else
        snprintf(out, cap, "%s/F%d.BIN", strcmp(dir, "/") ? dir : "", k);
}

static uint8_t *rand_bytes(size_t len)
{
    uint8_t *b = xmalloc(len);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)rng();
    return b;
}

static void cw_free(struct cworld *w)
{
    for (int i = 0; i < w->n; i++) {
        if (w->f[i].cur != w->f[i].base)
            free(w->f[i].cur);
        free(w->f[i].base);
    }
    memset(w, 0, sizeof(*w));
}

/* Every operation that returned before a successful sync is acknowledged. */
static void cw_ack(struct cworld *w)
{
    for (int i = 0; i < w->n; i++) {
        struct cfile *f = &w->f[i];
        if (f->op == C_UNLINK) {
            if (f->cur != f->base)
                free(f->cur);
            free(f->base);
            *f = w->f[--w->n];
            i--;
            continue;
        }
        if (f->op == C_RENAME)
            memcpy(f->path, f->path2, sizeof(f->path));
        if (f->cur != f->base) {
            free(f->base);
            f->base = f->cur;
        }
        f->base_len = f->cur_len;
        f->acked = 1;
        f->op = C_NONE;
    }
}

static int c_write(struct fat_vol *v, const char *path, size_t off, const uint8_t *b, size_t len,
                   unsigned flags)
{
    int h = fat_open(v, path, flags);
    if (h < 0)
        return h;
    long wr = len ? fat_write(v, h, off, b, len) : 0;
    int rc = fat_close(v, h);
    return wr < 0 ? (int)wr : wr != (long)len ? -E_NOSPC : rc;
}

static struct cfile *cw_add(struct cworld *w)
{
    assert_true(w->n < (int)(sizeof(w->f) / sizeof(w->f[0])));
    struct cfile *f = &w->f[w->n++];
    memset(f, 0, sizeof(*f));
    return f;
}

/* Phase A: two directories and some files, synced. */
static void crash_setup(struct fat_vol *v, struct cworld *w)
{
    assert_int_equal(fat_mkdir(v, "/d1"), 0);
    assert_int_equal(fat_mkdir(v, "/d1/sub"), 0);
    for (int i = 0; i < 2; i++) {
        struct cfile *f = cw_add(w);
        snprintf(f->path, sizeof(f->path), "%s", cdirs[i + 1]);
        f->dir = 1;
    }
    for (int i = 0; i < 2; i++) {
        struct cfile *f = cw_add(w);
        char child[200];
        snprintf(f->path, sizeof(f->path), i ? "/d1/mv%d" : "/mv%d", i);
        f->dir = 2;
        f->cur_len = 3000;
        f->cur = rand_bytes(f->cur_len);
        assert_int_equal(fat_mkdir(v, f->path), 0);
        snprintf(child, sizeof(child), "%s/child.bin", f->path);
        assert_int_equal(c_write(v, child, 0, f->cur, f->cur_len, FAT_O_CREATE), 0);
    }
    /* a directory one entry short of a full cluster: new names make it grow */
    struct cfile *crowd = cw_add(w);
    snprintf(crowd->path, sizeof(crowd->path), "/crowd");
    crowd->dir = 1;
    assert_int_equal(fat_mkdir(v, "/crowd"), 0);
    for (int i = 0; i < 10; i++) {
        struct cfile *f = cw_add(w);
        snprintf(f->path, sizeof(f->path), "/crowd/Crowded name %d.txt", i);
        f->cur_len = (size_t)i;
        f->cur = rand_bytes(f->cur_len);
        assert_int_equal(c_write(v, f->path, 0, f->cur, f->cur_len, FAT_O_CREATE), 0);
    }
    for (int i = 0; i < 8; i++) {
        struct cfile *f = cw_add(w);
        cw_name(w, f->path, sizeof(f->path));
        size_t len = i == 0 ? 150 * KIB : (size_t)(rng() % 20000);
        f->cur = rand_bytes(len);
        f->cur_len = len;
        assert_int_equal(c_write(v, f->path, 0, f->cur, len, FAT_O_CREATE | FAT_O_EXCL), 0);
    }
    assert_int_equal(fat_sync(v), 0);
    cw_ack(w);
}

/* Phase B: `steps` operations; stops at the first error (the power went). */
static void crash_work(struct fat_vol *v, struct cworld *w, int steps)
{
    for (int s = 0; s < steps; s++) {
        uint64_t r = rng() % 100;
        if (r < 12) {
            if (fat_sync(v) < 0)
                return;
            cw_ack(w);
            continue;
        }
        if (r < 27) { /* a new file */
            struct cfile *f = cw_add(w);
            cw_name(w, f->path, sizeof(f->path));
            if (rng() % 3 == 0)
                snprintf(f->path, sizeof(f->path), "/crowd/Newcomer %d.txt", w->names++);
            f->op = C_CREATE;
            f->cur_len = rng() % 4 == 0 ? 90 * KIB : (size_t)(rng() % 10000);
            f->cur = rand_bytes(f->cur_len);
            if (c_write(v, f->path, 0, f->cur, f->cur_len, FAT_O_CREATE | FAT_O_EXCL) < 0)
                return;
            continue;
        }
        if (r < 32) {
            struct cfile *f = cw_add(w);
            cw_name(w, f->path, sizeof(f->path));
            f->dir = 1;
            f->op = C_MKDIR;
            if (fat_mkdir(v, f->path) < 0)
                return;
            continue;
        }
        int cand[96], n = 0;
        for (int i = 0; i < w->n; i++)
            if (w->f[i].acked && w->f[i].dir != 1 && w->f[i].op == C_NONE)
                cand[n++] = i;
        if (n == 0)
            continue;
        struct cfile *f = &w->f[cand[rng() % (uint64_t)n]];
        size_t len = f->base_len;
        int rc = 0;
        if (f->dir == 2) { /* a directory moves, with its file */
            f->op = C_RENAME;
            f->cur = f->base;
            f->cur_len = len;
            cw_name(w, f->path2, sizeof(f->path2));
            rc = fat_rename(v, f->path, f->path2);
        } else if (r < 50) {
            size_t add = rng() % 4 == 0 ? 60 * KIB : 1 + (size_t)(rng() % 6000);
            f->op = C_APPEND;
            f->cur_len = len + add;
            f->cur = xmalloc(f->cur_len);
            memcpy(f->cur, f->base, len);
            uint8_t *d = rand_bytes(add);
            memcpy(f->cur + len, d, add);
            free(d);
            rc = c_write(v, f->path, len, f->cur + len, add, 0);
        } else if (r < 65 && len) {
            size_t off = (size_t)(rng() % len), cnt = 1 + (size_t)(rng() % (len - off));
            f->op = C_OVERWRITE;
            f->cur_len = len;
            f->cur = xmalloc(len);
            memcpy(f->cur, f->base, len);
            uint8_t *d = rand_bytes(cnt);
            memcpy(f->cur + off, d, cnt);
            free(d);
            rc = c_write(v, f->path, off, f->cur + off, cnt, 0);
        } else if (r < 75 && len) {
            f->op = C_TRUNC;
            f->cur_len = (size_t)(rng() % len);
            f->cur = xmalloc(f->cur_len);
            memcpy(f->cur, f->base, f->cur_len);
            int h = fat_open(v, f->path, 0);
            rc = h < 0 ? h : fat_truncate(v, h, f->cur_len);
            if (h >= 0)
                fat_close(v, h);
        } else if (r < 85) {
            f->op = C_UNLINK;
            f->cur = f->base;
            f->cur_len = len;
            rc = fat_unlink(v, f->path);
        } else if (len) {
            f->op = C_RENAME;
            f->cur = f->base;
            f->cur_len = len;
            cw_name(w, f->path2, sizeof(f->path2));
            rc = fat_rename(v, f->path, f->path2);
        }
        if (rc < 0)
            return;
    }
}

/* Size and content of a file, or -1 if it is not there. */
static long c_read(struct fat_vol *v, const char *path, uint8_t **data)
{
    struct fat_stat st;
    *data = NULL;
    if (fat_stat_path(v, path, &st) != 0)
        return -1;
    if (st.attr & FAT_ATTR_DIR)
        return -2;
    int h = fat_open(v, path, 0);
    assert_true(h >= 0);
    *data = xmalloc(st.size);
    assert_int_equal(fat_read(v, h, 0, *data, st.size), (long)st.size);
    assert_int_equal(fat_close(v, h), 0);
    return (long)st.size;
}

static void crash_expect(struct fat_vol *v, const struct cfile *f, uint64_t seed)
{
    uint8_t *a = NULL, *b = NULL;
    struct fat_stat st;
    long la = -1, lb = -1;
    const char *why = NULL;
    if (f->dir == 2) {
        char child[200];
        int at1 = fat_stat_path(v, f->path, &st) == 0;
        int at2 = f->op == C_RENAME && fat_stat_path(v, f->path2, &st) == 0;
        if (at1 == at2) {
            why = at1 ? "moved directory: under both names" : "moved directory: lost";
            goto out;
        }
        snprintf(child, sizeof(child), "%s/child.bin", at1 ? f->path : f->path2);
        la = c_read(v, child, &a);
        if (la != (long)f->base_len || memcmp(a, f->base, (size_t)la))
            why = "moved directory: its file changed";
        goto out;
    }
    if (f->dir) {
        int rc = fat_stat_path(v, f->path, &st);
        if (f->op != C_MKDIR && rc != 0)
            why = "acknowledged directory lost";
        else if (rc == 0 && !(st.attr & FAT_ATTR_DIR))
            why = "directory is not a directory";
        goto out;
    }
    la = c_read(v, f->path, &a);
    switch (f->op) {
    case C_NONE:
        if (la != (long)f->base_len || (la && memcmp(a, f->base, (size_t)la)))
            why = "acknowledged file changed";
        break;
    case C_APPEND:
        if (la < (long)f->base_len || la > (long)f->cur_len || memcmp(a, f->cur, (size_t)la))
            why = "append: not the acknowledged bytes plus a prefix of the new ones";
        break;
    case C_OVERWRITE:
        if (la != (long)f->base_len) {
            why = "overwrite changed the size";
            break;
        }
        for (long i = 0; i < la; i++)
            if (a[i] != f->base[i] && a[i] != f->cur[i])
                why = "overwrite: a byte neither old nor new";
        break;
    case C_TRUNC:
        if ((la != (long)f->base_len && la != (long)f->cur_len) ||
            (la > 0 && memcmp(a, f->base, (size_t)la)))
            why = "truncate: neither size, or the bytes changed";
        break;
    case C_UNLINK:
        if (la >= 0 && (la != (long)f->base_len || memcmp(a, f->base, (size_t)la)))
            why = "unlink: file there but changed";
        break;
    case C_RENAME:
        lb = c_read(v, f->path2, &b);
        if ((la >= 0) == (lb >= 0))
            why = la >= 0 ? "rename: both names" : "rename: neither name";
        else if (la >= 0 ? la != (long)f->base_len || memcmp(a, f->base, (size_t)la)
                         : lb != (long)f->base_len || memcmp(b, f->base, (size_t)lb))
            why = "rename: content changed";
        break;
    case C_CREATE:
        if (la == -2 || la > (long)f->cur_len || (la > 0 && memcmp(a, f->cur, (size_t)la)))
            why = "new file: not a prefix of what was written";
        break;
    }
out:
    if (why)
        fail_msg("seed %#llx: %s: %s (size %ld/%ld, acknowledged %zu, in flight %zu, op %d)",
                 (unsigned long long)seed, f->path, why, la, lb, f->base_len, f->cur_len, f->op);
    free(a);
    free(b);
}

/* Nothing but what the workload made may exist. */
static int c_walk(struct fat_vol *v, const char *dir, const struct cworld *w, uint64_t seed)
{
    int h = fat_open(v, dir, FAT_O_DIR), count = 0;
    assert_true(h >= 0);
    uint32_t pos = 0;
    struct fat_dirent de;
    while (fat_readdir(v, h, &pos, &de) == 1) {
        char p[700];
        join(p, sizeof(p), dir, de.name);
        int known = 0;
        for (int i = 0; i < w->n && !known; i++) {
            const struct cfile *f = &w->f[i];
            char c1[200], c2[200];
            snprintf(c1, sizeof(c1), "%s/child.bin", f->path);
            snprintf(c2, sizeof(c2), "%s/child.bin", f->path2);
            known = path_same(p, f->path) || (f->op == C_RENAME && path_same(p, f->path2)) ||
                    (f->dir == 2 && (path_same(p, c1) || (f->op == C_RENAME && path_same(p, c2))));
        }
        if (!known)
            fail_msg("seed %#llx: %s exists but nobody made it", (unsigned long long)seed, p);
        count++;
        if (de.st.attr & FAT_ATTR_DIR)
            count += c_walk(v, p, w, seed);
    }
    assert_int_equal(fat_close(v, h), 0);
    return count;
}

static void assert_no_fixes(const struct fat_vol *v, const char *when)
{
    const struct fat_check_report *r = fat_last_check(v);
    if (r->lost_freed + r->chains_cut + r->sizes_fixed + r->entries_removed + r->dots_fixed +
        r->other_fixed + r->fat_copies)
        fail_msg("%s: the check fixed something: lost %u cut %u sizes %u entries %u dots %u "
                 "other %u copies %u",
                 when, r->lost_freed, r->chains_cut, r->sizes_fixed, r->entries_removed,
                 r->dots_fixed, r->other_fixed, r->fat_copies);
}

struct crash_stats {
    unsigned runs, double_cuts, repaired, fixes[7];
};

static void crash_once(const char *tmpl, uint64_t seed, struct crash_stats *cs)
{
    const char *img = work_path("crash.img");
    struct tdev d;
    struct tvol *t = calloc(1, sizeof(*t));
    struct cworld *w = calloc(1, sizeof(*w));
    size_t cache = seed % 2 ? 4 * 512 : 0;

    /* dry run: how many blocks phase B writes */
    tdev_load(&d, tmpl, 1);
    assert_int_equal(tvol_mount(t, &d, 0, cache), 0);
    t->v.now = test_now;
    rng_state = seed;
    crash_setup(&t->v, w);
    uint64_t before = d.wblocks, wseed = rng();
    tdev_log_start(&d);
    crash_work(&t->v, w, 25);
    /* the cut: inside a write request chosen uniformly, so the one-block
     * metadata writes are hit as often as the large data writes */
    rng_state = seed ^ 0xC0FFEE;
    uint64_t cut = d.wblocks - before;
    if (d.nlog) {
        size_t k = (size_t)(rng() % d.nlog);
        uint64_t end = k + 1 < d.nlog ? d.log[k + 1] : d.wblocks;
        cut = d.log[k] - before + rng() % (end - d.log[k] + 1);
    }
    cw_free(w);
    tdev_free(&d);

    /* the real run: the power goes after `cut` more blocks */
    tdev_load(&d, tmpl, 1);
    assert_int_equal(tvol_mount(t, &d, 0, cache), 0);
    t->v.now = test_now;
    rng_state = seed;
    crash_setup(&t->v, w);
    assert_int_equal(rng(), wseed);
    d.budget = (long)cut;
    crash_work(&t->v, w, 25);
    tdev_crash(&d, seed * 31 + 7);

    /* sometimes the power goes again during the repair */
    rng_state = seed ^ 0xBEEF;
    if (rng() % 4 == 0) {
        d.budget = (long)(rng() % 64);
        if (tvol_mount(t, &d, 0, cache) == 0) {
            fat_unmount(&t->v);
        } else {
            cs->double_cuts++;
        }
        tdev_crash(&d, seed * 17 + 3);
    }
    assert_int_equal(tvol_mount(t, &d, 0, cache), 0);
    t->v.now = test_now;
    const struct fat_check_report *r = fat_last_check(&t->v);
    cs->repaired += r->ran;
    uint32_t *fx = &((struct fat_check_report *)r)->lost_freed;
    for (int i = 0; i < 7; i++)
        cs->fixes[i] += fx[i];
    for (int i = 0; i < w->n; i++)
        crash_expect(&t->v, &w->f[i], seed);
    c_walk(&t->v, "/", w, seed);
    /* the volume goes on working */
    put_file(&t->v, "/after the crash", 5000, 3, 1000);
    finish(t, &d, img);
    assert_int_equal(tvol_mount(t, &d, FAT_MOUNT_CHECK, cache), 0);
    assert_no_fixes(&t->v, "second check after a crash");
    assert_int_equal(fat_unmount(&t->v), 0);
    cs->runs++;
    cw_free(w);
    free(w);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* A fresh volume whose free clusters hold old bytes, not zeros: whatever
 * shows stale data (a lost zero fill, a size ahead of its data) shows. */
static void make_dirty_template(const char *tmpl, unsigned long kib, const char *opts)
{
    tool_mkfs(tmpl, kib, opts);
    struct tdev d;
    struct tvol *t = calloc(1, sizeof(*t));
    tdev_load(&d, tmpl, 0);
    assert_int_equal(mount_t(t, &d, 0), 0);
    int h = fat_open(&t->v, "/junk", FAT_O_CREATE);
    uint8_t junk[4096];
    uint64_t saved = rng_state;
    rng_state = 0x4A554E4B;
    for (uint64_t off = 0;; off += sizeof(junk)) {
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (uint8_t)rng();
        if (fat_write(&t->v, h, off, junk, sizeof(junk)) <= 0)
            break;
    }
    rng_state = saved;
    assert_int_equal(fat_close(&t->v, h), 0);
    assert_int_equal(fat_unlink(&t->v, "/junk"), 0);
    assert_int_equal(fat_unmount(&t->v), 0);
    tdev_save(&d, tmpl);
    tool_fsck_clean(tmpl);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

static void test_power_cuts(void **state)
{
    (void)state;
    char tmpl[512]; /* work_path's buffers are reused */
    snprintf(tmpl, sizeof(tmpl), "%s", work_path("crash-template.img"));
    make_dirty_template(tmpl, 4 * KIB, "-s 2");
    struct crash_stats cs;
    memset(&cs, 0, sizeof(cs));
    for (uint64_t i = 0; i < 160; i++)
        crash_once(tmpl, 0x1000 + i * 0x9E37, &cs);
    print_message("power cuts: %u runs (%u cut again during the repair), %u repaired; fixed: "
                  "%u lost clusters, %u chains cut, %u sizes, %u entries, %u dots, %u other, "
                  "%u FAT copies\n",
                  cs.runs, cs.double_cuts, cs.repaired, cs.fixes[0], cs.fixes[1], cs.fixes[2],
                  cs.fixes[3], cs.fixes[4], cs.fixes[5], cs.fixes[6]);
    assert_true(cs.repaired > cs.runs / 2);
}

/* The case: a 4 MiB write, each 64 KiB acknowledged by a sync, and
 * the power goes somewhere in it. */
static void test_power_cut_big_write(void **state)
{
    (void)state;
    char tmpl[512], img[512];
    snprintf(tmpl, sizeof(tmpl), "%s", work_path("bigcut-template.img"));
    snprintf(img, sizeof(img), "%s", work_path("bigcut.img"));
    make_dirty_template(tmpl, 16 * KIB, "-s 1");
    size_t len = 4 * MIB, chunk = 64 * KIB;
    uint8_t *buf = xmalloc(len);
    pattern(buf, len, 5, 0);
    for (uint64_t it = 0; it < 12; it++) {
        struct tdev d;
        struct tvol *t = calloc(1, sizeof(*t));
        tdev_load(&d, tmpl, 1);
        assert_int_equal(mount_t(t, &d, 0), 0);
        put_file(&t->v, "/before", 3000, 4, 3000);
        assert_int_equal(fat_sync(&t->v), 0);
        rng_state = 0xB16 + it;
        d.budget = (long)(rng() % (len / FAT_DEV_BLOCK + 4000));
        int h = fat_open(&t->v, "/big", FAT_O_CREATE);
        size_t acked = 0;
        for (size_t off = 0; h >= 0 && off < len; off += chunk) {
            if (fat_write(&t->v, h, off, buf + off, chunk) != (long)chunk)
                break;
            if (fat_sync(&t->v) != 0)
                break;
            acked = off + chunk;
        }
        tdev_crash(&d, it);
        assert_int_equal(mount_t(t, &d, 0), 0);
        check_file(&t->v, "/before", 3000, 4);
        struct fat_stat st;
        if (fat_stat_path(&t->v, "/big", &st) == 0) {
            assert_true(st.size >= acked && st.size <= len);
            uint8_t *got = xmalloc(st.size);
            h = fat_open(&t->v, "/big", 0);
            assert_int_equal(fat_read(&t->v, h, 0, got, st.size), (long)st.size);
            assert_memory_equal(got, buf, st.size);
            fat_close(&t->v, h);
            free(got);
        } else {
            assert_int_equal(acked, 0);
        }
        finish(t, &d, img);
        free(t->scratch);
        free(t);
        tdev_free(&d);
    }
    free(buf);
}

/* The power goes while the volume is being marked dirty or clean: either
 * the raw image says "dirty" (and the next mount repairs), or it is clean
 * and fsck.fat agrees without any repair. */
static void test_power_cut_marks(void **state)
{
    (void)state;
    char tmpl[512], img[512];
    snprintf(tmpl, sizeof(tmpl), "%s", work_path("marks-template.img"));
    snprintf(img, sizeof(img), "%s", work_path("marks.img"));
    make_dirty_template(tmpl, 4 * KIB, "-s 1");
    unsigned clean_seen = 0, dirty_seen = 0;
    for (int phase = 0; phase < 2; phase++) {
        for (long cut = 0; cut < 8; cut++) {
            for (uint64_t seed = 0; seed < 4; seed++) {
                struct tdev d;
                struct tvol *t = calloc(1, sizeof(*t));
                tdev_load(&d, tmpl, 1);
                assert_int_equal(mount_t(t, &d, 0), 0);
                if (phase == 0) { /* the first change after a clean mount */
                    d.budget = cut;
                    fat_mkdir(&t->v, "/new");
                } else { /* unmount after some work */
                    put_file(&t->v, "/work", 20000, 1, 4096);
                    assert_int_equal(fat_sync(&t->v), 0);
                    d.budget = cut;
                    fat_unmount(&t->v);
                }
                tdev_crash(&d, seed * 7 + (uint64_t)cut);
                tdev_save(&d, img);
                uint32_t fat1 = rd32(d.mem + 512 * rd16(d.mem + 14) + 4);
                if (fat1 & 0x08000000u) {
                    tool_fsck_clean(img); /* clean on the device: must be true */
                    clean_seen++;
                } else {
                    dirty_seen++;
                }
                assert_int_equal(mount_t(t, &d, 0), 0);
                finish(t, &d, img);
                free(t->scratch);
                free(t);
                tdev_free(&d);
            }
        }
    }
    print_message("marks: %u cuts left the volume clean, %u dirty\n", clean_seen, dirty_seen);
    assert_true(clean_seen > 0 && dirty_seen > 0);
}

/* Creates up to 60 names in /grow, each synced; returns how many were
 * acknowledged before the device failed. A name takes two slots, so a
 * cluster fills up exactly and the next name starts a new one. */
static int grow_run(struct tvol *t, struct tdev *d, long budget, uint64_t **log, uint64_t **blocks,
                    size_t *nlog)
{
    char p[128];
    assert_int_equal(mount_t(t, d, 0), 0);
    assert_int_equal(fat_mkdir(&t->v, "/grow"), 0);
    assert_int_equal(fat_sync(&t->v), 0);
    uint64_t start = d->wblocks;
    if (log)
        tdev_log_start(d);
    d->budget = budget;
    int acked = 0;
    for (; acked < 60; acked++) {
        snprintf(p, sizeof(p), "/grow/Grow %03d", acked);
        if (c_write(&t->v, p, 0, (const uint8_t *)p, 10, FAT_O_CREATE) < 0 || fat_sync(&t->v) < 0)
            break;
    }
    if (log) {
        for (size_t i = 0; i < d->nlog; i++)
            d->log[i] -= start;
        *log = d->log;
        *blocks = d->log_block;
        *nlog = d->nlog;
        d->log = d->log_block = NULL;
    }
    return acked;
}

/* A directory growing one long name at a time, each synced, with the
 * power going at a write; every subset of the writes in flight is tried.
 * New clusters must be zeroed on the device before the FAT makes them part
 * of the directory: the free clusters hold old bytes that read as entries. */
static void test_power_cut_dir_growth(void **state)
{
    (void)state;
    char tmpl[512], img[512], p[128];
    snprintf(tmpl, sizeof(tmpl), "%s", work_path("growth-template.img"));
    snprintf(img, sizeof(img), "%s", work_path("growth.img"));
    make_dirty_template(tmpl, 4 * KIB, "-s 1");
    uint64_t *log, *blocks, fat1 = 0, fat2 = 0;
    size_t nlog, nfat = 0, *fat_writes, states = 0;
    struct tdev d;
    struct tvol *t = calloc(1, sizeof(*t));
    tdev_load(&d, tmpl, 1);
    assert_int_equal(grow_run(t, &d, -1, &log, &blocks, &nlog), 60);
    fat1 = (uint64_t)t->v.fat_start * t->v.bps_blocks;
    fat2 = fat1 + (uint64_t)t->v.fat_sectors * t->v.bps_blocks;
    assert_int_equal(fat_unmount(&t->v), 0);
    tdev_free(&d);
    /* half the cuts right after a write to FAT copy 1: that is where a
     * directory's new cluster gets linked */
    fat_writes = (size_t *)(void *)xmalloc(nlog * sizeof(size_t));
    for (size_t i = 0; i < nlog; i++)
        if (blocks[i] >= fat1 && blocks[i] < fat2)
            fat_writes[nfat++] = i;
    assert_true(nfat > 0);
    size_t bytes = 0;
    for (uint64_t it = 0; it < 30; it++) {
        rng_state = 0x6120 + it;
        size_t k = it % 2 ? (size_t)(rng() % nlog) : fat_writes[rng() % nfat];
        long cut = (long)(it % 2 ? log[k] + rng() % 2 : log[k] + 1);
        tdev_load(&d, tmpl, 1);
        int acked = grow_run(t, &d, cut, NULL, NULL, NULL);
        bytes = (size_t)d.blocks * FAT_DEV_BLOCK;
        uint8_t *durable = xmalloc(bytes);
        memcpy(durable, d.durable, bytes);
        size_t np = d.npend < 6 ? d.npend : 6;
        struct tdev_pend *pend = (struct tdev_pend *)(void *)xmalloc(np * sizeof(*pend) + 1);
        memcpy(pend, d.pend, np * sizeof(*pend));
        for (uint64_t mask = 0; mask < (1ull << np); mask++, states++) {
            tdev_crash_mask(&d, durable, pend, np, mask);
            assert_int_equal(mount_t(t, &d, 0), 0);
            int h = fat_open(&t->v, "/grow", FAT_O_DIR);
            assert_true(h >= 0);
            uint32_t pos = 0;
            struct fat_dirent de;
            int n = 0, i;
            while (fat_readdir(&t->v, h, &pos, &de) == 1) {
                if (sscanf(de.name, "Grow %03d", &i) != 1)
                    fail_msg("run %llu, writes kept %#llx: unexpected entry \"%s\" in a growing "
                             "directory",
                             (unsigned long long)it, (unsigned long long)mask, de.name);
                n++;
            }
            fat_close(&t->v, h);
            assert_true(n >= acked && n <= acked + 1);
            for (i = 0; i < acked; i++) {
                uint8_t *data;
                snprintf(p, sizeof(p), "/grow/Grow %03d", i);
                assert_int_equal(c_read(&t->v, p, &data), 10);
                assert_memory_equal(data, p, 10);
                free(data);
            }
            finish(t, &d, img);
        }
        free(durable);
        free(pend);
        tdev_free(&d);
    }
    print_message("directory growth: %zu crash states checked\n", states);
    free(log);
    free(blocks);
    free(fat_writes);
    free(t->scratch);
    free(t);
}

/* ---- hostile images: mutated metadata, bounded ---- */

static void valid_rc(long rc, const char *what)
{
    if (rc < 0 && rc <= -E_MAX)
        fail_msg("%s returned %ld, not an error code", what, rc);
}

struct hostile_stats {
    unsigned refused, mounted, repaired, files_read, writes_ok;
};

/* Reads everything reachable from dir (bounded), checking every result. */
static void hostile_walk(struct fat_vol *v, const char *dir, int depth, char *first_file,
                         struct hostile_stats *hs)
{
    int h = fat_open(v, dir, FAT_O_DIR);
    valid_rc(h, "open dir");
    if (h < 0)
        return;
    uint32_t pos = 0;
    struct fat_dirent de;
    int rc, n = 0;
    static uint8_t buf[256 * 1024];
    while (n++ < 200 && (rc = fat_readdir(v, h, &pos, &de)) == 1) {
        char p[1400];
        join(p, sizeof(p), dir, de.name);
        if (strlen(p) >= FAT_PATH_MAX)
            continue;
        if (de.st.attr & FAT_ATTR_DIR) {
            if (depth < 6)
                hostile_walk(v, p, depth + 1, first_file, hs);
            continue;
        }
        int f = fat_open(v, p, 0);
        valid_rc(f, "open file");
        if (f < 0)
            continue;
        if (!first_file[0])
            snprintf(first_file, 1400, "%s", p);
        long r = fat_read(v, f, 0, buf, sizeof(buf));
        valid_rc(r, "read");
        assert_true(r <= (long)sizeof(buf));
        hs->files_read += r >= 0;
        fat_close(v, f);
    }
    valid_rc(rc, "readdir");
    fat_close(v, h);
}

static void test_hostile_images(void **state)
{
    (void)state;
    char tmpl[512];
    snprintf(tmpl, sizeof(tmpl), "%s", work_path("hostile-template.img"));
    tool_mkfs(tmpl, 4 * KIB, "-s 1");
    struct tdev d;
    struct tvol *t = calloc(1, sizeof(*t));
    tdev_load(&d, tmpl, 0);
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    assert_int_equal(fat_mkdir(v, "/docs"), 0);
    assert_int_equal(fat_mkdir(v, "/docs/A directory with a long name"), 0);
    put_file(v, "/docs/A directory with a long name/notes about the system.txt", 3000, 1, 700);
    put_file(v, "/docs/short.txt", 100, 2, 100);
    put_file(v, "/Big file with a long name.bin", 40000, 3, 4096);
    for (int i = 0; i < 20; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/docs/entry %d", i);
        put_file(v, p, (size_t)i * 100, (uint32_t)i, 500);
    }
    /* the metadata worth mutating: boot sector, FSInfo, the used part of
     * both FATs, and every directory cluster */
    uint32_t regions[64][2], nreg = 0, bps = v->bps;
    regions[nreg][0] = 0, regions[nreg++][1] = 2 * bps;
    for (uint32_t k = 0; k < v->nfats; k++)
        regions[nreg][0] = (v->fat_start + k * v->fat_sectors) * bps, regions[nreg++][1] = 512;
    const char *dirs[] = {"/", "/docs", "/docs/A directory with a long name"};
    for (int i = 0; i < 3; i++) {
        struct fat_stat st;
        assert_int_equal(fat_stat_path(v, dirs[i], &st), 0);
        uint32_t c = st.cluster;
        for (int k = 0; k < 8 && clu_valid(v, c); k++) {
            regions[nreg][0] = clu_sector(v, c) * bps, regions[nreg++][1] = v->cluster_bytes;
            if (chain_next(v, c, &c) <= 0)
                break;
        }
    }
    assert_int_equal(fat_unmount(v), 0);
    size_t bytes = (size_t)d.blocks * FAT_DEV_BLOCK;
    uint8_t *orig = xmalloc(bytes);
    memcpy(orig, d.mem, bytes);
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x05, 0x0F, 0x10, 0x20, 0x2E,
                                          0x41, 0x7F, 0x80, 0xE5, 0xF7, 0xF8, 0xFF};
    struct hostile_stats hs;
    memset(&hs, 0, sizeof(hs));
    rng_state = 0x4057113;
    for (int it = 0; it < 600; it++) {
        memcpy(d.mem, orig, bytes);
        int n = 1 + (int)(rng() % 16);
        for (int k = 0; k < n; k++) {
            uint32_t r = (uint32_t)(rng() % nreg);
            size_t pos = regions[r][0] + (size_t)(rng() % regions[r][1]);
            mutate_byte(d.mem, pos, interesting, sizeof(interesting));
        }
        unsigned flags = it % 3 == 0 ? FAT_MOUNT_CHECK : it % 3 == 1 ? 0 : FAT_MOUNT_RDONLY;
        int rc = mount_t(t, &d, flags);
        valid_rc(rc, "mount");
        if (rc < 0) {
            hs.refused++;
            continue;
        }
        hs.mounted++;
        hs.repaired += fat_last_check(v)->ran;
        char first[1400] = "";
        hostile_walk(v, "/", 0, first, &hs);
        if (!(flags & FAT_MOUNT_RDONLY)) {
            uint8_t buf[10000], back[10000];
            pattern(buf, sizeof(buf), (uint32_t)it, 0);
            int h = fat_open(v, "/hostile new", FAT_O_CREATE);
            valid_rc(h, "create");
            if (h >= 0) {
                long w = fat_write(v, h, 0, buf, sizeof(buf));
                valid_rc(w, "write");
                if (w > 0 && (flags & FAT_MOUNT_CHECK)) {
                    assert_int_equal(fat_read(v, h, 0, back, (size_t)w), w);
                    assert_memory_equal(buf, back, (size_t)w);
                    hs.writes_ok++;
                }
                fat_close(v, h);
            }
            valid_rc(fat_mkdir(v, "/hostile dir"), "mkdir");
            if (first[0]) {
                valid_rc(fat_rename(v, first, "/hostile dir/moved"), "rename");
                h = fat_open(v, "/hostile dir/moved", 0);
                if (h >= 0) {
                    valid_rc(fat_truncate(v, h, 10), "truncate");
                    fat_close(v, h);
                }
                valid_rc(fat_unlink(v, "/hostile dir/moved"), "unlink");
            }
            valid_rc(fat_rmdir(v, "/docs"), "rmdir");
        }
        int needs_check = v->needs_check;
        valid_rc(fat_unmount(v), "unmount");
        if ((flags & FAT_MOUNT_CHECK) && !needs_check) {
            assert_int_equal(mount_t(t, &d, FAT_MOUNT_CHECK), 0);
            assert_no_fixes(v, "second check of a repaired hostile image");
            assert_int_equal(fat_unmount(v), 0);
        }
    }
    print_message("hostile images: %u refused, %u mounted (%u repaired), %u files read, %u writes "
                  "read back\n",
                  hs.refused, hs.mounted, hs.repaired, hs.files_read, hs.writes_ok);
    assert_true(hs.mounted > 100 && hs.refused > 0 && hs.writes_ok > 100);
    free(orig);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* A tree deeper than the repair pass's stack (made by moving one deep
 * chain of directories under another): the repair climbs ".." links to
 * finish, finds nothing to fix, and fsck.fat agrees. */
static void test_deep_tree(void **state)
{
    (void)state;
    const char *img = work_path("deep.img");
    tool_mkfs(img, 8 * KIB, "-s 1");
    struct tdev d;
    tdev_load(&d, img, 0);
    struct tvol *t = calloc(1, sizeof(*t));
    assert_int_equal(mount_t(t, &d, 0), 0);
    struct fat_vol *v = &t->v;
    char px[1024] = "", py[1024] = "";
    int depth = 400;
    for (int i = 0; i < depth; i++) {
        strcat(px, "/x");
        strcat(py, "/y");
        assert_int_equal(fat_mkdir(v, px), 0);
        assert_int_equal(fat_mkdir(v, py), 0);
        if (i % 50 == 0) {
            char f[1100];
            snprintf(f, sizeof(f), "%s/file", py);
            put_file(v, f, 700, (uint32_t)i, 700);
        }
    }
    strcat(px, "/y");
    assert_int_equal(fat_rename(v, "/y", px), 0);
    finish(t, &d, img);
    assert_int_equal(mount_t(t, &d, FAT_MOUNT_CHECK), 0);
    assert_no_fixes(v, "a tree 801 directories deep");
    /* the files at the bottom are still there */
    char f[1100];
    snprintf(f, sizeof(f), "%s/file", px); /* was /y/file */
    check_file(v, f, 700, 0);
    snprintf(f, sizeof(f), "%s", px);
    for (int i = 0; i < 50; i++)
        strcat(f, "/y");
    strcat(f, "/file"); /* 451 directories down */
    check_file(v, f, 700, 50);
    finish(t, &d, img);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

int main(void)
{
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
    setenv("LC_ALL", "C.UTF-8", 1);
    if (getenv("FAT_TEST")) /* FAT_TEST=test_power_cuts runs just that one */
        cmocka_set_test_filter(getenv("FAT_TEST"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_mount_rejects),
        cmocka_unit_test(test_geometries),
        cmocka_unit_test(test_mtools_to_library),
        cmocka_unit_test(test_semantics),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_efficiency),
        cmocka_unit_test(test_transient_errors),
        cmocka_unit_test(test_random_model),
        cmocka_unit_test(test_power_cuts),
        cmocka_unit_test(test_power_cut_big_write),
        cmocka_unit_test(test_power_cut_marks),
        cmocka_unit_test(test_power_cut_dir_growth),
        cmocka_unit_test(test_hostile_images),
        cmocka_unit_test(test_deep_tree),
    };
    return cmocka_run_group_tests_name("fat", tests, NULL, NULL);
}
