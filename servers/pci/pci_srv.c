/*
 * The PCI bus server: the only holder of config space (ports 0xCF8/0xCFC).
 * It enumerates the bus at start, hands each function its module line
 * names (drv=MODULE:VENDOR:DEVICE) to that driver through the kernel
 * (KC_DEV_ASSIGN: memory BARs and INTx line), and turns bus mastering off
 * when a driver dies, before the memory server reuses its DMA pages. A
 * restarted instance learns who holds each device from the kernel.
 */
#include <abi/proto/name.h>
#include <abi/proto/pci.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#include "pci.h"

#define CFG_ADDR    0xcf8
#define CFG_DATA    0xcfc
#define MAX_ASSIGNS 8

struct assign {
    char driver[KC_NAME_MAX]; /* module name */
    uint16_t vendor, device;
    bool found;
    struct pci_dev dev;
    struct pci_bar bars[PCI_BARS];
    uint8_t msix_bars; /* bit b: BAR b holds the MSI-X table or pending bits */
    uint32_t holder;   /* pid, 0: nobody */
    bool known;        /* holder is up to date (claimed, or learnt from the kernel) */
};

static struct assign assigns[MAX_ASSIGNS];
static unsigned nassigns;
static uint32_t boot_pid;

static uint32_t addr_of(struct pci_addr a, uint8_t off)
{
    return 0x80000000u | (uint32_t)a.bus << 16 | (uint32_t)a.dev << 11 | (uint32_t)a.fn << 8 | off;
}

static uint32_t port_read32(void *ctx, struct pci_addr a, uint8_t off)
{
    (void)ctx;
    uint32_t v = 0xffffffffu;
    if (kc_io_out(CFG_ADDR, 4, addr_of(a, off)) < 0 || kc_io_in(CFG_DATA, 4, &v) < 0)
        return 0xffffffffu;
    return v;
}

static void port_write32(void *ctx, struct pci_addr a, uint8_t off, uint32_t value)
{
    (void)ctx;
    if (kc_io_out(CFG_ADDR, 4, addr_of(a, off)) == 0)
        kc_io_out(CFG_DATA, 4, value);
}

static const struct pci_config_ops cfg = {0, port_read32, port_write32};

static uint64_t parse_hex(const char *s, const char **end)
{
    uint64_t v = 0;
    for (;; s++) {
        int d = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        v = v * 16 + (uint64_t)d;
    }
    *end = s;
    return v;
}

/* drv=MODULE:VENDOR:DEVICE words of our module line. */
static void parse_args(const char *args)
{
    for (const char *p = args; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, "drv=", 4) == 0 && nassigns < MAX_ASSIGNS) {
            struct assign *a = &assigns[nassigns];
            const char *s = p + 4, *e;
            size_t n = 0;
            while (s[n] && s[n] != ':' && s[n] != ' ')
                n++;
            if (n > 0 && n < sizeof(a->driver) && s[n] == ':') {
                memcpy(a->driver, s, n);
                a->vendor = (uint16_t)parse_hex(s + n + 1, &e);
                if (*e == ':') {
                    a->device = (uint16_t)parse_hex(e + 1, &e);
                    nassigns++;
                }
            }
        }
        while (*p && *p != ' ')
            p++;
    }
}

static void found(void *arg, const struct pci_dev *d)
{
    (void)arg;
    for (unsigned i = 0; i < nassigns; i++) {
        struct assign *a = &assigns[i];
        if (!a->found && a->vendor == d->vendor && a->device == d->device &&
            d->header_type == PCI_HDR_DEVICE) {
            a->found = true;
            a->dev = *d;
            return;
        }
    }
}

/* The BARs of d's MSI-X table and pending-bit array: whoever writes the
 * table chooses where the device's message writes go, so no driver maps
 * them (MSI-X stays off). */
static uint8_t msix_bars(const struct pci_dev *d)
{
    struct pci_cap caps[PCI_MAX_CAPS];
    int n = pci_caps(&cfg, d, caps, PCI_MAX_CAPS);
    uint8_t bars = 0;
    for (int i = 0; i < n; i++)
        if (caps[i].id == PCI_CAP_ID_MSIX)
            bars |= (uint8_t)(1u << (pci_cfg_read32(&cfg, d->addr, caps[i].off + 4u) & 7) |
                              1u << (pci_cfg_read32(&cfg, d->addr, caps[i].off + 8u) & 7));
    return bars;
}

static bool alive(uint32_t pid)
{
    struct kc_proc_info info;
    for (uint32_t slot = 0;; slot++) {
        long rc = kc_proc_info(slot, &info);
        if (rc == -E_RANGE)
            return false;
        if (rc == 0 && info.pid == pid)
            return true;
    }
}

/* The module name of pid if the boot server started it, else "". */
static void module_of(uint32_t pid, char name[KC_NAME_MAX])
{
    struct kc_proc_info info;
    name[0] = '\0';
    for (uint32_t slot = 0;; slot++) {
        long rc = kc_proc_info(slot, &info);
        if (rc == -E_RANGE)
            return;
        if (rc == 0 && info.pid == pid) {
            if (info.parent_pid == boot_pid)
                strncpy_safe(name, info.name, KC_NAME_MAX);
            return;
        }
    }
}

/* BAR b of a goes to its driver as a window. */
static bool is_window(const struct assign *a, int b)
{
    const struct pci_bar *bar = &a->bars[b];
    /* A window is whole pages: a smaller BAR may share one. */
    return (bar->kind == PCI_BAR_MEM32 || bar->kind == PCI_BAR_MEM64) && bar->base &&
           bar->size >= 4096 && !(a->msix_bars >> b & 1);
}

/* The INTx line that goes to a's driver, or KC_DEV_NO_IRQ. */
static uint32_t line_of(const struct assign *a)
{
    return a->dev.irq_pin && a->dev.irq_line < 16 ? a->dev.irq_line : KC_DEV_NO_IRQ;
}

/* Bus mastering off, and read back: the write has reached the device when
 * this returns. Returns whether it is off. */
static bool stop(struct assign *a)
{
    pci_command(&cfg, a->dev.addr, 0, PCI_CMD_BUS_MASTER);
    return !(pci_cfg_read16(&cfg, a->dev.addr, PCI_COMMAND) & PCI_CMD_BUS_MASTER);
}

/*
 * Who holds a, from the kernel's record (KC_DEV_HOLDER), which outlives
 * us: after our restart a driver a previous instance served may still run.
 * Nobody living: nobody may drive it, so bus mastering goes off (a dead
 * holder's device stops writing its memory). Somebody living: it claimed
 * the device, and a claim turns bus mastering off before the kernel hands
 * anything over, which it does to one living process at a time; so no
 * earlier holder's DMA is still running through it.
 */
static int learn_holder(struct assign *a)
{
    long h = 0;
    for (int b = 0; b < PCI_BARS && h == 0; b++)
        if (is_window(a, b))
            h = kc_dev_holder(a->bars[b].base, a->bars[b].size, KC_DEV_NO_IRQ);
    if (h == 0 && line_of(a) != KC_DEV_NO_IRQ)
        h = kc_dev_holder(0, 0, line_of(a));
    if (h < 0)
        return (int)h;
    if (h == 0 && !stop(a))
        return -E_IO;
    a->holder = (uint32_t)h;
    a->known = true;
    return 0;
}

static struct assign *held_by(uint32_t pid)
{
    for (unsigned i = 0; i < nassigns; i++)
        if (assigns[i].found && assigns[i].holder == pid)
            return &assigns[i];
    return 0;
}

static long pci_claim(struct ipc_msg *m)
{
    uint32_t pid = badge_pid(m->badge);
    char name[KC_NAME_MAX];
    module_of(pid, name);
    if (!name[0])
        return -E_PERM;
    struct assign *a = 0;
    for (unsigned i = 0; i < nassigns && !a; i++)
        if (strcmp(assigns[i].driver, name) == 0 && assigns[i].found)
            a = &assigns[i];
    if (!a)
        return -E_NOENT;
    if (a->holder && a->holder != pid && alive(a->holder))
        return -E_BUSY;
    /* Bus mastering off first: the device may still run on the memory of
     * a holder we never heard die (after our own restart). */
    pci_command(&cfg, a->dev.addr, 0, PCI_CMD_BUS_MASTER);
    /* The kernel keeps each window and line with one living process: after
     * our restart it is the judge of who still holds the device. */
    for (int b = 0; b < PCI_BARS; b++) {
        if (!is_window(a, b))
            continue;
        long rc = kc_dev_assign(pid, a->bars[b].base, a->bars[b].size, KC_DEV_NO_IRQ);
        if (rc < 0)
            return rc;
    }
    uint32_t line = line_of(a);
    if (line != KC_DEV_NO_IRQ) {
        long rc = kc_dev_assign(pid, 0, 0, line);
        if (rc < 0)
            return rc;
    }
    a->holder = pid;
    a->known = true;
    pci_command(&cfg, a->dev.addr, PCI_CMD_MEMORY, PCI_CMD_INTX_OFF | PCI_CMD_BUS_MASTER);
    m->info = ipc_info(32, 0);
    m->w[1] = a->dev.vendor | (uint32_t)a->dev.device << 16;
    m->w[2] = line;
    m->w[3] = (uint32_t)a->dev.addr.bus << 8 | (uint32_t)a->dev.addr.dev << 3 | a->dev.addr.fn;
    return 0;
}

static long pci_bar(struct ipc_msg *m)
{
    struct assign *a = held_by(badge_pid(m->badge));
    if (!a)
        return -E_PERM;
    if (m->w[1] >= PCI_BARS)
        return -E_RANGE;
    const struct pci_bar *bar = &a->bars[m->w[1]];
    m->info = ipc_info(32, 0);
    m->w[1] = bar->base;
    m->w[2] = bar->size;
    m->w[3] = bar->kind;
    return 0;
}

static long pci_cfg_read(struct ipc_msg *m)
{
    struct assign *a = held_by(badge_pid(m->badge));
    if (!a)
        return -E_PERM;
    if (m->w[1] >= PCI_CFG_SIZE || m->w[1] % 4)
        return -E_RANGE;
    m->info = ipc_info(16, 0);
    m->w[1] = port_read32(0, a->dev.addr, (uint8_t)m->w[1]);
    return 0;
}

static long pci_bus_master(struct ipc_msg *m)
{
    struct assign *a = held_by(badge_pid(m->badge));
    if (!a)
        return -E_PERM;
    if (m->w[1] > 1)
        return -E_INVAL;
    if (m->w[1])
        pci_command(&cfg, a->dev.addr, PCI_CMD_BUS_MASTER, 0);
    else
        pci_command(&cfg, a->dev.addr, 0, PCI_CMD_BUS_MASTER);
    return 0;
}

/* The boot server reports a death (perhaps again, after our restart): the
 * devices the dead process held stop writing memory (bus mastering off)
 * before we answer 0, and the boot server then lets the memory server
 * reuse the dead one's DMA pages. -E_AGAIN: we cannot tell yet. */
static long pci_died(struct ipc_msg *m)
{
    if (badge_pid(m->badge) != boot_pid)
        return -E_PERM;
    uint32_t pid = (uint32_t)m->w[1];
    long rc = 0;
    for (unsigned i = 0; i < nassigns; i++) {
        struct assign *a = &assigns[i];
        if (!a->found)
            continue;
        if (!a->known && learn_holder(a) < 0) {
            rc = -E_AGAIN;
        } else if (a->holder == pid) {
            bool off = stop(a);
            printf("pci: %s (pid %x) died: bus mastering %s on %02x:%02x.%x\n", a->driver, pid,
                   off ? "off" : "still ON", a->dev.addr.bus, a->dev.addr.dev, a->dev.addr.fn);
            a->holder = 0;
            if (!off)
                rc = -E_AGAIN;
        }
    }
    return rc;
}

static const struct server_op ops[] = {
    {PCI_CLAIM, pci_claim},           {PCI_BAR, pci_bar},    {PCI_CFG_READ, pci_cfg_read},
    {PCI_BUS_MASTER, pci_bus_master}, {BOOT_DIED, pci_died},
};

int main(void)
{
    long b = ipc_handle_pid(HANDLE_PARENT);
    boot_pid = b > 0 ? (uint32_t)b : 0;
    static char args[KC_ARGS_MAX];
    kc_args(args, sizeof(args));
    parse_args(args);
    int n = pci_scan(&cfg, found, 0);
    printf("pci: %d functions\n", n);
    for (unsigned i = 0; i < nassigns; i++) {
        struct assign *a = &assigns[i];
        if (!a->found)
            continue;
        pci_size_bars(&cfg, &a->dev, a->bars);
        a->msix_bars = msix_bars(&a->dev);
        /* Firmware may have left it running (SeaBIOS boots from virtio-blk),
         * or a dead driver of our previous instance: unless a living driver
         * holds it, bus mastering goes off (nobody has its memory until a
         * driver resets it). */
        if (learn_holder(a) < 0)
            printf("pci: cannot learn who holds %02x:%02x.%x; asking again later\n",
                   a->dev.addr.bus, a->dev.addr.dev, a->dev.addr.fn);
        printf("pci: %02x:%02x.%x %04x:%04x irq %u -> %s\n", a->dev.addr.bus, a->dev.addr.dev,
               a->dev.addr.fn, a->dev.vendor, a->dev.device, a->dev.irq_line, a->driver);
    }
    struct server s = {.name = "pci", .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}
