/*
 * 8259 PIC pair (see pic.h). Lines are masked individually; IRQ 2 (the
 * cascade) is unmasked whenever a slave line is.
 */
#include "pic.h"

#include "cpu.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

static uint16_t mask = 0xffff;

static void pic_write_mask(void)
{
    outb(PIC1_DATA, (uint8_t)mask);
    outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

void pic_init(void)
{
    outb(PIC1_CMD, 0x11); /* ICW1: init, expect ICW4 */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 32); /* ICW2: vector base */
    outb(PIC2_DATA, 40);
    outb(PIC1_DATA, 4); /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 1); /* ICW4: 8086 mode */
    outb(PIC2_DATA, 1);
    mask = 0xffff;
    pic_write_mask();
}

void pic_mask(int irq)
{
    mask |= (uint16_t)(1u << irq);
    if ((mask & 0xff00) == 0xff00)
        mask |= 1u << 2;
    pic_write_mask();
}

void pic_unmask(int irq)
{
    mask &= (uint16_t) ~(1u << irq);
    if (irq >= 8)
        mask &= (uint16_t) ~(1u << 2);
    pic_write_mask();
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}
