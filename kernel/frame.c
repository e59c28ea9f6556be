/*
 * Physical frame allocator (see frame.h). Bitmap with a rotating search hint:
 * allocation is O(1) amortised while memory is plentiful and bounded by the
 * map size when it is not.
 */
#include "frame.h"

#include <abi/errno.h>

static uint64_t align_up(uint64_t v)
{
    return v > UINT64_MAX - (FRAME_SIZE - 1) ? UINT64_MAX & ~(FRAME_SIZE - 1)
                                             : (v + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
}

static uint64_t align_down(uint64_t v)
{
    return v & ~(FRAME_SIZE - 1);
}

/* Insertion sort by base: maps have tens of entries. */
static void sort_ranges(struct phys_range *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct phys_range k = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].base > k.base) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = k;
    }
}

/* Remove [hb, he) from the sorted disjoint list r[0..*n); may split one range. */
static int cut_hole(struct phys_range *r, size_t *n, size_t max, uint64_t hb, uint64_t he)
{
    for (size_t i = 0; i < *n; i++) {
        if (he <= r[i].base || hb >= r[i].end)
            continue;
        if (hb <= r[i].base && he >= r[i].end) { /* swallowed whole */
            for (size_t j = i + 1; j < *n; j++)
                r[j - 1] = r[j];
            (*n)--;
            i--;
        } else if (hb <= r[i].base) { /* cuts the front */
            r[i].base = he;
        } else if (he >= r[i].end) { /* cuts the back */
            r[i].end = hb;
        } else { /* splits it in two */
            if (*n >= max)
                return -E_NOMEM;
            for (size_t j = *n; j > i + 1; j--)
                r[j] = r[j - 1];
            r[i + 1] = (struct phys_range){he, r[i].end};
            r[i].end = hb;
            (*n)++;
            i++;
        }
    }
    return 0;
}

int frame_usable_ranges(const struct phys_range *avail, size_t navail,
                        const struct phys_range *holes, size_t nholes, struct phys_range *out,
                        size_t max_out)
{
    size_t n = 0;
    for (size_t i = 0; i < navail; i++) {
        uint64_t b = align_up(avail[i].base), e = align_down(avail[i].end);
        if (avail[i].end < avail[i].base || e <= b)
            continue; /* empty, inverted, or smaller than a page */
        if (n >= max_out)
            return -E_NOMEM;
        out[n++] = (struct phys_range){b, e};
    }
    sort_ranges(out, n);
    size_t m = 0; /* merge overlapping or touching ranges */
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && out[i].base <= out[m - 1].end) {
            if (out[i].end > out[m - 1].end)
                out[m - 1].end = out[i].end;
        } else {
            out[m++] = out[i];
        }
    }
    for (size_t i = 0; i < nholes; i++) {
        if (holes[i].end <= holes[i].base)
            continue;
        int rc = cut_hole(out, &m, max_out, align_down(holes[i].base), align_up(holes[i].end));
        if (rc < 0)
            return rc;
    }
    return m == 0 ? -E_NOENT : (int)m;
}

size_t frame_bitmap_words(const struct phys_range *r, size_t n)
{
    if (n == 0)
        return 0;
    uint64_t frames = (r[n - 1].end - r[0].base) / FRAME_SIZE;
    return (size_t)((frames + 63) / 64);
}

static void set_free(struct frame_alloc *fa, uint64_t idx)
{
    fa->bitmap[idx / 64] |= 1ull << (idx % 64);
}

int frame_init(struct frame_alloc *fa, const struct phys_range *r, size_t n, uint64_t *bitmap,
               size_t words)
{
    *fa = (struct frame_alloc){0};
    if (n == 0)
        return -E_NOENT;
    fa->base = r[0].base;
    fa->nframes = (r[n - 1].end - r[0].base) / FRAME_SIZE;
    fa->bitmap = bitmap;
    fa->ranges = r;
    fa->nranges = n;
    for (size_t i = 0; i < words; i++)
        bitmap[i] = 0;
    for (size_t i = 0; i < n; i++) {
        for (uint64_t pa = r[i].base; pa < r[i].end; pa += FRAME_SIZE)
            set_free(fa, (pa - fa->base) / FRAME_SIZE);
        fa->free += (r[i].end - r[i].base) / FRAME_SIZE;
    }
    fa->total = fa->free;
    return fa->free ? 0 : -E_NOENT;
}

uint64_t frame_alloc(struct frame_alloc *fa)
{
    uint64_t words = (fa->nframes + 63) / 64;
    if (fa->free == 0)
        return FRAME_NONE;
    for (uint64_t k = 0; k < words; k++) {
        uint64_t w = (fa->hint + k) % words;
        if (fa->bitmap[w] == 0)
            continue;
        unsigned bit = (unsigned)__builtin_ctzll(fa->bitmap[w]);
        fa->bitmap[w] &= ~(1ull << bit);
        fa->free--;
        fa->hint = w;
        return fa->base + (w * 64 + bit) * FRAME_SIZE;
    }
    return FRAME_NONE; /* unreachable while `free` is right */
}

/* Index of `pa` in the map, or -1 if it is not a usable frame of ours
 * (the map also spans the holes between ranges; those never enter it). */
static int64_t frame_index(const struct frame_alloc *fa, uint64_t pa)
{
    if (pa % FRAME_SIZE != 0)
        return -1;
    for (size_t i = 0; i < fa->nranges; i++)
        if (pa >= fa->ranges[i].base && pa < fa->ranges[i].end)
            return (int64_t)((pa - fa->base) / FRAME_SIZE);
    return -1;
}

int frame_free(struct frame_alloc *fa, uint64_t pa)
{
    int64_t idx = frame_index(fa, pa);
    if (idx < 0)
        return -E_RANGE;
    uint64_t mask = 1ull << (idx % 64);
    if (fa->bitmap[idx / 64] & mask)
        return -E_INVAL;
    fa->bitmap[idx / 64] |= mask;
    fa->free++;
    return 0;
}

int frame_take(struct frame_alloc *fa, uint64_t pa)
{
    int64_t idx = frame_index(fa, pa);
    if (idx < 0)
        return -E_RANGE;
    uint64_t mask = 1ull << (idx % 64);
    if (!(fa->bitmap[idx / 64] & mask))
        return -E_INVAL;
    fa->bitmap[idx / 64] &= ~mask;
    fa->free--;
    return 0;
}
