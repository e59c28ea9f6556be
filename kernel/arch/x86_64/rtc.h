/*
 * The CMOS real-time clock: read once at boot for the wall-clock date that
 * KC_TIME reports (the TSC carries it forward from there).
 */
#ifndef ARCH_RTC_H
#define ARCH_RTC_H

#include <stdint.h>

/* The clock's registers as read (still in the clock's own encoding). */
struct rtc_regs {
    uint8_t sec, min, hour, day, month, year, century; /* century: 0 if absent */
    uint8_t status_b;                                  /* bit 2: binary, bit 1: 24-hour */
};

/* Seconds since 1970-01-01 00:00 UTC from raw registers (the clock is taken
 * to run in UTC, as QEMU's does); 0 if they do not form a valid date. */
uint64_t rtc_decode(const struct rtc_regs *r);

/* Read the clock (waiting out an update in progress); Unix time or 0. */
uint64_t rtc_read_unix(void);

#endif
