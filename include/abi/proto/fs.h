/*
 * File-system protocol, served by the FAT32 server (servers/fs) under the
 * name "fs". Replies: w0 = status (>= 0 success, -E_* error). Paths are
 * absolute, UTF-8, '/'-separated; "." and ".." are refused (-E_INVAL).
 *
 * Paths travel as: w1 = length in bytes (no NUL), w2 = a READ grant on the
 * bytes, or 0 with the bytes inline in w4..w7 (up to FS_PATH_INLINE);
 * w3 is the request's own argument. FS_RENAME sends "from\0to".
 *
 * Handles are the server's: opaque 64-bit values, good only for the
 * process that opened them. One from an earlier instance of the server
 * (it died and was restarted) gets -E_STALE: open the file again. Each
 * client holds at most FS_CLIENT_FILES open files (-E_LIMIT past that);
 * they are closed when it dies.
 *
 * Acknowledged: a FS_WRITE (and every call that changes the volume) is
 * answered only after the change is durable on the disk, so a write that
 * returned survives a crash of the server, the driver or the machine. An
 * error leaves the file as the operation allows (docs/storage.md).
 */
#ifndef ABI_PROTO_FS_H
#define ABI_PROTO_FS_H

#include <stdint.h>

/* clang-format off */
#define FS_OPEN     0x600 /* path, w3 = FS_O_* -> w1 = handle, w2 = size, w3 = FS_ATTR_* */
#define FS_CLOSE    0x601 /* w1 = handle */
#define FS_READ     0x602 /* w1 = handle, w2 = WRITE grant, w3 = offset in it, w4 = length
                             (<= FS_IO_MAX) -> w0 = bytes read at the position (0: its end),
                             which moves on by that much */
#define FS_WRITE    0x603 /* w1 = handle, w2 = READ grant, w3 = offset in it, w4 = length
                             (<= FS_IO_MAX) -> w0 = bytes written at the position (at the end
                             with FS_O_APPEND), acknowledged; the position moves on */
#define FS_SEEK     0x604 /* w1 = handle, w2 = offset (signed), w3 = FS_SEEK_* -> w1 = position */
#define FS_STAT     0x605 /* path -> w1 = size, w2 = FS_ATTR_*, w3 = mtime, w4 = ctime
                             (seconds since 1970, as stored: FAT has no zone) */
#define FS_FSTAT    0x606 /* w1 = handle -> as FS_STAT */
#define FS_READDIR  0x607 /* w1 = handle of a directory, w2 = WRITE grant, w3 = offset in it
                             -> w0 = 1 and a struct fs_dirent written there, or 0 at the end */
#define FS_MKDIR    0x608 /* path */
#define FS_UNLINK   0x609 /* path, w3 = 0 a file, FS_UNLINK_DIR an empty directory */
#define FS_RENAME   0x60a /* "from\0to" as the path */
#define FS_STATFS   0x60b /* -> w1 = sector size, w2 = cluster size, w3 = clusters, w4 = free */
#define FS_TRUNCATE 0x60c /* w1 = handle, w2 = new size */
#define FS_SYNC     0x60d /* -> everything durable and the volume marked clean (before a
                             power-off; the server also does it when idle) */

#define FS_O_READ   0x01
#define FS_O_WRITE  0x02
#define FS_O_CREATE 0x04
#define FS_O_EXCL   0x08
#define FS_O_TRUNC  0x10
#define FS_O_APPEND 0x20
#define FS_O_DIR    0x40 /* the path must be a directory (to read its entries) */

#define FS_SEEK_SET 0
#define FS_SEEK_CUR 1
#define FS_SEEK_END 2

#define FS_UNLINK_DIR 1

#define FS_ATTR_RDONLY 0x01 /* the FAT attribute byte */
#define FS_ATTR_DIR    0x10

#define FS_PATH_INLINE  32         /* bytes of a path carried in w4..w7 */
#define FS_PATH_MAX     1023       /* bytes in a path (-E_NAMETOOLONG past it) */
#define FS_NAME_BYTES   768        /* a name in UTF-8 with its NUL: 255 UTF-16 units */
#define FS_IO_MAX       (1u << 20) /* bytes per FS_READ / FS_WRITE */
#define FS_CLIENT_FILES 16         /* open files per client process */
/* clang-format on */

struct fs_dirent {
    uint32_t size;
    uint8_t attr; /* FS_ATTR_* */
    uint8_t pad[3];
    int64_t mtime;
    char name[FS_NAME_BYTES]; /* NUL-terminated */
};
_Static_assert(sizeof(struct fs_dirent) == 784, "fs_dirent is ABI");

#endif
