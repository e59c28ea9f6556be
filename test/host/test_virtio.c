/*
 * Host tests for the virtio-blk driver core (servers/virtio_blk): device
 * initialisation, the split virtqueue and the block protocol engine,
 * against a device model (virtio_model.h) that really processes the rings
 * and checks the driver's spec compliance, with hostile device modes
 * (nonsense used indices, forged ids, bad lengths and status bytes, a
 * device that needs a reset or stalls) and a seeded random run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>
#include <abi/proto/blk.h>

#include "blk_srv.h"
#include "dma.h"
#include "hostlib.h"
#include "vblk.h"
#include "virtio.h"
#include "virtio_model.h"
#include "virtq.h"

#define MiB    (1u << 20)
#define F(bit) (1ull << (bit))

/* ---- the rig: model, DMA memory, driver ---- */

enum layout {
    ONE_REGION,  /* one physically contiguous region */
    PAGES,       /* 16 pages, virtually contiguous, physically scattered */
    TWO_REGIONS, /* two regions, the second physically below the first */
};

struct rig {
    struct virtio_model m;
    struct virtio_transport t;
    struct vblk b;
    uint8_t *disk;
    uint64_t disk_bytes;
    uint8_t *mem;
    struct dma_region r[DMA_MAX_REGIONS];
    unsigned nr;
};

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + (i >> 9) * 13 + 1);
}

static struct rig *rig_new(uint64_t disk_bytes, enum layout layout, uint64_t mem_bytes)
{
    struct rig *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->disk = malloc(disk_bytes);
    assert_non_null(g->disk);
    for (uint64_t i = 0; i < disk_bytes; i++)
        g->disk[i] = pattern(i);
    g->disk_bytes = disk_bytes;
    vm_init(&g->m, g->disk, disk_bytes);
    if (layout == PAGES)
        mem_bytes = 16 * DMA_PAGE;
    g->mem = aligned_alloc(DMA_PAGE, mem_bytes);
    assert_non_null(g->mem);
    memset(g->mem, 0xa5, mem_bytes);
    switch (layout) {
    case ONE_REGION:
        g->r[0] = (struct dma_region){g->mem, 0x40000000, mem_bytes};
        g->nr = 1;
        break;
    case PAGES: {
        static const unsigned order[16] = {9, 3, 12, 0, 7, 15, 1, 10, 5, 13, 2, 8, 14, 6, 11, 4};
        for (unsigned i = 0; i < 16; i++)
            g->r[i] = (struct dma_region){g->mem + i * DMA_PAGE, 0x80000000ull + order[i] * 0x2000,
                                          DMA_PAGE};
        g->nr = 16;
        break;
    }
    case TWO_REGIONS:
        g->r[0] = (struct dma_region){g->mem, 0x200000000ull, mem_bytes / 2};
        g->r[1] = (struct dma_region){g->mem + mem_bytes / 2, 0x100000000ull, mem_bytes / 2};
        g->nr = 2;
        break;
    }
    for (unsigned i = 0; i < g->nr; i++)
        vm_add_dma(&g->m, &g->r[i]);
    return g;
}

static int rig_start(struct rig *g, uint32_t request_bytes, unsigned slots)
{
    g->t = vm_transport(&g->m);
    struct vblk_config cfg = {request_bytes, slots, 1000};
    return vblk_init(&g->b, &g->t, g->r, g->nr, &cfg);
}

static void rig_free(struct rig *g)
{
    free(g->mem);
    free(g->disk);
    free(g);
}

static void no_violations(struct rig *g)
{
    if (g->m.violations)
        fail_msg("device model: %u violations, first: %s", g->m.violations, g->m.why);
}

/* ---- vblk-level helpers ---- */

static void copy_slot(struct rig *g, unsigned slot, uint8_t *data, uint32_t bytes, bool in)
{
    struct vblk_iov iov[VBLK_MAX_SEGS];
    unsigned n = vblk_slot_iov(&g->b, slot, 0, bytes, iov, VBLK_MAX_SEGS);
    uint32_t at = 0;
    for (unsigned i = 0; i < n; i++) {
        if (in)
            memcpy(iov[i].virt, data + at, iov[i].len);
        else
            memcpy(data + at, iov[i].virt, iov[i].len);
        at += iov[i].len;
    }
    assert_int_equal(at, bytes);
}

static int submit(struct rig *g, enum vblk_op op, uint64_t first, uint32_t count,
                  const uint8_t *data, uint64_t cookie)
{
    int slot = vblk_slot_alloc(&g->b);
    assert_true(slot >= 0);
    if (data)
        copy_slot(g, (unsigned)slot, (uint8_t *)data, count * g->b.sector_size, true);
    int rc = vblk_submit(&g->b, (unsigned)slot, op, first, count, cookie, 0);
    if (rc < 0)
        vblk_slot_free(&g->b, (unsigned)slot);
    return rc < 0 ? rc : slot;
}

/* One request, waited for (the model completes on notify). */
static int io(struct rig *g, enum vblk_op op, uint64_t first, uint32_t count, uint8_t *data)
{
    int slot = submit(g, op, first, count, op == VBLK_WRITE ? data : NULL, 77);
    if (slot < 0)
        return slot;
    vblk_kick(&g->b);
    struct vblk_done d[VBLK_MAX_SLOTS];
    unsigned n = vblk_interrupt(&g->b, d, VBLK_MAX_SLOTS);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].slot, slot);
    assert_int_equal(d[0].cookie, 77);
    if (d[0].status == 0 && (op == VBLK_READ || op == VBLK_GET_ID))
        copy_slot(g, (unsigned)slot, data, d[0].bytes, false);
    vblk_slot_free(&g->b, (unsigned)slot);
    return d[0].status;
}

static void check_disk(struct rig *g, uint64_t byte, const uint8_t *data, uint64_t len)
{
    assert_memory_equal(g->disk + byte, data, len);
}

/* ---- initialisation and spec compliance ---- */

static void test_init_healthy(void **state)
{
    (void)state;
    struct rig *g = rig_new(8 * MiB, ONE_REGION, 2 * MiB);
    assert_int_equal(rig_start(g, 128 * 1024, 8), 0);
    no_violations(g);
    const uint8_t order[] = {0, 1, 3, 11, 15}; /* reset, ACK, DRIVER, FEATURES_OK, DRIVER_OK */
    assert_int_equal(g->m.status_writes, sizeof(order));
    assert_memory_equal(g->m.status_log, order, sizeof(order));
    assert_int_equal(g->m.driver_features, F(VIRTIO_F_VERSION_1) | F(VIRTIO_BLK_F_SEG_MAX) |
                                               F(VIRTIO_BLK_F_BLK_SIZE) | F(VIRTIO_BLK_F_FLUSH));
    assert_int_equal(g->m.q.size, 256);
    assert_int_equal(g->m.q.msix, VIRTIO_MSI_NO_VECTOR);
    assert_int_equal(g->m.msix_config, VIRTIO_MSI_NO_VECTOR);
    assert_int_equal(g->b.sectors, 8 * MiB / 512);
    assert_int_equal(g->b.sector_size, 512);
    assert_int_equal(g->b.nslots, 8);
    assert_int_equal(g->b.part_bytes, 128 * 1024);
    assert_true(g->b.flush);
    assert_false(g->b.read_only);
    assert_int_equal(g->b.epoch, 1000);
    /* Rings and slots are inside the pool, and no two share a byte. */
    struct {
        uint64_t at, len;
    } used[3 + VBLK_MAX_SLOTS * (1 + VBLK_MAX_SEGS)];
    unsigned n = 0;
    used[n++] = (typeof(used[0])){g->b.q.mem_desc.phys, g->b.q.mem_desc.len};
    used[n++] = (typeof(used[0])){g->b.q.mem_avail.phys, g->b.q.mem_avail.len};
    used[n++] = (typeof(used[0])){g->b.q.mem_used.phys, g->b.q.mem_used.len};
    for (unsigned i = 0; i < g->b.nslots; i++) {
        const struct vblk_slot *s = &g->b.slot[i];
        used[n++] = (typeof(used[0])){s->hdr.phys, VBLK_HDR_BYTES + 1};
        for (unsigned k = 0; k < s->nseg; k++)
            used[n++] = (typeof(used[0])){s->seg[k].phys, s->seg[k].len};
    }
    for (unsigned i = 0; i < n; i++) {
        assert_true(dma_contains(&g->b.pool, used[i].at, used[i].len));
        for (unsigned k = 0; k < i; k++)
            assert_true(used[i].at + used[i].len <= used[k].at ||
                        used[k].at + used[k].len <= used[i].at);
    }
    rig_free(g);
}

static void test_init_refusals(void **state)
{
    (void)state;
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.offered &= ~F(VIRTIO_F_VERSION_1); /* a legacy-only device */
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_NOSYS);
    assert_true(g->m.status & VIRTIO_STATUS_FAILED);
    assert_false(g->m.status & VIRTIO_STATUS_FEATURES_OK);
    no_violations(g);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.refuse_features = true;
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_IO);
    assert_true(g->m.status & VIRTIO_STATUS_FAILED);
    assert_false(g->m.status & VIRTIO_STATUS_DRIVER_OK);
    no_violations(g);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.reset_delay = UINT32_MAX; /* never finishes resetting */
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_TIMEDOUT);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.reset_delay = 5; /* slow, but finishes */
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    no_violations(g);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.cfg_flips = UINT32_MAX; /* config never stable */
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_IO);
    assert_true(g->m.status & VIRTIO_STATUS_FAILED);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.cfg_flips = 3; /* changes under the first reads: retried */
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    assert_int_equal(g->b.sectors, 2048);
    rig_free(g);
}

static void test_init_transport(void **state)
{
    (void)state;
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.area_len[VIRTIO_AREA_COMMON] = VIRTIO_COMMON_SIZE - 4;
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_INVAL);
    assert_int_equal(g->m.status_writes, 0);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.area_len[VIRTIO_AREA_DEVICE] = 4; /* capacity does not fit */
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_RANGE);
    assert_true(g->m.status & VIRTIO_STATUS_FAILED);
    no_violations(g);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.notify_off = 0x400; /* 0x400 * 4 = 0x1000: just past the notify area */
    assert_int_equal(rig_start(g, 64 * 1024, 4), -E_RANGE);
    assert_false(g->m.q.enable);
    assert_true(g->m.status & VIRTIO_STATUS_FAILED);
    no_violations(g);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.notify_off = 0x3ff; /* the last 4 bytes of the area */
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    uint8_t buf[512];
    assert_int_equal(io(g, VBLK_READ, 3, 1, buf), 0);
    assert_int_equal(g->m.notifies, 1);
    no_violations(g);
    rig_free(g);

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.notify_mult = 0; /* every queue at the start of the area */
    g->m.notify_off = 0x7fff;
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    assert_int_equal(io(g, VBLK_READ, 3, 1, buf), 0);
    no_violations(g);
    rig_free(g);
}

static void test_init_queue_sizes(void **state)
{
    (void)state;
    const struct {
        uint16_t qmax;
        int rc;
        uint16_t size;
    } cases[] = {{0, -E_NOENT, 0}, {2, -E_RANGE, 0}, {3, -E_RANGE, 0}, {4, 0, 4},      {100, 0, 64},
                 {256, 0, 256},    {257, 0, 256},    {32768, 0, 256},  {65535, 0, 256}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
        g->m.qmax = cases[i].qmax;
        assert_int_equal(rig_start(g, 64 * 1024, 16), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_int_equal(g->m.q.size, cases[i].size);
            /* a slot takes 2 + segments descriptors: never more than the queue */
            unsigned desc = 0;
            for (unsigned s = 0; s < g->b.nslots; s++)
                desc += 2 + g->b.slot[s].nseg;
            assert_true(desc <= cases[i].size);
            uint8_t buf[512];
            assert_int_equal(io(g, VBLK_READ, 1, 1, buf), 0);
        }
        no_violations(g);
        rig_free(g);
    }
}

static void test_init_memory(void **state)
{
    (void)state;
    /* One page: the queue shrinks until rings and one slot of one sector fit. */
    struct rig *g = rig_new(1 * MiB, ONE_REGION, DMA_PAGE);
    assert_int_equal(rig_start(g, 64 * 1024, 8), 0);
    assert_true(g->m.q.size < 256);
    assert_true(g->b.nslots >= 1);
    assert_true(g->b.part_bytes >= 512 && g->b.part_bytes % 512 == 0);
    uint8_t buf[512];
    assert_int_equal(io(g, VBLK_READ, 9, 1, buf), 0);
    check_disk(g, 9 * 512, buf, 512);
    no_violations(g);
    rig_free(g);

    /* Room for two and a half slots: two, both whole. */
    g = rig_new(1 * MiB, ONE_REGION, 176 * 1024);
    assert_int_equal(rig_start(g, 64 * 1024, 8), 0);
    assert_int_equal(g->b.nslots, 2);
    assert_int_equal(g->b.part_bytes, 64 * 1024);
    assert_int_equal(g->b.slot[1].capacity, 64 * 1024);
    rig_free(g);

    /* Regions the pool refuses. */
    struct vblk b;
    struct virtio_model m;
    uint8_t disk[4096];
    vm_init(&m, disk, sizeof(disk));
    struct virtio_transport t = vm_transport(&m);
    uint8_t *mem = aligned_alloc(DMA_PAGE, 4 * DMA_PAGE);
    struct vblk_config cfg = {4096, 2, 0};
    struct dma_region r[DMA_MAX_REGIONS + 1];
    r[0] = (struct dma_region){mem, 0x10000, 2 * DMA_PAGE};
    r[1] = (struct dma_region){mem + DMA_PAGE, 0x20000, DMA_PAGE}; /* same virtual page */
    assert_int_equal(vblk_init(&b, &t, r, 2, &cfg), -E_OVERLAP);
    r[1] = (struct dma_region){mem + 2 * DMA_PAGE, 0x11000, DMA_PAGE}; /* same physical page */
    assert_int_equal(vblk_init(&b, &t, r, 2, &cfg), -E_OVERLAP);
    r[1] = (struct dma_region){mem + 2 * DMA_PAGE, 0x20010, DMA_PAGE}; /* not page-aligned */
    assert_int_equal(vblk_init(&b, &t, r, 2, &cfg), -E_INVAL);
    r[1] = (struct dma_region){mem + 2 * DMA_PAGE, 0xfffffffffffff000ull, 2 * DMA_PAGE}; /* wraps */
    assert_int_equal(vblk_init(&b, &t, r, 2, &cfg), -E_INVAL);
    r[1] = (struct dma_region){mem + 2 * DMA_PAGE, 0x20000, 0};
    assert_int_equal(vblk_init(&b, &t, r, 2, &cfg), -E_INVAL);
    for (unsigned i = 0; i <= DMA_MAX_REGIONS; i++)
        r[i] = (struct dma_region){mem, 0x10000 + i * 0x1000, DMA_PAGE};
    assert_int_equal(vblk_init(&b, &t, r, DMA_MAX_REGIONS + 1, &cfg), -E_INVAL);
    assert_int_equal(vblk_init(&b, &t, r, 0, &cfg), -E_INVAL);
    cfg.slots = 0;
    assert_int_equal(vblk_init(&b, &t, r, 1, &cfg), -E_INVAL);
    assert_int_equal(m.status_writes, 0); /* all refused before the device was touched */
    free(mem);
}

static void test_blk_size_and_ro(void **state)
{
    (void)state;
    struct rig *g = rig_new(4 * MiB, ONE_REGION, 1 * MiB);
    vm_put32(g->m.devcfg + 20, 4096);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    assert_int_equal(g->b.sector_size, 4096);
    assert_int_equal(g->b.sectors, 1024);
    static uint8_t buf[8192];
    assert_int_equal(io(g, VBLK_READ, 1023, 1, buf), 0);
    check_disk(g, 1023ull * 4096, buf, 4096);
    assert_int_equal(io(g, VBLK_READ, 1023, 2, buf), -E_RANGE);
    memset(buf, 0x3c, sizeof(buf));
    assert_int_equal(io(g, VBLK_WRITE, 7, 2, buf), 0);
    check_disk(g, 7 * 4096, buf, 8192);
    no_violations(g);
    rig_free(g);

    const uint32_t nonsense[] = {1000, 256, 8192, 0, 0xffffffffu};
    for (unsigned i = 0; i < 5; i++) {
        g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
        vm_put32(g->m.devcfg + 20, nonsense[i]);
        assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
        assert_int_equal(g->b.sector_size, 512);
        rig_free(g);
    }

    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.offered |= F(VIRTIO_BLK_F_RO);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    assert_true(g->b.read_only);
    assert_int_equal(io(g, VBLK_WRITE, 0, 1, buf), -E_PERM);
    assert_int_equal(g->m.requests, 0);
    assert_int_equal(io(g, VBLK_READ, 0, 1, buf), 0);
    rig_free(g);
}

/* ---- requests ---- */

static void test_rw_layouts(void **state)
{
    (void)state;
    static uint8_t data[128 * 1024 + 64], back[128 * 1024];
    for (int layout = ONE_REGION; layout <= TWO_REGIONS; layout++) {
        struct rig *g = rig_new(8 * MiB, (enum layout)layout, 2 * MiB);
        assert_int_equal(rig_start(g, 128 * 1024, 4), 0);
        uint32_t most = g->b.part_bytes / 512;
        for (uint32_t i = 0; i < sizeof(data); i++)
            data[i] = (uint8_t)(i * 31 + layout);
        const uint32_t counts[] = {1, 2, 7, 8, 9, most - 1, most};
        uint64_t first = 5;
        for (unsigned k = 0; k < 7; k++) {
            uint32_t c = counts[k];
            assert_int_equal(io(g, VBLK_WRITE, first, c, data + k), 0);
            check_disk(g, first * 512, data + k, c * 512ull);
            assert_int_equal(io(g, VBLK_READ, first, c, back), 0);
            assert_memory_equal(back, data + k, c * 512ull);
            first += c + 3;
        }
        /* The last sector, and just past it. */
        uint64_t last = g->b.sectors - 1;
        assert_int_equal(io(g, VBLK_READ, last, 1, back), 0);
        check_disk(g, last * 512, back, 512);
        assert_int_equal(io(g, VBLK_READ, last, 2, back), -E_RANGE);
        assert_int_equal(io(g, VBLK_READ, g->b.sectors, 1, back), -E_RANGE);
        assert_int_equal(io(g, VBLK_READ, UINT64_MAX, 1, back), -E_RANGE);
        assert_int_equal(io(g, VBLK_READ, 0, 0, back), -E_INVAL);
        assert_int_equal(io(g, VBLK_READ, 0, most + 1, back), -E_INVAL);
        no_violations(g);
        rig_free(g);
    }
}

static void test_multi_descriptor(void **state)
{
    (void)state;
    /* Scattered pages: a 64 KiB request needs 16 data descriptors. */
    struct rig *g = rig_new(4 * MiB, PAGES, 0);
    assert_int_equal(rig_start(g, 32 * 1024, 4), 0);
    static uint8_t data[32 * 1024], back[32 * 1024];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    uint32_t count = g->b.part_bytes / 512;
    assert_true(g->b.slot[0].nseg >= 7);
    assert_int_equal(io(g, VBLK_WRITE, 100, count, data), 0);
    check_disk(g, 100 * 512, data, count * 512ull);
    assert_int_equal(io(g, VBLK_READ, 100, count, back), 0);
    assert_memory_equal(back, data, count * 512ull);
    no_violations(g);
    rig_free(g);

    /* The device's limits: at most 3 segments of at most 4 KiB. */
    g = rig_new(4 * MiB, ONE_REGION, 1 * MiB);
    g->m.offered |= F(VIRTIO_BLK_F_SIZE_MAX);
    vm_put32(g->m.devcfg + 8, 4096);
    vm_put32(g->m.devcfg + 12, 3);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    assert_int_equal(g->b.part_bytes, 3 * 4096);
    for (unsigned s = 0; s < g->b.nslots; s++) {
        assert_true(g->b.slot[s].nseg <= 3);
        for (unsigned k = 0; k < g->b.slot[s].nseg; k++)
            assert_true(g->b.slot[s].seg[k].len <= 4096);
    }
    assert_int_equal(io(g, VBLK_WRITE, 1, 24, data), 0);
    check_disk(g, 512, data, 24 * 512);
    no_violations(g);
    rig_free(g);
}

static void test_parallel_out_of_order(void **state)
{
    (void)state;
    struct rig *g = rig_new(8 * MiB, ONE_REGION, 2 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 8), 0);
    g->m.defer = true;
    uint64_t firsts[8];
    for (unsigned i = 0; i < 8; i++) {
        firsts[i] = 1000 + i * 200;
        assert_true(submit(g, VBLK_READ, firsts[i], 128, NULL, 500 + i) >= 0);
    }
    assert_int_equal(vblk_slot_alloc(&g->b), -E_BUSY);
    vblk_kick(&g->b);
    assert_int_equal(g->m.npending, 8); /* all eight at the device at once */
    bool seen[8] = {0};
    while (g->m.npending) {
        vm_complete(&g->m, g->m.npending - 1); /* newest first */
        vm_complete(&g->m, 0);                 /* and oldest */
        struct vblk_done d[VBLK_MAX_SLOTS];
        unsigned n = vblk_interrupt(&g->b, d, 1); /* one at a time */
        n += vblk_poll(&g->b, d + n, VBLK_MAX_SLOTS - n);
        for (unsigned k = 0; k < n; k++) {
            unsigned i = (unsigned)(d[k].cookie - 500);
            assert_true(i < 8);
            assert_false(seen[i]);
            seen[i] = true;
            assert_int_equal(d[k].status, 0);
            static uint8_t back[64 * 1024];
            copy_slot(g, d[k].slot, back, d[k].bytes, false);
            check_disk(g, firsts[i] * 512, back, d[k].bytes);
            vblk_slot_free(&g->b, d[k].slot);
        }
    }
    for (unsigned i = 0; i < 8; i++)
        assert_true(seen[i]);
    no_violations(g);
    rig_free(g);
}

static void test_flush_and_id(void **state)
{
    (void)state;
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    assert_int_equal(io(g, VBLK_FLUSH, 0, 0, NULL), 0);
    assert_int_equal(g->m.flushes, 1);
    assert_int_equal(io(g, VBLK_GET_ID, 0, 0, id), 0);
    assert_memory_equal(id, "GRANITE-DISK-0001\0\0\0", VIRTIO_BLK_ID_BYTES);
    no_violations(g);
    rig_free(g);

    /* No FLUSH feature: nothing to flush, nothing sent. */
    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    g->m.offered &= ~F(VIRTIO_BLK_F_FLUSH);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    assert_false(g->b.flush);
    assert_int_equal(io(g, VBLK_FLUSH, 0, 0, NULL), 0);
    assert_int_equal(g->m.requests, 0);
    no_violations(g);
    rig_free(g);
}

/* ---- hostile devices ---- */

/* Two reads in flight, then `hostile` does something to the used ring:
 * both must fail with -E_IO through a reset, and the driver must work
 * again afterwards. */
static void broken_used_ring(void (*hostile)(struct rig *g, int heads[2]))
{
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    g->m.defer = true;
    int slots[2] = {submit(g, VBLK_READ, 10, 4, NULL, 1), submit(g, VBLK_READ, 20, 4, NULL, 2)};
    vblk_kick(&g->b);
    assert_int_equal(g->m.npending, 2);
    int heads[2] = {g->m.pending[0].head, g->m.pending[1].head};
    unsigned resets = g->m.resets;
    uint64_t epoch = g->b.epoch;
    hostile(g, heads);
    struct vblk_done d[VBLK_MAX_SLOTS];
    unsigned n = vblk_interrupt(&g->b, d, VBLK_MAX_SLOTS);
    unsigned failed = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(d[i].cookie == 1 || d[i].cookie == 2);
        if (d[i].status == -E_IO)
            failed++;
        vblk_slot_free(&g->b, d[i].slot);
    }
    assert_int_equal(n, 2);
    assert_true(failed >= 1);
    assert_int_equal(g->m.resets, resets + 1);
    assert_int_equal(g->b.epoch, epoch + 1);
    assert_false(g->b.dead);
    assert_true(slots[0] >= 0 && slots[1] >= 0);
    /* Back in business on the same memory. */
    g->m.defer = false;
    uint8_t buf[2048];
    assert_int_equal(io(g, VBLK_READ, 30, 4, buf), 0);
    check_disk(g, 30 * 512, buf, sizeof(buf));
    assert_int_equal(vblk_poll(&g->b, d, VBLK_MAX_SLOTS), 0); /* nothing reported twice */
    no_violations(g);
    rig_free(g);
}

static void idx_jumps(struct rig *g, int heads[2])
{
    vm_used_raw(&g->m, (uint32_t)heads[0], 2049, 1000);
}

static void idx_three(struct rig *g, int heads[2])
{
    vm_used_raw(&g->m, (uint32_t)heads[0], 2049, 3); /* more than the two in flight */
}

static void idx_backwards(struct rig *g, int heads[2])
{
    vm_used_raw(&g->m, (uint32_t)heads[0], 2049, 0xffff);
}

static void id_out_of_range(struct rig *g, int heads[2])
{
    (void)heads;
    vm_used_raw(&g->m, 256, 1, 1);
}

static void id_huge(struct rig *g, int heads[2])
{
    (void)heads;
    vm_used_raw(&g->m, 0xffffffffu, 1, 1);
}

static void id_not_a_head(struct rig *g, int heads[2])
{
    vm_used_raw(&g->m, (uint32_t)heads[0] + 1, 1, 1); /* the data descriptor of a chain */
}

static void id_never_used(struct rig *g, int heads[2])
{
    (void)heads;
    vm_used_raw(&g->m, 200, 1, 1); /* a free descriptor */
}

static void id_twice(struct rig *g, int heads[2])
{
    vm_complete(&g->m, 0);
    vm_used_raw(&g->m, (uint32_t)heads[0], 2049, 1); /* the same chain again */
}

static void test_used_ring_hostile(void **state)
{
    (void)state;
    broken_used_ring(idx_jumps);
    broken_used_ring(idx_three);
    broken_used_ring(idx_backwards);
    broken_used_ring(id_out_of_range);
    broken_used_ring(id_huge);
    broken_used_ring(id_not_a_head);
    broken_used_ring(id_never_used);
    broken_used_ring(id_twice);
}

static void test_device_scribbles(void **state)
{
    (void)state;
    /* The device (it can DMA anywhere) overwrites the descriptor table and
     * the available ring while it holds two requests. The driver keeps its
     * own books and never reads them back: both complete, the next ones
     * too. */
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    g->m.defer = true;
    assert_true(submit(g, VBLK_READ, 10, 4, NULL, 1) >= 0);
    assert_true(submit(g, VBLK_READ, 20, 4, NULL, 2) >= 0);
    vblk_kick(&g->b);
    assert_int_equal(g->m.npending, 2);
    memset(g->b.q.mem_desc.virt, 0xff, g->b.q.mem_desc.len);
    memset(g->b.q.avail->ring, 0xff, 2u * g->b.q.size);
    vm_complete(&g->m, 1);
    vm_complete(&g->m, 0);
    struct vblk_done d[VBLK_MAX_SLOTS];
    assert_int_equal(vblk_interrupt(&g->b, d, VBLK_MAX_SLOTS), 2);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(d[i].status, 0);
        vblk_slot_free(&g->b, d[i].slot);
    }
    g->m.defer = false;
    uint8_t buf[4096];
    for (unsigned i = 0; i < 20; i++) { /* around the ring and over every descriptor */
        assert_int_equal(io(g, VBLK_READ, 30 + i, 8, buf), 0);
        check_disk(g, (30 + i) * 512, buf, sizeof(buf));
    }
    assert_int_equal(g->m.resets, 1);
    no_violations(g);
    rig_free(g);
}

static void test_notify_suppression(void **state)
{
    (void)state;
    /* While the device says VIRTQ_USED_F_NO_NOTIFY (it is polling), the
     * driver does not ring; once the flag is clear it does. */
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    g->b.q.used->flags = VIRTQ_USED_F_NO_NOTIFY;
    assert_true(submit(g, VBLK_READ, 1, 1, NULL, 5) >= 0);
    vblk_kick(&g->b);
    assert_int_equal(g->m.notifies, 0);
    vm_process(&g->m); /* the device polls */
    struct vblk_done d[VBLK_MAX_SLOTS];
    assert_int_equal(vblk_poll(&g->b, d, VBLK_MAX_SLOTS), 1);
    assert_int_equal(d[0].status, 0);
    vblk_slot_free(&g->b, d[0].slot);
    g->b.q.used->flags = 0;
    uint8_t buf[512];
    assert_int_equal(io(g, VBLK_READ, 2, 1, buf), 0);
    assert_int_equal(g->m.notifies, 1);
    no_violations(g);
    rig_free(g);
}

static void test_bad_lengths_and_status(void **state)
{
    (void)state;
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    uint8_t buf[4096];
    unsigned resets = g->m.resets;
    /* A length past the buffers: that request fails, the queue lives on. */
    g->m.len_delta = 1000;
    assert_int_equal(io(g, VBLK_READ, 1, 8, buf), -E_IO);
    assert_int_equal(io(g, VBLK_WRITE, 1, 8, buf), -E_IO);
    g->m.len_delta = -1; /* a short read */
    assert_int_equal(io(g, VBLK_READ, 1, 8, buf), -E_IO);
    assert_int_equal(io(g, VBLK_WRITE, 1, 8, buf), 0); /* a write's length says nothing */
    g->m.len_delta = 0;
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    g->m.next_status = 1 + VIRTIO_BLK_S_UNSUPP; /* a device without a serial */
    assert_int_equal(io(g, VBLK_GET_ID, 0, 0, id), -E_NOSYS);
    const struct {
        uint32_t status;
        int rc;
    } st[] = {{1 + VIRTIO_BLK_S_IOERR, -E_IO},
              {1 + VIRTIO_BLK_S_UNSUPP, -E_IO}, /* a read or flush cannot be unsupported */
              {1 + 0x55, -E_IO},
              {VM_STATUS_KEEP, -E_IO}, /* never written */
              {1 + VIRTIO_BLK_S_OK, 0}};
    for (unsigned i = 0; i < 5; i++) {
        g->m.next_status = st[i].status;
        assert_int_equal(io(g, VBLK_READ, 1, 8, buf), st[i].rc);
        assert_int_equal(io(g, VBLK_FLUSH, 0, 0, NULL), st[i].rc);
    }
    g->m.next_status = 0;
    g->m.io_error_from = 100; /* a bad patch on the disk */
    assert_int_equal(io(g, VBLK_READ, 99, 1, buf), 0);
    assert_int_equal(io(g, VBLK_READ, 99, 2, buf), -E_IO);
    assert_int_equal(g->m.resets, resets);
    no_violations(g);
    rig_free(g);
}

static void test_needs_reset_and_config(void **state)
{
    (void)state;
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    g->m.defer = true;
    assert_true(submit(g, VBLK_WRITE, 5, 1, g->disk, 9) >= 0);
    vblk_kick(&g->b);
    g->m.status |= VIRTIO_STATUS_NEEDS_RESET;
    g->m.isr |= VIRTIO_ISR_CONFIG;
    struct vblk_done d[VBLK_MAX_SLOTS];
    assert_int_equal(vblk_interrupt(&g->b, d, VBLK_MAX_SLOTS), 1);
    assert_int_equal(d[0].status, -E_IO);
    assert_int_equal(d[0].cookie, 9);
    vblk_slot_free(&g->b, d[0].slot);
    assert_int_equal(g->m.resets, 2);
    assert_false(g->m.status & VIRTIO_STATUS_NEEDS_RESET);
    g->m.defer = false;
    uint8_t buf[512];
    assert_int_equal(io(g, VBLK_READ, 5, 1, buf), 0);

    /* The disk shrinks: the driver notices through the config interrupt. */
    uint64_t cap = 100;
    memcpy(g->m.devcfg, &cap, 8);
    g->m.isr |= VIRTIO_ISR_CONFIG;
    assert_int_equal(vblk_interrupt(&g->b, d, VBLK_MAX_SLOTS), 0);
    assert_int_equal(g->b.sectors, 100);
    assert_int_equal(io(g, VBLK_READ, 100, 1, buf), -E_RANGE);
    no_violations(g);
    rig_free(g);
}

static void test_restart_failures(void **state)
{
    (void)state;
    /* After a reset the device offers other features: the layout no longer
     * holds, so it is given up. */
    struct rig *g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    g->m.offered &= ~F(VIRTIO_BLK_F_FLUSH);
    assert_true(vblk_restart(&g->b) < 0);
    assert_true(g->b.dead);
    assert_true(g->m.status & VIRTIO_STATUS_FAILED);
    uint8_t buf[512];
    assert_int_equal(io(g, VBLK_READ, 1, 1, buf) == -E_IO, 1);
    rig_free(g);

    /* Reset never finishes: dead, and what was in flight fails. */
    g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    assert_int_equal(rig_start(g, 64 * 1024, 4), 0);
    g->m.defer = true;
    assert_true(submit(g, VBLK_READ, 1, 1, NULL, 3) >= 0);
    vblk_kick(&g->b);
    g->m.reset_delay = UINT32_MAX;
    assert_true(vblk_stalled(&g->b, 1000, 999));
    assert_false(vblk_stalled(&g->b, 1000, 1000));
    assert_int_equal(vblk_restart(&g->b), -E_TIMEDOUT);
    assert_true(g->b.dead);
    struct vblk_done d[VBLK_MAX_SLOTS];
    assert_int_equal(vblk_poll(&g->b, d, VBLK_MAX_SLOTS), 1);
    assert_int_equal(d[0].status, -E_IO);
    rig_free(g);
}

/* ---- the block protocol (blk_srv) over fake grants ---- */

#define CLIENTS 4

struct client {
    uint8_t *buf;
    uint64_t len, grant;
    bool read_ok, write_ok;
    uint64_t fault_at; /* copies reaching this offset fail with -E_FAULT (0: never) */
};

struct world {
    struct rig *g;
    struct blk_srv s;
    struct client c[CLIENTS];
    unsigned replies[CLIENTS];
    uint64_t last[CLIENTS][8];
    unsigned copies;
};

static long fake_copy(struct world *w, uint64_t client, uint64_t grant, uint64_t off, void *mine,
                      uint64_t len, bool to_client)
{
    if (client >= CLIENTS || grant != w->c[client].grant)
        return -E_GRANT_STALE;
    struct client *c = &w->c[client];
    if (to_client ? !c->write_ok : !c->read_ok)
        return -E_GRANT_ACCESS;
    if (off > c->len || len > c->len - off)
        return -E_GRANT_RANGE;
    if (len == 0)
        return 0;
    if (c->fault_at && off + len > c->fault_at)
        return -E_FAULT;
    w->copies++;
    if (to_client)
        memcpy(c->buf + off, mine, len);
    else
        memcpy(mine, c->buf + off, len);
    return (long)len;
}

static long copy_from(void *ctx, uint64_t client, uint64_t grant, uint64_t off, void *dst,
                      uint64_t len)
{
    return fake_copy(ctx, client, grant, off, dst, len, false);
}

static long copy_to(void *ctx, uint64_t client, uint64_t grant, uint64_t off, const void *src,
                    uint64_t len)
{
    return fake_copy(ctx, client, grant, off, (void *)src, len, true);
}

static void reply(void *ctx, uint64_t client, const uint64_t w[8])
{
    struct world *wd = ctx;
    assert_true(client < CLIENTS);
    wd->replies[client]++;
    memcpy(wd->last[client], w, sizeof(wd->last[client]));
}

static struct world *world_new(uint64_t disk_bytes, uint32_t request_bytes, unsigned slots)
{
    struct world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->g = rig_new(disk_bytes, ONE_REGION, 4 * MiB);
    assert_int_equal(rig_start(w->g, request_bytes, slots), 0);
    struct blk_srv_ops ops = {w, copy_from, copy_to, reply};
    blk_srv_init(&w->s, &w->g->b, &ops);
    for (unsigned i = 0; i < CLIENTS; i++) {
        w->c[i].len = BLK_MAX_BYTES + 8192;
        w->c[i].buf = malloc(w->c[i].len);
        assert_non_null(w->c[i].buf);
        memset(w->c[i].buf, 0xee, w->c[i].len);
        w->c[i].grant = 0x100000000ull * (i + 1) + 7;
        w->c[i].read_ok = w->c[i].write_ok = true;
    }
    return w;
}

static void world_free(struct world *w)
{
    for (unsigned i = 0; i < CLIENTS; i++)
        free(w->c[i].buf);
    rig_free(w->g);
    free(w);
}

/* Send a request with this grant id; returns the number of replies it got
 * at once (0/1). */
static unsigned send_grant(struct world *w, unsigned client, uint32_t label, uint64_t first,
                           uint64_t count, uint64_t grant, uint64_t goff)
{
    uint64_t m[8] = {0, first, count, grant, goff};
    unsigned before = w->replies[client];
    blk_srv_request(&w->s, client, label, m, 0);
    return w->replies[client] - before;
}

static unsigned send(struct world *w, unsigned client, uint32_t label, uint64_t first,
                     uint64_t count, uint64_t goff)
{
    return send_grant(w, client, label, first, count, w->c[client].grant, goff);
}

/* Let the device finish everything it holds until client has n replies. */
static void wait_replies(struct world *w, unsigned client, unsigned n)
{
    for (int spins = 0; w->replies[client] < n; spins++) {
        assert_true(spins < 100000);
        while (w->g->m.npending)
            vm_complete(&w->g->m, 0);
        blk_srv_interrupt(&w->s, 0);
    }
    assert_int_equal(w->replies[client], n);
}

/* Send and wait for the answer (completing deferred device work). */
static long call(struct world *w, unsigned client, uint32_t label, uint64_t first, uint64_t count,
                 uint64_t goff)
{
    unsigned before = w->replies[client];
    send(w, client, label, first, count, goff);
    wait_replies(w, client, before + 1);
    return (long)w->last[client][0];
}

static void test_srv_info(void **state)
{
    (void)state;
    struct world *w = world_new(8 * MiB, 128 * 1024, 8);
    assert_int_equal(send(w, 0, BLK_INFO, 0, 0, 0), 1);
    assert_int_equal(w->last[0][0], 0);
    assert_int_equal(w->last[0][1], 8 * MiB / 512);
    assert_int_equal(w->last[0][2], 512);
    assert_int_equal(w->last[0][3], BLK_MAX_BYTES / 512);
    assert_int_equal(w->last[0][4], BLK_INFO_FLUSH);
    assert_int_equal(w->last[0][5], 1000);
    assert_int_equal(send(w, 0, 0x5ff, 0, 0, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_NOSYS);
    world_free(w);
}

static void test_srv_big_parallel(void **state)
{
    (void)state;
    /* A 4 MiB write is split into 32 parts of 128 KiB, eight at a time. */
    struct world *w = world_new(16 * MiB, 128 * 1024, 8);
    struct client *c = &w->c[1];
    for (uint64_t i = 0; i < BLK_MAX_BYTES; i++)
        c->buf[100 + i] = (uint8_t)(i * 13 + (i >> 12));
    w->g->m.defer = true;
    assert_int_equal(send(w, 1, BLK_WRITE, 4096, BLK_MAX_BYTES / 512, 100), 0);
    assert_int_equal(w->g->m.npending, 8);
    assert_int_equal(send(w, 1, BLK_FLUSH, 0, 0, 0), 0); /* queued behind the write */
    wait_replies(w, 1, 2);
    assert_int_equal(w->last[1][0], 0);
    check_disk(w->g, 4096 * 512, c->buf + 100, BLK_MAX_BYTES);
    assert_int_equal(w->g->m.requests, 32 + 1);
    assert_int_equal(w->g->m.flushes, 1);
    /* Read it back into another client's buffer at an odd offset. */
    struct client *r = &w->c[2];
    assert_int_equal(call(w, 2, BLK_READ, 4096, BLK_MAX_BYTES / 512, 3), 0);
    assert_memory_equal(r->buf + 3, c->buf + 100, BLK_MAX_BYTES);
    assert_int_equal(r->buf[2], 0xee);                 /* nothing before the offset */
    assert_int_equal(r->buf[3 + BLK_MAX_BYTES], 0xee); /* nor after */
    assert_int_equal(w->last[2][1], 1000);
    no_violations(w->g);
    world_free(w);
}

static void test_srv_errors(void **state)
{
    (void)state;
    struct world *w = world_new(1 * MiB, 64 * 1024, 4);
    uint64_t n = 2048, max = BLK_MAX_BYTES / 512;
    const struct {
        uint32_t label;
        uint64_t first, count, goff;
        long rc;
    } cases[] = {
        {BLK_READ, 0, 0, 0, -E_INVAL},
        {BLK_READ, n, 0, 0, -E_INVAL}, /* count first */
        {BLK_READ, 0, max + 1, 0, -E_INVAL},
        {BLK_READ, n, 1, 0, -E_RANGE},
        {BLK_READ, n - 1, 2, 0, -E_RANGE},
        {BLK_READ, UINT64_MAX, 1, 0, -E_RANGE},
        {BLK_WRITE, 1, UINT64_MAX, 0, -E_INVAL},
        {BLK_READ, 0, 1, UINT64_MAX - 100, -E_GRANT_RANGE}, /* offset + bytes wraps */
        {BLK_READ, 0, 1, BLK_MAX_BYTES + 8192 - 511, -E_GRANT_RANGE},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(send(w, 0, cases[i].label, cases[i].first, cases[i].count, cases[i].goff),
                         1);
        assert_int_equal((long)w->last[0][0], cases[i].rc);
    }
    /* The last byte of the grant is usable. */
    assert_int_equal(call(w, 0, BLK_READ, 0, 1, BLK_MAX_BYTES + 8192 - 512), 0);
    /* Grant trouble is found before the device is touched. */
    unsigned requests = w->g->m.requests;
    assert_int_equal(send_grant(w, 0, BLK_READ, 0, 1, w->c[0].grant + 1, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_GRANT_STALE);
    w->c[0].write_ok = false;
    assert_int_equal(send(w, 0, BLK_READ, 0, 1, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_GRANT_ACCESS);
    w->c[0].read_ok = false;
    assert_int_equal(send(w, 0, BLK_WRITE, 0, 1, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_GRANT_ACCESS);
    assert_int_equal(w->g->m.requests, requests);
    world_free(w);

    /* Read-only: -E_PERM after the range, before the grant. */
    w = calloc(1, sizeof(*w));
    w->g = rig_new(1 * MiB, ONE_REGION, 1 * MiB);
    w->g->m.offered |= F(VIRTIO_BLK_F_RO);
    assert_int_equal(rig_start(w->g, 64 * 1024, 4), 0);
    struct blk_srv_ops ops = {w, copy_from, copy_to, reply};
    blk_srv_init(&w->s, &w->g->b, &ops);
    w->c[0].grant = 5;
    w->c[0].buf = malloc(4096);
    w->c[0].len = 4096;
    assert_int_equal(send(w, 0, BLK_WRITE, 2048, 1, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_RANGE);
    assert_int_equal(send(w, 0, BLK_WRITE, 0, 1, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_PERM);
    assert_int_equal(send(w, 0, BLK_INFO, 0, 0, 0), 1);
    assert_int_equal(w->last[0][4], BLK_INFO_RO | BLK_INFO_FLUSH);
    free(w->c[0].buf);
    rig_free(w->g);
    free(w);
}

static void test_srv_busy_and_fault(void **state)
{
    (void)state;
    struct world *w = world_new(8 * MiB, 64 * 1024, 4);
    w->g->m.defer = true;
    for (unsigned i = 0; i < BLK_SRV_MAX_REQS; i++)
        assert_int_equal(send(w, i % CLIENTS, BLK_READ, i * 8, 8, 0), 0);
    assert_int_equal(send(w, 0, BLK_FLUSH, 0, 0, 0), 1);
    assert_int_equal((long)w->last[0][0], -E_BUSY);
    assert_int_equal(send(w, 0, BLK_INFO, 0, 0, 0), 1); /* still answers what needs no slot */
    while (w->g->m.npending) {
        vm_complete(&w->g->m, 0);
        blk_srv_interrupt(&w->s, 0);
    }
    unsigned total = 0;
    for (unsigned i = 0; i < CLIENTS; i++)
        total += w->replies[i];
    assert_int_equal(total, BLK_SRV_MAX_REQS + 2);

    /* A page behind the grant is missing at 300 KiB: the request fails
     * once, after its parts in flight came back. */
    w->c[3].fault_at = 300 * 1024;
    unsigned before = w->replies[3];
    assert_int_equal(call(w, 3, BLK_WRITE, 0, 1024, 0), -E_FAULT);
    assert_int_equal(w->replies[3], before + 1);
    assert_int_equal(w->g->m.npending, 0);
    for (unsigned s = 0; s < w->g->b.nslots; s++)
        assert_int_equal(w->g->b.slot[s].state, VBLK_SLOT_FREE);
    world_free(w);
}

static void test_srv_reset_midway(void **state)
{
    (void)state;
    /* The device breaks the protocol in the middle of a 4 MiB write: the
     * write fails with -E_IO and a new epoch; sent again it completes. */
    struct world *w = world_new(16 * MiB, 128 * 1024, 8);
    struct client *c = &w->c[0];
    for (uint64_t i = 0; i < BLK_MAX_BYTES; i++)
        c->buf[i] = (uint8_t)(i * 5 + 1);
    assert_int_equal(call(w, 0, BLK_WRITE, 0, 8, 0), 0);
    uint64_t epoch = w->last[0][1];
    w->g->m.defer = true;
    assert_int_equal(send(w, 0, BLK_WRITE, 8192, BLK_MAX_BYTES / 512, 0), 0);
    for (int i = 0; i < 3; i++) { /* some parts complete */
        vm_complete(&w->g->m, 0);
        blk_srv_interrupt(&w->s, 0);
    }
    vm_used_raw(&w->g->m, 1000, 0, 50); /* nonsense */
    blk_srv_interrupt(&w->s, 0);
    assert_int_equal(w->replies[0], 2);
    assert_int_equal((long)w->last[0][0], -E_IO);
    /* The flush now answers with another epoch: the client knows the write
     * it had answered at `epoch` may be lost, and writes it again. */
    w->g->m.defer = false;
    assert_int_equal(call(w, 0, BLK_FLUSH, 0, 0, 0), 0);
    assert_int_equal(w->last[0][1], epoch + 1);
    assert_int_equal(call(w, 0, BLK_WRITE, 0, 8, 0), 0);
    assert_int_equal(call(w, 0, BLK_WRITE, 8192, BLK_MAX_BYTES / 512, 0), 0);
    assert_int_equal(call(w, 0, BLK_FLUSH, 0, 0, 0), 0);
    assert_int_equal(w->last[0][1], epoch + 1);
    check_disk(w->g, 8192 * 512, c->buf, BLK_MAX_BYTES);
    no_violations(w->g);
    world_free(w);
}

static void test_srv_stall_and_dead(void **state)
{
    (void)state;
    struct world *w = world_new(1 * MiB, 64 * 1024, 4);
    w->g->m.defer = true;
    assert_int_equal(send(w, 0, BLK_READ, 0, 8, 0), 0);
    blk_srv_tick(&w->s, 50, 100);
    assert_int_equal(w->replies[0], 0); /* not stalled yet */
    blk_srv_tick(&w->s, 101, 100);
    assert_int_equal(w->replies[0], 1);
    assert_int_equal((long)w->last[0][0], -E_IO);
    assert_int_equal(w->g->m.resets, 2);
    /* ID through the protocol. */
    w->g->m.defer = false;
    assert_int_equal(call(w, 1, BLK_ID, 0, 0, 0), 17);
    assert_memory_equal(&w->last[1][1], "GRANITE-DISK-0001", 17);
    assert_int_equal(w->last[1][4], w->g->b.epoch);
    /* A device that does not come back: everything fails at once. */
    w->g->m.reset_delay = UINT32_MAX;
    w->g->m.defer = true;
    assert_int_equal(send(w, 2, BLK_READ, 0, 8, 0), 0);
    blk_srv_tick(&w->s, 1000, 100);
    assert_int_equal((long)w->last[2][0], -E_IO);
    assert_true(w->g->b.dead);
    assert_int_equal(send(w, 2, BLK_FLUSH, 0, 0, 0), 1);
    assert_int_equal((long)w->last[2][0], -E_IO);
    assert_int_equal(send(w, 2, BLK_READ, 0, 1, 0), 1);
    assert_int_equal((long)w->last[2][0], -E_IO);
    world_free(w);
}

/* Sequential reads: the next range is read ahead into slots and handed to
 * the client that asks for exactly it; a write, a reset or a client that
 * needs the slots makes it go, and no read ever returns what a write
 * answered before it replaced. */
static void test_srv_read_ahead(void **state)
{
    (void)state;
    struct world *w = world_new(16 * MiB, 128 * 1024, 8);
    const uint64_t n = 256; /* 128 KiB: one part */
    uint8_t *want = malloc(4 * MiB);
    assert_non_null(want);
    memcpy(want, w->g->disk, 4 * MiB);
    /* The first read (at 0, where "the previous one ended") starts a read
     * ahead of the next 128 KiB once it is answered. */
    unsigned requests = w->g->m.requests;
    assert_int_equal(call(w, 1, BLK_READ, 0, n, 10), 0);
    assert_memory_equal(w->c[1].buf + 10, want, n * 512);
    assert_int_equal(w->g->m.requests, requests + 2);
    /* Asked for, it is answered from the slot: no new device request. */
    requests = w->g->m.requests;
    memset(w->c[1].buf, 0xee, 2 * n * 512);
    assert_int_equal(call(w, 1, BLK_READ, n, n, 20), 0);
    assert_memory_equal(w->c[1].buf + 20, want + n * 512, n * 512);
    assert_int_equal(w->c[1].buf[19], 0xee);
    assert_int_equal(w->c[1].buf[20 + n * 512], 0xee);
    assert_int_equal(w->s.ahead_hits, 1);
    assert_int_equal(w->g->m.requests, requests + 1); /* only the next read ahead */
    assert_int_equal(w->last[1][1], w->g->b.epoch);
    /* A write to what is read ahead (2n..3n): dropped, the read sees the
     * new bytes. */
    for (uint64_t i = 0; i < n * 512; i++)
        w->c[0].buf[i] = (uint8_t)(i * 3 + 7);
    assert_int_equal(call(w, 0, BLK_WRITE, 2 * n, n, 0), 0);
    memcpy(want + 2 * n * 512, w->c[0].buf, n * 512);
    assert_int_equal(w->s.ahead_drops, 1);
    assert_int_equal(call(w, 1, BLK_READ, 2 * n, n, 0), 0);
    assert_memory_equal(w->c[1].buf, want + 2 * n * 512, n * 512);
    assert_int_equal(w->s.ahead_hits, 1);
    /* 3n..4n is read ahead now; a write anywhere else drops it too (it
     * may have been on its way to those sectors). */
    assert_int_equal(call(w, 0, BLK_WRITE, 64 * n, n, 0), 0);
    assert_int_equal(w->s.ahead_drops, 2);
    /* Taken over while still on the device: answered when it completes. */
    w->g->m.defer = true;
    assert_int_equal(call(w, 1, BLK_READ, 3 * n, n, 0), 0);
    assert_int_equal(w->g->m.npending, 1); /* 4n..5n, held by the device */
    unsigned before = w->replies[1];
    assert_int_equal(send(w, 1, BLK_READ, 4 * n, n, 30), 0);
    assert_int_equal(w->s.ahead_hits, 2);
    wait_replies(w, 1, before + 1);
    assert_int_equal((long)w->last[1][0], 0);
    assert_memory_equal(w->c[1].buf + 30, want + 4 * n * 512, n * 512);
    /* A reset in between: the slot's bytes are of another epoch, so the
     * read goes to the device again and answers in the new one. */
    while (w->g->m.npending) {
        vm_complete(&w->g->m, 0);
        blk_srv_interrupt(&w->s, 0);
    }
    w->g->m.defer = false;
    uint64_t epoch = w->g->b.epoch;
    assert_int_equal(vblk_restart(&w->g->b), 0);
    assert_int_equal(call(w, 1, BLK_READ, 5 * n, n, 0), 0);
    assert_int_equal(w->last[1][1], epoch + 1);
    assert_memory_equal(w->c[1].buf, want + 5 * n * 512, n * 512);
    assert_int_equal(w->s.ahead_hits, 2);
    assert_int_equal(w->s.ahead_drops, 3);
    /* A client that needs the slots gets them: 4 MiB while 6n..7n is
     * held. */
    assert_int_equal(call(w, 2, BLK_READ, 0, BLK_MAX_BYTES / 512, 0), 0);
    assert_memory_equal(w->c[2].buf, want, 4 * MiB);
    assert_int_equal(w->s.ahead_drops, 4);
    /* A new sequential stream replaces a read ahead nobody took. */
    assert_int_equal(call(w, 1, BLK_READ, 7 * n, n, 0), 0);  /* not sequential */
    assert_int_equal(call(w, 1, BLK_READ, 20 * n, n, 0), 0); /* nor this */
    assert_int_equal(call(w, 1, BLK_READ, 21 * n, n, 0), 0); /* sequential: 22n read ahead */
    assert_int_equal(call(w, 1, BLK_READ, 7 * n, n, 0), 0);
    assert_int_equal(call(w, 1, BLK_READ, 8 * n, n, 0), 0); /* 9n replaces 22n */
    assert_int_equal(w->s.ahead_drops, 5);
    /* A bad grant on a read that takes over: the kernel's error, and
     * every slot given back. */
    w->c[1].fault_at = 100;
    assert_int_equal(call(w, 1, BLK_READ, 9 * n, n, 0), -E_FAULT);
    w->c[1].fault_at = 0;
    assert_int_equal(w->s.ahead_hits, 3);
    assert_false(blk_srv_busy(&w->s));
    for (unsigned i = 0; i < w->g->b.nslots; i++)
        assert_int_equal(w->g->b.slot[i].state, VBLK_SLOT_FREE);
    no_violations(w->g);
    free(want);
    world_free(w);
}

/* ---- random run: honest and hostile device, every answer checked ---- */

/* Each client owns a quarter of the disk and has one request out at a
 * time, so every successful answer can be checked exactly. */
struct outstanding {
    bool busy;
    uint32_t label;
    uint64_t first, count, goff;
    unsigned seen; /* replies counted so far */
};

static long check_answer(struct world *w, unsigned k, struct outstanding *o, uint8_t *shadow,
                         uint8_t *unsure)
{
    long rc = (long)w->last[k][0];
    assert_true(rc == 0 || rc == -E_IO); /* what the protocol allows for reads and writes */
    struct client *cl = &w->c[k];
    uint64_t bytes = o->count * 512;
    if (rc == 0 && o->label == BLK_WRITE) {
        memcpy(shadow + o->first * 512, cl->buf + o->goff, bytes);
        memset(unsure + o->first, 0, o->count);
    }
    if (rc == 0 && o->label == BLK_READ)
        for (uint64_t sct = 0; sct < o->count; sct++)
            if (!unsure[o->first + sct])
                assert_memory_equal(cl->buf + o->goff + sct * 512, shadow + (o->first + sct) * 512,
                                    512);
    /* Never a byte outside the request's part of the buffer. */
    for (uint64_t i = 0; i < o->goff; i++)
        assert_int_equal(cl->buf[i], 0xee);
    for (uint64_t i = o->goff + bytes; i < o->goff + bytes + 64; i++)
        assert_int_equal(cl->buf[i], 0xee);
    return rc;
}

static void test_random(void **state)
{
    (void)state;
    rng_state = 0x00c0ffee12345678ull;
    const uint64_t disk = 2 * MiB, sectors = disk / 512, quarter = sectors / CLIENTS;
    uint64_t hits = 0;
    for (int round = 0; round < 6; round++) {
        struct world *w = world_new(disk, 16 * 1024 << (round % 3), 2 + round);
        uint8_t *shadow = malloc(disk);       /* what the disk must hold */
        uint8_t *unsure = calloc(1, sectors); /* sectors a failed write may have changed */
        memcpy(shadow, w->g->disk, disk);
        struct outstanding out[CLIENTS] = {0};
        uint64_t next_read[CLIENTS] = {0}, last_count[CLIENTS] = {0};
        unsigned hostile = 0, answered = 0, good = 0;
        for (int step = 0; step < 3000; step++) {
            unsigned c = (unsigned)(rng() % CLIENTS);
            uint64_t r = rng() % 100;
            if (!out[c].busy && r < 45) {
                struct outstanding *o = &out[c];
                o->count = 1 + rng() % 300;
                o->first = c * quarter + rng() % (quarter - o->count);
                o->goff = rng() % 4096;
                o->label = rng() % 2 ? BLK_READ : BLK_WRITE;
                /* Half the reads follow this client's last one, with its
                 * size: read ahead and taken over, under the same hostility. */
                if (o->label == BLK_READ && rng() % 2 && next_read[c] &&
                    next_read[c] + last_count[c] <= (c + 1) * quarter) {
                    o->first = next_read[c];
                    o->count = last_count[c];
                }
                if (o->label == BLK_READ) {
                    next_read[c] = o->first + o->count;
                    last_count[c] = o->count;
                }
                struct client *cl = &w->c[c];
                memset(cl->buf, 0xee, o->goff + o->count * 512 + 64);
                if (o->label == BLK_WRITE) {
                    for (uint64_t i = 0; i < o->count * 512; i++)
                        cl->buf[o->goff + i] = (uint8_t)rng();
                    memset(unsure + o->first, 1, o->count); /* until it succeeds */
                }
                o->busy = true;
                send(w, c, o->label, o->first, o->count, o->goff);
            } else if (r < 80) {
                if (w->g->m.npending)
                    vm_complete(&w->g->m, (unsigned)(rng() % w->g->m.npending));
                blk_srv_interrupt(&w->s, 0);
            } else if (r < 84) {
                hostile++;
                uint64_t h = rng() % 3;
                if (h == 0) {
                    vm_used_raw(&w->g->m, (uint32_t)rng() % 300, (uint32_t)rng() % 5000,
                                (uint16_t)(1 + rng() % 4));
                } else if (h == 1) {
                    w->g->m.status |= VIRTIO_STATUS_NEEDS_RESET;
                    w->g->m.isr |= VIRTIO_ISR_CONFIG;
                } else {
                    w->g->m.next_status = rng() % 2 ? 0 : 1 + (uint32_t)(rng() % 3);
                }
                blk_srv_interrupt(&w->s, 0);
            } else {
                w->g->m.defer = rng() % 2;
                blk_srv_interrupt(&w->s, 0);
            }
            for (unsigned k = 0; k < CLIENTS; k++) {
                if (w->replies[k] == out[k].seen)
                    continue;
                assert_int_equal(w->replies[k], out[k].seen + 1); /* exactly one answer */
                assert_true(out[k].busy);
                out[k].seen++;
                out[k].busy = false;
                answered++;
                good += check_answer(w, k, &out[k], shadow, unsure) == 0;
            }
            /* Never a byte changed outside what was written. */
            if (step % 100 == 0)
                for (uint64_t sct = 0; sct < sectors; sct++)
                    if (!unsure[sct])
                        assert_memory_equal(w->g->disk + sct * 512, shadow + sct * 512, 512);
        }
        /* Hostility costs the requests in flight, not the device. */
        assert_true(hostile > 50 && answered > 500 && good > answered / 3);
        assert_false(w->g->b.dead);
        assert_true(w->g->b.resets > 10);
        hits += w->s.ahead_hits;
        printf("round %d: %u answers, %u good, %u hostile acts, %llu resets, %u slots, %llu "
               "reads taken from a read ahead\n",
               round, answered, good, hostile, (unsigned long long)w->g->b.resets, w->g->b.nslots,
               (unsigned long long)w->s.ahead_hits);
        no_violations(w->g);
        free(shadow);
        free(unsure);
        world_free(w);
    }
    assert_true(hits >= 5); /* the read ahead ran under the hostility too (seeded: 7) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_healthy),
        cmocka_unit_test(test_init_refusals),
        cmocka_unit_test(test_init_transport),
        cmocka_unit_test(test_init_queue_sizes),
        cmocka_unit_test(test_init_memory),
        cmocka_unit_test(test_blk_size_and_ro),
        cmocka_unit_test(test_rw_layouts),
        cmocka_unit_test(test_multi_descriptor),
        cmocka_unit_test(test_parallel_out_of_order),
        cmocka_unit_test(test_flush_and_id),
        cmocka_unit_test(test_used_ring_hostile),
        cmocka_unit_test(test_device_scribbles),
        cmocka_unit_test(test_notify_suppression),
        cmocka_unit_test(test_bad_lengths_and_status),
        cmocka_unit_test(test_needs_reset_and_config),
        cmocka_unit_test(test_restart_failures),
        cmocka_unit_test(test_srv_info),
        cmocka_unit_test(test_srv_big_parallel),
        cmocka_unit_test(test_srv_errors),
        cmocka_unit_test(test_srv_busy_and_fault),
        cmocka_unit_test(test_srv_reset_midway),
        cmocka_unit_test(test_srv_stall_and_dead),
        cmocka_unit_test(test_srv_read_ahead),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
