/*
 * disk.check: the disk driver and the device-access operations as a client
 * and as a would-be rogue driver see them. Block protocol on the real
 * virtio disk (data verified); every refusal of KC_DEV_ASSIGN, KC_MMIO_MAP,
 * KC_IRQ_BIND and DMA memory; the driver killed in the middle of a 4 MiB
 * write and of a read, the client retrying until the data verifies; DMA
 * memory of a dead process reused only once its devices are known to have
 * stopped, also when the bus and memory servers restart meanwhile. Needs
 * priv=log+io+mmio+dma+irq+bus control io=0xcf8:8 irq=9 and a zeroed disk. The same program runs as
 * "holder" (a process with DMA memory, killed by the test) and "writer" (I/O in a loop while
 * someone kills the driver from the shell). Prints "CHECK <name> PASS|FAIL" per check; exit status
 * = failures.
 */
#include <abi/layout.h>
#include <abi/proto/blk.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "testlib.h"
#include "check.h"

#define BIG_SECTORS (4u << 20) / 512 /* the 4 MiB write */
#define BIG_FIRST   4096
#define DEV_VA      (USER_DEVICE_MIN + 0x100000)

/* --- the block protocol, with the retry rule of abi/proto/blk.h --- */

static long disk = -1;
static unsigned retries, deaths;

static long disk_handle(void)
{
    if (disk < 0)
        disk = name_lookup_wait("disk", 1000);
    return disk;
}

/* One request as sent; w[0] gets the status, w[1..] the answer. */
static long blk_once(uint32_t label, uint64_t first, uint64_t count, void *buf, struct ipc_msg *m)
{
    long h = disk_handle();
    if (h < 0)
        return h;
    int64_t g = 0;
    if (buf) {
        g = grant_create((uint32_t)ipc_handle_pid((uint64_t)h), buf, count * 512,
                         label == BLK_READ ? GRANT_F_WRITE : GRANT_F_READ);
        if (g < 0)
            return g;
    }
    *m = ipc_msg_make(label, 5);
    m->w[1] = first;
    m->w[2] = count;
    m->w[3] = (uint64_t)g;
    m->w[4] = 0;
    long rc = ipc_call_status((uint64_t)h, m);
    if (g > 0)
        grant_revoke((uint64_t)g);
    if (rc == -E_DEAD || rc == -E_BADHANDLE) {
        kc_cap_delete((uint64_t)h);
        disk = -1;
        deaths++;
    }
    return rc;
}

/* Resend after -E_DEAD, -E_BADHANDLE, -E_IO, -E_BUSY until it is done. */
static long blk(uint32_t label, uint64_t first, uint64_t count, void *buf, uint64_t *epoch)
{
    struct ipc_msg m;
    for (int tries = 0; tries < 50; tries++) {
        long rc = blk_once(label, first, count, buf, &m);
        if (rc >= 0) {
            if (epoch)
                *epoch = m.w[1];
            return rc;
        }
        if (rc != -E_DEAD && rc != -E_BADHANDLE && rc != -E_IO && rc != -E_BUSY)
            return rc;
        retries++;
    }
    return -E_TIMEDOUT;
}

static long kill_server(const char *name)
{
    struct ipc_msg m = ipc_msg_make(BOOT_KILL, 4);
    name_pack(&m, name);
    return ipc_call_status(HANDLE_NAMES, &m);
}

static void fill(uint8_t *p, uint64_t n, uint64_t seed)
{
    for (uint64_t i = 0; i < n; i += 8) {
        uint64_t v = test_rand(&seed);
        memcpy(p + i, &v, 8);
    }
}

static uint8_t *big, *back; /* 4 MiB each, from the memory server */
#define BIG_BYTES (4u << 20)

static void protocol_checks(void)
{
    struct ipc_msg m;
    long rc = blk_once(BLK_INFO, 0, 0, 0, &m);
    char d[96];
    snprintf(d, sizeof(d), "rc %ld, %lu sectors of %lu bytes", rc, m.w[1], m.w[2]);
    check("disk.info", rc == 0 && m.w[1] == (64u << 20) / 512 && m.w[2] == 512, d);
    fill(big, 1 << 20, 1);
    rc = blk(BLK_WRITE, 100, (1 << 20) / 512, big, 0);
    long rc2 = blk(BLK_READ, 100, (1 << 20) / 512, back, 0);
    check("disk.write_read_1MiB_verified", rc == 0 && rc2 == 0 && !memcmp(big, back, 1 << 20), 0);
    check_rc("disk.count_zero_refused", blk_once(BLK_READ, 0, 0, back, &m), -E_INVAL);
    check_rc("disk.past_the_end_refused", blk_once(BLK_READ, (64u << 20) / 512, 1, back, &m),
             -E_RANGE);
}

/* --- the device-access operations, as a rogue driver would try them --- */

static uint32_t cfg_read(unsigned dev, unsigned off)
{
    uint32_t v = 0xffffffffu;
    kc_io_out(0xcf8, 4, 0x80000000u | dev << 11 | off);
    kc_io_in(0xcfc, 4, &v);
    return v;
}

/* A memory BAR's base (64-bit BARs with their upper half). */
static uint64_t bar_base(unsigned dev, unsigned bar)
{
    uint32_t lo = cfg_read(dev, 0x10 + 4 * bar);
    if (lo & 1)
        return 0;
    uint64_t base = lo & ~0xfull;
    if ((lo & 6) == 4)
        base |= (uint64_t)cfg_read(dev, 0x14 + 4 * bar) << 32;
    return base;
}

static void device_checks(void)
{
    uint32_t me;
    kc_self(&me, 0, 0, 0);
    /* We hold the config ports too (a test's privilege), so we know where
     * the disk's registers are, and another device's. */
    uint64_t disk_bar = 0, other = 0;
    unsigned disk_line = 0;
    for (unsigned dev = 0; dev < 32; dev++) {
        uint32_t id = cfg_read(dev, 0);
        if (id == 0xffffffffu)
            continue;
        if (id == (0x1042u << 16 | 0x1af4)) {
            disk_bar = bar_base(dev, 4);
            disk_line = cfg_read(dev, 0x3c) & 0xff;
        } else if ((cfg_read(dev, 0x0c) >> 16 & 0x7f) == 0 && !other) {
            for (unsigned b = 0; b < 6 && !other; b++) {
                uint64_t base = bar_base(dev, b);
                if (base && base % 4096 == 0 && base >= 0x100000000ull / 2)
                    other = base;
            }
        }
    }
    char d[96];
    snprintf(d, sizeof(d), "disk BAR4 %lx line %u, another device's BAR %lx", disk_bar, disk_line,
             other);
    check("dev.found_devices", disk_bar && other, d);

    check_rc("dev.mmio_unassigned_device_refused", kc_mmio_map(DEV_VA, disk_bar, 1), -E_PERM);
    check_rc("dev.assign_held_window_busy", kc_dev_assign(me, disk_bar, 4096, KC_DEV_NO_IRQ),
             -E_BUSY);
    check_rc("dev.assign_line_outside_mask_refused", kc_dev_assign(me, 0, 0, disk_line), -E_PERM);
    check_rc("dev.assign_timer_line_refused", kc_dev_assign(me, 0, 0, 0), -E_RANGE);
    check_rc("dev.irq_unassigned_refused", kc_irq_bind((int)disk_line, 5), -E_PERM);
    /* Line 9 is in our mask: handed to the driver, it is no longer ours to
     * hand to anybody else (one holder per line). */
    uint32_t driver = (uint32_t)ipc_handle_pid((uint64_t)disk_handle());
    check_rc("dev.assign_line_to_driver", kc_dev_assign(driver, 0, 0, 9), 0);
    check_rc("dev.assign_line_held_busy", kc_dev_assign(me, 0, 0, 9), -E_BUSY);
    /* The kernel's record, as a restarted bus server reads it. */
    check_rc("dev.holder_of_window_is_driver", kc_dev_holder(disk_bar, 4096, KC_DEV_NO_IRQ),
             (long)driver);
    check_rc("dev.holder_of_line_is_driver", kc_dev_holder(0, 0, 9), (long)driver);
    check_rc("dev.holder_of_free_window_none", kc_dev_holder(other, 4096, KC_DEV_NO_IRQ), 0);
    check_rc("dev.holder_wrapping_window_refused", kc_dev_holder(~0ull - 4095, 8192, KC_DEV_NO_IRQ),
             -E_RANGE);
    check_rc("dev.assign_kernel_image_refused", kc_dev_assign(me, 0x100000, 4096, KC_DEV_NO_IRQ),
             -E_PERM);
    check_rc("dev.assign_low_mib_refused", kc_dev_assign(me, 0xb8000, 4096, KC_DEV_NO_IRQ),
             -E_PERM);
    check_rc("dev.assign_local_apic_refused", kc_dev_assign(me, 0xfee00000, 4096, KC_DEV_NO_IRQ),
             -E_PERM);
    check_rc("dev.assign_into_apic_range_refused",
             kc_dev_assign(me, 0xfebff000, 0x2000, KC_DEV_NO_IRQ), -E_PERM);
    check_rc("dev.assign_unaligned_refused", kc_dev_assign(me, other + 8, 4096, KC_DEV_NO_IRQ),
             -E_RANGE);

    /* DMA memory: ours, pinned, with its physical address. */
    uint64_t pa = 0;
    long err = 0;
    uint8_t *dma = mem_alloc_dma(2, &pa, &err);
    snprintf(d, sizeof(d), "err %ld, physical %lx", err, pa);
    check("dev.dma_alloc_gives_physical_address", dma && pa && pa % 4096 == 0, d);
    if (dma)
        dma[4097] = 1; /* both pages mapped and writable */
    check_rc("dev.dma_free_refused", mem_free_pages(dma, 2), -E_PERM);
    /* RAM is never a device window: not our frames, not anyone's. */
    check_rc("dev.assign_own_ram_refused", kc_dev_assign(me, pa, 4096, KC_DEV_NO_IRQ), -E_PERM);
    check_rc("dev.assign_other_process_frames_refused",
             kc_dev_assign(me, pa + 0x10000, 4096, KC_DEV_NO_IRQ), -E_PERM);
    check_rc("dev.mmio_ram_refused", kc_mmio_map(DEV_VA, pa, 1), -E_PERM);

    /* A window of our own maps, uncached, and only itself. */
    check_rc("dev.assign_free_window", kc_dev_assign(me, other, 4096, KC_DEV_NO_IRQ), 0);
    long mapped = kc_mmio_map(DEV_VA, other, 1);
    check_rc("dev.mmio_own_window_maps", mapped, 0);
    if (mapped == 0) {
        volatile uint32_t *regs = (volatile uint32_t *)DEV_VA;
        (void)regs[0]; /* a fault here ends the test */
    }
    check("dev.mmio_own_window_readable", mapped == 0, 0);
    check_rc("dev.mmio_past_window_refused", kc_mmio_map(DEV_VA + 4096, other + 4096, 1), -E_PERM);
    check_rc("dev.mmio_twice_refused", kc_mmio_map(DEV_VA, other, 1), -E_EXIST);
    check_rc("dev.mmio_outside_device_window_refused", kc_mmio_map(USER_HEAP_MIN, other, 1),
             -E_RANGE);
    /* The kernel never reads device memory on our behalf (the physmap
     * holds RAM only): a buffer there is not a buffer. */
    check_rc("dev.kernel_never_reads_device_memory", kc_log((const char *)DEV_VA, 4), -E_FAULT);
    int64_t g = grant_create(me, (const void *)DEV_VA, 16, GRANT_F_READ);
    uint8_t b16[16];
    long rc = g > 0 ? grant_copy_from(me, (uint64_t)g, 0, b16, 16) : g;
    check("dev.grant_of_device_memory_refused", rc < 0, 0);
}

/* --- the driver killed while requests are in flight --- */

static volatile int killer_done;
static volatile long killer_rc;
static long killer_handle;

/* Woken by a notification right before a request: it runs once we are
 * blocked in the call and the driver has handed the request to the device
 * and waits for its interrupt (the driver's priority is above ours). */
static void killer(void *arg)
{
    (void)arg;
    for (;;) {
        struct ipc_msg m = {0};
        if (ipc_recv(IPC_ANY, &m) < 0 || !(m.info & IPC_INFO_NOTIFY))
            continue;
        killer_rc = kill_server("disk");
        killer_done = 1;
    }
}

/* One request with the driver killed meanwhile; 1 if the kill met it in
 * flight (its first answer was an error), then resent until done. */
static int killed_request(uint32_t label, uint8_t *buf, uint64_t *epoch, long *rc)
{
    struct ipc_msg m;
    killer_done = 0;
    ipc_notify((uint64_t)killer_handle, 1);
    long first = blk_once(label, BIG_FIRST, BIG_SECTORS, buf, &m);
    while (!killer_done)
        kc_sleep(1);
    *rc = blk(label, BIG_FIRST, BIG_SECTORS, buf, epoch);
    return first < 0;
}

/* Each try restarts the driver, and the boot server restarts a module at
 * most 8 times (MAX_RESTARTS): 5 tries for the write, 2 for the read. */
#define KILL_TRIES 5

static void kill_checks(void)
{
    uint64_t epoch0 = 0, epoch1 = 0;
    fill(big, BIG_BYTES, 42);
    /* The epoch of a flush before the kill. */
    check_rc("disk.flush_before_kill", blk(BLK_FLUSH, 0, 0, 0, &epoch0), 0);
    int hit = 0;
    long rc = 0;
    unsigned d0 = deaths;
    /* A kill that comes after the request was answered misses: try again. */
    int tries = 0;
    for (; tries < KILL_TRIES && !hit; tries++)
        hit = killed_request(BLK_WRITE, big, 0, &rc);
    char d[128];
    snprintf(d, sizeof(d), "rc %ld, kill %ld, %u retries, %u deaths seen", rc, killer_rc, retries,
             deaths - d0);
    check("disk.kill_mid_write_in_flight", hit && killer_rc == 0, d);
    check_rc("disk.kill_mid_write_completes", rc, 0);
    long frc = blk(BLK_FLUSH, 0, 0, 0, &epoch1);
    snprintf(d, sizeof(d), "rc %ld, epoch %lx then %lx", frc, epoch0, epoch1);
    check("disk.new_epoch_after_restart", frc == 0 && epoch1 != epoch0, d);
    memset(back, 0, BIG_BYTES);
    rc = blk(BLK_READ, BIG_FIRST, BIG_SECTORS, back, 0);
    check("disk.kill_mid_write_data_verified", rc == 0 && !memcmp(big, back, BIG_BYTES), 0);

    hit = 0;
    /* A 4 MiB read from the host's cache is often answered before the kill
     * arrives, so whether one meets the kill is reported, not checked: the
     * data check after it holds either way. */
    for (tries = 0; tries < 2 && !hit; tries++) {
        memset(back, 0, BIG_BYTES);
        hit = killed_request(BLK_READ, back, 0, &rc);
    }
    printf("disk.check: the kill met a read in flight: %s (after %d tries, kill %ld)\n",
           hit ? "yes" : "no", tries, killer_rc);
    check("disk.kill_mid_read_data_verified", rc == 0 && !memcmp(big, back, BIG_BYTES), 0);
}

/* --- DMA memory of the dead --- */

#define HOLDER_PAGES 64

static long boot_op(uint32_t label, const char *name)
{
    struct ipc_msg m = ipc_msg_make(label, 4);
    name_pack(&m, name);
    return ipc_call_status(HANDLE_NAMES, &m);
}

/* Kill the server `name` and return once the boot server has reaped it:
 * it holds the name for the new instance (lookups answer -E_AGAIN), so a
 * death reported right now finds the server away; or the new instance has
 * registered already (a race this program can lose). 0 or -E_*. */
static long kill_and_wait_away(const char *name)
{
    long h = name_lookup(name), old = h >= 0 ? ipc_handle_pid((uint64_t)h) : -1;
    if (h >= 0)
        kc_cap_delete((uint64_t)h);
    long rc = kill_server(name);
    for (int i = 0; rc == 0 && i < 100000; i++) {
        h = name_lookup(name);
        if (h == -E_AGAIN)
            return 0;
        if (h < 0) {
            kc_yield();
            continue;
        }
        long pid = ipc_handle_pid((uint64_t)h);
        kc_cap_delete((uint64_t)h);
        if (pid != old)
            return 0;
    }
    return rc < 0 ? rc : -E_TIMEDOUT;
}

/* Start the holder, learn the physical address of its DMA memory, kill
 * the server `away` (if not 0) and then the holder, and wait until the
 * holder's death has been dealt with and the server is back. Returns the
 * address, 0 on failure. */
static uint64_t holder_round(const char *away)
{
    if (boot_op(BOOT_SPAWN, "dma.holder") < 0)
        return 0;
    long h = name_lookup_wait("dma.holder", 500);
    if (h < 0)
        return 0;
    struct ipc_msg m = ipc_msg_make(1, 1);
    long rc = ipc_call_status((uint64_t)h, &m);
    kc_cap_delete((uint64_t)h);
    uint64_t pa = rc == 0 ? m.w[1] : 0;
    if (away && kill_and_wait_away(away) < 0)
        return 0;
    boot_op(BOOT_KILL, "dma.holder");
    /* The boot server reaps (bus server, then memory server) before it
     * answers anything else after the death notification, and asks again
     * about a pending death as soon as a restarted server has registered. */
    for (int i = 0; i < 100 && name_lookup("dma.holder") != -E_NOENT; i++)
        kc_sleep(1);
    if (away && (h = name_lookup_wait(away, 500)) >= 0)
        kc_cap_delete((uint64_t)h);
    kc_sleep(10);
    return pa;
}

static uint64_t mem_free_count(void)
{
    struct mem_stats st;
    return mem_stats(&st) < 0 ? 0 : st.free_pages;
}

static void dma_checks(void)
{
    uint64_t pa1 = holder_round(0), pa2 = 0, pa3, pa4 = 0;
    long err = 0;
    void *va = mem_alloc_dma(HOLDER_PAGES, &pa2, &err);
    char d[96];
    snprintf(d, sizeof(d), "holder had %lx, we got %lx (%ld)", pa1, pa2, err);
    /* Allocation is first fit: its pages come back first once freed. */
    check("dma.freed_once_devices_stopped", pa1 && va && pa2 == pa1, d);
    /* With the bus server restarting, nobody can say yet that the holder's
     * devices stopped: its pages wait, and come back once the new bus
     * server has learnt from the kernel who holds each device. */
    pa3 = holder_round("pci");
    va = mem_alloc_dma(HOLDER_PAGES, &pa4, &err);
    snprintf(d, sizeof(d), "holder had %lx, we got %lx (%ld)", pa3, pa4, err);
    check("dma.freed_after_bus_server_restart", pa3 && va && pa4 == pa3, d);
    /* The same with the memory server away when the holder dies: once back,
     * it keeps the DMA pages of the dead (it cannot know whether their
     * devices stopped) until the boot server, which remembers, tells it. */
    uint64_t free0 = mem_free_count(), pa5 = holder_round("mem"), pa6 = 0;
    uint64_t free1 = mem_free_count();
    va = mem_alloc_dma(HOLDER_PAGES, &pa6, &err);
    snprintf(d, sizeof(d), "holder had %lx, we got %lx (%ld); free pages %lu, then %lu", pa5, pa6,
             err, free0, free1);
    printf("disk.check: free pages before the third holder %lu, after its death %lu\n", free0,
           free1);
    check("dma.freed_after_memory_server_restart", pa5 && va && pa6 == pa5, d);
}

/* memdeath (drivers.disk_mem_death, the memory server started with
 * die_in_reclaim): the memory server dies after freeing the first of the
 * dead holder's DMA pages. Its answer never came, so the boot server keeps
 * the death pending and tells the new instance, which frees the rest:
 * first fit hands out the same pages again. */
static int mem_death_check(void)
{
    uint64_t pa1 = holder_round(0), pa2 = 0;
    long h = name_lookup_wait("mem", 500);
    if (h >= 0)
        kc_cap_delete((uint64_t)h);
    kc_sleep(20);
    long err = 0;
    void *va = mem_alloc_dma(HOLDER_PAGES, &pa2, &err);
    char d[96];
    snprintf(d, sizeof(d), "holder had %lx, we got %lx (%ld)", pa1, pa2, err);
    check("dma.freed_after_memory_server_died_in_reclaim", pa1 && va && pa2 == pa1, d);
    printf("disk.check: %d checks failed\n", failures);
    return failures;
}

/* "holder": DMA memory, its physical address to whoever asks, then wait. */
static int holder(void)
{
    uint64_t pa = 0;
    long err = 0;
    if (!mem_alloc_dma(HOLDER_PAGES, &pa, &err) || name_register("dma.holder") < 0)
        return 1;
    struct ipc_msg m = {0};
    for (long rc = ipc_recv(IPC_ANY, &m);; rc = ipc_reply_recv(m.badge, &m)) {
        (void)rc;
        m.info = ipc_info(16, 0);
        m.w[0] = 0;
        m.w[1] = pa;
    }
}

/* "writer": 4 MiB written and read back in a loop until the driver has
 * been killed (from the shell) in the middle of it and two more rounds
 * verified. */
static int writer(void)
{
    printf("writer: started\n");
    unsigned rounds = 0, bad = 0, deaths0 = deaths;
    for (uint64_t seed = 1; rounds < 2 || deaths == deaths0; seed++) {
        fill(big, BIG_BYTES, seed);
        memset(back, 0, BIG_BYTES);
        long rc = blk(BLK_WRITE, BIG_FIRST, BIG_SECTORS, big, 0);
        long rc2 = blk(BLK_READ, BIG_FIRST, BIG_SECTORS, back, 0);
        bad += rc != 0 || rc2 != 0 || memcmp(big, back, BIG_BYTES) != 0;
        rounds = deaths == deaths0 ? 0 : rounds + 1;
    }
    check("disk.shell_kill_mid_io_data_verified", bad == 0, 0);
    printf("writer: %u deaths seen, %u retries, %u bad rounds\n", deaths - deaths0, retries, bad);
    return bad != 0;
}

int main(void)
{
    char args[64];
    kc_args(args, sizeof(args));
    if (strstr(args, "holder"))
        return holder();
    if (strstr(args, "memdeath"))
        return mem_death_check();
    big = mem_alloc_pages(BIG_BYTES / 4096, 0);
    back = mem_alloc_pages(BIG_BYTES / 4096, 0);
    if (!big || !back || disk_handle() < 0) {
        printf("disk.check: no disk driver\n");
        return 1;
    }
    if (strstr(args, "writer"))
        return writer();
    protocol_checks();
    device_checks();
    killer_handle = thread_create(killer, 0, 0);
    if (killer_handle < 0)
        check("disk.killer_thread", 0, 0);
    kill_checks();
    dma_checks();
    printf("disk.check: %d checks failed, %u retries\n", failures, retries);
    return failures;
}
