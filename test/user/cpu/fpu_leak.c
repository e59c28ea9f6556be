/*
 * cpu.fpu_leak_owner, cpu.fpu_leak_observer: no FPU state crosses to a
 * thread that never had any. The owner answers each call after filling
 * every FPU register with a secret (x87 stack, control words with flags
 * set, the x87 instruction and data pointers, XMM, YMM), so its registers
 * are full of it when the kernel switches back to the caller. The observer
 * starts fresh threads one after another; each calls the owner, then
 *  - before touching the FPU, asks XGETBV(1) which components are not in
 *    their initial state (no FPU access needed): the answer must be the
 *    same as for its own initial state, read after its first use;
 *  - reads all registers: its first FPU instruction; it must find exactly
 *    the initial state (FCW 0x37f, MXCSR 0x1f80, everything else 0, the
 *    x87 opcode and pointers included).
 * QEMU's TCG reports every component in use at all times and stores no
 * x87 opcode or pointers, so there those two checks cannot fail (the test
 * says so when it finds out); on hardware they catch registers left to a
 * thread behind CR0.TS (lazy switching) and AMD's unrestored pointers.
 * Built without FPU code: the registers change only in fpu_regs.S.
 */
#include <common/string.h>
#include <ipc/ipc.h>
#include <ipc/name.h>

#include "cpulib.h"
#include "fpu_regs.h"

#define OBSERVERS 6

static int avx;

/* ---- owner ------------------------------------------------------------- */

static int owner(void)
{
    long rc = name_register("fpuleak");
    if (rc < 0) {
        printf("fpu_leak: cannot register: %s\n", ipc_strerror(rc));
        return 1;
    }
    static struct fpu_regs secret;
    struct ipc_msg m = {0};
    rc = ipc_recv(IPC_ANY, &m);
    for (uint64_t n = 1;; n++) {
        if (rc < 0) {
            m.info = 0;
            rc = ipc_recv(IPC_ANY, &m);
            continue;
        }
        /* Round toward zero and all six exception flags; 53-bit precision,
         * round up. */
        fpu_regs_pattern(&secret, 0x5ec2e7 + n, 0x0a7f, 0x7fbf);
        fpu_regs_load_and_use(&secret, avx);
        m.info = ipc_info(0, 0);
        rc = ipc_reply_recv(m.badge, &m);
    }
}

/* ---- observer ---------------------------------------------------------- */

struct observation {
    uint64_t handle;
    long call;
    int64_t xinuse_fresh, xinuse_initial;
    int pointers_tracked;
    struct fpu_regs regs;
    volatile int done;
};

static void observe(void *arg)
{
    struct observation *o = arg;
    struct ipc_msg m = ipc_msg_make(0, 0);
    o->call = ipc_call(o->handle, &m);
    o->xinuse_fresh = fpu_xinuse();
    /* Garbage where the CPU must write; 0 in the x87 opcode and pointers,
     * which not every CPU stores. */
    memset(&o->regs, 0xa5, sizeof(o->regs));
    memset(&o->regs.fx[FX_FOP], 0, FX_MXCSR - FX_FOP);
    fpu_regs_dump(&o->regs, avx); /* this thread's first FPU instruction */
    o->xinuse_initial = fpu_xinuse();
    /* Does this CPU record x87 pointers at all? */
    static struct fpu_regs probe;
    fpu_regs_pattern(&probe, 1, FCW_INIT, MXCSR_INIT);
    fpu_regs_load_and_use(&probe, 0);
    memset(&probe, 0, sizeof(probe));
    fpu_regs_dump(&probe, 0);
    for (int b = FX_FIP; b < FX_MXCSR; b++)
        o->pointers_tracked |= probe.fx[b] != 0;
    o->done = 1;
}

static int observer(void)
{
    long h = name_lookup_wait("fpuleak", 500);
    if (h < 0) {
        printf("fpu_leak: no owner: %s\n", ipc_strerror(h));
        return 1;
    }
    static struct fpu_regs initial;
    memset(&initial, 0, sizeof(initial));
    initial.fx[FX_FCW] = FCW_INIT & 0xff;
    initial.fx[FX_FCW + 1] = FCW_INIT >> 8;
    initial.fx[FX_MXCSR] = MXCSR_INIT & 0xff;
    initial.fx[FX_MXCSR + 1] = MXCSR_INIT >> 8;

    int calls_ok = 1, xinuse_same = 1, initial_state = 1, pointers_clear = 1;
    int xinuse_tracked = 0, pointers_tracked = 0;
    int64_t fresh = 0, initial_xinuse = 0;
    for (int i = 0; i < OBSERVERS; i++) {
        static struct observation o;
        memset(&o, 0, sizeof(o));
        o.handle = (uint64_t)h;
        if (thread_create(observe, &o, 0) < 0) {
            printf("fpu_leak: cannot start an observer\n");
            return 1;
        }
        while (!o.done)
            kc_sleep(1);
        calls_ok &= o.call == 0;
        if (o.xinuse_fresh != o.xinuse_initial) {
            xinuse_same = 0;
            fresh = o.xinuse_fresh;
            initial_xinuse = o.xinuse_initial;
        }
        xinuse_tracked |= o.xinuse_initial == 0;
        pointers_tracked |= o.pointers_tracked;
        int diff = fpu_regs_diff(&initial, &o.regs, avx);
        initial_state &= diff == 0;
        for (int b = FX_FOP; b < FX_MXCSR; b++)
            pointers_clear &= o.regs.fx[b] == 0;
        if (diff)
            printf("fpu_leak: observer %d found %d fields not in the initial state "
                   "(fcw %02x%02x mxcsr %02x%02x xmm0 %02x%02x...)\n",
                   i, diff, o.regs.fx[1], o.regs.fx[0], o.regs.fx[FX_MXCSR + 1],
                   o.regs.fx[FX_MXCSR], o.regs.fx[FX_XMM], o.regs.fx[FX_XMM + 1]);
    }
    char d[80];
    snprintf(d, sizeof(d), "XINUSE %lx before the first FPU instruction, %lx in the initial state",
             (uint64_t)fresh, (uint64_t)initial_xinuse);
    check("fpu_leak.calls_answered", calls_ok, "a call to the owner failed");
    check("fpu_leak.xinuse_tells_nothing", xinuse_same, d);
    check("fpu_leak.first_use_sees_initial_state", initial_state,
          "a fresh thread saw registers of another process");
    check("fpu_leak.x87_pointers_clear", pointers_clear, "FOP, FIP or FDP not 0");
    if (!xinuse_tracked)
        printf("fpu_leak: this CPU reports every component in use (or cannot report XINUSE): "
               "fpu_leak.xinuse_tells_nothing cannot fail here\n");
    if (!pointers_tracked)
        printf("fpu_leak: this CPU stores no x87 instruction or data pointer: "
               "fpu_leak.x87_pointers_clear cannot fail here\n");
    return failures;
}

int main(void)
{
    char args[64];
    kc_args(args, sizeof(args));
    avx = fpu_has_avx();
    return strstr(args, "role=owner") ? owner() : observer();
}
