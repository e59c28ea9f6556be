/*
 * PCI configuration space, pure logic for the PCI bus server: the header of
 * a function, its BARs (sized by the write-all-ones protocol), its
 * capability list, and bus enumeration. Config space is reached only
 * through the caller's read/write callbacks (ports 0xCF8/0xCFC in the
 * server, an array in the tests), so whatever a device answers, nothing
 * here reads outside the 256 bytes of a function or loops forever.
 */
#ifndef PCI_H
#define PCI_H

#include <stdbool.h>
#include <stdint.h>

/* clang-format off */
#define PCI_CFG_SIZE        256   /* conventional config space per function */
#define PCI_VENDOR_ID       0x00  /* u16 vendor, u16 device */
#define PCI_COMMAND         0x04  /* u16 command, u16 status */
#define PCI_CLASS_REV       0x08  /* u8 revision, prog-if, subclass, class */
#define PCI_HEADER_DW       0x0c  /* u8 cache line, latency, header type, BIST */
#define PCI_BAR0            0x10
#define PCI_BUS_NUMBERS     0x18  /* type 1: u8 primary, secondary, subordinate */
#define PCI_SUBSYSTEM       0x2c  /* type 0: u16 subsystem vendor, u16 subsystem id */
#define PCI_CAP_PTR         0x34
#define PCI_INTERRUPT       0x3c  /* u8 line, u8 pin */
#define PCI_CAP_MIN         0x40  /* capabilities live after the standard header */

#define PCI_CMD_IO          (1u << 0)
#define PCI_CMD_MEMORY      (1u << 1)
#define PCI_CMD_BUS_MASTER  (1u << 2)
#define PCI_CMD_INTX_OFF    (1u << 10)
#define PCI_STATUS_CAPS     (1u << 4)

#define PCI_HDR_TYPE_MASK   0x7f
#define PCI_HDR_MULTIFN     0x80
#define PCI_HDR_DEVICE      0     /* type 0: an endpoint, six BARs */
#define PCI_HDR_BRIDGE      1     /* type 1: PCI-to-PCI bridge, two BARs */

#define PCI_CAP_ID_MSI      0x05
#define PCI_CAP_ID_VENDOR   0x09
#define PCI_CAP_ID_MSIX     0x11

#define PCI_BARS            6
#define PCI_MAX_CAPS        48    /* (256 - 0x40) / 4: dword-aligned, at most one per dword */
#define PCI_MAX_BUSES       256
#define PCI_DEVS_PER_BUS    32
#define PCI_FNS_PER_DEV     8
/* clang-format on */

enum pci_bar_kind {
    PCI_BAR_NONE,  /* not implemented, or reads back nonsense */
    PCI_BAR_IO,    /* I/O ports */
    PCI_BAR_MEM32, /* memory below 4 GiB */
    PCI_BAR_MEM64, /* memory, with the next BAR as its upper half */
    PCI_BAR_UPPER, /* the upper half of the BAR before it */
};

struct pci_addr {
    uint8_t bus, dev, fn; /* dev < 32, fn < 8 */
};

/* Config-space access for one function. off is dword-aligned and < 256. */
struct pci_config_ops {
    void *ctx;
    uint32_t (*read32)(void *ctx, struct pci_addr a, uint8_t off);
    void (*write32)(void *ctx, struct pci_addr a, uint8_t off, uint32_t value);
};

struct pci_dev {
    struct pci_addr addr;
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id; /* type 0 only, else 0 */
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type; /* without the multi-function bit */
    bool multifunction;
    uint16_t command, status;
    uint8_t irq_line, irq_pin; /* pin 0: no INTx; 1..4 = INTA..INTD */
    uint8_t cap_ptr;           /* 0 unless the status says there is a list */
    uint8_t secondary_bus;     /* bridges only */
};

struct pci_bar {
    uint64_t base; /* address (memory) or port (I/O); 0 = not assigned */
    uint64_t size; /* a power of 2; 0 for PCI_BAR_NONE and PCI_BAR_UPPER */
    uint8_t kind;  /* enum pci_bar_kind */
    bool prefetchable;
};

struct pci_cap {
    uint8_t id;
    uint8_t off; /* in [PCI_CAP_MIN, 256 - 4], dword-aligned */
};

/* Read function a's header. -E_NOENT if no function answers there (vendor
 * 0xffff or 0). */
int pci_read_header(const struct pci_config_ops *io, struct pci_addr a, struct pci_dev *d);

/* Size d's BARs (type 0: six, type 1: two, others none) by writing all
 * ones, with memory and I/O decoding off meanwhile; every register is put
 * back. A BAR whose answer is not a valid BAR (size not a power of 2, base
 * not aligned to it, wrapping, a 64-bit BAR without an upper half) is
 * PCI_BAR_NONE. Returns the number of usable BARs. */
int pci_size_bars(const struct pci_config_ops *io, const struct pci_dev *d,
                  struct pci_bar bars[PCI_BARS]);

/* Walk d's capability list into caps (at most max). Returns the number
 * found, -E_INVAL for a list that loops or points into the header, or
 * -E_LIMIT when max is too small. (Pointers are dword-aligned and at most
 * 0xfc, so a capability's first dword is always inside config space.) */
int pci_caps(const struct pci_config_ops *io, const struct pci_dev *d, struct pci_cap *caps,
             unsigned max);

/* Read a byte / word at any offset of config space (through aligned
 * dwords). off + width must be <= 256; out of range reads as all ones. */
uint8_t pci_cfg_read8(const struct pci_config_ops *io, struct pci_addr a, unsigned off);
uint16_t pci_cfg_read16(const struct pci_config_ops *io, struct pci_addr a, unsigned off);
uint32_t pci_cfg_read32(const struct pci_config_ops *io, struct pci_addr a, unsigned off);

/* Set and clear bits of the command register (e.g. memory decoding and bus
 * mastering on, INTx masking off, for the driver a device is handed to). */
void pci_command(const struct pci_config_ops *io, struct pci_addr a, uint16_t set, uint16_t clear);

/* Enumerate from bus 0, following bridges to their secondary buses. Each
 * bus is scanned at most once, so a bridge pointing back (or anywhere)
 * cannot make it loop. found() is called for every function. Returns the
 * number of functions found. */
int pci_scan(const struct pci_config_ops *io, void (*found)(void *arg, const struct pci_dev *d),
             void *arg);

#endif
