/*
 * A disk in memory for the file-system tests: a block server speaking the
 * block protocol (abi/proto/blk.h) over MiB of memory-server pages that
 * start as a FAT32 volume made by mkfs.fat (ramdisk-image.sh). Its
 * arguments: "mib=N" (the image's size, as built), "name=NAME" to register.
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

extern const uint8_t ramdisk_image[], ramdisk_image_end[];

static uint8_t *disk;
static uint64_t sectors;
static uint64_t epoch;

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
    m->w[1] = epoch; /* memory: nothing volatile to flush */
    m->info = ipc_info(16, 0);
    return 0;
}

static long blk_id(struct ipc_msg *m)
{
    (void)m;
    return -E_NOSYS;
}

static const struct server_op ops[] = {
    {BLK_INFO, blk_info},   {BLK_READ, blk_read}, {BLK_WRITE, blk_write},
    {BLK_FLUSH, blk_flush}, {BLK_ID, blk_id},
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
    disk = malloc(sectors * SECTOR);
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
