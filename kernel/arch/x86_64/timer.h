/*
 * Timer hardware: the periodic scheduler tick and TSC calibration.
 */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100

void timer_init(unsigned hz);
uint64_t timer_tsc_khz(void);

#endif
