/*
 * ipc.garbage_registers: 200,000 SYSCALLs with every register random, RSP
 * and RBP included. The kernel must answer each with a status (or the
 * process may die by its own hand); it must never crash. Calls that could
 * end this process on purpose (exit, thread creation at a random address)
 * or block for long are steered away, so the run always completes.
 */
#include <abi/kcall.h>
#include <ipc/ipc.h>
#include <ipc/stdio.h>

#include "testlib.h"

#define CALLS 200000

long garbage_syscall(const uint64_t regs[16]);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    return test_rand(&rng);
}

/* Values that make interesting pointers and lengths, besides pure noise. */
static uint64_t interesting(void)
{
    static const uint64_t pool[] = {0,
                                    1,
                                    63,
                                    64,
                                    65,
                                    0x400000,
                                    0x7fffffffffff,
                                    0x800000000000,
                                    0xffff800000000000ull,
                                    0xffffffff80100000ull,
                                    0x7ffffffff000,
                                    ~0ull,
                                    IPC_ANY,
                                    IPC_SELF};
    uint64_t r = next();
    return r % 3 == 0 ? pool[(r >> 8) % (sizeof(pool) / sizeof(pool[0]))] : next();
}

int main(void)
{
    printf("garbage: seed %lx, %d calls with random registers\n", rng, CALLS);
    uint64_t ok = 0, failed = 0, odd = 0;
    uint64_t regs[16];
    for (int i = 0; i < CALLS; i++) {
        for (int r = 0; r < 16; r++)
            regs[r] = interesting();
        regs[0] = next() % 4 ? next() % (SYS_COUNT + 2) : next(); /* rax: mostly real calls */
        /* Keep handle 1 (the boot server) out of it; ipc.errors covers it. */
        if (regs[5] == HANDLE_PARENT)
            regs[5] = 2;
        /* Any blocking phase gets a 1-tick timeout; most calls don't block. */
        regs[4] = (regs[4] & 0xffffffffull) | (1ull << IPC_INFO_TIMEOUT_SHIFT);
        if (next() % 8)
            regs[4] |= IPC_INFO_NONBLOCK;
        /* Kernel-endpoint operations that end or clone us are not garbage. */
        uint32_t op = (uint32_t)(regs[4] >> IPC_INFO_LABEL_SHIFT) & 0xffff;
        if (regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL &&
            (op == KC_EXIT || op == KC_THREAD_EXIT || op == KC_THREAD_CREATE || op == KC_SLEEP ||
             op == KC_CAP_DELETE))
            regs[4] =
                (regs[4] & ~IPC_INFO_LABEL_MASK) | ((uint64_t)KC_SELF << IPC_INFO_LABEL_SHIFT);
        long rc = garbage_syscall(regs);
        if (rc >= 0)
            ok++;
        else if (rc >= -E_MAX)
            failed++;
        else
            odd++; /* not a status the ABI defines */
    }
    printf("garbage: %d calls done: %lu succeeded, %lu refused with an error code, %lu odd\n",
           CALLS, ok, failed, odd);
    return odd ? 1 : 0;
}
