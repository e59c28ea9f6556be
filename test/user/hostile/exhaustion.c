/*
 * hostile.exhaustion: starts hostile.hog, which takes processes, threads,
 * grants, memory and handles until each is refused, while the checker pair
 * keeps talking. When the hog has died (and its orphaned sleepers are
 * killed), every kernel frame, process slot, thread and pool page it held
 * must be back. Waits for the fuzzer and the grant attacks to finish first,
 * so the figures compare like with like.
 */
#include <abi/kcall.h>
#include <abi/layout.h>
#include <common/string.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/stdio.h>

/* Wait for deaths until `pid` has died (0: until none is pending). */
static void reap_until(uint32_t pid)
{
    for (int tries = 0; tries < 3000; tries++) {
        uint32_t dead, reason;
        uint64_t detail;
        while (kc_wait_death(&dead, &reason, &detail, 0) == 0)
            if (dead == pid)
                return;
        if (!pid)
            return;
        kc_sleep(1);
    }
}

/* KC_SPAWN never gives a child more than its parent has, nor a module
 * that does not exist: each refused before anything starts. */
static int spawn_bounds(void)
{
    uint32_t hog = (uint32_t)kc_module_find("hostile.hog"), me_privs = 0;
    struct kc_module_info mi;
    kc_self(0, 0, &me_privs, 0);
    uint32_t n = 0; /* the number of modules: the first index refused */
    while (kc_module_info(n, &mi) == 0)
        n++;
    struct {
        const char *what;
        long got, want;
    } c[] = {
        {"module index past the end", kc_spawn_budget(1000, 0, 0, 0, 0, 0, "x", 0, 0), -E_NOENT},
        {"module info past the end", kc_module_info(1000, &mi), -E_NOENT},
        {"the module index one past the last", kc_spawn_budget(n, 0, 0, 0, 0, 0, "x", 0, 0),
         -E_NOENT},
        {"a privilege we lack", kc_spawn_budget(hog, me_privs | PRIV_MAP, 0, 0, 0, 0, "x", 0, 0),
         -E_PERM},
        {"a priority above ours", kc_spawn_budget(hog, 0, 30, 0, 0, 0, "x", 0, 0), -E_PERM},
        {"an IRQ we lack", kc_spawn_budget(hog, 0, 0, 0, 0, 1u << 5, "x", 0, 0), -E_PERM},
        {"a port we lack", kc_spawn_budget(hog, 0, 0, 0x80, 1, 0, "x", 0, 0), -E_PERM},
    };
    int bad = 0;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (c[i].got != c[i].want) {
            bad++;
            printf("exhaustion: FAIL spawn with %s: got %ld, want %ld\n", c[i].what, c[i].got,
                   c[i].want);
        }
    return bad;
}

static uint64_t processes(void)
{
    uint64_t k[7];
    kc_stats(k);
    return k[5];
}

/* KC_SPAWN_ARGV's argument block: too long, or not readable where it
 * says, is refused before anything else is looked at (even the module)
 * and leaves no process behind; a good block starts the child. */
static int spawn_argv_bounds(void)
{
    uint32_t sleeper = (uint32_t)kc_module_find("hostile.sleeper");
    static char block[KC_SPAWN_ARGV_MAX + 1] = "a\0b";
    const char *stack_end = (const char *)USER_STACK_TOP; /* above our stack: unmapped */
    uint64_t before = processes();
    struct {
        const char *what;
        long got, want;
    } c[] = {
        {"a block one byte too long",
         kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, block, KC_SPAWN_ARGV_MAX + 1, 0),
         -E_RANGE},
        {"a block of 2^64-1 bytes", kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, block, ~0ul, 0),
         -E_RANGE},
        {"a block too long for a module that does not exist",
         kc_spawn_argv_budget(1000, 0, 0, 0, 0, 0, 0, 0, KC_SPAWN_ARGV_MAX + 1, 0), -E_RANGE},
        {"a null block", kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, 0, 16, 0), -E_FAULT},
        {"a block in the kernel's half",
         kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, (void *)0xffffffff80000000ul, 16, 0),
         -E_FAULT},
        {"a block at an unmapped address",
         kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, (void *)USER_MAP_MIN, 16, 0), -E_FAULT},
        {"a block running off the top of our stack",
         kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, stack_end - 8, 16, 0), -E_FAULT},
        {"a block wrapping around the address space",
         kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, (void *)-8l, 16, 0), -E_FAULT},
        {"an unreadable block for a module that does not exist",
         kc_spawn_argv_budget(1000, 0, 0, 0, 0, 0, 0, 0, 16, 0), -E_FAULT},
        {"a good block for a module that does not exist",
         kc_spawn_argv_budget(1000, 0, 0, 0, 0, 0, 0, block, 4, 0), -E_NOENT},
        {"a good block and a privilege we lack",
         kc_spawn_argv_budget(sleeper, PRIV_MAP, 0, 0, 0, 0, 0, block, 4, 0), -E_PERM},
    };
    int bad = 0;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (c[i].got != c[i].want) {
            bad++;
            printf("exhaustion: FAIL spawn_argv with %s: got %ld, want %ld\n", c[i].what, c[i].got,
                   c[i].want);
        }
    if (processes() != before) {
        bad++;
        printf("exhaustion: FAIL refused spawn_argv calls left %lu processes behind\n",
               processes() - before);
    }
    /* The largest block is allowed, and the child runs. */
    uint32_t pid = 0;
    long h = kc_spawn_argv_budget(sleeper, 0, 0, 0, 0, 0, 0, block, KC_SPAWN_ARGV_MAX, &pid);
    if (h < 0) {
        bad++;
        printf("exhaustion: FAIL spawn_argv with a block of KC_SPAWN_ARGV_MAX bytes: %ld\n", h);
    } else {
        kc_cap_delete((uint64_t)h);
        kc_kill(pid);
        reap_until(pid);
    }
    if (!bad)
        printf("exhaustion: spawn_argv: %u refusals as documented, the largest block accepted\n",
               (unsigned)(sizeof(c) / sizeof(c[0])));
    return bad;
}

static void snapshot(uint64_t out[4])
{
    uint64_t k[7];
    struct mem_stats ms = {0};
    kc_stats(k);
    mem_stats(&ms);
    out[0] = k[4]; /* free kernel frames */
    out[1] = k[5]; /* processes */
    out[2] = k[6]; /* threads */
    out[3] = ms.free_pages;
}

int main(void)
{
    for (int i = 0; i < 30000 &&
                    (kc_process_running("hostile.fuzz") ||
                     kc_process_running("hostile.grant_attacks") || kc_process_running("protect."));
         i++)
        kc_sleep(1);
    kc_sleep(20);
    if (spawn_bounds() + spawn_argv_bounds())
        return 1;
    uint64_t before[4], after[4];
    snapshot(before);

    /* The hog's budget: 32 processes (itself and 31 sleepers), 56
     * threads, and kernel frames enough for both; carved out of ours. */
    const struct kc_budget budget = {2560, 56, 32};
    uint32_t pid = 0;
    long h = kc_spawn_budget((uint32_t)kc_module_find("hostile.hog"), PRIV_SPAWN, 8, 0, 0, 0,
                             "hostile.hog", &budget, &pid);
    if (h < 0) {
        printf("exhaustion: cannot start the hog: %s\n", ipc_strerror(h));
        return 1;
    }
    struct ipc_msg m = {0};
    long rc = ipc_recv((uint64_t)h, &m);
    if (rc < 0) {
        printf("exhaustion: no report from the hog: %s\n", ipc_strerror(rc));
        return 1;
    }
    printf("exhaustion: the hog got %lu processes (then %s), %lu threads (then %s), %lu grants, "
           "%lu pages (%lu MiB), %lu handles (then %s)\n",
           m.w[1], ipc_strerror(-(long)m.w[2]), m.w[3], ipc_strerror(-(long)m.w[4]), m.w[5], m.w[6],
           m.w[6] >> 8, m.w[7], ipc_strerror(-(long)m.w[0]));
    int refused =
        m.w[2] && m.w[4] && m.w[0] && m.w[1] > 0 && m.w[3] > 0 && m.w[5] > 0 && m.w[6] > 0;
    uint64_t badge = m.badge;
    ipc_reply(badge, &(struct ipc_msg){0});
    reap_until(pid);
    kc_cap_delete((uint64_t)h);

    /* Its sleepers were orphaned to us: end them too. */
    struct kc_proc_info p;
    uint64_t killed = 0;
    for (uint32_t slot = 0; kc_proc_info(slot, &p) != -E_RANGE; slot++)
        if (p.pid && strcmp(p.name, "hostile.sleeper") == 0 && kc_kill(p.pid) == 0) {
            killed++;
            reap_until(0); /* as we go: their deaths come to us */
        }

    /* The memory server hears of deaths through the boot server: give it
     * time, then compare. */
    for (int i = 0; i < 500; i++) {
        snapshot(after);
        if (memcmp(after, before, sizeof(before)) == 0)
            break;
        kc_sleep(1);
    }
    printf("exhaustion: %lu orphaned sleepers killed; before/after: kernel frames %lu/%lu, "
           "processes %lu/%lu, threads %lu/%lu, pool pages free %lu/%lu\n",
           killed, before[0], after[0], before[1], after[1], before[2], after[2], before[3],
           after[3]);
    int back = memcmp(after, before, sizeof(before)) == 0;
    printf("exhaustion: every limit refused with an error: %s; everything back: %s\n",
           refused ? "yes" : "NO", back ? "yes" : "NO");
    return refused && back ? 0 : 1;
}
