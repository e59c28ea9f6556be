/*
 * Device access and the block cache of the FAT32 core. Every transfer is
 * checked against the volume's bounds here, so nothing above can reach a
 * sector outside the volume. The cache holds single sectors; a commit
 * writes the dirty ones in the order the durability rule needs.
 */
#include "fat_priv.h"

/* Source for zero fills: one sector of the largest size. */
static const uint8_t zeros[FAT_SECTOR_MAX];

static int in_volume(const struct fat_vol *v, uint32_t sector, uint32_t count)
{
    return count != 0 && sector < v->total_sectors && count <= v->total_sectors - sector;
}

/* In requests of at most xfer_max sectors. Precondition: the range was
 * checked with in_volume. */
static int dev_xfer(struct fat_vol *v, uint32_t sector, uint32_t count, uint8_t *rbuf,
                    const uint8_t *wbuf)
{
    size_t done = 0;
    while (count) {
        uint32_t n = count > v->xfer_max ? v->xfer_max : count;
        uint64_t block = (uint64_t)sector * v->bps_blocks;
        int rc = rbuf ? v->dev.read(v->dev.ctx, block, n * v->bps_blocks, rbuf + done)
                      : v->dev.write(v->dev.ctx, block, n * v->bps_blocks, wbuf + done);
        if (rc != 0)
            return -E_IO;
        sector += n;
        count -= n;
        done += (size_t)n * v->bps;
    }
    return 0;
}

int dev_read(struct fat_vol *v, uint32_t sector, uint32_t count, void *buf)
{
    if (!in_volume(v, sector, count))
        return -E_CORRUPT;
    return dev_xfer(v, sector, count, buf, NULL);
}

int dev_write(struct fat_vol *v, uint32_t sector, uint32_t count, const void *buf)
{
    if (!in_volume(v, sector, count))
        return -E_CORRUPT;
    v->unflushed = 1;
    return dev_xfer(v, sector, count, NULL, buf);
}

int dev_flush(struct fat_vol *v)
{
    if (v->dev.flush(v->dev.ctx) != 0)
        return -E_IO;
    v->unflushed = 0;
    return 0;
}

int dev_zero(struct fat_vol *v, uint32_t sector, uint32_t count)
{
    if (!in_volume(v, sector, count))
        return -E_CORRUPT;
    int rc = cache_range(v, sector, count, 1);
    uint32_t per = (uint32_t)sizeof(zeros) / v->bps;
    while (rc == 0 && count) {
        uint32_t n = count < per ? count : per;
        rc = dev_write(v, sector, n, zeros);
        sector += n;
        count -= n;
    }
    return rc;
}

void cache_init(struct fat_vol *v, uint8_t *mem, uint32_t nslots)
{
    v->cache_mem = mem;
    v->nslots = nslots;
    v->clock = 0;
    v->last_slot = 0;
    memset(v->slot, 0, sizeof(v->slot));
}

static uint8_t *slot_mem(struct fat_vol *v, uint32_t i)
{
    return v->cache_mem + (size_t)i * v->bps;
}

static int slot_find(struct fat_vol *v, uint32_t sector)
{
    struct fat_slot *s = &v->slot[v->last_slot];
    if (s->state && s->sector == sector)
        return (int)v->last_slot;
    for (uint32_t i = 0; i < v->nslots; i++)
        if (v->slot[i].state && v->slot[i].sector == sector)
            return (int)i;
    return -1;
}

int cache_dirty_count(const struct fat_vol *v)
{
    int n = 0;
    for (uint32_t i = 0; i < v->nslots; i++)
        n += v->slot[i].state == 2;
    return n;
}

/* A slot to reuse: an empty one, else the least recently used clean one;
 * when every slot is dirty, a commit cleans them first. */
static int slot_victim(struct fat_vol *v)
{
    int best = -1;
    uint32_t best_age = 0;
    for (uint32_t i = 0; i < v->nslots; i++) {
        if (v->slot[i].state == 0)
            return (int)i;
        uint32_t age = v->clock - v->slot[i].stamp;
        if (v->slot[i].state == 1 && (best < 0 || age > best_age)) {
            best = (int)i;
            best_age = age;
        }
    }
    if (best >= 0)
        return best;
    int rc = cache_commit(v);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < v->nslots; i++) {
        uint32_t age = v->clock - v->slot[i].stamp;
        if (best < 0 || age > best_age) {
            best = (int)i;
            best_age = age;
        }
    }
    return best;
}

int cache_get(struct fat_vol *v, uint32_t sector, int how, int kind, uint8_t **p)
{
    if (!in_volume(v, sector, 1))
        return -E_CORRUPT;
    int i = slot_find(v, sector);
    if (i >= 0) {
        struct fat_slot *s = &v->slot[i];
        if (s->kind != kind) {
            /* The sector changed roles (a freed cluster reused): its old
             * dirty content goes out in its own place in the order. */
            if (s->state == 2) {
                int rc = cache_commit(v);
                if (rc < 0)
                    return rc;
            }
            s->kind = (uint8_t)kind;
        }
    } else {
        i = slot_victim(v);
        if (i < 0)
            return i;
        struct fat_slot *s = &v->slot[i];
        s->state = 0;
        if (how == CG_READ) {
            int rc = dev_read(v, sector, 1, slot_mem(v, (uint32_t)i));
            if (rc < 0)
                return rc;
        }
        s->sector = sector;
        s->kind = (uint8_t)kind;
        s->state = 1;
    }
    if (how == CG_FRESH)
        memset(slot_mem(v, (uint32_t)i), 0, v->bps);
    v->slot[i].stamp = ++v->clock;
    v->last_slot = (uint32_t)i;
    *p = slot_mem(v, (uint32_t)i);
    return i;
}

void cache_dirty(struct fat_vol *v, int slot)
{
    v->slot[slot].state = 2;
}

static int write_kind(struct fat_vol *v, int kind, uint32_t offset, int clean)
{
    for (uint32_t i = 0; i < v->nslots; i++) {
        struct fat_slot *s = &v->slot[i];
        if (s->state != 2 || s->kind != kind)
            continue;
        int rc = dev_write(v, s->sector + offset, 1, slot_mem(v, i));
        if (rc < 0)
            return rc;
        if (clean)
            s->state = 1;
    }
    return 0;
}

static int any_kind(const struct fat_vol *v, int kind)
{
    for (uint32_t i = 0; i < v->nslots; i++)
        if (v->slot[i].state == 2 && v->slot[i].kind == kind)
            return 1;
    return 0;
}

/*
 * The write order (docs/storage.md, "Durability"):
 *   1. file data held in partial sectors (full sectors went out directly
 *      when written);
 *   2. if directory clusters were zeroed since the last commit: flush, so
 *      a directory never grows over old bytes;
 *   3. FAT sectors, to copy 1, then to every other copy;
 *   4. flush: data and chains are durable before any entry points at them;
 *   5. directory sectors (sizes, new and deleted entries);
 *   6. flush: the operations are acknowledged.
 * A crash anywhere leaves chains longer than their sizes, lost clusters,
 * FAT copies that differ or orphan long-name slots, all under the dirty
 * mark, which the repair at the next mount clears away.
 */
int cache_commit(struct fat_vol *v)
{
    int rc = write_kind(v, FK_DATA, 0, 1);
    if (rc == 0 && v->need_barrier && any_kind(v, FK_FAT)) {
        rc = dev_flush(v);
        if (rc == 0)
            v->need_barrier = 0;
    }
    for (uint32_t copy = 0; rc == 0 && copy < v->nfats; copy++)
        rc = write_kind(v, FK_FAT, copy * v->fat_sectors, copy + 1 == v->nfats);
    if (rc == 0 && any_kind(v, FK_DIR)) {
        if (v->unflushed)
            rc = dev_flush(v);
        if (rc == 0)
            rc = write_kind(v, FK_DIR, 0, 1);
    }
    if (rc == 0 && v->unflushed)
        rc = dev_flush(v);
    if (rc == 0)
        v->need_barrier = 0;
    return rc;
}

int cache_range(struct fat_vol *v, uint32_t sector, uint32_t count, int drop)
{
    for (uint32_t i = 0; i < v->nslots; i++) {
        struct fat_slot *s = &v->slot[i];
        if (!s->state || s->sector < sector || s->sector - sector >= count)
            continue;
        if (drop) {
            s->state = 0;
        } else if (s->state == 2) {
            if (s->kind != FK_DATA)
                return cache_commit(v); /* keeps the order; cleans everything */
            int rc = dev_write(v, s->sector, 1, slot_mem(v, i));
            if (rc < 0)
                return rc;
            s->state = 1;
        }
    }
    return 0;
}

int cache_borrow(struct fat_vol *v, uint8_t **mem, uint32_t *sectors)
{
    int rc = cache_commit(v);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < v->nslots; i++)
        v->slot[i].state = 0;
    *mem = v->cache_mem;
    *sectors = v->nslots;
    return 0;
}
