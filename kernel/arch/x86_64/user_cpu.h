/*
 * CPU state user mode can see that is not saved per thread (see
 * user_cpu.c): UMIP, FSGSBASE, FS/GS bases, debug registers.
 */
#ifndef ARCH_USER_CPU_H
#define ARCH_USER_CPU_H

/* Once at boot, before the first process. */
void user_cpu_init(void);

/* 1 if the state user_cpu_init set up still holds, else 0 with *why set
 * (for the in-kernel self-test). */
int user_cpu_check(const char **why);

#endif
