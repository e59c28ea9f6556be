/*
 * System call numbers and the register contract of the SYSCALL instruction,
 * the only way from user mode into the kernel. Every call is message
 * passing or a grant copy; everything else is a message to the kernel's own
 * endpoint (abi/kcall.h). docs/abi.md describes each call.
 */
#ifndef ABI_SYSCALL_H
#define ABI_SYSCALL_H

/* clang-format off */
#define SYS_IPC_SEND         1 /* send a message; blocks until taken   */
#define SYS_IPC_RECV         2 /* receive from one sender or any       */
#define SYS_IPC_CALL         3 /* send, then wait for the reply        */
#define SYS_IPC_REPLY        4 /* answer a caller (never blocks)       */
#define SYS_IPC_REPLY_RECV   5 /* reply, then receive from any         */
#define SYS_IPC_NOTIFY       6 /* OR bits into a thread's notify word  */
#define SYS_GRANT_COPY_FROM  7 /* copy from a granter's memory         */
#define SYS_GRANT_COPY_TO    8 /* copy into a granter's memory         */
#define SYS_GRANT_MAP        9 /* map a granter's pages into our window */
#define SYS_GRANT_UNMAP     10 /* remove one of our grant mappings     */
#define SYS_GRANT_REVOKE    11 /* remove every mapping through our grant */
#define SYS_COUNT           12

/* Benchmark kernel only (GRANITE_BENCH); any other kernel answers
 * -E_NOSYS. The floor: how little a kernel entry and a thread switch can
 * cost on this machine, with no checks and no state saved. */
#define SYS_BENCH_NULL       100 /* return at once; RAX for the ud2 entry too
                                    (the int 0x80 entry ignores RAX) */
#define SYS_BENCH_FLOOR      101 /* RDI = thread slot: switch to it unchecked */

/*
 * Registers. In: RAX = call number. Out: RAX = status (>= 0 success,
 * -E_* failure). SYSCALL itself clobbers RCX and R11; RBP and RSP are
 * preserved; every other register is an input or an output of the call.
 *
 *   RDI  in: handle (send/call/recv/notify) or badge (reply)   out: sender's badge
 *   RSI  in: message info word (abi/ipc.h)                      out: received info word
 *   RDX  in: handle to transfer (IPC_INFO_CAP)                  out: received handle
 *   MR0..MR7: the 64-byte message, both ways
 */
#define ABI_REG_MR0 "r8"
#define ABI_REG_MR1 "r9"
#define ABI_REG_MR2 "r10"
#define ABI_REG_MR3 "r12"
#define ABI_REG_MR4 "r13"
#define ABI_REG_MR5 "r14"
#define ABI_REG_MR6 "r15"
#define ABI_REG_MR7 "rbx"
/* clang-format on */

#endif
