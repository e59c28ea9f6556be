/*
 * The FPU registers of the calling thread as the CPU-state tests handle
 * them (fpu_regs.S): x87, MXCSR and XMM through FXSAVE/FXRSTOR, the upper
 * halves of YMM through VEXTRACTF128/VINSERTF128 where the CPU has AVX.
 * Plain C, no FPU code: usable from programs built with or without FPU.
 */
#ifndef FPU_REGS_H
#define FPU_REGS_H

#include <stdint.h>

/* Offsets in the FXSAVE image. */
#define FX_FCW   0
#define FX_FSW   2
#define FX_FTW   4 /* abridged: one bit per register, 1 = not empty */
#define FX_FOP   6
#define FX_FIP   8
#define FX_FDP   16
#define FX_MXCSR 24
#define FX_ST    32  /* ST0..ST7, 16 bytes each (10 used) */
#define FX_XMM   160 /* XMM0..XMM15, 16 bytes each */

#define FCW_INIT   0x037f /* all exceptions masked, 64-bit precision, to nearest */
#define MXCSR_INIT 0x1f80 /* all exceptions masked, to nearest */

struct fpu_regs {
    uint8_t fx[512];
    uint8_t ymm_hi[16][16]; /* bits 255:128 of YMM0..YMM15 */
} __attribute__((aligned(64)));

/* Load r into the registers; the YMM halves only if avx. */
void fpu_regs_load(const struct fpu_regs *r, int avx);

/* Store the registers into r (the first FPU instruction of a thread that
 * never used the FPU: it gets the initial state first). */
void fpu_regs_dump(struct fpu_regs *r, int avx);

/* Load in, call wait(arg), store into out. wait must not touch the FPU
 * (general registers only). */
void fpu_regs_hold(const struct fpu_regs *in, struct fpu_regs *out, int avx, void (*wait)(void *),
                   void *arg);

/* Load r, then store ST0 to memory and pop it (x87 FIP, FDP and FOP now
 * point into this program): what a thread's registers hold after real x87
 * work. */
void fpu_regs_load_and_use(const struct fpu_regs *r, int avx);

/* 1 if the CPU has AVX and the kernel enabled it (CPUID, XCR0). */
int fpu_has_avx(void);

/* XCR0 & XINUSE (XGETBV 1: which components are not in their initial
 * state), which needs no FPU access; -1 if the CPU cannot tell. */
int64_t fpu_xinuse(void);

/* A pattern of registers that depends on seed, with the given control
 * words (which must be valid). */
static inline void fpu_regs_pattern(struct fpu_regs *r, uint64_t seed, uint16_t fcw, uint32_t mxcsr)
{
    uint8_t *b = (uint8_t *)r;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (unsigned i = 0; i < sizeof(*r); i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)x;
    }
    for (unsigned i = 0; i < FX_ST; i++)
        r->fx[i] = 0;
    for (unsigned i = FX_XMM + 256; i < sizeof(r->fx); i++)
        r->fx[i] = 0;
    r->fx[FX_FCW] = (uint8_t)fcw;
    r->fx[FX_FCW + 1] = (uint8_t)(fcw >> 8);
    r->fx[FX_FSW + 1] = (uint8_t)((seed & 7) << 3); /* TOP */
    r->fx[FX_FTW] = 0xff;                           /* all eight registers in use */
    for (int i = 0; i < 4; i++)
        r->fx[FX_MXCSR + i] = (uint8_t)(mxcsr >> (8 * i));
}

/* Number of fields (control words, registers) in which a and b differ. */
static inline int fpu_regs_diff(const struct fpu_regs *a, const struct fpu_regs *b, int avx)
{
    int bad = 0;
    for (int i = 0; i < 5; i++) /* FCW, FSW, FTW */
        bad += a->fx[i] != b->fx[i];
    for (int i = FX_MXCSR; i < FX_MXCSR + 4; i++)
        bad += a->fx[i] != b->fx[i];
    for (int r = 0; r < 8; r++)
        for (int i = 0; i < 10; i++)
            bad += a->fx[FX_ST + 16 * r + i] != b->fx[FX_ST + 16 * r + i];
    for (int i = FX_XMM; i < FX_XMM + 256; i++)
        bad += a->fx[i] != b->fx[i];
    for (int r = 0; avx && r < 16; r++)
        for (int i = 0; i < 16; i++)
            bad += a->ymm_hi[r][i] != b->ymm_hi[r][i];
    return bad;
}

#endif
