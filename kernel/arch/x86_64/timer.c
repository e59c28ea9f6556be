/*
 * The PIT: channel 0 drives the scheduler tick on IRQ 0; channel 2 measures
 * the TSC frequency once at boot (for figures in microseconds).
 */
#include "timer.h"

#include "cpu.h"
#include "pic.h"

#define PIT_HZ 1193182u

void timer_init(unsigned hz)
{
    uint16_t divisor = (uint16_t)(PIT_HZ / hz);
    outb(0x43, 0x34); /* channel 0, lo/hi byte, mode 2 (rate generator) */
    outb(0x40, (uint8_t)divisor);
    outb(0x40, (uint8_t)(divisor >> 8));
    pic_unmask(0);
}

/* TSC ticks during one 50 ms countdown of PIT channel 2, in kHz. */
static uint64_t measure_once(void)
{
    const uint32_t latch = PIT_HZ / 20;
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(0x43, 0xb0);                                  /* channel 2, mode 0 */
    outb(0x42, (uint8_t)latch);
    outb(0x42, (uint8_t)(latch >> 8));
    uint64_t t0 = rdtsc_fenced();
    for (uint64_t spin = 0; !(inb(0x61) & 0x20); spin++)
        if (spin > 100000000ull)
            return 0; /* no PIT: give up rather than hang */
    uint64_t t1 = rdtsc_fenced();
    return (t1 - t0) * PIT_HZ / latch / 1000;
}

uint64_t timer_tsc_khz(void)
{
    uint64_t r[3];
    for (int i = 0; i < 3; i++)
        r[i] = measure_once();
    /* median of three */
    if (r[0] > r[1]) {
        uint64_t t = r[0];
        r[0] = r[1];
        r[1] = t;
    }
    if (r[1] > r[2]) {
        uint64_t t = r[1];
        r[1] = r[2];
        r[2] = t;
    }
    if (r[0] > r[1]) {
        uint64_t t = r[0];
        r[0] = r[1];
        r[1] = t;
    }
    return r[1];
}
