/*
 * virtio-blk driver logic, device-independent: initialisation, requests
 * in fixed slots (a header, a data buffer and a status byte each, all in
 * DMA memory), completions checked against what is in flight, and the
 * reset path for a device that misbehaves. No IPC here: blk_srv.c speaks
 * the block protocol on top of it.
 */
#ifndef VBLK_H
#define VBLK_H

#include <stdbool.h>
#include <stdint.h>

#include "dma.h"
#include "virtio.h"
#include "virtq.h"

/* clang-format off */
/* virtio-blk feature bits */
#define VIRTIO_BLK_F_SIZE_MAX   1
#define VIRTIO_BLK_F_SEG_MAX    2
#define VIRTIO_BLK_F_RO         5
#define VIRTIO_BLK_F_BLK_SIZE   6
#define VIRTIO_BLK_F_FLUSH      9
/* struct virtio_blk_config offsets */
#define VIRTIO_BLK_CFG_CAPACITY 0  /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 8  /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX  12 /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE 20 /* le32 */
/* request types and status */
#define VIRTIO_BLK_T_IN         0
#define VIRTIO_BLK_T_OUT        1
#define VIRTIO_BLK_T_FLUSH      4
#define VIRTIO_BLK_T_GET_ID     8
#define VIRTIO_BLK_S_OK         0
#define VIRTIO_BLK_S_IOERR      1
#define VIRTIO_BLK_S_UNSUPP     2
#define VIRTIO_BLK_ID_BYTES     20
#define VIRTIO_BLK_SECTOR       512u

#define VBLK_MAX_SLOTS          16
#define VBLK_MAX_SEGS           64   /* data descriptors per request */
#define VBLK_HDR_BYTES          16   /* struct virtio_blk_req up to the data */
#define VBLK_STATUS_UNSET       0xff /* status byte before the device writes it */
/* clang-format on */

enum vblk_op { VBLK_READ, VBLK_WRITE, VBLK_FLUSH, VBLK_GET_ID };

enum vblk_slot_state {
    VBLK_SLOT_FREE,
    VBLK_SLOT_RESERVED, /* the caller's: filling the buffer for a write */
    VBLK_SLOT_INFLIGHT, /* the device's */
    VBLK_SLOT_COMPLETE, /* finished, not yet reported by vblk_poll */
    VBLK_SLOT_DONE,     /* reported: the caller's until vblk_slot_free */
};

struct vblk_config {
    uint32_t request_bytes; /* data buffer per slot: the most one request moves */
    unsigned slots;         /* requests in flight at most (<= VBLK_MAX_SLOTS) */
    uint64_t epoch;         /* first epoch (unique per driver start) */
};

struct vblk_slot {
    uint8_t state; /* enum vblk_slot_state */
    uint8_t op;    /* enum vblk_op of the request */
    int status;    /* once COMPLETE: 0 or -E_* */
    uint32_t bytes;
    uint64_t cookie, submitted;
    struct dma_seg hdr; /* VBLK_HDR_BYTES of header, then the status byte */
    struct dma_seg seg[VBLK_MAX_SEGS];
    unsigned nseg;
    uint32_t capacity; /* data bytes in seg[] */
};

struct vblk_done {
    unsigned slot;
    uint64_t cookie;
    int status; /* 0, -E_IO (device error or reset), -E_NOSYS (no ID: GET_ID only) */
    uint8_t op;
    uint32_t bytes;
};

struct vblk_iov {
    uint8_t *virt;
    uint32_t len;
};

struct vblk {
    struct virtio_dev dev;
    struct virtq q;
    struct dma_pool pool;
    uint32_t notify_off;
    uint64_t want;                        /* features asked for at every (re)start */
    uint64_t capacity;                    /* device sectors of 512 bytes */
    uint32_t blk_size, size_max, seg_max; /* config as read at start */

    /* what clients see */
    uint64_t sectors;     /* of sector_size bytes */
    uint32_t sector_size; /* 512..4096 */
    unsigned shift;       /* log2(sector_size / 512) */
    uint32_t part_bytes;  /* the most one slot moves, a multiple of sector_size */
    bool read_only, flush;
    uint64_t epoch, resets;
    bool dead; /* a restart failed: every request fails with -E_IO */

    struct vblk_slot slot[VBLK_MAX_SLOTS];
    unsigned nslots;
};

/*
 * Reset and initialise the device behind t, laying out the queue and the
 * slots in the DMA regions (the queue as large as the device allows up to
 * VIRTQ_MAX_SIZE and the memory leaves room for; then as many slots as
 * the memory, the descriptors and cfg->slots allow, each with up to
 * cfg->request_bytes of buffer). Errors: -E_INVAL (transport, regions or
 * config), -E_OVERLAP (regions), -E_TIMEDOUT (reset never finished),
 * -E_NOSYS (no VERSION_1), -E_IO (FEATURES_OK refused, config unstable),
 * -E_RANGE (config or notify area too small, queue 0 shorter than 4),
 * -E_NOENT (no queue 0), -E_NOMEM (not even one slot fits).
 */
int vblk_init(struct vblk *b, const struct virtio_transport *t, const struct dma_region *r,
              unsigned nr, const struct vblk_config *cfg);

/* A free slot, now RESERVED for the caller, or -E_BUSY. */
int vblk_slot_alloc(struct vblk *b);

/* Give a DONE or RESERVED slot back. */
void vblk_slot_free(struct vblk *b, unsigned slot);

/* The slot's buffer bytes [off, off + len) as pieces contiguous in our
 * address space (at most max; fewer bytes if they run out). Returns the
 * number of pieces; 0 if the range is outside the buffer. */
unsigned vblk_slot_iov(const struct vblk *b, unsigned slot, uint32_t off, uint32_t len,
                       struct vblk_iov *iov, unsigned max);

/*
 * Start a request in a RESERVED slot (for a write its buffer holds the
 * data). count is in sectors of b->sector_size; first + count must be
 * inside the device and count * sector_size <= part_bytes. A flush on a
 * device without VIRTIO_BLK_F_FLUSH completes at once. `now` is any clock,
 * for vblk_stalled. Call vblk_kick after a batch. -E_INVAL, -E_RANGE,
 * -E_PERM (write, read-only) leave the slot RESERVED; -E_IO: the device is
 * dead or broken.
 */
int vblk_submit(struct vblk *b, unsigned slot, enum vblk_op op, uint64_t first, uint32_t count,
                uint64_t cookie, uint64_t now);

/* Notify the device of what was submitted, if it wants to be. */
void vblk_kick(struct vblk *b);

/* Collect completions (at most max) into out; their slots become DONE.
 * A protocol violation by the device resets it (vblk_restart): the
 * requests in flight then complete with -E_IO. */
unsigned vblk_poll(struct vblk *b, struct vblk_done *out, unsigned max);

/* The interrupt: read (and so clear) the ISR, handle a configuration
 * change (capacity, NEEDS_RESET), then vblk_poll. */
unsigned vblk_interrupt(struct vblk *b, struct vblk_done *out, unsigned max);

/* Is a request in flight for longer than timeout (in `now` units)? */
bool vblk_stalled(const struct vblk *b, uint64_t now, uint64_t timeout);

/*
 * Reset the device and start it again on the same memory: every request in
 * flight completes with -E_IO, the epoch moves on. If the device does not
 * come back with the same features and configuration it is marked dead
 * (FAILED). Returns 0 or the error.
 */
int vblk_restart(struct vblk *b);

#endif
