/*
 * File-system client (see ipc/fs.h): one message per call, paths inline
 * when short, data through a grant that lives for the call only.
 */
#include <common/string.h>
#include <ipc/fs.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>

static long server = -1; /* our handle to "fs" */
static uint32_t server_pid;
static uint64_t wait_ticks = 1000; /* a restarting server repairs its volume first */
static int never_seen;             /* "fs" was not there when we first looked */

#define FIRST_WAIT 100 /* at boot the server may not have registered yet */

void fs_set_wait(uint64_t ticks)
{
    wait_ticks = ticks;
}

/* A handle to the server: wait while it is being restarted (-E_AGAIN);
 * if it does not exist, wait a little the first time only (a system
 * without a disk answers at once after that). */
static long connect(void)
{
    if (server >= 0)
        return 0;
    long h = name_lookup("fs");
    if (h == -E_AGAIN && wait_ticks)
        h = name_lookup_wait("fs", wait_ticks);
    if (h == -E_NOENT && !never_seen && wait_ticks) {
        h = name_lookup_wait("fs", wait_ticks < FIRST_WAIT ? wait_ticks : FIRST_WAIT);
        never_seen = h == -E_NOENT;
    }
    if (h < 0)
        return h;
    long pid = ipc_handle_pid((uint64_t)h);
    if (pid < 0) {
        kc_cap_delete((uint64_t)h);
        return pid;
    }
    server = h;
    server_pid = (uint32_t)pid;
    return 0;
}

static void forget(void)
{
    if (server >= 0)
        kc_cap_delete((uint64_t)server);
    server = -1;
}

/* One request: words w1.. from m, the path (if any) in w1/w2/w4..w7, a
 * grant on buf (if any) in w[gword]. On success m holds the reply and the
 * server's status is returned. */
static long call(uint32_t label, struct ipc_msg *m, const char *path, size_t plen, void *buf,
                 size_t blen, uint32_t access, int gword)
{
    if (path && plen > 2 * FS_PATH_MAX + 1)
        return -E_NAMETOOLONG;
    for (int attempt = 0; attempt < 2; attempt++) {
        long rc = connect();
        if (rc < 0)
            return rc;
        struct ipc_msg req = *m;
        req.info = ipc_info(IPC_MSG_BYTES, label);
        int64_t pg = 0, bg = 0;
        if (path) {
            req.w[1] = plen;
            req.w[2] = 0;
            if (plen <= FS_PATH_INLINE) {
                memcpy(&req.w[4], path, plen);
            } else {
                pg = grant_create(server_pid, path, plen, GRANT_F_READ);
                if (pg < 0)
                    return pg;
                req.w[2] = (uint64_t)pg;
            }
        }
        if (buf) {
            bg = grant_create(server_pid, buf, blen, access);
            if (bg < 0) {
                if (pg > 0)
                    grant_revoke((uint64_t)pg);
                return bg;
            }
            req.w[gword] = (uint64_t)bg;
        }
        rc = ipc_call((uint64_t)server, &req);
        if (pg > 0)
            grant_revoke((uint64_t)pg);
        if (bg > 0)
            grant_revoke((uint64_t)bg);
        if (rc == -E_DEAD || rc == -E_BADHANDLE) {
            forget(); /* restarted: find the new one */
            continue;
        }
        if (rc < 0)
            return rc;
        *m = req;
        return (long)req.w[0];
    }
    return -E_DEAD;
}

static long path_call(uint32_t label, const char *path, uint64_t arg, struct ipc_msg *m)
{
    *m = (struct ipc_msg){0};
    m->w[3] = arg;
    size_t len = strlen(path);
    if (len > FS_PATH_MAX)
        return -E_NAMETOOLONG;
    return call(label, m, path, len, 0, 0, 0, 0);
}

long fs_open(const char *path, unsigned flags, uint64_t *handle, uint64_t *size)
{
    struct ipc_msg m;
    long rc = path_call(FS_OPEN, path, flags, &m);
    if (rc < 0)
        return rc;
    *handle = m.w[1];
    if (size)
        *size = m.w[2];
    return 0;
}

static long handle_call(uint32_t label, uint64_t handle, uint64_t w2, uint64_t w3,
                        struct ipc_msg *m)
{
    *m = (struct ipc_msg){0};
    m->w[1] = handle;
    m->w[2] = w2;
    m->w[3] = w3;
    return call(label, m, 0, 0, 0, 0, 0, 0);
}

long fs_close(uint64_t handle)
{
    struct ipc_msg m;
    return handle_call(FS_CLOSE, handle, 0, 0, &m);
}

/* Reads or writes in requests of FS_IO_MAX bytes. */
static long transfer(uint32_t label, uint64_t handle, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < FS_IO_MAX ? len - done : FS_IO_MAX;
        struct ipc_msg m = {0};
        m.w[1] = handle;
        m.w[3] = 0;
        m.w[4] = n;
        long rc = call(label, &m, 0, 0, (uint8_t *)buf + done, n,
                       label == FS_READ ? GRANT_F_WRITE : GRANT_F_READ, 2);
        if (rc < 0)
            return done ? (long)done : rc;
        done += (size_t)rc;
        if ((size_t)rc < n)
            break; /* end of file, or the disk is full */
    }
    return (long)done;
}

long fs_read(uint64_t handle, void *buf, size_t len)
{
    return transfer(FS_READ, handle, buf, len);
}

long fs_write(uint64_t handle, const void *buf, size_t len)
{
    return transfer(FS_WRITE, handle, (void *)buf, len);
}

long fs_seek(uint64_t handle, int64_t offset, int whence, uint64_t *pos)
{
    struct ipc_msg m;
    long rc = handle_call(FS_SEEK, handle, (uint64_t)offset, (uint64_t)whence, &m);
    if (rc >= 0 && pos)
        *pos = m.w[1];
    return rc;
}

long fs_truncate(uint64_t handle, uint64_t size)
{
    struct ipc_msg m;
    return handle_call(FS_TRUNCATE, handle, size, 0, &m);
}

static void get_stat(const struct ipc_msg *m, struct fs_stat *st)
{
    st->size = m->w[1];
    st->attr = (uint32_t)m->w[2];
    st->mtime = (int64_t)m->w[3];
    st->ctime = (int64_t)m->w[4];
}

long fs_stat(const char *path, struct fs_stat *st)
{
    struct ipc_msg m;
    long rc = path_call(FS_STAT, path, 0, &m);
    if (rc >= 0)
        get_stat(&m, st);
    return rc;
}

long fs_fstat(uint64_t handle, struct fs_stat *st)
{
    struct ipc_msg m;
    long rc = handle_call(FS_FSTAT, handle, 0, 0, &m);
    if (rc >= 0)
        get_stat(&m, st);
    return rc;
}

long fs_readdir(uint64_t handle, struct fs_dirent *out)
{
    struct ipc_msg m = {0};
    m.w[1] = handle;
    return call(FS_READDIR, &m, 0, 0, out, sizeof(*out), GRANT_F_WRITE, 2);
}

long fs_mkdir(const char *path)
{
    struct ipc_msg m;
    return path_call(FS_MKDIR, path, 0, &m);
}

long fs_unlink(const char *path)
{
    struct ipc_msg m;
    return path_call(FS_UNLINK, path, 0, &m);
}

long fs_rmdir(const char *path)
{
    struct ipc_msg m;
    return path_call(FS_UNLINK, path, FS_UNLINK_DIR, &m);
}

long fs_rename(const char *from, const char *to)
{
    char both[2 * (FS_PATH_MAX + 1)];
    size_t a = strlen(from), b = strlen(to);
    if (a > FS_PATH_MAX || b > FS_PATH_MAX)
        return -E_NAMETOOLONG;
    memcpy(both, from, a);
    both[a] = '\0';
    memcpy(both + a + 1, to, b);
    struct ipc_msg m = {0};
    return call(FS_RENAME, &m, both, a + 1 + b, 0, 0, 0, 0);
}

long fs_statfs(struct fs_statfs *st)
{
    struct ipc_msg m = {0};
    long rc = call(FS_STATFS, &m, 0, 0, 0, 0, 0, 0);
    if (rc >= 0)
        *st = (struct fs_statfs){(uint32_t)m.w[1], (uint32_t)m.w[2], m.w[3], m.w[4]};
    return rc;
}

long fs_sync(void)
{
    struct ipc_msg m = {0};
    return call(FS_SYNC, &m, 0, 0, 0, 0, 0, 0);
}
