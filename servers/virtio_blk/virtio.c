/*
 * Virtio 1.0 device initialisation and register access (virtio 1.0
 * section 3.1, and 4.1 for the PCI common configuration), with every
 * access bounded by the transport's area lengths.
 */
#include "virtio.h"

#include <abi/errno.h>

static uint32_t rd(struct virtio_dev *d, enum virtio_area a, uint32_t off, unsigned width)
{
    const struct virtio_transport *t = d->t;
    if (off > t->len[a] || width > t->len[a] - off || (off & (width - 1)))
        return 0xffffffffu; /* never reached with the checked offsets below */
    return t->read(t->ctx, a, off, width);
}

static void wr(struct virtio_dev *d, enum virtio_area a, uint32_t off, unsigned width,
               uint32_t value)
{
    const struct virtio_transport *t = d->t;
    if (off > t->len[a] || width > t->len[a] - off || (off & (width - 1)))
        return;
    t->write(t->ctx, a, off, width, value);
}

int virtio_attach(struct virtio_dev *d, const struct virtio_transport *t)
{
    *d = (struct virtio_dev){.t = t};
    if (!t->read || !t->write || t->len[VIRTIO_AREA_COMMON] < VIRTIO_COMMON_SIZE ||
        t->len[VIRTIO_AREA_ISR] < 1 || t->len[VIRTIO_AREA_NOTIFY] < 2)
        return -E_INVAL;
    return 0;
}

uint8_t virtio_status(struct virtio_dev *d)
{
    return (uint8_t)rd(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_STATUS, 1);
}

static void set_status(struct virtio_dev *d, uint8_t status)
{
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_STATUS, 1, status);
}

int virtio_reset(struct virtio_dev *d)
{
    d->features = 0;
    set_status(d, 0);
    /* Until it reads 0 the device may still be using the old rings. */
    for (unsigned i = 0; i < VIRTIO_RESET_POLLS; i++)
        if (virtio_status(d) == 0)
            return 0;
    return -E_TIMEDOUT;
}

void virtio_fail(struct virtio_dev *d)
{
    set_status(d, (uint8_t)(virtio_status(d) | VIRTIO_STATUS_FAILED));
}

int virtio_negotiate(struct virtio_dev *d, uint64_t wanted, uint64_t required)
{
    uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE;
    set_status(d, s);
    s |= VIRTIO_STATUS_DRIVER;
    set_status(d, s);

    uint64_t offered = 0;
    for (uint32_t half = 0; half < 2; half++) {
        wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_DFSELECT, 4, half);
        offered |= (uint64_t)rd(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_DF, 4) << (32 * half);
    }
    required |= 1ull << VIRTIO_F_VERSION_1;
    wanted |= required;
    if ((offered & required) != required) {
        set_status(d, s | VIRTIO_STATUS_FAILED);
        return -E_NOSYS;
    }
    uint64_t accept = offered & wanted;
    for (uint32_t half = 0; half < 2; half++) {
        wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_GFSELECT, 4, half);
        wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_GF, 4, (uint32_t)(accept >> (32 * half)));
    }
    s |= VIRTIO_STATUS_FEATURES_OK;
    set_status(d, s);
    if (!(virtio_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
        set_status(d, s | VIRTIO_STATUS_FAILED);
        return -E_IO;
    }
    d->features = accept;
    /* No interrupt vectors: without MSI-X the device raises INTx. */
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    return 0;
}

uint16_t virtio_queue_max(struct virtio_dev *d, uint16_t index)
{
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_SELECT, 2, index);
    return (uint16_t)rd(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_SIZE, 2);
}

int virtio_queue_enable(struct virtio_dev *d, uint16_t index, uint16_t size, uint64_t desc,
                        uint64_t avail, uint64_t used, uint32_t *notify_off)
{
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_SELECT, 2, index);
    uint64_t off = (uint64_t)(uint16_t)rd(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_NOFF, 2) *
                   d->t->notify_off_multiplier;
    if (off > d->t->len[VIRTIO_AREA_NOTIFY] - 2)
        return -E_RANGE; /* the device's notify_off points outside its own area */
    *notify_off = (uint32_t)off;
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_SIZE, 2, size);
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_MSIX, 2, VIRTIO_MSI_NO_VECTOR);
    const struct {
        uint32_t off;
        uint64_t addr;
    } regs[] = {{VIRTIO_COMMON_Q_DESCLO, desc},
                {VIRTIO_COMMON_Q_AVAILLO, avail},
                {VIRTIO_COMMON_Q_USEDLO, used}};
    for (unsigned i = 0; i < 3; i++) {
        wr(d, VIRTIO_AREA_COMMON, regs[i].off, 4, (uint32_t)regs[i].addr);
        wr(d, VIRTIO_AREA_COMMON, regs[i].off + 4, 4, (uint32_t)(regs[i].addr >> 32));
    }
    /* Enabling comes last: the device may start reading the rings then. */
    wr(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_Q_ENABLE, 2, 1);
    return 0;
}

void virtio_notify(struct virtio_dev *d, uint16_t index, uint32_t notify_off)
{
    wr(d, VIRTIO_AREA_NOTIFY, notify_off, 2, index);
}

void virtio_driver_ok(struct virtio_dev *d)
{
    set_status(d, (uint8_t)(virtio_status(d) | VIRTIO_STATUS_DRIVER_OK));
}

uint8_t virtio_isr(struct virtio_dev *d)
{
    return (uint8_t)rd(d, VIRTIO_AREA_ISR, 0, 1);
}

int virtio_config_read(struct virtio_dev *d, uint32_t off, unsigned len, uint64_t *value)
{
    uint32_t area = d->t->len[VIRTIO_AREA_DEVICE];
    unsigned width = len == 8 ? 4 : len;
    if ((len != 1 && len != 2 && len != 4 && len != 8) || off > area || len > area - off ||
        (off & (width - 1)))
        return -E_RANGE;
    for (unsigned tries = 0; tries < VIRTIO_CFG_TRIES; tries++) {
        uint8_t gen = (uint8_t)rd(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_CFGGEN, 1);
        uint64_t v = rd(d, VIRTIO_AREA_DEVICE, off, width);
        if (len == 8)
            v |= (uint64_t)rd(d, VIRTIO_AREA_DEVICE, off + 4, 4) << 32;
        if ((uint8_t)rd(d, VIRTIO_AREA_COMMON, VIRTIO_COMMON_CFGGEN, 1) == gen) {
            *value = len == 8 ? v : v & ((1ull << (8 * len)) - 1);
            return 0;
        }
    }
    return -E_IO;
}
