/*
 * Host-side helpers for the FAT32 tests: a block device over memory or a
 * file (with write counting, failure injection and power cuts that may
 * reorder writes between flushes), and runners for the real tools
 * (mkfs.fat, fsck.fat, mtools) whose verdict the tests rest on.
 */
#ifndef FAT_TOOLS_H
#define FAT_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "fat.h"

struct tdev_pend {
    uint64_t block;
    uint8_t data[FAT_DEV_BLOCK];
};

struct tdev {
    uint8_t *mem;     /* the image as reads see it (NULL: file mode) */
    uint8_t *durable; /* what survives a power cut (NULL: no crash model) */
    int fd;           /* file mode */
    uint64_t blocks;
    uint32_t align;      /* the device's sector in blocks (0: 1); requests must respect it */
    uint32_t max_blocks; /* most blocks per request (0: no limit) */
    long budget; /* blocks that may still be written (< 0: no limit); at 0 the next write or flush
                    finds the power gone */
    int dead;    /* the power went: every call fails */
    long fail_read;         /* fail this read request (counting from 1) once, -E_IO */
    long fail_write;        /* fail this write request (counting from 1) once, -E_IO */
    long fail_flush;        /* fail this flush once */
    struct tdev_pend *pend; /* written since the last flush (crash model) */
    size_t npend, cap;
    uint64_t *log;       /* if set: wblocks at the start of each write request, */
    uint64_t *log_block; /* and the block it writes */
    size_t nlog, logcap;
    unsigned long reads, writes, flushes;
    uint64_t rblocks, wblocks;
};

/* An image file made by mkfs.fat -F 32 with `opts` (space-separated), of
 * `kib` KiB. */
void tool_mkfs(const char *path, unsigned long kib, const char *opts);
/* Device over the whole file, in memory (crash: with the power-cut model). */
void tdev_load(struct tdev *d, const char *path, int crash);
/* Device reading and writing the file itself. */
void tdev_file(struct tdev *d, const char *path);
void tdev_save(const struct tdev *d, const char *path);
void tdev_free(struct tdev *d);
/* The power goes now: writes since the last flush reach the durable image
 * or not, each by a coin from `seed`, in order; then the device comes back
 * with the durable image. */
void tdev_crash(struct tdev *d, uint64_t seed);
/* The power went with `durable` on the media and `pend` in flight: the
 * device comes back with durable plus the pending writes that `mask`
 * selects (bit i: pend[i]). */
void tdev_crash_mask(struct tdev *d, const uint8_t *durable, const struct tdev_pend *pend,
                     size_t npend, uint64_t mask);
struct fat_dev tdev_ops(struct tdev *d);
/* Start recording write requests in d->log and d->log_block. */
void tdev_log_start(struct tdev *d);

/* A mounted volume with its memory. */
struct tvol {
    struct fat_vol v;
    uint8_t cache[FAT_CACHE_SLOTS_MAX * FAT_SECTOR_MAX];
    uint8_t *scratch;
    struct tdev *d;
};
int tvol_mount(struct tvol *t, struct tdev *d, unsigned flags, size_t cache_bytes);

/* Runs argv; returns the exit status and the output (stdout and stderr
 * together, NUL-terminated, caller frees) in *out. */
int tool_run(char *const argv[], char **out, size_t *len);
/* fsck.fat -n finds nothing: exit 0 and no line but its banner, its
 * summary and the small-FAT32 warning. Fails the test otherwise. Returns
 * the used cluster count it reported. */
long tool_fsck_clean(const char *img);
/* fsck.fat -n output and status, for tests that expect complaints. */
int tool_fsck(const char *img, char **out);
/* mcopy -i img ::path - : the file's bytes (caller frees), or NULL. */
uint8_t *tool_mcat(const char *img, const char *path, size_t *len);
/* mdir -/ -b: every path below the root, one per line, directories with a
 * trailing '/', sorted (caller frees). */
char *tool_mlist(const char *img);
/* Runs an mtools command on img: argv[0] is the tool, "-i img" is added. */
int tool_mtools(const char *tool, const char *img, const char *a1, const char *a2);
/* A path in the work directory (one of four buffers, reused in turn). */
const char *work_path(const char *name);

#endif
