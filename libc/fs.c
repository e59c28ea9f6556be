/*
 * THE FILE-SYSTEM HOOK: the C library's file calls on the file-system
 * server, through libipc's client (ipc/fs.h). File descriptors from 3 up
 * name the server's handles; paths are made absolute ("/" is the only
 * current directory) and "." and ".." are resolved here, by name, as
 * POSIX does without symbolic links. Without a server every path is
 * ENOENT.
 */
#include <errno.h>
#include <fcntl.h>
#include <granite/fs.h>
#include <ipc/fs.h>
#include <string.h>

#define FIRST_FD 3
#define FDS      (2 * FS_CLIENT_FILES) /* the server refuses past FS_CLIENT_FILES */

static struct {
    int used;
    uint64_t handle;
} fds[FDS];

/* The server's error as an errno. */
static int errno_of(long rc)
{
    switch (-rc) {
    case E_NOENT:
        return ENOENT;
    case E_EXIST:
        return EEXIST;
    case E_NOTDIR:
        return ENOTDIR;
    case E_ISDIR:
        return EISDIR;
    case E_NOTEMPTY:
        return ENOTEMPTY;
    case E_NAMETOOLONG:
        return ENAMETOOLONG;
    case E_NOSPC:
        return ENOSPC;
    case E_PERM:
        return EACCES;
    case E_INVAL:
        return EINVAL;
    case E_BADHANDLE:
        return EBADF;
    case E_STALE:
        return ESTALE;
    case E_LIMIT:
        return EMFILE;
    case E_BUSY:
        return EBUSY;
    case E_RANGE:
        return EFBIG;
    case E_NOMEM:
        return ENOMEM;
    default:
        return EIO;
    }
}

static long err(long rc)
{
    return rc < 0 ? -errno_of(rc) : rc;
}

/* path made absolute and canonical into out: repeated slashes, "." and
 * ".." (which stops at the root) resolved. */
static int canonical(const char *path, char *out)
{
    if (!path || !*path)
        return -ENOENT;
    size_t n = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - p);
        if (len == 0)
            break;
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[--n] != '/')
                ;
        } else {
            if (n + 1 + len > FS_PATH_MAX)
                return -ENAMETOOLONG;
            out[n] = '/';
            memcpy(out + n + 1, p, len);
            n += 1 + len;
        }
        p = e;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return 0;
}

static int new_fd(uint64_t handle)
{
    for (int i = 0; i < FDS; i++)
        if (!fds[i].used) {
            fds[i].used = 1;
            fds[i].handle = handle;
            return FIRST_FD + i;
        }
    fs_close(handle);
    return -EMFILE;
}

static int handle_of(int fd, uint64_t *h)
{
    if (fd < FIRST_FD || fd >= FIRST_FD + FDS || !fds[fd - FIRST_FD].used)
        return -EBADF;
    *h = fds[fd - FIRST_FD].handle;
    return 0;
}

static int fs_open_fd(const char *path, int flags, int mode)
{
    (void)mode; /* FAT keeps no permissions but read-only */
    static char abs[FS_PATH_MAX + 1];
    int rc = canonical(path, abs);
    if (rc < 0)
        return rc;
    unsigned f = 0;
    int acc = flags & O_ACCMODE;
    f |= acc == O_WRONLY ? FS_O_WRITE : acc == O_RDWR ? FS_O_READ | FS_O_WRITE : FS_O_READ;
    f |= flags & O_CREAT ? FS_O_CREATE : 0;
    f |= flags & O_EXCL ? FS_O_EXCL : 0;
    f |= flags & O_TRUNC ? FS_O_TRUNC : 0;
    f |= flags & O_APPEND ? FS_O_APPEND : 0;
    uint64_t h;
    long r = fs_open(abs, f, &h, 0);
    if (r < 0)
        return (int)err(r);
    return new_fd(h);
}

static int fs_close_fd(int fd)
{
    uint64_t h;
    int rc = handle_of(fd, &h);
    if (rc < 0)
        return rc;
    fds[fd - FIRST_FD].used = 0; /* gone whatever the server says (stale, say) */
    return (int)err(fs_close(h));
}

static long fs_read_fd(int fd, void *buf, size_t len)
{
    uint64_t h;
    int rc = handle_of(fd, &h);
    return rc < 0 ? rc : err(fs_read(h, buf, len));
}

static long fs_write_fd(int fd, const void *buf, size_t len)
{
    uint64_t h;
    int rc = handle_of(fd, &h);
    return rc < 0 ? rc : err(fs_write(h, buf, len));
}

static off_t fs_lseek_fd(int fd, off_t offset, int whence)
{
    uint64_t h, pos;
    int rc = handle_of(fd, &h);
    if (rc < 0)
        return rc;
    long r = fs_seek(h, offset, whence, &pos);
    return r < 0 ? (off_t)err(r) : (off_t)pos;
}

static void to_stat(const struct fs_stat *in, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = in->attr & FS_ATTR_DIR ? S_IFDIR | 0755
                                         : S_IFREG | (in->attr & FS_ATTR_RDONLY ? 0444 : 0644);
    st->st_nlink = 1;
    st->st_size = (off_t)in->size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((in->size + 511) / 512);
    st->st_mtime = in->mtime;
    st->st_atime = in->mtime;
    st->st_ctime = in->ctime;
}

static int fs_fstat_fd(int fd, struct stat *st)
{
    uint64_t h;
    int rc = handle_of(fd, &h);
    if (rc < 0)
        return rc;
    struct fs_stat s;
    long r = fs_fstat(h, &s);
    if (r < 0)
        return (int)err(r);
    to_stat(&s, st);
    return 0;
}

static int fs_stat_path(const char *path, struct stat *st)
{
    static char abs[FS_PATH_MAX + 1];
    int rc = canonical(path, abs);
    if (rc < 0)
        return rc;
    struct fs_stat s;
    long r = fs_stat(abs, &s);
    if (r < 0)
        return (int)err(r);
    to_stat(&s, st);
    return 0;
}

static int fs_unlink_path(const char *path)
{
    static char abs[FS_PATH_MAX + 1];
    int rc = canonical(path, abs);
    return rc < 0 ? rc : (int)err(fs_unlink(abs));
}

static int fs_rmdir_path(const char *path)
{
    static char abs[FS_PATH_MAX + 1];
    int rc = canonical(path, abs);
    return rc < 0 ? rc : (int)err(fs_rmdir(abs));
}

static int fs_mkdir_path(const char *path, int mode)
{
    (void)mode;
    static char abs[FS_PATH_MAX + 1];
    int rc = canonical(path, abs);
    return rc < 0 ? rc : (int)err(fs_mkdir(abs));
}

/* POSIX rename replaces a file at the target; the server refuses an
 * existing target, so that file is removed first (not atomic: a crash in
 * between leaves neither at the target, the source intact). */
static int fs_rename_path(const char *from, const char *to)
{
    static char a[FS_PATH_MAX + 1], b[FS_PATH_MAX + 1];
    int rc = canonical(from, a);
    if (rc == 0)
        rc = canonical(to, b);
    if (rc < 0)
        return rc;
    long r = fs_rename(a, b);
    struct fs_stat st;
    if (r == -E_EXIST && fs_stat(a, &st) == 0 && fs_stat(b, &st) == 0 && !(st.attr & FS_ATTR_DIR)) {
        r = fs_unlink(b);
        if (r == 0)
            r = fs_rename(a, b);
    }
    return (int)err(r);
}

static int fs_opendir_fd(const char *path)
{
    static char abs[FS_PATH_MAX + 1];
    int rc = canonical(path, abs);
    if (rc < 0)
        return rc;
    uint64_t h;
    long r = fs_open(abs, FS_O_DIR | FS_O_READ, &h, 0);
    return r < 0 ? (int)err(r) : new_fd(h);
}

static int fs_readdir_fd(int fd, struct dirent *out)
{
    uint64_t h;
    int rc = handle_of(fd, &h);
    if (rc < 0)
        return rc;
    static struct fs_dirent e;
    long r = fs_readdir(h, &e);
    if (r <= 0)
        return (int)err(r);
    memset(out, 0, sizeof(*out));
    out->d_type = e.attr & FS_ATTR_DIR ? DT_DIR : DT_REG;
    size_t n = strnlen(e.name, sizeof(out->d_name) - 1);
    memcpy(out->d_name, e.name, n);
    out->d_name[n] = '\0';
    return 1;
}

static const struct granite_fs_ops server_ops = {
    .open = fs_open_fd,
    .close = fs_close_fd,
    .read = fs_read_fd,
    .write = fs_write_fd,
    .lseek = fs_lseek_fd,
    .fstat = fs_fstat_fd,
    .stat = fs_stat_path,
    .unlink = fs_unlink_path,
    .rename = fs_rename_path,
    .mkdir = fs_mkdir_path,
    .rmdir = fs_rmdir_path,
    .opendir = fs_opendir_fd,
    .readdir = fs_readdir_fd,
    .closedir = fs_close_fd,
};

const struct granite_fs_ops *granite_fs = &server_ops;
