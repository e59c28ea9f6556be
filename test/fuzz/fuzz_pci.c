/*
 * libFuzzer target for the PCI bus server's config-space parsing
 * (servers/pci): the input is one function's whole config space plus how
 * its BARs answer the all-ones probe, and a few more functions (bridges
 * among them) for enumeration. Nothing may read outside config space,
 * leave a register changed, claim a region outside a BAR, or loop.
 *
 * Input layout (bytes past the end read as 0):
 *   256 bytes   config space of 0:3.0
 *   6 x le32    writable bits of each BAR
 *   6 x le32    hostile answers to the probe (0: answer per the mask)
 *   then 4-byte records: bus, dev/fn (dev = b >> 3, fn = b & 7),
 *   header type, secondary bus -- more functions, vendor 0x1234
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>

#include "../../servers/pci/pci.h"
#include "../../servers/pci/virtio_pci.h"
#include "../host/pci_model.h"
#include "fuzz_copy.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static struct pci_model model;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void region_inside(const struct pci_bar *bars, const struct virtio_pci_region *r)
{
    if (!r->present)
        return;
    CHECK(r->bar < PCI_BARS);
    CHECK(bars[r->bar].kind == PCI_BAR_MEM32 || bars[r->bar].kind == PCI_BAR_MEM64);
    CHECK((uint64_t)r->offset + r->length <= bars[r->bar].size);
}

static unsigned found_count;

static void found(void *arg, const struct pci_dev *d)
{
    (void)arg;
    (void)d;
    found_count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = fuzz_copy(data, size);
    uint8_t buf[PCI_CFG_SIZE + 48] = {0};
    memcpy(buf, in, size < sizeof(buf) ? size : sizeof(buf));

    memset(&model, 0, sizeof(model));
    model.status_rw1c = 0xf900;
    struct pci_config_ops io = pm_ops(&model);
    struct pm_fn *f = pm_add(&model, 0, 3, 0, 0, 0, 0);
    memcpy(f->cfg, buf, PCI_CFG_SIZE);
    for (int i = 0; i < PCI_BARS; i++) {
        f->bar_wmask[i] = le32(buf + PCI_CFG_SIZE + 4 * i);
        f->bar_answer[i] = le32(buf + PCI_CFG_SIZE + 24 + 4 * i);
    }
    for (size_t at = sizeof(buf); at + 4 <= size && model.n < PM_MAX_FNS; at += 4) {
        struct pm_fn *g =
            pm_add(&model, in[at], in[at + 1] >> 3, in[at + 1] & 7, 0x1234, 1, in[at + 2]);
        pm_put32(g, PCI_BUS_NUMBERS, (uint32_t)in[at + 3] << 8);
    }

    uint8_t before[PCI_CFG_SIZE];
    memcpy(before, f->cfg, sizeof(before));
    struct pci_dev d;
    if (pci_read_header(&io, f->addr, &d) == 0) {
        CHECK(d.cap_ptr % 4 == 0);
        CHECK(d.irq_pin <= 4);
        unsigned type = virtio_pci_device_type(&d);
        CHECK(type == 0 || (d.vendor == VIRTIO_PCI_VENDOR && type <= 0xffff));
        struct pci_bar bars[PCI_BARS];
        int usable = pci_size_bars(&io, &d, bars);
        CHECK(usable >= 0 && usable <= PCI_BARS);
        for (int i = 0; i < PCI_BARS; i++) {
            const struct pci_bar *b = &bars[i];
            if (b->kind == PCI_BAR_NONE || b->kind == PCI_BAR_UPPER) {
                CHECK(b->size == 0);
                continue;
            }
            CHECK(b->size && (b->size & (b->size - 1)) == 0);
            CHECK((b->base & (b->size - 1)) == 0);
            CHECK(b->kind != PCI_BAR_MEM64 ||
                  (i + 1 < PCI_BARS && bars[i + 1].kind == PCI_BAR_UPPER));
            CHECK(b->kind != PCI_BAR_IO || b->base + b->size <= 0x10000);
            CHECK(b->kind != PCI_BAR_MEM32 || b->base + b->size <= 1ull << 32);
        }
        /* Every register is back as it was; no status bit was cleared. */
        CHECK(memcmp(before, f->cfg, sizeof(before)) == 0);
        CHECK(model.decoding == 0 && model.cleared == 0);

        struct pci_cap caps[PCI_MAX_CAPS];
        int n = pci_caps(&io, &d, caps, PCI_MAX_CAPS);
        CHECK(n == -E_INVAL || (n >= 0 && n <= PCI_MAX_CAPS));
        for (int i = 0; i < n; i++) {
            CHECK(caps[i].off >= PCI_CAP_MIN && caps[i].off % 4 == 0);
            for (int j = 0; j < i; j++)
                CHECK(caps[i].off != caps[j].off);
        }
        struct virtio_pci_caps c;
        int rc = virtio_pci_find_caps(&io, &d, bars, &c);
        CHECK(rc == 0 || rc == -E_NOENT || rc == -E_INVAL);
        region_inside(bars, &c.common);
        region_inside(bars, &c.notify);
        region_inside(bars, &c.isr);
        region_inside(bars, &c.device);
        CHECK(!c.common.present || c.common.length >= VIRTIO_PCI_COMMON_CFG_SIZE);
        CHECK(!c.common.present || c.common.offset % 4 == 0);
        CHECK(!c.notify.present || (c.notify.offset % 2 == 0 && c.notify.length >= 2));
        CHECK(c.notify_off_multiplier != 1 &&
              (c.notify_off_multiplier & (c.notify_off_multiplier - 1)) == 0);
        CHECK(rc != 0 || (c.common.present && c.notify.present && c.isr.present));
        CHECK(c.pci_cfg_off == 0 || c.pci_cfg_off + VIRTIO_PCI_CAP_SIZE <= PCI_CFG_SIZE);
    }

    /* Enumeration ends, sees each function at most once, reads a bounded amount. */
    found_count = 0;
    model.reads = 0;
    int total = pci_scan(&io, found, NULL);
    CHECK(total >= 0 && (unsigned)total == found_count && found_count <= model.n);
    CHECK(model.reads <= PCI_MAX_BUSES * PCI_DEVS_PER_BUS * PCI_FNS_PER_DEV * 8u);
    CHECK(model.bad == 0);
    free(in);
    return 0;
}
