/*
 * Host tests for the Multiboot2 parser (kernel/mb2.c): field extraction from a
 * well-formed block, every size/terminator/limit check, and a seeded mutation
 * loop. Blocks live in exactly-sized heap buffers so ASan flags any overread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "mb2.h"
#include "hostlib.h"

/* ---- block builder ---- */

#define BUILD_MAX 8192

struct builder {
    uint8_t buf[BUILD_MAX];
    size_t len;
};

static void b_init(struct builder *b)
{
    memset(b->buf, 0, sizeof(b->buf));
    b->len = 8; /* total_size + reserved, filled in by b_finish */
}

/*
 * Append a tag whose header claims `size` bytes while `plen` payload bytes
 * are actually written; the two differ only in tests that lie on purpose.
 * Returns the tag's offset so a test can patch it afterwards.
 */
static size_t b_tag_raw(struct builder *b, uint32_t type, uint32_t size, const void *payload,
                        size_t plen)
{
    size_t off = b->len;
    assert_true(off + 8 + plen + 8 <= BUILD_MAX);
    put32(b->buf + off, type);
    put32(b->buf + off + 4, size);
    if (plen)
        memcpy(b->buf + off + 8, payload, plen);
    b->len = (off + 8 + plen + 7) & ~(size_t)7;
    return off;
}

static size_t b_tag(struct builder *b, uint32_t type, const void *payload, size_t plen)
{
    return b_tag_raw(b, type, (uint32_t)(8 + plen), payload, plen);
}

static size_t b_string(struct builder *b, uint32_t type, const char *s)
{
    return b_tag(b, type, s, strlen(s) + 1);
}

static size_t b_module(struct builder *b, uint32_t start, uint32_t end, const char *cmdline)
{
    uint8_t p[256];
    size_t n = strlen(cmdline) + 1;
    assert_true(8 + n <= sizeof(p));
    put32(p, start);
    put32(p + 4, end);
    memcpy(p + 8, cmdline, n);
    return b_tag(b, MB2_TAG_MODULE, p, 8 + n);
}

/* Memory map with `n` entries spaced `entry_size` apart, then `extra` bytes
 * that do not make a whole entry. */
static size_t b_mmap(struct builder *b, uint32_t entry_size, const struct mb2_mmap_entry *e,
                     size_t n, size_t extra)
{
    uint8_t p[2048];
    size_t plen = 8 + n * entry_size + extra;
    assert_true(plen <= sizeof(p));
    memset(p, 0xa5, sizeof(p)); /* padding inside an entry is not ours to read as data */
    put32(p, entry_size);
    put32(p + 4, 0); /* entry_version */
    for (size_t i = 0; i < n; i++) {
        uint8_t *q = p + 8 + i * entry_size;
        put64(q, e[i].base);
        put64(q + 8, e[i].length);
        put32(q + 16, e[i].type);
        put32(q + 20, e[i].reserved);
    }
    return b_tag(b, MB2_TAG_MMAP, p, plen);
}

/* A framebuffer tag the parser must skip: address, pitch, size, bpp, type,
 * then RGB field positions, as GRUB writes it. */
static size_t b_framebuffer(struct builder *b)
{
    static const uint8_t rgb[6] = {16, 8, 8, 8, 0, 8};
    uint8_t p[30] = {0};
    put64(p, 0xfd000000ull);
    put32(p + 8, 4096);
    put32(p + 12, 1024);
    put32(p + 16, 768);
    p[20] = 32; /* bpp */
    p[21] = 1;  /* direct RGB */
    memcpy(p + 24, rgb, sizeof(rgb));
    return b_tag(b, MB2_TAG_FRAMEBUFFER, p, sizeof(p));
}

static size_t b_end(struct builder *b)
{
    return b_tag(b, MB2_TAG_END, NULL, 0);
}

/* Set total_size to the bytes built so far. */
static void b_finish(struct builder *b)
{
    put32(b->buf, (uint32_t)b->len);
}

/* Exactly `size` bytes of the block on the heap, so a read past them is an
 * ASan error rather than a silent read of builder padding. */
static uint8_t *heap_copy(const uint8_t *src, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    assert_non_null(p);
    memcpy(p, src, size);
    return p;
}

/* The block of the latest parse: kept until the next one so the strings and
 * map entries in mb2_info, which point into it, can still be checked. */
static uint8_t *last_block;

static int free_last_block(void **state)
{
    (void)state;
    free(last_block);
    last_block = NULL;
    return 0;
}

/* Parse the first `avail` bytes of b from an exactly-sized heap copy. */
static int parse_n(const struct builder *b, size_t avail, struct mb2_info *out)
{
    free_last_block(NULL);
    last_block = heap_copy(b->buf, avail);
    return mb2_parse(last_block, avail, out);
}

static int parse(const struct builder *b, struct mb2_info *out)
{
    return parse_n(b, b->len, out);
}

static const struct mb2_mmap_entry sample_mmap[] = {
    {0x0, 0x9fc00, MB2_MEM_AVAILABLE, 0},
    {0x9fc00, 0x400, 2, 0},
    {0xf0000, 0x10000, 2, 0},
    {0x100000, 0x7ee0000, MB2_MEM_AVAILABLE, 0},
    {0x7fe0000, 0x20000, 2, 0},
    {0xfffc0000, 0x40000, 2, 0},
};
#define SAMPLE_MMAP_N (sizeof(sample_mmap) / sizeof(sample_mmap[0]))

/* The smallest block the parser accepts: a memory map and the end tag. */
static void build_minimal(struct builder *b)
{
    b_init(b);
    b_mmap(b, 24, sample_mmap, 2, 0);
    b_end(b);
    b_finish(b);
}

/* What GRUB hands over for a typical boot. */
static void build_full(struct builder *b)
{
    b_init(b);
    b_string(b, MB2_TAG_CMDLINE, "ktest log=debug");
    b_string(b, MB2_TAG_LOADER_NAME, "GRUB 2.06");
    b_module(b, 0x200000, 0x204000, "ksyms");
    b_module(b, 0x205000, 0x209123, "init arg1 arg2");
    b_framebuffer(b);
    b_tag(b, MB2_TAG_ACPI_OLD, "RSD PTR \0BOCHS \0\0\0\0\0", 20);
    b_mmap(b, 24, sample_mmap, SAMPLE_MMAP_N, 0);
    b_end(b);
    b_finish(b);
}

/* ---- well-formed blocks ---- */

static void test_full_block(void **state)
{
    (void)state;
    struct builder b;
    build_full(&b);
    uint8_t *p = heap_copy(b.buf, b.len);
    struct mb2_info mi;

    assert_int_equal(mb2_parse(p, b.len, &mi), 0);
    assert_int_equal(mi.total_size, b.len);
    assert_string_equal(mi.cmdline, "ktest log=debug");
    assert_string_equal(mi.loader_name, "GRUB 2.06");
    /* Strings are used in place, not copied: they must point into the block. */
    assert_true((const uint8_t *)mi.cmdline > p && (const uint8_t *)mi.cmdline < p + b.len);
    assert_true((const uint8_t *)mi.loader_name > p && (const uint8_t *)mi.loader_name < p + b.len);

    assert_int_equal(mi.module_count, 2);
    assert_int_equal(mi.modules[0].start, 0x200000);
    assert_int_equal(mi.modules[0].end, 0x204000);
    assert_string_equal(mi.modules[0].cmdline, "ksyms");
    assert_int_equal(mi.modules[1].start, 0x205000);
    assert_int_equal(mi.modules[1].end, 0x209123);
    assert_string_equal(mi.modules[1].cmdline, "init arg1 arg2");

    assert_int_equal(mi.mmap_entry_size, 24);
    assert_int_equal(mi.mmap_count, SAMPLE_MMAP_N);
    assert_true(mi.mmap > p && mi.mmap < p + b.len);
    for (uint32_t i = 0; i < mi.mmap_count; i++) {
        const struct mb2_mmap_entry *e = mb2_mmap_at(&mi, i);
        assert_int_equal(e->base, sample_mmap[i].base);
        assert_int_equal(e->length, sample_mmap[i].length);
        assert_int_equal(e->type, sample_mmap[i].type);
    }
    assert_int_equal(mi.acpi_rsdp_len, 20);
    assert_memory_equal(mi.acpi_rsdp, "RSD PTR ", 8);
    free(p);
}

static void test_minimal_block_defaults(void **state)
{
    (void)state;
    struct builder b;
    build_minimal(&b);
    struct mb2_info mi;

    assert_int_equal(parse(&b, &mi), 0);
    /* Absent strings read as "" so callers never test for NULL. */
    assert_non_null(mi.cmdline);
    assert_string_equal(mi.cmdline, "");
    assert_non_null(mi.loader_name);
    assert_string_equal(mi.loader_name, "");
    assert_int_equal(mi.module_count, 0);
    assert_int_equal(mi.mmap_count, 2);
}

static void test_avail_larger_than_total(void **state)
{
    (void)state;
    struct builder b;
    build_minimal(&b);
    size_t total = b.len;
    struct mb2_info mi;

    /* The loader may map more than the block; only total_size counts. */
    assert_int_equal(parse_n(&b, total + 64, &mi), 0);
    assert_int_equal(mi.total_size, total);
}

static void test_unknown_tags_skipped(void **state)
{
    (void)state;
    static const uint32_t types[] = {4, 5, 7, 9, 10, 16, 17, 21, 0x1234, 0xffffffffu};
    struct builder b;
    uint8_t junk[77];
    memset(junk, 0xff, sizeof(junk));
    b_init(&b);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        b_tag(&b, types[i], junk, i * 7); /* sizes 8..71, mostly unaligned */
    b_string(&b, MB2_TAG_CMDLINE, "x");
    b_tag(&b, 0xdead, junk, sizeof(junk));
    b_mmap(&b, 24, sample_mmap, 3, 0);
    b_framebuffer(&b);
    b_end(&b);
    b_finish(&b);
    struct mb2_info mi;

    assert_int_equal(parse(&b, &mi), 0);
    assert_string_equal(mi.cmdline, "x");
    assert_int_equal(mi.mmap_count, 3);
}

static void test_tags_after_end_ignored(void **state)
{
    (void)state;
    struct builder b;
    build_minimal(&b);
    /* The end tag ends the walk: a broken tag after it must not matter. */
    b_tag_raw(&b, MB2_TAG_CMDLINE, 3, NULL, 0);
    b_finish(&b);
    struct mb2_info mi;

    assert_int_equal(parse(&b, &mi), 0);
    assert_string_equal(mi.cmdline, "");
}

static void test_max_info_size_accepted(void **state)
{
    (void)state;
    size_t total = MB2_MAX_INFO_SIZE;
    uint8_t *p = calloc(1, total);
    assert_non_null(p);
    struct builder b;
    build_minimal(&b);
    /* The minimal block minus its end tag, then one unknown tag filling the
     * rest up to the limit, then the end tag. */
    size_t head = b.len - 8;
    memcpy(p, b.buf, head);
    put32(p, (uint32_t)total);
    put32(p + head, 0x77);
    put32(p + head + 4, (uint32_t)(total - head - 8));
    put32(p + total - 8, MB2_TAG_END);
    put32(p + total - 4, 8);
    struct mb2_info mi;

    assert_int_equal(mb2_parse(p, total, &mi), 0);
    assert_int_equal(mi.total_size, total);
    assert_int_equal(mi.mmap_count, 2);
    free(p);
}

/* ---- block header ---- */

static void test_null_info(void **state)
{
    (void)state;
    struct mb2_info mi;
    memset(&mi, 0x5a, sizeof(mi));

    assert_int_equal(mb2_parse(NULL, 4096, &mi), -E_TRUNC);
    /* Even on failure the output is in a defined state. */
    assert_int_equal(mi.module_count, 0);
    assert_int_equal(mi.mmap_count, 0);
    assert_string_equal(mi.cmdline, "");
}

static void test_avail_below_header(void **state)
{
    (void)state;
    struct builder b;
    build_minimal(&b);
    struct mb2_info mi;

    for (size_t avail = 0; avail < 8; avail++)
        assert_int_equal(parse_n(&b, avail, &mi), -E_TRUNC);
}

static void test_total_too_small(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 4, 8, 15};
    struct builder b;
    struct mb2_info mi;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        build_minimal(&b);
        put32(b.buf, bad[i]);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_total_not_multiple_of_8(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    build_minimal(&b);
    for (uint32_t d = 1; d < 8; d++) {
        put32(b.buf, (uint32_t)(b.len - 8 + d));
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_total_too_large(void **state)
{
    (void)state;
    static const uint32_t bad[] = {MB2_MAX_INFO_SIZE + 8, 0x7ffffff8u, 0xfffffff8u};
    struct builder b;
    struct mb2_info mi;

    /* Rejected on the header alone, before comparing with avail. */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        build_minimal(&b);
        put32(b.buf, bad[i]);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_truncated_block(void **state)
{
    (void)state;
    struct builder b;
    build_full(&b);
    struct mb2_info mi;

    /* Every cut, including ones inside a tag header or string, is caught by
     * the total_size check; ASan proves nothing past the cut is read. */
    for (size_t avail = 8; avail < b.len; avail++)
        assert_int_equal(parse_n(&b, avail, &mi), -E_TRUNC);
}

/* ---- tag headers ---- */

static void test_tag_runs_past_total(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    b_init(&b);
    b_mmap(&b, 24, sample_mmap, 2, 0);
    size_t off = b_tag(&b, 0x55, "abcdefgh", 8);
    b_end(&b);
    b_finish(&b);
    /* Claims to reach one byte past the block. */
    put32(b.buf + off + 4, (uint32_t)(b.len - off + 1));
    assert_int_equal(parse(&b, &mi), -E_TRUNC);
    /* Far past, in case of arithmetic wrap. */
    put32(b.buf + off + 4, 0xfffffff0u);
    assert_int_equal(parse(&b, &mi), -E_TRUNC);
    /* Exactly to the end is fine size-wise but swallows the end tag. */
    put32(b.buf + off + 4, (uint32_t)(b.len - off));
    assert_int_equal(parse(&b, &mi), -E_INVAL);
}

static void test_tag_size_below_header(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    /* A size under 8 would make the walk stall or go backwards. */
    for (uint32_t size = 0; size < 8; size++) {
        b_init(&b);
        b_mmap(&b, 24, sample_mmap, 2, 0);
        b_tag_raw(&b, 0x55, size, "abcdefgh", 8);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_no_end_tag(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    b_init(&b);
    b_string(&b, MB2_TAG_CMDLINE, "no end");
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_INVAL);
}

static void test_end_tag_bad_size(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;
    uint8_t zero[8] = {0};

    b_init(&b);
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_tag(&b, MB2_TAG_END, zero, 8); /* size 16 */
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_INVAL);

    b_init(&b);
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_tag(&b, MB2_TAG_END, zero, 4); /* size 12 */
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_INVAL);
}

/* ---- strings ---- */

static void test_cmdline_unterminated(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;
    static const uint32_t types[] = {MB2_TAG_CMDLINE, MB2_TAG_LOADER_NAME};

    for (size_t i = 0; i < 2; i++) {
        /* The builder's zero padding follows the tag; the NUL must be inside
         * the tag's own size, not in that padding. */
        b_init(&b);
        b_tag(&b, types[i], "hello", 5);
        b_mmap(&b, 24, sample_mmap, 2, 0);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), -E_INVAL);

        /* No room for even the NUL. */
        b_init(&b);
        b_tag(&b, types[i], NULL, 0);
        b_mmap(&b, 24, sample_mmap, 2, 0);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_cmdline_nul_not_last(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    /* Some loaders pad strings; any NUL inside the tag terminates. */
    b_init(&b);
    b_tag(&b, MB2_TAG_CMDLINE, "abc\0\xff\xff", 6);
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_string_equal(mi.cmdline, "abc");

    b_init(&b);
    b_string(&b, MB2_TAG_CMDLINE, "");
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_string_equal(mi.cmdline, "");
}

/* ---- modules ---- */

static void test_module_end_before_start(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    b_init(&b);
    b_module(&b, 0x300000, 0x2fffff, "bad");
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_INVAL);

    /* An empty module is odd but not malformed. */
    b_init(&b);
    b_module(&b, 0x300000, 0x300000, "empty");
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_int_equal(mi.module_count, 1);
    assert_int_equal(mi.modules[0].start, mi.modules[0].end);
}

static void test_module_tag_too_short(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;
    uint8_t p[8] = {0, 0, 0x20, 0, 0, 0, 0x30, 0}; /* start 0x200000, end 0x300000 */

    /* 8..16: header plus part or all of start/end, but no string at all. */
    for (size_t plen = 0; plen <= 8; plen += 4) {
        b_init(&b);
        b_tag(&b, MB2_TAG_MODULE, p, plen);
        b_mmap(&b, 24, sample_mmap, 2, 0);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_module_cmdline_unterminated(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;
    uint8_t p[8 + 6];
    put32(p, 0x200000);
    put32(p + 4, 0x201000);
    memcpy(p + 8, "ksyms!", 6);

    b_init(&b);
    b_tag(&b, MB2_TAG_MODULE, p, sizeof(p));
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_INVAL);
}

static void test_module_limit(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;
    char name[16];

    b_init(&b);
    for (uint32_t i = 0; i < MB2_MAX_MODULES; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        b_module(&b, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, name);
    }
    b_mmap(&b, 24, sample_mmap, 2, 0);
    size_t end_off = b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_int_equal(mi.module_count, MB2_MAX_MODULES);
    for (uint32_t i = 0; i < MB2_MAX_MODULES; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        assert_string_equal(mi.modules[i].cmdline, name);
        assert_int_equal(mi.modules[i].start, 0x1000000 + i * 0x1000);
    }

    /* One more, in place of the end tag. */
    b.len = end_off;
    b_module(&b, 0x2000000, 0x2001000, "one too many");
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_LIMIT);
}

/* ---- memory map ---- */

static void test_mmap_entry_size_bad(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 8, 16, 20, 23, 25, 28, 36};
    struct builder b;
    struct mb2_info mi;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b_init(&b);
        /* Lay entries out 24 apart, then lie about their size. */
        size_t off = b_mmap(&b, 24, sample_mmap, 3, 0);
        put32(b.buf + off + 8, bad[i]);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_mmap_larger_entries(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    /* A future entry version may grow the entry; the stride must follow it. */
    b_init(&b);
    b_mmap(&b, 40, sample_mmap, SAMPLE_MMAP_N, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_int_equal(mi.mmap_entry_size, 40);
    assert_int_equal(mi.mmap_count, SAMPLE_MMAP_N);
    for (uint32_t i = 0; i < mi.mmap_count; i++) {
        assert_int_equal(mb2_mmap_at(&mi, i)->base, sample_mmap[i].base);
        assert_int_equal(mb2_mmap_at(&mi, i)->length, sample_mmap[i].length);
        assert_int_equal(mb2_mmap_at(&mi, i)->type, sample_mmap[i].type);
    }
}

static void test_mmap_tag_too_short(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;
    uint8_t p[4];
    put32(p, 24);

    /* Header only, and header plus entry_size without entry_version. */
    for (size_t plen = 0; plen <= 4; plen += 4) {
        b_init(&b);
        b_tag(&b, MB2_TAG_MMAP, p, plen);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), -E_INVAL);
    }
}

static void test_mmap_empty(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    b_init(&b);
    b_mmap(&b, 24, NULL, 0, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_int_equal(mi.mmap_count, 0);
}

static void test_no_mmap(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    b_init(&b);
    b_string(&b, MB2_TAG_CMDLINE, "no memory map");
    b_module(&b, 0x200000, 0x201000, "m");
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), -E_NOENT);
}

static void test_mmap_partial_entry(void **state)
{
    (void)state;
    struct builder b;
    struct mb2_info mi;

    /* Trailing bytes short of a whole entry are not an entry. */
    for (size_t extra = 1; extra < 24; extra++) {
        b_init(&b);
        b_mmap(&b, 24, sample_mmap, 4, extra);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), 0);
        assert_int_equal(mi.mmap_count, 4);
    }
    b_init(&b);
    b_mmap(&b, 24, sample_mmap, 1, 23);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_int_equal(mi.mmap_count, 1);
}

/* ---- ACPI RSDP tags ---- */

static void test_acpi_tags(void **state)
{
    (void)state;
    static const char rsdp1[20] = "RSD PTR 1";
    static const char rsdp2[36] = "RSD PTR 2";
    struct builder b;
    struct mb2_info mi;

    build_minimal(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_null(mi.acpi_rsdp);
    assert_int_equal(mi.acpi_rsdp_len, 0);

    /* The 2.0+ copy wins in either order; the pointer is into the block. */
    for (int order = 0; order < 2; order++) {
        b_init(&b);
        if (order)
            b_tag(&b, MB2_TAG_ACPI_NEW, rsdp2, sizeof(rsdp2));
        b_tag(&b, MB2_TAG_ACPI_OLD, rsdp1, sizeof(rsdp1));
        if (!order)
            b_tag(&b, MB2_TAG_ACPI_NEW, rsdp2, sizeof(rsdp2));
        b_mmap(&b, 24, sample_mmap, 2, 0);
        b_end(&b);
        b_finish(&b);
        assert_int_equal(parse(&b, &mi), 0);
        assert_non_null(mi.acpi_rsdp);
        assert_true(mi.acpi_rsdp > last_block && mi.acpi_rsdp + 36 <= last_block + b.len);
        assert_int_equal(mi.acpi_rsdp_len, 36);
        assert_memory_equal(mi.acpi_rsdp, rsdp2, 36);
    }

    /* Only the 1.0 copy; then an empty tag, which names nothing. */
    b_init(&b);
    b_tag(&b, MB2_TAG_ACPI_OLD, rsdp1, sizeof(rsdp1));
    b_tag(&b, MB2_TAG_ACPI_NEW, NULL, 0);
    b_mmap(&b, 24, sample_mmap, 2, 0);
    b_end(&b);
    b_finish(&b);
    assert_int_equal(parse(&b, &mi), 0);
    assert_int_equal(mi.acpi_rsdp_len, 20);
    assert_memory_equal(mi.acpi_rsdp, rsdp1, 20);
}

/* ---- mutation loop ---- */

static int inside(const void *p, size_t len, const uint8_t *blk, size_t total)
{
    const uint8_t *q = p;
    return q >= blk && q <= blk + total && len <= (size_t)(blk + total - q);
}

/* A parsed string is either the parser's own "" or terminated inside the block. */
static void check_str(const char *s, const uint8_t *blk, size_t total)
{
    if (inside(s, 1, blk, total))
        assert_non_null(memchr(s, 0, (size_t)(blk + total - (const uint8_t *)s)));
    else
        assert_int_equal(s[0], '\0');
}

/* On success every pointer the parser hands out lies within the block. */
static void check_success(const struct mb2_info *mi, const uint8_t *blk, size_t avail)
{
    size_t total = mi->total_size;
    assert_true(total >= 16 && total <= avail && total % 8 == 0);
    check_str(mi->cmdline, blk, total);
    check_str(mi->loader_name, blk, total);
    assert_true(mi->mmap_entry_size >= sizeof(struct mb2_mmap_entry));
    assert_true(mi->mmap_entry_size % 8 == 0);
    assert_true(inside(mi->mmap, (size_t)mi->mmap_count * mi->mmap_entry_size, blk, total));
    assert_true(mi->module_count <= MB2_MAX_MODULES);
    for (uint32_t i = 0; i < mi->module_count; i++) {
        const struct mb2_module *m = &mi->modules[i];
        assert_true(m->end >= m->start);
        assert_true(inside(m->cmdline, 1, blk, total));
        check_str(m->cmdline, blk, total);
    }
    if (mi->acpi_rsdp)
        assert_true(mi->acpi_rsdp_len > 0 && inside(mi->acpi_rsdp, mi->acpi_rsdp_len, blk, total));
    else
        assert_int_equal(mi->acpi_rsdp_len, 0);
    /* Touch every entry so ASan sees any that would be out of bounds. */
    volatile uint64_t sink = 0;
    for (uint32_t i = 0; i < mi->mmap_count; i++)
        sink += mb2_mmap_at(mi, i)->base + mb2_mmap_at(mi, i)->length;
    (void)sink;
}

static void test_mutations(void **state)
{
    (void)state;
    struct builder b;
    build_full(&b);
    size_t len = b.len;
    /* Values that sit on the parser's boundaries. */
    static const uint8_t interesting[] = {0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 0x7f, 0x80, 0xff};
    unsigned ok = 0, fail = 0;

    rng_state = 0x6772616e69746531ull;
    for (int iter = 0; iter < 5000; iter++) {
        uint8_t *p = heap_copy(b.buf, len);
        unsigned flips = 1 + (unsigned)(rng() % 4);
        for (unsigned k = 0; k < flips; k++) {
            /* Favour the first byte of each 4-byte word: that is where the
             * sizes and types the parser trusts least are. */
            size_t pos = (size_t)(rng() % len);
            if (rng() % 2)
                pos &= ~(size_t)3;
            mutate_byte(p, pos, interesting, sizeof(interesting));
        }
        /* Sometimes also cut the block short. */
        size_t avail = len;
        if (rng() % 8 == 0)
            avail = (size_t)(rng() % (len + 1));
        uint8_t *q = heap_copy(p, avail);
        struct mb2_info mi;
        int rc = mb2_parse(q, avail, &mi);
        if (rc == 0) {
            check_success(&mi, q, avail);
            ok++;
        } else {
            assert_true(rc == -E_TRUNC || rc == -E_INVAL || rc == -E_LIMIT || rc == -E_NOENT);
            fail++;
        }
        free(q);
        free(p);
    }
    /* Both outcomes must occur, or the loop is not exploring anything. */
    assert_true(ok > 100);
    assert_true(fail > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_block),
        cmocka_unit_test(test_minimal_block_defaults),
        cmocka_unit_test(test_avail_larger_than_total),
        cmocka_unit_test(test_unknown_tags_skipped),
        cmocka_unit_test(test_tags_after_end_ignored),
        cmocka_unit_test(test_max_info_size_accepted),
        cmocka_unit_test(test_null_info),
        cmocka_unit_test(test_avail_below_header),
        cmocka_unit_test(test_total_too_small),
        cmocka_unit_test(test_total_not_multiple_of_8),
        cmocka_unit_test(test_total_too_large),
        cmocka_unit_test(test_truncated_block),
        cmocka_unit_test(test_tag_runs_past_total),
        cmocka_unit_test(test_tag_size_below_header),
        cmocka_unit_test(test_no_end_tag),
        cmocka_unit_test(test_end_tag_bad_size),
        cmocka_unit_test(test_cmdline_unterminated),
        cmocka_unit_test(test_cmdline_nul_not_last),
        cmocka_unit_test(test_module_end_before_start),
        cmocka_unit_test(test_module_tag_too_short),
        cmocka_unit_test(test_module_cmdline_unterminated),
        cmocka_unit_test(test_module_limit),
        cmocka_unit_test(test_mmap_entry_size_bad),
        cmocka_unit_test(test_mmap_larger_entries),
        cmocka_unit_test(test_mmap_tag_too_short),
        cmocka_unit_test(test_mmap_empty),
        cmocka_unit_test(test_no_mmap),
        cmocka_unit_test(test_mmap_partial_entry),
        cmocka_unit_test(test_acpi_tags),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("mb2", tests, NULL, free_last_block);
}
