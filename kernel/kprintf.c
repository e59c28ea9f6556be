/*
 * kprintf and panic. Output goes straight to COM1 with interrupts off (the
 * kernel is never preempted) under a spinlock of its own, so a line is never
 * interleaved with another kernel line, whichever CPUs print.
 */
#include "klog.h"

#include <common/fmt.h>
#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/serial.h"

static void serial_sink(void *ctx, char c)
{
    (void)ctx;
    serial_putc(c);
}

/* The CPU printing (its id + 1), 0 when free. A CPU that already holds
 * it (a panic in the middle of a line) goes on rather than wait for
 * itself. */
static uint32_t print_owner;

static int print_lock(void)
{
    uint32_t me = pcpu.id + 1;
    if (__atomic_load_n(&print_owner, __ATOMIC_RELAXED) == me)
        return 0;
    uint32_t free = 0;
    while (!__atomic_compare_exchange_n(&print_owner, &free, me, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        free = 0;
        __asm__ volatile("pause");
    }
    return 1;
}

static void print_unlock(int taken)
{
    if (taken)
        __atomic_store_n(&print_owner, 0, __ATOMIC_RELEASE);
}

int kprintf(const char *fmt, ...)
{
    int taken = print_lock();
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vformat(serial_sink, 0, fmt, ap);
    va_end(ap);
    print_unlock(taken);
    return n;
}

void backtrace_print(uint64_t rbp)
{
    kprintf("  backtrace:\n");
    /* Frames live on kernel stacks in the upper half; stop at anything else
     * rather than fault inside the panic path. */
    for (int depth = 0; depth < 16 && rbp >= 0xffff800000000000ull && rbp % 8 == 0; depth++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (ret < 0xffffffff80000000ull)
            break;
        kprintf("    ");
        ksyms_print(ret);
        kprintf("\n");
        if (frame[0] <= rbp) /* frames grow upwards; anything else is garbage */
            break;
        rbp = frame[0];
    }
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    __asm__ volatile("cli");
    (void)print_lock(); /* the whole report in one piece; never released */
    kprintf("\nkernel PANIC at %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(serial_sink, 0, fmt, ap);
    va_end(ap);
    kprintf("\n");
    backtrace_print((uint64_t)__builtin_frame_address(0));
    qemu_exit(QEMU_EXIT_PANIC);
}
