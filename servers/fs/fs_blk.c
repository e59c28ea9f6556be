/*
 * The FAT core's device callbacks over the block protocol: every request
 * resent until it is answered (requests are idempotent), and a flush that
 * succeeds only when everything written since the last one is durable in
 * the epoch the flush was answered in (docs/storage.md, "What the server
 * must do").
 */
#include <abi/proto/blk.h>
#include <stdbool.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "fs_blk.h"

#define TRIES          64  /* sends of one request before giving up with -E_IO */
#define LOOKUP_TICKS   500 /* a restarting driver has this long to register again */
#define FLUSH_ROUNDS   8   /* flush, rewrite, flush again: the epoch moved this often */
#define REPORT_RESENDS 1   /* print the first resend of each request */

static void drop(struct fs_blk *b)
{
    if (b->handle >= 0)
        kc_cap_delete((uint64_t)b->handle);
    b->handle = -1;
    b->pid = 0;
}

/* Find the server and check that it is the same disk. */
static int connect(struct fs_blk *b, uint64_t ticks)
{
    long h = name_lookup_wait(b->name, ticks);
    if (h < 0)
        return (int)h;
    long pid = ipc_handle_pid((uint64_t)h);
    struct ipc_msg m = ipc_msg_make(BLK_INFO, 1);
    long rc = pid < 0 ? pid : ipc_call_status((uint64_t)h, &m);
    if (rc < 0) {
        kc_cap_delete((uint64_t)h);
        return (int)rc;
    }
    if (b->sector_size == 0) {
        b->sectors = m.w[1];
        b->sector_size = (uint32_t)m.w[2];
        b->max_sectors = (uint32_t)m.w[3];
        b->flags = (uint32_t)m.w[4];
    } else if (m.w[1] != b->sectors || m.w[2] != b->sector_size) {
        printf("fs: \"%s\" came back as another disk; giving up on it\n", b->name);
        kc_cap_delete((uint64_t)h);
        return -E_IO;
    } else {
        b->max_sectors = (uint32_t)m.w[3];
    }
    b->handle = h;
    b->pid = (uint32_t)pid;
    return 0;
}

/* Does a read of [buf, buf + bytes) go to the client directly? */
static bool is_direct(const struct fs_blk *b, const void *buf, size_t bytes)
{
    uintptr_t at = (uintptr_t)buf, from = (uintptr_t)b->direct.base;
    return b->direct.len && b->direct.n < FS_BLK_DIRECT && at >= from && bytes <= b->direct.len &&
           at - from <= b->direct.len - bytes;
}

/* An error about the client's grant or pages, met by the driver's copy. */
static bool is_client_error(long rc)
{
    return (rc <= -E_GRANT_NOTABLE && rc >= -E_GRANT_DEPTH) || rc == -E_FAULT;
}

/* One request, sent until it is answered: BLK_READ, BLK_WRITE (buf, count
 * sectors from `sector`) or BLK_FLUSH. Returns 0 and the epoch, or -E_IO
 * once the server stays away or keeps failing; other refusals as they
 * come (they are our bugs, not the device's). */
static int request(struct fs_blk *b, uint32_t label, uint64_t sector, uint32_t count, void *buf,
                   uint64_t *epoch)
{
    size_t bytes = (size_t)count * b->sector_size;
    long rc = -E_IO;
    for (int t = 0; t < TRIES; t++) {
        if (t > 0) {
            b->resends++;
            if (t == REPORT_RESENDS)
                printf("fs: block request %x at sector %lu: %s; sending it again\n", label,
                       (unsigned long)sector, ipc_strerror(rc));
        }
        if (b->handle < 0) {
            rc = connect(b, LOOKUP_TICKS);
            if (rc == -E_IO)
                return (int)rc;
            if (rc < 0)
                continue;
            b->reconnects++;
        }
        int64_t g = 0;
        bool direct = label == BLK_READ && is_direct(b, buf, bytes);
        if (direct)
            g = grant_create_indirect(b->pid, b->direct.pid, b->direct.grant,
                                      b->direct.goff + (size_t)((uint8_t *)buf - b->direct.base),
                                      bytes, GRANT_F_WRITE);
        else if (label != BLK_FLUSH)
            g = grant_create(b->pid, buf, bytes, label == BLK_READ ? GRANT_F_WRITE : GRANT_F_READ);
        if (g < 0)
            return (int)g;
        struct ipc_msg m = ipc_msg_make(label, 5);
        m.w[1] = sector;
        m.w[2] = count;
        m.w[3] = (uint64_t)g;
        m.w[4] = 0;
        rc = ipc_call_status((uint64_t)b->handle, &m);
        if (g > 0)
            grant_revoke((uint64_t)g);
        if (rc >= 0) {
            *epoch = m.w[1];
            if (direct) {
                unsigned i = b->direct.n++;
                b->direct.off[i] = (uint32_t)((uint8_t *)buf - b->direct.base);
                b->direct.bytes[i] = (uint32_t)bytes;
                b->direct_bytes += bytes;
            }
            return 0;
        }
        if (direct && is_client_error(rc)) {
            /* The client's grant, not the disk: no resend helps. */
            if (!b->direct.error)
                b->direct.error = rc;
            return (int)rc;
        }
        if (rc == -E_DEAD || rc == -E_BADHANDLE) {
            drop(b); /* looked up again on the next try */
        } else if (rc == -E_BUSY || rc == -E_IO) {
            kc_sleep(rc == -E_BUSY || t > 4 ? 1 : 0);
        } else {
            return (int)rc;
        }
    }
    return -E_IO;
}

static int blk_read(void *ctx, uint64_t block, uint32_t count, void *buf)
{
    struct fs_blk *b = ctx;
    uint32_t per = b->sector_size / FAT_DEV_BLOCK;
    uint64_t epoch;
    return request(b, BLK_READ, block / per, count / per, buf, &epoch);
}

/* Flush, and while the epoch differs from a remembered write's, write
 * those again and flush again. */
static int blk_flush(void *ctx)
{
    struct fs_blk *b = ctx;
    for (int round = 0; round < FLUSH_ROUNDS; round++) {
        uint64_t epoch;
        int rc = request(b, BLK_FLUSH, 0, 0, 0, &epoch);
        if (rc < 0)
            return rc;
        int stale = 0;
        for (uint32_t i = 0; i < b->nrecs; i++) {
            struct fs_blk_rec *r = &b->rec[i];
            if (r->epoch == epoch)
                continue;
            if (!stale && b->rewrites == 0)
                printf("fs: the disk's epoch moved (it was reset): writing again what it had "
                       "not made durable\n");
            stale = 1;
            void *data = r->ref ? (void *)r->ref : b->log + r->off;
            rc = request(b, BLK_WRITE, r->sector, r->count, data, &r->epoch);
            if (rc < 0)
                return rc;
            b->rewrites++;
        }
        if (!stale) {
            b->nrecs = 0;
            b->log_used = 0;
            return 0;
        }
    }
    return -E_IO;
}

static int blk_write(void *ctx, uint64_t block, uint32_t count, const void *buf)
{
    struct fs_blk *b = ctx;
    uint32_t per = b->sector_size / FAT_DEV_BLOCK;
    uint64_t sector = block / per;
    uint32_t n = count / per;
    size_t bytes = (size_t)n * b->sector_size;
    if (bytes > b->log_cap) {
        /* Too big to keep: write it and flush until both land in one epoch. */
        int rc = blk_flush(b);
        for (int round = 0; rc == 0 && round < FLUSH_ROUNDS; round++) {
            uint64_t wep, fep;
            rc = request(b, BLK_WRITE, sector, n, (void *)buf, &wep);
            if (rc == 0)
                rc = request(b, BLK_FLUSH, 0, 0, 0, &fep);
            if (rc < 0)
                return rc;
            if (rc == 0 && fep == wep)
                return 0;
        }
        return rc < 0 ? rc : -E_IO;
    }
    if (b->log_used + bytes > b->log_cap || b->nrecs == FS_BLK_RECS) {
        int rc = blk_flush(b); /* make room: an extra flush never breaks the order */
        if (rc < 0)
            return rc;
    }
    struct fs_blk_rec *r = &b->rec[b->nrecs];
    int rc = request(b, BLK_WRITE, sector, n, (void *)buf, &r->epoch);
    if (rc < 0)
        return rc;
    r->sector = sector;
    r->count = n;
    r->off = b->log_used;
    uintptr_t at = (uintptr_t)buf, from = (uintptr_t)b->stable;
    r->ref =
        at >= from && bytes <= b->stable_len && at - from <= b->stable_len - bytes ? buf : NULL;
    if (!r->ref)
        memcpy(b->log + r->off, buf, bytes);
    b->log_used += bytes;
    b->nrecs++;
    return 0;
}

void fs_blk_stable(struct fs_blk *b, const void *buf, size_t len)
{
    fs_blk_settle(b);
    b->stable = buf;
    b->stable_len = buf ? len : 0;
}

void fs_blk_settle(struct fs_blk *b)
{
    for (uint32_t i = 0; i < b->nrecs; i++) {
        struct fs_blk_rec *r = &b->rec[i];
        if (r->ref)
            memcpy(b->log + r->off, r->ref, (size_t)r->count * b->sector_size);
        r->ref = NULL;
    }
}

void fs_blk_direct(struct fs_blk *b, const void *buf, size_t len, uint32_t pid, uint64_t grant,
                   uint64_t goff)
{
    b->direct.base = buf;
    b->direct.len = goff > UINT64_MAX - len ? 0 : len; /* the driver checks the rest */
    b->direct.pid = pid;
    b->direct.grant = grant;
    b->direct.goff = goff;
    b->direct.error = 0;
    b->direct.n = 0;
}

long fs_blk_direct_end(struct fs_blk *b, size_t n)
{
    long rc = b->direct.error;
    unsigned k = b->direct.n;
    /* The ranges in order of offset (a read fills them in order, usually). */
    for (unsigned i = 1; i < k; i++)
        for (unsigned j = i; j > 0 && b->direct.off[j - 1] > b->direct.off[j]; j--) {
            uint32_t o = b->direct.off[j], l = b->direct.bytes[j];
            b->direct.off[j] = b->direct.off[j - 1], b->direct.bytes[j] = b->direct.bytes[j - 1];
            b->direct.off[j - 1] = o, b->direct.bytes[j - 1] = l;
        }
    /* Copy the gaps between them, below n. */
    size_t at = 0;
    for (unsigned i = 0; rc == 0 && at < n; i++) {
        size_t to = i < k && b->direct.off[i] < n ? b->direct.off[i] : n;
        if (to > at) {
            long c = grant_copy_to(b->direct.pid, b->direct.grant, b->direct.goff + at,
                                   b->direct.base + at, to - at);
            rc = c < 0 ? c : 0;
        }
        if (i >= k || b->direct.off[i] >= n)
            break;
        size_t end = (size_t)b->direct.off[i] + b->direct.bytes[i];
        at = end > at ? end : at;
    }
    fs_blk_direct(b, NULL, 0, 0, 0, 0);
    return rc;
}

void fs_blk_close(struct fs_blk *b)
{
    drop(b);
}

int fs_blk_open(struct fs_blk *b, const char *name, uint64_t ticks, void *log, size_t log_cap,
                struct fat_dev *dev)
{
    memset(b, 0, sizeof(*b));
    strncpy_safe(b->name, name, sizeof(b->name));
    b->handle = -1;
    b->log = log;
    b->log_cap = log_cap;
    int rc = connect(b, ticks);
    if (rc < 0)
        return rc;
    if (b->sector_size < FAT_DEV_BLOCK || b->sector_size > FAT_SECTOR_MAX ||
        (b->sector_size & (b->sector_size - 1)) || b->max_sectors == 0) {
        drop(b);
        return -E_INVAL;
    }
    *dev = (struct fat_dev){
        .ctx = b,
        .blocks = b->sectors * (b->sector_size / FAT_DEV_BLOCK),
        .sector_size = b->sector_size,
        .max_blocks = b->max_sectors * (b->sector_size / FAT_DEV_BLOCK),
        .read = blk_read,
        .write = blk_write,
        .flush = blk_flush,
    };
    return 0;
}
