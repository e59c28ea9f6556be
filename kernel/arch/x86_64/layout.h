/*
 * The kernel's virtual memory layout (x86_64, 4-level paging). Shared by C
 * and assembly. docs/architecture.md explains each choice; the user half is
 * in include/abi/layout.h.
 */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H

/* Kernel image: linked at -2 GiB so -mcmodel=kernel code can use 32-bit
 * sign-extended addresses; loaded by GRUB at 1 MiB physical. */
#define KERNEL_VBASE 0xffffffff80000000
#define KERNEL_PBASE 0x100000

/* All physical memory, mapped once (RW, NX) at the start of the kernel half:
 * the kernel reaches page tables, frames and user pages through it. */
#define PHYSMAP_BASE 0xffff800000000000
#define PHYSMAP_MAX  (1ull << 39) /* one PML4 slot: 512 GiB */

/* Kernel stacks, each with an unmapped guard page below it, in the last
 * GiB of the address space (PML4 511, PDPT 511). */
#define KSTACK_REGION 0xffffffffc0000000
#define KSTACK_PAGES  4 /* 16 KiB per stack */
#define KSTACK_SLOT   ((KSTACK_PAGES + 1) * 4096)

/* Kernel device registers, uncached: the local APIC's page. Just below the
 * kernel stacks, in the page tables every address space shares. */
#define APIC_VA 0xffffffffbffff000

/* The application processors' real-mode start page (below 1 MiB, which the
 * frame allocator never hands out); the SIPI names it by page number. */
#define TRAMPOLINE_PA 0x8000

#define PML4_KERNEL_FIRST 256 /* slots 256..511 are shared by every address space */

#endif
