/*
 * Name service client (see ipc/name.h). Every process reaches the boot
 * server's name service through HANDLE_NAMES, passed down at spawn.
 */
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/kcall.h>
#include <ipc/name.h>

void name_pack(struct ipc_msg *m, const char *name)
{
    char buf[NAME_MAX_LEN] = {0};
    strncpy_safe(buf, name, sizeof(buf));
    memcpy(&m->w[1], buf, sizeof(buf));
}

long ipc_call_status(uint64_t handle, struct ipc_msg *m)
{
    long rc = ipc_call(handle, m);
    return rc < 0 ? rc : (long)m->w[0];
}

long name_register(const char *name)
{
    struct ipc_msg m = ipc_msg_make(NAME_REGISTER, 4);
    name_pack(&m, name);
    m.info |= IPC_INFO_CAP;
    m.cap = IPC_SELF;
    return ipc_call_status(HANDLE_NAMES, &m);
}

long name_lookup(const char *name)
{
    struct ipc_msg m = ipc_msg_make(NAME_LOOKUP, 4);
    name_pack(&m, name);
    m.info |= IPC_INFO_ACCEPT; /* the answer carries the server's handle */
    long rc = ipc_call_status(HANDLE_NAMES, &m);
    if (rc < 0)
        return rc;
    if (!(m.info & IPC_INFO_CAP))
        return -E_NOENT;
    return (long)m.cap; /* negative if our table was full */
}

long name_lookup_wait(const char *name, uint64_t ticks)
{
    for (uint64_t i = 0;; i++) {
        long h = name_lookup(name);
        if ((h != -E_NOENT && h != -E_AGAIN) || i >= ticks)
            return h;
        kc_sleep(1);
    }
}
