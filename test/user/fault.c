/*
 * Processes that do something forbidden (FAULT_KIND picks what). Each must
 * be killed with a report on the console while the rest of the system goes
 * on; the boot server checks the exception vector it died with.
 */
#include <ipc/stdio.h>
#include <stdint.h>

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
#elif FAULT_KIND == 9
    __asm__ volatile(".byte 0x0f, 0x28, 0xc8"); /* movaps %xmm0, %xmm1: SSE is off, #UD */
#endif
    printf("fault: survived, which is wrong\n");
    return 0;
}
