/*
 * The syscall fuzzer: SYSCALLs with random call numbers and random
 * registers (RSP and RBP included): pointers into the kernel half,
 * non-canonical, unmapped and misaligned addresses, huge lengths, random
 * handles, badges, grant ids and the pids of real processes. Seeded and
 * reproducible: "seed=N" and "calls=N" (default 1,000,000) come from the
 * module line; the seed is printed. Every answer must be a status the ABI
 * defines. In the hostile image a checker pair (hostile.checker) verifies
 * meanwhile that no one else's messages suffer.
 */
#include <abi/grant.h>
#include <abi/kcall.h>
#include <abi/layout.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/ipc.h>
#include <ipc/kcall.h>
#include <ipc/stdio.h>

#include "../testlib.h"

long garbage_syscall(const uint64_t regs[16]);

static uint64_t rng;

static uint64_t next(void)
{
    return test_rand(&rng);
}

static uint64_t pids[16];
static int npids;

/* Values that make interesting pointers, lengths, handles and ids. */
static uint64_t interesting(void)
{
    static const uint64_t pool[] = {
        0,
        1,
        2,
        7,
        63,
        64,
        65,
        4095,
        4096,
        USER_IMAGE_MIN,
        USER_IMAGE_MIN + 1, /* misaligned */
        USER_HEAP_MIN,
        USER_STACK_TOP - 8,
        USER_TOP - 8,
        USER_TOP,
        0x00007fffffffffffull,
        0x0000800000000000ull, /* first non-canonical */
        0x8000000000000000ull,
        0xffff800000000000ull, /* physmap */
        0xffffffff80100000ull, /* kernel text */
        0xffffffffc0000000ull, /* kernel stacks */
        GRANT_COPY_MAX + 1,
        1ull << 40,
        ~0ull,
        ~0ull - 1,
        IPC_ANY,
        IPC_SELF,
    };
    uint64_t r = next();
    switch (r % 8) {
    case 0:
    case 1:
    case 2:
        return pool[(r >> 8) % (sizeof(pool) / sizeof(pool[0]))];
    case 3: /* a real pid, or a real process's badge */
        return npids ? pids[(r >> 8) % (uint64_t)npids] << ((r >> 16) & 1 ? 32 : 0) : 0;
    case 4: /* a plausible grant id: small slot, small generation */
        return grant_id((uint32_t)((r >> 8) % 300), (uint32_t)((r >> 20) % 4));
    default:
        return next();
    }
}

static void learn_pids(void)
{
    struct kc_proc_info p;
    for (uint32_t slot = 0; npids < 16; slot++) {
        long rc = kc_proc_info(slot, &p);
        if (rc == -E_RANGE)
            break;
        if (rc == 0)
            pids[npids++] = p.pid;
    }
}

static long counts[E_MAX + 1];

int main(void)
{
    char args[128];
    kc_args(args, sizeof(args));
    const char *s = strstr(args, "seed=");
    rng = 0x9e3779b97f4a7c15ull;
    if (s) {
        uint64_t v = 0;
        for (s += 5 + (s[5] == '0' && s[6] == 'x' ? 2 : 0); *s && *s != ' '; s++)
            v = v * 16 + (uint64_t)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
        rng = v ? v : rng;
    }
    uint64_t seed = rng;
    long calls = 1000000;
    const char *c = strstr(args, "calls=");
    if (c)
        for (calls = 0, c += 6; *c >= '0' && *c <= '9'; c++)
            calls = calls * 10 + (*c - '0');
    learn_pids();
    printf("fuzz: seed 0x%lx, %ld calls with random registers, %d real pids known\n", seed, calls,
           npids);

    uint64_t ok = 0, odd = 0;
    uint64_t regs[16];
    for (long i = 0; i < calls; i++) {
        for (int r = 0; r < 16; r++)
            regs[r] = interesting();
        uint64_t k = next() % 16;
        /* rax: mostly real calls, some benchmark-only and plain random numbers */
        regs[0] = k < 12 ? next() % SYS_COUNT : k < 13 ? 100 + next() % 3 : next();
        if (next() % 4 == 0)
            regs[5] = next() % 8; /* rdi: our real handles (kernel, parent) */
        /* A blocking phase ends after one tick, and is rare: nearly every
         * call is non-blocking, so a million of them finish in seconds. */
        regs[4] = (regs[4] & 0xffffffffull) | (1ull << IPC_INFO_TIMEOUT_SHIFT);
        if (next() % 1024)
            regs[4] |= IPC_INFO_NONBLOCK;
        /* Kernel operations that would end or clone this process, or lose
         * the handles we print through, are not garbage but suicide; random
         * kernel-log writes would only scribble on the console. */
        uint32_t op = (uint32_t)(regs[4] >> IPC_INFO_LABEL_SHIFT) & 0xffff;
        if (regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL &&
            (op == KC_EXIT || op == KC_THREAD_EXIT || op == KC_THREAD_CREATE || op == KC_SLEEP ||
             op == KC_LOG ||
             (op == KC_CAP_DELETE && (regs[7] == HANDLE_PARENT || regs[7] == HANDLE_NAMES))))
            regs[4] =
                (regs[4] & ~IPC_INFO_LABEL_MASK) | ((uint64_t)KC_SELF << IPC_INFO_LABEL_SHIFT);
        long rc = garbage_syscall(regs);
        if (rc >= 0)
            ok++;
        else if (rc >= -E_MAX)
            counts[-rc]++;
        else
            odd++;
    }
    printf("fuzz: %ld calls done (seed 0x%lx): %lu succeeded, %lu refused, %lu answers outside the "
           "ABI\n",
           calls, seed, ok, (uint64_t)calls - ok - odd, odd);
    printf("fuzz: refusals by code:");
    for (int e = 1; e < E_MAX; e++)
        if (counts[e])
            printf(" %d:%ld", e, counts[e]);
    printf("\n");
    return odd ? 1 : 0;
}
