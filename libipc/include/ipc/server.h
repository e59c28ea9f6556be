/*
 * A server's main loop: register a name, then receive requests and
 * dispatch them by label to handlers, replying with what they return (in
 * w0) through reply_recv, which is the IPC fast path.
 */
#ifndef IPC_SERVER_H
#define IPC_SERVER_H

#include <ipc/ipc.h>
#include <stddef.h>

/* A handler reads its request in m and leaves reply words in m; its return
 * value goes to the caller in w0. The reply's length is what the handler
 * sets in m->info (ipc_info(bytes, 0)); if it sets none, it is the
 * request's (m->info as it came), and always at least 8 bytes (w0).
 * SERVER_DEFER: no reply now (the handler keeps m->badge and answers later
 * with server_reply). SERVER_RAW: m is the whole reply, w0 included (64
 * bytes of data, say), with the length in m->info (none set: the
 * request's). */
#define SERVER_DEFER (-0x7ffffff0L)
#define SERVER_RAW   (-0x7ffffff1L)

struct server_op {
    uint32_t label;
    long (*handler)(struct ipc_msg *m);
};

struct server {
    const char *name; /* registered with the name service (0: none) */
    const struct server_op *ops;
    size_t nops;
    void (*on_notify)(uint64_t bits); /* notifications (IRQs, ...), optional */
    /* Accept a handle with a request (IPC_INFO_ACCEPT). Without it, a
     * client's message carrying one is refused by the kernel (-E_NOACCEPT
     * to the client). With it, a handler finds the handle in m->cap
     * (m->info has IPC_INFO_CAP) and keeps it by setting m->cap to 0;
     * any handle it leaves there is deleted after the handler. */
    int accept_caps;
};

/* Run forever. Returns only if the name cannot be registered, or if a
 * receive that cannot fail does (the kernel broke its contract). Unknown
 * labels are answered with -E_NOSYS. */
long server_run(const struct server *s);

/* Answer a deferred request: status in w0, `words` reply words in m. */
long server_reply(uint64_t badge, struct ipc_msg *m, long status, uint32_t words);

#endif
