/*
 * File-system client (abi/proto/fs.h): files and directories on the "fs"
 * server. Calls return 0 or a count on success, -E_* on failure. When the
 * server dies it is looked up again and the call is sent once more: calls
 * on a path simply happen (a mkdir that the dead instance had finished then
 * says -E_EXIST), calls on a handle get -E_STALE: open the file again.
 */
#ifndef IPC_FS_H
#define IPC_FS_H

#include <abi/errno.h>
#include <abi/proto/fs.h>
#include <stddef.h>
#include <stdint.h>

struct fs_stat {
    uint64_t size;
    uint32_t attr; /* FS_ATTR_* */
    int64_t mtime, ctime;
};

struct fs_statfs {
    uint32_t sector_size, cluster_size;
    uint64_t clusters, free_clusters;
};

/* Open path with FS_O_* flags; *handle for the other calls (size may be 0). */
long fs_open(const char *path, unsigned flags, uint64_t *handle, uint64_t *size);
long fs_close(uint64_t handle);
/* Read or write len bytes at the handle's position, FS_IO_MAX per request:
 * the bytes done (a read stops at the end of the file), or an error if
 * none was. A write that returned is durable. */
long fs_read(uint64_t handle, void *buf, size_t len);
long fs_write(uint64_t handle, const void *buf, size_t len);
/* New position in *pos (may be 0). */
long fs_seek(uint64_t handle, int64_t offset, int whence, uint64_t *pos);
long fs_truncate(uint64_t handle, uint64_t size);
long fs_stat(const char *path, struct fs_stat *st);
long fs_fstat(uint64_t handle, struct fs_stat *st);
/* The next entry of a directory opened with FS_O_DIR: 1, or 0 at the end. */
long fs_readdir(uint64_t handle, struct fs_dirent *out);
long fs_mkdir(const char *path);
long fs_unlink(const char *path);
long fs_rmdir(const char *path);
long fs_rename(const char *from, const char *to);
long fs_statfs(struct fs_statfs *st);
/* Everything durable and the volume marked clean (before a power-off). */
long fs_sync(void);

/* How long a call waits for a restarting server to come back, in ticks
 * (default 1000); 0 asks once. A system without the server answers
 * -E_NOENT at once after the first call. */
void fs_set_wait(uint64_t ticks);

#endif
