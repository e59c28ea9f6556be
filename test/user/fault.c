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
#elif FAULT_KIND == 9
    __asm__ volatile(".byte 0x0f, 0x28, 0xc8"); /* movaps %xmm0, %xmm1: SSE is off, #UD */
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
#endif
    printf("fault: survived, which is wrong\n");
    return 0;
}
