/*
 * Multiprocessor start-up: find the CPUs in the ACPI MADT and start the
 * application processors, which then run the threads whose home CPU they
 * are (docs/architecture.md, "SMP: the design").
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#include <stdint.h>

/* The vector of the IPI smp_init sends each AP once it is online. */
#define VEC_IPI_PING 0xf0

/* CPUs online (1 until smp_init has started others); fixed once smp_go. */
extern uint32_t smp_cpus_online;

/* Set by the BSP when it starts scheduling: the APs may take the kernel
 * lock and run their threads. */
extern uint32_t smp_go;

/* Discover the CPUs and start every AP the MADT lists (at most MAX_CPUS in
 * all), waiting a bounded time for each. Needs tsc_khz. A CPU that does not
 * come up is reported and left out; the system goes on without it. */
void smp_init(void);

#endif
