/*
 * Helpers shared by the CPU-state tests (test/user/cpu): CHECK lines, the
 * user-visible segment selectors and flags, and a witness thread that tells
 * a spinning thread it has been preempted without any timing assumption.
 */
#ifndef CPULIB_H
#define CPULIB_H

#include <ipc/kcall.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>
#include <stdint.h>

#define RFLAGS_DF (1ull << 10)
#define RFLAGS_AC (1ull << 18)

static int failures;

static inline void check(const char *name, int ok, const char *detail)
{
    failures += !ok;
    printf("CHECK %s %s%s%s\n", name, ok ? "PASS" : "FAIL", !ok && detail ? ": " : "",
           !ok && detail ? detail : "");
}

/* DS, ES, FS, GS as user code can read them (mov from a segment register
 * needs no privilege). */
struct selectors {
    uint16_t ds, es, fs, gs;
};

static inline struct selectors selectors_read(void)
{
    struct selectors s;
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3"
                     : "=r"(s.ds), "=r"(s.es), "=r"(s.fs), "=r"(s.gs));
    return s;
}

static inline void selectors_load(struct selectors s)
{
    __asm__ volatile("mov %0, %%ds; mov %1, %%es; mov %2, %%fs; mov %3, %%gs" ::"r"(s.ds),
                     "r"(s.es), "r"(s.fs), "r"(s.gs)
                     : "memory");
}

static inline int selectors_null(struct selectors s)
{
    return (s.ds | s.es | s.fs | s.gs) == 0;
}

__attribute__((target("general-regs-only"))) static inline uint64_t rflags_read(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; pop %0" : "=r"(f));
    return f;
}

/*
 * Preemption witness: a thread of the same process and priority that only
 * counts (and never touches the FPU). On one CPU the count can change while another thread of ours
 * spins only if that thread lost the CPU, so "spin until the count moves"
 * ends exactly after a preemption (the timer ends every slice), however
 * fast or slow the machine is.
 */
static volatile uint64_t witness_count, witness_bad_flags;

__attribute__((target("general-regs-only"))) static void witness_main(void *arg)
{
    (void)arg;
    for (;;) {
        witness_count++;
        kc_yield(); /* the spinning thread need not wait out a whole slice */
        /* Flags are per thread: whatever the spinning thread set, this
         * one never did. */
        if (rflags_read() & (RFLAGS_AC | RFLAGS_DF))
            witness_bad_flags++;
    }
}

static inline long witness_start(void)
{
    return thread_create(witness_main, 0, 0);
}

#endif
