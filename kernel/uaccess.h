/*
 * The kernel's only way to touch user memory: walk the process's page
 * tables and go through the physmap. Works for any process (loaded or not),
 * never faults, and leaves SMAP on: a kernel dereference of a user pointer
 * anywhere else is caught by the CPU.
 */
#ifndef UACCESS_H
#define UACCESS_H

#include <stdint.h>

#include "proc.h"

/* Copy len bytes from p's memory at uaddr. Returns 0 or -E_FAULT (some
 * byte not mapped, not user, or, for writes, not writable). */
int uaccess_read(struct proc *p, uint64_t uaddr, void *dst, uint64_t len);
int uaccess_write(struct proc *p, uint64_t uaddr, const void *src, uint64_t len);

#endif
