/*
 * COM1 driver for the kernel's own log. Polled, no interrupts: the kernel
 * writes whole lines with interrupts off. After boot the console server owns
 * COM1 input; the kernel keeps writing its (rare) log lines here.
 */
#ifndef ARCH_SERIAL_H
#define ARCH_SERIAL_H

#define COM1_BASE 0x3f8

void serial_init(void);
void serial_putc(char c);

#endif
