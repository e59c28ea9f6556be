/*
 * Memory grants (abi/grant.h): publish bytes of your memory to one other
 * process, pass the id in a message, and let it copy through the kernel.
 * Creating and revoking only write your own table, so they need no kernel
 * entry; the table is registered with the kernel once, on first use.
 */
#ifndef IPC_GRANT_H
#define IPC_GRANT_H

#include <abi/grant.h>
#include <ipc/ipc.h>
#include <stddef.h>

#define GRANT_DEFAULT_SLOTS 256

/* Use `slots` entries at `table` instead of the table in use (the built-in
 * one, registered by the first grant_create, which printf may make). Any
 * time will do: the entries made so far move to `table` at the same
 * indexes, so their ids keep working (and revoked ones stay dead). Returns
 * 0, -E_BUSY if a live grant's index is >= slots, or the kernel's error. */
long grant_table_init(struct grant_entry *table, uint32_t slots);

/* Let process `grantee` read and/or write (GRANT_F_READ | GRANT_F_WRITE)
 * [addr, addr + len), and with GRANT_F_MAP map those pages (whole pages
 * only: docs/grants.md). Returns the grant id (> 0) or -E_LIMIT. */
int64_t grant_create(uint32_t grantee, const void *addr, size_t len, uint32_t access);

/* Pass on [offset, offset + len) of grant src_id, which src_pid gave us,
 * to `grantee` with the same or fewer rights (the kernel checks). */
int64_t grant_create_indirect(uint32_t grantee, uint32_t src_pid, uint64_t src_id, uint64_t offset,
                              size_t len, uint32_t access);

/* End a grant: its id (and any copy of it) stops working at once, and
 * for a map grant every mapping made through it is gone when this returns. */
long grant_revoke(uint64_t id);

/* System calls (stubs in ipc/syscalls_gen.h, each check in docs/grants.md):
 *   grant_copy_from(granter, id, offset, dst, len), grant_copy_to(..., src, len):
 *     copy between our memory and the memory behind someone's grant; return
 *     the number of bytes copied or -E_*.
 *   grant_map(granter, id, offset, local, len, flags): map [offset, offset +
 *     len) of someone's map grant at `local` in our map window
 *     (USER_MAP_MIN..USER_MAP_MAX), read-only, or read-write with flags =
 *     GRANT_F_WRITE; page-aligned offset, address and length; 0 or -E_*.
 *   grant_unmap(local): remove the mapping that starts at `local`: its page
 *     count, or -E_NOENT.
 *   grant_revoke_maps(id): the kernel half of revoking a map grant
 *     (grant_revoke does it): remove every mapping made through our grant
 *     `id`; returns how many. */

/* grant_map at a free place of the window libipc keeps track of (one of
 * GRANT_MAPS_MAX areas of GRANT_MAP_MAX bytes). Returns the address, or 0
 * with *err set; undo with grant_unmap_any. */
void *grant_map_any(uint32_t granter, uint64_t id, uint64_t offset, size_t len, uint32_t flags,
                    long *err);
long grant_unmap_any(void *local);

/* Process id behind a handle (for grantee arguments). */
long ipc_handle_pid(uint64_t handle);

/*
 * Data of any size with a call. Request layout: w0 = length, w1 = grant id
 * (0 when the bytes are inline), w2..w7 = up to 48 inline bytes. Above
 * IPC_INLINE_MAX the bytes go through a read grant that exists only for the
 * duration of the call; w2 = IPC_DATA_MAPPABLE when it also carries the map
 * right: whole pages (page-aligned data, a length of whole pages) of at
 * least IPC_MAP_MIN bytes, where mapping beats copying (docs/benchmarks.md
 * has the measurement).
 */
#define IPC_INLINE_MAX    48
#define IPC_MAP_MIN       (16u << 10)
#define IPC_DATA_MAPPABLE 1
long ipc_call_data(uint64_t handle, uint32_t label, const void *data, size_t len,
                   struct ipc_msg *reply);

/* Server side: copy a request's data (inline or granted) into buf. Returns
 * its length, or -E_RANGE if it is longer than cap, or a copy error. */
long ipc_msg_data(const struct ipc_msg *m, void *buf, size_t cap);

/* Server side, without a copy where the client allows it: the request's
 * data mapped read-only in our window (a mappable grant), else copied into
 * buf as ipc_msg_data does. Returns the length or an error; v->data has
 * the bytes until ipc_view_end, which must come before the reply (the
 * client revokes the grant after it, and the window area is ours to free). */
struct ipc_view {
    const void *data;
    size_t len;
    void *mapped; /* the mapping, or 0 when the bytes were copied */
};
long ipc_msg_view(const struct ipc_msg *m, struct ipc_view *v, void *buf, size_t cap);
void ipc_view_end(struct ipc_view *v);

#endif
