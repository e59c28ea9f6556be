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

/* Use `slots` entries at `table` instead of the built-in table (call
 * before the first grant_create). Returns 0 or the kernel's error. */
long grant_table_init(struct grant_entry *table, uint32_t slots);

/* Let process `grantee` read and/or write (GRANT_F_READ | GRANT_F_WRITE)
 * [addr, addr + len). Returns the grant id (> 0) or -E_LIMIT. */
int64_t grant_create(uint32_t grantee, const void *addr, size_t len, uint32_t access);

/* Pass on [offset, offset + len) of grant src_id, which src_pid gave us,
 * to `grantee` with the same or fewer rights (the kernel checks). */
int64_t grant_create_indirect(uint32_t grantee, uint32_t src_pid, uint64_t src_id, uint64_t offset,
                              size_t len, uint32_t access);

/* End a grant: its id (and any copy of it) stops working at once. */
long grant_revoke(uint64_t id);

/* Copy between your memory and the memory behind someone's grant. Return
 * the number of bytes copied or -E_*. */
long grant_copy_from(uint32_t granter, uint64_t id, uint64_t offset, void *dst, size_t len);
long grant_copy_to(uint32_t granter, uint64_t id, uint64_t offset, const void *src, size_t len);

/* Process id behind a handle (for grantee arguments). */
long ipc_handle_pid(uint64_t handle);

/*
 * Data of any size with a call. Request layout: w0 = length, w1 = grant id
 * (0 when the bytes are inline), w2..w7 = up to 48 inline bytes. Above
 * IPC_INLINE_MAX the bytes go through a read grant that exists only for the
 * duration of the call.
 */
#define IPC_INLINE_MAX 48
long ipc_call_data(uint64_t handle, uint32_t label, const void *data, size_t len,
                   struct ipc_msg *reply);

/* Server side: copy a request's data (inline or granted) into buf. Returns
 * its length, or -E_RANGE if it is longer than cap, or a copy error. */
long ipc_msg_data(const struct ipc_msg *m, void *buf, size_t cap);

#endif
