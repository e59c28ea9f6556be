/*
 * The DMA pool: checked regions and a bump allocator over them.
 */
#include "dma.h"

#include <abi/errno.h>
#include <common/string.h>
#include <stddef.h>

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

int dma_pool_init(struct dma_pool *p, const struct dma_region *r, unsigned n)
{
    *p = (struct dma_pool){0};
    if (n == 0 || n > DMA_MAX_REGIONS)
        return -E_INVAL;
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = (uint64_t)(uintptr_t)r[i].virt;
        if (r[i].size == 0 || r[i].size % DMA_PAGE || r[i].phys % DMA_PAGE || v % DMA_PAGE ||
            r[i].phys + r[i].size < r[i].phys || v + r[i].size < v || r[i].virt == NULL)
            return -E_INVAL;
        for (unsigned j = 0; j < i; j++) {
            uint64_t w = (uint64_t)(uintptr_t)r[j].virt;
            if (overlap(v, r[i].size, w, r[j].size) ||
                overlap(r[i].phys, r[i].size, r[j].phys, r[j].size))
                return -E_OVERLAP;
        }
        p->r[i] = r[i];
    }
    p->n = n;
    return 0;
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

static bool align_ok(uint32_t align)
{
    return align != 0 && (align & (align - 1)) == 0 && align <= DMA_PAGE;
}

int dma_alloc(struct dma_pool *p, uint32_t size, uint32_t align, struct dma_seg *out)
{
    if (size == 0 || !align_ok(align))
        return -E_INVAL;
    for (unsigned i = 0; i < p->n; i++) {
        uint64_t at = align_up(p->used[i], align);
        if (at > p->r[i].size || size > p->r[i].size - at)
            continue;
        p->used[i] = at + size;
        *out = (struct dma_seg){p->r[i].virt + at, p->r[i].phys + at, size};
        memset(out->virt, 0, size);
        return 0;
    }
    return -E_NOMEM;
}

/* Take up to want bytes as pieces (see dma_alloc_segs); returns bytes taken. */
static uint64_t take(struct dma_pool *p, uint64_t want, uint32_t align, uint32_t max_seg_len,
                     struct dma_seg *segs, unsigned max_segs, unsigned *nseg)
{
    uint64_t taken = 0;
    *nseg = 0;
    for (unsigned i = 0; i < p->n && taken < want; i++) {
        uint64_t at = taken == 0 ? align_up(p->used[i], align) : p->used[i];
        while (at < p->r[i].size && taken < want) {
            uint64_t n = p->r[i].size - at;
            if (n > want - taken)
                n = want - taken;
            uint8_t *v = p->r[i].virt + at;
            uint64_t ph = p->r[i].phys + at;
            struct dma_seg *last = *nseg ? &segs[*nseg - 1] : NULL;
            if (last && last->virt + last->len == v && last->phys + last->len == ph &&
                last->len < max_seg_len) {
                if (n > max_seg_len - last->len)
                    n = max_seg_len - last->len;
                last->len += (uint32_t)n;
            } else {
                if (*nseg == max_segs)
                    return taken;
                if (n > max_seg_len)
                    n = max_seg_len;
                segs[(*nseg)++] = (struct dma_seg){v, ph, (uint32_t)n};
            }
            at += n;
            taken += n;
            p->used[i] = at;
        }
    }
    return taken;
}

unsigned dma_alloc_segs(struct dma_pool *p, uint32_t size, uint32_t unit, uint32_t align,
                        uint32_t max_seg_len, struct dma_seg *segs, unsigned max_segs,
                        uint32_t *got)
{
    *got = 0;
    if (size == 0 || unit == 0 || !align_ok(align) || max_seg_len == 0 || max_segs == 0)
        return 0;
    /* A dry run finds how much there is; the real one takes whole units of
     * it (the same pieces, as taking is deterministic). */
    struct dma_pool trial = *p;
    unsigned nseg;
    uint64_t avail = take(&trial, size, align, max_seg_len, segs, max_segs, &nseg);
    uint64_t keep = avail - avail % unit;
    if (keep == 0)
        return 0;
    take(p, keep, align, max_seg_len, segs, max_segs, &nseg);
    for (unsigned s = 0; s < nseg; s++)
        memset(segs[s].virt, 0, segs[s].len);
    *got = (uint32_t)keep;
    return nseg;
}

bool dma_contains(const struct dma_pool *p, uint64_t phys, uint64_t len)
{
    for (unsigned i = 0; i < p->n; i++)
        if (phys >= p->r[i].phys && phys - p->r[i].phys <= p->r[i].size &&
            len <= p->r[i].size - (phys - p->r[i].phys))
            return true;
    return false;
}
