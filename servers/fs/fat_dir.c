/*
 * Directories of the FAT32 core: walking entries (bounded by the FAT limit
 * of 65536 per directory), assembling long names with their checksums,
 * lookups, adding entries (short-name generation, growing the directory)
 * and removing them, and resolving absolute paths.
 */
#include "fat_priv.h"

void diter_start(struct fat_diter *it, uint32_t first, uint32_t index)
{
    it->first = first;
    it->cluster = first;
    it->cidx = 0;
    it->index = index;
}

int diter_loc(struct fat_vol *v, struct fat_diter *it, uint32_t *sector, uint32_t *off)
{
    if (it->index >= DIR_MAX_ENTRIES)
        return 0;
    uint32_t byte = it->index * DE_SIZE;
    uint32_t want = byte / v->cluster_bytes;
    if (want < it->cidx) {
        it->cluster = it->first;
        it->cidx = 0;
    }
    if (!clu_valid(v, it->cluster))
        return -E_CORRUPT;
    while (it->cidx < want) {
        uint32_t next;
        int rc = chain_next(v, it->cluster, &next);
        if (rc <= 0)
            return rc; /* the end of the chain is the end of the directory */
        it->cluster = next;
        it->cidx++;
    }
    uint32_t in = byte % v->cluster_bytes;
    *sector = clu_sector(v, it->cluster) + in / v->bps;
    *off = in % v->bps;
    return 1;
}

/* Copies entry it->index out of the cache: 1, 0 past the chain, or error. */
static int diter_read(struct fat_vol *v, struct fat_diter *it, uint8_t *raw, uint32_t *sector,
                      uint32_t *off)
{
    int rc = diter_loc(v, it, sector, off);
    if (rc <= 0)
        return rc;
    uint8_t *p;
    int s = cache_get(v, *sector, CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    memcpy(raw, p + *off, DE_SIZE);
    return 1;
}

/* Writes entry it->index. */
static int diter_write(struct fat_vol *v, struct fat_diter *it, const uint8_t *raw)
{
    uint32_t sector, off;
    int rc = diter_loc(v, it, &sector, &off);
    if (rc == 0)
        return -E_CORRUPT; /* the slot was there a moment ago */
    if (rc < 0)
        return rc;
    uint8_t *p;
    int s = cache_get(v, sector, CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    memcpy(p + off, raw, DE_SIZE);
    cache_dirty(v, s);
    return 0;
}

/* The 13 UTF-16 units of a long-name slot, at their byte offsets. */
static const uint8_t lfn_pos[LFN_CHARS] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

int dir_next(struct fat_vol *v, struct fat_diter *it, struct fat_dentry *e, uint16_t *name)
{
    uint32_t lfn_n = 0, lfn_next = 0;
    uint8_t chk = 0;
    uint8_t raw[DE_SIZE];
    for (;;) {
        uint32_t sector, off;
        int rc = diter_read(v, it, raw, &sector, &off);
        if (rc <= 0)
            return rc;
        if (raw[0] == DE_END)
            return 0; /* it->index stays on the end marker */
        uint32_t idx = it->index++;
        if (raw[0] == DE_FREE) {
            lfn_n = 0;
            continue;
        }
        if ((raw[DE_ATTR] & ATTR_LFN_MASK) == ATTR_LFN) {
            uint32_t ord = raw[0] & LFN_ORD_MASK;
            if (raw[0] & LFN_LAST) {
                if (ord < 1 || ord > LFN_MAX_SLOTS) {
                    lfn_n = 0;
                    continue;
                }
                lfn_n = lfn_next = ord;
                chk = raw[LFN_CHKSUM];
            } else if (lfn_n && ord >= 1 && ord + 1 == lfn_next && raw[LFN_CHKSUM] == chk) {
                lfn_next = ord;
            } else {
                lfn_n = 0;
                continue;
            }
            for (uint32_t j = 0; j < LFN_CHARS; j++) {
                uint32_t pos = (ord - 1) * LFN_CHARS + j;
                if (pos <= FAT_NAME_MAX)
                    name[pos] = rd16(raw + lfn_pos[j]);
            }
            continue;
        }
        if (raw[DE_ATTR] & ATTR_VOLUME) {
            lfn_n = 0;
            continue;
        }
        memcpy(e->raw, raw, DE_SIZE);
        e->sector = sector;
        e->off = off;
        e->index = idx;
        e->has_lfn = 0;
        if (lfn_n && lfn_next == 1 && sfn_checksum(raw) == chk) {
            uint32_t cap = lfn_n * LFN_CHARS, len = 0;
            while (len < cap && len <= FAT_NAME_MAX && name[len] != 0)
                len++;
            if (len >= 1 && len <= FAT_NAME_MAX) {
                e->has_lfn = 1;
                e->name_len = len;
                e->first_index = idx - lfn_n;
                return 1;
            }
        }
        e->first_index = idx;
        e->name_len = sfn_to_name(raw, raw[DE_NTRES], name);
        return 1;
    }
}

int dir_lookup(struct fat_vol *v, uint32_t dir, const uint16_t *name, uint32_t n,
               struct fat_dentry *e)
{
    struct fat_diter it;
    int rc;
    diter_start(&it, dir, 0);
    while ((rc = dir_next(v, &it, e, v->name_b)) > 0) {
        if (de_is_dot(e->raw))
            continue;
        if (name_eq(name, n, v->name_b, e->name_len))
            return 1;
        if (e->has_lfn) {
            uint32_t sn = sfn_to_name(e->raw, e->raw[DE_NTRES], v->name_c);
            if (name_eq(name, n, v->name_c, sn))
                return 1;
        }
    }
    return rc;
}

int dir_init_cluster(struct fat_vol *v, uint32_t c, uint32_t parent, const uint8_t proto[DE_SIZE])
{
    uint32_t sector = clu_sector(v, c), skip = 0;
    if (parent != 0xFFFFFFFFu) {
        uint8_t *p;
        int s = cache_get(v, sector, CG_FRESH, FK_DIR, &p);
        if (s < 0)
            return s;
        for (int i = 0; i < 2; i++) {
            uint8_t *d = p + i * DE_SIZE;
            memcpy(d, proto, DE_SIZE);
            memset(d, ' ', 11);
            d[0] = '.';
            if (i)
                d[1] = '.';
            d[DE_ATTR] = FAT_ATTR_DIR;
            d[DE_NTRES] = 0;
            wr32(d + DE_SIZE_OFF, 0);
            /* ".." of a directory in the root says 0, not the root's cluster */
            de_set_cluster(d, i == 0 ? c : parent == v->root ? 0 : parent);
        }
        int rc = dev_write(v, sector, 1, p);
        if (rc < 0) {
            v->slot[s].state = 0;
            return rc;
        }
        skip = 1;
    }
    int rc = skip < v->spc ? dev_zero(v, sector + skip, v->spc - skip) : 0;
    if (rc == 0)
        v->need_barrier = 1;
    return rc;
}

/* Slot counts for a free run: the one-entry case and the long-name case. */
struct run {
    uint32_t need, start; /* start = UINT32_MAX until found */
};

int dir_add(struct fat_vol *v, uint32_t dir, const uint16_t *name, uint32_t n,
            const uint8_t proto[DE_SIZE], struct fat_dentry *e)
{
    uint8_t sfn[11], basis[11], ntres = 0;
    int lossy = 0;
    int pure = sfn_pure(name, n, sfn, &ntres);
    if (pure)
        memcpy(basis, sfn, 11);
    else
        sfn_basis(name, n, basis, &lossy);
    uint32_t lfn_slots = (n + LFN_CHARS - 1) / LFN_CHARS;
    struct run runs[2] = {{1, UINT32_MAX}, {lfn_slots + 1, UINT32_MAX}};
    uint32_t cur_start = 0, cur_len = 0, total = 0;
    int ended = 0, exact_taken = 0;
    memset(v->tails, 0, sizeof(v->tails));

    /* One pass: free runs, the names our basis could collide with. */
    struct fat_diter it;
    diter_start(&it, dir, 0);
    for (;;) {
        uint32_t sector, off;
        uint8_t raw[DE_SIZE];
        int rc = diter_loc(v, &it, &sector, &off);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (!ended) {
            rc = diter_read(v, &it, raw, &sector, &off);
            if (rc < 0)
                return rc;
            ended = raw[0] == DE_END;
        }
        if (ended || raw[0] == DE_FREE) {
            if (cur_len++ == 0)
                cur_start = it.index;
            for (int k = 0; k < 2; k++)
                if (runs[k].start == UINT32_MAX && cur_len >= runs[k].need)
                    runs[k].start = cur_start + cur_len - runs[k].need;
            if (ended && runs[0].start != UINT32_MAX && runs[1].start != UINT32_MAX) {
                total = DIR_MAX_ENTRIES; /* not needed: no growth */
                break;
            }
        } else {
            cur_len = 0;
            if ((raw[DE_ATTR] & ATTR_LFN_MASK) != ATTR_LFN && !(raw[DE_ATTR] & ATTR_VOLUME)) {
                if (memcmp(raw, basis, 11) == 0)
                    exact_taken = 1;
                uint32_t num = sfn_tail_num(basis, raw);
                if (num && num < sizeof(v->tails) * 8)
                    v->tails[num / 8] |= (uint8_t)(1u << (num % 8));
            }
        }
        it.index++;
        total = it.index;
    }

    /* The 8.3 name and the number of slots. */
    uint32_t slots = 1;
    if (!pure || exact_taken) {
        slots = lfn_slots + 1;
        ntres = 0;
        if (!pure && !lossy && !exact_taken) {
            memcpy(sfn, basis, 11);
        } else {
            uint32_t num = 1;
            while (num < sizeof(v->tails) * 8 && (v->tails[num / 8] & (1u << (num % 8))))
                num++;
            if (num >= sizeof(v->tails) * 8 || !sfn_tail(basis, num, sfn))
                return -E_LIMIT; /* thousands of names share this basis */
        }
    }
    uint32_t start = runs[slots == 1 ? 0 : 1].start;

    if (start == UINT32_MAX) {
        /* Grow: the free run at the end continues into new clusters. */
        uint32_t tail_free = cur_len && cur_start + cur_len == total ? cur_len : 0;
        uint32_t per = v->cluster_bytes / DE_SIZE;
        uint32_t add = (slots - tail_free + per - 1) / per;
        if (total + add * per > DIR_MAX_ENTRIES)
            return -E_NOSPC; /* the directory is full */
        if (v->free_count < add)
            return -E_NOSPC;
        start = total - tail_free;
        uint32_t last, sector, off;
        diter_start(&it, dir, total - 1);
        int rc = diter_loc(v, &it, &sector, &off);
        if (rc <= 0)
            return rc < 0 ? rc : -E_CORRUPT;
        last = it.cluster;
        for (uint32_t i = 0; i < add; i++) {
            uint32_t c, got;
            rc = alloc_find(v, last + 1, 1, &c, &got);
            if (rc == 0)
                rc = dir_init_cluster(v, c, 0xFFFFFFFFu, NULL);
            if (rc == 0)
                rc = chain_append(v, last, c, 1);
            if (rc < 0)
                return rc;
            last = c;
        }
    }

    /* Long-name slots, last part first, then the short entry. */
    uint8_t slot[DE_SIZE];
    uint8_t chk = sfn_checksum(sfn);
    diter_start(&it, dir, start);
    for (uint32_t k = 0; k + 1 < slots; k++) {
        uint32_t ord = lfn_slots - k;
        memset(slot, 0, DE_SIZE);
        slot[0] = (uint8_t)(ord | (k == 0 ? LFN_LAST : 0));
        slot[DE_ATTR] = ATTR_LFN;
        slot[LFN_CHKSUM] = chk;
        for (uint32_t j = 0; j < LFN_CHARS; j++) {
            uint32_t pos = (ord - 1) * LFN_CHARS + j;
            wr16(slot + lfn_pos[j], pos < n ? name[pos] : pos == n ? 0 : 0xFFFF);
        }
        int rc = diter_write(v, &it, slot);
        if (rc < 0)
            return rc;
        it.index++;
    }
    memcpy(slot, proto, DE_SIZE);
    memcpy(slot, sfn, 11);
    slot[DE_NTRES] = ntres;
    int rc = diter_write(v, &it, slot);
    if (rc < 0)
        return rc;
    rc = diter_loc(v, &it, &e->sector, &e->off);
    if (rc <= 0)
        return rc < 0 ? rc : -E_CORRUPT;
    memcpy(e->raw, slot, DE_SIZE);
    e->index = it.index;
    e->first_index = start;
    e->has_lfn = slots > 1;
    e->name_len = n;
    return 0;
}

int dir_remove(struct fat_vol *v, uint32_t dir, const struct fat_dentry *e)
{
    struct fat_diter it;
    diter_start(&it, dir, e->first_index);
    for (; it.index <= e->index; it.index++) {
        uint32_t sector, off;
        int rc = diter_loc(v, &it, &sector, &off);
        if (rc <= 0)
            return rc < 0 ? rc : -E_CORRUPT;
        uint8_t *p;
        int s = cache_get(v, sector, CG_READ, FK_DIR, &p);
        if (s < 0)
            return s;
        p[off] = DE_FREE;
        cache_dirty(v, s);
    }
    return 0;
}

int dir_empty(struct fat_vol *v, uint32_t dir)
{
    struct fat_diter it;
    struct fat_dentry e;
    int rc;
    diter_start(&it, dir, 0);
    while ((rc = dir_next(v, &it, &e, v->name_c)) > 0)
        if (!de_is_dot(e.raw))
            return 0;
    return rc < 0 ? rc : 1;
}

int path_resolve(struct fat_vol *v, const char *path, uint32_t avoid, struct fat_path *p)
{
    size_t len = strnlen(path, FAT_PATH_MAX);
    if (len == FAT_PATH_MAX)
        return -E_NAMETOOLONG;
    if (path[0] != '/')
        return -E_INVAL; /* absolute paths only */
    uint32_t dir = v->root;
    memset(p, 0, sizeof(*p));
    size_t i = 0;
    for (;;) {
        while (i < len && path[i] == '/')
            i++;
        if (i == len)
            break;
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        uint32_t n;
        int rc = name_from_utf8(path + i, j - i, v->name_a, &n);
        if (rc < 0)
            return rc;
        i = j;
        while (i < len && path[i] == '/')
            i++;
        p->dir_only = i > j;
        if (dir == avoid)
            p->through = 1;
        rc = dir_lookup(v, dir, v->name_a, n, &p->e);
        if (rc < 0)
            return rc;
        if (i == len) {
            p->parent = dir;
            p->found = rc;
            p->name_len = n;
            return rc && p->dir_only && !de_is_dir(p->e.raw) ? -E_NOTDIR : 0;
        }
        if (rc == 0)
            return -E_NOENT;
        if (!de_is_dir(p->e.raw))
            return -E_NOTDIR;
        dir = de_cluster(p->e.raw);
        if (!clu_valid(v, dir))
            return -E_CORRUPT;
    }
    p->is_root = 1;
    p->found = 1;
    p->parent = v->root;
    return 0;
}
