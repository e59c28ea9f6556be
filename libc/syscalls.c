/*
 * Granite's system-call layer under newlib (built with MISSING_SYSCALL_NAMES,
 * so newlib calls the POSIX names): the console for fd 0-2, the memory
 * server for sbrk, the kernel for exit, getpid and time, and the file-system
 * hook (granite/fs.h) for every other file call.
 */
#include <abi/layout.h>
#include <dirent.h>
#include <errno.h>
#include <granite/fs.h>
#include <ipc/console.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define CONSOLE_FDS 3
#define WRITE_CHUNK 1024         /* KC_LOG's limit (the console takes up to CON_WRITE_MAX) */
#define SBRK_CHUNK  (256u << 10) /* ask the memory server for at least this much */
#define PAGE        USER_PAGE_SIZE

/* Turn a hook's -errno result into -1 and errno. */
static long ret(long rc)
{
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

/* ---- console: fd 0 reads typed lines, fd 1 and 2 write ---- */

static char in_line[1024];
static size_t in_len, in_pos;

int read(int fd, void *buf, size_t len)
{
    if (fd >= CONSOLE_FDS || fd < 0)
        return (int)ret(granite_fs->read(fd, buf, len));
    if (fd != 0)
        return (int)ret(-EBADF);
    if (in_pos == in_len) { /* one typed line, given out with its newline */
        long n = console_readline(in_line, sizeof(in_line) - 1);
        if (n < 0 && n != -E_EOF) /* once more: a restarted console is found again by name */
            n = console_readline(in_line, sizeof(in_line) - 1);
        if (n == -E_EOF)
            return 0;
        if (n < 0)
            return (int)ret(-EIO);
        in_line[n] = '\n';
        in_len = (size_t)n + 1;
        in_pos = 0;
    }
    size_t n = in_len - in_pos < len ? in_len - in_pos : len;
    memcpy(buf, in_line + in_pos, n);
    in_pos += n;
    return (int)n;
}

int write(int fd, const void *buf, size_t len)
{
    if (fd >= CONSOLE_FDS || fd < 0)
        return (int)ret(granite_fs->write(fd, buf, len));
    if (fd == 0)
        return (int)ret(-EBADF);
    const char *p = buf;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < WRITE_CHUNK ? len - done : WRITE_CHUNK;
        long rc = console_write(p + done, n);
        if (rc < 0)
            rc = kc_log(p + done, n); /* no console (yet): the kernel log, if we may */
        if (rc < 0)
            return done ? (int)done : (int)ret(-EIO);
        done += n;
    }
    return (int)len;
}

int isatty(int fd)
{
    if (fd >= 0 && fd < CONSOLE_FDS)
        return 1;
    errno = fd < 0 ? EBADF : ENOTTY;
    return 0;
}

int fstat(int fd, struct stat *st)
{
    if (fd >= CONSOLE_FDS || fd < 0)
        return (int)ret(granite_fs->fstat(fd, st));
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFCHR | 0620; /* a terminal: stdout is line-buffered */
    return 0;
}

/* ---- files and directories: the hook ---- */

int open(const char *path, int flags, ...)
{
    return (int)ret(granite_fs->open(path, flags, 0666));
}

int close(int fd)
{
    if (fd >= 0 && fd < CONSOLE_FDS)
        return 0;
    return (int)ret(granite_fs->close(fd));
}

off_t lseek(int fd, off_t offset, int whence)
{
    if (fd >= 0 && fd < CONSOLE_FDS)
        return ret(-ESPIPE);
    return ret(granite_fs->lseek(fd, offset, whence));
}

int stat(const char *path, struct stat *st)
{
    return (int)ret(granite_fs->stat(path, st));
}

int unlink(const char *path)
{
    return (int)ret(granite_fs->unlink(path));
}

int link(const char *from, const char *to)
{
    (void)from, (void)to;
    return (int)ret(-EMLINK);
}

int rename(const char *from, const char *to)
{
    return (int)ret(granite_fs->rename(from, to));
}

int mkdir(const char *path, mode_t mode)
{
    return (int)ret(granite_fs->mkdir(path, (int)mode));
}

int rmdir(const char *path)
{
    return (int)ret(granite_fs->rmdir(path));
}

DIR *opendir(const char *path)
{
    int fd = (int)ret(granite_fs->opendir(path));
    if (fd < 0)
        return 0;
    DIR *d = calloc(1, sizeof(*d));
    if (!d) {
        granite_fs->closedir(fd);
        errno = ENOMEM;
        return 0;
    }
    d->dd_fd = fd;
    return d;
}

struct dirent *readdir(DIR *d)
{
    if (!d) {
        errno = EBADF;
        return 0;
    }
    return ret(granite_fs->readdir(d->dd_fd, &d->dd_ent)) > 0 ? &d->dd_ent : 0;
}

int closedir(DIR *d)
{
    if (!d)
        return (int)ret(-EBADF);
    int rc = granite_fs->closedir(d->dd_fd);
    free(d);
    return (int)ret(rc);
}

/* ---- memory: one heap that grows in place while it can ---- */

static char *brk_base, *brk_cur, *brk_end; /* region start, the break, end of mapped */

static uint64_t chunk_pages(size_t bytes)
{
    return (bytes + SBRK_CHUNK - 1) / SBRK_CHUNK * SBRK_CHUNK / PAGE;
}

void *sbrk(ptrdiff_t incr)
{
    char *old = brk_cur;
    if (incr < 0) { /* back to the break only: the pages stay mapped */
        if (!brk_cur || (size_t)-incr > (size_t)(brk_cur - brk_base))
            return (void *)ret(-EINVAL);
        brk_cur += incr;
        return old;
    }
    size_t room = (size_t)(brk_end - brk_cur);
    if (brk_cur && (size_t)incr <= room) {
        brk_cur += incr;
        return old;
    }
    long err = 0;
    uint64_t more = chunk_pages((size_t)incr - room);
    if (brk_cur && mem_alloc_pages_at(brk_end, more, &err)) { /* in place */
        brk_end += more * PAGE;
        brk_cur += incr;
        return old;
    }
    /* A fresh region (the first, or something else was allocated after
     * ours): newlib's malloc copes with a break that jumps forward. */
    uint64_t pages = chunk_pages((size_t)incr);
    char *p = mem_alloc_pages(pages, &err);
    if (!p)
        return (void *)ret(-ENOMEM);
    brk_base = p;
    brk_cur = p + incr;
    brk_end = p + pages * PAGE;
    return p;
}

/* ---- process ---- */

void _exit(int status)
{
    kc_exit(status);
}

int getpid(void)
{
    uint32_t pid = 0;
    kc_self(&pid, 0, 0, 0);
    return (int)pid;
}

int kill(int pid, int sig)
{
    if (pid == getpid())
        kc_exit(128 + sig); /* abort() and raise() end up here */
    return (int)ret(-EPERM);
}

/* Programs are started by the boot server (or a shell) through IPC, not
 * by forking: system() and friends report that there is no such thing. */
int fork(void)
{
    return (int)ret(-ENOSYS);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    (void)path, (void)argv, (void)envp;
    return (int)ret(-ENOSYS);
}

int wait(int *status)
{
    (void)status;
    return (int)ret(-ECHILD);
}

/* ---- time: the real-time clock at boot carried forward by the TSC ---- */

static uint64_t boot_unix, boot_tsc, tsc_khz, start_tsc;

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void time_init(void)
{
    if (!tsc_khz)
        kc_time(0, 0, &tsc_khz, &boot_unix, &boot_tsc);
    if (!tsc_khz)
        tsc_khz = 1000000; /* not measured: a guess beats dividing by 0 */
}

/* Microseconds in a TSC interval (no 128-bit division, so no libgcc). */
static uint64_t tsc_us(uint64_t ticks)
{
    uint64_t per_s = tsc_khz * 1000;
    return ticks / per_s * 1000000 + ticks % per_s * 1000 / tsc_khz;
}

/* Called by the start-up code: clock() counts from here. */
void granite_time_start(void)
{
    time_init();
    start_tsc = rdtsc();
}

int gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    time_init();
    uint64_t us = tsc_us(rdtsc() - boot_tsc);
    tv->tv_sec = (time_t)(boot_unix + us / 1000000);
    tv->tv_usec = (suseconds_t)(us % 1000000);
    return 0;
}

/* There is no per-process CPU accounting: a program's time is the time
 * since it started (on one CPU, an upper bound of its CPU time). */
clock_t times(struct tms *t)
{
    time_init();
    clock_t c = (clock_t)(tsc_us(rdtsc() - start_tsc) / (1000000 / CLOCKS_PER_SEC));
    if (t)
        *t = (struct tms){c, 0, 0, 0};
    return c;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    time_init();
    uint64_t us;
    if (id == CLOCK_REALTIME) {
        us = tsc_us(rdtsc() - boot_tsc) + boot_unix * 1000000;
    } else if (id == CLOCK_MONOTONIC) {
        us = tsc_us(rdtsc() - boot_tsc); /* since the clock was read at boot */
    } else {
        errno = EINVAL;
        return -1;
    }
    ts->tv_sec = (time_t)(us / 1000000);
    ts->tv_nsec = (long)(us % 1000000) * 1000;
    return 0;
}

/* Sleeps are in scheduler ticks, rounded up. */
int nanosleep(const struct timespec *want, struct timespec *left)
{
    if (want->tv_sec < 0 || want->tv_nsec < 0 || want->tv_nsec >= 1000000000) {
        errno = EINVAL;
        return -1;
    }
    uint64_t hz = 0;
    kc_time(0, &hz, 0, 0, 0);
    uint64_t ns_per_tick = 1000000000 / (hz ? hz : 100);
    uint64_t ns = (uint64_t)want->tv_sec * 1000000000 + (uint64_t)want->tv_nsec;
    kc_sleep((ns + ns_per_tick - 1) / ns_per_tick);
    if (left)
        *left = (struct timespec){0, 0};
    return 0;
}

int usleep(useconds_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    return nanosleep(&ts, 0);
}

unsigned sleep(unsigned seconds)
{
    struct timespec ts = {(time_t)seconds, 0};
    nanosleep(&ts, 0);
    return 0;
}
