/*
 * Ending the emulator: QEMU's isa-debug-exit device (port 0xf4) makes QEMU
 * exit with status (value << 1) | 1. Tests read that status; on real
 * hardware (no device) the CPU just halts.
 */
#ifndef ARCH_QEMU_H
#define ARCH_QEMU_H

#include "cpu.h"

/* clang-format off */
#define QEMU_EXIT_SUCCESS 0x10 /* QEMU exit status 33 */
#define QEMU_EXIT_FAILURE 0x11 /* 35: a test or the system reported failure */
#define QEMU_EXIT_PANIC   0x12 /* 37: kernel panic or kernel-mode exception */
/* clang-format on */

__attribute__((noreturn)) static inline void qemu_exit(uint8_t code)
{
    outb(0xf4, code);
    cpu_halt_forever();
    __builtin_unreachable();
}

#endif
