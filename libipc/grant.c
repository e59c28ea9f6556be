/*
 * Grant tables in user memory (see ipc/grant.h). An entry is filled in
 * before its flags make it valid, and a revoke bumps the generation, so the
 * kernel never sees a half-made grant and a revoked id never works again.
 * A small lock serialises the threads of one process.
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>

static struct grant_entry builtin[GRANT_DEFAULT_SLOTS];
static struct grant_entry *table;
static uint32_t slots;
static volatile int lock;

static void take(void)
{
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
        kc_yield(); /* the holder was preempted: let it finish */
}

static void give(void)
{
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

long grant_table_init(struct grant_entry *t, uint32_t n)
{
    long rc = kc_grant_table(t, n);
    if (rc == 0) {
        table = t;
        slots = n;
    }
    return rc;
}

static int64_t make(const struct grant_entry *e)
{
    if (!table) {
        long rc = grant_table_init(builtin, GRANT_DEFAULT_SLOTS);
        if (rc < 0)
            return rc;
    }
    take();
    for (uint32_t i = 0; i < slots; i++) {
        if (table[i].flags)
            continue;
        uint32_t gen = table[i].gen ? table[i].gen : 1;
        /* Every field but the flags first, the flags last: a struct copy
         * would store flags and generation in its first 8-byte move and
         * show the kernel a valid entry with the old grantee and range
         * (found by test/model/grants.pml). */
        struct grant_entry n = *e;
        n.gen = gen;
        n.flags = 0;
        table[i] = n;
        __atomic_store_n(&table[i].flags, e->flags, __ATOMIC_RELEASE);
        give();
        return (int64_t)grant_id(i, gen);
    }
    give();
    return -E_LIMIT;
}

int64_t grant_create(uint32_t grantee, const void *addr, size_t len, uint32_t access)
{
    struct grant_entry e = {
        .flags = GRANT_F_USED | GRANT_F_VALID | (access & (GRANT_F_READ | GRANT_F_WRITE)),
        .grantee = grantee,
        .addr = (uint64_t)addr,
        .len = len,
    };
    return make(&e);
}

int64_t grant_create_indirect(uint32_t grantee, uint32_t src_pid, uint64_t src_id, uint64_t offset,
                              size_t len, uint32_t access)
{
    struct grant_entry e = {
        .flags = GRANT_F_USED | GRANT_F_VALID | GRANT_F_INDIRECT |
                 (access & (GRANT_F_READ | GRANT_F_WRITE)),
        .grantee = grantee,
        .src_pid = src_pid,
        .addr = offset,
        .len = len,
        .src_id = src_id,
    };
    return make(&e);
}

long grant_revoke(uint64_t id)
{
    uint32_t i = grant_id_index(id);
    if (!table || i >= slots)
        return -E_GRANT_INDEX;
    take();
    long rc = 0;
    if (!table[i].flags)
        rc = -E_GRANT_INVALID;
    else if (table[i].gen != grant_id_gen(id))
        rc = -E_GRANT_STALE;
    else {
        __atomic_store_n(&table[i].flags, 0, __ATOMIC_RELEASE);
        table[i].gen = table[i].gen + 1 ? table[i].gen + 1 : 1;
    }
    give();
    return rc;
}

static long copy(uint64_t nr, uint32_t granter, uint64_t id, uint64_t offset, uint64_t local,
                 size_t len)
{
    uint64_t rax = nr;
    register uint64_t r8 __asm__("r8") = local;
    register uint64_t r9 __asm__("r9") = len;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+r"(r8), "+r"(r9)
                     : "D"((uint64_t)granter), "S"(id), "d"(offset)
                     : "rcx", "r11", "r10", "r12", "r13", "r14", "r15", "rbx", "memory");
    return (long)rax;
}

long grant_copy_from(uint32_t granter, uint64_t id, uint64_t offset, void *dst, size_t len)
{
    return copy(SYS_GRANT_COPY_FROM, granter, id, offset, (uint64_t)dst, len);
}

long grant_copy_to(uint32_t granter, uint64_t id, uint64_t offset, const void *src, size_t len)
{
    return copy(SYS_GRANT_COPY_TO, granter, id, offset, (uint64_t)src, len);
}

long ipc_handle_pid(uint64_t handle)
{
    uint64_t badge;
    long rc = kc_cap_identify(handle, &badge);
    return rc < 0 ? rc : (long)badge_pid(badge);
}

long ipc_call_data(uint64_t handle, uint32_t label, const void *data, size_t len,
                   struct ipc_msg *reply)
{
    *reply = ipc_msg_make(label, IPC_MSG_WORDS);
    reply->w[0] = len;
    if (len <= IPC_INLINE_MAX) {
        memcpy(&reply->w[2], data, len);
        return ipc_call(handle, reply);
    }
    long pid = ipc_handle_pid(handle);
    if (pid < 0)
        return pid;
    int64_t id = grant_create((uint32_t)pid, data, len, GRANT_F_READ);
    if (id < 0)
        return id;
    reply->w[1] = (uint64_t)id;
    long rc = ipc_call(handle, reply);
    grant_revoke((uint64_t)id);
    return rc;
}

long ipc_msg_data(const struct ipc_msg *m, void *buf, size_t cap)
{
    uint64_t len = m->w[0];
    if (len > cap)
        return -E_RANGE;
    if (m->w[1] == 0) {
        if (len > IPC_INLINE_MAX)
            return -E_RANGE;
        memcpy(buf, &m->w[2], len);
        return (long)len;
    }
    return grant_copy_from(badge_pid(m->badge), m->w[1], 0, buf, len);
}
