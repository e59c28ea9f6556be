/*
 * Open files of the FAT32 core: the node table (one node per open file,
 * shared by every open of it, found by the place of its entry), and read,
 * write, truncate, stat and readdir on a handle. Whole sectors move
 * straight between the caller's buffer and the device, in one request per
 * run of contiguous clusters; only partial sectors go through the cache.
 */
#include "fat_priv.h"

/* clang-format off */
#define H_INDEX_BITS 8
#define H_GEN_MASK   0x7FFFFFu /* handles stay positive ints */
#define O_ALL (FAT_O_CREATE | FAT_O_EXCL | FAT_O_TRUNC | FAT_O_DIR)
/* clang-format on */

_Static_assert(FAT_OPEN_MAX <= (1 << H_INDEX_BITS), "node index must fit a handle");

static struct fat_node *node_get(struct fat_vol *v, int h)
{
    if (!v->mounted || h < 0)
        return NULL;
    uint32_t i = (uint32_t)h & ((1u << H_INDEX_BITS) - 1);
    if (i >= FAT_OPEN_MAX)
        return NULL;
    struct fat_node *n = &v->node[i];
    if (!n->refs || (n->gen & H_GEN_MASK) != (uint32_t)h >> H_INDEX_BITS)
        return NULL;
    return n;
}

static int node_handle(struct fat_vol *v, struct fat_node *n)
{
    return (int)((n->gen & H_GEN_MASK) << H_INDEX_BITS | (uint32_t)(n - v->node));
}

int node_find(struct fat_vol *v, uint32_t sector, uint32_t off)
{
    for (int i = 0; i < FAT_OPEN_MAX; i++)
        if (v->node[i].refs && !v->node[i].is_root && v->node[i].ent_sector == sector &&
            v->node[i].ent_off == off)
            return i;
    return -1;
}

static struct fat_node *node_free_slot(struct fat_vol *v)
{
    for (int i = 0; i < FAT_OPEN_MAX; i++)
        if (!v->node[i].refs)
            return &v->node[i];
    return NULL;
}

/* A reference to the node for entry e (or the root if e is NULL). */
static int node_open(struct fat_vol *v, const struct fat_dentry *e)
{
    for (int i = 0; i < FAT_OPEN_MAX; i++) {
        struct fat_node *n = &v->node[i];
        if (n->refs &&
            (e ? !n->is_root && n->ent_sector == e->sector && n->ent_off == e->off : n->is_root)) {
            if (n->refs == 0xFFFF)
                return -E_LIMIT;
            n->refs++;
            return node_handle(v, n);
        }
    }
    struct fat_node *n = node_free_slot(v);
    if (!n)
        return -E_LIMIT;
    uint32_t gen = n->gen;
    memset(n, 0, sizeof(*n));
    n->gen = gen;
    n->refs = 1;
    if (!e) {
        n->is_root = 1;
        n->attr = FAT_ATTR_DIR;
        n->first = v->root;
    } else {
        n->ent_sector = e->sector;
        n->ent_off = e->off;
        n->attr = e->raw[DE_ATTR];
        n->first = de_cluster(e->raw);
        n->size = (n->attr & FAT_ATTR_DIR) ? 0 : rd32(e->raw + DE_SIZE_OFF);
    }
    return node_handle(v, n);
}

int fat_close(struct fat_vol *v, int h)
{
    struct fat_node *n = node_get(v, h);
    if (!n)
        return -E_BADHANDLE;
    if (--n->refs == 0)
        n->gen++;
    return 0;
}

/* Writes the node's cluster and size (and, if touch, the write time) to
 * its entry in the cache. An entry that comes out unchanged (a file
 * overwritten in place within the 2 s of its write time) is not marked
 * dirty: writing the same bytes again would cost a commit a directory
 * write and the flush before it. */
static int node_store(struct fat_vol *v, struct fat_node *n, int touch)
{
    if (n->is_root)
        return 0;
    uint8_t *p;
    int s = cache_get(v, n->ent_sector, CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    uint8_t *de = p + n->ent_off, before[DE_SIZE];
    memcpy(before, de, DE_SIZE);
    de_set_cluster(de, n->first);
    wr32(de + DE_SIZE_OFF, (n->attr & FAT_ATTR_DIR) ? 0 : n->size);
    if (touch) {
        uint16_t date, time;
        fat_now(v, &date, &time, NULL);
        wr16(de + DE_MTIME, time);
        wr16(de + DE_MDATE, date);
        wr16(de + DE_ADATE, date);
        de[DE_ATTR] |= FAT_ATTR_ARCHIVE;
        n->attr |= FAT_ATTR_ARCHIVE;
    }
    if (memcmp(before, de, DE_SIZE) != 0)
        cache_dirty(v, s);
    return 0;
}

static uint32_t node_clusters(const struct fat_vol *v, const struct fat_node *n)
{
    return n->size ? (n->size - 1) / v->cluster_bytes + 1 : 0;
}

/* Remembers that file clusters [idx, idx+len) are disk clusters
 * [clu, clu+len), growing a run it continues. */
static void ext_note(struct fat_node *n, uint32_t idx, uint32_t clu, uint32_t len)
{
    for (int i = 0; i < FAT_NODE_EXTENTS; i++) {
        struct fat_ext *e = &n->ext[i];
        if (e->len && idx >= e->idx && idx - e->idx <= e->len && clu - e->clu == idx - e->idx) {
            if (idx + len - e->idx > e->len)
                e->len = idx + len - e->idx;
            return;
        }
    }
    struct fat_ext *e = &n->ext[n->ext_next++ % FAT_NODE_EXTENTS];
    e->idx = idx, e->clu = clu, e->len = len;
}

/*
 * Disk cluster *c of file cluster ci, and *run: how many clusters from
 * there are contiguous on the disk, up to want. Starts from the furthest
 * run known at or before ci and walks the FAT only from there.
 */
static int node_map(struct fat_vol *v, struct fat_node *n, uint32_t ci, uint32_t want, uint32_t *c,
                    uint32_t *run)
{
    uint32_t have = node_clusters(v, n), idx = 0, cur = n->first, k = 0;
    uint32_t run_idx = 0, run_clu = 0;
    if (ci >= have)
        return -E_CORRUPT;
    if (want > have - ci)
        want = have - ci;
    for (int i = 0; i < FAT_NODE_EXTENTS; i++) {
        const struct fat_ext *e = &n->ext[i];
        if (!e->len)
            continue;
        uint32_t end = e->idx + e->len - 1;
        if (ci >= e->idx && ci <= end) {
            idx = end, cur = e->clu + e->len - 1, k = end - ci + 1;
            run_idx = e->idx, run_clu = e->clu;
            *c = e->clu + (ci - e->idx);
            break;
        }
        if (end < ci && end >= idx)
            idx = end, cur = e->clu + e->len - 1;
    }
    if (!clu_valid(v, cur))
        return -E_CORRUPT;
    uint32_t next;
    if (k == 0) {
        run_idx = idx, run_clu = cur;
        while (idx < ci) {
            int rc = chain_next(v, cur, &next);
            if (rc <= 0)
                return rc < 0 ? rc : -E_CORRUPT; /* shorter than the size says */
            if (next != cur + 1) {
                ext_note(n, run_idx, run_clu, idx + 1 - run_idx);
                run_idx = idx + 1, run_clu = next;
            }
            cur = next;
            idx++;
        }
        *c = cur;
        k = 1;
    }
    while (k < want) {
        int rc = chain_next(v, cur, &next);
        if (rc <= 0)
            return rc < 0 ? rc : -E_CORRUPT;
        if (next != cur + 1)
            break;
        cur = next;
        idx++;
        k++;
    }
    ext_note(n, run_idx, run_clu, idx + 1 - run_idx);
    *run = k < want ? k : want;
    return 0;
}

/* n bytes from byte o of sector s on (the sectors are contiguous). */
static int data_read(struct fat_vol *v, uint32_t s, uint32_t o, uint8_t *dst, uint32_t n)
{
    uint8_t *p;
    if (o || n < v->bps) {
        uint32_t take = v->bps - o < n ? v->bps - o : n;
        int slot = cache_get(v, s, CG_READ, FK_DATA, &p);
        if (slot < 0)
            return slot;
        memcpy(dst, p + o, take);
        dst += take, n -= take, s++;
    }
    uint32_t full = n / v->bps;
    if (full) {
        int rc = cache_range(v, s, full, 0);
        if (rc == 0)
            rc = dev_read(v, s, full, dst);
        if (rc < 0)
            return rc;
        dst += full * v->bps, n -= full * v->bps, s += full;
    }
    if (n) {
        int slot = cache_get(v, s, CG_READ, FK_DATA, &p);
        if (slot < 0)
            return slot;
        memcpy(dst, p, n);
    }
    return 0;
}

/* Copies into a partial sector: src, or zeros when src is NULL. keep: the
 * sector holds file bytes outside the part written. */
static int data_partial(struct fat_vol *v, uint32_t s, uint32_t o, const uint8_t *src, uint32_t n,
                        int keep)
{
    uint8_t *p;
    int slot = cache_get(v, s, keep ? CG_READ : CG_FRESH, FK_DATA, &p);
    if (slot < 0)
        return slot;
    if (src)
        memcpy(p + o, src, n);
    else
        memset(p + o, 0, n);
    cache_dirty(v, slot);
    return 0;
}

/* n bytes to byte o of sector s on; fpos is the file position of the
 * first byte and fsize the file's size before this write. */
static int data_write(struct fat_vol *v, uint32_t s, uint32_t o, const uint8_t *src, uint32_t n,
                      uint64_t fpos, uint32_t fsize)
{
    if (o || n < v->bps) {
        uint32_t take = v->bps - o < n ? v->bps - o : n;
        int rc = data_partial(v, s, o, src, take, fpos - o < fsize);
        if (rc < 0)
            return rc;
        src = src ? src + take : NULL;
        n -= take, fpos += take, s++;
    }
    uint32_t full = n / v->bps;
    if (full) {
        int rc = src ? cache_range(v, s, full, 1) : 0;
        if (rc == 0)
            rc = src ? dev_write(v, s, full, src) : dev_zero(v, s, full);
        if (rc < 0)
            return rc;
        src = src ? src + full * v->bps : NULL;
        n -= full * v->bps, fpos += full * v->bps, s += full;
    }
    if (n)
        return data_partial(v, s, 0, src, n, fpos < fsize);
    return 0;
}

/*
 * Writes len bytes at off (off <= size; src NULL writes zeros), growing
 * the chain as it goes. New clusters get their data first and are linked
 * after, so a failed device write leaves nothing half-allocated. Returns
 * bytes written, or an error if none were.
 */
static long node_write(struct fat_vol *v, struct fat_node *n, uint32_t off, const uint8_t *src,
                       uint32_t len)
{
    uint64_t pos = off, end = (uint64_t)off + len;
    uint32_t cb = v->cluster_bytes;
    int rc = 0;
    while (pos < end) {
        uint32_t have = node_clusters(v, n);
        uint32_t ci = (uint32_t)(pos / cb), in = (uint32_t)(pos % cb);
        const uint8_t *from = src ? src + (pos - off) : NULL;
        uint64_t left = end - pos;
        if (ci < have) {
            uint32_t c = 0, run = 0;
            uint64_t want = (in + left + cb - 1) / cb;
            rc = node_map(v, n, ci, want > have ? have : (uint32_t)want, &c, &run);
            if (rc < 0)
                break;
            uint64_t bytes = (uint64_t)run * cb - in;
            if (bytes > left)
                bytes = left;
            rc = data_write(v, clu_sector(v, c) + in / v->bps, in % v->bps, from, (uint32_t)bytes,
                            pos, n->size);
            if (rc < 0)
                break;
            pos += bytes;
        } else {
            uint32_t tail = 0, first, got, one;
            if (have) {
                rc = node_map(v, n, have - 1, 1, &tail, &one);
                if (rc < 0)
                    break;
            }
            rc = alloc_find(v, tail + 1, (uint32_t)((left + cb - 1) / cb), &first, &got);
            if (rc < 0)
                break;
            uint64_t bytes = (uint64_t)got * cb;
            if (bytes > left)
                bytes = left;
            rc = data_write(v, clu_sector(v, first), 0, from, (uint32_t)bytes, pos, n->size);
            if (rc == 0)
                rc = chain_append(v, tail, first, got);
            if (rc < 0)
                break;
            if (!tail)
                n->first = first;
            ext_note(n, have, first, got);
            pos += bytes;
        }
        if (pos > n->size)
            n->size = (uint32_t)pos;
    }
    int rc2 = node_store(v, n, 1);
    if (pos > off)
        return rc2 < 0 ? rc2 : (long)(pos - off);
    return rc < 0 ? rc : rc2;
}

long fat_read(struct fat_vol *v, int h, uint64_t off, void *buf, size_t len)
{
    struct fat_node *n = node_get(v, h);
    if (!n)
        return -E_BADHANDLE;
    if (n->attr & FAT_ATTR_DIR)
        return -E_ISDIR;
    if (off >= n->size || len == 0)
        return 0;
    if (len > n->size - off)
        len = (size_t)(n->size - off);
    uint32_t cb = v->cluster_bytes, have = node_clusters(v, n);
    uint8_t *dst = buf;
    uint64_t pos = off, end = off + len;
    while (pos < end) {
        uint32_t ci = (uint32_t)(pos / cb), in = (uint32_t)(pos % cb), c = 0, run = 0;
        uint64_t want = (in + (end - pos) + cb - 1) / cb, bytes = 0;
        int rc = node_map(v, n, ci, want > have ? have : (uint32_t)want, &c, &run);
        if (rc == 0) {
            bytes = (uint64_t)run * cb - in;
            if (bytes > end - pos)
                bytes = end - pos;
            rc = data_read(v, clu_sector(v, c) + in / v->bps, in % v->bps, dst + (pos - off),
                           (uint32_t)bytes);
        }
        if (rc < 0)
            return pos > off ? (long)(pos - off) : rc;
        pos += bytes;
    }
    return (long)len;
}

long fat_write(struct fat_vol *v, int h, uint64_t off, const void *buf, size_t len)
{
    struct fat_node *n = node_get(v, h);
    if (!n)
        return -E_BADHANDLE;
    if (n->attr & FAT_ATTR_DIR)
        return -E_ISDIR;
    if (n->attr & FAT_ATTR_RDONLY)
        return -E_PERM;
    if (len == 0)
        return 0;
    if (off >= FAT_FILE_MAX)
        return -E_RANGE;
    if (len > FAT_FILE_MAX - off)
        len = (size_t)(FAT_FILE_MAX - off);
    int rc = begin_op(v);
    if (rc < 0)
        return rc;
    if (off > n->size) {
        uint32_t gap = (uint32_t)off - n->size;
        long w = node_write(v, n, n->size, NULL, gap);
        if (w < 0)
            return w;
        if ((uint32_t)w < gap)
            return -E_NOSPC;
    }
    return node_write(v, n, (uint32_t)off, buf, (uint32_t)len);
}

/* Shrinks to size: the entry first, made durable, then the clusters are
 * freed, so a cluster is reused only once no durable entry points at it. */
static int node_shrink(struct fat_vol *v, struct fat_node *n, uint32_t size)
{
    uint32_t keep = size ? (size - 1) / v->cluster_bytes + 1 : 0, cut = 0, rest = n->first, one;
    if (keep) {
        int rc = node_map(v, n, keep - 1, 1, &cut, &one);
        if (rc < 0)
            return rc;
    }
    n->size = size;
    if (!keep)
        n->first = 0;
    memset(n->ext, 0, sizeof(n->ext)); /* the chain is about to change */
    n->ext_next = 0;
    int rc = node_store(v, n, 1);
    if (rc == 0)
        rc = cache_commit(v);
    if (rc < 0) {
        v->needs_check = 1; /* the old chain stays allocated until a repair */
        return rc;
    }
    if (keep) {
        uint32_t next;
        rc = chain_next(v, cut, &next);
        if (rc <= 0)
            return rc; /* nothing after it (or a broken link, left alone) */
        rest = next;
        rc = fat_set(v, cut, FAT_EOC);
        if (rc < 0)
            return rc;
    }
    return rest ? chain_free(v, rest) : 0;
}

int fat_truncate(struct fat_vol *v, int h, uint64_t size)
{
    struct fat_node *n = node_get(v, h);
    if (!n)
        return -E_BADHANDLE;
    if (n->attr & FAT_ATTR_DIR)
        return -E_ISDIR;
    if (n->attr & FAT_ATTR_RDONLY)
        return -E_PERM;
    if (size > FAT_FILE_MAX)
        return -E_RANGE;
    int rc = begin_op(v);
    if (rc < 0)
        return rc;
    uint32_t old = n->size;
    if (size > old) {
        long w = node_write(v, n, old, NULL, (uint32_t)size - old);
        if (w >= 0 && (uint32_t)w == size - old)
            return 0;
        int err = w < 0 ? (int)w : -E_NOSPC;
        if (n->size > old)
            node_shrink(v, n, old); /* give back what the failed extension took */
        return err;
    }
    if (size < old)
        return node_shrink(v, n, (uint32_t)size);
    return node_store(v, n, 1);
}

static void stat_from_entry(const uint8_t *de, struct fat_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->attr = de[DE_ATTR];
    st->cluster = de_cluster(de);
    st->size = de_is_dir(de) ? 0 : rd32(de + DE_SIZE_OFF);
    st->mtime = fat_unix_time(rd16(de + DE_MDATE), rd16(de + DE_MTIME));
    st->ctime = fat_unix_time(rd16(de + DE_CDATE), rd16(de + DE_CTIME));
    st->atime = fat_unix_time(rd16(de + DE_ADATE), 0);
}

static void stat_root(struct fat_vol *v, struct fat_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->attr = FAT_ATTR_DIR;
    st->cluster = v->root;
    st->mtime = st->ctime = st->atime = fat_unix_time(0x21, 0); /* 1980-01-01 */
}

int fat_stat(struct fat_vol *v, int h, struct fat_stat *st)
{
    struct fat_node *n = node_get(v, h);
    if (!n)
        return -E_BADHANDLE;
    if (n->is_root) {
        stat_root(v, st);
        return 0;
    }
    uint8_t *p;
    int s = cache_get(v, n->ent_sector, CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    stat_from_entry(p + n->ent_off, st);
    st->size = (n->attr & FAT_ATTR_DIR) ? 0 : n->size; /* the node is ahead of the entry */
    st->cluster = n->first;
    return 0;
}

int fat_stat_path(struct fat_vol *v, const char *path, struct fat_stat *st)
{
    if (!v->mounted)
        return -E_INVAL;
    struct fat_path p;
    int rc = path_resolve(v, path, 0, &p);
    if (rc < 0)
        return rc;
    if (p.is_root) {
        stat_root(v, st);
        return 0;
    }
    if (!p.found)
        return -E_NOENT;
    int i = node_find(v, p.e.sector, p.e.off);
    stat_from_entry(p.e.raw, st);
    if (i >= 0 && !(v->node[i].attr & FAT_ATTR_DIR))
        st->size = v->node[i].size;
    return 0;
}

int fat_open(struct fat_vol *v, const char *path, unsigned flags)
{
    if (!v->mounted)
        return -E_INVAL;
    if (flags & ~O_ALL)
        return -E_INVAL;
    struct fat_path p;
    int rc = path_resolve(v, path, 0, &p);
    if (rc < 0)
        return rc;
    int creating = (flags & FAT_O_CREATE) != 0;
    if (p.found && creating && (flags & FAT_O_EXCL))
        return -E_EXIST;
    if (p.is_root || (p.found && de_is_dir(p.e.raw))) {
        if (flags & (FAT_O_CREATE | FAT_O_TRUNC))
            return -E_ISDIR;
        if (!p.is_root && !clu_valid(v, de_cluster(p.e.raw)))
            return -E_CORRUPT;
        return node_open(v, p.is_root ? NULL : &p.e);
    }
    if (flags & FAT_O_DIR)
        return p.found ? -E_NOTDIR : -E_NOENT;
    if (p.found) {
        int h = node_open(v, &p.e);
        if (h < 0 || !(flags & FAT_O_TRUNC))
            return h;
        struct fat_node *n = node_get(v, h);
        if (n->size == 0 && n->first == 0)
            return h;
        rc = n->attr & FAT_ATTR_RDONLY ? -E_PERM : begin_op(v);
        if (rc == 0)
            rc = node_shrink(v, n, 0);
        if (rc < 0) {
            fat_close(v, h);
            return rc;
        }
        return h;
    }
    if (!creating)
        return -E_NOENT;
    if (p.dir_only)
        return -E_ISDIR; /* "name/" is never a new file */
    if (!node_free_slot(v))
        return -E_LIMIT;
    rc = begin_op(v);
    if (rc < 0)
        return rc;
    uint8_t proto[DE_SIZE];
    uint16_t date, time;
    uint8_t tenth;
    memset(proto, 0, sizeof(proto));
    fat_now(v, &date, &time, &tenth);
    proto[DE_ATTR] = FAT_ATTR_ARCHIVE;
    proto[DE_CTIME_MS] = tenth;
    wr16(proto + DE_CTIME, time);
    wr16(proto + DE_CDATE, date);
    wr16(proto + DE_ADATE, date);
    wr16(proto + DE_MTIME, time);
    wr16(proto + DE_MDATE, date);
    struct fat_dentry e;
    rc = dir_add(v, p.parent, v->name_a, p.name_len, proto, &e);
    if (rc < 0)
        return rc;
    return node_open(v, &e);
}

int fat_readdir(struct fat_vol *v, int h, uint32_t *pos, struct fat_dirent *out)
{
    struct fat_node *n = node_get(v, h);
    if (!n)
        return -E_BADHANDLE;
    if (!(n->attr & FAT_ATTR_DIR))
        return -E_NOTDIR;
    struct fat_diter it;
    struct fat_dentry e;
    diter_start(&it, n->first, *pos);
    for (;;) {
        int rc = dir_next(v, &it, &e, v->name_b);
        if (rc <= 0)
            return rc;
        if (de_is_dot(e.raw))
            continue;
        stat_from_entry(e.raw, &out->st);
        name_to_utf8(v->name_b, e.name_len, out->name, sizeof(out->name));
        uint32_t sn = sfn_to_name(e.raw, 0, v->name_c);
        name_to_utf8(v->name_c, sn, out->short_name, sizeof(out->short_name));
        int i = node_find(v, e.sector, e.off);
        if (i >= 0 && !(v->node[i].attr & FAT_ATTR_DIR))
            out->st.size = v->node[i].size;
        *pos = e.index + 1;
        return 1;
    }
}
