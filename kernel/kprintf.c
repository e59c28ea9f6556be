/*
 * kprintf and panic. Output goes straight to COM1 with interrupts off (the
 * kernel is never preempted), so a line is never interleaved with another
 * kernel line.
 */
#include "klog.h"

#include <common/fmt.h>
#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/serial.h"

static void serial_sink(void *ctx, char c)
{
    (void)ctx;
    serial_putc(c);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vformat(serial_sink, 0, fmt, ap);
    va_end(ap);
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
    kprintf("\nkernel PANIC at %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(serial_sink, 0, fmt, ap);
    va_end(ap);
    kprintf("\n");
    backtrace_print((uint64_t)__builtin_frame_address(0));
    qemu_exit(QEMU_EXIT_PANIC);
}
