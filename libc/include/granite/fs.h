/*
 * The file-system hook of Granite's C library: every file call that is not
 * on the console (fd 0-2) goes through granite_fs, which libc/fs.c points
 * at the file-system server's client.
 */
#ifndef GRANITE_FS_H
#define GRANITE_FS_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Each returns what the POSIX call does, but with -errno instead of
 * setting errno (the C library's wrappers set it). File descriptors the
 * hook hands out are >= 3: 0, 1 and 2 are the console's. */
struct granite_fs_ops {
    int (*open)(const char *path, int flags, int mode);
    int (*close)(int fd);
    long (*read)(int fd, void *buf, size_t len);
    long (*write)(int fd, const void *buf, size_t len);
    off_t (*lseek)(int fd, off_t offset, int whence);
    int (*fstat)(int fd, struct stat *st);
    int (*stat)(const char *path, struct stat *st);
    int (*unlink)(const char *path);
    int (*rename)(const char *from, const char *to);
    int (*mkdir)(const char *path, int mode);
    int (*rmdir)(const char *path);
    /* Directories: open one, then read entries until 0 (end) or -errno. */
    int (*opendir)(const char *path);
    int (*readdir)(int dirfd, struct dirent *out);
    int (*closedir)(int dirfd);
};

/* The hook itself (fs.c). */
extern const struct granite_fs_ops *granite_fs;

#endif
