/*
 * Host tests for the real-time clock decoder (kernel/arch/x86_64/rtc.c):
 * BCD and binary, 12- and 24-hour forms, the century register, invalid
 * readings, and every day from 1970 to 2099 against the host's timegm().
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "arch/x86_64/rtc.h"

#define BIN 0x04
#define H24 0x02

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)((v / 10) << 4 | (v % 10));
}

static uint64_t host_time(int y, int mon, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (uint64_t)timegm(&tm);
}

static void test_bcd_24h(void **state)
{
    (void)state;
    struct rtc_regs r = {0x56, 0x34, 0x12, 0x29, 0x02, 0x24, 0x20, H24};
    assert_int_equal(rtc_decode(&r), host_time(2024, 2, 29, 12, 34, 56));
    r.century = 0; /* no century register: years below 70 are 20xx */
    assert_int_equal(rtc_decode(&r), host_time(2024, 2, 29, 12, 34, 56));
}

static void test_binary(void **state)
{
    (void)state;
    struct rtc_regs r = {59, 59, 23, 31, 12, 99, 19, BIN | H24};
    assert_int_equal(rtc_decode(&r), host_time(1999, 12, 31, 23, 59, 59));
    r.century = 0; /* years 70..99 without a century are 19xx */
    assert_int_equal(rtc_decode(&r), host_time(1999, 12, 31, 23, 59, 59));
}

static void test_12_hour(void **state)
{
    (void)state;
    struct rtc_regs r = {0, 0, 0x12, 0x01, 0x06, 0x25, 0x20, 0}; /* 12 AM */
    assert_int_equal(rtc_decode(&r), host_time(2025, 6, 1, 0, 0, 0));
    r.hour = 0x80 | 0x12; /* 12 PM */
    assert_int_equal(rtc_decode(&r), host_time(2025, 6, 1, 12, 0, 0));
    r.hour = 0x80 | 0x01; /* 1 PM */
    assert_int_equal(rtc_decode(&r), host_time(2025, 6, 1, 13, 0, 0));
    r.hour = 0x11; /* 11 AM */
    assert_int_equal(rtc_decode(&r), host_time(2025, 6, 1, 11, 0, 0));
    r = (struct rtc_regs){0, 0, 0x80 | 11, 1, 6, 25, 20, BIN}; /* binary 11 PM */
    assert_int_equal(rtc_decode(&r), host_time(2025, 6, 1, 23, 0, 0));
}

static void test_invalid(void **state)
{
    (void)state;
    const struct rtc_regs bad[] = {
        {0x60, 0, 0, 1, 1, 0x25, 0x20, H24},              /* second 60 */
        {0, 0x60, 0, 1, 1, 0x25, 0x20, H24},              /* minute 60 */
        {0, 0, 0x24, 1, 1, 0x25, 0x20, H24},              /* hour 24 */
        {0, 0, 0, 0, 1, 0x25, 0x20, H24},                 /* day 0 */
        {0, 0, 0, 0x32, 1, 0x25, 0x20, H24},              /* day 32 */
        {0, 0, 0, 1, 0, 0x25, 0x20, H24},                 /* month 0 */
        {0, 0, 0, 1, 0x13, 0x25, 0x20, H24},              /* month 13 */
        {0, 0, 0, 0x30, 2, 0x25, 0x20, H24},              /* 30 February */
        {0, 0, 0, 1, 1, 0x69, 0x19, H24},                 /* 1969 */
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, /* no clock */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rtc_decode(&bad[i]), 0);
}

static void test_every_day(void **state)
{
    (void)state;
    for (uint64_t t = 0; t < host_time(2100, 1, 1, 0, 0, 0); t += 86400 + 3661) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        int year = tm.tm_year + 1900;
        struct rtc_regs r = {to_bcd((unsigned)tm.tm_sec),     to_bcd((unsigned)tm.tm_min),
                             to_bcd((unsigned)tm.tm_hour),    to_bcd((unsigned)tm.tm_mday),
                             to_bcd((unsigned)tm.tm_mon + 1), to_bcd((unsigned)year % 100),
                             to_bcd((unsigned)year / 100),    H24};
        assert_int_equal(rtc_decode(&r), t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_24h),   cmocka_unit_test(test_binary),
        cmocka_unit_test(test_12_hour),   cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_every_day),
    };
    return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
