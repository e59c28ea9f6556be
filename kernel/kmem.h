/*
 * The kernel's physical memory: builds the frame allocator from the boot
 * memory map (kernel image, modules and the boot information excluded) and
 * hands out frames for page tables, kernel stacks and kernel objects.
 */
#ifndef KMEM_H
#define KMEM_H

#include <stdint.h>

#include "frame.h"
#include "mb2.h"
#include "quota.h"

/* Precondition: mb parsed, info block at [info_pa, info_pa + info_size). */
void kmem_init(const struct mb2_info *mb, uint64_t info_pa, uint64_t info_size);

/* Call once the physmap is live: the allocator's bitmap moves there. */
void kmem_after_vm(void);

uint64_t kmem_frame_alloc(void); /* FRAME_NONE when exhausted */
void kmem_frame_free(uint64_t pa);

/* The one way a frame is taken for a process: charged to its budget q
 * (0: the kernel's own, at boot only). FRAME_NONE when q's budget or the
 * allocator is exhausted; nothing is charged then. */
uint64_t kmem_frame_alloc_for(struct quota *q);

/* Free a frame taken with kmem_frame_alloc_for(q) and uncharge it. */
void kmem_frame_free_for(struct quota *q, uint64_t pa);

/* Whether [base, base + size) may be a device's memory: it overlaps no
 * entry of the boot memory map (RAM, ACPI tables, firmware), not the low
 * MiB and not the interrupt controllers' and HPET's page range. */
int kmem_is_device_range(uint64_t base, uint64_t size);

/* End of the highest RAM address the map reports (for the physmap). */
extern uint64_t kmem_phys_max;
extern struct frame_alloc kmem_frames;

/* The user pool: physical memory the kernel never allocates from; the
 * memory server owns it (KC_MEMINFO, KC_MAP). Its first kmem_pool_state
 * pages hold the memory server's books, so they survive its restart. */
extern uint64_t kmem_pool_base, kmem_pool_end, kmem_pool_state;

#endif
