/*
 * Virtio 1.0 over PCI: recognising a virtio function and finding its
 * configuration structures through the vendor capabilities. Every region
 * found lies inside a memory BAR of the function, checked against the
 * BAR's size, so a driver mapping the BAR can use its offsets unchecked.
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

/* clang-format off */
#define VIRTIO_PCI_VENDOR          0x1af4
#define VIRTIO_PCI_MODERN_BASE     0x1040 /* modern device id = 0x1040 + virtio device type */
#define VIRTIO_PCI_TRANS_FIRST     0x1000 /* transitional ids: type in the subsystem id */
#define VIRTIO_PCI_TRANS_LAST      0x103f
#define VIRTIO_ID_BLOCK            2

/* struct virtio_pci_cap, a vendor capability (PCI_CAP_ID_VENDOR) */
#define VIRTIO_PCI_CAP_LEN_OFF     2  /* u8 cap_len */
#define VIRTIO_PCI_CAP_TYPE_OFF    3  /* u8 cfg_type */
#define VIRTIO_PCI_CAP_BAR_OFF     4  /* u8 bar */
#define VIRTIO_PCI_CAP_OFFSET_OFF  8  /* le32 offset in the BAR */
#define VIRTIO_PCI_CAP_LENGTH_OFF  12 /* le32 length */
#define VIRTIO_PCI_CAP_SIZE        16
#define VIRTIO_PCI_NOTIFY_MULT_OFF 16 /* le32 notify_off_multiplier, notify cap only */
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20

#define VIRTIO_PCI_CAP_COMMON_CFG  1
#define VIRTIO_PCI_CAP_NOTIFY_CFG  2
#define VIRTIO_PCI_CAP_ISR_CFG     3
#define VIRTIO_PCI_CAP_DEVICE_CFG  4
#define VIRTIO_PCI_CAP_PCI_CFG     5

#define VIRTIO_PCI_COMMON_CFG_SIZE 0x38 /* struct virtio_pci_common_cfg (virtio 1.0) */
/* clang-format on */

/* One structure: bytes [offset, offset + length) of memory BAR `bar`. */
struct virtio_pci_region {
    bool present;
    uint8_t bar;
    uint32_t offset, length;
};

struct virtio_pci_caps {
    struct virtio_pci_region common, notify, isr, device;
    uint32_t notify_off_multiplier; /* 0 or a power of 2, >= 2 */
    uint8_t pci_cfg_off;            /* the VIRTIO_PCI_CAP_PCI_CFG window, 0 = none */
    uint8_t msix_off;               /* the MSI-X capability, 0 = none */
    unsigned skipped;               /* vendor capabilities ignored as invalid */
};

/* The virtio device type of d (VIRTIO_ID_*), or 0 if d is no virtio
 * function. Transitional functions (0x1000..0x103f) count: they expose the
 * modern interface too. */
unsigned virtio_pci_device_type(const struct pci_dev *d);

/* Find the virtio structures. The first valid capability of each type
 * wins (as the spec asks); one that is invalid is skipped and counted:
 * bar above 5 or not a memory BAR, offset + length past the BAR's size,
 * misaligned (common and device: 4, notify: 2), too short (common:
 * VIRTIO_PCI_COMMON_CFG_SIZE, notify: 2, ISR: 1), notify multiplier odd,
 * capability shorter than its fields or running past config space.
 * Returns 0, -E_INVAL if the capability list itself is broken, or -E_NOENT
 * if the common, notify or ISR structure is missing. */
int virtio_pci_find_caps(const struct pci_config_ops *io, const struct pci_dev *d,
                         const struct pci_bar bars[PCI_BARS], struct virtio_pci_caps *out);

#endif
