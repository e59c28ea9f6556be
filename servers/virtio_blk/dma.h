/*
 * DMA memory for a driver: the caller hands over page-aligned regions,
 * each physically contiguous, with their virtual and physical addresses;
 * the driver carves rings and buffers out of them and never gives a device
 * an address outside them. Allocation only grows (a driver lays out its
 * memory once at start-up).
 */
#ifndef DMA_H
#define DMA_H

#include <stdbool.h>
#include <stdint.h>

#define DMA_MAX_REGIONS 16
#define DMA_PAGE        4096u

struct dma_region {
    uint8_t *virt; /* where the driver sees it */
    uint64_t phys; /* where the device sees it */
    uint64_t size; /* bytes, a multiple of DMA_PAGE */
};

/* A physically contiguous piece, as the device sees it and as we do. */
struct dma_seg {
    uint8_t *virt;
    uint64_t phys;
    uint32_t len;
};

struct dma_pool {
    struct dma_region r[DMA_MAX_REGIONS];
    uint64_t used[DMA_MAX_REGIONS]; /* bytes taken from the start of r[i] */
    unsigned n;
};

/* Take over n regions. -E_INVAL: none, too many, empty, not page-aligned
 * (address or size) or wrapping; -E_OVERLAP: two regions share virtual or
 * physical bytes. */
int dma_pool_init(struct dma_pool *p, const struct dma_region *r, unsigned n);

/* size bytes in one region, aligned to align (a power of 2 <= DMA_PAGE),
 * zeroed. -E_INVAL for a bad size or alignment, -E_NOMEM if no region has
 * room. */
int dma_alloc(struct dma_pool *p, uint32_t size, uint32_t align, struct dma_seg *out);

/*
 * Up to size bytes as at most max_segs pieces of at most max_seg_len bytes
 * each, taken in order from the regions (the start aligned to align);
 * pieces adjacent in both address spaces are merged. *got is the number of
 * bytes taken, a multiple of `unit` (rounded down: the rest is left in the
 * pool), possibly less than size when the pieces run out; 0 means nothing
 * was taken. Returns the number of pieces.
 */
unsigned dma_alloc_segs(struct dma_pool *p, uint32_t size, uint32_t unit, uint32_t align,
                        uint32_t max_seg_len, struct dma_seg *segs, unsigned max_segs,
                        uint32_t *got);

/* Is [phys, phys + len) inside one region of the pool? */
bool dma_contains(const struct dma_pool *p, uint64_t phys, uint64_t len);

#endif
