/*
 * PCI bus server protocol (servers/pci). The bus server alone holds ports
 * 0xCF8/0xCFC. Its module line names which driver gets which function
 * (drv=MODULE:VENDOR:DEVICE); a driver claims its function and the server
 * hands its memory BARs and INTx line over through the kernel
 * (KC_DEV_ASSIGN), so the driver can map them (KC_MMIO_MAP) and bind the
 * line (KC_IRQ_BIND). Replies: w0 = status (>= 0 success, -E_* error).
 * Everything but PCI_CLAIM answers only the process holding the function
 * (-E_PERM for anyone else).
 */
#ifndef ABI_PROTO_PCI_H
#define ABI_PROTO_PCI_H

/* clang-format off */
#define PCI_CLAIM      0x600 /* -> w1 = vendor | device << 16, w2 = INTx line (KC_DEV_NO_IRQ:
                                none), w3 = bus << 8 | dev << 3 | fn. The function configured
                                for the caller's module (a child of the boot server, by its
                                name): its memory BARs of whole pages become the caller's
                                device windows, its line the caller's; memory decoding on,
                                INTx on, bus mastering OFF until PCI_BUS_MASTER. -E_NOENT:
                                none configured or present; -E_BUSY: a living process holds
                                it; -E_PERM: the caller is not a boot module */
#define PCI_BAR        0x601 /* w1 = index (0..5) -> w1 = base, w2 = size, w3 = kind
                                (PCI_BAR_* of servers/pci/pci.h) */
#define PCI_CFG_READ   0x602 /* w1 = offset (dword-aligned, < 256) -> w1 = the dword */
#define PCI_BUS_MASTER 0x603 /* w1 = 1 on, 0 off. A driver turns it on after resetting its
                                device, so a device left running by a dead driver never
                                writes into memory handed out again */
/* clang-format on */

#endif
