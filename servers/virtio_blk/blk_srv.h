/*
 * The block protocol (abi/proto/blk.h) on top of vblk: checks requests in
 * the documented order, splits large ones into slot-sized parts that run
 * in parallel, moves data between grants and DMA buffers, and answers
 * each request exactly once. Two sequential reads in a row start a read
 * ahead of the next range of the same size, held in DMA slots for the
 * client's next request. IPC is the caller's, through three callbacks,
 * so the whole protocol is testable on the host.
 */
#ifndef BLK_SRV_H
#define BLK_SRV_H

#include <stdint.h>

#include "vblk.h"

#define BLK_SRV_MAX_REQS 32 /* requests accepted and not yet answered */

struct blk_srv_ops {
    void *ctx;
    /* Copy len bytes between our memory and client's grant at off (the
     * kernel's grant_copy_from / grant_copy_to). Return len or -E_*. With
     * len 0 they only check that [0, off) is granted with that access
     * (the kernel checks a zero-length copy completely). */
    long (*copy_from)(void *ctx, uint64_t client, uint64_t grant, uint64_t off, void *dst,
                      uint64_t len);
    long (*copy_to)(void *ctx, uint64_t client, uint64_t grant, uint64_t off, const void *src,
                    uint64_t len);
    /* Answer client: w[0] = status, w[1..7] as the protocol says. */
    void (*reply)(void *ctx, uint64_t client, const uint64_t w[8]);
};

struct blk_srv_req {
    bool used;
    uint32_t label;
    uint64_t client, seq;
    uint64_t first, count, grant, goff; /* as in the request */
    uint64_t next;                      /* sectors handed to the device so far */
    unsigned parts;                     /* parts in flight */
    long status;                        /* the first error */
    bool started;
    uint64_t epoch; /* when the first part started: all parts run in it */
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    bool sequential; /* a read that starts where the previous read ended */
    /* A read ahead (no client yet): the parts done keep their slots until
     * a client asks for exactly this range, or it is dropped. */
    bool ahead;
    unsigned kept;
    uint8_t keep_slot[VBLK_MAX_SLOTS];
    uint32_t keep_rel[VBLK_MAX_SLOTS], keep_bytes[VBLK_MAX_SLOTS];
};

struct blk_srv {
    struct vblk *b;
    struct blk_srv_ops ops;
    uint32_t max_sectors; /* per request, BLK_INFO w3 */
    uint64_t seq;
    uint64_t read_end; /* where the last read asked for ended */
    uint64_t ahead_hits, ahead_drops;
    struct blk_srv_req req[BLK_SRV_MAX_REQS];
};

void blk_srv_init(struct blk_srv *s, struct vblk *b, const struct blk_srv_ops *ops);

/* A request from client (label, message words w[0..7]); the answer comes
 * through ops.reply, now or when the device is done. */
void blk_srv_request(struct blk_srv *s, uint64_t client, uint32_t label, const uint64_t w[8],
                     uint64_t now);

/* The device's interrupt arrived. */
void blk_srv_interrupt(struct blk_srv *s, uint64_t now);

/* Is any client's request open, or a read ahead still on the device?
 * (A read ahead that is complete waits for its client without a timer.) */
bool blk_srv_busy(const struct blk_srv *s);

/* Periodically: reset a device that sits on a request longer than timeout. */
void blk_srv_tick(struct blk_srv *s, uint64_t now, uint64_t timeout);

#endif
