/*
 * Interrupts and user faults (see ktrap.h).
 */
#include "ktrap.h"

#include "arch/x86_64/pic.h"
#include "klog.h"

void ktrap_irq(int irq, struct trap_frame *f)
{
    (void)f;
    pic_eoi(irq);
}

void ktrap_user_fault(struct trap_frame *f)
{
    trap_dump(f, "user");
    panic("user-mode fault but no user process exists yet");
}
