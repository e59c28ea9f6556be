/*
 * FAT32 volume: boot-sector validation and mount, the FAT table (entries,
 * allocation, free count, FSInfo), the dirty/clean marks and sync. Every
 * number read from the disk is range-checked before it is used.
 */
#include "fat_priv.h"

/* clang-format off */
#define BPB_BPS        0x0B
#define BPB_SPC        0x0D
#define BPB_RESERVED   0x0E
#define BPB_NFATS      0x10
#define BPB_ROOTENT    0x11
#define BPB_TOTAL16    0x13
#define BPB_MEDIA      0x15
#define BPB_FATSZ16    0x16
#define BPB_TOTAL32    0x20
#define BPB_FATSZ32    0x24
#define BPB_VERSION    0x2A
#define BPB_ROOTCLUS   0x2C
#define BPB_FSINFO     0x30
#define BPB_FLAGS      0x41 /* BS_Reserved1: Linux keeps its dirty flag here */
#define BPB_SIG        0x1FE
#define FSI_LEAD       0
#define FSI_STRUC      484
#define FSI_FREE       488
#define FSI_NEXT       492
#define FSI_TRAIL      508
#define FSI_LEAD_SIG   0x41615252u
#define FSI_STRUC_SIG  0x61417272u
#define FSI_TRAIL_SIG  0xAA550000u
#define EPOCH_1980     315532800 /* 1980-01-01 in seconds since 1970 */
/* clang-format on */

/* ---- the FAT table ---- */

/* Slot and pointer of entry c in FAT copy 1 (entries 0 and 1 included). */
static int fat_entry(struct fat_vol *v, uint32_t c, int how, uint8_t **p)
{
    uint32_t per = v->bps / 4;
    if (c / per >= v->fat_sectors)
        return -E_CORRUPT;
    int s = cache_get(v, v->fat_start + c / per, how, FK_FAT, p);
    if (s >= 0)
        *p += (c % per) * 4;
    return s;
}

int fat_get(struct fat_vol *v, uint32_t c, uint32_t *val)
{
    uint8_t *p;
    if (c - 2 >= v->clusters && c >= 2)
        return -E_CORRUPT;
    int s = fat_entry(v, c, CG_READ, &p);
    if (s < 0)
        return s;
    *val = rd32(p) & FAT_MASK;
    return 0;
}

int fat_set(struct fat_vol *v, uint32_t c, uint32_t val)
{
    uint8_t *p;
    if (!clu_valid(v, c))
        return -E_CORRUPT;
    int s = fat_entry(v, c, CG_READ, &p);
    if (s < 0)
        return s;
    uint32_t old = rd32(p);
    val &= FAT_MASK;
    if ((old & FAT_MASK) == 0 && val != 0 && v->free_count)
        v->free_count--;
    else if ((old & FAT_MASK) != 0 && val == 0)
        v->free_count++;
    wr32(p, (old & ~FAT_MASK) | val);
    cache_dirty(v, s);
    return 0;
}

int chain_next(struct fat_vol *v, uint32_t c, uint32_t *next)
{
    uint32_t val;
    int rc = fat_get(v, c, &val);
    if (rc < 0)
        return rc;
    if (val >= FAT_EOC_MIN)
        return 0;
    if (!clu_valid(v, val))
        return -E_CORRUPT; /* free, bad, reserved or out of range */
    *next = val;
    return 1;
}

int alloc_find(struct fat_vol *v, uint32_t prefer, uint32_t want, uint32_t *first, uint32_t *n)
{
    if (v->free_count == 0)
        return -E_NOSPC;
    uint32_t c = clu_valid(v, prefer) ? prefer : clu_valid(v, v->next_free) ? v->next_free : 2;
    uint32_t val = 1;
    for (uint32_t i = 0; i < v->clusters; i++) {
        int rc = fat_get(v, c, &val);
        if (rc < 0)
            return rc;
        if (val == 0)
            break;
        if (++c - 2 >= v->clusters)
            c = 2;
    }
    if (val != 0) {
        v->free_count = 0; /* the count was wrong; the FAT is the truth */
        return -E_NOSPC;
    }
    uint32_t k = 1;
    while (k < want && clu_valid(v, c + k)) {
        int rc = fat_get(v, c + k, &val);
        if (rc < 0)
            return rc;
        if (val != 0)
            break;
        k++;
    }
    *first = c;
    *n = k;
    v->next_free = clu_valid(v, c + k) ? c + k : 2;
    return 0;
}

int chain_append(struct fat_vol *v, uint32_t tail, uint32_t first, uint32_t n)
{
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i + 1 < n; i++)
        rc = fat_set(v, first + i, first + i + 1);
    if (rc == 0)
        rc = fat_set(v, first + n - 1, FAT_EOC);
    if (rc == 0 && tail)
        rc = fat_set(v, tail, first);
    return rc;
}

int chain_free(struct fat_vol *v, uint32_t c)
{
    /* A loop ends by itself: the second visit finds the entry already 0. */
    for (uint32_t i = 0; i < v->clusters && clu_valid(v, c); i++) {
        uint32_t next;
        int rc = fat_get(v, c, &next);
        if (rc == 0)
            rc = fat_set(v, c, 0);
        if (rc < 0)
            return rc;
        c = next;
    }
    return 0;
}

/* ---- dirty and clean marks ---- */

/*
 * The dirty mark is FAT[1]'s clean-shutdown bit, cleared in copy 1 first:
 * a mount reads copy 1, so once anything else may change on the device
 * the next mount will repair. Precondition: no dirty cache slots (the
 * volume was clean, so everything was committed).
 */
static int mark_dirty(struct fat_vol *v)
{
    uint8_t *p;
    int s = fat_entry(v, 1, CG_READ, &p);
    if (s < 0)
        return s;
    wr32(p, rd32(p) & ~FAT1_CLEAN);
    p -= 4; /* the sector holding entries 0 and 1 */
    int rc = dev_write(v, v->fat_start, 1, p);
    if (rc == 0)
        rc = dev_flush(v);
    for (uint32_t copy = 1; rc == 0 && copy < v->nfats; copy++)
        rc = dev_write(v, v->fat_start + copy * v->fat_sectors, 1, p);
    if (rc == 0)
        rc = dev_flush(v);
    if (rc < 0)
        return rc;
    v->slot[s].state = 1;
    v->ondisk_dirty = 1;
    return 0;
}

int begin_op(struct fat_vol *v)
{
    if (!v->mounted)
        return -E_INVAL;
    if (v->rdonly)
        return -E_PERM;
    return v->ondisk_dirty ? 0 : mark_dirty(v);
}

/*
 * Clean: everything committed, then FSInfo with the exact count (flushed),
 * then the clean bit in the other FAT copies and last in copy 1, each step
 * flushed, so the device never shows "clean" over a stale count or over FAT
 * copies that differ.
 */
int fat_mark_clean(struct fat_vol *v)
{
    if (!v->mounted)
        return -E_INVAL;
    if (v->rdonly)
        return 0;
    int rc = cache_commit(v);
    if (rc < 0 || !v->ondisk_dirty || v->needs_check)
        return rc;
    uint8_t *p;
    if (v->fsinfo) {
        int s = cache_get(v, v->fsinfo, CG_READ, FK_DIR, &p);
        if (s < 0)
            return s;
        wr32(p + FSI_FREE, v->free_count);
        wr32(p + FSI_NEXT, v->next_free);
        rc = dev_write(v, v->fsinfo, 1, p);
        if (rc == 0)
            rc = dev_flush(v);
        if (rc < 0)
            return rc;
    }
    int s = fat_entry(v, 1, CG_READ, &p);
    if (s < 0)
        return s;
    wr32(p, rd32(p) | FAT1_CLEAN);
    p -= 4;
    for (uint32_t copy = v->nfats; rc == 0 && copy-- > 0;) {
        rc = dev_write(v, v->fat_start + copy * v->fat_sectors, 1, p);
        if (rc == 0)
            rc = dev_flush(v);
    }
    if (rc < 0)
        return rc;
    if (v->boot_dirty) {
        s = cache_get(v, 0, CG_READ, FK_DIR, &p);
        if (s < 0)
            return s;
        p[BPB_FLAGS] &= (uint8_t)~BOOT_DIRTY;
        rc = dev_write(v, 0, 1, p);
        if (rc == 0)
            rc = dev_flush(v);
        if (rc < 0)
            return rc;
        v->boot_dirty = 0;
    }
    v->ondisk_dirty = 0;
    return 0;
}

int fat_sync(struct fat_vol *v)
{
    if (!v->mounted)
        return -E_INVAL;
    return v->rdonly ? 0 : cache_commit(v);
}

/* ---- time ---- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fat_now(struct fat_vol *v, uint16_t *date, uint16_t *time, uint8_t *tenth)
{
    int64_t t = v->now ? v->now(v->now_ctx) : EPOCH_1980;
    if (t < EPOCH_1980)
        t = EPOCH_1980;
    int64_t days = t / 86400, secs = t % 86400;
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    if (y > 2107) {
        y = 2107, m = 12, d = 31;
        secs = 86399;
    }
    *date = (uint16_t)((y - 1980) << 9 | m << 5 | d);
    *time = (uint16_t)((secs / 3600) << 11 | (secs / 60 % 60) << 5 | (secs % 60) / 2);
    if (tenth)
        *tenth = (uint8_t)((secs % 2) * 100);
}

int64_t fat_unix_time(uint16_t date, uint16_t time)
{
    unsigned m = (date >> 5) & 15, d = date & 31;
    if (m < 1 || m > 12)
        m = 1;
    if (d < 1)
        d = 1;
    int64_t days = days_from_civil(1980 + (date >> 9), m, d);
    return days * 86400 + (time >> 11) * 3600 + ((time >> 5) & 63) * 60 + (time & 31) * 2;
}

/* ---- mount ---- */

static int is_pow2(uint32_t x)
{
    return x && !(x & (x - 1));
}

/* The boot sector's promises, each checked against the device. */
static int parse_boot(struct fat_vol *v, const uint8_t *b)
{
    uint32_t bps = rd16(b + BPB_BPS), spc = b[BPB_SPC];
    uint32_t reserved = rd16(b + BPB_RESERVED), nfats = b[BPB_NFATS];
    uint32_t total = rd16(b + BPB_TOTAL16) ? rd16(b + BPB_TOTAL16) : rd32(b + BPB_TOTAL32);
    uint32_t fatsz = rd32(b + BPB_FATSZ32), media = b[BPB_MEDIA];
    if (b[BPB_SIG] != 0x55 || b[BPB_SIG + 1] != 0xAA)
        return -E_CORRUPT;
    if (bps < 512 || bps > FAT_SECTOR_MAX || !is_pow2(bps) || !is_pow2(spc) || spc > 128)
        return -E_CORRUPT;
    if (reserved < 1 || (nfats != 1 && nfats != 2) || rd16(b + BPB_ROOTENT) != 0)
        return -E_CORRUPT;
    if (rd16(b + BPB_FATSZ16) != 0 || fatsz == 0 || rd16(b + BPB_VERSION) != 0)
        return -E_CORRUPT; /* not FAT32, or a FAT32 version we do not know */
    if (media != 0xF0 && media < 0xF8)
        return -E_CORRUPT;
    uint64_t data_start = reserved + (uint64_t)nfats * fatsz;
    if (total == 0 || data_start >= total)
        return -E_CORRUPT;
    uint32_t clusters = (uint32_t)((total - data_start) / spc);
    if (clusters < 1 || clusters > FAT_MAX_CLUSTERS)
        return -E_CORRUPT;
    if ((uint64_t)fatsz * (bps / 4) < (uint64_t)clusters + 2)
        return -E_CORRUPT; /* the FAT cannot describe every cluster */
    if ((uint64_t)total * (bps / FAT_DEV_BLOCK) > v->dev.blocks)
        return -E_RANGE; /* the volume is larger than the device */
    uint32_t dev_sector = v->dev.sector_size ? v->dev.sector_size : FAT_DEV_BLOCK;
    if (bps % dev_sector != 0)
        return -E_INVAL; /* a volume sector would be part of a device sector */
    uint32_t max = v->dev.max_blocks ? v->dev.max_blocks / (bps / FAT_DEV_BLOCK) : 0;
    if (v->dev.max_blocks && max == 0)
        return -E_INVAL; /* the device cannot move one volume sector at once */
    /* at most 32 MiB a request, so a block count never overflows */
    v->xfer_max = max && max < (32u << 20) / bps ? max : (32u << 20) / bps;
    v->bps = bps;
    v->bps_blocks = bps / FAT_DEV_BLOCK;
    v->spc = spc;
    v->cluster_bytes = bps * spc;
    v->total_sectors = total;
    v->fat_start = reserved;
    v->fat_sectors = fatsz;
    v->nfats = nfats;
    v->data_start = (uint32_t)data_start;
    v->clusters = clusters;
    v->root = rd32(b + BPB_ROOTCLUS) & FAT_MASK;
    if (!clu_valid(v, v->root))
        return -E_CORRUPT;
    v->dir_max_clusters = (DIR_MAX_ENTRIES * DE_SIZE + v->cluster_bytes - 1) / v->cluster_bytes;
    uint32_t fsinfo = rd16(b + BPB_FSINFO);
    v->fsinfo = fsinfo >= 1 && fsinfo < reserved ? fsinfo : 0;
    v->boot_dirty = (b[BPB_FLAGS] & BOOT_DIRTY) != 0;
    return 0;
}

/* FSInfo gives the next-free hint; the free count is recounted anyway. */
static int read_fsinfo(struct fat_vol *v)
{
    uint8_t *p;
    v->next_free = 2;
    if (!v->fsinfo)
        return 0;
    int s = cache_get(v, v->fsinfo, CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    if (rd32(p + FSI_LEAD) != FSI_LEAD_SIG || rd32(p + FSI_STRUC) != FSI_STRUC_SIG ||
        rd32(p + FSI_TRAIL) != FSI_TRAIL_SIG) {
        v->fsinfo = 0; /* not an FSInfo sector: never written */
        return 0;
    }
    uint32_t next = rd32(p + FSI_NEXT);
    if (clu_valid(v, next))
        v->next_free = next;
    return 0;
}

/* Counts free clusters over the whole FAT in large reads. */
static int count_free(struct fat_vol *v)
{
    uint8_t *buf;
    uint32_t chunk;
    int rc = cache_borrow(v, &buf, &chunk);
    if (rc < 0)
        return rc;
    uint32_t per = v->bps / 4, free = 0, end = v->clusters + 2;
    uint32_t need = (uint32_t)(((uint64_t)end + per - 1) / per); /* sectors with entries */
    for (uint32_t sec = 0; sec < need; sec += chunk) {
        uint32_t n = need - sec < chunk ? need - sec : chunk;
        rc = dev_read(v, v->fat_start + sec, n, buf);
        if (rc < 0)
            return rc;
        for (uint32_t i = 0; i < n * per; i++) {
            uint32_t c = sec * per + i;
            if (c >= 2 && c < end && (rd32(buf + i * 4) & FAT_MASK) == 0)
                free++;
        }
    }
    v->free_count = free;
    return 0;
}

int fat_mount(struct fat_vol *v, const struct fat_config *cfg)
{
    memset(v, 0, sizeof(*v));
    uint32_t dev_sector = cfg->dev.sector_size ? cfg->dev.sector_size : FAT_DEV_BLOCK;
    if (!cfg->dev.read || !cfg->dev.write || !cfg->dev.flush || !cfg->cache ||
        cfg->cache_bytes < FAT_CACHE_SLOTS_MIN * FAT_DEV_BLOCK || dev_sector < FAT_DEV_BLOCK ||
        dev_sector > FAT_SECTOR_MAX || !is_pow2(dev_sector) || cfg->cache_bytes < dev_sector ||
        (cfg->dev.max_blocks && cfg->dev.max_blocks < dev_sector / FAT_DEV_BLOCK))
        return -E_INVAL;
    v->dev = cfg->dev;
    v->now = cfg->now;
    v->now_ctx = cfg->now_ctx;
    v->scratch = cfg->scratch;
    v->scratch_bytes = cfg->scratch_bytes;
    v->rdonly = (cfg->flags & FAT_MOUNT_RDONLY) != 0;
    uint32_t first = dev_sector / FAT_DEV_BLOCK; /* the boot sector, as the device reads it */
    if (v->dev.blocks < first)
        return -E_CORRUPT;
    uint8_t *boot = cfg->cache;
    if (v->dev.read(v->dev.ctx, 0, first, boot) != 0)
        return -E_IO;
    int rc = parse_boot(v, boot);
    if (rc < 0)
        return rc;
    size_t nslots = cfg->cache_bytes / v->bps;
    if (nslots < FAT_CACHE_SLOTS_MIN)
        return -E_INVAL;
    cache_init(v, cfg->cache,
               nslots > FAT_CACHE_SLOTS_MAX ? FAT_CACHE_SLOTS_MAX : (uint32_t)nslots);
    rc = read_fsinfo(v);
    if (rc == 0)
        rc = count_free(v);
    uint32_t fat1 = 0, root = 0;
    if (rc == 0)
        rc = fat_get(v, 1, &fat1);
    if (rc == 0)
        rc = fat_get(v, v->root, &root);
    if (rc < 0)
        return rc;
    v->ondisk_dirty = !(fat1 & FAT1_CLEAN) || v->boot_dirty;
    v->mounted = 1;
    /* A root the FAT calls free would be handed out as file space. */
    int broken_root = root == 0 || root == FAT_BAD;
    if (!v->rdonly && (v->ondisk_dirty || broken_root || (cfg->flags & FAT_MOUNT_CHECK))) {
        rc = fat_check(v);
        if (rc == 0)
            rc = fat_mark_clean(v);
        if (rc < 0) {
            v->mounted = 0;
            return rc;
        }
    }
    return 0;
}

int fat_unmount(struct fat_vol *v)
{
    int rc = fat_mark_clean(v);
    if (rc < 0)
        return rc;
    v->mounted = 0;
    for (uint32_t i = 0; i < FAT_OPEN_MAX; i++)
        v->node[i].refs = 0;
    return 0;
}

int fat_statfs(struct fat_vol *v, struct fat_statfs *st)
{
    if (!v->mounted)
        return -E_INVAL;
    st->sector_size = v->bps;
    st->cluster_size = v->cluster_bytes;
    st->clusters = v->clusters;
    st->free_clusters = v->free_count;
    return 0;
}

const struct fat_check_report *fat_last_check(const struct fat_vol *v)
{
    return &v->report;
}
