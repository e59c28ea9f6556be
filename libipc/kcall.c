/*
 * The kernel-endpoint call every wrapper makes (the wrappers themselves are
 * generated: kcalls_gen.c), and helpers built on the wrappers.
 */
#include <common/string.h>
#include <ipc/kcall.h>

long kc_call(uint32_t op, struct ipc_msg *m)
{
    m->info = ipc_info(IPC_MSG_BYTES, op);
    m->cap = 0;
    return ipc_call(HANDLE_KERNEL, m);
}

long kc_spawn_budget(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base,
                     uint16_t io_count, uint32_t irq_mask, const char *name,
                     const struct kc_budget *budget, uint32_t *pid)
{
    struct kc_budget b = budget ? *budget : (struct kc_budget){0};
    return kc_spawn(module, privs, prio, io_base, io_count, irq_mask, name, b.frames, b.threads,
                    b.procs, pid);
}

long kc_spawn_argv_budget(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base,
                          uint16_t io_count, uint32_t irq_mask, const struct kc_budget *budget,
                          const void *args, size_t len, uint32_t *pid)
{
    struct kc_budget b = budget ? *budget : (struct kc_budget){0};
    return kc_spawn_argv(module, privs, prio, io_base, io_count, irq_mask, args, len, b.frames,
                         b.threads, b.procs, pid);
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
