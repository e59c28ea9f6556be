/*
 * Server main loop (see ipc/server.h). The reply and the next receive are
 * one reply_recv system call; when nobody else is queued it is the fast
 * path (docs/abi.md).
 */
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

long server_reply(uint64_t badge, struct ipc_msg *m, long status, uint32_t words)
{
    m->info = ipc_info((words > 0 ? words : 1) * 8, 0);
    m->w[0] = (uint64_t)status;
    return ipc_reply(badge, m);
}

static long dispatch(const struct server *s, struct ipc_msg *m)
{
    uint32_t label = ipc_info_label(m->info);
    for (size_t i = 0; i < s->nops; i++)
        if (s->ops[i].label == label)
            return s->ops[i].handler(m);
    return -E_NOSYS;
}

long server_run(const struct server *s)
{
    if (s->name) {
        long rc = name_register(s->name);
        if (rc < 0) {
            printf("%s: cannot register the name: %s\n", s->name, ipc_strerror(rc));
            return rc;
        }
    }
    /* Only a server that asked for handles accepts them; reply_recv with
     * IPC_INFO_ACCEPT takes the slow path, so the others keep the fast one. */
    const uint64_t accept = s->accept_caps ? IPC_INFO_ACCEPT : 0;
    struct ipc_msg m = {.info = accept};
    long rc = ipc_recv(IPC_ANY, &m);
    int plain = 1; /* rc is from a receive alone, not a reply_recv */
    for (;;) {
        if (rc < 0 && plain) {
            /* A blocking receive from anyone cannot fail (docs/abi.md 2.2):
             * say so and stop, rather than spin on it. */
            printf("%s: receive failed: %s\n", s->name ? s->name : "server", ipc_strerror(rc));
            return rc;
        }
        if (rc < 0) { /* our reply was refused (it is malformed): just wait again */
            m = (struct ipc_msg){.info = accept};
            rc = ipc_recv(IPC_ANY, &m);
            plain = 1;
            continue;
        }
        plain = 0;
        if (m.info & IPC_INFO_NOTIFY) {
            if (s->on_notify)
                s->on_notify(m.w[0]);
            m = (struct ipc_msg){.info = accept};
            rc = ipc_recv(IPC_ANY, &m);
            plain = 1;
            continue;
        }
        uint64_t badge = m.badge;
        uint64_t got = (m.info & IPC_INFO_CAP) && (int64_t)m.cap > 0 ? m.cap : 0;
        long status = dispatch(s, &m);
        if (got && m.cap == got)
            kc_cap_delete(got); /* the handler did not keep it */
        if (status == SERVER_DEFER) {
            m = (struct ipc_msg){.info = accept};
            rc = ipc_recv(IPC_ANY, &m);
            plain = 1;
            continue;
        }
        /* Handlers set m->info to the reply length they want; at least w0. */
        if (ipc_info_len(m.info) < 8 || ipc_info_len(m.info) > IPC_MSG_BYTES ||
            (m.info & ~(IPC_INFO_LEN_MASK | IPC_INFO_LABEL_MASK)))
            m.info = ipc_info(8, 0);
        m.info |= accept;
        if (status != SERVER_RAW)
            m.w[0] = (uint64_t)status;
        m.cap = 0;
        rc = ipc_reply_recv(badge, &m);
    }
}
