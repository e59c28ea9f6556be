/*
 * malloc/free on pages from the memory server. Small blocks come from
 * 64 KiB arenas through a first-fit free list with coalescing; blocks of
 * 32 KiB or more get pages of their own and go back to the server on free.
 */
#include <common/string.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>

#define ARENA_PAGES 16
#define BIG         (32u << 10)
#define ALIGN       16

struct block {
    uint64_t size;  /* bytes including this header; low bit: 1 = in use */
    uint64_t pages; /* > 0: a big block with its own pages */
    struct block *next_free;
    uint64_t magic;
};
#define MAGIC 0x6772616e6974656dull

static struct block *free_list;
static volatile int lock;

static void take(void)
{
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
        kc_yield();
}

static void give(void)
{
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

static int grow(void)
{
    struct block *b = mem_alloc_pages(ARENA_PAGES, 0);
    if (!b)
        return 0;
    b->size = ARENA_PAGES * 4096;
    b->pages = 0;
    b->magic = MAGIC;
    b->next_free = free_list;
    free_list = b;
    return 1;
}

void *malloc(size_t size)
{
    if (size == 0 || size > (1ull << 40))
        return 0;
    uint64_t need = (size + sizeof(struct block) + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
    if (need >= BIG) {
        uint64_t pages = (need + 4095) / 4096;
        struct block *b = mem_alloc_pages(pages, 0);
        if (!b)
            return 0;
        *b = (struct block){pages * 4096 | 1, pages, 0, MAGIC};
        return b + 1;
    }
    take();
    for (int tries = 0; tries < 2; tries++) {
        for (struct block **pp = &free_list; *pp; pp = &(*pp)->next_free) {
            struct block *b = *pp;
            if (b->size < need)
                continue;
            if (b->size - need >= sizeof(struct block) + ALIGN) { /* split off the tail */
                struct block *rest = (struct block *)((char *)b + need);
                *rest = (struct block){b->size - need, 0, b->next_free, MAGIC};
                b->size = need;
                *pp = rest;
            } else {
                *pp = b->next_free;
            }
            b->size |= 1;
            b->next_free = 0;
            give();
            return b + 1;
        }
        if (tries == 0 && !grow())
            break;
    }
    give();
    return 0;
}

void *calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return 0;
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    struct block *b = (struct block *)p - 1;
    if (b->magic != MAGIC || !(b->size & 1))
        return; /* not ours, or already free: ignore rather than corrupt */
    if (b->pages) {
        mem_free_pages(b, b->pages);
        return;
    }
    take();
    b->size &= ~1ull;
    /* Merge with a free block that directly follows, keep the list short. */
    for (struct block **pp = &free_list; *pp; pp = &(*pp)->next_free)
        if ((char *)b + b->size == (char *)*pp) {
            b->size += (*pp)->size;
            *pp = (*pp)->next_free;
            break;
        }
    b->next_free = free_list;
    free_list = b;
    give();
}
