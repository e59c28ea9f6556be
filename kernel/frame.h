/*
 * Physical frame allocator: one bit per 4 KiB frame between the lowest and
 * highest usable address. Pure logic over caller-provided storage, so the
 * host tests run it on made-up memory maps.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_SIZE 4096ull
#define FRAME_NONE UINT64_MAX

struct phys_range {
    uint64_t base; /* [base, end) */
    uint64_t end;
};

struct frame_alloc {
    uint64_t base;                   /* physical address of bit 0 */
    uint64_t nframes;                /* bits in the map */
    uint64_t *bitmap;                /* 1 = free */
    uint64_t free;                   /* frames currently free */
    uint64_t total;                  /* frames usable at init */
    uint64_t hint;                   /* word to start the next search at */
    const struct phys_range *ranges; /* the usable ranges (caller keeps them) */
    size_t nranges;
};

/*
 * Turn a firmware memory map into sorted, disjoint, page-aligned usable
 * ranges: `avail` (usable entries, any order, may overlap) shrunk inward to
 * page boundaries, merged, then minus every range in `holes` (reserved map
 * entries, kernel image, modules...) widened outward. Reserved wins over
 * usable wherever they overlap. Returns the number of ranges written, or
 * -E_NOMEM if `out` is too small, -E_NOENT if nothing usable is left.
 */
int frame_usable_ranges(const struct phys_range *avail, size_t navail,
                        const struct phys_range *holes, size_t nholes, struct phys_range *out,
                        size_t max_out);

/* Bitmap words needed to cover `r` (sorted, as returned above). */
size_t frame_bitmap_words(const struct phys_range *r, size_t n);

/* Precondition: bitmap has frame_bitmap_words(r, n) words and r outlives fa.
 * Returns 0 or -E_NOENT. */
int frame_init(struct frame_alloc *fa, const struct phys_range *r, size_t n, uint64_t *bitmap,
               size_t words);

/* One free frame's physical address, or FRAME_NONE when none is left. */
uint64_t frame_alloc(struct frame_alloc *fa);

/* Returns 0, or -E_RANGE (not a usable frame of this allocator) / -E_INVAL (already free). */
int frame_free(struct frame_alloc *fa, uint64_t pa);

/* Take `pa` out of the free set (used to hand frames to another owner). Same errors as free. */
int frame_take(struct frame_alloc *fa, uint64_t pa);

#endif
