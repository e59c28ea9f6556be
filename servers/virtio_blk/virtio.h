/*
 * A virtio 1.0 device over an abstract transport: status handshake,
 * feature negotiation, queue set-up, config reads with the generation
 * check, notifications. The transport is four byte ranges (common config,
 * notify, ISR, device config) the caller maps; every offset passed to it
 * has been checked here against the range's length, whatever the device
 * answers. Legacy (pre-1.0) devices are not supported.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* clang-format off */
/* struct virtio_pci_common_cfg: offsets, with the width of each field */
#define VIRTIO_COMMON_DFSELECT      0x00 /* 4: device_feature_select */
#define VIRTIO_COMMON_DF            0x04 /* 4: device_feature (read-only) */
#define VIRTIO_COMMON_GFSELECT      0x08 /* 4: driver_feature_select */
#define VIRTIO_COMMON_GF            0x0c /* 4: driver_feature */
#define VIRTIO_COMMON_MSIX          0x10 /* 2: msix_config */
#define VIRTIO_COMMON_NUMQ          0x12 /* 2: num_queues (read-only) */
#define VIRTIO_COMMON_STATUS        0x14 /* 1: device_status */
#define VIRTIO_COMMON_CFGGEN        0x15 /* 1: config_generation (read-only) */
#define VIRTIO_COMMON_Q_SELECT      0x16 /* 2: queue_select */
#define VIRTIO_COMMON_Q_SIZE        0x18 /* 2: queue_size */
#define VIRTIO_COMMON_Q_MSIX        0x1a /* 2: queue_msix_vector */
#define VIRTIO_COMMON_Q_ENABLE      0x1c /* 2: queue_enable */
#define VIRTIO_COMMON_Q_NOFF        0x1e /* 2: queue_notify_off (read-only) */
#define VIRTIO_COMMON_Q_DESCLO      0x20 /* 4+4: queue_desc */
#define VIRTIO_COMMON_Q_DESCHI      0x24
#define VIRTIO_COMMON_Q_AVAILLO     0x28 /* 4+4: queue_driver (avail ring) */
#define VIRTIO_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_COMMON_Q_USEDLO      0x30 /* 4+4: queue_device (used ring) */
#define VIRTIO_COMMON_Q_USEDHI      0x34
#define VIRTIO_COMMON_SIZE          0x38

#define VIRTIO_MSI_NO_VECTOR        0xffff

/* device_status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

/* ISR status bits (reading the ISR byte clears it and lowers INTx) */
#define VIRTIO_ISR_QUEUE            1
#define VIRTIO_ISR_CONFIG           2

/* device-independent feature bits */
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34

#define VIRTIO_RESET_POLLS          100000 /* reads of device_status waiting for 0 */
#define VIRTIO_CFG_TRIES            16     /* config reads retried on a generation change */
/* clang-format on */

enum virtio_area {
    VIRTIO_AREA_COMMON,
    VIRTIO_AREA_NOTIFY,
    VIRTIO_AREA_ISR,
    VIRTIO_AREA_DEVICE,
    VIRTIO_AREAS
};

/*
 * The caller's access to the device. read/write get an area, an offset and
 * a width (1, 2 or 4) with off % width == 0 and off + width <= len[area]:
 * virtio.c never asks for anything else. In Granite they are volatile
 * accesses to the uncached BAR mapping; in the tests, a device model.
 */
struct virtio_transport {
    void *ctx;
    uint32_t (*read)(void *ctx, enum virtio_area area, uint32_t off, unsigned width);
    void (*write)(void *ctx, enum virtio_area area, uint32_t off, unsigned width, uint32_t value);
    uint32_t len[VIRTIO_AREAS];     /* bytes of each area */
    uint32_t notify_off_multiplier; /* from the notify capability */
};

struct virtio_dev {
    const struct virtio_transport *t;
    uint64_t features; /* negotiated */
};

/* Bind d to transport t. -E_INVAL if the common area is shorter than
 * struct virtio_pci_common_cfg or the ISR or notify area is missing. */
int virtio_attach(struct virtio_dev *d, const struct virtio_transport *t);

/* Reset: write 0 to device_status and wait (bounded) until it reads 0.
 * Afterwards the device neither reads nor writes driver memory.
 * -E_TIMEDOUT if it never reads 0. */
int virtio_reset(struct virtio_dev *d);

/* After a reset: ACKNOWLEDGE, DRIVER, then accept the offered features
 * that are in `wanted` (VIRTIO_F_VERSION_1 is always required and always
 * wanted), FEATURES_OK, and check that the device kept FEATURES_OK.
 * -E_NOSYS if the device lacks VERSION_1 or one of `required`, -E_IO if it
 * refuses FEATURES_OK (FAILED is set then). On success d->features holds
 * the negotiated set. */
int virtio_negotiate(struct virtio_dev *d, uint64_t wanted, uint64_t required);

/* Largest size the device allows for queue `index` (0: no such queue). */
uint16_t virtio_queue_max(struct virtio_dev *d, uint16_t index);

/* Set up and enable queue `index` with `size` entries at these physical
 * addresses; *notify_off gets the byte offset in the notify area to write
 * the queue index to. -E_RANGE if that offset lies outside the area. */
int virtio_queue_enable(struct virtio_dev *d, uint16_t index, uint16_t size, uint64_t desc,
                        uint64_t avail, uint64_t used, uint32_t *notify_off);

/* Tell the device queue `index` has new buffers (notify_off from above). */
void virtio_notify(struct virtio_dev *d, uint16_t index, uint32_t notify_off);

void virtio_driver_ok(struct virtio_dev *d);
void virtio_fail(struct virtio_dev *d); /* set FAILED: the driver gave up */
uint8_t virtio_status(struct virtio_dev *d);
uint8_t virtio_isr(struct virtio_dev *d); /* reading clears it */

/* Read len bytes (1, 2, 4 or 8) at off of the device config with natural
 * accesses, retried while config_generation changes under the read.
 * -E_RANGE outside the area, -E_IO if the generation never settles. */
int virtio_config_read(struct virtio_dev *d, uint32_t off, unsigned len, uint64_t *value);

static inline bool virtio_has(const struct virtio_dev *d, unsigned bit)
{
    return (d->features >> bit) & 1;
}

#endif
