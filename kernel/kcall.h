/*
 * The kernel's own endpoint (abi/kcall.h): privileged and housekeeping
 * operations, reached by SYS_IPC_CALL on HANDLE_KERNEL.
 */
#ifndef KCALL_H
#define KCALL_H

#include "proc.h"

/* Run the operation in cur's message; returns the status for RAX (or
 * SYS_BLOCKED when the caller blocked or no longer exists). */
long kcall_dispatch(struct thread *cur);

/* For KC_TIME: the TSC frequency measured at boot (kHz), and the real-time
 * clock's reading at boot (Unix time, 0 if unreadable) with the TSC then. */
extern uint64_t tsc_khz, boot_unix_time, boot_tsc;

#endif
