/*
 * The CMOS real-time clock (ports 0x70/0x71): read at boot, decoded from
 * BCD or binary and 12- or 24-hour form as status register B says, and
 * turned into Unix time. rtc_decode() is pure so host tests can check it.
 */
#include "rtc.h"

#include "cpu.h"

#define CMOS_INDEX   0x70
#define CMOS_DATA    0x71
#define NMI_DISABLE  0x80
#define REG_A_UIP    0x80 /* status A: an update is in progress */
#define REG_B_BINARY 0x04
#define REG_B_24H    0x02
#define HOUR_PM      0x80 /* in 12-hour mode */

static uint8_t bcd(uint8_t v, int binary)
{
    return binary ? v : (uint8_t)((v >> 4) * 10 + (v & 0x0f));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), for any y >= 1970. */
static uint64_t days_from_civil(uint64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    uint64_t era = y / 400, yoe = y - era * 400;
    uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

uint64_t rtc_decode(const struct rtc_regs *r)
{
    int binary = r->status_b & REG_B_BINARY;
    unsigned sec = bcd(r->sec, binary), min = bcd(r->min, binary);
    unsigned hour = bcd(r->hour & (uint8_t)~HOUR_PM, binary);
    unsigned day = bcd(r->day, binary), month = bcd(r->month, binary);
    unsigned year = bcd(r->year, binary), century = r->century ? bcd(r->century, binary) : 0;
    if (!(r->status_b & REG_B_24H)) { /* 12 AM is 0:xx, 12 PM is 12:xx */
        hour %= 12;
        if (r->hour & HOUR_PM)
            hour += 12;
    }
    uint64_t full_year = century >= 19 && century <= 99 ? century * 100 + year
                         : year < 70                    ? 2000 + year
                                                        : 1900 + year;
    static const uint8_t mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (sec > 59 || min > 59 || hour > 23 || month < 1 || month > 12 || day < 1 ||
        day > mdays[month - 1] || year > 99 || full_year < 1970)
        return 0;
    return days_from_civil(full_year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
}

static uint8_t cmos(uint8_t reg)
{
    outb(CMOS_INDEX, NMI_DISABLE | reg);
    return inb(CMOS_DATA);
}

static void read_regs(struct rtc_regs *r)
{
    for (int spin = 0; (cmos(0x0a) & REG_A_UIP) && spin < 1000000; spin++)
        ;
    *r = (struct rtc_regs){cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07),
                           cmos(0x08), cmos(0x09), cmos(0x32), cmos(0x0b)};
}

uint64_t rtc_read_unix(void)
{
    /* An update may still slip in between two registers: read until two
     * reads agree (the clock ticks once a second, so this ends at once). */
    struct rtc_regs a, b;
    read_regs(&a);
    for (int tries = 0; tries < 5; tries++) {
        read_regs(&b);
        if (a.sec == b.sec && a.min == b.min && a.hour == b.hour && a.day == b.day &&
            a.month == b.month && a.year == b.year && a.century == b.century)
            break;
        a = b;
    }
    return rtc_decode(&b);
}
