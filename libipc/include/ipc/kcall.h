/*
 * Wrappers for the kernel endpoint's operations (abi/kcall.h): each is one
 * SYS_IPC_CALL to HANDLE_KERNEL with the operation as the label.
 */
#ifndef IPC_KCALL_H
#define IPC_KCALL_H

#include <ipc/ipc.h>

/* Call operation op with the words already in m; returns the status. */
long kc_call(uint32_t op, struct ipc_msg *m);

long kc_log(const char *text, size_t len);
__attribute__((noreturn)) void kc_exit(long status);
long kc_self(uint32_t *pid, uint32_t *tid, uint32_t *privs, uint64_t *badge);
/* Any pointer may be 0. Wall-clock now = boot_unix + (TSC - boot_tsc) / tsc_khz ms. */
long kc_time(uint64_t *ticks, uint64_t *hz, uint64_t *tsc_khz, uint64_t *boot_unix,
             uint64_t *boot_tsc);
long kc_yield(void);
long kc_sleep(uint64_t ticks);
long kc_thread_create(uint64_t entry, uint64_t rdi, uint64_t rsi, uint32_t prio, uint32_t *tid);
__attribute__((noreturn)) void kc_thread_exit(void);
long kc_cap_delete(uint64_t handle);
long kc_cap_identify(uint64_t handle, uint64_t *badge);
long kc_module_info(uint32_t index, struct kc_module_info *out);
long kc_spawn(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base, uint16_t io_count,
              uint32_t irq_mask, const char *name, uint32_t *pid);

/* What a child may hold, carved out of our own budget while it lives; a
 * field of 0 means the default (KC_SPAWN_FRAMES, _THREADS, _PROCS). */
struct kc_budget {
    uint64_t frames;  /* kernel frames */
    uint32_t threads; /* threads, its main thread included (< 65536) */
    uint32_t procs;   /* processes: itself and those it may start (< 65536) */
};

/* kc_spawn with a budget (0: the defaults). */
long kc_spawn_budget(uint32_t module, uint32_t privs, uint32_t prio, uint16_t io_base,
                     uint16_t io_count, uint32_t irq_mask, const char *name,
                     const struct kc_budget *budget, uint32_t *pid);
long kc_kill(uint32_t pid);
long kc_wait_death(uint32_t *pid, uint32_t *reason, uint64_t *detail, uint64_t *badge);
long kc_proc_info(uint32_t slot, struct kc_proc_info *out);
long kc_map(uint32_t pid, uint64_t vaddr, uint64_t paddr, uint64_t pages, uint32_t flags);
long kc_unmap(uint32_t pid, uint64_t vaddr, uint64_t pages);
long kc_meminfo(uint64_t *pool_base, uint64_t *pool_end, uint64_t *state_pages);
long kc_io_in(uint16_t port, int width, uint32_t *value);
long kc_io_out(uint16_t port, int width, uint32_t value);
long kc_io_write(uint16_t data, uint16_t status, uint8_t mask, const void *buf, size_t len);
long kc_irq_bind(int irq, int bit);
long kc_irq_ack(int irq);
/* Drivers (docs/storage.md): the bus server hands pid a device window
 * [base, base + size) and an IRQ line (KC_DEV_NO_IRQ: none); the driver
 * maps pages of its windows uncached at vaddr in USER_DEVICE_MIN.. */
long kc_dev_assign(uint32_t pid, uint64_t base, uint64_t size, uint32_t irq);
long kc_mmio_map(uint64_t vaddr, uint64_t paddr, uint64_t pages);
long kc_grant_table(void *table, uint64_t slots);
long kc_shutdown(int status);
long kc_args(char *buf, size_t size);

/* Index of the boot module called name (needs PRIV_SPAWN), or -E_NOENT. */
long kc_module_find(const char *name);

/* Whether a process whose name starts with prefix is alive. */
int kc_process_running(const char *prefix);
long kc_stats(uint64_t out[7]); /* see KC_STATS in abi/kcall.h */

#endif
