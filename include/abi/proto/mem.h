/*
 * Memory server protocol. Pages come from the user pool the kernel handed
 * over at boot and are mapped into the caller's heap window (abi/layout.h).
 * Replies: w0 = status (>= 0 success, -E_* error).
 */
#ifndef ABI_PROTO_MEM_H
#define ABI_PROTO_MEM_H

/* clang-format off */
#define MEM_ALLOC  0x200 /* w1 = pages [, w2 = address] -> w1 = address (zeroed, RW, NX
                            pages). Allocations are apart by an unmapped guard page;
                            with w2 = the end of the caller's latest allocation they
                            extend it in place instead (-E_RANGE if w2 is anything else) */
#define MEM_FREE   0x201 /* w1 = address, w2 = pages (a whole earlier allocation) */
#define MEM_STATS  0x202 /* -> w1 = pool pages, w2 = free pages, w3 = caller's pages,
                            w4 = processes with pages, w5 = allocations served */
#define MEM_ALLOC_DMA 0x203 /* w1 = pages (<= MEM_MAX_DMA_PAGES) -> w1 = address, w2 = physical
                            address: physically contiguous, zeroed, RW, NX, pinned. Only for
                            processes with PRIV_DMA (-E_PERM: the kernel refuses KC_MAP_DMA).
                            Never freed while the caller lives (MEM_FREE: -E_PERM); after its
                            death only once the boot server says its devices are stopped
                            (BOOT_DIED w2 = 1, which may come later, again after a
                            BOOT_DIED w2 = 0 or after our restart); kept until then */
#define MEM_MAX_ALLOC_PAGES 4096 /* 16 MiB per request */
#define MEM_MAX_DMA_PAGES   512  /* 2 MiB per DMA request */
/* clang-format on */

#endif
