/*
 * Message layout: 64 bytes in eight registers (abi/syscall.h), an info word
 * with length, flags, label and timeout, and kernel-supplied badges that
 * name the sender. Handles index the caller's capability table.
 */
#ifndef ABI_IPC_H
#define ABI_IPC_H

#define IPC_MSG_WORDS 8
#define IPC_MSG_BYTES 64

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The payload as it travels in MR0..MR7. */
union ipc_payload {
    uint64_t w[IPC_MSG_WORDS];
    uint8_t b[IPC_MSG_BYTES];
};
_Static_assert(sizeof(union ipc_payload) == IPC_MSG_BYTES, "a message is 64 bytes: 8 registers");

/*
 * Info word (RSI):
 *   bits  0..6   length in bytes, 0..64 (registers past it are undefined)
 *   bit   8      IPC_INFO_NONBLOCK: fail with -E_AGAIN instead of blocking
 *   bit   9      IPC_INFO_CAP: a handle travels in RDX (sender) / arrives in RDX
 *   bit  10      IPC_INFO_NOTIFY (received only): a notification, MR0 = bits
 *   bit  11      IPC_INFO_ACCEPT (recv, reply_recv: the message; call: the reply):
 *                this thread accepts one capability; without it a message
 *                carrying one is refused to its sender with -E_NOACCEPT
 *   bits 16..31  label: free for the protocol (operation code, reply status)
 *   bits 32..63  timeout in timer ticks for the blocking phases, 0 = forever
 */
/* clang-format off */
#define IPC_INFO_LEN_MASK   0x7full
#define IPC_INFO_NONBLOCK   (1ull << 8)
#define IPC_INFO_CAP        (1ull << 9)
#define IPC_INFO_NOTIFY     (1ull << 10)
#define IPC_INFO_ACCEPT     (1ull << 11)
#define IPC_INFO_LABEL_SHIFT 16
#define IPC_INFO_LABEL_MASK (0xffffull << IPC_INFO_LABEL_SHIFT)
#define IPC_INFO_TIMEOUT_SHIFT 32

#define IPC_INFO_RESERVED   0xf080ull /* bits 7 and 12..15: must be 0 */
/* clang-format on */
#endif /* __ASSEMBLER__ */

/* Fast-path eligibility: no flag and no timeout (see docs/abi.md). */
#define IPC_INFO_SLOW_BITS 0xffffffff0000ff80

#ifndef __ASSEMBLER__
static inline uint64_t ipc_info(uint32_t len, uint32_t label)
{
    return (uint64_t)len | ((uint64_t)(label & 0xffff) << IPC_INFO_LABEL_SHIFT);
}

static inline uint32_t ipc_info_len(uint64_t info)
{
    return (uint32_t)(info & IPC_INFO_LEN_MASK);
}

static inline uint32_t ipc_info_label(uint64_t info)
{
    return (uint32_t)((info & IPC_INFO_LABEL_MASK) >> IPC_INFO_LABEL_SHIFT);
}

static inline uint64_t ipc_info_timeout(uint64_t ticks)
{
    return ticks << IPC_INFO_TIMEOUT_SHIFT;
}
#endif

/*
 * Handles: slots of the caller's capability table. Slot 0 is always the
 * kernel's endpoint, slot 1 the thread that started this process, slot 2
 * the name service (the boot server), inherited from parent to child so
 * every process reaches it. Handles received later start at slot 3.
 * A handle's value is its slot (low 6 bits) | the slot's generation above:
 * each capability installed in a slot gets a new generation, so a handle
 * kept after its capability was deleted or replaced never names the new
 * one (-E_BADHANDLE). Handles 0, 1 and 2 have generation 0.
 */
/* clang-format off */
#define CAP_SLOTS        64
#define CAP_SLOT_BITS    6
#define CAP_SLOT_MASK    0x3f /* CAP_SLOTS - 1, also used from assembly */
#define HANDLE_KERNEL    0
#define HANDLE_PARENT    1
#define HANDLE_NAMES     2
#define HANDLE_FIRST_FREE 3
#define IPC_ANY          0xffffffffffffffff /* recv: from any sender */
#define IPC_SELF         0xfffffffffffffffe /* cap transfer: "a handle to me" */

/* Rights of a capability. */
#define CAP_RIGHT_SEND   1            /* send, call, notify */
#define CAP_RIGHT_XFER   2            /* may be passed on in a message */
/* clang-format on */

/*
 * Badges: who sent a message, filled in by the kernel, never by the sender.
 * badge = pid << 32 | tid; 0 is the kernel itself (its replies, IRQ
 * notifications). Ids are slot | generation << 10, so a recycled slot
 * never matches an old id.
 */
/* clang-format off */
#define ID_SLOT_BITS     10
#define ID_SLOT_MASK     0x3ff /* (1 << ID_SLOT_BITS) - 1, also used from assembly */
#define BADGE_KERNEL     0
/* clang-format on */

#ifndef __ASSEMBLER__
_Static_assert(CAP_SLOTS == 1 << CAP_SLOT_BITS && CAP_SLOT_MASK == CAP_SLOTS - 1, "handle layout");

static inline uint32_t badge_pid(uint64_t badge)
{
    return (uint32_t)(badge >> 32);
}

static inline uint32_t badge_tid(uint64_t badge)
{
    return (uint32_t)badge;
}
#endif

#endif
