/*
 * Virtio vendor capabilities: which PCI functions are virtio devices, and
 * where in their BARs the common, notify, ISR and device structures are.
 */
#include "virtio_pci.h"

#include <abi/errno.h>

unsigned virtio_pci_device_type(const struct pci_dev *d)
{
    if (d->vendor != VIRTIO_PCI_VENDOR || d->header_type != PCI_HDR_DEVICE)
        return 0;
    if (d->device >= VIRTIO_PCI_MODERN_BASE && d->device <= VIRTIO_PCI_MODERN_BASE + 0x3f)
        return d->device - VIRTIO_PCI_MODERN_BASE;
    if (d->device >= VIRTIO_PCI_TRANS_FIRST && d->device <= VIRTIO_PCI_TRANS_LAST)
        return d->subsys_id;
    return 0;
}

/* Is region [offset, offset + length) of bar usable for a structure with
 * this minimum length and alignment? */
static bool region_ok(const struct pci_bar bars[PCI_BARS], uint8_t bar, uint32_t offset,
                      uint32_t length, uint32_t min_len, uint32_t align)
{
    if (bar >= PCI_BARS)
        return false;
    const struct pci_bar *b = &bars[bar];
    if (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64)
        return false;
    if (length < min_len || (offset & (align - 1)))
        return false;
    /* 64-bit arithmetic: neither value can wrap it. */
    return (uint64_t)offset + length <= b->size;
}

int virtio_pci_find_caps(const struct pci_config_ops *io, const struct pci_dev *d,
                         const struct pci_bar bars[PCI_BARS], struct virtio_pci_caps *out)
{
    *out = (struct virtio_pci_caps){0};
    struct pci_cap caps[PCI_MAX_CAPS];
    int n = pci_caps(io, d, caps, PCI_MAX_CAPS);
    if (n < 0)
        return -E_INVAL;
    for (int i = 0; i < n; i++) {
        uint8_t at = caps[i].off;
        if (caps[i].id == PCI_CAP_ID_MSIX && !out->msix_off)
            out->msix_off = at;
        if (caps[i].id != PCI_CAP_ID_VENDOR)
            continue;
        /* pci_caps leaves at <= 0xfc: the first dword is always inside. */
        uint32_t dw0 = pci_cfg_read32(io, d->addr, at);
        uint8_t cap_len = (uint8_t)(dw0 >> 16);
        uint8_t type = (uint8_t)(dw0 >> 24);
        if (type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_PCI_CFG)
            continue; /* a type we do not use (or another vendor's) */
        unsigned need =
            type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_SIZE : VIRTIO_PCI_CAP_SIZE;
        if (cap_len < need || at + need > PCI_CFG_SIZE) {
            out->skipped++;
            continue;
        }
        if (type == VIRTIO_PCI_CAP_PCI_CFG) {
            if (!out->pci_cfg_off)
                out->pci_cfg_off = at;
            continue;
        }
        uint8_t bar = pci_cfg_read8(io, d->addr, at + VIRTIO_PCI_CAP_BAR_OFF);
        uint32_t offset = pci_cfg_read32(io, d->addr, at + VIRTIO_PCI_CAP_OFFSET_OFF);
        uint32_t length = pci_cfg_read32(io, d->addr, at + VIRTIO_PCI_CAP_LENGTH_OFF);
        struct virtio_pci_region *r;
        uint32_t min_len, align;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            r = &out->common, min_len = VIRTIO_PCI_COMMON_CFG_SIZE, align = 4;
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            r = &out->notify, min_len = 2, align = 2;
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            r = &out->isr, min_len = 1, align = 1;
            break;
        default:
            r = &out->device, min_len = 1, align = 4;
            break;
        }
        if (r->present)
            continue; /* the first valid one counts */
        if (!region_ok(bars, bar, offset, length, min_len, align)) {
            out->skipped++;
            continue;
        }
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
            uint32_t mult = pci_cfg_read32(io, d->addr, at + VIRTIO_PCI_NOTIFY_MULT_OFF);
            if (mult & (mult - 1) || mult == 1) {
                out->skipped++; /* neither 0 nor an even power of 2 */
                continue;
            }
            out->notify_off_multiplier = mult;
        }
        *r = (struct virtio_pci_region){
            .present = true, .bar = bar, .offset = offset, .length = length};
    }
    if (!out->common.present || !out->notify.present || !out->isr.present)
        return -E_NOENT;
    return 0;
}
