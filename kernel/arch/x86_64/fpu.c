/*
 * FPU, SSE and AVX state per thread. Eager switching for threads that use
 * the FPU, first use detected by #NM:
 *  - a new thread has no FPU state (thread.fpu_fresh = 1) and runs with
 *    CR0.TS set, so its first x87/SSE/AVX instruction raises #NM;
 *  - fpu_first_use gives it the initial state, clears TS and makes it the
 *    owner of the registers; from then on every switch to it restores its
 *    state and every switch away saves it (XSAVE, or FXSAVE without it);
 *  - whenever the registers leave an owner they are reset to the initial
 *    state at once, so a thread without FPU state runs with TS set over
 *    clean registers: nothing of another thread is there, not even for
 *    speculative execution past the #NM (LazyFP, CVE-2018-3665), nor in
 *    the x87 pointers AMD CPUs do not restore, nor in XINUSE.
 * Threads that never touch the FPU cost nothing (the IPC fast path only
 * runs between two of them: sched_fast). Save areas are one static
 * slot per thread slot, paid at boot (docs/architecture.md, "FPU state").
 */
#include "fpu.h"

#include <common/string.h>

#include "../../klog.h"
#include "../../proc.h"
#include "../../sched.h"
#include "cpu.h"
#include "pcpu.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)

/* Fields of the legacy (FXSAVE) region that differ from 0 in the initial
 * state: FCW = 0x37f (all exceptions masked, 64-bit precision, round to
 * nearest) and MXCSR = 0x1f80 (all masked, round to nearest). */
#define FXSAVE_FCW   0
#define FXSAVE_MXCSR 24

static uint8_t fpu_areas[MAX_THREADS][FPU_AREA_SIZE] __attribute__((aligned(64)));
/* The initial state: XSTATE_BV = 0 in its header, so XRSTOR puts every
 * component in its init state; FXRSTOR reads the legacy fields. */
static uint8_t fpu_init_area[FPU_AREA_SIZE] __attribute__((aligned(64)));

static int has_xsave;
static uint64_t xcr0;
static uint32_t area_size;

/* The registers' owner and CR0.TS are this CPU's: pcpu.fpu_owner and
 * pcpu.ts_set. The fast path runs only while no FPU state is live here
 * (sched.h). */
static void set_owner(struct thread *t)
{
    pcpu.fpu_owner = t;
    pcpu.sched_fast.fpu = t ? SCHED_FAST_SHUT : SCHED_FAST_OPEN;
}

static uint8_t *area_of(const struct thread *t)
{
    return fpu_areas[t - threads];
}

static void save(void *area)
{
    if (has_xsave)
        __asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)xcr0),
                         "d"((uint32_t)(xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static void load(const void *area)
{
    if (has_xsave)
        __asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)xcr0),
                         "d"((uint32_t)(xcr0 >> 32))
                         : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

static void ts_on(void)
{
    if (!pcpu.ts_set) {
        write_cr0(read_cr0() | CR0_TS);
        pcpu.ts_set = 1;
    }
}

static void ts_off(void)
{
    if (pcpu.ts_set) {
        __asm__ volatile("clts" ::: "memory");
        pcpu.ts_set = 0;
    }
}

static void xsetbv(uint32_t reg, uint64_t v)
{
    __asm__ volatile("xsetbv" ::"c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t xgetbv(uint32_t reg)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(reg));
    return (uint64_t)hi << 32 | lo;
}

/* CR0, CR4 (and XCR0 once it is known) of the calling CPU. */
static void fpu_init_cpu_regs(void)
{
    /* MP: WAIT honours TS too. NE: x87 errors as #MF, not the legacy IRQ 13.
     * EM off: x87 instructions execute. TS: no thread has FPU state yet. */
    write_cr0((read_cr0() & ~CR0_EM) | CR0_MP | CR0_NE | CR0_TS);
    pcpu.ts_set = 1;
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | (has_xsave ? CR4_OSXSAVE : 0));
    if (xcr0)
        xsetbv(0, xcr0);
}

void fpu_init_ap(void)
{
    pcpu.sched_fast.fpu = SCHED_FAST_OPEN;
    fpu_init_cpu_regs();
    ts_off();
    load(fpu_init_area);
    ts_on();
}

void fpu_init(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    has_xsave = (r[2] >> 26) & 1;
    int avx = (r[2] >> 28) & 1;
    fpu_init_cpu_regs();
    area_size = 512;
    if (has_xsave) {
        cpuid(0xd, 0, r);
        uint64_t supported = r[0] | (uint64_t)r[3] << 32;
        /* Only what the kernel knows how to give each thread: AVX-512, AMX
         * and the rest stay off, so their instructions are #UD. */
        xcr0 = XCR0_X87 | XCR0_SSE | (avx && (supported & XCR0_AVX) ? XCR0_AVX : 0);
        xsetbv(0, xcr0);
        cpuid(0xd, 0, r);
        area_size = r[1]; /* for the components XCR0 now enables */
    }
    if (area_size > FPU_AREA_SIZE)
        panic("FPU save area of %u bytes does not fit in %u", area_size, FPU_AREA_SIZE);

    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    memcpy(fpu_init_area + FXSAVE_FCW, &fcw, sizeof(fcw));
    memcpy(fpu_init_area + FXSAVE_MXCSR, &mxcsr, sizeof(mxcsr));
    ts_off();
    load(fpu_init_area); /* whatever the firmware left is gone */
    ts_on();
    kprintf("kernel: FPU: x87, SSE%s for user threads (%s, %u-byte areas, eager, first use by "
            "#NM)\n",
            xcr0 & XCR0_AVX ? ", AVX" : "", has_xsave ? "XSAVE" : "FXSAVE", area_size);
}

void fpu_switch(struct thread *next)
{
    if (pcpu.fpu_owner == next)
        return; /* its state is in the registers, TS clear */
    if (pcpu.fpu_owner) {
        save(area_of(pcpu.fpu_owner)); /* TS is clear while there is an owner */
        load(fpu_init_area);
        set_owner(0);
    }
    if (next->fpu_fresh) {
        ts_on();
        return;
    }
    ts_off();
    load(area_of(next));
    set_owner(next);
}

void fpu_first_use(struct thread *t)
{
    assert(t->fpu_fresh && !pcpu.fpu_owner && pcpu.ts_set);
    t->fpu_fresh = 0;
    ts_off();
    load(fpu_init_area); /* already there (owner = 0), but never assumed */
    set_owner(t);
}

void fpu_thread_leaving(struct thread *t)
{
    if (pcpu.fpu_owner != t)
        return;
    save(area_of(t));
    load(fpu_init_area);
    set_owner(0);
    ts_on();
}

void fpu_thread_dying(struct thread *t)
{
    if (pcpu.fpu_owner != t)
        return;
    load(fpu_init_area);
    set_owner(0);
    ts_on();
}

int fpu_check(const char **why)
{
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    if ((cr0 & (CR0_EM | CR0_MP | CR0_NE)) != (CR0_MP | CR0_NE))
        *why = "CR0: EM set, or MP or NE clear";
    else if (!(cr4 & CR4_OSFXSR) || !(cr4 & CR4_OSXMMEXCPT))
        *why = "CR4: OSFXSR or OSXMMEXCPT clear";
    else if (has_xsave && (!(cr4 & CR4_OSXSAVE) || xgetbv(0) != xcr0))
        *why = "XSAVE: CR4.OSXSAVE clear or XCR0 not as set";
    else if (!!(cr0 & CR0_TS) != pcpu.ts_set || (pcpu.fpu_owner && pcpu.ts_set))
        *why = "CR0.TS does not match the owner of the registers";
    else if (pcpu.sched_fast.fpu != (pcpu.fpu_owner ? SCHED_FAST_SHUT : SCHED_FAST_OPEN))
        *why = "the fast path's FPU gate does not match the owner of the registers";
    else
        return 1;
    return 0;
}
