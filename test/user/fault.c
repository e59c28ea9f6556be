/*
 * Processes that do something forbidden (FAULT_KIND picks what). Each must
 * be killed with a report on the console while the rest of the system goes
 * on; the boot server checks the exception vector it died with.
 */
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>
#include <stdint.h>

/* Deep enough recursion to run off any stack; noinline keeps the frames.
 * (Unused in most variants of this file.) */
__attribute__((noinline, unused)) static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    if (depth > 1000000) /* never: the guard page comes first */
        return 0;
    return recurse(depth + 1) + pad[0];
}

__attribute__((unused)) static void overflow_thread(void *arg)
{
    (void)arg;
    recurse(0);
}

int main(void)
{
    printf("fault: about to %s\n", FAULT_WHAT);
#if FAULT_KIND == 1
    __asm__ volatile("int $0x80"); /* no gate has DPL 3: #GP */
#elif FAULT_KIND == 2
    __asm__ volatile("int3"); /* #GP too: the #BP gate is DPL 0 */
#elif FAULT_KIND == 3
    __asm__ volatile("ud2"); /* #UD */
#elif FAULT_KIND == 4
    (void)*(volatile uint64_t *)0; /* #PF, page not present */
#elif FAULT_KIND == 5
    *(volatile uint64_t *)0xffffffff80100000ull = 0; /* #PF on a supervisor page */
#elif FAULT_KIND == 6
    __asm__ volatile("xor %%ecx, %%ecx; div %%ecx" ::"a"(1), "d"(0) : "rcx"); /* #DE */
#elif FAULT_KIND == 7
    __asm__ volatile("cli"); /* privileged instruction: #GP */
#elif FAULT_KIND == 8
    __asm__ volatile("outb %%al, $0x80" ::"a"(0)); /* no I/O permission: #GP */
#elif FAULT_KIND == 10
    volatile uint8_t code[16] = {0xc3}; /* ret, on the stack: NX, #PF */
    ((void (*)(void))(uintptr_t)code)();
#elif FAULT_KIND == 11
    uint8_t *code = malloc(64); /* the memory server maps heaps NX: #PF */
    if (!code)
        return 2;
    code[0] = 0xc3;
    ((void (*)(void))code)();
#elif FAULT_KIND == 12
    recurse(0); /* into the guard page under the main stack: #PF */
#elif FAULT_KIND == 13
    thread_create(overflow_thread, 0, 0); /* the same on a second thread's stack */
    for (;;)
        kc_sleep(100);
#elif FAULT_KIND >= 14 && FAULT_KIND <= 18
    /* Descriptor-table and machine-status reads: with CR4.UMIP they are #GP
     * in user mode (without it they reveal kernel addresses). */
    uint8_t table[10] = {0};
    uint64_t v = 0;
#if FAULT_KIND == 14
    __asm__ volatile("sgdt %0" : "=m"(table));
#elif FAULT_KIND == 15
    __asm__ volatile("sidt %0" : "=m"(table));
#elif FAULT_KIND == 16
    __asm__ volatile("sldt %0" : "=r"(v));
#elif FAULT_KIND == 17
    __asm__ volatile("smsw %0" : "=r"(v));
#else
    __asm__ volatile("str %0" : "=r"(v));
#endif
    printf("fault: read %lx %02x%02x%02x%02x%02x%02x\n", v, table[2], table[3], table[4], table[5],
           table[6], table[7]);
#elif FAULT_KIND == 19
    uint64_t dr7;
    __asm__ volatile("mov %%dr7, %0" : "=r"(dr7)); /* debug registers are ring 0 only: #GP */
    printf("fault: dr7 = %lx\n", dr7);
#elif FAULT_KIND == 20
    __asm__ volatile("mov %0, %%dr0" ::"r"(0x400000ull)); /* #GP */
#elif FAULT_KIND == 21
    /* CR4.FSGSBASE is off: the user GS base, swapped with the kernel's by
     * SWAPGS, cannot be set directly (#UD). */
    __asm__ volatile("wrgsbase %0" ::"r"(0x400000ull));
#elif FAULT_KIND == 22
    uint64_t base;
    __asm__ volatile("rdfsbase %0" : "=r"(base)); /* #UD */
    printf("fault: fs base = %lx\n", base);
#endif
    printf("fault: survived, which is wrong\n");
    return 0;
}
