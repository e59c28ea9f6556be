/*
 * Kernel-endpoint wrappers (see ipc/kcall.h). Each packs its arguments into
 * message words in the order abi/kcall.h gives and unpacks the results.
 */
#include <common/string.h>
#include <ipc/kcall.h>

long kc_call(uint32_t op, struct ipc_msg *m)
{
    m->info = ipc_info(IPC_MSG_BYTES, op);
    m->cap = 0;
    return ipc_call(HANDLE_KERNEL, m);
}

/* Call op with up to 8 argument words. */
static long kc(uint32_t op, struct ipc_msg *m, int n, const uint64_t *args)
{
    *m = (struct ipc_msg){0};
    for (int i = 0; i < n; i++)
        m->w[i] = args[i];
    return kc_call(op, m);
}

#define KC(op, m, ...)                                                                             \
    kc((op), (m), sizeof((uint64_t[]){__VA_ARGS__}) / 8, (uint64_t[]){__VA_ARGS__})

long kc_log(const char *text, size_t len)
{
    struct ipc_msg m;
    return KC(KC_LOG, &m, (uint64_t)text, len);
}

void kc_exit(long status)
{
    struct ipc_msg m;
    KC(KC_EXIT, &m, (uint64_t)status);
    for (;;) /* not reached: the kernel ended the process */
        ;
}

long kc_self(uint32_t *pid, uint32_t *tid, uint32_t *privs, uint64_t *badge)
{
    struct ipc_msg m;
    long rc = KC(KC_SELF, &m, 0);
    if (pid)
        *pid = (uint32_t)m.w[0];
    if (tid)
        *tid = (uint32_t)m.w[1];
    if (privs)
        *privs = (uint32_t)m.w[2];
    if (badge)
        *badge = m.w[3];
    return rc;
}

long kc_time(uint64_t *ticks, uint64_t *hz, uint64_t *tsc_khz, uint64_t *boot_unix,
             uint64_t *boot_tsc)
{
    struct ipc_msg m;
    long rc = KC(KC_TIME, &m, 0);
    if (ticks)
        *ticks = m.w[0];
    if (hz)
        *hz = m.w[1];
    if (tsc_khz)
        *tsc_khz = m.w[2];
    if (boot_unix)
        *boot_unix = m.w[3];
    if (boot_tsc)
        *boot_tsc = m.w[4];
    return rc;
}

long kc_yield(void)
{
    struct ipc_msg m;
    return KC(KC_YIELD, &m, 0);
}

long kc_sleep(uint64_t ticks)
{
    struct ipc_msg m;
    return KC(KC_SLEEP, &m, ticks);
}

long kc_thread_create(uint64_t entry, uint64_t rdi, uint64_t rsi, uint32_t prio, uint32_t *tid)
{
    struct ipc_msg m;
    long rc = KC(KC_THREAD_CREATE, &m, entry, rdi, rsi, prio);
    if (tid)
        *tid = (uint32_t)m.w[0];
    return rc;
}

void kc_thread_exit(void)
{
    struct ipc_msg m;
    KC(KC_THREAD_EXIT, &m, 0);
    for (;;)
        ;
}

long kc_cap_delete(uint64_t handle)
{
    struct ipc_msg m;
    return KC(KC_CAP_DELETE, &m, handle);
}

long kc_cap_identify(uint64_t handle, uint64_t *badge)
{
    struct ipc_msg m;
    long rc = KC(KC_CAP_IDENTIFY, &m, handle);
    if (rc >= 0 && badge)
        *badge = m.w[0];
    return rc;
}

long kc_module_info(uint32_t index, struct kc_module_info *out)
{
    struct ipc_msg m;
    return KC(KC_MODULE_INFO, &m, index, (uint64_t)out);
}

long kc_spawn(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base, uint16_t io_count,
              uint32_t irq_mask, const char *name, uint32_t *pid)
{
    return kc_spawn_budget(module, privs, prio, io_base, io_count, irq_mask, name, 0, pid);
}

long kc_spawn_budget(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base,
                     uint16_t io_count, uint32_t irq_mask, const char *name,
                     const struct kc_budget *budget, uint32_t *pid)
{
    struct ipc_msg m;
    uint64_t words[3] = {0};
    strncpy_safe((char *)words, name ? name : "", sizeof(words));
    struct kc_budget b = budget ? *budget : (struct kc_budget){0};
    if (b.frames >= 1ull << 32 || b.threads > 0xffff || b.procs > 0xffff)
        return -E_RANGE;
    long rc =
        KC(KC_SPAWN, &m, module, privs | b.frames << 32, prio, io_base | (uint64_t)io_count << 16,
           irq_mask | (uint64_t)b.threads << 32 | (uint64_t)b.procs << 48, words[0], words[1],
           words[2]);
    if (rc >= 0 && pid)
        *pid = (uint32_t)m.w[0];
    return rc;
}

long kc_kill(uint32_t pid)
{
    struct ipc_msg m;
    return KC(KC_KILL, &m, pid);
}

long kc_wait_death(uint32_t *pid, uint32_t *reason, uint64_t *detail, uint64_t *badge)
{
    struct ipc_msg m;
    long rc = KC(KC_WAIT_DEATH, &m, 0);
    if (rc >= 0) {
        *pid = (uint32_t)m.w[0];
        *reason = (uint32_t)m.w[1];
        *detail = m.w[2];
        if (badge)
            *badge = m.w[3];
    }
    return rc;
}

long kc_proc_info(uint32_t slot, struct kc_proc_info *out)
{
    struct ipc_msg m;
    return KC(KC_PROC_INFO, &m, slot, (uint64_t)out);
}

long kc_map(uint32_t pid, uint64_t vaddr, uint64_t paddr, uint64_t pages, uint32_t flags)
{
    struct ipc_msg m;
    return KC(KC_MAP, &m, pid, vaddr, paddr, pages, flags);
}

long kc_unmap(uint32_t pid, uint64_t vaddr, uint64_t pages)
{
    struct ipc_msg m;
    return KC(KC_UNMAP, &m, pid, vaddr, pages);
}

long kc_meminfo(uint64_t *pool_base, uint64_t *pool_end, uint64_t *state_pages)
{
    struct ipc_msg m;
    long rc = KC(KC_MEMINFO, &m, 0);
    if (rc >= 0) {
        *pool_base = m.w[0];
        *pool_end = m.w[1];
        *state_pages = m.w[2];
    }
    return rc;
}

long kc_io_in(uint16_t port, int width, uint32_t *value)
{
    struct ipc_msg m;
    long rc = KC(KC_IO_IN, &m, port, (uint64_t)width);
    if (rc >= 0)
        *value = (uint32_t)m.w[0];
    return rc;
}

long kc_io_out(uint16_t port, int width, uint32_t value)
{
    struct ipc_msg m;
    return KC(KC_IO_OUT, &m, port, (uint64_t)width, value);
}

long kc_io_write(uint16_t data, uint16_t status, uint8_t mask, const void *buf, size_t len)
{
    struct ipc_msg m;
    return KC(KC_IO_WRITE, &m, data, status, mask, (uint64_t)buf, len);
}

long kc_irq_bind(int irq, int bit)
{
    struct ipc_msg m;
    return KC(KC_IRQ_BIND, &m, (uint64_t)irq, (uint64_t)bit);
}

long kc_irq_ack(int irq)
{
    struct ipc_msg m;
    return KC(KC_IRQ_ACK, &m, (uint64_t)irq);
}

long kc_dev_assign(uint32_t pid, uint64_t base, uint64_t size, uint32_t irq)
{
    struct ipc_msg m;
    return KC(KC_DEV_ASSIGN, &m, pid, base, size, irq);
}

long kc_mmio_map(uint64_t vaddr, uint64_t paddr, uint64_t pages)
{
    struct ipc_msg m;
    return KC(KC_MMIO_MAP, &m, vaddr, paddr, pages);
}

long kc_grant_table(void *table, uint64_t slots)
{
    struct ipc_msg m;
    return KC(KC_GRANT_TABLE, &m, (uint64_t)table, slots);
}

long kc_shutdown(int status)
{
    struct ipc_msg m;
    return KC(KC_SHUTDOWN, &m, (uint64_t)status);
}

long kc_args(char *buf, size_t size)
{
    struct ipc_msg m;
    return KC(KC_ARGS, &m, (uint64_t)buf, size);
}

long kc_stats(uint64_t out[7])
{
    struct ipc_msg m;
    long rc = KC(KC_STATS, &m, 0);
    for (int i = 0; i < 7; i++)
        out[i] = m.w[i];
    return rc;
}

long kc_module_find(const char *name)
{
    struct kc_module_info info;
    long rc;
    for (uint32_t i = 0; (rc = kc_module_info(i, &info)) == 0; i++)
        if (strcmp(info.name, name) == 0)
            return (long)i;
    return rc == -E_PERM ? rc : -E_NOENT;
}

int kc_process_running(const char *prefix)
{
    struct kc_proc_info p;
    size_t n = strlen(prefix);
    for (uint32_t slot = 0;; slot++) {
        long rc = kc_proc_info(slot, &p);
        if (rc == -E_RANGE)
            return 0;
        if (rc == 0 && strncmp(p.name, prefix, n) == 0)
            return 1;
    }
}
