/*
 * Host tests for the physical frame allocator (kernel/frame.c): turning a
 * firmware memory map into usable ranges, and the bitmap allocator's
 * alloc/free/take contract, including a seeded run against a reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "frame.h"
#include "hostlib.h"

#define R(b, e) ((struct phys_range){(b), (e)})
#define N(a)    (sizeof(a) / sizeof((a)[0]))
#define MAX_OUT 16

/* Run frame_usable_ranges into a poisoned output array and check the
 * result against `want`. */
static void expect_ranges(const struct phys_range *avail, size_t navail,
                          const struct phys_range *holes, size_t nholes,
                          const struct phys_range *want, size_t nwant)
{
    struct phys_range out[MAX_OUT];
    memset(out, 0xcc, sizeof(out));
    int n = frame_usable_ranges(avail, navail, holes, nholes, out, MAX_OUT);
    assert_int_equal(n, (int)nwant);
    for (size_t i = 0; i < nwant; i++) {
        assert_int_equal(out[i].base, want[i].base);
        assert_int_equal(out[i].end, want[i].end);
    }
}

/* ---- frame_usable_ranges ---- */

static void test_ranges_sorted(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x50000, 0x60000), R(0x10000, 0x20000),
                                       R(0x30000, 0x40000), R(0x8000, 0x9000)};
    const struct phys_range want[] = {R(0x8000, 0x9000), R(0x10000, 0x20000), R(0x30000, 0x40000),
                                      R(0x50000, 0x60000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_overlap_merged(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x30000, 0x60000), R(0x10000, 0x40000),
                                       R(0x20000, 0x28000), /* inside the second */
                                       R(0x80000, 0x90000)};
    const struct phys_range want[] = {R(0x10000, 0x60000), R(0x80000, 0x90000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_touching_merged(void **state)
{
    (void)state;
    /* Firmware often splits one RAM bank into adjacent entries. */
    const struct phys_range avail[] = {R(0x3000, 0x5000), R(0x1000, 0x2000), R(0x2000, 0x3000),
                                       R(0x6000, 0x7000)};
    const struct phys_range want[] = {R(0x1000, 0x5000), R(0x6000, 0x7000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_duplicates_merged(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x1000, 0x4000), R(0x1000, 0x4000), R(0x1000, 0x2000)};
    const struct phys_range want[] = {R(0x1000, 0x4000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_unaligned_shrunk(void **state)
{
    (void)state;
    /* Only whole pages inside a usable entry are usable. */
    const struct phys_range avail[] = {R(0x1001, 0x4fff), R(0x9fc00 - 0x20000, 0x9fc00)};
    const struct phys_range want[] = {R(0x2000, 0x4000), R(0x80000, 0x9f000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_unaligned_touching_not_merged_into_gap(void **state)
{
    (void)state;
    /* Shrinking happens per entry before merging, so the partial pages at
     * the seam are lost even though together they cover page 0x2000. */
    const struct phys_range avail[] = {R(0x1000, 0x2800), R(0x2800, 0x4000)};
    const struct phys_range want[] = {R(0x1000, 0x2000), R(0x3000, 0x4000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_small_vanish(void **state)
{
    (void)state;
    const struct phys_range avail[] = {
        R(0x1000, 0x1fff),   /* a page minus one byte */
        R(0x3800, 0x4800),   /* a page long, but straddles a boundary */
        R(0x6000, 0x6000),   /* empty */
        R(0x10000, 0x11000), /* exactly one page: kept */
    };
    const struct phys_range want[] = {R(0x10000, 0x11000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_ranges_inverted_ignored(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x50000, 0x10000), R(0x20000, 0x30000), R(UINT64_MAX, 0)};
    const struct phys_range want[] = {R(0x20000, 0x30000)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));
}

static void test_hole_splits(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x0, 0x10000)};
    const struct phys_range holes[] = {R(0x4000, 0x6000)};
    const struct phys_range want[] = {R(0x0, 0x4000), R(0x6000, 0x10000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_splits_twice(void **state)
{
    (void)state;
    /* Holes given out of order, both inside the same range. */
    const struct phys_range avail[] = {R(0x0, 0x10000)};
    const struct phys_range holes[] = {R(0xa000, 0xb000), R(0x2000, 0x3000)};
    const struct phys_range want[] = {R(0x0, 0x2000), R(0x3000, 0xa000), R(0xb000, 0x10000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_removes_range(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x10000, 0x20000), R(0x30000, 0x40000),
                                       R(0x50000, 0x60000)};
    /* One hole exactly the size of a range, one wider than its range. */
    const struct phys_range holes[] = {R(0x10000, 0x20000), R(0x48000, 0x68000)};
    const struct phys_range want[] = {R(0x30000, 0x40000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_spans_several_ranges(void **state)
{
    (void)state;
    /* Removing a range shifts the rest down; the next one must still be
     * looked at by the same hole. */
    const struct phys_range avail[] = {R(0x0, 0x4000), R(0x8000, 0xa000), R(0xc000, 0xd000),
                                       R(0x10000, 0x14000)};
    const struct phys_range holes[] = {R(0x3000, 0x12000)};
    const struct phys_range want[] = {R(0x0, 0x3000), R(0x12000, 0x14000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_removes_first_of_adjacent(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x0, 0x1000), R(0x2000, 0x3000), R(0x4000, 0x5000)};
    const struct phys_range holes[] = {R(0x0, 0x3000)};
    const struct phys_range want[] = {R(0x4000, 0x5000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_trims_front_and_back(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x10000, 0x20000), R(0x30000, 0x40000)};
    const struct phys_range holes[] = {R(0x8000, 0x12000),   /* over the front */
                                       R(0x3e000, 0x50000),  /* over the back */
                                       R(0x10000, 0x11000)}; /* front, starting at base */
    const struct phys_range want[] = {R(0x12000, 0x20000), R(0x30000, 0x3e000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_touching_leaves_range(void **state)
{
    (void)state;
    /* [end, ...) and [..., base) do not overlap the range. */
    const struct phys_range avail[] = {R(0x10000, 0x20000)};
    const struct phys_range holes[] = {R(0x20000, 0x30000), R(0x0, 0x10000)};
    const struct phys_range want[] = {R(0x10000, 0x20000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_widened_outward(void **state)
{
    (void)state;
    /* A reserved byte anywhere in a page makes the whole page unusable. */
    const struct phys_range avail[] = {R(0x0, 0x10000)};
    const struct phys_range holes[] = {R(0x4800, 0x5001), R(0x9fff, 0xa000), R(0xe000, 0xe001)};
    const struct phys_range want[] = {R(0x0, 0x4000), R(0x6000, 0x9000), R(0xa000, 0xe000),
                                      R(0xf000, 0x10000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_hole_empty_or_inverted_ignored(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x0, 0x10000)};
    const struct phys_range holes[] = {R(0x4000, 0x4000), R(0x8000, 0x2000), R(0x5800, 0x5800)};
    const struct phys_range want[] = {R(0x0, 0x10000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_reserved_wins(void **state)
{
    (void)state;
    /* A BIOS-style map where reserved entries overlap the usable ones: the
     * EBDA at the top of low memory and a reserved window inside high RAM. */
    const struct phys_range avail[] = {R(0x0, 0xa0000), R(0x100000, 0x8000000)};
    const struct phys_range holes[] = {
        R(0x9fc00, 0xa0000),     R(0xf0000, 0x100000), R(0x0, 0x100000), /* low 1 MiB */
        R(0x100000, 0x180000),                                           /* kernel image */
        R(0x7fe0000, 0x8000000),                                         /* ACPI */
        R(0x4000000, 0x4001234),                                         /* a module */
    };
    const struct phys_range want[] = {R(0x180000, 0x4000000), R(0x4002000, 0x7fe0000)};
    expect_ranges(avail, N(avail), holes, N(holes), want, N(want));
}

static void test_nothing_usable(void **state)
{
    (void)state;
    struct phys_range out[MAX_OUT];
    const struct phys_range avail[] = {R(0x10000, 0x20000), R(0x30000, 0x30800)};
    const struct phys_range all[] = {R(0x0, UINT64_MAX)};
    const struct phys_range tiny[] = {R(0x1, 0xfff), R(0x5000, 0x4000)};

    assert_int_equal(frame_usable_ranges(NULL, 0, NULL, 0, out, MAX_OUT), -E_NOENT);
    assert_int_equal(frame_usable_ranges(avail, N(avail), all, N(all), out, MAX_OUT), -E_NOENT);
    assert_int_equal(frame_usable_ranges(tiny, N(tiny), NULL, 0, out, MAX_OUT), -E_NOENT);
    /* Usable memory exactly covered by two holes. */
    const struct phys_range two[] = {R(0x10000, 0x18000), R(0x18000, 0x20000)};
    assert_int_equal(frame_usable_ranges(avail, 1, two, N(two), out, MAX_OUT), -E_NOENT);
}

static void test_output_too_small(void **state)
{
    (void)state;
    const struct phys_range avail[] = {R(0x10000, 0x20000), R(0x30000, 0x40000),
                                       R(0x50000, 0x60000)};
    const struct phys_range split[] = {R(0x14000, 0x15000)};
    /* One slot past the array so an overrun shows as a changed sentinel. */
    struct phys_range out[4];

    memset(out, 0xcc, sizeof(out));
    assert_int_equal(frame_usable_ranges(avail, 3, NULL, 0, out, 2), -E_NOMEM);
    assert_int_equal(out[2].base, 0xccccccccccccccccull);
    assert_int_equal(frame_usable_ranges(avail, 3, NULL, 0, out, 3), 3);

    /* A split needs one more slot than the input had. */
    memset(out, 0xcc, sizeof(out));
    assert_int_equal(frame_usable_ranges(avail, 1, split, 1, out, 1), -E_NOMEM);
    assert_int_equal(out[1].base, 0xccccccccccccccccull);
    assert_int_equal(frame_usable_ranges(avail, 1, split, 1, out, 2), 2);
    assert_int_equal(frame_usable_ranges(avail, 0, NULL, 0, out, 0), -E_NOENT);
}

static void test_top_of_address_space(void **state)
{
    (void)state;
    const uint64_t top = UINT64_MAX & ~(FRAME_SIZE - 1); /* last page boundary */
    /* End at UINT64_MAX: rounding up the base or widening a hole must not
     * wrap to 0. */
    const struct phys_range avail[] = {R(top - 0x4000 + 1, UINT64_MAX),
                                       R(UINT64_MAX - 0x800, UINT64_MAX), R(0x1000, 0x3000)};
    const struct phys_range want[] = {R(0x1000, 0x3000), R(top - 0x3000, top)};
    expect_ranges(avail, N(avail), NULL, 0, want, N(want));

    const struct phys_range holes[] = {R(top - 0x1800, UINT64_MAX)};
    const struct phys_range want2[] = {R(0x1000, 0x3000), R(top - 0x3000, top - 0x2000)};
    expect_ranges(avail, N(avail), holes, N(holes), want2, N(want2));

    /* A hole whose rounded-up end would pass 2^64. */
    const struct phys_range holes3[] = {R(top + 1, UINT64_MAX)};
    const struct phys_range want3[] = {R(0x1000, 0x3000), R(top - 0x3000, top)};
    expect_ranges(avail, N(avail), holes3, N(holes3), want3, N(want3));
}

/* ---- allocator ---- */

/* Two ranges with a gap, spanning several bitmap words. */
static const struct phys_range two_ranges[] = {R(0x100000, 0x180000),  /* 128 frames */
                                               R(0x200000, 0x240000)}; /* 64 frames */
#define TWO_FRAMES 192u
#define TWO_SPAN   ((0x240000u - 0x100000u) / 4096u)

struct fixture {
    struct frame_alloc fa;
    uint64_t *bitmap;
    size_t words;
};

/* The bitmap is exactly frame_bitmap_words() long on the heap, so ASan
 * catches any bit set or tested past it. */
static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->words = frame_bitmap_words(two_ranges, 2);
    f->bitmap = malloc(f->words * sizeof(uint64_t));
    if (f->bitmap == NULL)
        return -1;
    memset(f->bitmap, 0xa5, f->words * sizeof(uint64_t)); /* init must clear it */
    if (frame_init(&f->fa, two_ranges, 2, f->bitmap, f->words) != 0)
        return -1;
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    free(f->bitmap);
    free(f);
    return 0;
}

static bool in_ranges(uint64_t pa)
{
    for (size_t i = 0; i < N(two_ranges); i++)
        if (pa >= two_ranges[i].base && pa < two_ranges[i].end)
            return true;
    return false;
}

static size_t frame_idx(uint64_t pa)
{
    return (size_t)((pa - two_ranges[0].base) / FRAME_SIZE);
}

static void test_bitmap_words(void **state)
{
    (void)state;
    const struct phys_range r64[] = {R(0x0, 64 * FRAME_SIZE)};
    const struct phys_range r65[] = {R(0x1000, 0x1000 + 65 * FRAME_SIZE)};
    const struct phys_range r1[] = {R(0x7000, 0x8000)};

    assert_int_equal(frame_bitmap_words(NULL, 0), 0);
    assert_int_equal(frame_bitmap_words(r1, 1), 1);
    assert_int_equal(frame_bitmap_words(r64, 1), 1);
    assert_int_equal(frame_bitmap_words(r65, 1), 2);
    /* The map spans the gap too: first base to last end. */
    assert_int_equal(frame_bitmap_words(two_ranges, 2), (TWO_SPAN + 63) / 64);
}

static void test_init_state(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->words, 5);
    assert_int_equal(f->fa.total, TWO_FRAMES);
    assert_int_equal(f->fa.free, TWO_FRAMES);
    assert_int_equal(f->fa.base, 0x100000);
    assert_int_equal(f->fa.nframes, TWO_SPAN);
}

static void test_init_no_ranges(void **state)
{
    (void)state;
    struct frame_alloc fa;
    uint64_t bm[1];
    const struct phys_range empty[] = {R(0x1000, 0x1000)};

    assert_int_equal(frame_init(&fa, NULL, 0, bm, 0), -E_NOENT);
    assert_int_equal(fa.free, 0);
    assert_int_equal(frame_alloc(&fa), FRAME_NONE);
    assert_int_equal(frame_init(&fa, empty, 1, bm, frame_bitmap_words(empty, 1)), -E_NOENT);
    assert_int_equal(frame_alloc(&fa), FRAME_NONE);
}

static void test_alloc_until_exhausted(void **state)
{
    struct fixture *f = *state;
    bool seen[TWO_SPAN] = {false};

    for (unsigned i = 0; i < TWO_FRAMES; i++) {
        uint64_t pa = frame_alloc(&f->fa);
        assert_int_not_equal(pa, FRAME_NONE);
        assert_int_equal(pa % FRAME_SIZE, 0);
        assert_true(in_ranges(pa)); /* never the gap */
        assert_false(seen[frame_idx(pa)]);
        seen[frame_idx(pa)] = true;
        assert_int_equal(f->fa.free, TWO_FRAMES - 1 - i);
    }
    assert_int_equal(frame_alloc(&f->fa), FRAME_NONE);
    assert_int_equal(frame_alloc(&f->fa), FRAME_NONE);
    assert_int_equal(f->fa.free, 0);
    assert_int_equal(f->fa.total, TWO_FRAMES);
}

static void test_free_accounting(void **state)
{
    struct fixture *f = *state;
    uint64_t a = frame_alloc(&f->fa), b = frame_alloc(&f->fa), c = frame_alloc(&f->fa);

    assert_int_equal(f->fa.free, TWO_FRAMES - 3);
    assert_int_equal(frame_free(&f->fa, b), 0);
    assert_int_equal(f->fa.free, TWO_FRAMES - 2);
    assert_int_equal(frame_free(&f->fa, a), 0);
    assert_int_equal(frame_free(&f->fa, c), 0);
    assert_int_equal(f->fa.free, TWO_FRAMES);
    assert_int_equal(f->fa.total, TWO_FRAMES);
}

static void test_free_out_of_range(void **state)
{
    struct fixture *f = *state;
    static const uint64_t bad[] = {
        0x180000,      /* first frame of the gap */
        0x1ff000,      /* last frame of the gap */
        0x1c0000,      /* middle of the gap */
        0x0,           /* below everything */
        0xff000,       /* just below the first range */
        0x240000,      /* the (exclusive) end of the last range */
        0x10000000,    /* far above */
        0x100001,      /* misaligned inside a range */
        0x200800,      /* misaligned inside the second range */
        FRAME_NONE,    /* a failed alloc passed straight back */
        0x17ffffffull, /* misaligned, above */
    };
    frame_alloc(&f->fa);
    uint64_t before = f->fa.free;

    for (size_t i = 0; i < N(bad); i++) {
        assert_int_equal(frame_free(&f->fa, bad[i]), -E_RANGE);
        assert_int_equal(frame_take(&f->fa, bad[i]), -E_RANGE);
    }
    assert_int_equal(f->fa.free, before);
}

static void test_double_free(void **state)
{
    struct fixture *f = *state;
    uint64_t pa = frame_alloc(&f->fa);

    assert_int_equal(frame_free(&f->fa, pa), 0);
    assert_int_equal(frame_free(&f->fa, pa), -E_INVAL);
    assert_int_equal(f->fa.free, TWO_FRAMES);
    /* A frame never allocated is already free. */
    assert_int_equal(frame_free(&f->fa, 0x230000), -E_INVAL);
    assert_int_equal(f->fa.free, TWO_FRAMES);
}

static void test_take_allocated(void **state)
{
    struct fixture *f = *state;
    uint64_t pa = frame_alloc(&f->fa);
    uint64_t before = f->fa.free;

    assert_int_equal(frame_take(&f->fa, pa), -E_INVAL);
    assert_int_equal(f->fa.free, before);
}

static void test_take_then_alloc(void **state)
{
    struct fixture *f = *state;
    /* First and last frame of each range, and one in the middle: the edges
     * are where off-by-one errors in the index would show. */
    static const uint64_t taken[] = {0x100000, 0x17f000, 0x200000, 0x23f000, 0x140000};

    for (size_t i = 0; i < N(taken); i++)
        assert_int_equal(frame_take(&f->fa, taken[i]), 0);
    assert_int_equal(f->fa.free, TWO_FRAMES - N(taken));
    assert_int_equal(frame_take(&f->fa, taken[0]), -E_INVAL);

    unsigned got = 0;
    for (uint64_t pa; (pa = frame_alloc(&f->fa)) != FRAME_NONE; got++)
        for (size_t i = 0; i < N(taken); i++)
            assert_int_not_equal(pa, taken[i]);
    assert_int_equal(got, TWO_FRAMES - N(taken));

    /* A taken frame handed back through free is allocatable again. */
    assert_int_equal(frame_free(&f->fa, taken[3]), 0);
    assert_int_equal(frame_alloc(&f->fa), taken[3]);
}

static void test_free_after_exhaustion(void **state)
{
    struct fixture *f = *state;
    while (frame_alloc(&f->fa) != FRAME_NONE)
        ;
    /* Chosen far from where the search hint stopped. */
    static const uint64_t back[] = {0x100000, 0x23f000, 0x155000};

    for (size_t i = 0; i < N(back); i++) {
        assert_int_equal(frame_free(&f->fa, back[i]), 0);
        assert_int_equal(f->fa.free, 1);
        assert_int_equal(frame_alloc(&f->fa), back[i]);
        assert_int_equal(frame_alloc(&f->fa), FRAME_NONE);
    }
}

static void test_single_frame_allocator(void **state)
{
    (void)state;
    const struct phys_range r[] = {R(0x5000, 0x6000)};
    struct frame_alloc fa;
    uint64_t *bm = malloc(sizeof(uint64_t));
    assert_non_null(bm);

    assert_int_equal(frame_init(&fa, r, 1, bm, frame_bitmap_words(r, 1)), 0);
    assert_int_equal(frame_alloc(&fa), 0x5000);
    assert_int_equal(frame_alloc(&fa), FRAME_NONE);
    assert_int_equal(frame_free(&fa, 0x6000), -E_RANGE);
    assert_int_equal(frame_free(&fa, 0x5000), 0);
    free(bm);
}

static void test_allocator_at_top(void **state)
{
    (void)state;
    const uint64_t top = UINT64_MAX & ~(FRAME_SIZE - 1);
    const struct phys_range avail[] = {R(top - 0x3000, UINT64_MAX)};
    struct phys_range r[2];
    int n = frame_usable_ranges(avail, 1, NULL, 0, r, 2);
    assert_int_equal(n, 1);

    struct frame_alloc fa;
    size_t words = frame_bitmap_words(r, 1);
    uint64_t *bm = malloc(words * sizeof(uint64_t));
    assert_non_null(bm);
    assert_int_equal(frame_init(&fa, r, 1, bm, words), 0);
    assert_int_equal(fa.free, 3);
    for (int i = 0; i < 3; i++) {
        uint64_t pa = frame_alloc(&fa);
        assert_true(pa >= top - 0x3000 && pa < top);
    }
    assert_int_equal(frame_alloc(&fa), FRAME_NONE);
    assert_int_equal(frame_free(&fa, top), -E_RANGE);
    assert_int_equal(frame_free(&fa, top - 0x1000), 0);
    free(bm);
}

static void test_pipeline(void **state)
{
    (void)state;
    /* What kmem_init does: map -> usable ranges -> allocator. */
    const struct phys_range avail[] = {R(0x0, 0x9fc00), R(0x100000, 0x400000),
                                       R(0x800000, 0x900800)};
    const struct phys_range holes[] = {R(0x0, 0x100000), R(0x100000, 0x1234c0),
                                       R(0x300000, 0x302000)};
    struct phys_range r[8];
    int n = frame_usable_ranges(avail, N(avail), holes, N(holes), r, 8);
    assert_int_equal(n, 3);

    size_t words = frame_bitmap_words(r, (size_t)n);
    uint64_t *bm = malloc(words * sizeof(uint64_t));
    assert_non_null(bm);
    struct frame_alloc fa;
    assert_int_equal(frame_init(&fa, r, (size_t)n, bm, words), 0);
    uint64_t expect =
        (0x300000 - 0x124000 + 0x400000 - 0x302000 + 0x900000 - 0x800000) / FRAME_SIZE;
    assert_int_equal(fa.free, expect);
    for (uint64_t pa; (pa = frame_alloc(&fa)) != FRAME_NONE;) {
        bool ok = false;
        for (int i = 0; i < n; i++)
            ok |= pa >= r[i].base && pa < r[i].end;
        assert_true(ok);
        for (size_t i = 0; i < N(holes); i++)
            assert_false(pa + FRAME_SIZE > holes[i].base && pa < holes[i].end);
    }
    assert_int_equal(fa.free, 0);
    free(bm);
}

/* Any frame-sized address in or near the span, gaps and edges included. */
static uint64_t random_frame(void)
{
    uint64_t lo = two_ranges[0].base - 4 * FRAME_SIZE;
    uint64_t pa = lo + (rng() % (TWO_SPAN + 8)) * FRAME_SIZE;
    if (rng() % 16 == 0)
        pa += 1 + rng() % (FRAME_SIZE - 1); /* occasionally misaligned */
    return pa;
}

static void test_random_against_model(void **state)
{
    struct fixture *f = *state;
    /* model[i]: frame i of the span is allocated (or taken). */
    bool model[TWO_SPAN] = {false};
    uint64_t used[TWO_FRAMES];
    size_t nused = 0;
    uint64_t model_free = TWO_FRAMES;

    rng_state = 0x6672616d65733432ull;
    for (int step = 0; step < 20000; step++) {
        /* Alternate between filling up and draining so the run visits both
         * a nearly empty and an exhausted allocator. */
        unsigned alloc_pct = (step / 1000) % 2 ? 25 : 55;
        unsigned op = (unsigned)(rng() % 100);
        if (op < alloc_pct) {
            uint64_t pa = frame_alloc(&f->fa);
            if (model_free == 0) {
                assert_int_equal(pa, FRAME_NONE);
                continue;
            }
            assert_int_not_equal(pa, FRAME_NONE);
            assert_int_equal(pa % FRAME_SIZE, 0);
            assert_true(in_ranges(pa));
            assert_false(model[frame_idx(pa)]);
            model[frame_idx(pa)] = true;
            used[nused++] = pa;
            model_free--;
        } else if (op < 80) {
            if (nused == 0)
                continue;
            size_t k = (size_t)(rng() % nused);
            uint64_t pa = used[k];
            used[k] = used[--nused];
            assert_int_equal(frame_free(&f->fa, pa), 0);
            model[frame_idx(pa)] = false;
            model_free++;
        } else {
            /* Arbitrary addresses: the model says which error, if any. */
            uint64_t pa = random_frame();
            bool valid = pa % FRAME_SIZE == 0 && in_ranges(pa);
            bool is_used = valid && model[frame_idx(pa)];
            if (op < 90) {
                int want = !valid ? -E_RANGE : !is_used ? -E_INVAL : 0;
                assert_int_equal(frame_free(&f->fa, pa), want);
                if (want == 0) {
                    model[frame_idx(pa)] = false;
                    model_free++;
                    for (size_t k = 0; k < nused; k++)
                        if (used[k] == pa) {
                            used[k] = used[--nused];
                            break;
                        }
                }
            } else {
                int want = !valid ? -E_RANGE : is_used ? -E_INVAL : 0;
                assert_int_equal(frame_take(&f->fa, pa), want);
                if (want == 0) {
                    model[frame_idx(pa)] = true;
                    used[nused++] = pa;
                    model_free--;
                }
            }
        }
        assert_int_equal(f->fa.free, model_free);
    }
    /* Drain: exactly the frames the model has free come out, once each. */
    uint64_t left = model_free;
    for (uint64_t pa; (pa = frame_alloc(&f->fa)) != FRAME_NONE; left--) {
        assert_true(in_ranges(pa));
        assert_false(model[frame_idx(pa)]);
        model[frame_idx(pa)] = true;
    }
    assert_int_equal(left, 0);
}

int main(void)
{
#define FT(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_sorted),
        cmocka_unit_test(test_ranges_overlap_merged),
        cmocka_unit_test(test_ranges_touching_merged),
        cmocka_unit_test(test_ranges_duplicates_merged),
        cmocka_unit_test(test_ranges_unaligned_shrunk),
        cmocka_unit_test(test_ranges_unaligned_touching_not_merged_into_gap),
        cmocka_unit_test(test_ranges_small_vanish),
        cmocka_unit_test(test_ranges_inverted_ignored),
        cmocka_unit_test(test_hole_splits),
        cmocka_unit_test(test_hole_splits_twice),
        cmocka_unit_test(test_hole_removes_range),
        cmocka_unit_test(test_hole_spans_several_ranges),
        cmocka_unit_test(test_hole_removes_first_of_adjacent),
        cmocka_unit_test(test_hole_trims_front_and_back),
        cmocka_unit_test(test_hole_touching_leaves_range),
        cmocka_unit_test(test_hole_widened_outward),
        cmocka_unit_test(test_hole_empty_or_inverted_ignored),
        cmocka_unit_test(test_reserved_wins),
        cmocka_unit_test(test_nothing_usable),
        cmocka_unit_test(test_output_too_small),
        cmocka_unit_test(test_top_of_address_space),
        cmocka_unit_test(test_bitmap_words),
        FT(test_init_state),
        cmocka_unit_test(test_init_no_ranges),
        FT(test_alloc_until_exhausted),
        FT(test_free_accounting),
        FT(test_free_out_of_range),
        FT(test_double_free),
        FT(test_take_allocated),
        FT(test_take_then_alloc),
        FT(test_free_after_exhaustion),
        cmocka_unit_test(test_single_frame_allocator),
        cmocka_unit_test(test_allocator_at_top),
        cmocka_unit_test(test_pipeline),
        FT(test_random_against_model),
    };
#undef FT
    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
