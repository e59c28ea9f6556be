/*
 * Console client (see ipc/console.h). The console's handle is looked up on
 * first use and again after the console server has died (its handle then
 * answers -E_DEAD), so a restarted console is picked up by itself. A
 * handle that answers -E_BADHANDLE reached nobody (it was deleted, and its
 * slot may hold another capability now, under another handle): the
 * request is sent once more through a fresh lookup.
 */
#include <abi/proto/console.h>
#include <common/string.h>
#include <ipc/console.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>

static long handle = -1;

static long console(void)
{
    if (handle < 0)
        handle = name_lookup("console");
    return handle;
}

/* After a failed request: drop a handle that no longer reaches the
 * console. Deleting a stale one fails harmlessly (never the slot's new
 * occupant: its handle differs). Returns whether to try once more. */
static int forget(long rc)
{
    if (rc == -E_DEAD || rc == -E_BADHANDLE) {
        kc_cap_delete((uint64_t)handle);
        handle = -1;
    }
    return rc == -E_BADHANDLE;
}

long console_write(const char *text, size_t len)
{
    for (int tries = 0;; tries++) {
        long h = console();
        if (h < 0)
            return h;
        struct ipc_msg m;
        long rc = ipc_call_data((uint64_t)h, CON_WRITE, text, len, &m);
        if (rc >= 0)
            return (long)m.w[0];
        if (!forget(rc) || tries > 0)
            return rc;
    }
}

long console_readline(char *buf, size_t size)
{
    long h = console();
    if (h < 0 || size == 0)
        return h < 0 ? h : -E_INVAL;
    long pid = ipc_handle_pid((uint64_t)h);
    if (pid < 0 && forget(pid)) {
        h = console();
        pid = h < 0 ? h : ipc_handle_pid((uint64_t)h);
    }
    if (pid < 0) {
        forget(pid);
        return pid;
    }
    int64_t id = grant_create((uint32_t)pid, buf, size - 1, GRANT_F_WRITE);
    if (id < 0)
        return id;
    struct ipc_msg m = ipc_msg_make(CON_READLINE, 3);
    m.w[1] = (uint64_t)id;
    m.w[2] = size - 1;
    long rc = ipc_call_status((uint64_t)h, &m);
    grant_revoke((uint64_t)id);
    if (rc < 0) {
        forget(rc);
        return rc;
    }
    buf[rc < (long)size ? rc : (long)size - 1] = '\0';
    return rc;
}
