/*
 * Synchronous IPC and notifications: the slow path, which is the reference
 * semantics. The fast path in entry.S handles the common call/reply_recv
 * case identically (docs/abi.md lists when it applies).
 */
#ifndef IPC_H
#define IPC_H

#include <stdint.h>

#include "proc.h"

/* Returned by a sys_* function when the caller blocked: its result will be
 * written into its registers by whoever wakes it. */
#define SYS_BLOCKED (-0x7fffffffL)

/* The info word a notification arrives with: one word, MR0 (also written
 * by the fast paths in entry.S, through asm_offsets.h). */
#define IPC_NOTIFICATION_INFO (IPC_INFO_NOTIFY | 8)

/* The sys_ipc_* handlers are declared in calls_gen.h. */

/* OR bits into t's notification word; delivered at once if t waits in a
 * receive from any sender. */
void ipc_notify_thread(struct thread *t, uint64_t bits);

/* Unblock every thread waiting on t (they get -E_DEAD) and take t out of
 * the queue it waits in. Precondition: t is being destroyed. */
void ipc_thread_dying(struct thread *t);

/* Wake blocked threads whose timeout has passed (-E_TIMEDOUT). */
void ipc_timeouts(uint64_t now);

/* Block the current thread until `ticks` have passed (KC_SLEEP). */
long ipc_sleep(struct thread *cur, uint64_t ticks);

#endif
