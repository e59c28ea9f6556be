/*
 * Start code of the application processors, copied to TRAMPOLINE_PA by
 * smp.c and entered in real mode by the SIPI: protected mode, long mode with
 * the page tables smp.c prepared, then smp_ap_main(cpu) on the CPU's own
 * kernel stack. It lives in .rodata: only the copy ever runs.
 */
#include "layout.h"

/* The copy's physical address of a label. */
#define PA(x) (TRAMPOLINE_PA + ((x) - trampoline_start))

    .section .rodata
    .global trampoline_start, trampoline_end, trampoline_params
    .code16
trampoline_start:
    cli
    cld
    mov %cs, %ax                    /* CS = TRAMPOLINE_PA >> 4, IP = 0 */
    mov %ax, %ds
    lgdtl (tr_gdtr - trampoline_start)
    mov %cr0, %eax
    or $1, %eax                     /* PE */
    mov %eax, %cr0
    ljmpl $0x08, $PA(tr_pm)

    .code32
tr_pm:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $(1 << 5), %eax              /* PAE */
    mov %eax, %cr4
    mov PA(tr_cr3), %eax            /* below 4 GiB: smp.c checks */
    mov %eax, %cr3
    mov $0xc0000080, %ecx           /* EFER: long mode, and NX, which the */
    rdmsr                           /* kernel's page tables use */
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010000, %eax            /* PG, WP */
    mov %eax, %cr0
    ljmpl $0x18, $PA(tr_lm)

    .code64
tr_lm:
    mov PA(tr_stack), %rsp
    mov PA(tr_cpu), %rdi
    mov PA(tr_entry), %rax
    call *%rax                      /* never returns */
    ud2

    .balign 8
tr_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08 code 32 */
    .quad 0x00cf92000000ffff        /* 0x10 data */
    .quad 0x00af9a000000ffff        /* 0x18 code 64 */
tr_gdtr:
    .word tr_gdtr - tr_gdt - 1
    .long PA(tr_gdt)

    .balign 8
trampoline_params:                  /* struct trampoline_params in smp.c */
tr_cr3:   .quad 0
tr_stack: .quad 0
tr_entry: .quad 0
tr_cpu:   .quad 0
trampoline_end:
