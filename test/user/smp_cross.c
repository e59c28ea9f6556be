/*
 * smp.cross (issue 16): IPC between CPUs. A server thread of ours moved to
 * CPU 1 answers ROUNDS cross-core calls from CPU 0, every word checked,
 * and one with FPU state as many without CPU 0's fast path running it;
 * then we move ourselves beside it and the same calls take the fast path;
 * then a partner process on CPU 1 is killed in the middle of our call while
 * it runs and while it is blocked, and the call ends with -E_DEAD. The
 * "pong" server, pinned to CPU 1 by its boot line (cpu=1), answers from
 * another address space. Nothing
 * waits for time: every wait is for a state the kernel reports.
 */
#include <abi/errno.h>
#include <abi/ipc.h>
#include <ipc/ipc.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>
#include <common/string.h>

/* Under TCG a cross-core round trip is two IPIs between host threads;
 * 20000 keep the test well inside the suite's time on a loaded machine. */
#define ROUNDS      20000
#define SAME_ROUNDS 2000
#define FPU_ROUNDS  500

static int failures;

static void check(const char *what, int ok)
{
    printf("smp.cross: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* Inverts every word: the caller checks all 64 bytes made the round trip.
 * With arg, it first runs one x87 instruction: from then on it has FPU
 * state (fpu_fresh = 0), which the fast path's CPU check once let through
 * for a thread of the next CPU. */
static void server(void *arg)
{
    if (arg)
        __asm__ volatile("fninit"); /* x87: this program is built without SSE */
    struct ipc_msg m = {0};
    long rc = ipc_recv(IPC_ANY, &m);
    while (rc >= 0) {
        for (int i = 0; i < IPC_MSG_WORDS; i++)
            m.w[i] = ~m.w[i];
        m.info = ipc_info(IPC_MSG_BYTES, ipc_info_label(m.info));
        rc = ipc_reply_recv(m.badge, &m);
    }
    printf("smp.cross: server: %s\n", ipc_strerror(rc));
    kc_thread_exit();
}

static uint32_t slot_of(uint32_t tid)
{
    return tid & ID_SLOT_MASK;
}

/* The CPU and state the kernel reports for a thread. */
static long info(uint32_t tid, uint32_t *cpu, char state[16])
{
    uint32_t t = 0, pid, prio;
    long rc = kc_thread_info(slot_of(tid), &t, &pid, &prio, state, cpu);
    return rc < 0 ? rc : t == tid ? 0 : -E_DEAD;
}

static uint32_t tid_of(long handle)
{
    uint64_t badge = 0;
    kc_cap_identify((uint64_t)handle, &badge);
    return (uint32_t)badge;
}

static uint64_t round_trips(long h, int n, uint64_t seed)
{
    uint64_t bad = 0;
    struct ipc_msg m;
    for (int r = 0; r < n; r++) {
        m.info = ipc_info(IPC_MSG_BYTES, 5);
        m.cap = 0;
        for (int w = 0; w < IPC_MSG_WORDS; w++)
            m.w[w] = (seed + (uint64_t)r) * 8 + (uint64_t)w;
        if (ipc_call((uint64_t)h, &m) < 0) {
            bad++;
            continue;
        }
        for (int w = 0; w < IPC_MSG_WORDS; w++)
            bad += m.w[w] != ~((seed + (uint64_t)r) * 8 + (uint64_t)w);
        bad += ipc_info_len(m.info) != IPC_MSG_BYTES || ipc_info_label(m.info) != 5;
    }
    return bad;
}

/* ---- killing a partner on the other CPU in the middle of a call ---- */

static volatile long stuck_rc = 1;
static volatile int stuck_done;
static volatile uint64_t stuck_target, stuck_label;

/* Calls the victim with a label that makes it not answer. */
static void stuck_caller(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    m.info = ipc_info(8, (uint32_t)stuck_label);
    stuck_rc = ipc_call(stuck_target, &m);
    stuck_done = 1;
    kc_thread_exit();
}

static int wait_state(uint32_t tid, const char *want)
{
    char state[16] = "";
    uint32_t cpu;
    for (;;) {
        if (info(tid, &cpu, state) < 0)
            return 0;
        if (strcmp(state, want) == 0)
            return 1;
        kc_yield();
    }
}

static void kill_mid_call(uint32_t module, uint32_t label, const char *victim_state)
{
    uint32_t pid = 0;
    /* A small budget out of ours: one thread, no children. */
    long h = kc_spawn(module, 0, 0, 0, 0, 0, "smp.victim", 128, 1, 1, &pid);
    if (h < 0) {
        printf("smp.cross: cannot spawn the victim: %s\n", ipc_strerror(h));
        check("spawn the victim", 0);
        return;
    }
    check("victim moved to cpu 1", kc_thread_set_cpu((uint64_t)h, 1) == 0);
    /* It answers label 0: it is up and serving on CPU 1. */
    struct ipc_msg m = {0};
    m.info = ipc_info(8, 0);
    check("victim answers from cpu 1", ipc_call((uint64_t)h, &m) == 0 && m.w[0] == 1);
    uint32_t vtid = tid_of(h), cpu = 9;
    char state[16];
    check("victim's cpu is 1", info(vtid, &cpu, state) == 0 && cpu == 1);

    stuck_target = (uint64_t)h;
    stuck_label = label;
    stuck_done = 0;
    long caller = thread_create(stuck_caller, 0, 0);
    if (caller < 0) {
        check("caller thread", 0);
        return;
    }
    uint32_t ctid = tid_of(caller);
    /* The call has reached the victim, which now runs or waits on CPU 1. */
    check("our call waits for the reply", wait_state(ctid, "awaiting reply"));
    check(victim_state, wait_state(vtid, victim_state));
    check("kill", kc_kill(pid) == 0);
    while (!stuck_done)
        kc_yield();
    check("the call ends with -E_DEAD", stuck_rc == -E_DEAD);
    uint32_t dpid = 0, reason = 0;
    while (kc_wait_death(&dpid, &reason, 0, 0) < 0)
        kc_yield();
    check("its death is reported", dpid == pid && reason == DEATH_KILLED);
    check("a dead thread is not moved", kc_thread_set_cpu((uint64_t)h, 0) == -E_DEAD);
    kc_cap_delete((uint64_t)h);
    kc_cap_delete((uint64_t)caller);
}

int main(void)
{
    uint32_t pid, me, cpu = 9;
    char state[16];
    kc_self(&pid, &me, 0, 0);
    long srv = thread_create(server, 0, 0);
    if (srv < 0) {
        printf("smp.cross: no server thread: %s\n", ipc_strerror(srv));
        return 1;
    }
    uint32_t stid = tid_of(srv);
    check("a thread starts on its creator's cpu", info(stid, &cpu, state) == 0 && cpu == 0);
    check("move the server to cpu 1", kc_thread_set_cpu((uint64_t)srv, 1) == 0);
    check("the server's cpu is 1", info(stid, &cpu, state) == 0 && cpu == 1);
    check("no cpu 2", kc_thread_set_cpu((uint64_t)srv, 2) == -E_RANGE);
    check("our cpu is 0", info(me, &cpu, state) == 0 && cpu == 0);

    uint64_t bad = round_trips(srv, ROUNDS, 0);
    printf("smp.cross: %d cross-core round trips, %lu bad words\n", ROUNDS, bad);
    check("cross-core round trips", bad == 0);

    /* A server of CPU 1 with FPU state: our calls from CPU 0 must never
     * take CPU 0's fast path (it would run that thread here, off its CPU,
     * its FPU state possibly still in CPU 1's registers). */
    long fsrv = thread_create(server, (void *)1, 0);
    check("fpu server on cpu 1", fsrv >= 0 && kc_thread_set_cpu((uint64_t)fsrv, 1) == 0);
    if (fsrv >= 0) {
        uint64_t s0[7], s1[7];
        kc_stats(s0);
        bad = round_trips(fsrv, FPU_ROUNDS, 2 * ROUNDS);
        kc_stats(s1);
        uint64_t fast = s1[0] - s0[0];
        printf("smp.cross: %d calls to a thread of cpu 1 with FPU state, %lu bad words, %lu fast "
               "calls on cpu 0\n",
               FPU_ROUNDS, bad, fast);
        check("calls to a thread with FPU state on cpu 1", bad == 0);
        check("none takes cpu 0's fast path", fast < FPU_ROUNDS / 10);
    }

    /* Beside the server: the same calls, on the fast path of CPU 1. */
    check("move ourselves to cpu 1", kc_thread_set_cpu(IPC_SELF, 1) == 0);
    check("our cpu is 1", info(me, &cpu, state) == 0 && cpu == 1);
    uint64_t before[7], after[7];
    kc_stats(before);
    bad = round_trips(srv, SAME_ROUNDS, ROUNDS);
    kc_stats(after);
    uint64_t fast = after[0] - before[0];
    printf("smp.cross: %d same-core round trips on cpu 1, %lu bad words, %lu fast calls\n",
           SAME_ROUNDS, bad, fast);
    check("same-core round trips on cpu 1", bad == 0);
    check("they take cpu 1's fast path", fast >= SAME_ROUNDS - SAME_ROUNDS / 100);
    check("back to cpu 0",
          kc_thread_set_cpu(IPC_SELF, 0) == 0 && info(me, &cpu, state) == 0 && cpu == 0);

    /* pong: placed on CPU 1 by the boot configuration. */
    long pong = name_lookup_wait("pong", 500);
    check("pong is on cpu 1", pong >= 0 && info(tid_of(pong), &cpu, state) == 0 && cpu == 1);
    /* Not ours and not one we reap (the boot server does): refused, left where it is. */
    check("another process's thread is not ours to move",
          kc_thread_set_cpu((uint64_t)pong, 0) == -E_PERM && info(tid_of(pong), &cpu, state) == 0 &&
              cpu == 1);
    check("no thread behind an empty handle", kc_thread_set_cpu(40, 1) == -E_BADHANDLE);
    if (pong >= 0) {
        struct ipc_msg m;
        uint64_t pbad = 0;
        for (int r = 0; r < SAME_ROUNDS; r++) {
            m.info = ipc_info(IPC_MSG_BYTES, 7);
            m.cap = 0;
            for (int w = 0; w < IPC_MSG_WORDS; w++)
                m.w[w] = (uint64_t)r * 8 + (uint64_t)w;
            if (ipc_call((uint64_t)pong, &m) < 0) {
                pbad++;
                continue;
            }
            for (int w = 0; w < IPC_MSG_WORDS; w++)
                pbad += m.w[w] != ~((uint64_t)r * 8 + (uint64_t)w);
        }
        printf("smp.cross: %d cross-core calls to pong, %lu bad words\n", SAME_ROUNDS, pbad);
        check("cross-core, cross-address-space calls to pong", pbad == 0);
    }

    uint32_t module = 0;
    struct kc_module_info mi;
    while (kc_module_info(module, &mi) == 0 && strcmp(mi.name, "smp.victim") != 0)
        module++;
    /* The victim spins on CPU 1 without answering (killed while running
     * there), then waits in a receive (killed while blocked there). */
    kill_mid_call(module, 1, "running");
    kill_mid_call(module, 2, "receiving");

    printf("smp.cross: %d checks failed\n", failures);
    return failures ? 1 : 0;
}
