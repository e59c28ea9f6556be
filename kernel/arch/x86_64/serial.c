/*
 * COM1 at 115200 8N1, polled transmit (see serial.h). The transmit wait is
 * bounded so a missing UART slows the log instead of hanging the kernel.
 */
#include "serial.h"

#include "cpu.h"

void serial_init(void)
{
    outb(COM1_BASE + 1, 0x00); /* no interrupts */
    outb(COM1_BASE + 3, 0x80); /* DLAB on */
    outb(COM1_BASE + 0, 0x01); /* divisor 1: 115200 baud */
    outb(COM1_BASE + 1, 0x00);
    outb(COM1_BASE + 3, 0x03); /* 8N1, DLAB off */
    /* FIFO on, 14-byte threshold, without the clear bits: bytes typed
     * before the kernel started stay there for the console server. */
    outb(COM1_BASE + 2, 0xc1);
    outb(COM1_BASE + 4, 0x0b); /* DTR, RTS, OUT2 (OUT2 gates the IRQ line) */
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    for (int i = 0; i < 100000 && !(inb(COM1_BASE + 5) & 0x20); i++)
        ;
    outb(COM1_BASE, (uint8_t)c);
}
