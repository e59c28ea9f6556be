/*
 * cpu.segments_sender, cpu.segments_receiver: a covert channel through the
 * segment registers. The sender (prio 9) loads DS, ES, FS and GS with one of
 * eight values user mode may load (null selectors with RPL 1-3, the user
 * data and code descriptors) to encode a secret, then (1) calls the
 * receiver, which reads its own selectors the moment the call arrives (the
 * IPC fast path switches straight to it), and (2) spins reloading them,
 * while a receiver thread at prio 10 wakes every tick, preempting it, and
 * reads its selectors. The kernel must hand the receiver null selectors
 * every time: it reads 0, never a value of the sender's. The receiver also
 * reads a variable of its own through FS and GS: both bases must be 0
 * (nothing can set them but descriptors of base 0; docs/abi.md §8.2).
 */
#include <common/string.h>
#include <ipc/ipc.h>
#include <ipc/name.h>

#include "cpulib.h"

#define SEG_SECRET 1 /* sender -> receiver: "read your selectors now" */
#define SEG_DONE   2 /* sender -> receiver: has the sleeper finished? */
#define SECRETS    64
#define SLEEPS     40

static const uint16_t loadable[8] = {1, 2, 3, 0x20, 0x21, 0x22, 0x23, 0x2b};

static struct selectors secret(unsigned k)
{
    return (struct selectors){loadable[k & 7], loadable[(k >> 3) & 7], loadable[(k >> 1) & 7],
                              loadable[(k + 5) & 7]};
}

static void print_selectors(const char *what, struct selectors s)
{
    printf("segments: %s ds=%x es=%x fs=%x gs=%x\n", what, s.ds, s.es, s.fs, s.gs);
}

/* ---- receiver ---------------------------------------------------------- */

static volatile int sleeper_go, sleeper_done;
static volatile uint64_t sleeper_leaks, base_not_zero;
static volatile uint64_t marker = 0x6772616e697465;

/* 1 if FS- and GS-relative reads of marker find it: both bases are 0. */
static int bases_zero(void)
{
    uint64_t via_fs, via_gs;
    __asm__ volatile("mov %%fs:(%2), %0; mov %%gs:(%2), %1"
                     : "=&r"(via_fs), "=&r"(via_gs)
                     : "r"(&marker)
                     : "memory");
    return via_fs == marker && via_gs == marker;
}

static void sleeper(void *arg)
{
    (void)arg;
    while (!sleeper_go) /* until the sender spins with its selectors loaded */
        kc_sleep(1);
    for (int i = 0; i < SLEEPS; i++) {
        kc_sleep(1);
        struct selectors s = selectors_read(); /* first thing after the switch back */
        if (!selectors_null(s)) {
            sleeper_leaks++;
            print_selectors("after a sleep the receiver reads", s);
        }
        base_not_zero += !bases_zero();
    }
    sleeper_done = 1;
    for (;;)
        kc_sleep(1000);
}

static int receiver(void)
{
    long rc = name_register("segrecv");
    if (rc < 0) {
        printf("segments: cannot register: %s\n", ipc_strerror(rc));
        return 1;
    }
    if (thread_create(sleeper, 0, 0) < 0)
        return 1;
    uint64_t messages = 0, leaks = 0;
    struct ipc_msg m = {0};
    rc = ipc_recv(IPC_ANY, &m);
    for (;;) {
        struct selectors s = selectors_read(); /* before anything else runs */
        if (rc < 0) {
            m.info = 0;
            rc = ipc_recv(IPC_ANY, &m);
            continue;
        }
        uint32_t label = ipc_info_label(m.info);
        if (label == SEG_SECRET) {
            messages++;
            if (!selectors_null(s)) {
                leaks++;
                print_selectors("on a call the receiver reads", s);
            }
            m.w[0] = s.ds | (uint64_t)s.es << 16 | (uint64_t)s.fs << 32 | (uint64_t)s.gs << 48;
        } else {
            sleeper_go = 1;
            m.w[0] = sleeper_done;
        }
        m.info = ipc_info(8, label);
        if (label == SEG_DONE && sleeper_done) {
            ipc_reply(m.badge, &m);
            break;
        }
        rc = ipc_reply_recv(m.badge, &m);
    }
    check("segments.call_receiver_reads_null", messages == SECRETS && leaks == 0,
          "the receiver read the sender's selectors (or missed messages)");
    check("segments.preempting_thread_reads_null", sleeper_leaks == 0,
          "a thread switched in after the sender read its selectors");
    check("segments.fs_gs_bases_zero", base_not_zero == 0, "an FS or GS base was not 0");
    return failures;
}

/* ---- sender ------------------------------------------------------------ */

static int sender(void)
{
    long h = name_lookup_wait("segrecv", 500);
    if (h < 0) {
        printf("segments: no receiver: %s\n", ipc_strerror(h));
        return 1;
    }
    uint64_t leaked = 0;
    for (unsigned k = 0; k < SECRETS; k++) {
        struct ipc_msg m = ipc_msg_make(SEG_SECRET, 0);
        selectors_load(secret(k));
        long rc = ipc_call((uint64_t)h, &m);
        if (rc < 0) {
            printf("segments: call failed: %s\n", ipc_strerror(rc));
            return 1;
        }
        leaked += m.w[0] != 0;
    }
    check("segments.secrets_not_received", leaked == 0, "the receiver decoded a secret");
    /* Spin with a secret loaded until the receiver's sleeper has preempted
     * us SLEEPS times; the selectors are reloaded all the time, since any
     * kernel entry may reset them. */
    for (unsigned k = 0;; k++) {
        for (int i = 0; i < 100000; i++)
            selectors_load(secret(k + (unsigned)i));
        struct ipc_msg m = ipc_msg_make(SEG_DONE, 0);
        long rc = ipc_call((uint64_t)h, &m);
        if (rc < 0 || m.w[0])
            break;
    }
    return failures;
}

int main(void)
{
    char args[64];
    kc_args(args, sizeof(args));
    return strstr(args, "role=receiver") ? receiver() : sender();
}
