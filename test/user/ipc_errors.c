/*
 * ipc.errors: every way an IPC call can be refused gets its documented
 * error code, and the caller goes on. Also checks that a caller blocked on
 * a server that dies is woken with -E_DEAD, that timeouts fire and that
 * notifications arrive. Exit status = number of failed checks.
 */
#include <ipc/ipc.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

static int failures;

static void check(const char *what, long got, long want)
{
    if (got != want) {
        failures++;
        printf("ipc.errors: FAIL %s: got %ld (%s), want %ld (%s)\n", what, got, ipc_strerror(got),
               want, ipc_strerror(want));
    } else {
        printf("ipc.errors: ok   %s -> %s\n", what, want ? ipc_strerror(want) : "0");
    }
}

/* What a call brought back: the answer's label, or the call's error. */
static long answer_label(long rc, const struct ipc_msg *m)
{
    return rc == 0 ? (long)ipc_info_label(m->info) : rc;
}

/* A raw syscall with the given number and nothing else meaningful. */
static long raw_syscall(uint64_t nr)
{
    uint64_t rax = nr;
    __asm__ volatile("syscall"
                     : "+a"(rax)
                     : "D"(0), "S"(0), "d"(0)
                     : "rcx", "r11", "r8", "r9", "r10", "memory");
    return (long)rax;
}

static void exit_at_once(void *arg)
{
    (void)arg;
}

/* Receives one call and dies without answering it. */
static void die_holding_a_call(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    ipc_recv(IPC_ANY, &m);
}

/* Waits for anyone, forever (the target of the timeout checks). */
static void deaf(void *arg)
{
    (void)arg;
    for (;;)
        kc_sleep(1000);
}

static volatile long accepted;

/* Receives one message, accepting a handle with it. */
static void accept_one(void *arg)
{
    (void)arg;
    struct ipc_msg m = {.info = IPC_INFO_ACCEPT};
    if (ipc_recv(IPC_ANY, &m) == 0)
        accepted = m.info & IPC_INFO_CAP ? (long)m.cap : -E_NOENT;
}

/* Receives without accepting a handle. */
static void receive_plain(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    ipc_recv(IPC_ANY, &m);
}

/* Answers every call through the slow path (a separate receive and reply)
 * with each word changed in its own way, 64 bytes, label + 1. */
static void echo_slow(void *arg)
{
    (void)arg;
    for (;;) {
        struct ipc_msg m = {0};
        if (ipc_recv(IPC_ANY, &m) < 0)
            continue;
        for (int i = 0; i < IPC_MSG_WORDS; i++)
            m.w[i] = ~m.w[i] + (uint64_t)i * 0x0101010101010101ull;
        /* an odd timeout: each of its bits, the lowest too, must be stripped */
        m.info = ipc_info(IPC_MSG_BYTES, ipc_info_label(m.info) + 1) | ipc_info_timeout(1001);
        ipc_reply(m.badge, &m);
    }
}

/* Full 64-byte messages both ways, word by word: a call that takes the
 * slow path (it has a timeout) and one that may take the fast path. */
static void full_messages(void)
{
    long e = thread_create(echo_slow, 0, 0);
    uint64_t badge = 0;
    kc_cap_identify((uint64_t)e, &badge);
    for (int round = 0; round < 2; round++) {
        struct ipc_msg m = ipc_msg_make(40 + round, IPC_MSG_WORDS);
        if (round == 0)
            m.info |= ipc_info_timeout(1000);
        for (int i = 0; i < IPC_MSG_WORDS; i++)
            m.w[i] = 0x1122334455667788ull * (uint64_t)(i + 1) + (uint64_t)round;
        struct ipc_msg sent = m;
        long rc = ipc_call((uint64_t)e, &m);
        int bad = rc != 0;
        for (int i = 0; i < IPC_MSG_WORDS; i++)
            bad += m.w[i] != ~sent.w[i] + (uint64_t)i * 0x0101010101010101ull;
        bad += ipc_info_len(m.info) != IPC_MSG_BYTES || ipc_info_label(m.info) != 41u + round;
        bad += m.badge != badge;
        bad += (m.info >> IPC_INFO_TIMEOUT_SHIFT) != 0; /* the timeout is stripped */
        check(round == 0 ? "64-byte call and reply on the slow path, word by word"
                         : "64-byte call and reply, word by word",
              bad, 0);
    }
}

/* The server a caller calls: answers its one call late, with label 'A'. */
static volatile int stranger_go;

static void slow_server(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    if (ipc_recv(IPC_ANY, &m) < 0)
        return;
    stranger_go = 1;
    kc_sleep(5);
    m.info = ipc_info(8, 'A');
    ipc_reply(m.badge, &m);
}

/* A thread the caller never called tries to answer it (reply_recv with no
 * flag and no timeout: the fast path's case), with label 'B'. */
static void stranger(void *arg)
{
    uint64_t caller_badge = (uint64_t)(uintptr_t)arg;
    while (!stranger_go)
        kc_sleep(1);
    struct ipc_msg m = ipc_msg_make('B', 1);
    ipc_reply_recv(caller_badge, &m); /* refused, ignored: then waits forever */
}

static void reply_from_a_stranger(void)
{
    uint64_t badge = 0;
    kc_self(0, 0, 0, &badge);
    long a = thread_create(slow_server, 0, 0);
    thread_create(stranger, (void *)(uintptr_t)badge, 0);
    struct ipc_msg m = ipc_msg_make(1, 1);
    long rc = ipc_call((uint64_t)a, &m);
    check("only the thread we called answers our call", answer_label(rc, &m), 'A');
}

/* A server whose reply_recv carries a malformed reply (65 bytes) to a
 * caller that does wait for it: the error must come back at once (not a
 * receive that waits), and the caller keeps waiting for a proper answer. */
static volatile long malformed_reply_rc = 1;

static void malformed_replier(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    if (ipc_recv(IPC_ANY, &m) < 0)
        return;
    uint64_t caller = m.badge;
    m.info = 65;
    malformed_reply_rc = ipc_reply_recv(caller, &m);
    m = ipc_msg_make('C', 1);
    ipc_reply(caller, &m);
}

static void malformed_reply_recv(void)
{
    long s = thread_create(malformed_replier, 0, 0);
    struct ipc_msg m = ipc_msg_make(1, 1);
    m.info |= ipc_info_timeout(500); /* a lost answer fails the check instead of hanging */
    long rc = ipc_call((uint64_t)s, &m);
    check("a malformed reply in reply_recv is refused at once", malformed_reply_rc, -E_RANGE);
    check("the caller then gets the proper reply", answer_label(rc, &m), 'C');
}

/* A server with a notification pending when it answers with reply_recv:
 * the receive half must return that notification at once, not wait for
 * the next caller (the fast reply-receive path must leave it to the slow
 * one). */
static volatile uint64_t pending_self, pending_info, pending_bits;

static void replier_with_pending(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    if (ipc_recv(IPC_ANY, &m) < 0)
        return;
    uint64_t caller = m.badge;
    ipc_notify(pending_self, 1ull << 9); /* not receiving now: the bits wait */
    m = ipc_msg_make('P', 1);
    if (ipc_reply_recv(caller, &m) == 0) {
        pending_info = m.info;
        pending_bits = m.w[0];
    }
}

static void pending_notification_at_reply_recv(void)
{
    long s = thread_create(replier_with_pending, 0, 0);
    pending_self = (uint64_t)s;
    struct ipc_msg m = ipc_msg_make(1, 1);
    m.info |= ipc_info_timeout(500);
    long rc = ipc_call((uint64_t)s, &m);
    check("reply_recv with a notification pending answers", answer_label(rc, &m), 'P');
    kc_sleep(2);
    check("... and its receive returns the notification at once",
          (long)(pending_info & IPC_INFO_NOTIFY), (long)IPC_INFO_NOTIFY);
    check("... with its bits", (long)pending_bits, 1l << 9);
}

/* A receive from one thread only: a call from anyone else waits and never
 * reaches the receiver, on any path (the caller here has no timeout, which
 * would force the slow path: it stays queued until the test ends). */
static volatile long closed_got = -1;
static volatile uint64_t closed_target;

static void closed_receiver(void *arg)
{
    struct ipc_msg m = {0};
    if (ipc_recv((uint64_t)(uintptr_t)arg, &m) == 0) {
        uint64_t caller = m.badge;
        closed_got = (long)ipc_info_label(m.info);
        m = ipc_msg_make('R', 1);
        ipc_reply(caller, &m);
    }
}

static void closed_caller(void *arg)
{
    (void)arg;
    struct ipc_msg m = ipc_msg_make(7, 1);
    ipc_call(closed_target, &m);
}

static void closed_receive(long only_from)
{
    closed_target = (uint64_t)thread_create(closed_receiver, (void *)(uintptr_t)only_from, 0);
    kc_sleep(2); /* it waits in its receive (were it not, the call would queue: same answer) */
    thread_create(closed_caller, 0, 0);
    kc_sleep(2);
    check("a call to a thread receiving only from another never reaches it", closed_got, -1);
}

static volatile uint64_t got_info, got_bits, got_badge = 1;

static void notify_waiter(void *arg)
{
    (void)arg;
    struct ipc_msg m = {0};
    if (ipc_recv(IPC_ANY, &m) == 0) {
        got_info = m.info;
        got_bits = m.w[0];
        got_badge = m.badge;
    }
}

int main(void)
{
    struct ipc_msg m;

    /* Handles that do not name a thread. */
    m = ipc_msg_make(1, 1);
    check("call on an empty handle", ipc_call(40, &m), -E_BADHANDLE);
    m = ipc_msg_make(1, 1);
    check("call on a handle past the table", ipc_call(1000, &m), -E_BADHANDLE);
    m = ipc_msg_make(1, 1);
    check("call on handle -1", ipc_call((uint64_t)-1, &m), -E_BADHANDLE);
    check("lookup of an unknown name", name_lookup("no-such-server"), -E_NOENT);
    m = ipc_msg_make(1, 1);
    check("send to the kernel endpoint", ipc_send(HANDLE_KERNEL, &m), -E_INVAL);

    /* A thread that has exited is a dead endpoint. */
    long h = thread_create(exit_at_once, 0, 0);
    check("create a short-lived thread", h > 0 ? 0 : h, 0);
    kc_sleep(2);
    m = ipc_msg_make(1, 1);
    check("call to a thread that exited", ipc_call((uint64_t)h, &m), -E_DEAD);
    check("notify a thread that exited", ipc_notify((uint64_t)h, 1), -E_DEAD);
    check("identify a dead handle", kc_cap_identify((uint64_t)h, 0), -E_DEAD);

    /* A server that dies while holding our call: we get -E_DEAD, no hang. */
    h = thread_create(die_holding_a_call, 0, 0);
    m = ipc_msg_make(1, 1);
    check("call to a server that dies before replying", ipc_call((uint64_t)h, &m), -E_DEAD);

    /* Unknown system calls and kernel operations. */
    check("syscall number 0", raw_syscall(0), -E_NOSYS);
    check("syscall number 99", raw_syscall(99), -E_NOSYS);
    check("syscall number 2^63", raw_syscall(1ull << 63), -E_NOSYS);
    m = (struct ipc_msg){0};
    check("unknown kernel operation", kc_call(999, &m), -E_NOSYS);
    check("kernel operation without privilege (spawn)",
          kc_spawn_budget(0, 0, 1, 0, 0, 0, "x", 0, 0), -E_PERM);
    check("kernel operation without privilege (kill)", kc_kill(1), -E_PERM);
    check("kernel operation without privilege (map)", kc_map(1, 0x100000000, 0, 1, 0), -E_PERM);
    check("kernel operation without privilege (io)", kc_io_out(0x3f8, 1, 'x'), -E_PERM);
    check("kernel log with a bad pointer", kc_log((const char *)0xffff800000000000ull, 8),
          -E_FAULT);
    check("kernel log from an unmapped page", kc_log((const char *)0x10000, 8), -E_FAULT);

    /* Malformed messages. */
    long d = thread_create(deaf, 0, 0);
    m = ipc_msg_make(1, 1);
    m.info = 65;
    check("message of 65 bytes", ipc_call((uint64_t)d, &m), -E_INVAL);
    m = ipc_msg_make(1, 1);
    m.info |= IPC_INFO_CAP;
    m.cap = 50;
    check("passing a handle we do not have", ipc_call((uint64_t)d, &m), -E_BADHANDLE);
    m = ipc_msg_make(1, 1);
    check("reply to a thread that is not calling us", ipc_reply(1, &m), -E_DEAD);

    /* Handles: a receiver gets one only if it asked; a stale one never
     * names the capability that reuses its slot. */
    long a = thread_create(accept_one, 0, 0);
    long w2 = thread_create(receive_plain, 0, 0);
    kc_sleep(2);
    m = ipc_msg_make(1, 1);
    m.info |= IPC_INFO_CAP;
    m.cap = IPC_SELF;
    check("a handle to a receiver that did not accept one", ipc_send((uint64_t)w2, &m),
          -E_NOACCEPT);
    m = ipc_msg_make(1, 1);
    m.info |= IPC_INFO_CAP;
    m.cap = IPC_SELF;
    check("a handle to a receiver that accepts one", ipc_send((uint64_t)a, &m), 0);
    kc_sleep(2);
    check("it arrives as a new handle", accepted > 2 ? 0 : accepted, 0);
    long e = thread_create(exit_at_once, 0, 0);
    kc_sleep(2);
    check("delete a handle", kc_cap_delete((uint64_t)e), 0);
    long f = thread_create(deaf, 0, 0);
    check("its slot is reused under another handle",
          (f & CAP_SLOT_MASK) == (e & CAP_SLOT_MASK) && f != e ? 0 : -1, 0);
    m = ipc_msg_make(1, 1);
    check("the deleted handle names nothing", ipc_call((uint64_t)e, &m), -E_BADHANDLE);
    full_messages();
    reply_from_a_stranger();
    malformed_reply_recv();
    check("delete a handle", kc_cap_delete((uint64_t)d), 0);
    check("delete it again", kc_cap_delete((uint64_t)d), -E_BADHANDLE);
    d = thread_create(deaf, 0, 0);

    /* Non-blocking and timeouts. */
    m = ipc_msg_make(0, 0);
    m.info |= IPC_INFO_NONBLOCK;
    check("non-blocking receive with nothing queued", ipc_recv(IPC_ANY, &m), -E_AGAIN);
    m = ipc_msg_make(1, 1);
    m.info |= IPC_INFO_NONBLOCK;
    check("non-blocking send to a thread not receiving", ipc_send((uint64_t)d, &m), -E_AGAIN);
    m = ipc_msg_make(1, 1);
    m.info |= ipc_info_timeout(3);
    check("call with a 3-tick timeout to a thread not receiving", ipc_call((uint64_t)d, &m),
          -E_TIMEDOUT);
    m = ipc_msg_make(0, 0);
    m.info |= ipc_info_timeout(2);
    check("receive with a 2-tick timeout", ipc_recv(IPC_ANY, &m), -E_TIMEDOUT);

    /* Notifications reach a thread waiting in a receive from anyone. */
    long w = thread_create(notify_waiter, 0, 0);
    kc_sleep(2);
    check("notify a waiting thread", ipc_notify((uint64_t)w, 1ull << 5), 0);
    kc_sleep(2);
    check("notification arrives as a notification", (long)(got_info & IPC_INFO_NOTIFY),
          (long)IPC_INFO_NOTIFY);
    check("notification carries the bits", (long)got_bits, 1l << 5);
    check("notification badge is the kernel's", (long)got_badge, 0);
    check("notify with an empty handle", ipc_notify(33, 1), -E_BADHANDLE);
    pending_notification_at_reply_recv();
    closed_receive(d); /* last: its two threads stay blocked, in thread slots */

    printf("ipc.errors: %d checks failed\n", failures);
    return failures;
}
