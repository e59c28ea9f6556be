/*
 * libFuzzer target for the FAT32 core (servers/fs): an input is a tiny
 * disk image plus a script of operations (layout below). The device aborts
 * on any transfer outside the image, or on a write outside the structures
 * the boot sector describes; the harness checks what each call returns:
 * error codes from abi/errno.h only, reads never longer than asked, an
 * exact free-cluster count, and on a repaired volume, every write read back
 * equal and, after the script, a second check that finds nothing to fix.
 *
 * Input: byte 0 flags (bit 0: mount with FAT_MOUNT_CHECK, bit 1:
 * read-only, bit 2: a 4-slot cache, bit 3: a device with 4096-byte sectors,
 * bit 4: at most 8 blocks a request), byte 1 the script length L, L script
 * bytes, then the image. The device is the image padded with zeros up to
 * the size its boot sector gives (at most 4 MiB).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>

#include "../../servers/fs/fat.h"
#include "../../servers/fs/fat_priv.h"
#include "fuzz_copy.h"

#define DEV_MAX (4u << 20)
#define SLOTS   8
#define BUF     (128u * 1024)

static uint8_t *disk;
static uint64_t disk_blocks;
static uint32_t dev_align, dev_max; /* the device's sector (blocks) and largest request */
/* Where writes may go, in blocks: worked out here from the boot sector,
 * independently of the library (empty if it is nonsense, so a volume the
 * library refuses is never written). */
static struct {
    uint64_t boot_hi, fsinfo_lo, fsinfo_hi, fat_lo, fat_hi, data_lo, data_hi;
    uint32_t clusters;
} allow;

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void layout(const uint8_t *b, size_t n)
{
    memset(&allow, 0, sizeof(allow));
    if (n < 512)
        return;
    uint64_t bps = le(b + 11, 2), spc = b[13], reserved = le(b + 14, 2), nfats = b[16];
    uint64_t total = le(b + 19, 2) ? le(b + 19, 2) : le(b + 32, 4), fatsz = le(b + 36, 4);
    if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || !spc || reserved + nfats * fatsz >= total)
        return;
    uint64_t k = bps / 512, data = reserved + nfats * fatsz;
    allow.boot_hi = k;
    allow.fsinfo_lo = le(b + 48, 2) * k;
    allow.fsinfo_hi = allow.fsinfo_lo + k;
    allow.fat_lo = reserved * k;
    allow.fat_hi = data * k;
    allow.clusters = (uint32_t)((total - data) / spc);
    allow.data_lo = data * k;
    allow.data_hi = (data + (uint64_t)allow.clusters * spc) * k;
}

/* A request the device takes: inside it, whole device sectors, not too large. */
static void check_request(uint64_t block, uint32_t count)
{
    if (count == 0 || block > disk_blocks || count > disk_blocks - block)
        abort();
    if (block % dev_align || count % dev_align || (dev_max && count > dev_max))
        abort();
}

static int d_read(void *ctx, uint64_t block, uint32_t count, void *buf)
{
    (void)ctx;
    check_request(block, count);
    memcpy(buf, disk + block * FAT_DEV_BLOCK, (size_t)count * FAT_DEV_BLOCK);
    return 0;
}

static int in_range(uint64_t b, uint64_t lo, uint64_t hi)
{
    return b >= lo && b < hi;
}

static int d_write(void *ctx, uint64_t block, uint32_t count, const void *buf)
{
    (void)ctx;
    check_request(block, count);
    for (uint64_t b = block; b < block + count; b++)
        if (!in_range(b, 0, allow.boot_hi) && !in_range(b, allow.fsinfo_lo, allow.fsinfo_hi) &&
            !in_range(b, allow.fat_lo, allow.fat_hi) && !in_range(b, allow.data_lo, allow.data_hi))
            abort(); /* a byte outside the volume's structures */
    memcpy(disk + block * FAT_DEV_BLOCK, buf, (size_t)count * FAT_DEV_BLOCK);
    return 0;
}

static int d_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static struct fat_vol vol;
static uint8_t cache[FAT_CACHE_SLOTS_MAX * FAT_SECTOR_MAX];
static uint8_t *scratch;
static uint8_t buf[BUF], back[BUF];

static void check_rc(long rc)
{
    if (rc < 0 && (rc <= -E_MAX || rc == 0))
        abort();
}

static int do_mount(unsigned flags)
{
    struct fat_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dev = (struct fat_dev){.blocks = disk_blocks,
                               .sector_size = dev_align * FAT_DEV_BLOCK,
                               .max_blocks = dev_max,
                               .read = d_read,
                               .write = d_write,
                               .flush = d_flush};
    cfg.cache = cache;
    cfg.cache_bytes = (flags & 4) ? 4 * 512 : sizeof(cache);
    cfg.scratch = scratch;
    cfg.scratch_bytes = FAT_SCRATCH_BYTES(disk_blocks);
    cfg.flags = ((flags & 1) ? FAT_MOUNT_CHECK : 0) | ((flags & 2) ? FAT_MOUNT_RDONLY : 0);
    int rc = fat_mount(&vol, &cfg);
    check_rc(rc);
    if (rc == 0 && (vol.clusters != allow.clusters || vol.free_count > vol.clusters ||
                    (uint64_t)vol.data_start * vol.bps_blocks != allow.data_lo))
        abort(); /* the library's geometry is not the boot sector's */
    return rc;
}

static const char *const paths[] = {
    "/",        "/a",       "/a/b",        "/A/B/c.txt",   "/LONG FILE NAME.txt",
    "/a/x.bin", "/sub",     "/sub/deeper", "/caf\xc3\xa9", "/new file with a long name",
    "/x",       "/a/b/ren",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

struct script {
    const uint8_t *p;
    size_t n, i;
};

static unsigned next(struct script *s)
{
    return s->i < s->n ? s->p[s->i++] : 0;
}

static unsigned next16(struct script *s)
{
    unsigned lo = next(s);
    return lo | next(s) << 8;
}

static const char *path(struct script *s)
{
    return paths[next(s) % NPATHS];
}

/* The counted free clusters must equal what a fresh mount counts. */
static void check_free_count(unsigned flags)
{
    struct fat_statfs st;
    if (fat_statfs(&vol, &st) != 0)
        abort();
    if (fat_unmount(&vol) != 0)
        return; /* left dirty: a repair would change the count */
    if (do_mount((flags & 4) | 2) != 0)
        abort(); /* it mounted a moment ago */
    struct fat_statfs again;
    if (fat_statfs(&vol, &again) != 0 || again.free_clusters != st.free_clusters)
        abort();
    fat_unmount(&vol);
}

static void run(struct script *s, unsigned flags)
{
    int h[SLOTS];
    for (int i = 0; i < SLOTS; i++)
        h[i] = -1;
    while (s->i < s->n) {
        unsigned op = next(s) % 16, slot = next(s) % SLOTS;
        long rc = 0;
        switch (op) {
        case 0: {
            unsigned fl = next(s) & 0x1F;
            rc = fat_open(&vol, path(s), fl);
            if (rc >= 0) {
                if (h[slot] >= 0)
                    fat_close(&vol, h[slot]);
                h[slot] = (int)rc;
            }
            break;
        }
        case 1:
            rc = fat_close(&vol, h[slot]);
            h[slot] = -1;
            break;
        case 2: {
            uint64_t off = (uint64_t)next16(s) * (next(s) + 1);
            size_t len = next16(s) % BUF;
            rc = fat_read(&vol, h[slot], off, buf, len);
            if (rc > (long)len)
                abort();
            break;
        }
        case 3:
        case 15: {
            uint64_t off = (uint64_t)next16(s) * (next(s) + 1);
            size_t len = op == 15 ? BUF : next16(s) % BUF;
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(i * 31 + off);
            rc = fat_write(&vol, h[slot], off, buf, len);
            if (rc > (long)len)
                abort();
            if (rc > 0 && (flags & 1)) {
                /* what was written reads back (on a repaired volume: an
                 * unchecked hostile one may share clusters between files) */
                long r = fat_read(&vol, h[slot], off, back, (size_t)rc);
                if (r != rc || memcmp(buf, back, (size_t)rc) != 0)
                    abort();
            }
            break;
        }
        case 4:
            rc = fat_truncate(&vol, h[slot], (uint64_t)next16(s) * (next(s) + 1));
            break;
        case 5: {
            struct fat_stat st;
            rc = slot & 1 ? fat_stat(&vol, h[slot], &st) : fat_stat_path(&vol, path(s), &st);
            break;
        }
        case 6: {
            struct fat_dirent de;
            uint32_t pos = 0;
            for (int i = 0; i < 300 && (rc = fat_readdir(&vol, h[slot], &pos, &de)) == 1; i++)
                if (strnlen(de.name, sizeof(de.name)) == sizeof(de.name))
                    abort();
            break;
        }
        case 7:
            rc = fat_mkdir(&vol, path(s));
            break;
        case 8:
            rc = fat_rmdir(&vol, path(s));
            break;
        case 9:
            rc = fat_unlink(&vol, path(s));
            break;
        case 10: {
            const char *from = path(s);
            rc = fat_rename(&vol, from, path(s));
            break;
        }
        case 11:
            rc = fat_sync(&vol);
            break;
        case 12:
            rc = fat_mark_clean(&vol);
            break;
        case 13:
            for (int i = 0; i < SLOTS; i++)
                h[i] = -1;
            if (fat_unmount(&vol) == 0 && do_mount(flags) != 0)
                return;
            break;
        case 14: {
            struct fat_statfs st;
            rc = fat_statfs(&vol, &st);
            if (rc == 0 && st.free_clusters > st.clusters)
                abort();
            break;
        }
        }
        check_rc(rc);
    }
    for (int i = 0; i < SLOTS; i++)
        if (h[i] >= 0)
            fat_close(&vol, h[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0];
    dev_align = flags & 8 ? 8 : 1; /* a device with 4096-byte sectors */
    dev_max = flags & 16 ? 8 : 0;  /* and small requests */
    size_t len = data[1];
    if (size - 2 < len)
        return 0;
    struct script s = {fuzz_copy(data + 2, len), len, 0};
    const uint8_t *img = data + 2 + len;
    size_t img_len = size - 2 - len;

    /* The device: the image, zero-padded to what its boot sector says. */
    uint64_t want = 0;
    if (img_len >= 0x24) {
        uint32_t bps = (uint32_t)img[11] | (uint32_t)img[12] << 8;
        uint32_t total = (uint32_t)img[0x13] | (uint32_t)img[0x14] << 8;
        if (!total)
            total = (uint32_t)img[0x20] | (uint32_t)img[0x21] << 8 | (uint32_t)img[0x22] << 16 |
                    (uint32_t)img[0x23] << 24;
        want = (uint64_t)total * (bps >= 512 && bps <= 4096 ? bps : 512);
    }
    if (want > DEV_MAX)
        want = DEV_MAX;
    if (want < img_len)
        want = img_len;
    disk_blocks = (want + FAT_DEV_BLOCK - 1) / FAT_DEV_BLOCK;
    if (disk_blocks == 0 || disk_blocks * FAT_DEV_BLOCK > DEV_MAX) {
        free((void *)s.p);
        return 0;
    }
    disk = calloc(disk_blocks, FAT_DEV_BLOCK);
    scratch = malloc(FAT_SCRATCH_BYTES(disk_blocks));
    if (!disk || !scratch)
        abort();
    memcpy(disk, img, img_len);
    layout(disk, (size_t)disk_blocks * FAT_DEV_BLOCK);

    if (do_mount(flags) == 0) {
        run(&s, flags);
        if (vol.mounted && (flags & 1) && !(flags & 2) && !vol.needs_check) {
            /* repaired, then only our own operations: still consistent */
            if (fat_unmount(&vol) == 0 && do_mount(1 | (flags & 4)) == 0) {
                const struct fat_check_report *r = fat_last_check(&vol);
                if (r->lost_freed + r->chains_cut + r->sizes_fixed + r->entries_removed +
                    r->dots_fixed + r->other_fixed + r->fat_copies)
                    abort();
            }
        }
        if (vol.mounted && !(flags & 2))
            check_free_count(flags);
        else if (vol.mounted)
            fat_unmount(&vol);
    }
    free(disk);
    free(scratch);
    free((void *)s.p);
    return 0;
}
