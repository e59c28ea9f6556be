/*
 * The kernel's own endpoint (handle HANDLE_KERNEL): privileged and
 * housekeeping operations are ordinary SYS_IPC_CALLs to it. The operation is
 * the message label; arguments and results are message words; the status
 * comes back in RAX. Each operation names the privilege it needs; a process
 * gets its privilege set at start-up and can never widen it. The operations,
 * their words and errors are described once, in abi.toml.
 */
#ifndef ABI_KCALL_H
#define ABI_KCALL_H

#include <stdint.h>

#include "calls_gen.h" /* PRIV_* and KC_* numbers: generated from abi.toml */

/* clang-format off */
/* KC_SPAWN: the budget a child gets when the caller names none (docs/security.md). */
#define KC_SPAWN_FRAMES  512 /* kernel frames: 2 MiB of page tables, image and stacks */
#define KC_SPAWN_THREADS 8   /* threads, its main thread included */
#define KC_SPAWN_PROCS   1   /* processes: itself only, so it cannot start any */

/* KC_MAP flags */
#define KC_MAP_WRITE     (1u << 0)
#define KC_MAP_EXEC      (1u << 1)
#define KC_MAP_ZERO      (1u << 2) /* zero the frames first (they may hold a dead process's data) */
#define KC_MAP_DMA       (1u << 3) /* DMA memory: the target must hold PRIV_DMA */

/* KC_DEV_ASSIGN */
#define KC_DEV_NO_IRQ    0xff
#define KC_DEV_WINDOWS   8  /* device windows per process */

/* KC_WAIT_DEATH reasons */
#define DEATH_EXIT       1 /* detail = exit status */
#define DEATH_FAULT      2 /* detail = exception vector */
#define DEATH_KILLED     3 /* detail = pid of the killer */

/* The death notification: bit set in the reaper's notification word. */
#define NOTIFY_BIT_DEATH (1ull << 63)
/* clang-format on */

#define KC_NAME_MAX       24
#define KC_ARGS_MAX       2048 /* a module line's arguments, with the NUL */
/* KC_SPAWN_ARGV: the largest argument block (libc/start.c reads it as
 * NUL-terminated words, argv[1] onwards). */
#define KC_SPAWN_ARGV_MAX 2048

struct kc_module_info {
    uint64_t size;
    char name[32];
    char args[128];
};

struct kc_proc_info {
    uint32_t pid;
    uint32_t parent_pid;
    uint32_t threads;
    uint32_t privileges;
    uint64_t kernel_pages; /* kernel frames it holds: image, stacks and page tables */
    uint64_t mapped_pages; /* user-pool pages mapped in by the memory server */
    char name[KC_NAME_MAX];
    char state[16];        /* of its newest thread: "running", "ready", "sending", "receiving",
                              "awaiting reply", "sleeping" */
    uint64_t kernel_limit; /* its kernel-frame budget, its children's included */
    uint64_t kernel_lent;  /* of that, carved out for its living children */
    uint32_t thread_limit; /* thread budget, its children's included */
    uint32_t proc_limit;   /* process budget: itself and the processes it may start */
    uint32_t handles;      /* capability slots in use */
    uint32_t reserved;
};

#endif
