/*
 * Internals shared by the FAT32 core's files: on-disk layout, the block
 * cache, FAT-table access, directory iteration and the helpers between them.
 * Nothing here is API; fat.h is.
 */
#ifndef FS_FAT_PRIV_H
#define FS_FAT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <abi/errno.h>
#include <common/string.h>

#include "fat.h"

/* clang-format off */
/* FAT entries: 28 bits; the top 4 are reserved and preserved on write. */
#define FAT_MASK     0x0FFFFFFFu
#define FAT_BAD      0x0FFFFFF7u
#define FAT_EOC_MIN  0x0FFFFFF8u
#define FAT_EOC      0x0FFFFFFFu
#define FAT_MAX_CLUSTERS 0x0FFFFFF5u /* numbers 2..0x0FFFFFF6 */
#define FAT1_CLEAN   0x08000000u /* FAT[1]: volume cleanly unmounted */
#define BOOT_DIRTY   0x01        /* boot sector byte 0x41 (Linux): dirty */

/* Directory entry (32 bytes) */
#define DE_SIZE      32
#define DE_NAME      0
#define DE_ATTR      11
#define DE_NTRES     12 /* case flags of the 8.3 name */
#define DE_CTIME_MS  13
#define DE_CTIME     14
#define DE_CDATE     16
#define DE_ADATE     18
#define DE_CLUS_HI   20
#define DE_MTIME     22
#define DE_MDATE     24
#define DE_CLUS_LO   26
#define DE_SIZE_OFF  28
#define DE_FREE      0xE5 /* first name byte of a deleted entry */
#define DE_END       0x00 /* first name byte of the end marker */
#define DE_KANJI     0x05 /* stands for a leading 0xE5 byte in a name */
#define NT_LOWER_BASE 0x08
#define NT_LOWER_EXT  0x10
#define ATTR_VOLUME  0x08
#define ATTR_LFN     0x0F
#define ATTR_LFN_MASK 0x3F
#define LFN_LAST     0x40
#define LFN_ORD_MASK 0x1F
#define LFN_CHARS    13
#define LFN_MAX_SLOTS 20 /* 20 * 13 >= 255 */
#define LFN_CHKSUM   13
#define DIR_MAX_ENTRIES 65536 /* 2 MiB of entries per directory */

/* Cache slot kinds, in the order a commit writes them. */
#define FK_DATA 0 /* file bytes in a partial sector */
#define FK_FAT  1 /* a sector of FAT copy 1, mirrored to the others */
#define FK_DIR  2 /* directory entries */

/* cache_get how */
#define CG_READ  0 /* content from the device if not cached */
#define CG_FRESH 1 /* zero-filled: the caller writes the sector anew */
/* clang-format on */

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t de_cluster(const uint8_t *de)
{
    return ((uint32_t)rd16(de + DE_CLUS_HI) << 16 | rd16(de + DE_CLUS_LO)) & FAT_MASK;
}

static inline void de_set_cluster(uint8_t *de, uint32_t c)
{
    wr16(de + DE_CLUS_HI, (uint16_t)(c >> 16));
    wr16(de + DE_CLUS_LO, (uint16_t)c);
}

static inline int de_is_dir(const uint8_t *de)
{
    return (de[DE_ATTR] & FAT_ATTR_DIR) != 0;
}

/* "." or ".." (the name bytes, whatever the attributes say) */
static inline int de_is_dot(const uint8_t *de)
{
    static const uint8_t dot[11] = {'.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    static const uint8_t dotdot[11] = {'.', '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    return memcmp(de, dot, 11) == 0 || memcmp(de, dotdot, 11) == 0;
}

static inline int clu_valid(const struct fat_vol *v, uint32_t c)
{
    return c >= 2 && c - 2 < v->clusters;
}

static inline uint32_t clu_sector(const struct fat_vol *v, uint32_t c)
{
    return v->data_start + (c - 2) * v->spc;
}

/* ---- fat_cache.c: device access and the block cache ---- */

int dev_read(struct fat_vol *v, uint32_t sector, uint32_t count, void *buf);
int dev_write(struct fat_vol *v, uint32_t sector, uint32_t count, const void *buf);
int dev_flush(struct fat_vol *v);
/* Zeros `count` sectors from `sector` on the device, dropping cached copies. */
int dev_zero(struct fat_vol *v, uint32_t sector, uint32_t count);
void cache_init(struct fat_vol *v, uint8_t *mem, uint32_t nslots);
/* A slot holding `sector`, filled as `how` says; *p is its data, valid
 * until the next cache call. Returns the slot index or an error. */
int cache_get(struct fat_vol *v, uint32_t sector, int how, int kind, uint8_t **p);
void cache_dirty(struct fat_vol *v, int slot);
/* Writes every dirty slot in the durable order (fat_cache.c has it). */
int cache_commit(struct fat_vol *v);
/* Before a direct read (drop = 0: write dirty copies out) or a direct
 * write (drop = 1: forget cached copies) of sectors [sector, sector+count). */
int cache_range(struct fat_vol *v, uint32_t sector, uint32_t count, int drop);
/* Commits, empties the cache and lends its memory for bulk transfers. */
int cache_borrow(struct fat_vol *v, uint8_t **mem, uint32_t *sectors);
int cache_dirty_count(const struct fat_vol *v);

/* ---- fat.c: the FAT table, allocation, the dirty mark ---- */

int fat_get(struct fat_vol *v, uint32_t c, uint32_t *val);
int fat_set(struct fat_vol *v, uint32_t c, uint32_t val);
/* Next cluster of a chain: 1 and *next, 0 at the end of the chain, or
 * -E_CORRUPT (free, bad or out-of-range link). */
int chain_next(struct fat_vol *v, uint32_t c, uint32_t *next);
/* Finds up to `want` contiguous free clusters, from `prefer` if it is free
 * (else from the next-free hint); marks nothing. */
int alloc_find(struct fat_vol *v, uint32_t prefer, uint32_t want, uint32_t *first, uint32_t *n);
/* Chains [first, first+n) and hangs it after `tail` (0: no tail). */
int chain_append(struct fat_vol *v, uint32_t tail, uint32_t first, uint32_t n);
/* Frees the chain starting at c (bounded; stops at a bad link). */
int chain_free(struct fat_vol *v, uint32_t c);
/* Every modifying call starts here: refuses on a read-only volume and puts
 * the dirty mark on the device before anything else changes. */
int begin_op(struct fat_vol *v);
void fat_now(struct fat_vol *v, uint16_t *date, uint16_t *time, uint8_t *tenth);
int64_t fat_unix_time(uint16_t date, uint16_t time);

/* ---- fat_name.c: names ---- */

/* One path component of `len` UTF-8 bytes to UTF-16, validated for a FAT
 * long name. -E_INVAL (bad UTF-8, illegal character, "." or "..", trailing
 * dot or space), -E_NAMETOOLONG. */
int name_from_utf8(const char *s, size_t len, uint16_t *out, uint32_t *n);
/* UTF-16 to UTF-8 with a NUL; unpaired surrogates become U+FFFD. */
void name_to_utf8(const uint16_t *u, uint32_t n, char *out, size_t cap);
int name_eq(const uint16_t *a, uint32_t na, const uint16_t *b, uint32_t nb);
uint16_t name_fold(uint16_t c);
/* The 8.3 entry name for a name that needs no long name (1), with case
 * flags; 0 if it needs one. */
int sfn_pure(const uint16_t *u, uint32_t n, uint8_t raw[11], uint8_t *ntres);
/* The basis name (Windows' rules); *lossy when characters were lost. */
void sfn_basis(const uint16_t *u, uint32_t n, uint8_t raw[11], int *lossy);
/* basis with "~N" in its base; 0 if N does not fit. */
int sfn_tail(const uint8_t basis[11], uint32_t num, uint8_t raw[11]);
/* If raw is basis~N, N; else 0. */
uint32_t sfn_tail_num(const uint8_t basis[11], const uint8_t raw[11]);
uint8_t sfn_checksum(const uint8_t raw[11]);
/* The 8.3 name as UTF-16, applying the case flags; returns the length. */
uint32_t sfn_to_name(const uint8_t raw[11], uint8_t ntres, uint16_t *out);

/* ---- fat_dir.c: directories ---- */

struct fat_diter {
    uint32_t first;   /* the directory's first cluster */
    uint32_t cluster; /* cluster holding entry `index`, valid when cidx is */
    uint32_t cidx;    /* index of `cluster` in the chain */
    uint32_t index;   /* next entry */
};

struct fat_dentry {
    uint8_t raw[DE_SIZE]; /* the short entry */
    uint32_t sector;      /* where it is */
    uint32_t off;
    uint32_t index;       /* its entry index */
    uint32_t first_index; /* index of its first LFN slot (= index without LFN) */
    uint32_t name_len;    /* name in the caller's buffer, UTF-16 */
    uint8_t has_lfn;
};

void diter_start(struct fat_diter *it, uint32_t first, uint32_t index);
/* Where entry it->index is: 1 and its sector/offset, 0 past the chain. */
int diter_loc(struct fat_vol *v, struct fat_diter *it, uint32_t *sector, uint32_t *off);
/* Next live entry with its long name in name[FAT_NAME_MAX + 1]: 1, 0 at
 * the end of the directory, or an error. Dot entries are returned. */
int dir_next(struct fat_vol *v, struct fat_diter *it, struct fat_dentry *e, uint16_t *name);
/* 1 and the entry if `name` is in directory `dir`, 0 if not. */
int dir_lookup(struct fat_vol *v, uint32_t dir, const uint16_t *name, uint32_t n,
               struct fat_dentry *e);
/* Adds an entry named `name` built from proto (attributes, times, cluster,
 * size); e receives where it went. */
int dir_add(struct fat_vol *v, uint32_t dir, const uint16_t *name, uint32_t n,
            const uint8_t proto[DE_SIZE], struct fat_dentry *e);
/* Marks the entry and its long-name slots deleted. */
int dir_remove(struct fat_vol *v, uint32_t dir, const struct fat_dentry *e);
/* 1 if the directory has nothing but "." and "..". */
int dir_empty(struct fat_vol *v, uint32_t dir);
/* Zeroes a new directory cluster on the device (with "." and ".." if
 * parent != 0xFFFFFFFF); the next commit flushes before the FAT links it. */
int dir_init_cluster(struct fat_vol *v, uint32_t c, uint32_t parent, const uint8_t proto[DE_SIZE]);

struct fat_path {
    uint32_t parent;   /* first cluster of the directory holding the last component */
    int found;         /* the entry exists (e is valid) */
    int is_root;       /* the path is "/" */
    int through;       /* the walk entered directory `avoid` */
    int dir_only;      /* the path ends in '/': it must name a directory */
    uint32_t name_len; /* last component, UTF-16 in v->name_a */
    struct fat_dentry e;
};

/* Resolves an absolute path. Missing intermediate directories are
 * -E_NOENT, files in the middle (or at the end of "path/") -E_NOTDIR. */
int path_resolve(struct fat_vol *v, const char *path, uint32_t avoid, struct fat_path *p);

/* ---- fat_file.c / fat_check.c ---- */

/* The node (open file) whose entry is at sector/off, or -1. */
int node_find(struct fat_vol *v, uint32_t sector, uint32_t off);
int fat_check(struct fat_vol *v);

#endif
