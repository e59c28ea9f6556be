/*
 * The handler of VEC_IPI_PING, the one IPI vector in use so far: smp.c sends
 * it to each AP it started to prove fixed IPIs and EOI work. It counts the
 * IPI and ends it without touching a register (lock inc's flags come back
 * with IRETQ), so it needs no frame.
 */
#include "layout.h"

    .text
    .global smp_ipi_ping_entry
smp_ipi_ping_entry:
    lock incq smp_ipi_pings(%rip)
    movl $0, APIC_VA + 0xb0         /* EOI register */
    iretq
