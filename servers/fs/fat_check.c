/*
 * The repair pass of the FAT32 core, run by fat_mount after an unclean
 * shutdown: it walks the tree from the root, owns every cluster reachable
 * from an entry, and clears what an interrupted write sequence leaves
 * (chains longer than their size, lost clusters, FAT copies that differ,
 * orphan long-name slots, an entry left twice by a rename, a stale "..").
 * On a hostile image it fixes what it can and never frees a cluster unless
 * the whole walk completed.
 */
#include "fat_priv.h"

struct ck_frame {
    uint32_t dir, parent, index;
};

_Static_assert(sizeof(struct ck_frame) == 12, "FAT_SCRATCH_BYTES counts 12 bytes a frame");

struct ck {
    struct fat_vol *v;
    uint8_t *owned; /* one bit per cluster number */
    uint8_t *stack; /* FAT_DEPTH_MAX frames, unaligned */
    uint32_t depth;
    uint32_t dropped; /* frames pushed out of the bottom of a full stack */
};

static int owned(const struct ck *k, uint32_t c)
{
    return (k->owned[c / 8] >> (c % 8)) & 1;
}

static void own(struct ck *k, uint32_t c)
{
    k->owned[c / 8] |= (uint8_t)(1u << (c % 8));
}

static void frame_put(struct ck *k, uint32_t i, const struct ck_frame *f)
{
    memcpy(k->stack + (size_t)i * sizeof(*f), f, sizeof(*f));
}

static void frame_get(const struct ck *k, uint32_t i, struct ck_frame *f)
{
    memcpy(f, k->stack + (size_t)i * sizeof(*f), sizeof(*f));
}

/* Every fix goes through here: the dirty mark reaches the device first. */
static int fix(struct ck *k, uint32_t *counter)
{
    (*counter)++;
    return begin_op(k->v);
}

/*
 * Owns the chain from `first` (valid, not owned): at most `limit`
 * clusters, cut (end-of-chain written) where it meets a bad link, a
 * cluster already owned, or the limit. *count is how many it owns.
 */
static int ck_chain(struct ck *k, uint32_t first, uint32_t limit, uint32_t *count)
{
    struct fat_vol *v = k->v;
    uint32_t c = first, n = 1;
    own(k, c);
    for (;;) {
        uint32_t val;
        int rc = fat_get(v, c, &val);
        if (rc < 0)
            return rc;
        if (val >= FAT_EOC_MIN)
            break;
        if (n == limit || !clu_valid(v, val) || owned(k, val)) {
            rc = fix(k, &v->report.chains_cut);
            if (rc == 0)
                rc = fat_set(v, c, FAT_EOC);
            if (rc < 0)
                return rc;
            break;
        }
        c = val;
        own(k, c);
        n++;
    }
    *count = n;
    return 0;
}

static int entry_write(struct ck *k, uint32_t sector, uint32_t off, const uint8_t *raw)
{
    uint8_t *p;
    int s = cache_get(k->v, sector, CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    memcpy(p + off, raw, DE_SIZE);
    cache_dirty(k->v, s);
    return 0;
}

/* Marks entries [from, to] of dir deleted. */
static int delete_slots(struct ck *k, uint32_t dir, uint32_t from, uint32_t to, uint32_t *counter)
{
    int rc = fix(k, counter);
    struct fat_diter it;
    diter_start(&it, dir, from);
    for (; rc == 0 && it.index <= to; it.index++) {
        uint32_t sector, off;
        uint8_t *p;
        rc = diter_loc(k->v, &it, &sector, &off);
        if (rc <= 0)
            return rc < 0 ? rc : -E_CORRUPT;
        int s = cache_get(k->v, sector, CG_READ, FK_DIR, &p);
        if (s < 0)
            return s;
        p[off] = DE_FREE;
        cache_dirty(k->v, s);
        rc = 0;
    }
    return rc;
}

/* A long-name run being collected. */
struct ck_lfn {
    uint32_t start, n, next; /* n = 0: none */
    uint8_t chk;
};

static int drop_run(struct ck *k, uint32_t dir, struct ck_lfn *l, uint32_t upto)
{
    int rc = 0;
    if (l->n)
        rc = delete_slots(k, dir, l->start, upto, &k->v->report.entries_removed);
    l->n = 0;
    return rc;
}

/*
 * One short entry of a directory. Returns 1 and *child when it is a
 * subdirectory to walk next, 0 otherwise.
 */
static int ck_entry(struct ck *k, const struct ck_frame *f, uint8_t *raw, uint32_t sector,
                    uint32_t off, uint32_t idx, uint32_t first_slot, uint32_t *child)
{
    struct fat_vol *v = k->v;
    struct fat_check_report *r = &v->report;
    uint32_t c = de_cluster(raw), size = rd32(raw + DE_SIZE_OFF);
    int rc;
    if (de_is_dot(raw)) {
        int dotdot = raw[1] == '.';
        if (f->dir != v->root && idx == (uint32_t)dotdot) {
            uint32_t want = dotdot ? (f->parent == v->root ? 0 : f->parent) : f->dir;
            if (c == want && de_is_dir(raw) && size == 0)
                return 0;
            rc = fix(k, &r->dots_fixed);
            de_set_cluster(raw, want);
            raw[DE_ATTR] |= FAT_ATTR_DIR;
            wr32(raw + DE_SIZE_OFF, 0);
            return rc < 0 ? rc : entry_write(k, sector, off, raw);
        }
        return delete_slots(k, f->dir, first_slot, idx, &r->entries_removed);
    }
    if (de_is_dir(raw)) {
        uint32_t val = 0;
        int bad = !clu_valid(v, c) || c == f->dir || c == v->root || owned(k, c);
        if (!bad) {
            rc = fat_get(v, c, &val);
            if (rc < 0)
                return rc;
            bad = val == 0 || val == FAT_BAD;
        }
        if (bad)
            return delete_slots(k, f->dir, first_slot, idx, &r->entries_removed);
        if (size != 0) {
            rc = fix(k, &r->sizes_fixed);
            wr32(raw + DE_SIZE_OFF, 0);
            if (rc == 0)
                rc = entry_write(k, sector, off, raw);
            if (rc < 0)
                return rc;
        }
        uint32_t n;
        rc = ck_chain(k, c, v->dir_max_clusters, &n);
        if (rc < 0)
            return rc;
        *child = c;
        return 1;
    }
    /* A file. */
    if (c == 0 && size == 0)
        return 0;
    if (c != 0 && clu_valid(v, c) && owned(k, c))
        return delete_slots(k, f->dir, first_slot, idx, &r->entries_removed);
    uint32_t val = 0;
    if (clu_valid(v, c)) {
        rc = fat_get(v, c, &val);
        if (rc < 0)
            return rc;
    }
    if (!clu_valid(v, c) || val == 0 || val == FAT_BAD || size == 0) {
        /* No usable chain, or a chain without a size: an empty file. */
        rc = fix(k, &r->sizes_fixed);
        de_set_cluster(raw, 0);
        wr32(raw + DE_SIZE_OFF, 0);
        return rc < 0 ? rc : entry_write(k, sector, off, raw);
    }
    uint32_t limit = (size - 1) / v->cluster_bytes + 1, n;
    rc = ck_chain(k, c, limit, &n);
    if (rc < 0)
        return rc;
    if (n < limit) {
        rc = fix(k, &r->sizes_fixed);
        wr32(raw + DE_SIZE_OFF, n * v->cluster_bytes);
        if (rc == 0)
            rc = entry_write(k, sector, off, raw);
    }
    return rc;
}

/*
 * Walks directory f->dir from f->index. Returns 1 with *child when it
 * stops at a subdirectory (f->index then points after it), 0 when done.
 */
static int ck_dir(struct ck *k, struct ck_frame *f, uint32_t *child)
{
    struct fat_vol *v = k->v;
    struct fat_check_report *r = &v->report;
    struct ck_lfn l = {0, 0, 0, 0};
    struct fat_diter it;
    int ended = 0;
    diter_start(&it, f->dir, f->index);
    for (;; it.index++) {
        uint32_t sector, off, idx = it.index;
        uint8_t *p, raw[DE_SIZE];
        int rc = diter_loc(v, &it, &sector, &off);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return drop_run(k, f->dir, &l, idx - 1);
        int s = cache_get(v, sector, CG_READ, FK_DIR, &p);
        if (s < 0)
            return s;
        memcpy(raw, p + off, DE_SIZE);
        if (ended) {
            /* Past the end marker everything must read as "end" too (fsck
             * reads on; every other reader stops). */
            if (raw[0] != DE_END) {
                rc = fix(k, &r->other_fixed);
                memset(raw, 0, DE_SIZE);
                if (rc == 0)
                    rc = entry_write(k, sector, off, raw);
                if (rc < 0)
                    return rc;
            }
            continue;
        }
        if (raw[0] == DE_END || raw[0] == DE_FREE) {
            rc = drop_run(k, f->dir, &l, idx - 1);
            if (rc < 0)
                return rc;
            ended = raw[0] == DE_END;
            continue;
        }
        if ((raw[DE_ATTR] & ATTR_LFN_MASK) == ATTR_LFN) {
            if (raw[DE_NTRES] != 0 || rd16(raw + DE_CLUS_LO) != 0) {
                rc = fix(k, &r->other_fixed);
                raw[DE_NTRES] = 0;
                wr16(raw + DE_CLUS_LO, 0);
                if (rc == 0)
                    rc = entry_write(k, sector, off, raw);
                if (rc < 0)
                    return rc;
            }
            uint32_t ord = raw[0] & LFN_ORD_MASK;
            int last = (raw[0] & LFN_LAST) != 0;
            if (last && ord >= 1 && ord <= LFN_MAX_SLOTS) {
                rc = drop_run(k, f->dir, &l, idx - 1);
                l.start = idx, l.n = l.next = ord, l.chk = raw[LFN_CHKSUM];
            } else if (!last && l.n && ord >= 1 && ord + 1 == l.next && raw[LFN_CHKSUM] == l.chk) {
                l.next = ord;
            } else {
                /* A fragment: it and the run it breaks go. */
                if (!l.n)
                    l.start = idx;
                l.n = 1;
                rc = drop_run(k, f->dir, &l, idx);
            }
            if (rc < 0)
                return rc;
            continue;
        }
        uint32_t first_slot = idx;
        if (l.n) {
            if (l.next == 1 && l.chk == sfn_checksum(raw) && !(raw[DE_ATTR] & ATTR_VOLUME))
                first_slot = l.start;
            else if ((rc = drop_run(k, f->dir, &l, idx - 1)) < 0)
                return rc;
            l.n = 0;
        }
        if (raw[DE_ATTR] & ATTR_VOLUME)
            continue; /* a label */
        rc = ck_entry(k, f, raw, sector, off, idx, first_slot, child);
        if (rc != 0) {
            f->index = idx + 1;
            return rc;
        }
    }
}

/* Frees what nobody owns and counts what is free. */
static int ck_lost(struct ck *k)
{
    struct fat_vol *v = k->v;
    uint32_t free = 0;
    for (uint32_t c = 2; c - 2 < v->clusters; c++) {
        uint32_t val;
        int rc = fat_get(v, c, &val);
        if (rc < 0)
            return rc;
        if (!owned(k, c) && val != 0 && val != FAT_BAD) {
            rc = fix(k, &v->report.lost_freed);
            if (rc == 0)
                rc = fat_set(v, c, 0);
            if (rc < 0)
                return rc;
            val = 0;
        }
        free += val == 0;
    }
    v->free_count = free;
    return 0;
}

/* Copies 2.. become copy 1, compared in large reads. */
static int ck_copies(struct ck *k)
{
    struct fat_vol *v = k->v;
    if (v->nfats < 2)
        return 0;
    uint8_t *buf;
    uint32_t nsec;
    int rc = cache_borrow(v, &buf, &nsec);
    if (rc < 0)
        return rc;
    uint32_t chunk = nsec / 2;
    uint8_t *a = buf, *b = buf + (size_t)chunk * v->bps;
    for (uint32_t copy = 1; copy < v->nfats; copy++) {
        for (uint32_t sec = 0; sec < v->fat_sectors; sec += chunk) {
            uint32_t n = v->fat_sectors - sec < chunk ? v->fat_sectors - sec : chunk;
            uint32_t other = v->fat_start + copy * v->fat_sectors + sec;
            rc = dev_read(v, v->fat_start + sec, n, a);
            if (rc == 0)
                rc = dev_read(v, other, n, b);
            if (rc < 0)
                return rc;
            if (memcmp(a, b, (size_t)n * v->bps) == 0)
                continue;
            if (!v->report.fat_copies) {
                /* begin_op may use the cache: read copy 1 again after it */
                rc = fix(k, &v->report.fat_copies);
                if (rc == 0)
                    rc = cache_borrow(v, &buf, &nsec);
                if (rc == 0)
                    rc = dev_read(v, v->fat_start + sec, n, a);
                if (rc < 0)
                    return rc;
            }
            rc = dev_write(v, other, n, a);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* The parent a directory's ".." names (checked when it was walked). */
static int read_dotdot(struct ck *k, uint32_t dir, uint32_t *parent)
{
    struct fat_vol *v = k->v;
    uint8_t *p;
    int s = cache_get(v, clu_sector(v, dir), CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    const uint8_t *d = p + DE_SIZE;
    if (d[0] != '.' || d[1] != '.' || !de_is_dot(d))
        return -E_LIMIT;
    uint32_t c = de_cluster(d);
    *parent = c ? c : v->root;
    return clu_valid(v, *parent) ? 0 : -E_LIMIT;
}

/* Index of the entry of directory `dir` that points at directory `child`. */
static int find_child(struct ck *k, uint32_t dir, uint32_t child, uint32_t *index)
{
    struct fat_vol *v = k->v;
    struct fat_diter it;
    diter_start(&it, dir, 0);
    for (;; it.index++) {
        uint32_t sector, off;
        uint8_t *p;
        int rc = diter_loc(v, &it, &sector, &off);
        if (rc <= 0)
            return rc < 0 ? rc : -E_LIMIT;
        int s = cache_get(v, sector, CG_READ, FK_DIR, &p);
        if (s < 0)
            return s;
        const uint8_t *d = p + off;
        if (d[0] == DE_END)
            return -E_LIMIT;
        if (d[0] != DE_FREE && (d[DE_ATTR] & ATTR_LFN_MASK) != ATTR_LFN && de_is_dir(d) &&
            !(d[DE_ATTR] & ATTR_VOLUME) && !de_is_dot(d) && de_cluster(d) == child) {
            *index = it.index;
            return 0;
        }
    }
}

/*
 * A tree deeper than the stack: the bottom frames were dropped, so the
 * frame to go back to is rebuilt from ".." and a search of the parent.
 */
static int ck_climb(struct ck *k, uint32_t done)
{
    uint32_t parent = 0, grand = 0, index = 0;
    int rc = read_dotdot(k, done, &parent);
    if (rc == 0)
        rc = find_child(k, parent, done, &index);
    if (rc == 0 && parent != k->v->root)
        rc = read_dotdot(k, parent, &grand);
    if (rc < 0)
        return rc;
    struct ck_frame f = {parent, grand, index + 1};
    frame_put(k, 0, &f);
    k->depth = 1;
    k->dropped--;
    return 0;
}

int fat_check(struct fat_vol *v)
{
    struct ck k;
    size_t map = ((size_t)v->clusters + 2 + 63) / 64 * 8;
    if (!v->scratch || v->scratch_bytes < map + FAT_DEPTH_MAX * sizeof(struct ck_frame))
        return -E_NOMEM;
    memset(&v->report, 0, sizeof(v->report));
    v->report.ran = 1;
    k.v = v;
    k.owned = v->scratch;
    k.stack = v->scratch + map;
    k.dropped = 0;
    memset(k.owned, 0, map);
    uint32_t n;
    int rc = ck_chain(&k, v->root, v->dir_max_clusters, &n);
    if (rc < 0)
        return rc;
    struct ck_frame f = {v->root, 0, 0};
    frame_put(&k, 0, &f);
    k.depth = 1;
    while (k.depth) {
        uint32_t child = 0;
        frame_get(&k, k.depth - 1, &f);
        rc = ck_dir(&k, &f, &child);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (--k.depth == 0 && k.dropped && (rc = ck_climb(&k, f.dir)) < 0)
                return rc;
            continue;
        }
        frame_put(&k, k.depth - 1, &f);
        if (k.depth == FAT_DEPTH_MAX) {
            memmove(k.stack, k.stack + sizeof(f), (FAT_DEPTH_MAX - 1) * sizeof(f));
            k.depth--;
            k.dropped++;
        }
        struct ck_frame sub = {child, f.dir, 0};
        frame_put(&k, k.depth++, &sub);
    }
    rc = ck_lost(&k);
    if (rc == 0)
        rc = cache_commit(v);
    if (rc == 0)
        rc = ck_copies(&k);
    if (rc == 0 && v->report.fat_copies)
        rc = dev_flush(v);
    return rc;
}
