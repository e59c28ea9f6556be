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

#define FS_BLK_RECS   512 /* writes remembered since the last good flush */
#define FS_BLK_DIRECT 32  /* direct reads remembered per client read */

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
    /* fs_blk_direct: reads into [base, base + len) go to a client's grant */
    struct {
        const uint8_t *base;
        size_t len;
        uint32_t pid;         /* the client, who made the grant */
        uint64_t grant, goff; /* its grant and where base lies in it */
        long error;           /* the first grant error a direct read got */
        unsigned n;           /* ranges of base the driver filled */
        uint32_t off[FS_BLK_DIRECT], bytes[FS_BLK_DIRECT];
    } direct;
    /* counters, for the log and the tests */
    uint64_t resends, reconnects, rewrites, direct_bytes;
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

/* Device reads into [buf, buf + len) go straight to the client's grant
 * instead (`grant` of process `pid`, buf at offset goff in it): the
 * driver copies into the client's pages through an indirect grant, so
 * those bytes cross one copy instead of two. Until fs_blk_direct_end the
 * caller must not read those bytes of buf: only the ranges the driver did
 * not fill hold data. len 0 turns it off. */
void fs_blk_direct(struct fs_blk *b, const void *buf, size_t len, uint32_t pid, uint64_t grant,
                   uint64_t goff);

/* Copy to the client what the reads since fs_blk_direct put into
 * [buf, buf + n) itself (the bytes the driver did not send straight to
 * the client), and turn direct reads off. Returns 0, the grant error a
 * direct read got (the client revoked or shrank its grant: its buffer
 * holds a mix) or the error of the copy. */
long fs_blk_direct_end(struct fs_blk *b, size_t n);

/* Let go of the block server (a mount that failed). */
void fs_blk_close(struct fs_blk *b);

#endif
