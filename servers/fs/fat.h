/*
 * FAT32 file-system core: a freestanding library over a 512-byte-block
 * device, the API the file-system server wraps. Pure C, no malloc: the
 * caller provides the volume context, the block-cache memory and a scratch
 * area; every error is a negative code from abi/errno.h.
 *
 * One struct fat_vol per mounted volume. Calls are not reentrant: the
 * server runs one request at a time per volume.
 *
 * Durability (docs/storage.md has the full rule and the write order):
 * an operation that returned is in the cache and may not be on the device
 * yet; it is durable once a later fat_sync() (or fat_mark_clean(),
 * fat_unmount()) has returned 0. "Acknowledged" means exactly that. After a
 * crash at any point, fat_mount() repairs the volume (it was marked dirty)
 * so that fsck.fat finds nothing, and every acknowledged byte, name and
 * directory is there. Operations that free clusters (unlink, rmdir,
 * shrinking truncate) and rename make their directory change durable
 * before they return.
 */
#ifndef FS_FAT_H
#define FS_FAT_H

#include <stddef.h>
#include <stdint.h>

/* clang-format off */
#define FAT_DEV_BLOCK       512        /* the device is addressed in 512-byte blocks */
#define FAT_SECTOR_MAX      4096       /* largest logical sector accepted */
#define FAT_NAME_MAX        255        /* UTF-16 units in one long name */
#define FAT_NAME_BYTES      (FAT_NAME_MAX * 3 + 1) /* a name in UTF-8, with its NUL */
#define FAT_PATH_MAX        1024       /* bytes in a path, with its NUL */
#define FAT_DEPTH_MAX       512        /* directories on the repair's stack; deeper is slower */
#define FAT_OPEN_MAX        32         /* open files and directories per volume */
#define FAT_CACHE_SLOTS_MAX 64         /* block-cache slots used at most */
#define FAT_CACHE_SLOTS_MIN 4          /* block-cache slots needed at least */
#define FAT_FILE_MAX        0xFFFFFFFFu /* largest file, in bytes */

/* fat_open flags */
#define FAT_O_CREATE 0x01 /* create the file if it does not exist */
#define FAT_O_EXCL   0x02 /* with FAT_O_CREATE: fail with -E_EXIST if it exists */
#define FAT_O_TRUNC  0x04 /* truncate an existing file to 0 bytes */
#define FAT_O_DIR    0x08 /* the path must name a directory (-E_NOTDIR otherwise) */

/* fat_stat.attr and fat_dirent.st.attr: the FAT attribute byte */
#define FAT_ATTR_RDONLY  0x01
#define FAT_ATTR_HIDDEN  0x02
#define FAT_ATTR_SYSTEM  0x04
#define FAT_ATTR_DIR     0x10
#define FAT_ATTR_ARCHIVE 0x20

/* fat_config.flags */
#define FAT_MOUNT_RDONLY 0x01 /* never write; no repair even if the volume is dirty */
#define FAT_MOUNT_CHECK  0x02 /* run the check-and-repair pass even on a clean volume */
/* clang-format on */

/*
 * The block device. Blocks are 512 bytes; count >= 1 and buf holds count *
 * 512 bytes (no alignment promised). Every request starts and ends on a
 * volume sector, so on a device with larger sectors (BLK_INFO w2) it is
 * whole device sectors. Each returns 0 or a negative code (-E_IO for a
 * device failure). flush returns 0 once everything written before it is
 * durable; the library's write order rests on it (with the block
 * protocol's epochs, see docs/storage.md "What the server must do").
 */
struct fat_dev {
    void *ctx;
    uint64_t blocks;      /* device size in 512-byte blocks */
    uint32_t sector_size; /* the device's sector in bytes, 512..4096 (0: 512) */
    uint32_t max_blocks;  /* most blocks in one request (0: no limit) */
    int (*read)(void *ctx, uint64_t block, uint32_t count, void *buf);
    int (*write)(void *ctx, uint64_t block, uint32_t count, const void *buf);
    int (*flush)(void *ctx);
};

/* Scratch bytes the repair pass needs on a device of `blocks` blocks: one
 * bit per cluster plus the directory stack (12-byte frames). Always enough. */
#define FAT_SCRATCH_BYTES(blocks) ((size_t)(((blocks) + 2 + 63) / 64 * 8) + FAT_DEPTH_MAX * 12)

struct fat_config {
    struct fat_dev dev;
    void *cache; /* block cache: FAT_CACHE_SLOTS_MIN sectors at least, 64 used at most */
    size_t cache_bytes;
    void *scratch; /* FAT_SCRATCH_BYTES(dev.blocks) for the repair; NULL if read-only */
    size_t scratch_bytes;
    /* Seconds since 1970-01-01 (UTC) for timestamps; NULL: 1980-01-01. */
    int64_t (*now)(void *ctx);
    void *now_ctx;
    unsigned flags; /* FAT_MOUNT_* */
};

struct fat_stat {
    uint32_t size;    /* bytes (0 for a directory) */
    uint32_t cluster; /* first cluster, 0 for an empty file; the root's for "/" */
    uint8_t attr;     /* FAT_ATTR_* */
    int64_t mtime;    /* last write, seconds since 1970 (as stored: local = UTC) */
    int64_t ctime;    /* creation */
    int64_t atime;    /* last access date (midnight) */
};

struct fat_dirent {
    struct fat_stat st;
    char name[FAT_NAME_BYTES]; /* UTF-8 long name, or the 8.3 name if it has none */
    char short_name[37];       /* the 8.3 alias, "NAME.EXT" in UTF-8 (code page 850) */
};

struct fat_statfs {
    uint32_t sector_size;   /* bytes */
    uint32_t cluster_size;  /* bytes */
    uint32_t clusters;      /* data clusters on the volume */
    uint32_t free_clusters; /* exact: counted at mount, kept since */
};

/* What the repair pass changed (all zero on a consistent volume). */
struct fat_check_report {
    uint32_t ran;             /* 1 if the pass ran at this mount */
    uint32_t lost_freed;      /* clusters allocated in the FAT but owned by nobody */
    uint32_t chains_cut;      /* chains cut: longer than the size, looping, broken */
    uint32_t sizes_fixed;     /* file sizes reduced to their chain, dir sizes to 0 */
    uint32_t entries_removed; /* duplicate or impossible entries, orphan LFN runs */
    uint32_t dots_fixed;      /* "." and ".." entries pointing at the wrong cluster */
    uint32_t other_fixed;     /* LFN reserved fields, data after the end marker */
    uint32_t fat_copies;      /* 1 if FAT copy 2.. was rewritten from copy 1 */
};

/* ---- private state: allocate it, never touch the fields ---- */

struct fat_slot {
    uint32_t sector; /* volume sector held */
    uint32_t stamp;  /* last use, for LRU */
    uint8_t state;   /* 0 empty, 1 clean, 2 dirty */
    uint8_t kind;    /* FK_* in fat_priv.h: decides the write order */
};

/* Clusters idx .. idx+len-1 of a file are disk clusters clu .. clu+len-1. */
struct fat_ext {
    uint32_t idx, clu, len;
};

#define FAT_NODE_EXTENTS 8

struct fat_node {
    uint16_t refs;       /* 0: slot free */
    uint8_t is_root;     /* the root directory: no entry of its own */
    uint8_t attr;        /* attribute byte */
    uint32_t gen;        /* bumped when the slot is freed: stale handles fail */
    uint32_t ent_sector; /* where the short entry is */
    uint32_t ent_off;    /* byte offset of it in that sector */
    uint32_t first;      /* first cluster (0: none) */
    uint32_t size;       /* bytes */
    /* runs of the chain seen so far, so an offset maps to a cluster without
     * walking the FAT; valid while the chain only grows at its end */
    struct fat_ext ext[FAT_NODE_EXTENTS];
    uint32_t ext_next; /* slot the next new run replaces */
};

struct fat_vol {
    /* from fat_config, fixed at mount */
    struct fat_dev dev;
    uint8_t *cache_mem;
    uint8_t *scratch;
    size_t scratch_bytes;
    int64_t (*now)(void *ctx);
    void *now_ctx;
    /* geometry, fixed at mount */
    uint32_t bps;           /* bytes per sector */
    uint32_t bps_blocks;    /* device blocks per sector */
    uint32_t xfer_max;      /* most sectors in one request */
    uint32_t spc;           /* sectors per cluster */
    uint32_t cluster_bytes; /* bps * spc */
    uint32_t total_sectors;
    uint32_t fat_start;   /* first sector of FAT copy 1 */
    uint32_t fat_sectors; /* sectors per FAT copy */
    uint32_t nfats;
    uint32_t data_start;       /* sector of cluster 2 */
    uint32_t clusters;         /* data clusters: numbers 2 .. clusters + 1 */
    uint32_t root;             /* first cluster of the root directory */
    uint32_t fsinfo;           /* FSInfo sector, 0 if none or not valid */
    uint32_t dir_max_clusters; /* a directory holds 65536 entries at most */
    /* allocation, kept exact in memory */
    uint32_t free_count;
    uint32_t next_free;
    /* state */
    uint8_t mounted;
    uint8_t rdonly;
    uint8_t ondisk_dirty; /* the dirty mark is on the device */
    uint8_t boot_dirty;   /* the boot sector's dirty flag was set at mount */
    uint8_t need_barrier; /* new directory clusters written: flush before FAT */
    uint8_t needs_check;  /* clusters may have leaked: stay dirty so mount repairs */
    uint8_t unflushed;    /* writes went to the device since the last flush */
    /* block cache */
    uint32_t nslots;
    uint32_t clock;
    uint32_t last_slot;
    struct fat_slot slot[FAT_CACHE_SLOTS_MAX];
    /* open files */
    struct fat_node node[FAT_OPEN_MAX];
    /* work space, so no call needs a deep stack */
    uint16_t name_a[FAT_NAME_MAX + 1];
    uint16_t name_b[FAT_NAME_MAX + 1];
    uint16_t name_c[FAT_NAME_MAX + 1];
    uint8_t tails[1024]; /* ~N tails in use while making a short name */
    struct fat_check_report report;
};

/* ---- volume ---- */

/* Validates the boot sector against the device, counts free clusters and,
 * if the volume was not cleanly unmounted (or FAT_MOUNT_CHECK), repairs it
 * (fat_last_check tells what it did). Precondition: v is not mounted. */
int fat_mount(struct fat_vol *v, const struct fat_config *cfg);
/* fat_mark_clean, then forget the volume; open handles die. */
int fat_unmount(struct fat_vol *v);
/* Makes every operation that returned before it durable (the
 * acknowledgment point). The volume stays marked dirty. */
int fat_sync(struct fat_vol *v);
/* fat_sync, then record an exact free count in FSInfo and mark the volume
 * clean; the server calls this when idle. */
int fat_mark_clean(struct fat_vol *v);
int fat_statfs(struct fat_vol *v, struct fat_statfs *st);
const struct fat_check_report *fat_last_check(const struct fat_vol *v);

/* ---- files and directories; paths are absolute, UTF-8, '/'-separated ---- */

/* Returns a handle >= 0; every successful open needs one fat_close. Opens
 * of the same file share its state. */
int fat_open(struct fat_vol *v, const char *path, unsigned flags);
int fat_close(struct fat_vol *v, int h);
/* Bytes read (0 at or past the end) or an error. */
long fat_read(struct fat_vol *v, int h, uint64_t off, void *buf, size_t len);
/* Bytes written or an error; a gap before `off` reads as zeros. Short only
 * when the disk fills (then -E_NOSPC if nothing was written) or at
 * FAT_FILE_MAX (-E_RANGE if nothing fits). */
long fat_write(struct fat_vol *v, int h, uint64_t off, const void *buf, size_t len);
int fat_truncate(struct fat_vol *v, int h, uint64_t size);
int fat_stat(struct fat_vol *v, int h, struct fat_stat *st);
int fat_stat_path(struct fat_vol *v, const char *path, struct fat_stat *st);
/* Next entry of directory h at or after *pos ("." and ".." skipped).
 * Returns 1 and advances *pos, 0 at the end, or an error. Start at 0. */
int fat_readdir(struct fat_vol *v, int h, uint32_t *pos, struct fat_dirent *out);
int fat_mkdir(struct fat_vol *v, const char *path);
/* Removes an empty directory (-E_NOTEMPTY, -E_BUSY if open or "/"). */
int fat_rmdir(struct fat_vol *v, const char *path);
/* Removes a file (-E_ISDIR for a directory, -E_BUSY if open). */
int fat_unlink(struct fat_vol *v, const char *path);
/* Moves a file or directory, also across directories. The target must not
 * exist (-E_EXIST) unless it is the same entry (a change of case); a
 * directory is never moved into itself (-E_INVAL). */
int fat_rename(struct fat_vol *v, const char *from, const char *to);

#endif
