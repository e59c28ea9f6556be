/*
 * One PCI function's configuration space: header, BAR sizing and the
 * capability list. Every value a device answers is treated as hostile:
 * offsets are masked and bounded before use, and sizes are checked.
 */
#include "pci.h"

#include <abi/errno.h>

uint32_t pci_cfg_read32(const struct pci_config_ops *io, struct pci_addr a, unsigned off)
{
    if (off > PCI_CFG_SIZE - 4 || (off & 3))
        return 0xffffffffu;
    return io->read32(io->ctx, a, (uint8_t)off);
}

uint16_t pci_cfg_read16(const struct pci_config_ops *io, struct pci_addr a, unsigned off)
{
    if (off > PCI_CFG_SIZE - 2 || (off & 1))
        return 0xffff;
    return (uint16_t)(pci_cfg_read32(io, a, off & ~3u) >> (8 * (off & 3)));
}

uint8_t pci_cfg_read8(const struct pci_config_ops *io, struct pci_addr a, unsigned off)
{
    if (off > PCI_CFG_SIZE - 1)
        return 0xff;
    return (uint8_t)(pci_cfg_read32(io, a, off & ~3u) >> (8 * (off & 3)));
}

int pci_read_header(const struct pci_config_ops *io, struct pci_addr a, struct pci_dev *d)
{
    *d = (struct pci_dev){.addr = a};
    uint32_t id = pci_cfg_read32(io, a, PCI_VENDOR_ID);
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    if (d->vendor == 0xffff || d->vendor == 0)
        return -E_NOENT;
    uint32_t cs = pci_cfg_read32(io, a, PCI_COMMAND);
    d->command = (uint16_t)cs;
    d->status = (uint16_t)(cs >> 16);
    uint32_t cr = pci_cfg_read32(io, a, PCI_CLASS_REV);
    d->revision = (uint8_t)cr;
    d->prog_if = (uint8_t)(cr >> 8);
    d->subclass = (uint8_t)(cr >> 16);
    d->class_code = (uint8_t)(cr >> 24);
    uint8_t ht = (uint8_t)(pci_cfg_read32(io, a, PCI_HEADER_DW) >> 16);
    d->header_type = ht & PCI_HDR_TYPE_MASK;
    d->multifunction = (ht & PCI_HDR_MULTIFN) != 0;
    if (d->header_type == PCI_HDR_DEVICE) {
        uint32_t ss = pci_cfg_read32(io, a, PCI_SUBSYSTEM);
        d->subsys_vendor = (uint16_t)ss;
        d->subsys_id = (uint16_t)(ss >> 16);
    } else if (d->header_type == PCI_HDR_BRIDGE) {
        d->secondary_bus = (uint8_t)(pci_cfg_read32(io, a, PCI_BUS_NUMBERS) >> 8);
    }
    /* Types 0 and 1 keep the list pointer and the interrupt at the same
     * offsets; other types (CardBus) are not looked into. */
    if (d->header_type == PCI_HDR_DEVICE || d->header_type == PCI_HDR_BRIDGE) {
        uint32_t irq = pci_cfg_read32(io, a, PCI_INTERRUPT);
        d->irq_line = (uint8_t)irq;
        d->irq_pin = (uint8_t)(irq >> 8);
        if (d->irq_pin > 4)
            d->irq_pin = 0; /* not a pin: no INTx */
        if (d->status & PCI_STATUS_CAPS)
            d->cap_ptr = (uint8_t)pci_cfg_read32(io, a, PCI_CAP_PTR) & 0xfc;
    }
    return 0;
}

/* Write ones to the BAR register at off, read the answer, put it back. */
static uint32_t probe(const struct pci_config_ops *io, struct pci_addr a, uint8_t off,
                      uint32_t orig)
{
    io->write32(io->ctx, a, off, 0xffffffffu);
    uint32_t answer = io->read32(io->ctx, a, off);
    io->write32(io->ctx, a, off, orig);
    return answer;
}

/* mask = the address bits that answered as ones. A real BAR's mask is
 * ones from the top down to its size: ~mask + 1 is then a power of 2. */
static uint64_t size_from_mask(uint64_t mask)
{
    uint64_t low = ~mask; /* must be 0...01...1 */
    if (mask == 0 || (low & (low + 1)) != 0)
        return 0;
    return low + 1;
}

static bool placed(uint64_t base, uint64_t size, uint64_t limit)
{
    /* Aligned to its size, and the whole BAR below limit (0: 2^64). */
    if (base & (size - 1))
        return false;
    if (base + size - 1 < base)
        return false;
    return limit == 0 || (base + size - 1) < limit;
}

int pci_size_bars(const struct pci_config_ops *io, const struct pci_dev *d,
                  struct pci_bar bars[PCI_BARS])
{
    for (unsigned i = 0; i < PCI_BARS; i++)
        bars[i] = (struct pci_bar){.kind = PCI_BAR_NONE};
    unsigned n = d->header_type == PCI_HDR_DEVICE ? 6 : d->header_type == PCI_HDR_BRIDGE ? 2 : 0;
    if (n == 0)
        return 0;
    struct pci_addr a = d->addr;
    /* Decoding off while the BARs hold all ones, so the device never claims
     * addresses that are someone else's. The status half is written as 0:
     * its bits are write-one-to-clear. */
    uint16_t cmd = (uint16_t)io->read32(io->ctx, a, PCI_COMMAND);
    io->write32(io->ctx, a, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
    int usable = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t off = (uint8_t)(PCI_BAR0 + 4 * i);
        uint32_t orig = io->read32(io->ctx, a, off);
        uint32_t answer = probe(io, a, off, orig);
        struct pci_bar b = {.kind = PCI_BAR_NONE};
        if (orig & 1) {
            /* I/O: bits 31:2. A device decoding only 16 bits answers zeros
             * above; the x86 port space is 64 KiB either way. */
            uint64_t size = size_from_mask((answer & 0xfffcu) | 0xffffffffffff0000ull);
            uint64_t base = orig & ~3u;
            if ((answer & 0xfffcu) != 0 && size && placed(base, size, 0x10000))
                b = (struct pci_bar){.base = base, .size = size, .kind = PCI_BAR_IO};
        } else {
            unsigned type = (orig >> 1) & 3;
            bool pf = (orig & 8) != 0;
            if (type == 0) {
                uint64_t size = size_from_mask((answer & ~0xfu) | 0xffffffff00000000ull);
                uint64_t base = orig & ~0xfu;
                if ((answer & ~0xfu) != 0 && size && placed(base, size, 1ull << 32))
                    b = (struct pci_bar){base, size, PCI_BAR_MEM32, pf};
            } else if (type == 2 && i + 1 < n) {
                uint8_t hi_off = (uint8_t)(off + 4);
                uint32_t hi = io->read32(io->ctx, a, hi_off);
                uint32_t hi_answer = probe(io, a, hi_off, hi);
                uint64_t mask = (uint64_t)hi_answer << 32 | (answer & ~0xfu);
                uint64_t size = size_from_mask(mask);
                uint64_t base = (uint64_t)hi << 32 | (orig & ~0xfu);
                if (size && placed(base, size, 0))
                    b = (struct pci_bar){base, size, PCI_BAR_MEM64, pf};
                bars[i + 1].kind = PCI_BAR_UPPER;
                bars[i] = b;
                if (b.kind != PCI_BAR_NONE)
                    usable++;
                i++;
                continue;
            }
            /* type 1 (below 1 MiB, legacy) and 3 are reserved: unusable */
        }
        bars[i] = b;
        if (b.kind != PCI_BAR_NONE)
            usable++;
    }
    io->write32(io->ctx, a, PCI_COMMAND, cmd);
    return usable;
}

int pci_caps(const struct pci_config_ops *io, const struct pci_dev *d, struct pci_cap *caps,
             unsigned max)
{
    uint64_t seen = 0; /* one bit per dword from PCI_CAP_MIN on */
    unsigned count = 0;
    uint8_t ptr = d->cap_ptr & 0xfc;
    while (ptr != 0) {
        if (ptr < PCI_CAP_MIN)
            return -E_INVAL; /* into the standard header */
        unsigned bit = (ptr - PCI_CAP_MIN) / 4u;
        if (seen & (1ull << bit))
            return -E_INVAL; /* a loop */
        seen |= 1ull << bit;
        if (count == max)
            return -E_LIMIT;
        uint32_t head = io->read32(io->ctx, d->addr, ptr);
        caps[count++] = (struct pci_cap){.id = (uint8_t)head, .off = ptr};
        ptr = (uint8_t)(head >> 8) & 0xfc;
    }
    return (int)count;
}

void pci_command(const struct pci_config_ops *io, struct pci_addr a, uint16_t set, uint16_t clear)
{
    uint16_t cmd = (uint16_t)io->read32(io->ctx, a, PCI_COMMAND);
    io->write32(io->ctx, a, PCI_COMMAND, (uint16_t)((cmd & ~clear) | set));
}
