/*
 * The shell's file commands (ls, cat, write, rm, mkdir, mv, df) on the
 * file-system server through libipc's client (ipc/fs.h). A path without a
 * leading slash is taken from the root: there is no current directory.
 */
#include <common/string.h>
#include <ipc/console.h>
#include <ipc/fs.h>
#include <ipc/ipc.h>
#include <ipc/stdio.h>

#include "fs_cmds.h"

#define WAIT_TICKS 200 /* a shell command waits this long for the server */

static char path_a[FS_PATH_MAX + 1], path_b[FS_PATH_MAX + 1];

/* The next word of *args into out (absolute: "/" prepended if missing);
 * 0 if there is none. */
static int next_path(const char **args, char *out)
{
    const char *s = *args;
    while (*s == ' ')
        s++;
    size_t n = 0;
    while (s[n] && s[n] != ' ')
        n++;
    if (n == 0)
        return 0;
    size_t at = 0;
    if (s[0] != '/')
        out[at++] = '/';
    if (at + n > FS_PATH_MAX)
        n = FS_PATH_MAX - at; /* the server says the name is too long */
    memcpy(out + at, s, n);
    out[at + n] = '\0';
    *args = s + n;
    return 1;
}

static int fail(const char *cmd, const char *what, long rc)
{
    printf("%s: %s: %s\n", cmd, what, ipc_strerror(rc));
    return 1;
}

int cmd_ls(const char *args)
{
    fs_set_wait(WAIT_TICKS);
    if (!next_path(&args, path_a))
        strncpy_safe(path_a, "/", sizeof(path_a));
    uint64_t h;
    long rc = fs_open(path_a, FS_O_DIR | FS_O_READ, &h, 0);
    if (rc == -E_NOTDIR) { /* a file: list just it */
        struct fs_stat st;
        rc = fs_stat(path_a, &st);
        if (rc < 0)
            return fail("ls", path_a, rc);
        printf("  %10lu  %s\n", (unsigned long)st.size, path_a);
        return 0;
    }
    if (rc < 0)
        return fail("ls", path_a, rc);
    static struct fs_dirent e;
    int n = 0;
    while ((rc = fs_readdir(h, &e)) == 1) {
        if (e.attr & FS_ATTR_DIR)
            printf("  %10s  %s/\n", "<dir>", e.name);
        else
            printf("  %10u  %s\n", e.size, e.name);
        n++;
    }
    fs_close(h);
    if (rc < 0)
        return fail("ls", path_a, rc);
    printf("  %d entries\n", n);
    return 0;
}

int cmd_cat(const char *args)
{
    fs_set_wait(WAIT_TICKS);
    if (!next_path(&args, path_a)) {
        printf("cat: usage: cat FILE\n");
        return 1;
    }
    uint64_t h;
    long rc = fs_open(path_a, FS_O_READ, &h, 0);
    if (rc < 0)
        return fail("cat", path_a, rc);
    static char buf[4096];
    int last = '\n';
    while ((rc = fs_read(h, buf, sizeof(buf))) > 0) {
        stdio_flush();
        console_write(buf, (size_t)rc);
        last = buf[rc - 1];
    }
    fs_close(h);
    if (last != '\n')
        console_write("\n", 1);
    return rc < 0 ? fail("cat", path_a, rc) : 0;
}

int cmd_write(const char *args)
{
    fs_set_wait(WAIT_TICKS);
    if (!next_path(&args, path_a)) {
        printf("write: usage: write FILE TEXT\n");
        return 1;
    }
    while (*args == ' ')
        args++;
    uint64_t h;
    long rc = fs_open(path_a, FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC, &h, 0);
    if (rc < 0)
        return fail("write", path_a, rc);
    static char text[300];
    int n = snprintf(text, sizeof(text), "%s\n", args);
    rc = fs_write(h, text, (size_t)n);
    fs_close(h);
    if (rc < 0)
        return fail("write", path_a, rc);
    printf("write: %ld bytes to %s\n", rc, path_a);
    return 0;
}

int cmd_rm(const char *args)
{
    fs_set_wait(WAIT_TICKS);
    if (!next_path(&args, path_a)) {
        printf("rm: usage: rm PATH (a file or an empty directory)\n");
        return 1;
    }
    long rc = fs_unlink(path_a);
    if (rc == -E_ISDIR)
        rc = fs_rmdir(path_a);
    return rc < 0 ? fail("rm", path_a, rc) : 0;
}

int cmd_mkdir(const char *args)
{
    fs_set_wait(WAIT_TICKS);
    if (!next_path(&args, path_a)) {
        printf("mkdir: usage: mkdir DIR\n");
        return 1;
    }
    long rc = fs_mkdir(path_a);
    return rc < 0 ? fail("mkdir", path_a, rc) : 0;
}

int cmd_mv(const char *args)
{
    fs_set_wait(WAIT_TICKS);
    if (!next_path(&args, path_a) || !next_path(&args, path_b)) {
        printf("mv: usage: mv FROM TO\n");
        return 1;
    }
    long rc = fs_rename(path_a, path_b);
    return rc < 0 ? fail("mv", path_a, rc) : 0;
}

int cmd_df(const char *args)
{
    (void)args;
    fs_set_wait(WAIT_TICKS);
    struct fs_statfs st;
    long rc = fs_statfs(&st);
    if (rc < 0)
        return fail("df", "/", rc);
    uint64_t total = st.clusters * st.cluster_size >> 10,
             avail = st.free_clusters * st.cluster_size >> 10;
    printf("  /: %lu KiB, %lu KiB used, %lu KiB free (%lu clusters of %u bytes, %lu free)\n",
           (unsigned long)total, (unsigned long)(total - avail), (unsigned long)avail,
           (unsigned long)st.clusters, st.cluster_size, (unsigned long)st.free_clusters);
    return 0;
}

void fs_cmds_sync(void)
{
    fs_set_wait(0);
    fs_sync(); /* no server, no disk: nothing to do */
}
