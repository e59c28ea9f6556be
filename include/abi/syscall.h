/*
 * System calls and the register contract of the SYSCALL instruction,
 * the only way from user mode into the kernel. Every call is message
 * passing or a grant copy; everything else is a message to the kernel's own
 * endpoint (abi/kcall.h). The calls are listed in abi.toml; docs/abi.md
 * describes each.
 */
#ifndef ABI_SYSCALL_H
#define ABI_SYSCALL_H

#include "calls_gen.h" /* SYS_* numbers, ABI_REG_MR*: generated from abi.toml */

/*
 * Registers. In: RAX = call number. Out: RAX = status (>= 0 success,
 * -E_* failure). SYSCALL itself clobbers RCX and R11; RBP and RSP are
 * preserved; every other register is an input or an output of the call.
 *
 *   RDI  in: handle (send/call/recv/notify) or badge (reply)   out: sender's badge
 *   RSI  in: message info word (abi/ipc.h)                      out: received info word
 *   RDX  in: handle to transfer (IPC_INFO_CAP)                  out: received handle
 *   MR0..MR7: the 64-byte message, both ways (ABI_REG_MR0..7, abi.toml)
 */

#endif
