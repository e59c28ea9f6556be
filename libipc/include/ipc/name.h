/*
 * Name service client: find a server's handle by name, or publish your own.
 */
#ifndef IPC_NAME_H
#define IPC_NAME_H

#include <ipc/ipc.h>

/* Put a name (<= 23 bytes) into w[1..3] of m. */
void name_pack(struct ipc_msg *m, const char *name);

/* Publish the calling thread under name. Returns 0 or -E_*. */
long name_register(const char *name);

/* Handle of the server registered as name; -E_NOENT if there is none,
 * -E_AGAIN while its server is being restarted. */
long name_lookup(const char *name);

/* As name_lookup, retrying every tick until the name appears (servers
 * start in parallel, and restart) or `ticks` have passed. */
long name_lookup_wait(const char *name, uint64_t ticks);

/* Call and return the server's status word (w0), or the IPC error. */
long ipc_call_status(uint64_t handle, struct ipc_msg *m);

#endif
