/*
 * Block protocol engine: request checks, splitting into parts, grant
 * copies and answers. Requests are served oldest first; a request's parts
 * all run in one device epoch, or the request fails with -E_IO.
 */
#include "blk_srv.h"

#include <abi/errno.h>
#include <abi/proto/blk.h>
#include <common/string.h>
#include <stddef.h>

void blk_srv_init(struct blk_srv *s, struct vblk *b, const struct blk_srv_ops *ops)
{
    memset(s, 0, sizeof(*s));
    s->b = b;
    s->ops = *ops;
    uint32_t most = BLK_MAX_BYTES >> (9 + b->shift);
    s->max_sectors = most;
}

static void answer(struct blk_srv *s, uint64_t client, long status, const uint64_t *words,
                   unsigned n)
{
    uint64_t w[8] = {(uint64_t)status};
    for (unsigned i = 0; i < n && i < 7; i++)
        w[1 + i] = words[i];
    s->ops.reply(s->ops.ctx, client, w);
}

static bool has_work(const struct blk_srv_req *r)
{
    if (!r->used || r->status != 0)
        return false;
    if (r->label == BLK_READ || r->label == BLK_WRITE)
        return r->next < r->count;
    return !r->started;
}

static void read_ahead(struct blk_srv *s, const struct blk_srv_req *after);

/* Let a read ahead go: its slots now, its entry once nothing of it is on
 * the device (what comes back then is thrown away). */
static void ahead_drop(struct blk_srv *s, struct blk_srv_req *r)
{
    for (unsigned i = 0; i < r->kept; i++)
        vblk_slot_free(s->b, r->keep_slot[i]);
    r->kept = 0;
    if (r->status == 0) {
        r->status = -E_IO; /* nothing more is started */
        s->ahead_drops++;
    }
    if (r->parts == 0)
        r->used = false;
}

/* The read ahead still wanted (a dropped one only waits for its parts). */
static struct blk_srv_req *ahead_of(struct blk_srv *s)
{
    for (unsigned i = 0; i < BLK_SRV_MAX_REQS; i++)
        if (s->req[i].used && s->req[i].ahead && s->req[i].status == 0)
            return &s->req[i];
    return NULL;
}

/* Answer r if nothing of it is in flight and nothing is left to start. */
static void finish_if_idle(struct blk_srv *s, struct blk_srv_req *r)
{
    if (r->parts || has_work(r))
        return;
    if (r->ahead) { /* nobody to answer: kept for its client, or gone */
        if (r->status != 0)
            ahead_drop(s, r);
        return;
    }
    if (r->status == 0 && r->label == BLK_READ && r->sequential)
        read_ahead(s, r);
    if (r->status != 0) {
        answer(s, r->client, r->status, NULL, 0);
    } else if (r->label == BLK_ID) {
        uint64_t w[4] = {0, 0, 0, r->epoch};
        size_t len = 0;
        while (len < VIRTIO_BLK_ID_BYTES && r->id[len])
            len++;
        memcpy(w, r->id, VIRTIO_BLK_ID_BYTES);
        answer(s, r->client, (long)len, w, 4);
    } else {
        answer(s, r->client, 0, &r->epoch, 1);
    }
    r->used = false;
}

static void fail(struct blk_srv *s, struct blk_srv_req *r, long status)
{
    if (r->status == 0)
        r->status = status;
    finish_if_idle(s, r);
}

/* Copy between the client's grant and [off, off + len) of a slot's buffer. */
static long copy_part(struct blk_srv *s, struct blk_srv_req *r, unsigned slot, uint64_t goff,
                      uint32_t len, bool to_client)
{
    struct vblk_iov iov[VBLK_MAX_SEGS];
    unsigned n = vblk_slot_iov(s->b, slot, 0, len, iov, VBLK_MAX_SEGS);
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += iov[i].len;
    if (total != len)
        return -E_IO; /* a part never exceeds its slot: cannot happen */
    for (unsigned i = 0; i < n; i++) {
        long rc =
            to_client
                ? s->ops.copy_to(s->ops.ctx, r->client, r->grant, goff, iov[i].virt, iov[i].len)
                : s->ops.copy_from(s->ops.ctx, r->client, r->grant, goff, iov[i].virt, iov[i].len);
        if (rc < 0)
            return rc;
        if ((uint64_t)rc != iov[i].len)
            return -E_FAULT;
        goff += iov[i].len;
    }
    return 0;
}

static struct blk_srv_req *oldest_with_work(struct blk_srv *s)
{
    struct blk_srv_req *best = NULL;
    for (unsigned i = 0; i < BLK_SRV_MAX_REQS; i++)
        if (has_work(&s->req[i]) && (!best || s->req[i].seq < best->seq))
            best = &s->req[i];
    return best;
}

/* Start parts while there are slots. Returns whether any was started. */
static bool pump(struct blk_srv *s, uint64_t now)
{
    struct vblk *b = s->b;
    bool started = false;
    struct blk_srv_req *r;
    while ((r = oldest_with_work(s)) != NULL) {
        if (b->dead || (r->started && r->epoch != b->epoch)) {
            fail(s, r, -E_IO);
            continue;
        }
        int slot = vblk_slot_alloc(b);
        struct blk_srv_req *a = ahead_of(s);
        if (slot < 0 && a && a != r && a->kept) {
            ahead_drop(s, a); /* a client's request comes before a guess */
            slot = vblk_slot_alloc(b);
        }
        if (slot < 0)
            break; /* wait for a completion */
        uint64_t index = (uint64_t)(r - s->req);
        enum vblk_op op;
        uint32_t count = 0;
        switch (r->label) {
        case BLK_READ:
        case BLK_WRITE: {
            uint64_t left = r->count - r->next, most = b->part_bytes >> (9 + b->shift);
            count = (uint32_t)(left < most ? left : most);
            op = r->label == BLK_READ ? VBLK_READ : VBLK_WRITE;
            break;
        }
        case BLK_FLUSH:
            op = VBLK_FLUSH;
            break;
        default:
            op = VBLK_GET_ID;
            break;
        }
        long rc = 0;
        if (op == VBLK_WRITE)
            rc = copy_part(s, r, (unsigned)slot, r->goff + (r->next << (9 + b->shift)),
                           count << (9 + b->shift), false);
        if (rc == 0)
            rc = vblk_submit(b, (unsigned)slot, op, r->first + r->next, count,
                             index << 32 | r->next, now);
        if (rc < 0) {
            vblk_slot_free(b, (unsigned)slot);
            fail(s, r, rc);
            continue;
        }
        if (!r->started) {
            r->started = true;
            r->epoch = b->epoch;
        }
        r->next += count;
        r->parts++;
        started = true;
    }
    return started;
}

static void completed(struct blk_srv *s, const struct vblk_done *d)
{
    struct vblk *b = s->b;
    if ((d->cookie >> 32) >= BLK_SRV_MAX_REQS) { /* vblk returns only our cookies */
        vblk_slot_free(b, d->slot);
        return;
    }
    struct blk_srv_req *r = &s->req[d->cookie >> 32];
    uint64_t rel = d->cookie & 0xffffffffu;
    long status = d->status;
    if (status == 0 && r->epoch != b->epoch)
        status = -E_IO; /* cannot happen: a reset fails what is in flight */
    if (d->op == VBLK_WRITE) {
        /* A read ahead may have read these sectors before this write
         * reached them: what it holds may be old. */
        struct blk_srv_req *a = ahead_of(s);
        if (a && a != r)
            ahead_drop(s, a);
    }
    if (r->ahead && status == 0 && r->status == 0 && r->kept < VBLK_MAX_SLOTS) {
        r->keep_slot[r->kept] = (uint8_t)d->slot;
        r->keep_rel[r->kept] = (uint32_t)rel;
        r->keep_bytes[r->kept++] = d->bytes;
        r->parts--;
        return;
    }
    if (status == 0 && r->status == 0 && !r->ahead) {
        if (d->op == VBLK_READ)
            status = copy_part(s, r, d->slot, r->goff + (rel << (9 + b->shift)), d->bytes, true);
        else if (d->op == VBLK_GET_ID) {
            struct vblk_iov iov[VBLK_MAX_SEGS];
            unsigned n = vblk_slot_iov(b, d->slot, 0, VIRTIO_BLK_ID_BYTES, iov, VBLK_MAX_SEGS);
            for (unsigned i = 0, at = 0; i < n; at += iov[i].len, i++)
                memcpy(r->id + at, iov[i].virt, iov[i].len);
        }
    }
    vblk_slot_free(b, d->slot);
    r->parts--;
    if (status < 0 && r->status == 0)
        r->status = status;
    finish_if_idle(s, r);
}

/* After a sequential read: read the next range of the same size ahead,
 * if it lies on the disk and takes at most half the slots (clients keep
 * the rest). It replaces a read ahead that nobody asked for. */
static void read_ahead(struct blk_srv *s, const struct blk_srv_req *after)
{
    struct vblk *b = s->b;
    uint64_t first = after->first + after->count, count = after->count;
    uint64_t part = b->part_bytes >> (9 + b->shift);
    if (b->dead || first >= b->sectors || count > b->sectors - first ||
        (count + part - 1) / part > b->nslots / 2)
        return;
    struct blk_srv_req *old = ahead_of(s);
    if (old && old->first == first && old->count == count)
        return;
    if (old)
        ahead_drop(s, old);
    for (unsigned i = 0; i < BLK_SRV_MAX_REQS; i++)
        if (!s->req[i].used && &s->req[i] != after) {
            s->req[i] = (struct blk_srv_req){.used = true,
                                             .label = BLK_READ,
                                             .seq = s->seq++,
                                             .first = first,
                                             .count = count,
                                             .ahead = true};
            return;
        }
}

/* A client's read of exactly the range read ahead takes it over: what is
 * back is copied to the client now, the rest as it completes. */
static bool ahead_take(struct blk_srv *s, uint64_t client, const uint64_t w[8])
{
    struct vblk *b = s->b;
    struct blk_srv_req *r = ahead_of(s);
    if (!r || r->first != w[1] || r->count != w[2])
        return false;
    if (r->started && r->epoch != b->epoch) {
        ahead_drop(s, r);
        return false;
    }
    r->ahead = false;
    r->client = client;
    r->grant = w[3];
    r->goff = w[4];
    r->sequential = true;
    for (unsigned i = 0; i < r->kept; i++) {
        long rc = r->status ? 0
                            : copy_part(s, r, r->keep_slot[i],
                                        r->goff + (r->keep_rel[i] << (9 + b->shift)),
                                        r->keep_bytes[i], true);
        vblk_slot_free(b, r->keep_slot[i]);
        if (rc < 0)
            r->status = rc;
    }
    r->kept = 0;
    s->ahead_hits++;
    finish_if_idle(s, r);
    return true;
}

bool blk_srv_busy(const struct blk_srv *s)
{
    for (unsigned i = 0; i < BLK_SRV_MAX_REQS; i++)
        if (s->req[i].used && (!s->req[i].ahead || s->req[i].parts))
            return true;
    return false;
}

/* Start what can start, take what completed, until neither moves. */
static void run(struct blk_srv *s, uint64_t now)
{
    struct vblk_done done[VBLK_MAX_SLOTS];
    for (;;) {
        if (pump(s, now))
            vblk_kick(s->b);
        unsigned n = vblk_poll(s->b, done, VBLK_MAX_SLOTS);
        if (n == 0)
            break;
        for (unsigned i = 0; i < n; i++)
            completed(s, &done[i]);
    }
}

/* The checks of blk.h, in its order; 0 if the request may go ahead. */
static long check_rw(struct blk_srv *s, uint64_t client, uint32_t label, const uint64_t w[8])
{
    struct vblk *b = s->b;
    uint64_t first = w[1], count = w[2], grant = w[3], goff = w[4];
    if (count == 0 || count > s->max_sectors)
        return -E_INVAL;
    if (first >= b->sectors || count > b->sectors - first)
        return -E_RANGE;
    if (label == BLK_WRITE && b->read_only)
        return -E_PERM;
    uint64_t bytes = count << (9 + b->shift);
    if (goff > UINT64_MAX - bytes)
        return -E_GRANT_RANGE;
    long rc = label == BLK_READ
                  ? s->ops.copy_to(s->ops.ctx, client, grant, goff + bytes, NULL, 0)
                  : s->ops.copy_from(s->ops.ctx, client, grant, goff + bytes, NULL, 0);
    return rc < 0 ? rc : 0;
}

void blk_srv_request(struct blk_srv *s, uint64_t client, uint32_t label, const uint64_t w[8],
                     uint64_t now)
{
    struct vblk *b = s->b;
    long rc = 0;
    switch (label) {
    case BLK_INFO: {
        uint64_t words[5] = {b->sectors, b->sector_size, s->max_sectors,
                             (b->read_only ? BLK_INFO_RO : 0) | (b->flush ? BLK_INFO_FLUSH : 0),
                             b->epoch};
        answer(s, client, 0, words, 5);
        return;
    }
    case BLK_READ:
    case BLK_WRITE:
        rc = check_rw(s, client, label, w);
        break;
    case BLK_FLUSH:
    case BLK_ID:
        break;
    default:
        rc = -E_NOSYS;
        break;
    }
    if (rc == 0 && b->dead)
        rc = -E_IO;
    bool sequential = false;
    if (rc == 0 && label == BLK_READ) {
        sequential = w[1] == s->read_end;
        s->read_end = w[1] + w[2];
        if (ahead_take(s, client, w)) {
            run(s, now);
            return;
        }
    }
    struct blk_srv_req *a = ahead_of(s);
    if (rc == 0 && label == BLK_WRITE && a)
        ahead_drop(s, a); /* it may hold what this write changes */
    struct blk_srv_req *r = NULL;
    for (unsigned i = 0; rc == 0 && i < BLK_SRV_MAX_REQS && !r; i++)
        if (!s->req[i].used)
            r = &s->req[i];
    if (rc == 0 && !r && (a = ahead_of(s)) != NULL && a->parts == 0) {
        ahead_drop(s, a); /* a client comes before a guess */
        r = a;
    }
    if (rc == 0 && !r)
        rc = -E_BUSY;
    if (rc < 0) {
        answer(s, client, rc, NULL, 0);
        return;
    }
    *r = (struct blk_srv_req){.used = true, .label = label, .client = client, .seq = s->seq++};
    if (label == BLK_READ || label == BLK_WRITE) {
        r->first = w[1];
        r->count = w[2];
        r->grant = w[3];
        r->goff = w[4];
        r->sequential = sequential;
    }
    run(s, now);
}

void blk_srv_interrupt(struct blk_srv *s, uint64_t now)
{
    struct vblk_done done[VBLK_MAX_SLOTS];
    unsigned n = vblk_interrupt(s->b, done, VBLK_MAX_SLOTS);
    for (unsigned i = 0; i < n; i++)
        completed(s, &done[i]);
    run(s, now);
}

void blk_srv_tick(struct blk_srv *s, uint64_t now, uint64_t timeout)
{
    if (vblk_stalled(s->b, now, timeout))
        vblk_restart(s->b);
    run(s, now);
}
