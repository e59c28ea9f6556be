/*
 * Split virtqueue, driver side (virtio 1.0 section 2.4).
 *
 * Memory ordering. The rings are ordinary cacheable memory (x86 DMA is
 * cache-coherent); the device is another agent reading and writing it. On
 * x86 (TSO) stores are not reordered with older stores and loads not with
 * older loads, so:
 *  - publishing (descriptors and ring entry, then avail->idx) needs only
 *    that the compiler keeps the order: a release store of avail->idx;
 *  - consuming (used->idx, then the entry and the buffers it names) needs
 *    only an acquire load of used->idx (again a compiler barrier on x86);
 *  - the one store-then-load that x86 may reorder is avail->idx followed
 *    by the load of used->flags when deciding whether to notify: that
 *    needs a real fence (__ATOMIC_SEQ_CST: gcc emits a locked or, clang
 *    mfence; both drain the store buffer), or a notification can be
 *    skipped while the device goes to sleep.
 * The notification itself is a store to the uncached BAR, kept after the
 * avail->idx store by the same store order (and, for the compiler, by
 * being a call through the transport). Every shared field is accessed once
 * through __atomic builtins, so the compiler neither tears nor repeats an
 * access.
 */
#include "virtq.h"

#include <abi/errno.h>
#include <common/string.h>
#include <stddef.h>

#define ST(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define LD(p)    __atomic_load_n(&(p), __ATOMIC_RELAXED)

static void reset_books(struct virtq *q)
{
    memset(q->mem_desc.virt, 0, q->mem_desc.len);
    memset(q->mem_avail.virt, 0, q->mem_avail.len);
    memset(q->mem_used.virt, 0, q->mem_used.len);
    for (uint16_t i = 0; i < q->size; i++) {
        q->link[i] = (uint16_t)(i + 1);
        q->chain[i] = (struct virtq_chain){0};
    }
    q->free_head = 0;
    q->nfree = q->size;
    q->avail_idx = q->last_used = q->inflight = 0;
    q->broken = false;
}

static bool piece_ok(const struct dma_seg *s, uint32_t bytes, uint32_t align)
{
    return s->virt && s->len >= bytes && ((uintptr_t)s->virt & (align - 1)) == 0 &&
           (s->phys & (align - 1)) == 0;
}

int virtq_init(struct virtq *q, uint16_t size, const struct dma_seg *desc,
               const struct dma_seg *avail, const struct dma_seg *used)
{
    memset(q, 0, sizeof(*q));
    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) ||
        !piece_ok(desc, VIRTQ_DESC_BYTES(size), VIRTQ_DESC_ALIGN) ||
        !piece_ok(avail, VIRTQ_AVAIL_BYTES(size), VIRTQ_AVAIL_ALIGN) ||
        !piece_ok(used, VIRTQ_USED_BYTES(size), VIRTQ_USED_ALIGN))
        return -E_INVAL;
    q->size = size;
    q->mem_desc = *desc;
    q->mem_avail = *avail;
    q->mem_used = *used;
    q->desc = (struct virtq_desc *)(void *)desc->virt;
    q->avail = (struct virtq_avail *)(void *)avail->virt;
    q->used = (struct virtq_used *)(void *)used->virt;
    reset_books(q);
    return 0;
}

void virtq_restart(struct virtq *q)
{
    reset_books(q);
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned nout, unsigned nin,
              uint64_t token)
{
    if (q->broken)
        return -E_IO;
    unsigned n = nout + nin;
    if (n == 0 || n > q->size)
        return -E_INVAL;
    uint64_t writable = 0;
    for (unsigned k = 0; k < n; k++) {
        if (bufs[k].len == 0)
            return -E_INVAL;
        if (k >= nout)
            writable += bufs[k].len;
    }
    if (writable >= VIRTQ_LEN_BAD)
        return -E_INVAL;
    if (n > q->nfree)
        return -E_LIMIT;

    uint16_t head = q->free_head, i = head, tail = head;
    for (unsigned k = 0; k < n; k++) {
        uint16_t flags =
            (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        struct virtq_desc *d = &q->desc[i];
        ST(d->addr, bufs[k].phys);
        ST(d->len, bufs[k].len);
        ST(d->flags, flags);
        ST(d->next, (uint16_t)(k + 1 < n ? q->link[i] : 0));
        tail = i;
        i = q->link[i];
    }
    q->free_head = i; /* meaningless when nfree reaches 0, never read then */
    q->nfree = (uint16_t)(q->nfree - n);
    q->chain[head] = (struct virtq_chain){token, (uint32_t)writable, (uint16_t)n, tail, true};
    q->inflight++;

    ST(q->avail->ring[q->avail_idx & (q->size - 1)], head);
    q->avail_idx++;
    /* Release: the descriptors and the ring entry are visible first. */
    __atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
    return head;
}

bool virtq_kick_needed(struct virtq *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return !(LD(q->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

int virtq_get(struct virtq *q, uint64_t *token, uint32_t *len)
{
    if (q->broken)
        return -E_IO;
    /* Acquire: the entry and the buffers are read after the index. */
    uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(idx - q->last_used);
    if (pending == 0)
        return 0;
    if (pending > q->inflight)
        goto broken; /* more completions than requests: idx jumped (or went back) */
    struct virtq_used_elem *e = &q->used->ring[q->last_used & (q->size - 1)];
    uint32_t id = LD(e->id), n = LD(e->len);
    if (id >= q->size || !q->chain[id].busy)
        goto broken; /* not a chain we handed over, or handed back twice */
    struct virtq_chain *c = &q->chain[id];
    q->link[c->tail] = q->free_head;
    q->free_head = (uint16_t)id;
    q->nfree = (uint16_t)(q->nfree + c->ndesc);
    c->busy = false;
    q->inflight--;
    q->last_used++;
    *token = c->token;
    *len = n > c->writable ? VIRTQ_LEN_BAD : n;
    return 1;
broken:
    q->broken = true;
    return -E_IO;
}
