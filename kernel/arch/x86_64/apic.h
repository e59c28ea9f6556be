/*
 * The local APIC, in xAPIC mode (memory-mapped registers): enabling it on
 * each CPU, its ID, inter-processor interrupts, the APs' timer and end of
 * interrupt. The BSP's timer and device interrupts still come through the
 * 8259 PICs.
 */
#ifndef ARCH_APIC_H
#define ARCH_APIC_H

#include <stdint.h>

/* Map the local APIC registers (physical base from IA32_APIC_BASE; the
 * MADT's address is only compared with it) and enable this CPU's. Returns 0,
 * or -E_NOENT when there is no APIC or it is in x2APIC mode, which this
 * driver does not speak. */
int apic_init(uint64_t madt_addr);

/* Enable the local APIC of the calling CPU (an AP; apic_init ran before). */
void apic_enable_this_cpu(void);

/* The calling CPU's local APIC ID. */
uint32_t apic_id(void);

/* Send an IPI and wait until the local APIC has accepted it. Each returns 0,
 * or -E_TIMEDOUT if the APIC still says "send pending" after a bound. */
int apic_send_init(uint32_t dest);
int apic_send_sipi(uint32_t dest, uint8_t page); /* start at page << 12, real mode */
int apic_send_fixed(uint32_t dest, uint8_t vector);

/* End of interrupt, for interrupts the local APIC delivered (not the PIC's
 * ExtINT ones, which the PIC's own EOI ends). */
void apic_eoi(void);

/* Calibrate this CPU's local APIC timer against the TSC and start it,
 * periodic at hz, on VEC_APIC_TIMER (an AP's time slices). */
void apic_timer_start(unsigned hz, uint64_t tsc_khz);

#endif
