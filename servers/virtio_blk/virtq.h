/*
 * A virtio 1.0 split virtqueue, driver side. The descriptor table and the
 * available ring are written here and never read back; the used ring is
 * the only thing read from the device, and every entry is checked against
 * driver-private books before it is believed. A device that breaks the
 * protocol turns the queue "broken" (every call fails until a restart
 * after a device reset); it can never make this code touch memory outside
 * the rings or report a buffer that was not in flight.
 */
#ifndef VIRTQ_H
#define VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "dma.h"

/* clang-format off */
#define VIRTQ_MAX_SIZE        256 /* the most entries this driver uses */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2   /* device-writable */
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1
#define VIRTQ_LEN_BAD         0xffffffffu /* a used length larger than the buffers */
/* clang-format on */

/* The shared layout (virtio 1.0 section 2.4), little-endian like x86. */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* size entries, then le16 used_event (unused here) */
};

struct virtq_used_elem {
    uint32_t id;  /* head of the chain */
    uint32_t len; /* bytes the device wrote into the chain */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* size entries, then le16 avail_event */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtio 1.0 2.4.5");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtio 1.0 2.4.8");
_Static_assert(sizeof(struct virtq_avail) == 4 && sizeof(struct virtq_used) == 4, "ring headers");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.0 is little-endian");

/* Bytes (and alignment) of each part for a queue of n entries. */
#define VIRTQ_DESC_BYTES(n)  (16u * (n))
#define VIRTQ_AVAIL_BYTES(n) (6u + 2u * (n))
#define VIRTQ_USED_BYTES(n)  (6u + 8u * (n))
#define VIRTQ_DESC_ALIGN     16u
#define VIRTQ_AVAIL_ALIGN    2u
#define VIRTQ_USED_ALIGN     4u

/* A buffer to chain: device-readable ones first, then device-writable. */
struct virtq_buf {
    uint64_t phys;
    uint32_t len;
};

struct virtq {
    /* shared with the device: written by us (desc, avail), by it (used) */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    struct dma_seg mem_desc, mem_avail, mem_used;
    uint16_t size; /* a power of 2 */

    /* driver-private: nothing below is ever read from shared memory */
    uint16_t free_head, nfree;
    uint16_t avail_idx; /* what we last published in avail->idx */
    uint16_t last_used; /* next used entry to look at */
    uint16_t inflight;  /* chains the device holds */
    bool broken;
    uint16_t link[VIRTQ_MAX_SIZE]; /* next descriptor, in the free list and in chains */
    struct virtq_chain {
        uint64_t token;    /* the caller's, returned on completion */
        uint32_t writable; /* device-writable bytes in the chain */
        uint16_t ndesc, tail;
        bool busy; /* the head of a chain in flight */
    } chain[VIRTQ_MAX_SIZE];
};

/* Set q up over the three (zeroed here) pieces, which must be at least
 * VIRTQ_*_BYTES(size) long and aligned. -E_INVAL otherwise, or if size is
 * not a power of 2 in 1..VIRTQ_MAX_SIZE. */
int virtq_init(struct virtq *q, uint16_t size, const struct dma_seg *desc,
               const struct dma_seg *avail, const struct dma_seg *used);

/* After a device reset (the device no longer touches the rings): forget
 * every chain in flight and start again from empty rings. */
void virtq_restart(struct virtq *q);

/*
 * Chain nout device-readable then nin device-writable buffers and make the
 * chain available. Returns the head index; -E_INVAL for no buffers, a
 * zero length or more than 2^32 - 2 writable bytes; -E_LIMIT when not
 * enough descriptors are free; -E_IO when the queue is broken.
 */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned nout, unsigned nin,
              uint64_t token);

/* Does the device want a notification for what was added? (A full fence
 * orders our avail->idx store before the load of used->flags.) */
bool virtq_kick_needed(struct virtq *q);

/*
 * Take the next completion: 1 with *token and *len (VIRTQ_LEN_BAD when
 * the device claims to have written more than the chain holds), 0 if there
 * is none, -E_IO if the device broke the protocol: used->idx moved by more
 * than the chains in flight, or an entry names an index out of range or
 * not the head of a chain in flight (a duplicate, a forgery). The queue is
 * then broken.
 */
int virtq_get(struct virtq *q, uint64_t *token, uint32_t *len);

#endif
