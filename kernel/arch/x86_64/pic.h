/*
 * The two 8259 PICs: remapped to vectors 32..47 (the BIOS leaves them on top
 * of the CPU exceptions) and fully masked until a line is bound.
 */
#ifndef ARCH_PIC_H
#define ARCH_PIC_H

void pic_init(void);
void pic_mask(int irq);
void pic_unmask(int irq);
void pic_eoi(int irq);

#endif
