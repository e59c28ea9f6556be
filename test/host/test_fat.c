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
    /* too little cache */
    assert_int_equal(tvol_mount(t, &d, 0, 4 * 512), -E_INVAL);
    free(t->scratch);
    free(t);
    tdev_free(&d);
}

/* ---- real images: mkfs.fat in, fsck.fat and mtools out ---- */

struct geometry {
    const char *name;
    unsigned long kib;
    const char *opts;
    int file_mode; /* large: the device reads and writes the file */
    int mtools;    /* mtools refuses FAT32 with fewer than 65525 clusters */
};

static const struct geometry geometries[] = {
    {"64m-512", 64 * KIB, "", 0, 1},
    {"300m-4k-clusters", 300 * KIB, "-s 8", 1, 1},
    {"300m-4k-sectors", 300 * KIB, "-S 4096 -s 1", 1, 1},
    {"40m-one-fat", 40 * KIB, "-s 1 -f 1", 0, 1},
    {"2m-tiny", 2 * KIB, "-s 1", 0, 0},
    {"8m-2k-sectors", 8 * KIB, "-S 2048 -s 2", 0, 0},
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

int main(void)
{
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
    setenv("LC_ALL", "C.UTF-8", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_mount_rejects),
        cmocka_unit_test(test_geometries),
        cmocka_unit_test(test_mtools_to_library),
    };
    return cmocka_run_group_tests_name("fat", tests, NULL, NULL);
}
