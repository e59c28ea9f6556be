/*
 * The file-system server: the FAT32 core (fat.h) on a block server
 * (fs_blk.h), serving abi/proto/fs.h under the name "fs". One request at
 * a time; a change is answered only after fat_sync (so "answered" means
 * "durable"); the volume is marked clean when idle.
 */
#include <abi/proto/fs.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "fat.h"
#include "fs_blk.h"

/* clang-format off */
#define FILES_MAX     64   /* open files, all clients together */
#define IDLE_TICKS    50   /* mark clean and look for dead clients after 0.5 s without work */
#define CACHE_SECTORS 64   /* the core's block cache */
#define LOG_BYTES     (FS_IO_MAX + (256u << 10)) /* a write request and its commit's metadata */
#define MOUNT_TICKS   1000 /* how long the first mount waits for a running block server */
/* clang-format on */

/* An open file: slot i, named to its owner by handle_of(i). */
struct file {
    uint32_t owner; /* the client's pid; 0: free */
    uint16_t gen;   /* bumped when the slot is freed: old handles fail */
    uint8_t mode;   /* FS_O_READ, FS_O_WRITE, FS_O_APPEND; FS_O_DIR for a directory */
    int fat;        /* the core's handle */
    uint64_t pos;   /* bytes; a directory's: the index of the next entry */
};

static struct file files[FILES_MAX];
static uint32_t instance; /* in every handle: a restarted server refuses the old ones */

static struct fat_vol vol;
static struct fs_blk blk;
static int mounted;
static int dirty;                  /* changed since the volume was last marked clean */
static char dev_name[24] = "disk"; /* the block server's name (dev=) */

static uint8_t *io; /* FS_IO_MAX bytes: the data of one read or write */
static char path_a[2 * (FS_PATH_MAX + 1)], path_b[FS_PATH_MAX + 1];
static struct fat_dirent dent;
static struct fs_dirent out_dent;

/* ---- the volume ---- */

static int64_t now(void *ctx)
{
    (void)ctx;
    uint64_t ticks, hz, khz, unix_s, tsc0;
    kc_time(&ticks, &hz, &khz, &unix_s, &tsc0);
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t tsc = (uint64_t)hi << 32 | lo;
    return (int64_t)(unix_s + (khz ? (tsc - tsc0) / khz / 1000 : 0));
}

static int mount(uint64_t wait)
{
    struct fat_dev dev;
    static uint8_t *log, *cache, *scratch;
    /* No memory is taken before there is a disk: a system without one
     * pays nothing for the server. */
    long h = wait ? name_lookup_wait(dev_name, wait) : name_lookup(dev_name);
    if (h < 0)
        return (int)h;
    kc_cap_delete((uint64_t)h);
    if (!io)
        io = malloc(FS_IO_MAX);
    if (!log)
        log = malloc(LOG_BYTES);
    if (!io || !log)
        return -E_NOMEM;
    int rc = fs_blk_open(&blk, dev_name, wait, log, LOG_BYTES, &dev);
    if (rc < 0)
        return rc;
    fs_blk_stable(&blk, io, FS_IO_MAX); /* op_write settles before io changes */
    size_t cache_bytes = (size_t)CACHE_SECTORS * dev.sector_size;
    size_t scratch_bytes = FAT_SCRATCH_BYTES(dev.blocks);
    if (!cache)
        cache = malloc((size_t)CACHE_SECTORS * FAT_SECTOR_MAX);
    static size_t scratch_have;
    if (scratch_have < scratch_bytes) { /* a bigger disk than at the last mount */
        free(scratch);
        scratch = malloc(scratch_bytes);
        scratch_have = scratch ? scratch_bytes : 0;
    }
    if (!cache || !scratch) {
        fs_blk_close(&blk);
        return -E_NOMEM;
    }
    struct fat_config cfg = {
        .dev = dev,
        .cache = cache,
        .cache_bytes = cache_bytes,
        .scratch = scratch,
        .scratch_bytes = scratch_bytes,
        .now = now,
    };
    rc = fat_mount(&vol, &cfg);
    if (rc < 0) {
        fs_blk_close(&blk); /* each later request tries again */
        return rc;
    }
    mounted = 1;
    struct fat_statfs st;
    fat_statfs(&vol, &st);
    const struct fat_check_report *r = fat_last_check(&vol);
    printf("fs: mounted \"%s\": %lu MiB, %u-byte clusters, %u of %u free%s\n", dev_name,
           (unsigned long)((uint64_t)st.clusters * st.cluster_size >> 20), st.cluster_size,
           st.free_clusters, st.clusters, r->ran ? "; it was not cleanly unmounted: repaired" : "");
    if (r->ran)
        printf("fs: repair: %u lost clusters freed, %u chains cut, %u sizes fixed, %u entries "
               "removed\n",
               r->lost_freed, r->chains_cut, r->sizes_fixed, r->entries_removed);
    return 0;
}

/* Make the operations done so far durable: the acknowledgment point. */
static long sync(long status)
{
    dirty = 1;
    long rc = fat_sync(&vol);
    return rc < 0 ? rc : status;
}

/* ---- clients and their files ---- */

static uint64_t handle_of(int i)
{
    return (uint64_t)instance << 32 | (uint64_t)files[i].gen << 16 | (uint64_t)i;
}

/* The caller's open file behind handle h. */
static long file_of(const struct ipc_msg *m, uint64_t h, struct file **f)
{
    uint32_t inst = (uint32_t)(h >> 32);
    if (inst == 0)
        return -E_BADHANDLE;
    if (inst != instance)
        return -E_STALE;
    uint32_t i = (uint32_t)(h & 0xffff);
    if (i >= FILES_MAX || !files[i].owner || files[i].owner != badge_pid(m->badge) ||
        files[i].gen != (uint16_t)(h >> 16))
        return -E_BADHANDLE;
    *f = &files[i];
    return 0;
}

static void file_free(struct file *f)
{
    fat_close(&vol, f->fat);
    f->owner = 0;
    f->gen++;
}

/* Close the files of clients that died (there is no death notice for
 * servers other than the memory server: we look). */
static void sweep_dead(void)
{
    enum { PROCS = 256 };
    static uint32_t live[PROCS];
    int n = 0, any = 0;
    for (int i = 0; i < FILES_MAX; i++)
        any |= files[i].owner != 0;
    if (!any)
        return;
    struct kc_proc_info p;
    for (uint32_t slot = 0; n < PROCS; slot++) {
        long rc = kc_proc_info(slot, &p);
        if (rc == -E_RANGE)
            break;
        if (rc == 0)
            live[n++] = p.pid;
    }
    for (int i = 0; i < FILES_MAX; i++) {
        if (!files[i].owner)
            continue;
        int alive = 0;
        for (int j = 0; j < n && !alive; j++)
            alive = live[j] == files[i].owner;
        if (!alive)
            file_free(&files[i]);
    }
}

/* A free slot for client pid: -E_LIMIT past FS_CLIENT_FILES or when all
 * are taken (after closing what dead clients left). */
static long file_slot(uint32_t pid)
{
    for (int pass = 0; pass < 2; pass++) {
        int mine = 0, free_slot = -1;
        for (int i = 0; i < FILES_MAX; i++) {
            if (files[i].owner == pid)
                mine++;
            else if (!files[i].owner && free_slot < 0)
                free_slot = i;
        }
        if (mine < FS_CLIENT_FILES && free_slot >= 0)
            return free_slot;
        if (mine >= FS_CLIENT_FILES)
            return -E_LIMIT;
        sweep_dead();
    }
    return -E_LIMIT;
}

static int files_open(void)
{
    for (int i = 0; i < FILES_MAX; i++)
        if (files[i].owner)
            return 1;
    return 0;
}

/* ---- requests ---- */

/* The request's path (w1 length, w2 grant or inline in w4..w7) into buf,
 * NUL-terminated. Returns its length. */
static long get_path(const struct ipc_msg *m, char *buf, uint64_t max)
{
    uint64_t len = m->w[1];
    if (len == 0)
        return -E_INVAL;
    if (len > max)
        return -E_NAMETOOLONG;
    if (m->w[2] == 0) {
        if (len > FS_PATH_INLINE)
            return -E_INVAL;
        memcpy(buf, &m->w[4], len);
    } else {
        long rc = grant_copy_from(badge_pid(m->badge), m->w[2], 0, buf, len);
        if (rc < 0)
            return rc;
    }
    buf[len] = '\0';
    return (long)len;
}

/* One path: no NUL inside, absolute. */
static long one_path(const struct ipc_msg *m, char *buf)
{
    long len = get_path(m, buf, FS_PATH_MAX);
    if (len < 0)
        return len;
    if ((long)strlen(buf) != len || buf[0] != '/')
        return -E_INVAL;
    return 0;
}

static void put_stat(struct ipc_msg *m, const struct fat_stat *st)
{
    m->w[1] = st->size;
    m->w[2] = st->attr;
    m->w[3] = (uint64_t)st->mtime;
    m->w[4] = (uint64_t)st->ctime;
    m->info = ipc_info(40, 0);
}

static long op_open(struct ipc_msg *m)
{
    uint64_t flags = m->w[3];
    const uint64_t known =
        FS_O_READ | FS_O_WRITE | FS_O_CREATE | FS_O_EXCL | FS_O_TRUNC | FS_O_APPEND | FS_O_DIR;
    if (flags & ~known)
        return -E_INVAL;
    if ((flags & FS_O_TRUNC) && !(flags & FS_O_WRITE))
        return -E_PERM;
    long rc = one_path(m, path_a);
    if (rc < 0)
        return rc;
    uint32_t pid = badge_pid(m->badge);
    long slot = file_slot(pid);
    if (slot < 0)
        return slot;
    unsigned fl = (flags & FS_O_CREATE ? FAT_O_CREATE : 0) | (flags & FS_O_EXCL ? FAT_O_EXCL : 0) |
                  (flags & FS_O_TRUNC ? FAT_O_TRUNC : 0) | (flags & FS_O_DIR ? FAT_O_DIR : 0);
    int h = fat_open(&vol, path_a, fl);
    if (h < 0)
        return h;
    struct fat_stat st;
    rc = fat_stat(&vol, h, &st);
    if (rc == 0 && (flags & FS_O_WRITE) && (st.attr & (FAT_ATTR_RDONLY | FAT_ATTR_DIR)))
        rc = st.attr & FAT_ATTR_DIR ? -E_ISDIR : -E_PERM;
    if (rc == 0 && (flags & (FS_O_CREATE | FS_O_TRUNC)))
        rc = sync(0); /* a new or emptied file is acknowledged like a write */
    if (rc < 0) {
        fat_close(&vol, h);
        return rc;
    }
    struct file *f = &files[slot];
    f->owner = pid;
    f->fat = h;
    f->pos = 0;
    f->mode = (uint8_t)(flags & (FS_O_READ | FS_O_WRITE | FS_O_APPEND));
    if (st.attr & FAT_ATTR_DIR)
        f->mode = FS_O_DIR;
    m->w[1] = handle_of((int)slot);
    m->w[2] = st.size;
    m->w[3] = st.attr;
    m->info = ipc_info(32, 0);
    return 0;
}

static long op_close(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    file_free(f);
    return 0;
}

static long op_read(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    if (f->mode & FS_O_DIR)
        return -E_ISDIR;
    if (!(f->mode & FS_O_READ))
        return -E_PERM;
    size_t len = m->w[4] < FS_IO_MAX ? (size_t)m->w[4] : FS_IO_MAX;
    /* Whole sectors go from the driver straight into the client's grant;
     * the rest (partial sectors, from the cache) is copied from io after.
     * The client may have revoked its grant meanwhile: then it gets the
     * kernel's error and its position stays. */
    fs_blk_direct(&blk, io, len, badge_pid(m->badge), m->w[2], m->w[3]);
    long n = fat_read(&vol, f->fat, f->pos, io, len);
    rc = fs_blk_direct_end(&blk, n > 0 ? (size_t)n : 0);
    if (rc < 0)
        return rc;
    if (n <= 0)
        return n;
    f->pos += (uint64_t)n;
    return n;
}

static long op_write(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    if (f->mode & FS_O_DIR)
        return -E_ISDIR;
    if (!(f->mode & FS_O_WRITE))
        return -E_PERM;
    size_t len = m->w[4] < FS_IO_MAX ? (size_t)m->w[4] : FS_IO_MAX;
    if (len == 0)
        return 0;
    rc = grant_copy_from(badge_pid(m->badge), m->w[2], m->w[3], io, len);
    if (rc < 0)
        return rc;
    uint64_t off = f->pos;
    if (f->mode & FS_O_APPEND) {
        struct fat_stat st;
        rc = fat_stat(&vol, f->fat, &st);
        if (rc < 0)
            return rc;
        off = st.size;
    }
    long n = fat_write(&vol, f->fat, off, io, len);
    rc = n < 0 ? n : sync(n);
    fs_blk_settle(&blk); /* usually nothing: the sync's flush dropped what it made durable */
    if (rc < 0)
        return rc; /* not acknowledged: the position stays, so the same call is a retry */
    f->pos = off + (uint64_t)n;
    return n;
}

static long op_seek(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    int64_t off = (int64_t)m->w[2], base;
    if (m->w[3] == FS_SEEK_SET) {
        base = 0;
    } else if (m->w[3] == FS_SEEK_CUR) {
        base = (int64_t)f->pos;
    } else if (m->w[3] == FS_SEEK_END) {
        struct fat_stat st;
        rc = fat_stat(&vol, f->fat, &st);
        if (rc < 0)
            return rc;
        base = st.size;
    } else {
        return -E_INVAL;
    }
    if ((f->mode & FS_O_DIR) && (m->w[3] != FS_SEEK_SET || off != 0))
        return -E_INVAL; /* a directory only rewinds */
    if (off < -base || off > (int64_t)FAT_FILE_MAX - base)
        return off < -base ? -E_INVAL : -E_RANGE;
    f->pos = (uint64_t)(base + off);
    m->w[1] = f->pos;
    m->info = ipc_info(16, 0);
    return 0;
}

static long op_stat(struct ipc_msg *m)
{
    long rc = one_path(m, path_a);
    if (rc < 0)
        return rc;
    struct fat_stat st;
    rc = fat_stat_path(&vol, path_a, &st);
    if (rc < 0)
        return rc;
    put_stat(m, &st);
    return 0;
}

static long op_fstat(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    struct fat_stat st;
    rc = fat_stat(&vol, f->fat, &st);
    if (rc < 0)
        return rc;
    put_stat(m, &st);
    return 0;
}

static long op_readdir(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    if (!(f->mode & FS_O_DIR))
        return -E_NOTDIR;
    if (f->pos > 0xffffffffu)
        return 0;
    uint32_t pos = (uint32_t)f->pos;
    rc = fat_readdir(&vol, f->fat, &pos, &dent);
    if (rc <= 0)
        return rc;
    memset(&out_dent, 0, sizeof(out_dent));
    out_dent.size = dent.st.size;
    out_dent.attr = dent.st.attr;
    out_dent.mtime = dent.st.mtime;
    strncpy_safe(out_dent.name, dent.name, sizeof(out_dent.name));
    rc = grant_copy_to(badge_pid(m->badge), m->w[2], m->w[3], &out_dent, sizeof(out_dent));
    if (rc < 0)
        return rc;
    f->pos = pos;
    return 1;
}

static long op_mkdir(struct ipc_msg *m)
{
    long rc = one_path(m, path_a);
    if (rc < 0)
        return rc;
    rc = fat_mkdir(&vol, path_a);
    return rc < 0 ? rc : sync(0);
}

static long op_unlink(struct ipc_msg *m)
{
    if (m->w[3] & ~(uint64_t)FS_UNLINK_DIR)
        return -E_INVAL;
    long rc = one_path(m, path_a);
    if (rc < 0)
        return rc;
    for (int pass = 0; pass < 2; pass++) {
        rc = m->w[3] ? fat_rmdir(&vol, path_a) : fat_unlink(&vol, path_a);
        if (rc != -E_BUSY)
            break;
        sweep_dead(); /* perhaps a dead client still holds it open */
    }
    return rc < 0 ? rc : sync(0);
}

static long op_rename(struct ipc_msg *m)
{
    long len = get_path(m, path_a, 2 * FS_PATH_MAX + 1);
    if (len < 0)
        return len;
    size_t first = strlen(path_a);
    if ((long)first >= len - 1)
        return -E_INVAL;
    const char *to = path_a + first + 1;
    if ((long)(first + 1 + strlen(to)) != len || path_a[0] != '/' || to[0] != '/')
        return -E_INVAL;
    if (strlen(to) > FS_PATH_MAX || first > FS_PATH_MAX)
        return -E_NAMETOOLONG;
    strncpy_safe(path_b, to, sizeof(path_b));
    long rc = fat_rename(&vol, path_a, path_b);
    return rc < 0 ? rc : sync(0);
}

static long op_statfs(struct ipc_msg *m)
{
    struct fat_statfs st;
    long rc = fat_statfs(&vol, &st);
    if (rc < 0)
        return rc;
    m->w[1] = st.sector_size;
    m->w[2] = st.cluster_size;
    m->w[3] = st.clusters;
    m->w[4] = st.free_clusters;
    m->info = ipc_info(40, 0);
    return 0;
}

static long op_truncate(struct ipc_msg *m)
{
    struct file *f;
    long rc = file_of(m, m->w[1], &f);
    if (rc < 0)
        return rc;
    if (!(f->mode & FS_O_WRITE))
        return -E_PERM;
    rc = fat_truncate(&vol, f->fat, m->w[2]);
    return rc < 0 ? rc : sync(0);
}

static long op_sync(struct ipc_msg *m)
{
    (void)m;
    long rc = fat_mark_clean(&vol);
    if (rc == 0)
        dirty = 0;
    return rc;
}

static const struct {
    uint32_t label;
    long (*fn)(struct ipc_msg *m);
} ops[] = {
    {FS_OPEN, op_open},         {FS_CLOSE, op_close},     {FS_READ, op_read},
    {FS_WRITE, op_write},       {FS_SEEK, op_seek},       {FS_STAT, op_stat},
    {FS_FSTAT, op_fstat},       {FS_READDIR, op_readdir}, {FS_MKDIR, op_mkdir},
    {FS_UNLINK, op_unlink},     {FS_RENAME, op_rename},   {FS_STATFS, op_statfs},
    {FS_TRUNCATE, op_truncate}, {FS_SYNC, op_sync},
};

static long dispatch(struct ipc_msg *m)
{
    uint32_t label = ipc_info_label(m->info);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (ops[i].label != label)
            continue;
        m->info = ipc_info(8, 0); /* w0 only, unless the handler says more */
        long rc = mounted ? 0 : mount(0);
        return rc < 0 ? rc : ops[i].fn(m); /* no disk: -E_NOENT; a bad one: its error */
    }
    m->info = ipc_info(8, 0);
    return -E_NOSYS;
}

static void idle(void)
{
    sweep_dead();
    if (mounted && dirty && fat_mark_clean(&vol) == 0)
        dirty = 0;
}

/* The block server may not have registered yet at boot; a driver that
 * found no device exits at once, and then there is no disk. */
static long first_mount(void)
{
    long rc = -E_NOENT;
    for (int t = 0; t < MOUNT_TICKS; t++) {
        rc = mount(0);
        if (rc != -E_NOENT && rc != -E_AGAIN)
            return rc;
        if (t >= 100 && !kc_process_running(dev_name))
            return rc;
        kc_sleep(1);
    }
    return rc;
}

static uint32_t new_instance(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint32_t v = (uint32_t)(((uint64_t)hi << 32 | lo) >> 10);
    return v ? v : 1;
}

int main(void)
{
    char args[128];
    kc_args(args, sizeof(args));
    const char *d = strstr(args, "dev=");
    if (d) {
        strncpy_safe(dev_name, d + 4, sizeof(dev_name));
        for (char *p = dev_name; *p; p++)
            if (*p == ' ')
                *p = '\0';
    }
    instance = new_instance();
    long rc = name_register("fs");
    if (rc < 0) {
        printf("fs: cannot register the name: %s\n", ipc_strerror(rc));
        return 1;
    }
    rc = first_mount();
    if (rc < 0)
        printf("fs: no volume on \"%s\" yet: %s\n", dev_name, ipc_strerror(rc));
    for (;;) {
        struct ipc_msg m = {0};
        if (dirty || files_open())
            m.info = ipc_info_timeout(IDLE_TICKS);
        rc = ipc_recv(IPC_ANY, &m);
        if (rc == -E_TIMEDOUT) {
            idle();
            continue;
        }
        if (rc < 0 || (m.info & IPC_INFO_NOTIFY))
            continue;
        uint64_t badge = m.badge;
        long status = dispatch(&m);
        m.w[0] = (uint64_t)status;
        m.cap = 0;
        ipc_reply(badge, &m); /* a client that died meanwhile gets nothing */
    }
}
