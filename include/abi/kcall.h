/*
 * The kernel's own endpoint (handle HANDLE_KERNEL): privileged and
 * housekeeping operations are ordinary SYS_IPC_CALLs to it. The operation is
 * the message label; arguments and results are message words; the status
 * comes back in RAX. Each operation names the privilege it needs; a process
 * gets its privilege set at start-up and can never widen it.
 */
#ifndef ABI_KCALL_H
#define ABI_KCALL_H

#include <stdint.h>

/* Privileges (a process's set is fixed when it is spawned). */
/* clang-format off */
#define PRIV_LOG       (1u << 0) /* write to the kernel log */
#define PRIV_SPAWN     (1u << 1) /* start and kill processes, learn of deaths */
#define PRIV_MAP       (1u << 2) /* map user-pool memory into any process */
#define PRIV_IO        (1u << 3) /* I/O ports inside the process's port range */
#define PRIV_IRQ       (1u << 4) /* bind interrupts inside the process's IRQ mask */
#define PRIV_SHUTDOWN  (1u << 5) /* power the machine off */
#define PRIV_BUS       (1u << 6) /* hand device windows and interrupt lines to drivers */
#define PRIV_MMIO      (1u << 7) /* map device memory handed to the process, uncached */
#define PRIV_DMA       (1u << 8) /* have DMA memory mapped (KC_MAP_DMA): pinned pages
                                    whose physical addresses the process learns */
#define PRIV_ALL       0x1ffu

/*
 * Operations. In/out words are w[0..7] of the message. "buf" arguments are
 * addresses in the caller's own memory, checked by the kernel page by page.
 */
#define KC_LOG            1  /* PRIV_LOG      w0 = buf, w1 = length (<= 1024): one atomic write */
#define KC_EXIT           2  /* -             w0 = exit status; never returns */
#define KC_SELF           3  /* -             -> w0 = pid, w1 = tid, w2 = privileges, w3 = badge */
#define KC_TIME           4  /* -             -> w0 = ticks, w1 = ticks/s, w2 = TSC kHz,
                                              w3 = Unix time (s) from the real-time clock at
                                              boot (0: none), w4 = the TSC at that moment */
#define KC_YIELD          5  /* -             give up the rest of the time slice */
#define KC_SLEEP          6  /* -             w0 = ticks */
#define KC_THREAD_CREATE  7  /* -             w0 = entry, w1 = RDI, w2 = RSI, w3 = priority
                                              (0: the caller's) -> status = handle, w0 = tid */
#define KC_THREAD_EXIT    8  /* -             ends the calling thread */
#define KC_CAP_DELETE     9  /* -             w0 = handle */
#define KC_CAP_IDENTIFY  10  /* -             w0 = handle -> w0 = badge of its thread */
#define KC_MODULE_INFO   11  /* PRIV_SPAWN    w0 = index, w1 = buf (struct kc_module_info) */
#define KC_SPAWN         12  /* PRIV_SPAWN    w0 = module index, w1 = privileges
                                              | kernel-frame budget << 32, w2 = priority
                                              (0: 8, or the caller's if lower),
                                              w3 = I/O base | count << 16, w4 = IRQ mask
                                              | thread budget << 32 | process budget << 48,
                                              w5..w7 = name (24 bytes); a budget of 0 is
                                              the default below, carved out of the caller's
                                              -> status = handle to the main thread, w0 = pid */
#define KC_KILL          13  /* PRIV_SPAWN    w0 = pid (never the first process: -E_PERM) */
#define KC_WAIT_DEATH    14  /* PRIV_SPAWN    -> w0 = pid, w1 = reason, w2 = detail, w3 = badge;
                                              -E_AGAIN when none is pending. A process hears
                                              of the deaths of those it started (orphans
                                              pass up); the first process hears of all. */
#define KC_PROC_INFO     15  /* -             w0 = slot, w1 = buf (struct kc_proc_info) */
#define KC_MAP           16  /* PRIV_MAP      w0 = pid, w1 = vaddr, w2 = paddr, w3 = pages, w4 = flags */
#define KC_UNMAP         17  /* PRIV_MAP      w0 = pid, w1 = vaddr, w2 = pages -> status = unmapped */
#define KC_MEMINFO       18  /* PRIV_MAP      -> w0 = pool base, w1 = pool end, w2 = state pages */
#define KC_IO_IN         19  /* PRIV_IO       w0 = port, w1 = width (1, 2, 4) -> w0 = value */
#define KC_IO_OUT        20  /* PRIV_IO       w0 = port, w1 = width, w2 = value */
#define KC_IO_WRITE      21  /* PRIV_IO       w0 = data port, w1 = status port, w2 = ready mask,
                                              w3 = buf, w4 = length (<= 4096): for each byte wait
                                              until (in(status) & mask), then out(data) */
#define KC_IRQ_BIND      22  /* PRIV_IRQ      w0 = irq, w1 = notification bit */
#define KC_IRQ_ACK       23  /* PRIV_IRQ      w0 = irq: unmask it again */
#define KC_GRANT_TABLE   24  /* -             w0 = table address, w1 = slots (0 = none) */
#define KC_SHUTDOWN      25  /* PRIV_SHUTDOWN w0 = 0 success, else failure */
#define KC_ARGS          26  /* -             w0 = buf, w1 = size: the arguments on our
                                              module's grub.cfg line (at most KC_ARGS_MAX - 1
                                              bytes, NUL-terminated) -> status = length */
#define KC_STATS         27  /* -             -> w0 = fast-path calls, w1 = fast-path
                                              reply_recvs, w2 = slow-path syscalls,
                                              w3 = address-space switches, w4 = free kernel
                                              frames, w5 = processes, w6 = threads */
#define KC_DEV_ASSIGN    28  /* PRIV_BUS      w0 = pid, w1 = physical base, w2 = bytes (both
                                              page-aligned; 0 = no window), w3 = IRQ line
                                              (KC_DEV_NO_IRQ = none): the process may map that
                                              device window and bind that line from now on */
#define KC_MMIO_MAP      29  /* PRIV_MMIO     w0 = vaddr (device window of the address space),
                                              w1 = paddr, w2 = pages: uncached, inside one
                                              window assigned to the caller */
#define KC_COUNT         30

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

#define KC_NAME_MAX 24
#define KC_ARGS_MAX 2048 /* a module line's arguments, with the NUL */

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
