/*
 * The file-system server as its clients see it (abi/proto/fs.h through
 * libipc's ipc/fs.h): files, directories, long names, every refusal of
 * bad input, per-client limits, a dead client's files closed, and the
 * server killed in the middle of writes (-E_STALE, reopen, nothing
 * acknowledged lost). Roles: "role=check" (the test), "role=opener"
 * (opens files and dies holding them).
 */
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/fs.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "../testlib.h"
#define CHECK_PREFIX "fs."
#include "../check.h"

static const char *args_seen = ""; /* the module's arguments */

/* Is w one of the space-separated words of s? */
static int has_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = s; (p = strstr(p, w)) != 0; p += n)
        if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static uint8_t pattern(uint64_t off)
{
    return (uint8_t)(off * 7 + (off >> 11));
}

static void fill(uint8_t *p, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(off + i);
}

static int matches(const uint8_t *p, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(off + i))
            return 0;
    return 1;
}

/* A request built by hand, for what the library never sends. */
static long raw(uint32_t label, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4,
                const void *inline_bytes, size_t n)
{
    long fs = name_lookup_wait("fs", 500);
    if (fs < 0)
        return fs;
    struct ipc_msg m = ipc_msg_make(label, 8);
    m.w[1] = w1;
    m.w[2] = w2;
    m.w[3] = w3;
    m.w[4] = w4;
    if (inline_bytes)
        memcpy(&m.w[4], inline_bytes, n);
    long rc = ipc_call_status((uint64_t)fs, &m);
    kc_cap_delete((uint64_t)fs);
    return rc;
}

static long write_file(const char *path, const void *data, size_t n)
{
    uint64_t h;
    long rc = fs_open(path, FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC, &h, 0);
    if (rc < 0)
        return rc;
    rc = fs_write(h, data, n);
    fs_close(h);
    return rc;
}

static long read_file(const char *path, void *buf, size_t cap)
{
    uint64_t h;
    long rc = fs_open(path, FS_O_READ, &h, 0);
    if (rc < 0)
        return rc;
    rc = fs_read(h, buf, cap);
    fs_close(h);
    return rc;
}

static void basics(void)
{
    struct fs_statfs sf;
    long rc = fs_statfs(&sf);
    check_rc("statfs", rc, 0);
    printf("fs_check: volume of %lu clusters of %u bytes, %lu free\n", (unsigned long)sf.clusters,
           sf.cluster_size, (unsigned long)sf.free_clusters);

    const char *text = "hello, disk\n";
    check_rc("write_small", write_file("/hello.txt", text, strlen(text)), (long)strlen(text));
    char buf[64] = {0};
    rc = read_file("/hello.txt", buf, sizeof(buf));
    check("read_small", rc == (long)strlen(text) && memcmp(buf, text, (size_t)rc) == 0, 0);

    struct fs_stat st;
    rc = fs_stat("/hello.txt", &st);
    check("stat_file",
          rc == 0 && st.size == strlen(text) && !(st.attr & FS_ATTR_DIR) && st.mtime > 1600000000,
          0);
    rc = fs_stat("/", &st);
    check("stat_root_is_dir", rc == 0 && (st.attr & FS_ATTR_DIR), 0);
    check_rc("stat_missing", fs_stat("/nothing-here", &st), -E_NOENT);

    /* 1.5 MiB: more than one request, patterns checked at every byte. */
    size_t big = (3u << 20) / 2;
    uint8_t *data = malloc(big), *back = malloc(big);
    fill(data, 0, big);
    check_rc("write_1_5_mib", write_file("/big.bin", data, big), (long)big);
    memset(back, 0, big);
    check("read_1_5_mib", read_file("/big.bin", back, big) == (long)big && matches(back, 0, big),
          0);

    /* Seek and partial reads. */
    uint64_t h, pos = 0;
    fs_open("/big.bin", FS_O_READ, &h, 0);
    rc = fs_seek(h, 1000000, FS_SEEK_SET, &pos);
    long n = fs_read(h, back, 5000);
    check("seek_then_read", rc == 0 && pos == 1000000 && n == 5000 && matches(back, 1000000, 5000),
          0);
    rc = fs_seek(h, -10, FS_SEEK_END, &pos);
    n = fs_read(h, back, 100);
    check("seek_end_reads_the_tail",
          rc == 0 && pos == big - 10 && n == 10 && matches(back, big - 10, 10), 0);
    check_rc("read_at_end_is_0", fs_read(h, back, 100), 0);
    check_rc("seek_before_start", fs_seek(h, -1, FS_SEEK_SET, 0), -E_INVAL);
    check_rc("write_on_read_handle", fs_write(h, "x", 1), -E_PERM);
    fs_close(h);
    check_rc("closed_handle_refused", fs_read(h, back, 1), -E_BADHANDLE);

    /* Append. */
    fs_open("/hello.txt", FS_O_WRITE | FS_O_APPEND, &h, 0);
    fs_write(h, "more\n", 5);
    fs_close(h);
    rc = read_file("/hello.txt", buf, sizeof(buf));
    check("append", rc == (long)strlen(text) + 5 && memcmp(buf + strlen(text), "more\n", 5) == 0,
          0);
    free(data);
    free(back);
}

static int listed(const char *dir, const char *name, uint32_t *size)
{
    uint64_t h;
    if (fs_open(dir, FS_O_DIR | FS_O_READ, &h, 0) < 0)
        return 0;
    static struct fs_dirent e;
    int found = 0;
    while (fs_readdir(h, &e) == 1)
        if (strcmp(e.name, name) == 0) {
            found = 1;
            if (size)
                *size = e.size;
        }
    fs_close(h);
    return found;
}

static void directories(void)
{
    check_rc("mkdir", fs_mkdir("/docs"), 0);
    check_rc("mkdir_exists", fs_mkdir("/docs"), -E_EXIST);
    check_rc("mkdir_nested", fs_mkdir("/docs/Notes of 2026"), 0);
    const char *lfn = "/docs/Notes of 2026/A rather long file name, with spaces.txt";
    check_rc("write_long_name", write_file(lfn, "lfn", 3), 3);
    uint32_t size = 0;
    check("readdir_long_name",
          listed("/docs/Notes of 2026", "A rather long file name, with spaces.txt", &size) &&
              size == 3,
          0);
    check("readdir_root", listed("/", "hello.txt", 0) && listed("/", "docs", 0), 0);
    check_rc("rename", fs_rename(lfn, "/docs/short.txt"), 0);
    char buf[8] = {0};
    check("rename_moves",
          read_file("/docs/short.txt", buf, sizeof(buf)) == 3 && memcmp(buf, "lfn", 3) == 0 &&
              fs_stat(lfn, &(struct fs_stat){0}) == -E_NOENT,
          0);
    check_rc("rmdir_not_empty", fs_rmdir("/docs"), -E_NOTEMPTY);
    check_rc("unlink_dir_refused", fs_unlink("/docs"), -E_ISDIR);
    check_rc("rmdir_empty", fs_rmdir("/docs/Notes of 2026"), 0);
    check_rc("unlink", fs_unlink("/docs/short.txt"), 0);
    check_rc("unlink_missing", fs_unlink("/docs/short.txt"), -E_NOENT);
    check_rc("rmdir_now_empty", fs_rmdir("/docs"), 0);
    uint64_t h;
    check_rc("read_dir_as_file", fs_open("/", FS_O_WRITE, &h, 0), -E_ISDIR);
    check_rc("open_file_as_dir", fs_open("/hello.txt", FS_O_DIR, &h, 0), -E_NOTDIR);
}

static void bad_input(void)
{
    uint64_t h;
    static char name[400];
    name[0] = '/';
    memset(name + 1, 'n', 256);
    name[257] = '\0';
    check_rc("name_too_long", fs_open(name, FS_O_WRITE | FS_O_CREATE, &h, 0), -E_NAMETOOLONG);
    static char path[1100];
    for (int i = 0; i < 1090; i += 2)
        memcpy(path + i, "/a", 2);
    path[1090] = '\0';
    check_rc("path_too_long", fs_stat(path, &(struct fs_stat){0}), -E_NAMETOOLONG);
    uint64_t fsh = (uint64_t)name_lookup_wait("fs", 100);
    long pid = ipc_handle_pid(fsh);
    kc_cap_delete(fsh);
    int64_t g = grant_create((uint32_t)pid, path, 1090, GRANT_F_READ);
    check_rc("path_too_long_at_the_server", raw(FS_STAT, 1090, (uint64_t)g, 0, 0, 0, 0),
             -E_NAMETOOLONG);
    grant_revoke((uint64_t)g);
    /* Refused by its length before a byte is copied: a server that copied
     * first would overrun its path buffer (the grant here is too short for
     * the length claimed, so a copy would answer -E_GRANT_RANGE instead). */
    g = grant_create((uint32_t)pid, path, 16, GRANT_F_READ);
    check_rc("path_too_long_refused_before_copy", raw(FS_STAT, 4096, (uint64_t)g, 0, 0, 0, 0),
             -E_NAMETOOLONG);
    grant_revoke((uint64_t)g);
    fs_mkdir("/sub");
    check_rc("dotdot_refused", fs_open("/sub/../hello.txt", FS_O_READ, &h, 0), -E_INVAL);
    check_rc("dotdot_deeper_refused", fs_open("/sub/../../../hello.txt", FS_O_READ, &h, 0),
             -E_INVAL);
    check_rc("dotdot_at_root_refused", fs_open("/../hello.txt", FS_O_READ, &h, 0), -E_INVAL);
    check_rc("dot_refused", fs_mkdir("/./x"), -E_INVAL);
    check_rc("relative_refused", fs_open("hello.txt", FS_O_READ, &h, 0), -E_INVAL);
    check_rc("rename_onto_dotdot", fs_rename("/hello.txt", "/.."), -E_INVAL);
    check_rc("bad_characters", fs_open("/a*b", FS_O_WRITE | FS_O_CREATE, &h, 0), -E_INVAL);
    check_rc("nul_inside_path", raw(FS_STAT, 12, 0, 0, 0, "/hello\0.txt", 12), -E_INVAL);
    check_rc("inline_path_too_long", raw(FS_STAT, 40, 0, 0, 0, 0, 0), -E_INVAL);
    check_rc("empty_path", raw(FS_STAT, 0, 0, 0, 0, 0, 0), -E_INVAL);
    long rc = raw(FS_STAT, 100, 0x7777, 0, 0, 0, 0);
    check("path_grant_bogus", rc <= -E_GRANT_NOTABLE && rc >= -E_GRANT_DEPTH, ipc_strerror(rc));
    check_rc("unknown_open_flag", fs_open("/hello.txt", 0x1000, &h, 0), -E_INVAL);
    check_rc("unknown_op", raw(0x6ff, 0, 0, 0, 0, 0, 0), -E_NOSYS);
    check_rc("handle_zero", fs_read(0, name, 1), -E_BADHANDLE);
    /* A handle of another instance of the server: stale, not someone's file. */
    fs_open("/hello.txt", FS_O_READ, &h, 0);
    check_rc("handle_of_another_instance", fs_read(h ^ (1ull << 40), name, 1), -E_STALE);
    check_rc("handle_bad_generation", fs_read(h ^ (1ull << 20), name, 1), -E_BADHANDLE);
    check_rc("handle_bad_index", fs_read((h & ~0xffffull) | 0xfff0, name, 1), -E_BADHANDLE);

    /* A grant revoked before the server copies: the kernel's error, the
     * position unchanged. */
    g = grant_create((uint32_t)pid, name, sizeof(name), GRANT_F_WRITE);
    grant_revoke((uint64_t)g);
    check_rc("revoked_grant_read", raw(FS_READ, h, (uint64_t)g, 0, 5, 0, 0), -E_GRANT_INVALID);
    g = grant_create((uint32_t)pid, name, 4, GRANT_F_WRITE);
    check_rc("grant_too_small_read", raw(FS_READ, h, (uint64_t)g, 0, 5, 0, 0), -E_GRANT_RANGE);
    grant_revoke((uint64_t)g);
    char buf[8] = {0};
    check("position_kept_after_grant_errors",
          fs_read(h, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0, 0);
    g = grant_create((uint32_t)pid, name, sizeof(name), GRANT_F_READ);
    check_rc("read_into_read_only_grant", raw(FS_READ, h, (uint64_t)g, 0, 5, 0, 0),
             -E_GRANT_ACCESS);
    grant_revoke((uint64_t)g);
    fs_close(h);

    /* Whole sectors go from the driver straight into the client's grant
     * (fs_blk_direct): the driver meets the bad grant, and the client
     * gets the kernel's error, not the disk's -E_IO, its position kept. */
    static uint8_t direct[64 << 10];
    fs_open("/big.bin", FS_O_READ, &h, 0);
    g = grant_create((uint32_t)pid, direct, sizeof(direct), GRANT_F_READ);
    check_rc("direct_read_into_read_only_grant",
             raw(FS_READ, h, (uint64_t)g, 0, sizeof(direct), 0, 0), -E_GRANT_ACCESS);
    grant_revoke((uint64_t)g);
    g = grant_create((uint32_t)pid, direct, sizeof(direct) / 2, GRANT_F_WRITE);
    check_rc("direct_read_grant_too_small", raw(FS_READ, h, (uint64_t)g, 0, sizeof(direct), 0, 0),
             -E_GRANT_RANGE);
    grant_revoke((uint64_t)g);
    g = grant_create((uint32_t)pid, direct, sizeof(direct), GRANT_F_WRITE);
    check_rc("direct_read_offset_past_grant",
             raw(FS_READ, h, (uint64_t)g, 4096, sizeof(direct), 0, 0), -E_GRANT_RANGE);
    grant_revoke((uint64_t)g);
    check("direct_position_kept",
          fs_read(h, direct, sizeof(direct)) == (long)sizeof(direct) &&
              matches(direct, 0, sizeof(direct)),
          0);
    fs_close(h);

    /* A write whose grant is revoked writes nothing. */
    fs_open("/hello.txt", FS_O_WRITE, &h, 0);
    g = grant_create((uint32_t)pid, "XXXXX", 5, GRANT_F_READ);
    grant_revoke((uint64_t)g);
    check_rc("revoked_grant_write", raw(FS_WRITE, h, (uint64_t)g, 0, 5, 0, 0), -E_GRANT_INVALID);
    fs_close(h);
    check("revoked_write_wrote_nothing",
          read_file("/hello.txt", buf, 5) == 5 && memcmp(buf, "hello", 5) == 0, 0);
}

/* Another thread revokes the grant while the server works on a 1 MiB
 * read: the read either completed before or gets the kernel's error;
 * the server goes on serving. */
static volatile int64_t race_grant;
static volatile int race_go, race_stop;

static void revoker(void *arg)
{
    (void)arg;
    while (!race_stop) {
        if (race_go && race_grant > 0) {
            grant_revoke((uint64_t)race_grant);
            race_go = 0;
        }
        kc_yield();
    }
}

static void revoke_race(void)
{
    uint64_t h;
    fs_open("/big.bin", FS_O_READ, &h, 0);
    uint64_t fsh = (uint64_t)name_lookup_wait("fs", 100);
    long pid = ipc_handle_pid(fsh);
    uint8_t *buf = malloc(FS_IO_MAX);
    thread_create(revoker, 0, 0);
    int done = 0, refused = 0, odd = 0;
    for (int i = 0; i < 20; i++) {
        fs_seek(h, 0, FS_SEEK_SET, 0);
        race_grant = grant_create((uint32_t)pid, buf, FS_IO_MAX, GRANT_F_WRITE);
        race_go = 1;
        struct ipc_msg m = ipc_msg_make(FS_READ, 5);
        m.w[1] = h;
        m.w[2] = (uint64_t)race_grant;
        m.w[4] = FS_IO_MAX;
        long rc = ipc_call_status(fsh, &m);
        race_go = 0;
        grant_revoke((uint64_t)race_grant);
        if (rc == (long)FS_IO_MAX && matches(buf, 0, FS_IO_MAX))
            done++;
        else if (rc <= -E_GRANT_NOTABLE && rc >= -E_GRANT_DEPTH)
            refused++;
        else
            odd++;
    }
    race_stop = 1;
    kc_cap_delete(fsh);
    fs_close(h);
    free(buf);
    printf("fs_check: grant revoked during 20 reads: %d completed, %d refused\n", done, refused);
    check("revoke_mid_read", odd == 0 && fs_stat("/big.bin", &(struct fs_stat){0}) == 0, 0);
}

/* A client holds at most FS_CLIENT_FILES files. */
static void limits(void)
{
    uint64_t h[FS_CLIENT_FILES + 1];
    int opened = 0;
    long rc = 0;
    for (int i = 0; i <= FS_CLIENT_FILES; i++) {
        rc = fs_open("/hello.txt", FS_O_READ, &h[i], 0);
        if (rc < 0)
            break;
        opened++;
    }
    check("client_file_limit", opened == FS_CLIENT_FILES && rc == -E_LIMIT, 0);
    for (int i = 0; i < opened; i++)
        fs_close(h[i]);
    check_rc("files_back_after_close", fs_open("/hello.txt", FS_O_READ, &h[0], 0), 0);
    fs_close(h[0]);
}

static long boot_call(uint32_t label, const char *name)
{
    struct ipc_msg m = ipc_msg_make(label, 4);
    name_pack(&m, name);
    return ipc_call_status(HANDLE_NAMES, &m);
}

/* Another process opens files and dies holding them: they are closed. */
static void dead_client(void)
{
    long rc = boot_call(BOOT_SPAWN, "fs.opener");
    for (int i = 0; i < 500 && kc_process_running("fs.opener"); i++)
        kc_sleep(2);
    check("opener_ran", rc == 0 && !kc_process_running("fs.opener"), 0);
    /* It left /held.txt open: unlink says busy while a live client holds it. */
    check_rc("dead_clients_files_closed", fs_unlink("/held.txt"), 0);
}

/* The disk fills up: short writes, then -E_NOSPC, never a crash; the
 * free count is exact, and unlinking gives the room back. */
static void full_disk(void)
{
    struct fs_statfs before, full, after;
    fs_statfs(&before);
    uint64_t h;
    long rc = fs_open("/fill.bin", FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC, &h, 0);
    uint8_t *chunk = malloc(FS_IO_MAX);
    uint64_t total = 0;
    long last = 0;
    for (int i = 0; rc >= 0 && i < 64; i++) {
        fill(chunk, total, FS_IO_MAX);
        last = fs_write(h, chunk, FS_IO_MAX);
        if (last <= 0)
            break;
        total += (uint64_t)last;
    }
    fs_close(h);
    fs_statfs(&full);
    printf("fs_check: the disk filled after %lu bytes; then %ld (%s)\n", (unsigned long)total, last,
           ipc_strerror(last));
    check_rc("full_disk_nospc", last, -E_NOSPC);
    check("full_disk_no_free_cluster", full.free_clusters == 0, 0);
    check_rc("full_disk_new_file_nospc", write_file("/more.txt", "x", 1), -E_NOSPC);
    check_rc("full_disk_mkdir_nospc", fs_mkdir("/more-dir"), -E_NOSPC);
    uint8_t *back = malloc(FS_IO_MAX);
    rc = fs_open("/fill.bin", FS_O_READ, &h, 0);
    int same = rc == 0;
    for (uint64_t off = 0; same && off < total; off += FS_IO_MAX) {
        long n = fs_read(h, back, FS_IO_MAX);
        same = n > 0 && matches(back, off, (size_t)n);
    }
    fs_close(h);
    check("full_disk_data_intact", same, 0);
    fs_unlink("/more.txt");
    check_rc("full_disk_unlink", fs_unlink("/fill.bin"), 0);
    fs_statfs(&after);
    check("full_disk_room_back", after.free_clusters == before.free_clusters, 0);
    free(chunk);
    free(back);
}

/* Lua's io library on the disk (lua.disk, a chunk on its module line),
 * and `lua FILE` run from the disk (lua.file): both started here, before
 * the server is killed, and judged by the boot server. */
static void lua_on_disk(void)
{
    const char *script = "print('lua.file: running ' .. arg[0] .. ' from the disk') "
                         "os.exit(dofile('/lib.lua') == 42 and 0 or 1)\n";
    const char *lib = "return 6 * 7\n";
    long rc = write_file("/run.lua", script, strlen(script));
    if (rc >= 0)
        rc = write_file("/lib.lua", lib, strlen(lib));
    check_rc("lua_script_written", rc, (long)strlen(lib));
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "lua.file" : "lua.disk";
        rc = boot_call(BOOT_SPAWN, name);
        for (int t = 0; t < 3000 && rc == 0 && kc_process_running(name); t++)
            kc_sleep(2);
        check(i ? "lua_file_ran" : "lua_disk_ran", rc == 0 && !kc_process_running(name),
              ipc_strerror(rc));
    }
}

/* ---- the server killed in the middle of writes ---- */

#define KILL_CHUNK (64u << 10)
#define KILL_TOTAL (4u << 20)

/* The disk loses its cache: the ramdisk undoes every write since the
 * last flush before every 3rd flush and answers it in a new epoch. The
 * server must write those again; fs.check reads it all back after the
 * server's restart (below), from the disk. */
#define RAMDISK_CHAOS 0x5f0
#define EPOCH_BYTES   (1u << 20)

static long ramdisk_chaos(uint64_t every, uint64_t *resets)
{
    long rd = name_lookup_wait("ramdisk", 100);
    if (rd < 0)
        return rd;
    struct ipc_msg m = ipc_msg_make(RAMDISK_CHAOS, 2);
    m.w[1] = every;
    long rc = ipc_call_status((uint64_t)rd, &m);
    kc_cap_delete((uint64_t)rd);
    *resets = m.w[1];
    return rc;
}

static void epoch_changes(void)
{
    uint64_t resets = 0, h;
    check_rc("chaos_on", ramdisk_chaos(3, &resets), 0);
    long rc = fs_open("/epoch.bin", FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC, &h, 0);
    static uint8_t chunk[KILL_CHUNK];
    for (uint64_t off = 0; rc >= 0 && off < EPOCH_BYTES; off += KILL_CHUNK) {
        fill(chunk, off, KILL_CHUNK);
        rc = fs_write(h, chunk, KILL_CHUNK);
    }
    fs_close(h);
    check_rc("epoch_writes_acknowledged", rc, KILL_CHUNK);
    rc = fs_mkdir("/edir");
    if (rc == 0)
        rc = write_file("/edir/f.txt", "moved", 5) == 5 ? 0 : -E_IO;
    if (rc == 0)
        rc = fs_rename("/edir/f.txt", "/edir/g.txt");
    check_rc("epoch_names_acknowledged", rc, 0);
    ramdisk_chaos(0, &resets);
    printf("fs_check: the ramdisk was reset %lu times under the writes\n", (unsigned long)resets);
    check("epoch_resets_happened", resets >= 3, 0);
}

/* After the server's restart: what it acknowledged under the resets. */
static void epoch_verify(void)
{
    uint8_t *back = malloc(EPOCH_BYTES);
    long n = read_file("/epoch.bin", back, EPOCH_BYTES);
    check("epoch_data_on_disk", n == EPOCH_BYTES && matches(back, 0, EPOCH_BYTES), 0);
    free(back);
    char buf[8] = {0};
    check("epoch_names_on_disk",
          read_file("/edir/g.txt", buf, sizeof(buf)) == 5 && memcmp(buf, "moved", 5) == 0 &&
              fs_stat("/edir/f.txt", &(struct fs_stat){0}) == -E_NOENT,
          0);
}

static volatile uint64_t acked;  /* bytes whose write returned */
static volatile long writer_end; /* the error that stopped the writer */
static volatile int writer_done;

static void writer(void *arg)
{
    uint64_t h = (uint64_t)arg;
    static uint8_t chunk[KILL_CHUNK];
    /* Until the kill stops it: after the last chunk it writes the same bytes
     * again from the start, so the kill always lands mid-write, however
     * fast the writes are (the file's content stays the same). */
    for (uint64_t off = 0;; off += KILL_CHUNK) {
        if (off == KILL_TOTAL) {
            long rc = fs_seek(h, 0, FS_SEEK_SET, 0);
            if (rc < 0) {
                writer_end = rc;
                break;
            }
            off = 0;
        }
        fill(chunk, off, KILL_CHUNK);
        long rc = fs_write(h, chunk, KILL_CHUNK);
        if (rc != KILL_CHUNK) {
            writer_end = rc;
            break;
        }
        if (off + KILL_CHUNK > acked)
            acked = off + KILL_CHUNK;
    }
    writer_done = 1;
}

static void server_killed(void)
{
    uint64_t h;
    long rc = fs_open("/killed.bin", FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC, &h, 0);
    check_rc("kill_open", rc, 0);
    thread_create(writer, (void *)h, 0);
    while (acked < 5 * KILL_CHUNK && !writer_done)
        kc_sleep(1);
    rc = boot_call(BOOT_KILL, "fs");
    uint64_t at_kill = acked;
    while (!writer_done)
        kc_sleep(1);
    printf("fs_check: fs killed after %lu acknowledged bytes; the writer stopped with %ld (%s) at "
           "%lu\n",
           (unsigned long)at_kill, writer_end, ipc_strerror(writer_end), (unsigned long)acked);
    check("kill_fs", rc == 0, 0);
    check_rc("writer_gets_stale", writer_end, -E_STALE);
    check_rc("old_handle_stale", fs_read(h, (void *)&rc, 1), -E_STALE);
    check_rc("close_stale", fs_close(h), -E_STALE);
    uint64_t size = 0;
    rc = fs_open("/killed.bin", FS_O_READ, &h, &size);
    check("reopen_after_restart", rc == 0, 0);
    uint8_t *back = malloc(KILL_TOTAL);
    long n = fs_read(h, back, KILL_TOTAL);
    fs_close(h);
    char d[96];
    snprintf(d, sizeof(d), "size %lu, read %ld, acknowledged %lu", (unsigned long)size, n,
             (unsigned long)acked);
    check("acknowledged_bytes_on_disk",
          n >= (long)acked && size >= acked && matches(back, 0, (size_t)acked), d);
    /* The rest of the file is a prefix of what was being written. */
    check("unacknowledged_tail_is_a_prefix", n <= (long)KILL_TOTAL && matches(back, 0, (size_t)n),
          d);
    free(back);
    check_rc("works_after_restart", write_file("/after.txt", "after", 5), 5);
    if (has_word(args_seen, "epoch"))
        epoch_verify();
}

/* ---- the disk driver killed in the middle of a 4 MiB write ---- */

#define DRIVER_KILL_BYTES (4u << 20)

static uint8_t *big_data;
static volatile long big_rc = 1;
static volatile int big_done;

static void big_writer(void *arg)
{
    big_rc = fs_write((uint64_t)arg, big_data, DRIVER_KILL_BYTES);
    big_done = 1;
}

static void driver_killed(void)
{
    big_data = malloc(DRIVER_KILL_BYTES);
    fill(big_data, 0, DRIVER_KILL_BYTES);
    uint64_t h;
    long rc = fs_open("/driver-kill.bin", FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC, &h, 0);
    check_rc("driver_kill_open", rc, 0);
    thread_create(big_writer, (void *)h, 0);
    kc_sleep(1);
    int during = !big_done;
    rc = boot_call(BOOT_KILL, "disk");
    for (int t = 0; t < 6000 && !big_done; t++)
        kc_sleep(1);
    fs_close(h);
    printf("fs_check: disk driver killed %s the 4 MiB write; it returned %ld\n",
           during ? "during" : "after", big_rc);
    check("driver_kill_during_write", rc == 0 && during, ipc_strerror(rc));
    check_rc("driver_kill_write_completes", big_rc, DRIVER_KILL_BYTES);
    memset(big_data, 0, DRIVER_KILL_BYTES);
    long n = read_file("/driver-kill.bin", big_data, DRIVER_KILL_BYTES);
    check("driver_kill_data_verified", n == DRIVER_KILL_BYTES && matches(big_data, 0, n), 0);
    free(big_data);
}

static void opener(void)
{
    uint64_t h;
    fs_open("/held.txt", FS_O_WRITE | FS_O_CREATE, &h, 0);
    fs_write(h, "held", 4);
    for (int i = 0; i < 3; i++)
        fs_open("/hello.txt", FS_O_READ, &h, 0);
    printf("fs_check: opener exits holding 4 files\n");
}

int main(void)
{
    static char args[128];
    kc_args(args, sizeof(args));
    args_seen = args;
    if (has_word(args, "role=opener")) {
        opener();
        return 0;
    }
    basics();
    directories();
    bad_input();
    revoke_race();
    limits();
    dead_client();
    if (has_word(args, "full"))
        full_disk();
    if (has_word(args, "lua"))
        lua_on_disk();
    if (has_word(args, "epoch"))
        epoch_changes();
    if (has_word(args, "kill"))
        server_killed();
    if (has_word(args, "killdisk"))
        driver_killed();
    check_rc("sync", fs_sync(), 0);
    printf("fs_check: %d checks failed\n", failures);
    return failures != 0;
}
