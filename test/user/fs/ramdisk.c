/*
 * A disk in memory for the file-system tests: a block server speaking the
 * block protocol (abi/proto/blk.h) over MiB of memory-server pages that
 * start as a FAT32 volume made by mkfs.fat (ramdisk-image.sh). Its
 * arguments: "mib=N" (the image's size, as built), "name=NAME" to register.
 *
 * It can act as a device with a volatile cache that gets reset
 * (RAMDISK_CHAOS): writes since the last flush are kept in an undo log,
 * and before every Nth flush the device "resets": those writes are undone
 * and the epoch moves on, so a client that does not write again what it
 * wrote in the old epoch loses it.
 */
#include <abi/proto/blk.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#define SECTOR      512
#define MAX_SECTORS 256 /* 128 KiB per request, as a virtio-blk slot */
#define UNDO_BYTES  (4u << 20)

/* w1 = N: reset before every Nth flush (0: never) -> w1 = resets so far */
#define RAMDISK_CHAOS 0x5f0

extern const uint8_t ramdisk_image[], ramdisk_image_end[];

static uint8_t *disk;
static uint64_t sectors;
static uint64_t epoch;

/* The undo log: each write's sectors as they were, in order. When it is
 * full the oldest writes count as written back (they stay). */
static uint8_t *undo;
static size_t undo_used;
static uint64_t chaos_every, flushes, resets;

struct undo_rec {
    uint64_t first, count;
};

static void undo_record(uint64_t first, uint64_t count)
{
    size_t need = sizeof(struct undo_rec) + count * SECTOR;
    if (!chaos_every)
        return;
    if (undo_used + need > UNDO_BYTES)
        undo_used = 0;
    struct undo_rec r = {first, count};
    memcpy(undo + undo_used, &r, sizeof(r));
    memcpy(undo + undo_used + sizeof(r), disk + first * SECTOR, count * SECTOR);
    undo_used += need;
}

/* The reset: every write since the last flush undone, newest first. */
static void undo_all(void)
{
    while (undo_used > 0) {
        size_t at = 0, last = 0;
        while (at < undo_used) { /* find the newest record */
            struct undo_rec r;
            memcpy(&r, undo + at, sizeof(r));
            last = at;
            at += sizeof(r) + r.count * SECTOR;
        }
        struct undo_rec r;
        memcpy(&r, undo + last, sizeof(r));
        memcpy(disk + r.first * SECTOR, undo + last + sizeof(r), r.count * SECTOR);
        undo_used = last;
    }
}

/* The checks of BLK_READ and BLK_WRITE, in the protocol's order. */
static long check(const struct ipc_msg *m)
{
    uint64_t first = m->w[1], count = m->w[2];
    if (count == 0 || count > MAX_SECTORS)
        return -E_INVAL;
    if (first >= sectors || count > sectors - first)
        return -E_RANGE;
    return 0;
}

static long blk_info(struct ipc_msg *m)
{
    m->w[1] = sectors;
    m->w[2] = SECTOR;
    m->w[3] = MAX_SECTORS;
    m->w[4] = BLK_INFO_FLUSH;
    m->w[5] = epoch;
    m->info = ipc_info(48, 0);
    return 0;
}

static long blk_read(struct ipc_msg *m)
{
    long rc = check(m);
    if (rc < 0)
        return rc;
    rc = grant_copy_to(badge_pid(m->badge), m->w[3], m->w[4], disk + m->w[1] * SECTOR,
                       m->w[2] * SECTOR);
    if (rc < 0)
        return rc;
    m->w[1] = epoch;
    m->info = ipc_info(16, 0);
    return 0;
}

static long blk_write(struct ipc_msg *m)
{
    long rc = check(m);
    if (rc < 0)
        return rc;
    undo_record(m->w[1], m->w[2]);
    rc = grant_copy_from(badge_pid(m->badge), m->w[3], m->w[4], disk + m->w[1] * SECTOR,
                         m->w[2] * SECTOR);
    if (rc < 0)
        return rc;
    m->w[1] = epoch;
    m->info = ipc_info(16, 0);
    return 0;
}

static long blk_flush(struct ipc_msg *m)
{
    if (chaos_every && ++flushes % chaos_every == 0) {
        undo_all(); /* the device was reset just before this flush */
        epoch++;
        resets++;
    }
    undo_used = 0; /* flushed: what is there now stays */
    m->w[1] = epoch;
    m->info = ipc_info(16, 0);
    return 0;
}

static long blk_id(struct ipc_msg *m)
{
    (void)m;
    return -E_NOSYS;
}

static long chaos(struct ipc_msg *m)
{
    if (!undo)
        undo = malloc(UNDO_BYTES);
    if (!undo)
        return -E_NOMEM;
    chaos_every = m->w[1];
    undo_used = 0;
    flushes = 0;
    m->w[1] = resets;
    m->info = ipc_info(16, 0);
    return 0;
}

static const struct server_op ops[] = {
    {BLK_INFO, blk_info},   {BLK_READ, blk_read}, {BLK_WRITE, blk_write},
    {BLK_FLUSH, blk_flush}, {BLK_ID, blk_id},     {RAMDISK_CHAOS, chaos},
};

static const char *arg(const char *args, const char *key, char *out, size_t size)
{
    const char *p = strstr(args, key);
    if (!p)
        return 0;
    strncpy_safe(out, p + strlen(key), size);
    for (char *q = out; *q; q++)
        if (*q == ' ')
            *q = '\0';
    return out;
}

int main(void)
{
    char args[256], val[32], name[24] = "ramdisk";
    kc_args(args, sizeof(args));
    uint64_t mib = 8;
    if (arg(args, "mib=", val, sizeof(val))) {
        mib = 0;
        for (const char *p = val; *p >= '0' && *p <= '9'; p++)
            mib = mib * 10 + (uint64_t)(*p - '0');
    }
    arg(args, "name=", name, sizeof(name));
    sectors = mib << 20 >> 9;
    size_t image = (size_t)(ramdisk_image_end - ramdisk_image);
    long err = 0;
    disk = mem_alloc_pages(sectors * SECTOR / 4096, &err); /* whole pages: 16 MiB is the most */
    if (!disk || image > sectors * SECTOR) {
        printf("ramdisk: cannot make a %lu MiB disk\n", (unsigned long)mib);
        return 1;
    }
    memcpy(disk, ramdisk_image, image);
    memset(disk + image, 0, sectors * SECTOR - image); /* what mkfs.fat left zero */
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    epoch = (uint64_t)hi << 32 | lo;
    struct server s = {.name = name, .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}
