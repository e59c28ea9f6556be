/*
 * Boot entry: the Multiboot2 header and the 32-bit code GRUB jumps to. It
 * checks for long mode, maps the first 1 GiB twice (identity, for the jump,
 * and at KERNEL_VBASE, where the kernel is linked), enters long mode and
 * calls kmain(magic, info_phys) on the boot stack in the higher half.
 */
#include "layout.h"

#define MB2_HEADER_MAGIC 0xe85250d6
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PS  0x080
#define CR0_PE  0x00000001
#define CR0_WP  0x00010000
#define CR0_PG  0x80000000
#define CR4_PAE 0x20
#define EFER_MSR 0xc0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800
#define COM1    0x3f8

#define PHYS(sym) ((sym) - KERNEL_VBASE)

    .section .multiboot2, "a"
    .align 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long 0                                 /* i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + 0 + (mb2_header_end - mb2_header))
    /* module alignment tag: modules start on page boundaries, so the kernel
     * can reserve them as whole frames */
    .align 8
    .short 6, 0
    .long 8
    .align 8
    .short 0, 0                             /* end tag */
    .long 8
mb2_header_end:

    .section .boot, "ax"
    .code32
    .global _start
_start:
    cli
    cld
    mov $(PHYS(boot_stack_top)), %esp
    mov %eax, %edi                          /* magic, kept for kmain */
    mov %ebx, %esi                          /* info block (physical) */

    /* Long mode present? CPUID 0x80000001 EDX bit 29. Without it, say so
     * on COM1 and stop: there is nothing else a 64-bit kernel can do. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* Boot page tables: PML4[0] and PML4[511] share PD-level coverage of
     * 0..1 GiB in 2 MiB pages. kmain replaces them with the real tables. */
    mov $(PHYS(boot_pdpt_lo) + PTE_P + PTE_W), %eax
    mov %eax, PHYS(boot_pml4)
    mov $(PHYS(boot_pdpt_hi) + PTE_P + PTE_W), %eax
    mov %eax, PHYS(boot_pml4) + 511 * 8
    mov $(PHYS(boot_pd) + PTE_P + PTE_W), %eax
    mov %eax, PHYS(boot_pdpt_lo)
    mov %eax, PHYS(boot_pdpt_hi) + 510 * 8
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P + PTE_W + PTE_PS), %eax
    mov %eax, PHYS(boot_pd)(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $(PHYS(boot_pml4)), %eax
    mov %eax, %cr3
    mov $EFER_MSR, %ecx
    rdmsr
    or $(EFER_LME + EFER_NXE), %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PE + CR0_WP + CR0_PG), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode

no_long_mode:
    mov $msg_no_lm, %esi
2:  lodsb
    test %al, %al
    jz 3f
    mov $COM1, %dx
    out %al, %dx
    jmp 2b
3:  hlt
    jmp 3b

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movabs $high_entry, %rax
    jmp *%rax

msg_no_lm:
    .asciz "granite: this CPU has no long mode (x86_64); cannot boot\r\n"

    .align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff                /* 0x08 code 64 */
    .quad 0x00cf92000000ffff                /* 0x10 data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .text
high_entry:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp
    /* Upper halves are undefined after the switch to 64-bit mode. */
    mov %edi, %edi                          /* magic */
    mov %esi, %esi                          /* info block, physical */
    call kmain
    ud2                                     /* kmain never returns */

    .bss
    .align 4096
    .global boot_pml4
boot_pml4:    .skip 4096
boot_pdpt_lo: .skip 4096
boot_pdpt_hi: .skip 4096
boot_pd:      .skip 4096
    /* Used only until kmain moves to a guarded stack (see vm_init). */
    .align 16
boot_stack:   .skip 16384
boot_stack_top:
