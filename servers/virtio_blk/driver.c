/*
 * The virtio-blk driver server: claims its PCI function from the bus
 * server, maps the BARs its virtio structures live in (KC_MMIO_MAP, uncached),
 * takes DMA memory from the memory server, binds the INTx line, and speaks
 * the block protocol (abi/proto/blk.h) under its module's name through
 * blk_srv. Restartable: a new instance resets the device before bus
 * mastering goes back on, with a new epoch.
 */
#include <abi/layout.h>
#include <abi/proto/blk.h>
#include <abi/proto/pci.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/measure.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "blk_srv.h"
#include "pci.h"
#include "virtio_pci.h"

#define IRQ_BIT       0             /* our notification bit for the device's line */
#define TICK          20            /* timer ticks between stall checks (200 ms) */
#define STALL_SECONDS 5             /* a request the device sits on longer is reset */
#define DMA_CHUNK     64            /* pages per physically contiguous DMA region */
#define DMA_CHUNKS    9             /* 2.25 MiB: queue, headers and 16 x 128 KiB */
#define BAR_STRIDE    (16ull << 20) /* device-window address space per BAR */
#define BAR_MAX_PAGES (BAR_STRIDE >> 12)

static uint64_t pci; /* handle of the bus server */
static char myname[KC_NAME_MAX];

static long pci_call(uint32_t label, uint64_t w1, struct ipc_msg *m)
{
    *m = ipc_msg_make(label, 2);
    m->w[1] = w1;
    return ipc_call_status(pci, m);
}

/* Config space of our function, read through the bus server. */
static uint32_t ipc_read32(void *ctx, struct pci_addr a, uint8_t off)
{
    (void)ctx;
    (void)a;
    struct ipc_msg m;
    return pci_call(PCI_CFG_READ, off, &m) < 0 ? 0xffffffffu : (uint32_t)m.w[1];
}

static void ipc_write32(void *ctx, struct pci_addr a, uint8_t off, uint32_t value)
{
    (void)ctx, (void)a, (void)off, (void)value; /* the driver never writes config space */
}

static const struct pci_config_ops cfg = {0, ipc_read32, ipc_write32};

/* The transport: volatile accesses to the uncached BAR mappings. */
static volatile uint8_t *area[VIRTIO_AREAS];

static uint32_t mmio_read(void *ctx, enum virtio_area a, uint32_t off, unsigned width)
{
    (void)ctx;
    volatile uint8_t *p = area[a] + off;
    return width == 1 ? *p : width == 2 ? *(volatile uint16_t *)p : *(volatile uint32_t *)p;
}

static void mmio_write(void *ctx, enum virtio_area a, uint32_t off, unsigned width, uint32_t v)
{
    (void)ctx;
    volatile uint8_t *p = area[a] + off;
    if (width == 1)
        *p = (uint8_t)v;
    else if (width == 2)
        *(volatile uint16_t *)p = (uint16_t)v;
    else
        *(volatile uint32_t *)p = v;
}

static struct virtio_transport transport = {.read = mmio_read, .write = mmio_write};

/* The block protocol's IPC: grant copies and deferred answers. */
static long copy_from(void *ctx, uint64_t client, uint64_t grant, uint64_t off, void *dst,
                      uint64_t len)
{
    (void)ctx;
    return grant_copy_from(badge_pid(client), grant, off, dst, len);
}

static long copy_to(void *ctx, uint64_t client, uint64_t grant, uint64_t off, const void *src,
                    uint64_t len)
{
    (void)ctx;
    return grant_copy_to(badge_pid(client), grant, off, src, len);
}

static void reply(void *ctx, uint64_t client, const uint64_t w[8])
{
    (void)ctx;
    struct ipc_msg m = {.info = ipc_info(IPC_MSG_BYTES, 0)};
    memcpy(m.w, w, sizeof(m.w));
    ipc_reply(client, &m); /* a client that died meanwhile gets nothing */
}

static struct vblk blk;
static struct blk_srv srv;

static void die(const char *what, long rc)
{
    printf("%s: %s: %s\n", myname, what, ipc_strerror(rc));
    kc_exit(1);
}

/* Map BAR b (once) and return where it starts. */
static volatile uint8_t *map_bar(const struct pci_bar bars[PCI_BARS], unsigned b)
{
    static bool mapped[PCI_BARS];
    uint64_t va = USER_DEVICE_MIN + b * BAR_STRIDE, pages = bars[b].size >> 12;
    if (pages > BAR_MAX_PAGES)
        pages = BAR_MAX_PAGES;
    if (!mapped[b]) {
        long rc = kc_mmio_map(va, bars[b].base, pages);
        if (rc < 0)
            die("cannot map the device's registers", rc);
        mapped[b] = true;
    }
    return (volatile uint8_t *)va;
}

static void set_area(enum virtio_area a, const struct virtio_pci_region *r,
                     const struct pci_bar bars[PCI_BARS])
{
    if (!r->present)
        return;
    if ((uint64_t)r->offset + r->length > BAR_STRIDE)
        die("a virtio structure lies beyond what we map", -E_RANGE);
    area[a] = map_bar(bars, r->bar) + r->offset;
    transport.len[a] = r->length;
}

int main(void)
{
    uint32_t pid;
    kc_self(&pid, 0, 0, 0);
    struct kc_proc_info me;
    for (uint32_t slot = 0; kc_proc_info(slot, &me) != -E_RANGE; slot++)
        if (me.pid == pid)
            break;
    strncpy_safe(myname, me.pid == pid ? me.name : "disk", sizeof(myname));

    long h = name_lookup_wait("pci", 500);
    if (h < 0)
        die("no PCI bus server", h);
    pci = (uint64_t)h;
    struct ipc_msg m;
    long rc = pci_call(PCI_CLAIM, 0, &m);
    if (rc == -E_NOENT) {
        printf("%s: no virtio-blk device; nothing to drive\n", myname);
        return 0; /* (the boot server does not restart a clean exit) */
    }
    if (rc < 0)
        die("cannot claim the device", rc);
    uint32_t line = (uint32_t)m.w[2];

    /* The function as the bus server sees it, and its virtio structures. */
    struct pci_dev dev;
    struct pci_bar bars[PCI_BARS];
    struct virtio_pci_caps caps;
    struct pci_addr any = {0, 0, 0};
    if ((rc = pci_read_header(&cfg, any, &dev)) < 0)
        die("cannot read the device's header", rc);
    for (unsigned b = 0; b < PCI_BARS; b++) {
        if ((rc = pci_call(PCI_BAR, b, &m)) < 0)
            die("cannot learn the BARs", rc);
        bars[b] = (struct pci_bar){m.w[1], m.w[2], (uint8_t)m.w[3], false};
    }
    if ((rc = virtio_pci_find_caps(&cfg, &dev, bars, &caps)) < 0)
        die("no usable virtio structures", rc);
    set_area(VIRTIO_AREA_COMMON, &caps.common, bars);
    set_area(VIRTIO_AREA_NOTIFY, &caps.notify, bars);
    set_area(VIRTIO_AREA_ISR, &caps.isr, bars);
    set_area(VIRTIO_AREA_DEVICE, &caps.device, bars);
    transport.notify_off_multiplier = caps.notify_off_multiplier;

    /* Reset before bus mastering goes on: whatever a dead instance left
     * in the device must not write into memory handed out since. */
    struct virtio_dev vd;
    if ((rc = virtio_attach(&vd, &transport)) < 0 || (rc = virtio_reset(&vd)) < 0)
        die("cannot reset the device", rc);
    if ((rc = pci_call(PCI_BUS_MASTER, 1, &m)) < 0)
        die("cannot turn bus mastering on", rc);

    static struct dma_region regions[DMA_CHUNKS];
    for (unsigned i = 0; i < DMA_CHUNKS; i++) {
        uint64_t phys;
        void *va = mem_alloc_dma(DMA_CHUNK, &phys, &rc);
        if (!va)
            die("no DMA memory", rc);
        regions[i] = (struct dma_region){va, phys, DMA_CHUNK * 4096ull};
    }
    uint64_t khz;
    kc_time(0, 0, &khz, 0, 0);
    struct vblk_config vc = {.request_bytes = 128 << 10, .slots = 16, .epoch = measure_rdtsc()};
    if ((rc = vblk_init(&blk, &transport, regions, DMA_CHUNKS, &vc)) < 0)
        die("cannot start the device", rc);
    struct blk_srv_ops ops = {0, copy_from, copy_to, reply};
    blk_srv_init(&srv, &blk, &ops);
    if (line != KC_DEV_NO_IRQ && (rc = kc_irq_bind((int)line, IRQ_BIT)) < 0)
        die("cannot bind the interrupt", rc);
    if ((rc = name_register(myname)) < 0)
        die("cannot register the name", rc);
    printf("%s: virtio-blk %lu sectors of %u bytes, irq %u, %u slots, epoch %lx\n", myname,
           blk.sectors, blk.sector_size, line, blk.nslots, blk.epoch);

    const uint64_t stall = khz * 1000 * STALL_SECONDS;
    for (;;) {
        /* A deadline only while requests are open: an idle driver sleeps. */
        m = (struct ipc_msg){.info = blk_srv_busy(&srv) ? ipc_info_timeout(TICK) : 0};
        rc = ipc_recv(IPC_ANY, &m);
        uint64_t now = measure_rdtsc();
        if (rc == -E_TIMEDOUT) {
            blk_srv_tick(&srv, now, stall);
            continue;
        }
        if (rc < 0)
            die("receive failed", rc); /* cannot fail (docs/abi.md 2.2) */
        if (m.info & IPC_INFO_NOTIFY) {
            if (m.w[0] & (1ull << IRQ_BIT)) {
                blk_srv_interrupt(&srv, now);
                kc_irq_ack((int)line);
            }
            continue;
        }
        blk_srv_request(&srv, m.badge, ipc_info_label(m.info), m.w, now);
    }
}
