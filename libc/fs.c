/*
 * THE FILE-SYSTEM HOOK. Granite has no file-system server yet, so the C
 * library's file calls meet an empty disk: paths do not exist (ENOENT) and
 * no file descriptor above 2 is open (EBADF). When the storage server
 * exists, its client provides a struct granite_fs_ops and granite_fs
 * points at it; nothing else in libc/ changes.
 */
#include <errno.h>
#include <granite/fs.h>

static int no_path(const char *path, int flags, int mode)
{
    (void)path, (void)flags, (void)mode;
    return -ENOENT;
}

static int no_fd(int fd)
{
    (void)fd;
    return -EBADF;
}

static long no_io(int fd, void *buf, size_t len)
{
    (void)fd, (void)buf, (void)len;
    return -EBADF;
}

static long no_write(int fd, const void *buf, size_t len)
{
    (void)fd, (void)buf, (void)len;
    return -EBADF;
}

static off_t no_seek(int fd, off_t offset, int whence)
{
    (void)fd, (void)offset, (void)whence;
    return -EBADF;
}

static int no_fstat(int fd, struct stat *st)
{
    (void)fd, (void)st;
    return -EBADF;
}

static int no_stat(const char *path, struct stat *st)
{
    (void)path, (void)st;
    return -ENOENT;
}

static int no_name(const char *path)
{
    (void)path;
    return -ENOENT;
}

static int no_rename(const char *from, const char *to)
{
    (void)from, (void)to;
    return -ENOENT;
}

static int no_readdir(int dirfd, struct dirent *out)
{
    (void)dirfd, (void)out;
    return -EBADF;
}

static const struct granite_fs_ops no_disk = {
    .open = no_path,
    .close = no_fd,
    .read = no_io,
    .write = no_write,
    .lseek = no_seek,
    .fstat = no_fstat,
    .stat = no_stat,
    .unlink = no_name,
    .rename = no_rename,
    .opendir = no_name,
    .readdir = no_readdir,
    .closedir = no_fd,
};

const struct granite_fs_ops *granite_fs = &no_disk;
