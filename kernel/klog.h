/*
 * The kernel's own log (COM1), panic() and assert(). assert/panic are for
 * the kernel's broken invariants only: what a user process did wrong is an
 * error code or the death of that process, never a panic.
 */
#ifndef KLOG_H
#define KLOG_H

#include <stdint.h>

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

__attribute__((noreturn, format(printf, 3, 4))) void panic_at(const char *file, int line,
                                                              const char *fmt, ...);

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define assert(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond);                           \
    } while (0)

/* Print "name+0xoff" for a kernel text address (or just the hex value). */
void ksyms_print(uint64_t addr);

/* Walk the frame-pointer chain from rbp and print each return address. */
void backtrace_print(uint64_t rbp);

#endif
