/*
 * Multiprocessor start-up: find the CPUs in the ACPI MADT and start the
 * application processors, which so far only come online and idle; all
 * threads still run on the bootstrap CPU.
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include <stdint.h>

/* The vector of the IPI smp_init sends each AP once it is online. */
#define VEC_IPI_PING 0xf0

/* CPUs online (1 until smp_init has started others). */
extern uint32_t smp_cpus_online;

/* Discover the CPUs and start every AP the MADT lists (at most MAX_CPUS in
 * all), waiting a bounded time for each. Needs tsc_khz. A CPU that does not
 * come up is reported and left out; the system goes on without it. */
void smp_init(void);

#endif
