/*
 * PCI enumeration: every function on bus 0 and on the buses behind
 * bridges, each bus scanned once however the bridges are programmed.
 */
#include "pci.h"

int pci_scan(const struct pci_config_ops *io, void (*found)(void *arg, const struct pci_dev *d),
             void *arg)
{
    uint64_t queued[PCI_MAX_BUSES / 64] = {1}; /* bus 0 */
    uint8_t todo[PCI_MAX_BUSES];
    unsigned head = 0, tail = 0;
    int count = 0;
    todo[tail++] = 0;
    while (head < tail) {
        uint8_t bus = todo[head++];
        for (uint8_t dev = 0; dev < PCI_DEVS_PER_BUS; dev++) {
            uint8_t fns = 1;
            for (uint8_t fn = 0; fn < fns; fn++) {
                struct pci_dev d;
                if (pci_read_header(io, (struct pci_addr){bus, dev, fn}, &d) < 0)
                    continue;
                if (fn == 0 && d.multifunction)
                    fns = PCI_FNS_PER_DEV;
                count++;
                found(arg, &d);
                /* A bus is queued once; at most 256 ever are, so todo holds them. */
                uint8_t sec = d.secondary_bus;
                if (d.header_type == PCI_HDR_BRIDGE && !(queued[sec / 64] & (1ull << (sec % 64)))) {
                    queued[sec / 64] |= 1ull << (sec % 64);
                    todo[tail++] = sec;
                }
            }
        }
    }
    return count;
}
