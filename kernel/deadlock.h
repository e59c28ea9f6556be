/*
 * Deadlock report: the CPU is idle and no thread can ever run again. See
 * deadlock.c.
 */
#ifndef DEADLOCK_H
#define DEADLOCK_H

/* Called by the scheduler each time it goes idle (no thread ready). */
void deadlock_check(void);

#endif
