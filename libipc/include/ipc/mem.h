/*
 * Memory client: pages from the memory server, and malloc/free on top.
 */
#ifndef IPC_MEM_H
#define IPC_MEM_H

#include <stddef.h>
#include <stdint.h>

/* `pages` zeroed, writable pages in our heap window; 0 on failure (*err
 * says why when err is not 0). */
void *mem_alloc_pages(uint64_t pages, long *err);
long mem_free_pages(void *addr, uint64_t pages);

/* `pages` more pages directly at `end`, the end of our latest allocation
 * (a heap growing in place); 0 if that is not possible (*err says why). */
void *mem_alloc_pages_at(void *end, uint64_t pages, long *err);

/* DMA memory for a driver (needs PRIV_DMA): `pages` (<= MEM_MAX_DMA_PAGES)
 * physically contiguous zeroed pages starting at physical address *phys,
 * pinned for our lifetime; 0 on failure (*err says why). */
void *mem_alloc_dma(uint64_t pages, uint64_t *phys, long *err);

struct mem_stats {
    uint64_t pool_pages, free_pages, my_pages, processes, allocations;
};
long mem_stats(struct mem_stats *out);

/* In ipc-freestanding (libipc/malloc.c); C-library programs use newlib's. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void free(void *p);

#endif
