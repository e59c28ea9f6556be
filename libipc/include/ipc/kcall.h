/*
 * Wrappers for the kernel endpoint's operations (abi/kcall.h): each is one
 * SYS_IPC_CALL to HANDLE_KERNEL with the operation as the label.
 */
#ifndef IPC_KCALL_H
#define IPC_KCALL_H

#include <ipc/ipc.h>

/* Call operation op with the words already in m; returns the status. */
long kc_call(uint32_t op, struct ipc_msg *m);

/* kc_log(), kc_spawn(), ...: one wrapper per operation, generated from abi.toml. */
#include <ipc/kcalls_gen.h>

/* What a child may hold, carved out of our own budget while it lives; a
 * field of 0 means the default (KC_SPAWN_FRAMES, _THREADS, _PROCS). */
struct kc_budget {
    uint64_t frames;  /* kernel frames */
    uint32_t threads; /* threads, its main thread included (< 65536) */
    uint32_t procs;   /* processes: itself and those it may start (< 65536) */
};

/* kc_spawn with a budget (0: the defaults); -E_RANGE if a field does not fit. */
long kc_spawn_budget(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base,
                     uint16_t io_count, uint32_t irq_mask, const char *name,
                     const struct kc_budget *budget, uint32_t *pid);
/* kc_spawn_argv with a budget (0: the defaults): the child's main thread
 * starts with RDI = a copy of the len-byte block `args` on its stack, RSI =
 * len (KC_SPAWN_ARGV); -E_RANGE if a field does not fit. */
long kc_spawn_argv_budget(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base,
                          uint16_t io_count, uint32_t irq_mask, const struct kc_budget *budget,
                          const void *args, size_t len, uint32_t *pid);
/* Index of the boot module called name (needs PRIV_SPAWN), or -E_NOENT. */
long kc_module_find(const char *name);

/* Whether a process whose name starts with prefix is alive. */
int kc_process_running(const char *prefix);

#endif
