/*
 * fs-bench: the disk through the file system (fs server, FAT32, virtio-blk
 * driver), measured once the IPC benchmark has finished so the two never
 * share the CPU. A 16 MiB file written and read in 1 MiB requests, and
 * 4 KiB reads at random 4 KiB-aligned offsets of it; every write is
 * acknowledged (durable) when it returns. Rows as bench.c's, with the
 * bytes of one request:
 *   BENCH disk.seq_write_MBps cycles_median=N cycles_min=N batches=N per_batch=16 kind=MBps
 * bytes=1048576
 */
#include <abi/proto/blk.h>
#include <common/string.h>
#include <ipc/fs.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/measure.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#define FILE_BYTES  (16u << 20)
#define REQ         (1u << 20)
#define SMALL       4096
#define RANDOM_PER  256 /* random reads per batch */
#define MAX_BATCHES 64

static uint32_t samples[MAX_BATCHES];
static int batches = 9, warmup = 1;
static uint8_t *buf;
static uint64_t handle, seed = 0x9e3779b97f4a7c15ull;
static long errors;

typedef void (*run_fn)(uint64_t per);

static void measure(const char *name, const char *kind, uint64_t bytes, run_fn run, uint64_t per)
{
    for (int b = -warmup; b < batches; b++) {
        uint64_t t0 = measure_rdtsc();
        run(per);
        uint64_t t = (measure_rdtsc() - t0 + per / 2) / per;
        if (b >= 0)
            samples[b] = (uint32_t)(t > 0xffffffffu ? 0xffffffffu : t);
    }
    measure_sort(samples, batches);
    printf("BENCH %s cycles_median=%u cycles_min=%u batches=%d per_batch=%lu kind=%s bytes=%lu\n",
           name, samples[batches / 2], samples[0], batches, per, kind, bytes);
}

static void seq_write(uint64_t per)
{
    errors += fs_seek(handle, 0, FS_SEEK_SET, 0) < 0;
    for (uint64_t i = 0; i < per; i++) {
        buf[0] = (uint8_t)i;
        errors += fs_write(handle, buf, REQ) != REQ;
    }
}

static void seq_read(uint64_t per)
{
    errors += fs_seek(handle, 0, FS_SEEK_SET, 0) < 0;
    for (uint64_t i = 0; i < per; i++)
        errors += fs_read(handle, buf, REQ) != REQ;
}

static void rand_read(uint64_t per)
{
    for (uint64_t i = 0; i < per; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        errors +=
            fs_seek(handle, (int64_t)(seed % (FILE_BYTES / SMALL) * SMALL), FS_SEEK_SET, 0) < 0;
        errors += fs_read(handle, buf, SMALL) != SMALL;
    }
}

/* The driver alone: the same 1 MiB sequential reads of the disk's first
 * 16 MiB straight through the block protocol, no file system. The gap to
 * disk.seq_read_MBps is the file system's share. */
static uint64_t disk;
static int64_t disk_grant;

static void raw_seq_read(uint64_t per)
{
    for (uint64_t i = 0; i < per; i++) {
        struct ipc_msg m = ipc_msg_make(BLK_READ, 5);
        m.w[1] = i * (REQ / 512);
        m.w[2] = REQ / 512;
        m.w[3] = (uint64_t)disk_grant;
        m.w[4] = 0;
        errors += ipc_call_status(disk, &m) < 0;
    }
}

static void raw(void)
{
    long h = name_lookup("disk");
    if (h < 0)
        return;
    disk = (uint64_t)h;
    disk_grant = grant_create((uint32_t)ipc_handle_pid(disk), buf, REQ, GRANT_F_WRITE);
    if (disk_grant < 0)
        return;
    measure("disk.raw_seq_read_MBps", "MBps", REQ, raw_seq_read, FILE_BYTES / REQ);
    grant_revoke((uint64_t)disk_grant);
    kc_cap_delete(disk);
}

int main(void)
{
    char args[128];
    kc_args(args, sizeof(args));
    if (strstr(args, "quick")) {
        batches = 3;
        warmup = 1;
    }
    /* After the IPC benchmark: it must have the CPU to itself. */
    while (kc_process_running("bench"))
        kc_sleep(10);
    buf = malloc(REQ);
    long rc =
        buf ? fs_open("/bench.bin", FS_O_READ | FS_O_WRITE | FS_O_CREATE, &handle, 0) : -E_NOMEM;
    if (rc < 0) {
        printf("fs-bench: no file system to measure: %s\n", ipc_strerror(rc));
        return 1;
    }
    for (uint32_t i = 0; i < REQ; i++)
        buf[i] = (uint8_t)(i * 7);
    uint64_t khz = 0;
    kc_time(0, 0, &khz, 0, 0);
    printf("BENCH-INFO tsc_khz=%lu\n", khz);
    printf("fs-bench: a 16 MiB file through fs and the disk driver (%d batches per figure)\n",
           batches);
    measure("disk.seq_write_MBps", "MBps", REQ, seq_write, FILE_BYTES / REQ);
    measure("disk.seq_read_MBps", "MBps", REQ, seq_read, FILE_BYTES / REQ);
    measure("disk.rand_read_4KiB_iops", "iops", SMALL, rand_read, RANDOM_PER);
    raw();
    fs_close(handle);
    fs_unlink("/bench.bin");
    fs_sync();
    printf("fs-bench: %ld errors\n", errors);
    printf("FS-BENCH-DONE\n");
    return errors != 0;
}
