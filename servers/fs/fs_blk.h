/*
 * The FAT core's device (struct fat_dev) over the block protocol
 * (abi/proto/blk.h): requests to a block server found by name, resent after
 * -E_IO, -E_DEAD (the server is looked up again) or -E_BUSY, and flushes
 * that keep their promise across the protocol's epochs by writing again
 * what was written since the last good flush when the epoch moved.
 */
#ifndef FS_BLK_H
#define FS_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "fat.h"

#define FS_BLK_RECS 512 /* writes remembered since the last good flush */

struct fs_blk_rec {
    uint64_t sector; /* device sectors */
    uint32_t count;
    uint64_t epoch;     /* the epoch the write was answered in */
    size_t off;         /* its data in the log (room kept there when ref is set) */
    const uint8_t *ref; /* not 0: the data is still at ref, in the stable buffer */
};

struct fs_blk {
    char name[24]; /* the block server's name */
    long handle;   /* < 0: not connected */
    uint32_t pid;  /* its process, the grantee of our grants */
    /* geometry, from BLK_INFO at the first connection; a server that comes
     * back with another is refused */
    uint64_t sectors;
    uint32_t sector_size;
    uint32_t max_sectors;
    uint32_t flags;
    /* writes answered since the last flush answered in their epoch */
    uint8_t *log;
    size_t log_cap, log_used;
    const uint8_t *stable; /* fs_blk_stable: writes from here are not copied (yet) */
    size_t stable_len;
    uint32_t nrecs;
    struct fs_blk_rec rec[FS_BLK_RECS];
    /* counters, for the log and the tests */
    uint64_t resends, reconnects, rewrites;
};

/* Connect to the block server `name` (waiting up to `ticks` for it) and
 * fill dev. log is scratch for the writes kept between flushes: a write
 * larger than it is flushed before the call returns. Returns 0 or -E_*. */
int fs_blk_open(struct fs_blk *b, const char *name, uint64_t ticks, void *log, size_t log_cap,
                struct fat_dev *dev);

/* Writes from [buf, buf + len) are remembered by reference instead of
 * copied into the log: the caller keeps those bytes unchanged until
 * fs_blk_settle. Saves a copy of every data write a flush makes durable
 * before the buffer is reused. */
void fs_blk_stable(struct fs_blk *b, const void *buf, size_t len);

/* The stable buffer is about to change: copy into the log what is still
 * remembered by reference (the room is kept there). */
void fs_blk_settle(struct fs_blk *b);

/* Let go of the block server (a mount that failed). */
void fs_blk_close(struct fs_blk *b);

#endif
