/*
 * Grant tables in user memory (see ipc/grant.h). An entry is filled in
 * before its flags make it valid, and a revoke bumps the generation, so the
 * kernel never sees a half-made grant and a revoked id never works again.
 * A small lock serialises the threads of one process.
 */
#include <abi/layout.h>
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

/* Register t; precondition: the lock is held. The entries of the table in
 * use so far move to t at their indexes, so the grants already made (say,
 * by printf, which makes one for a long line) go on working, and ids
 * revoked there stay dead. */
static long switch_table(struct grant_entry *t, uint32_t n)
{
    for (uint32_t i = n; i < slots; i++)
        if (table[i].flags)
            return -E_BUSY; /* a live grant would not fit */
    for (uint32_t i = 0; i < slots && i < n; i++)
        t[i] = table[i];
    long rc = kc_grant_table(t, n);
    if (rc == 0) {
        table = t;
        slots = n;
    }
    return rc;
}

long grant_table_init(struct grant_entry *t, uint32_t n)
{
    take();
    long rc = switch_table(t, n);
    give();
    return rc;
}

static int64_t make(const struct grant_entry *e)
{
    take();
    if (!table) {
        long rc = switch_table(builtin, GRANT_DEFAULT_SLOTS);
        if (rc < 0) {
            give();
            return rc;
        }
    }
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
        .flags =
            GRANT_F_USED | GRANT_F_VALID | (access & (GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP)),
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
                 (access & (GRANT_F_READ | GRANT_F_WRITE | GRANT_F_MAP)),
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
    uint32_t flags = table[i].flags;
    if (!flags)
        rc = -E_GRANT_INVALID;
    else if (table[i].gen != grant_id_gen(id))
        rc = -E_GRANT_STALE;
    else {
        __atomic_store_n(&table[i].flags, 0, __ATOMIC_RELEASE);
        table[i].gen = table[i].gen + 1 ? table[i].gen + 1 : 1;
    }
    give();
    /* No new mapping can be made through the entry now; the kernel takes
     * away those that exist. */
    if (rc == 0 && (flags & GRANT_F_MAP))
        rc = grant_revoke_maps(id);
    return rc < 0 ? rc : 0;
}

/* The map window, cut into GRANT_MAPS_MAX areas of GRANT_MAP_MAX bytes:
 * as many as the kernel keeps mappings, each big enough for any one. */
static volatile uint32_t areas_used;

static void *area(uint32_t i)
{
    return (void *)(USER_MAP_MIN + (uint64_t)i * GRANT_MAP_MAX);
}

void *grant_map_any(uint32_t granter, uint64_t id, uint64_t offset, size_t len, uint32_t flags,
                    long *err)
{
    take();
    uint32_t free = ~areas_used & ((1ull << GRANT_MAPS_MAX) - 1);
    uint32_t i = free ? (uint32_t)__builtin_ctz(free) : 0;
    if (free)
        areas_used |= 1u << i;
    give();
    long rc = free ? grant_map(granter, id, offset, area(i), len, flags) : -E_LIMIT;
    if (rc == 0)
        return area(i);
    if (free)
        __atomic_fetch_and(&areas_used, ~(1u << i), __ATOMIC_RELEASE);
    *err = rc;
    return 0;
}

long grant_unmap_any(void *local)
{
    long rc = grant_unmap(local);
    uint64_t i = ((uint64_t)local - USER_MAP_MIN) / GRANT_MAP_MAX;
    if (rc >= 0 && i < GRANT_MAPS_MAX && local == area((uint32_t)i))
        __atomic_fetch_and(&areas_used, ~(1u << i), __ATOMIC_RELEASE);
    return rc;
}

long ipc_handle_pid(uint64_t handle)
{
    uint64_t badge;
    long rc = kc_cap_identify(handle, &badge);
    return rc < 0 ? rc : (long)badge_pid(badge);
}

/* The server behind each handle ipc_call_data used lately, so a large
 * message costs no KC_CAP_IDENTIFY. A handle never comes to name another
 * thread (a capability made again gets a new handle), but nothing here
 * depends on that: the kernel checks every grant, so a grant made for a
 * stale pid only fails the server's copy, and the reply's badge (who
 * answered) shows the mismatch; ipc_call_data then asks again and calls
 * once more. Entries are read and written under the grant lock. */
#define PID_CACHE 8
static struct {
    uint64_t handle;
    uint32_t pid; /* 0: empty */
} pid_cache[PID_CACHE];

static uint32_t cached_pid(uint64_t handle)
{
    take();
    uint32_t pid = 0;
    for (int i = 0; i < PID_CACHE; i++)
        if (pid_cache[i].pid && pid_cache[i].handle == handle)
            pid = pid_cache[i].pid;
    give();
    return pid;
}

/* Set handle's entry to pid (0: forget it); a new one replaces the entry
 * in the slot the handle hashes to. */
static void cache_pid(uint64_t handle, uint32_t pid)
{
    take();
    int slot = (int)(handle % PID_CACHE);
    for (int i = 0; i < PID_CACHE; i++)
        if (pid_cache[i].pid && pid_cache[i].handle == handle)
            slot = i;
    pid_cache[slot].handle = handle;
    pid_cache[slot].pid = pid;
    give();
}

/* One large message to pid (its grant lives for the call only). */
static long call_granted(uint64_t handle, uint32_t pid, uint32_t label, const void *data,
                         size_t len, struct ipc_msg *reply)
{
    *reply = ipc_msg_make(label, IPC_MSG_WORDS);
    reply->w[0] = len;
    /* Whole pages from IPC_MAP_MIN up may be mapped instead of copied:
     * the server then sees exactly these bytes, nothing else of ours. */
    int map = len >= IPC_MAP_MIN && len <= GRANT_MAP_MAX && !(((uint64_t)data | len) & 0xfff);
    int64_t id = grant_create(pid, data, len, GRANT_F_READ | (map ? GRANT_F_MAP : 0));
    if (id < 0)
        return id;
    reply->w[1] = (uint64_t)id;
    reply->w[2] = map ? IPC_DATA_MAPPABLE : 0;
    long rc = ipc_call(handle, reply);
    grant_revoke((uint64_t)id);
    return rc;
}

long ipc_call_data(uint64_t handle, uint32_t label, const void *data, size_t len,
                   struct ipc_msg *reply)
{
    if (len <= IPC_INLINE_MAX) {
        *reply = ipc_msg_make(label, IPC_MSG_WORDS);
        reply->w[0] = len;
        memcpy(&reply->w[2], data, len);
        return ipc_call(handle, reply);
    }
    uint32_t pid = cached_pid(handle);
    int cached = pid != 0;
    if (!cached) {
        long p = ipc_handle_pid(handle);
        if (p < 0)
            return p;
        pid = (uint32_t)p;
        cache_pid(handle, pid);
    }
    long rc = call_granted(handle, pid, label, data, len, reply);
    if (rc >= 0 && badge_pid(reply->badge) != pid && cached) {
        /* Answered by another process than the grant named: our pid was
         * stale, and the server could not read the bytes. Once more, with
         * the pid the kernel gives now. */
        long p = ipc_handle_pid(handle);
        if (p < 0) {
            cache_pid(handle, 0);
            return p;
        }
        pid = (uint32_t)p;
        cache_pid(handle, pid);
        rc = call_granted(handle, pid, label, data, len, reply);
    }
    if (rc == -E_DEAD || rc == -E_BADHANDLE)
        cache_pid(handle, 0); /* a dead server's pid is no use to anybody */
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

long ipc_msg_view(const struct ipc_msg *m, struct ipc_view *v, void *buf, size_t cap)
{
    v->mapped = 0;
    if (m->w[1] && m->w[2] == IPC_DATA_MAPPABLE && m->w[0] <= cap) {
        long err = 0;
        void *p = grant_map_any(badge_pid(m->badge), m->w[1], 0, m->w[0], 0, &err);
        if (p) {
            v->data = p;
            v->len = m->w[0];
            v->mapped = p;
            return (long)v->len;
        }
    }
    long n = ipc_msg_data(m, buf, cap);
    v->data = buf;
    v->len = n < 0 ? 0 : (size_t)n;
    return n;
}

void ipc_view_end(struct ipc_view *v)
{
    if (v->mapped)
        grant_unmap_any(v->mapped);
    v->mapped = 0;
}
