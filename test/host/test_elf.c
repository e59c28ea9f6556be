/*
 * Host tests for the ELF64 validator (kernel/elf.c): a realistic static
 * executable, every check at its boundary, and a seeded mutation loop, all on
 * exactly-sized (and also misaligned) heap buffers so ASan flags any overread.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>
#include <abi/layout.h>

#include "elf.h"
#include "hostlib.h"

#define LO   USER_IMAGE_MIN
#define HI   USER_IMAGE_MAX
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
#define PT_NULL      0
#define PT_LOAD      1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_NOTE      4
#define PT_PHDR      6
#define PT_GNU_STACK 0x6474e551u
#define R_X (ELF_PF_R | ELF_PF_X)
#define R__ ELF_PF_R
#define RW_ (ELF_PF_R | ELF_PF_W)
#define RWX (ELF_PF_R | ELF_PF_W | ELF_PF_X)
/* clang-format on */

/* ---- image builder ---- */

/*
 * The builder keeps header fields as plain values and lays them out byte by
 * byte in serialize(), so the on-disk format is spelled out here and not
 * borrowed from elf.c's private structs.
 */
#define SCRATCH 0x3000
#define MAX_PH  24

struct ph {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct eb {
    uint8_t ident[16];
    uint16_t type, machine, ehsize, phentsize, phnum;
    uint32_t version;
    uint64_t entry, phoff;
    struct ph ph[MAX_PH];
    unsigned nph;  /* entries written; phnum is what the header claims */
    uint64_t size; /* bytes handed to the validator */
};

static void b_init(struct eb *b, uint64_t size)
{
    static const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    memset(b, 0, sizeof(*b));
    memcpy(b->ident, ident, sizeof(ident));
    b->type = 2; /* ET_EXEC */
    b->machine = 62;
    b->version = 1;
    b->ehsize = 64;
    b->phentsize = 56;
    b->phoff = 64;
    b->size = size;
}

static struct ph *b_ph(struct eb *b, uint32_t type, uint32_t flags, uint64_t vaddr, uint64_t offset,
                       uint64_t filesz, uint64_t memsz)
{
    assert_true(b->nph < MAX_PH);
    struct ph *p = &b->ph[b->nph++];
    b->phnum = (uint16_t)b->nph;
    *p =
        (struct ph){type, flags, offset, vaddr, vaddr, filesz, memsz, type == PT_LOAD ? 0x1000 : 8};
    return p;
}

static struct ph *b_load(struct eb *b, uint32_t flags, uint64_t vaddr, uint64_t offset,
                         uint64_t filesz, uint64_t memsz)
{
    return b_ph(b, PT_LOAD, flags, vaddr, offset, filesz, memsz);
}

/* Lay the image out in dst, which holds exactly b->size bytes. Program
 * headers placed beyond the scratch area (absurd phoff) are not written. */
static void serialize(const struct eb *b, uint8_t *dst)
{
    static uint8_t s[SCRATCH];
    assert_true(b->size <= SCRATCH);
    memset(s, 0xcc, sizeof(s)); /* int3 filler stands in for code and data */
    memcpy(s, b->ident, 16);
    put16(s + 16, b->type);
    put16(s + 18, b->machine);
    put32(s + 20, b->version);
    put64(s + 24, b->entry);
    put64(s + 32, b->phoff);
    put64(s + 40, 0); /* shoff: section headers are not the loader's business */
    put32(s + 48, 0);
    put16(s + 52, b->ehsize);
    put16(s + 54, b->phentsize);
    put16(s + 56, b->phnum);
    put16(s + 58, 64);
    put16(s + 60, 0);
    put16(s + 62, 0);
    for (unsigned i = 0; i < b->nph; i++) {
        if (b->phoff > SCRATCH || (uint64_t)(i + 1) * 56 > SCRATCH - b->phoff)
            break;
        uint8_t *q = s + b->phoff + (uint64_t)i * 56;
        const struct ph *p = &b->ph[i];
        put32(q, p->type);
        put32(q + 4, p->flags);
        put64(q + 8, p->offset);
        put64(q + 16, p->vaddr);
        put64(q + 24, p->paddr);
        put64(q + 32, p->filesz);
        put64(q + 40, p->memsz);
        put64(q + 48, p->align);
    }
    memcpy(dst, s, b->size);
}

static void assert_same_image(const struct elf_image *a, const struct elf_image *b)
{
    assert_int_equal(a->entry, b->entry);
    assert_int_equal(a->nsegs, b->nsegs);
    for (uint32_t i = 0; i < a->nsegs && i < ELF_MAX_SEGS; i++) {
        assert_int_equal(a->segs[i].vaddr, b->segs[i].vaddr);
        assert_int_equal(a->segs[i].memsz, b->segs[i].memsz);
        assert_int_equal(a->segs[i].offset, b->segs[i].offset);
        assert_int_equal(a->segs[i].filesz, b->segs[i].filesz);
        assert_int_equal(a->segs[i].flags, b->segs[i].flags);
    }
}

/*
 * Validate the image from an exactly-sized heap buffer, then again from one
 * starting at an odd address: boot modules carry no alignment promise, and
 * the answer must not depend on it.
 */
static int run(const struct eb *b, struct elf_image *out, const char **why)
{
    uint8_t *p = malloc(b->size ? b->size : 1);
    uint8_t *q = malloc(b->size + 1);
    assert_non_null(p);
    assert_non_null(q);
    serialize(b, p);
    serialize(b, q + 1);

    memset(out, 0x5a, sizeof(*out));
    *why = NULL;
    int rc = elf_validate(p, b->size, LO, HI, out, why);
    assert_non_null(*why);

    struct elf_image out2;
    const char *why2 = NULL;
    memset(&out2, 0xa5, sizeof(out2));
    int rc2 = elf_validate(q + 1, b->size, LO, HI, &out2, &why2);
    assert_int_equal(rc, rc2);
    assert_string_equal(*why, why2);
    if (rc == 0)
        assert_same_image(out, &out2);
    free(q);
    free(p);
    return rc;
}

static int contains(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncmp(s, needle, n) == 0)
            return 1;
    return n == 0;
}

static void expect_bad(const struct eb *b, const char *needle)
{
    struct elf_image out;
    const char *why;
    assert_int_equal(run(b, &out, &why), -E_BADELF);
    if (needle && !contains(why, needle))
        fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void expect_ok(const struct eb *b, struct elf_image *out)
{
    const char *why;
    int rc = run(b, out, &why);
    if (rc != 0)
        fail_msg("refused (%d): %s", rc, why);
}

static void assert_seg(const struct elf_segment *s, uint64_t vaddr, uint64_t memsz, uint64_t offset,
                       uint64_t filesz, uint32_t flags)
{
    assert_int_equal(s->vaddr, vaddr);
    assert_int_equal(s->memsz, memsz);
    assert_int_equal(s->offset, offset);
    assert_int_equal(s->filesz, filesz);
    assert_int_equal(s->flags, flags);
}

/* Indices of the valid image's headers, for tests that bend one of them. */
enum { TEXT, STACK, RODATA, NOTE, DATA, EMPTY };

#define VALID_SIZE  0x400
#define TEXT_VADDR  0x401000ull
#define TEXT_SIZE   0x100ull
#define VALID_ENTRY (TEXT_VADDR + 0x10)

/* What a linker produces for a small static program, plus an empty LOAD. */
static void build_valid(struct eb *b)
{
    b_init(b, VALID_SIZE);
    b_load(b, R_X, TEXT_VADDR, 0x200, TEXT_SIZE, TEXT_SIZE);
    b_ph(b, PT_GNU_STACK, RW_, 0, 0, 0, 0);
    b_load(b, R__, 0x402000, 0x300, 0x80, 0x80);
    b_ph(b, PT_NOTE, R__, 0x402000, 0x300, 0x20, 0x20);
    b_load(b, RW_, 0x403000, 0x380, 0x40, 0x2000); /* data, then bss */
    /* Empty, outside the window and W+X: ignored only because memsz is 0. */
    b_load(b, RWX, 0, 0, 0, 0);
    b->entry = VALID_ENTRY;
}

/* ---- well-formed images ---- */

static void test_valid_image(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    struct elf_image out;
    const char *why;

    assert_int_equal(run(&b, &out, &why), 0);
    assert_string_equal(why, "ok");
    assert_int_equal(out.entry, VALID_ENTRY);
    assert_int_equal(out.nsegs, 3);
    assert_seg(&out.segs[0], TEXT_VADDR, TEXT_SIZE, 0x200, TEXT_SIZE, R_X);
    assert_seg(&out.segs[1], 0x402000, 0x80, 0x300, 0x80, R__);
    assert_seg(&out.segs[2], 0x403000, 0x2000, 0x380, 0x40, RW_);
}

static void test_valid_image_misaligned(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* run() already does this; here the fields themselves are checked too. */
    uint8_t *q = malloc(b.size + 1);
    assert_non_null(q);
    serialize(&b, q + 1);
    struct elf_image out;
    const char *why;

    assert_int_equal(elf_validate(q + 1, b.size, LO, HI, &out, &why), 0);
    assert_int_equal(out.entry, VALID_ENTRY);
    assert_int_equal(out.nsegs, 3);
    assert_seg(&out.segs[2], 0x403000, 0x2000, 0x380, 0x40, RW_);
    free(q);
}

static void test_non_load_headers_unchecked(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* Nothing is mapped from these, so their fields may be anything. */
    struct ph *n = &b.ph[NOTE];
    n->offset = UINT64_MAX - 4;
    n->filesz = 0x1000;
    n->memsz = 1;
    n->vaddr = 0;
    n->align = 3;
    n->flags = RWX;
    b.ph[STACK].flags = RWX;
    b_ph(&b, PT_NULL, 0, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    b_ph(&b, PT_PHDR, R__, 0x400040, 64, 6 * 56, 6 * 56);
    struct elf_image out;

    expect_ok(&b, &out);
    assert_int_equal(out.nsegs, 3);
}

/* ---- ELF header ---- */

static void test_null_image(void **state)
{
    (void)state;
    struct elf_image out;
    const char *why = NULL;

    assert_int_equal(elf_validate(NULL, VALID_SIZE, LO, HI, &out, &why), -E_BADELF);
    assert_non_null(why);
    assert_int_equal(out.nsegs, 0);
}

static void test_size_zero(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    b.size = 0;
    expect_bad(&b, "smaller than an ELF header");
}

static void test_size_below_header(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    for (uint64_t size = 1; size < 64; size++) {
        b.size = size;
        expect_bad(&b, "smaller than an ELF header");
    }
}

static void test_bad_magic(void **state)
{
    (void)state;
    struct eb b;
    for (int i = 0; i < 4; i++) {
        build_valid(&b);
        b.ident[i] ^= 0x20; /* 'elf' in lower case must not pass either */
        expect_bad(&b, "magic");
    }
}

static void test_class_not_64(void **state)
{
    (void)state;
    static const uint8_t bad[] = {0, 1 /* ELFCLASS32 */, 3, 0xff};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.ident[4] = bad[i];
        expect_bad(&b, "64-bit");
    }
}

static void test_big_endian(void **state)
{
    (void)state;
    static const uint8_t bad[] = {0, 2 /* ELFDATA2MSB */, 3};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.ident[5] = bad[i];
        expect_bad(&b, "little-endian");
    }
}

static void test_bad_version(void **state)
{
    (void)state;
    struct eb b;
    for (uint32_t v = 0; v < 3; v += 2) {
        build_valid(&b);
        b.ident[6] = (uint8_t)v;
        expect_bad(&b, "version");
        build_valid(&b);
        b.version = v;
        expect_bad(&b, "version");
    }
    build_valid(&b);
    b.version = 0x01000000; /* 1 read big-endian */
    expect_bad(&b, "version");
}

static void test_type_not_exec(void **state)
{
    (void)state;
    /* ET_NONE, ET_REL, ET_DYN (PIEs and shared objects), ET_CORE, swapped. */
    static const uint16_t bad[] = {0, 1, 3, 4, 0x0200, 0xfe00};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.type = bad[i];
        expect_bad(&b, "ET_EXEC");
    }
}

static void test_machine_not_x86_64(void **state)
{
    (void)state;
    static const uint16_t bad[] = {0, 3 /* i386 */, 40 /* ARM */, 183 /* AArch64 */, 0x3e00};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.machine = bad[i];
        expect_bad(&b, "x86_64");
    }
}

static void test_bad_ehsize(void **state)
{
    (void)state;
    static const uint16_t bad[] = {0, 52 /* ELF32 */, 63, 65, 0xffff};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.ehsize = bad[i];
        expect_bad(&b, "ELF header size");
    }
}

static void test_bad_phentsize(void **state)
{
    (void)state;
    static const uint16_t bad[] = {0, 32 /* ELF32 */, 55, 57, 64};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.phentsize = bad[i];
        expect_bad(&b, "entry size");
    }
}

static void test_phnum_zero(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    b.phnum = 0;
    expect_bad(&b, "program headers");
}

static void test_phnum_limit(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    while (b.nph < ELF_MAX_PHDRS)
        b_ph(&b, PT_GNU_STACK, RW_, 0, 0, 0, 0);
    expect_ok(&b, &out);
    assert_int_equal(out.nsegs, 3);

    b_ph(&b, PT_GNU_STACK, RW_, 0, 0, 0, 0);
    expect_bad(&b, "too many");
    /* A huge count must be refused on its own, before anything is read. */
    b.phnum = 0xffff;
    expect_bad(&b, "too many");
}

static void test_phoff_beyond_file(void **state)
{
    (void)state;
    static const uint64_t bad[] = {VALID_SIZE, VALID_SIZE + 1, 0x100000000ull, 1ull << 63};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.phoff = bad[i];
        expect_bad(&b, "outside the file");
    }
}

static void test_phdrs_end_at_file_end(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    /* The table may end on the file's last byte... */
    b.phoff = VALID_SIZE - (uint64_t)b.nph * 56;
    expect_ok(&b, &out);
    assert_int_equal(out.nsegs, 3);
    /* ...but not one byte later. */
    b.phoff++;
    expect_bad(&b, "outside the file");
    b.phoff--;
    b.size--;
    expect_bad(&b, "outside the file");
}

static void test_phoff_overflow(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* phoff + phnum * 56 wraps around to 64, which a naive sum would take. */
    uint64_t bad[] = {
        (uint64_t)0 - (uint64_t)b.nph * 56 + 64,
        UINT64_MAX,
        UINT64_MAX - 55,
    };
    for (size_t i = 0; i < N(bad); i++) {
        b.phoff = bad[i];
        expect_bad(&b, "outside the file");
    }
}

static void test_dynamic_refused(void **state)
{
    (void)state;
    static const uint32_t types[] = {PT_INTERP, PT_DYNAMIC};
    struct eb b;
    for (size_t i = 0; i < N(types); i++) {
        build_valid(&b);
        b_ph(&b, types[i], RW_, 0x403000, 0x380, 0x10, 0x10);
        expect_bad(&b, "dynamically linked");
        /* Even ahead of the LOADs, and with fields that are otherwise fine. */
        build_valid(&b);
        b.ph[STACK].type = types[i];
        expect_bad(&b, "dynamically linked");
    }
}

/* ---- loadable segments ---- */

static void test_filesz_above_memsz(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    b.ph[RODATA].filesz = b.ph[RODATA].memsz + 1;
    expect_bad(&b, "more file bytes");
}

static void test_segment_data_past_file(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    /* Rodata's bytes end exactly at the end of the file: fine. */
    b.ph[RODATA].offset = VALID_SIZE - b.ph[RODATA].filesz;
    expect_ok(&b, &out);
    assert_int_equal(out.segs[1].offset, VALID_SIZE - 0x80);

    b.ph[RODATA].offset++;
    expect_bad(&b, "outside the file");
    build_valid(&b);
    b.ph[RODATA].offset = VALID_SIZE + 1;
    expect_bad(&b, "outside the file");
}

static void test_segment_offset_overflow(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* offset + filesz wraps to 0x40, inside the file. */
    b.ph[RODATA].offset = (uint64_t)0 - 0x40;
    expect_bad(&b, "outside the file");
    b.ph[RODATA].offset = UINT64_MAX;
    expect_bad(&b, "outside the file");
    build_valid(&b);
    /* A huge filesz (with memsz to match) must not wrap either. */
    b.ph[DATA].filesz = UINT64_MAX - 0x100;
    b.ph[DATA].memsz = UINT64_MAX - 0x100;
    expect_bad(&b, "outside the file");
}

static void test_vaddr_below_window(void **state)
{
    (void)state;
    static const uint64_t bad[] = {0, 0x1000, LO - 0x1000, LO - 1};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.ph[RODATA].vaddr = bad[i];
        expect_bad(&b, "window");
    }
}

static void test_segment_end_above_window(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* Ends one byte past the window. */
    b.ph[DATA].vaddr = HI - b.ph[DATA].memsz + 1;
    expect_bad(&b, "window");
    /* Starts at the window's end. */
    b.ph[DATA].vaddr = HI;
    expect_bad(&b, "window");
    /* Kernel half, user stack. */
    b.ph[DATA].vaddr = 0xffffffff80000000ull;
    expect_bad(&b, "window");
    b.ph[DATA].vaddr = USER_STACK_TOP - USER_STACK_SIZE;
    expect_bad(&b, "window");
}

static void test_segment_end_wraps(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* vaddr + memsz wraps to just past text, inside the window. */
    b.ph[DATA].memsz = (uint64_t)0 - 0x403000 + 0x401200;
    expect_bad(&b, "window");
    b.ph[DATA].memsz = UINT64_MAX;
    expect_bad(&b, "window");
    build_valid(&b);
    b.ph[DATA].vaddr = (uint64_t)0 - 0x1000;
    expect_bad(&b, "window");
}

static void test_segments_at_window_edges(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    b.ph[TEXT].vaddr = LO;
    b.entry = LO;
    b.ph[DATA].vaddr = HI - b.ph[DATA].memsz;
    expect_ok(&b, &out);
    assert_int_equal(out.entry, LO);
    assert_seg(&out.segs[0], LO, TEXT_SIZE, 0x200, TEXT_SIZE, R_X);
    assert_seg(&out.segs[2], HI - 0x2000, 0x2000, 0x380, 0x40, RW_);

    /* The end need not be page aligned to touch the window's edge. */
    b.ph[DATA].vaddr = HI - 0x1801;
    b.ph[DATA].memsz = 0x1801;
    expect_ok(&b, &out);
    assert_int_equal(out.segs[2].vaddr + out.segs[2].memsz, HI);
}

static void test_align_not_power_of_two(void **state)
{
    (void)state;
    static const uint64_t bad[] = {3, 6, 0x1800, 0x3000, UINT64_MAX};
    static const uint64_t good[] = {0, 1, 2, 16, 0x1000, 0x200000, 1ull << 63};
    struct eb b;
    struct elf_image out;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.ph[DATA].align = bad[i];
        expect_bad(&b, "power of two");
    }
    for (size_t i = 0; i < N(good); i++) {
        build_valid(&b);
        b.ph[DATA].align = good[i];
        expect_ok(&b, &out);
    }
}

static void test_writable_and_executable(void **state)
{
    (void)state;
    static const uint32_t bad[] = {RWX, ELF_PF_W | ELF_PF_X, RWX | 0xf0000000u};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.ph[DATA].flags = bad[i];
        expect_bad(&b, "writable and executable");
        build_valid(&b);
        b.ph[TEXT].flags = bad[i]; /* the entry's own segment too */
        expect_bad(&b, "writable and executable");
    }
}

static void test_too_many_segments(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    b_init(&b, VALID_SIZE);
    for (unsigned i = 0; i < ELF_MAX_SEGS; i++)
        b_load(&b, i == 0 ? R_X : R__, LO + i * 0x1000ull, 0x200, 0x10, 0x10);
    b.entry = LO;
    expect_ok(&b, &out);
    assert_int_equal(out.nsegs, ELF_MAX_SEGS);
    assert_int_equal(out.segs[ELF_MAX_SEGS - 1].vaddr, LO + (ELF_MAX_SEGS - 1) * 0x1000ull);

    b_load(&b, R__, LO + ELF_MAX_SEGS * 0x1000ull, 0x200, 0x10, 0x10);
    expect_bad(&b, "too many loadable segments");
}

static void test_total_memsz_limit(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    /* Text and rodata, then a bss that brings the sum to exactly the limit. */
    uint64_t used = b.ph[TEXT].memsz + b.ph[RODATA].memsz;
    b.ph[DATA].vaddr = 0x1000000;
    b.ph[DATA].memsz = ELF_MAX_MEMSIZE - used;
    expect_ok(&b, &out);
    assert_int_equal(out.segs[2].memsz, ELF_MAX_MEMSIZE - used);

    b.ph[DATA].memsz++;
    expect_bad(&b, "too large");

    /* Each part under the limit, the sum over it. */
    build_valid(&b);
    b.ph[RODATA].vaddr = 0x1000000;
    b.ph[RODATA].memsz = ELF_MAX_MEMSIZE / 2;
    b.ph[DATA].vaddr = 0x8000000;
    b.ph[DATA].memsz = ELF_MAX_MEMSIZE / 2;
    expect_bad(&b, "too large");
}

/* ---- overlap ---- */

static void test_overlapping_segments(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    b.ph[RODATA].vaddr = TEXT_VADDR + 0x80; /* inside text */
    expect_bad(&b, "overlap");

    build_valid(&b);
    b.ph[RODATA].vaddr = TEXT_VADDR; /* identical start */
    expect_bad(&b, "overlap");

    /* A later segment that covers an earlier one entirely. */
    build_valid(&b);
    b.ph[DATA].vaddr = LO;
    b.ph[DATA].memsz = 0x10000;
    expect_bad(&b, "overlap");

    /* A later segment lower in memory, overlapping from below. */
    build_valid(&b);
    b.ph[DATA].vaddr = TEXT_VADDR - 0x1000;
    b.ph[DATA].memsz = 0x1001;
    expect_bad(&b, "overlap");
}

static void test_segments_share_page(void **state)
{
    (void)state;
    struct eb b;
    /* No byte in common, but both would need page 0x401000. */
    build_valid(&b);
    b.ph[TEXT].memsz = b.ph[TEXT].filesz = 0x10;
    b.entry = TEXT_VADDR;
    b.ph[RODATA].vaddr = 0x401800;
    expect_bad(&b, "overlap");

    /* The same with the higher segment listed first. */
    build_valid(&b);
    b.ph[TEXT].vaddr = 0x402800;
    b.entry = 0x402800;
    expect_bad(&b, "overlap");

    /* A segment's last byte on the first byte of the next one's page. */
    build_valid(&b);
    b.ph[TEXT].memsz = 0x1001;
    expect_bad(&b, "overlap");
}

static void test_adjacent_segments(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    b.ph[TEXT].memsz = 0x1000; /* ends where rodata starts */
    b.ph[RODATA].memsz = 0x1000;
    expect_ok(&b, &out);
    assert_int_equal(out.nsegs, 3);
    assert_int_equal(out.segs[0].vaddr + out.segs[0].memsz, out.segs[1].vaddr);
    assert_int_equal(out.segs[1].vaddr + out.segs[1].memsz, out.segs[2].vaddr);

    /* Unaligned ends are fine as long as the pages differ. */
    build_valid(&b);
    b.ph[TEXT].memsz = 0xfff;
    b.ph[RODATA].vaddr = 0x402fff - 0x80;
    expect_ok(&b, &out);
}

/* ---- segment set and entry point ---- */

static void test_no_loadable_segment(void **state)
{
    (void)state;
    struct eb b;
    b_init(&b, VALID_SIZE);
    b_ph(&b, PT_GNU_STACK, RW_, 0, 0, 0, 0);
    b_ph(&b, PT_NOTE, R__, 0x402000, 0x300, 0x20, 0x20);
    b.entry = VALID_ENTRY;
    expect_bad(&b, "no loadable segment");

    /* LOAD headers that load nothing count for nothing. */
    build_valid(&b);
    b.ph[TEXT].memsz = b.ph[TEXT].filesz = 0;
    b.ph[RODATA].memsz = b.ph[RODATA].filesz = 0;
    b.ph[DATA].memsz = b.ph[DATA].filesz = 0;
    expect_bad(&b, "no loadable segment");
}

static void test_entry_outside_segments(void **state)
{
    (void)state;
    static const uint64_t bad[] = {0, LO, TEXT_VADDR - 1, 0x405000, HI, UINT64_MAX};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.entry = bad[i];
        expect_bad(&b, "entry point");
    }
}

static void test_entry_in_non_exec_segment(void **state)
{
    (void)state;
    /* Rodata, data, and data's zero-filled tail. */
    static const uint64_t bad[] = {0x402000, 0x402010, 0x403000, 0x404fff};
    struct eb b;
    for (size_t i = 0; i < N(bad); i++) {
        build_valid(&b);
        b.entry = bad[i];
        expect_bad(&b, "entry point");
    }
}

static void test_entry_at_text_edges(void **state)
{
    (void)state;
    struct eb b;
    struct elf_image out;
    build_valid(&b);
    b.entry = TEXT_VADDR;
    expect_ok(&b, &out);
    assert_int_equal(out.entry, TEXT_VADDR);
    b.entry = TEXT_VADDR + TEXT_SIZE - 1;
    expect_ok(&b, &out);
    assert_int_equal(out.entry, TEXT_VADDR + TEXT_SIZE - 1);
    b.entry = TEXT_VADDR + TEXT_SIZE;
    expect_bad(&b, "entry point");
}

/* ---- mutation loop ---- */

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * What the loader relies on after a success, checked against the bytes of the
 * mutated image rather than against what the validator reports about them.
 */
static void check_success(const struct elf_image *out, const uint8_t *img, uint64_t size)
{
    assert_true(out->nsegs >= 1 && out->nsegs <= ELF_MAX_SEGS);
    uint64_t phoff = get64(img + 32), total = 0;
    uint16_t phnum;
    memcpy(&phnum, img + 56, 2);
    assert_true(phnum >= 1 && phnum <= ELF_MAX_PHDRS);
    assert_true(phoff <= size && phnum * 56ull <= size - phoff);
    assert_int_equal(out->entry, get64(img + 24));

    int entry_ok = 0;
    for (uint32_t i = 0; i < out->nsegs; i++) {
        const struct elf_segment *s = &out->segs[i];
        assert_true(s->memsz > 0);
        assert_true(s->vaddr >= LO);
        assert_true(s->vaddr <= HI && s->memsz <= HI - s->vaddr);
        assert_true(s->offset <= size && s->filesz <= size - s->offset);
        assert_true(s->filesz <= s->memsz);
        assert_false((s->flags & ELF_PF_W) && (s->flags & ELF_PF_X));
        total += s->memsz;
        if ((s->flags & ELF_PF_X) && out->entry >= s->vaddr && out->entry - s->vaddr < s->memsz)
            entry_ok = 1;
        for (uint32_t j = 0; j < i; j++) {
            const struct elf_segment *o = &out->segs[j];
            uint64_t b = s->vaddr & ~0xfffull, e = (s->vaddr + s->memsz + 0xfff) & ~0xfffull;
            uint64_t ob = o->vaddr & ~0xfffull, oe = (o->vaddr + o->memsz + 0xfff) & ~0xfffull;
            assert_false(b < oe && ob < e);
        }
        /* Each segment came from some PT_LOAD header of this image. */
        int found = 0;
        for (uint16_t k = 0; k < phnum && !found; k++) {
            const uint8_t *q = img + phoff + k * 56ull;
            found = get32(q) == PT_LOAD && get32(q + 4) == s->flags && get64(q + 8) == s->offset &&
                    get64(q + 16) == s->vaddr && get64(q + 32) == s->filesz &&
                    get64(q + 40) == s->memsz;
        }
        assert_true(found);
    }
    assert_true(total <= ELF_MAX_MEMSIZE);
    assert_true(entry_ok);
}

static void test_mutations(void **state)
{
    (void)state;
    struct eb b;
    build_valid(&b);
    /* Little-endian byte values that sit on the validator's boundaries. */
    static const uint8_t interesting[] = {0,    1,    2,    3,    4,    6,    7,   0x10,
                                          0x38, 0x3e, 0x40, 0x7f, 0x80, 0xfe, 0xff};
    const uint64_t len = b.size;
    const uint64_t hdr_end = b.phoff + b.nph * 56ull;
    uint8_t *orig = malloc(len);
    assert_non_null(orig);
    serialize(&b, orig);
    unsigned ok = 0, bad = 0;

    rng_state = 0x6772616e2d656c66ull;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *p = malloc(len);
        assert_non_null(p);
        memcpy(p, orig, len);
        unsigned flips = 1 + (unsigned)(rng() % 4);
        for (unsigned k = 0; k < flips; k++) {
            /* Mostly the headers: flipping payload bytes decides nothing. */
            uint64_t pos = rng() % 8 ? rng() % hdr_end : rng() % len;
            mutate_byte(p, pos, interesting, sizeof(interesting));
        }
        /* Sometimes cut the image short, and sometimes misalign it. */
        uint64_t size = len;
        if (rng() % 8 == 0)
            size = rng() % (len + 1);
        unsigned shift = rng() % 4 == 0 ? 1 + (unsigned)(rng() % 7) : 0;
        uint8_t *q = malloc(size + shift > 0 ? size + shift : 1);
        assert_non_null(q);
        memcpy(q + shift, p, size);

        struct elf_image out;
        const char *why = NULL;
        int rc = elf_validate(q + shift, size, LO, HI, &out, &why);
        assert_non_null(why);
        if (rc == 0) {
            check_success(&out, q + shift, size);
            ok++;
        } else {
            assert_int_equal(rc, -E_BADELF);
            bad++;
        }
        free(q);
        free(p);
    }
    free(orig);
    /* Both outcomes must occur, or the loop is not exploring anything. */
    print_message("mutations: %u accepted, %u refused\n", ok, bad);
    assert_true(ok > 1000);
    assert_true(bad > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_image),
        cmocka_unit_test(test_valid_image_misaligned),
        cmocka_unit_test(test_non_load_headers_unchecked),
        cmocka_unit_test(test_null_image),
        cmocka_unit_test(test_size_zero),
        cmocka_unit_test(test_size_below_header),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_class_not_64),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_type_not_exec),
        cmocka_unit_test(test_machine_not_x86_64),
        cmocka_unit_test(test_bad_ehsize),
        cmocka_unit_test(test_bad_phentsize),
        cmocka_unit_test(test_phnum_zero),
        cmocka_unit_test(test_phnum_limit),
        cmocka_unit_test(test_phoff_beyond_file),
        cmocka_unit_test(test_phdrs_end_at_file_end),
        cmocka_unit_test(test_phoff_overflow),
        cmocka_unit_test(test_dynamic_refused),
        cmocka_unit_test(test_filesz_above_memsz),
        cmocka_unit_test(test_segment_data_past_file),
        cmocka_unit_test(test_segment_offset_overflow),
        cmocka_unit_test(test_vaddr_below_window),
        cmocka_unit_test(test_segment_end_above_window),
        cmocka_unit_test(test_segment_end_wraps),
        cmocka_unit_test(test_segments_at_window_edges),
        cmocka_unit_test(test_align_not_power_of_two),
        cmocka_unit_test(test_writable_and_executable),
        cmocka_unit_test(test_too_many_segments),
        cmocka_unit_test(test_total_memsz_limit),
        cmocka_unit_test(test_overlapping_segments),
        cmocka_unit_test(test_segments_share_page),
        cmocka_unit_test(test_adjacent_segments),
        cmocka_unit_test(test_no_loadable_segment),
        cmocka_unit_test(test_entry_outside_segments),
        cmocka_unit_test(test_entry_in_non_exec_segment),
        cmocka_unit_test(test_entry_at_text_edges),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
