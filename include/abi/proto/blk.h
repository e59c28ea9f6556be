/*
 * Block device protocol, served by disk drivers (servers/virtio_blk): read,
 * write and flush of sector ranges, data through grants. Replies: w0 = status
 * (>= 0 success, -E_* error); a successful reply also carries the epoch.
 *
 * Done and durable. A BLK_WRITE is answered once the device has reported
 * the write complete: from then on every read returns the new data, but it
 * may sit in the device's volatile cache. It is durable once a BLK_FLUSH
 * sent after that answer has been answered with success *and the same
 * epoch*. So a file system's rule is: keep every write since the last
 * successful flush (at least the knowledge of what it wrote); if a flush's
 * epoch differs from the epoch of a write it was meant to cover, or the
 * driver went away (-E_DEAD, then a new handle from the name service),
 * write those again, then flush again. Without BLK_INFO_FLUSH the device
 * has no flush command and BLK_FLUSH is answered at once: durability is
 * then the device's own affair (virtio: not guaranteed).
 *
 * Epoch. A number that changes whenever the driver resets the device (a
 * driver restart included) and never goes back to an earlier value while
 * the machine runs. A reset loses the requests in flight and possibly the
 * device's volatile cache.
 *
 * Retrying. Every request is idempotent: it names absolute sectors and
 * carries all its data, so repeating it has the effect of doing it once.
 * After -E_IO, -E_DEAD (driver died; look it up again) or -E_BUSY a client
 * may simply send the same request again. Requests in flight at the same
 * time have no order between them (the device may reorder them, and a
 * failed one may have been done partly): a client that needs an order
 * waits for the answer, and on an error of a write, the sectors it names
 * hold old data, new data, or a mix, sector by sector.
 *
 * Errors of BLK_READ / BLK_WRITE, checked in this order:
 *   -E_INVAL      count is 0 or above the maximum (BLK_INFO w3)
 *   -E_RANGE      the range runs past the last sector (or wraps)
 *   -E_PERM       BLK_WRITE on a read-only device (BLK_INFO_RO)
 *   -E_GRANT_*    the grant is unusable for count * sector size bytes from
 *                 the offset (the kernel's code from the copy, see
 *                 docs/grants.md); checked before the device is touched,
 *                 so such a request reads or writes no sector
 *   -E_FAULT      a page behind the grant is missing (found while copying:
 *                 part of the range may have been read or written)
 *   -E_BUSY       the driver's request table is full; retry later
 *   -E_IO         the device failed, or was reset while the request was in
 *                 flight: nothing is known about a failed write's sectors
 *                 and a failed read leaves the buffer's contents undefined
 * BLK_FLUSH and BLK_ID fail only with -E_BUSY or -E_IO (BLK_ID also with
 * -E_NOSYS when the device has no ID).
 */
#ifndef ABI_PROTO_BLK_H
#define ABI_PROTO_BLK_H

/* clang-format off */
#define BLK_INFO   0x500 /* -> w1 = sectors, w2 = sector size in bytes (a power of 2, 512..4096),
                            w3 = max sectors per request, w4 = flags (BLK_INFO_*), w5 = epoch */
#define BLK_READ   0x501 /* w1 = first sector, w2 = count, w3 = WRITE grant on the caller's
                            buffer, w4 = byte offset of the data in that grant -> w1 = epoch;
                            the count * sector size bytes are in the buffer */
#define BLK_WRITE  0x502 /* w1 = first sector, w2 = count, w3 = READ grant on the data, w4 = byte
                            offset in that grant -> w1 = epoch; done, not yet durable (above) */
#define BLK_FLUSH  0x503 /* -> w1 = epoch; every write answered before this request was sent
                            (with this epoch) is durable */
#define BLK_ID     0x504 /* -> w0 = length (0..20), w1..w3 = the device's serial (NUL-padded,
                            ASCII, not terminated when 20 bytes long), w4 = epoch */

#define BLK_INFO_RO     (1u << 0) /* read-only: BLK_WRITE fails with -E_PERM */
#define BLK_INFO_FLUSH  (1u << 1) /* the device has a volatile cache and a flush command */

#define BLK_MAX_BYTES   (4u << 20) /* no request moves more; BLK_INFO w3 may allow less */
#define BLK_ID_BYTES    20
/* clang-format on */

#endif
