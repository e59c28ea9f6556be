/*
 * IPC slow path (see ipc.h). A message moves register to register: from the
 * sender's saved registers (or live ones, on the fast path) into the
 * receiver's saved registers. Nothing is buffered in the kernel: a sender
 * that finds nobody receiving waits in the receiver's send queue.
 */
#include "ipc.h"

#include <abi/errno.h>
#include <abi/syscall.h>

#include "arch/x86_64/pcpu.h"
#include "calls_gen.h"
#include "kcall.h"
#include "klog.h"
#include "sched.h"

/* Finish a blocked thread's call with `status` and make it runnable. */
static void complete(struct thread *t, long status)
{
    t->regs.rax = (uint64_t)status;
    t->wake_tick = 0;
    t->partner = 0;
    sched_ready(t);
}

static void sendq_remove(struct thread *target, struct thread *t)
{
    struct thread *prev = 0;
    for (struct thread *q = target->sendq_head; q; prev = q, q = q->sendq_next) {
        if (q != t)
            continue;
        if (prev)
            prev->sendq_next = q->sendq_next;
        else
            target->sendq_head = q->sendq_next;
        if (target->sendq_tail == q)
            target->sendq_tail = prev;
        q->sendq_next = 0;
        return;
    }
}

/* A message's info word: length at most 64, no reserved bit set. */
static int info_ok(uint64_t info)
{
    return ipc_info_len(info) <= IPC_MSG_BYTES && !(info & IPC_INFO_RESERVED);
}

static void set_deadline(struct thread *t, uint64_t info)
{
    uint64_t ticks = info >> IPC_INFO_TIMEOUT_SHIFT;
    t->wake_tick = ticks ? sched_ticks + ticks : 0;
}

/*
 * Validate the handle a sender wants to pass along (IPC_INFO_CAP in RSI,
 * handle in RDX) before anything blocks, so errors come back at once; then
 * whether the receiver accepts one (`accepts`: known for a reply, assumed
 * for a send until it meets its receiver).
 */
static int check_xfer(struct thread *s, int accepts)
{
    if (!(s->regs.rsi & IPC_INFO_CAP))
        return 0;
    int err;
    if (s->regs.rdx != IPC_SELF && !cap_lookup(s->proc, s->regs.rdx, CAP_RIGHT_XFER, &err))
        return err;
    return accepts ? 0 : -E_NOACCEPT;
}

/* s's message carries a capability and its receiver did not say it
 * accepts one (r_accepts = 0): the transfer is refused to s (-E_NOACCEPT)
 * and nothing reaches the receiver. */
static int refuses_cap(const struct thread *s, uint64_t r_accepts)
{
    return (s->regs.rsi & IPC_INFO_CAP) && !r_accepts;
}

/* Copy s's message into r's registers; r becomes the receiver of it.
 * Precondition: !refuses_cap(s, what r accepts). */
static void deliver(struct thread *s, struct thread *r)
{
    uint64_t info = s->regs.rsi & ~(IPC_INFO_NOTIFY | IPC_INFO_NONBLOCK | IPC_INFO_ACCEPT);
    info &= ~(0xffffffffull << IPC_INFO_TIMEOUT_SHIFT);
    uint64_t handle = 0;
    if (info & IPC_INFO_CAP) {
        struct thread *t = s;
        uint32_t rights = CAP_RIGHT_SEND | CAP_RIGHT_XFER;
        int err = 0;
        if (s->regs.rdx != IPC_SELF) {
            const struct cap *c = cap_get(s->proc, s->regs.rdx, CAP_RIGHT_XFER, &err);
            t = c ? c->thread : 0;
            rights = c ? c->rights : 0;
        }
        long h = t ? cap_install(r->proc, t, rights) : err;
        handle = (uint64_t)(int64_t)h; /* negative: the transfer failed, message still arrives */
    }
    r->regs.rax = 0;
    r->regs.rdi = s->badge;
    r->regs.rsi = info;
    r->regs.rdx = handle;
    /* The message: one 64-byte copy, inlined as eight moves. Plain memcpy
     * is a call under -fno-builtin, some 40 instructions more per message
     * on the slow path (bench.instructions). */
    __builtin_memcpy(r->regs.mr, s->regs.mr, sizeof(r->regs.mr));
    r->wake_tick = 0;
}

/* Give r (waiting to receive from any) its pending notification bits. */
static void deliver_notification(struct thread *r)
{
    r->regs.rax = 0;
    r->regs.rdi = BADGE_KERNEL;
    r->regs.rsi = IPC_NOTIFICATION_INFO;
    r->regs.rdx = 0;
    r->regs.mr[0] = r->notify;
    r->notify = 0;
    r->wake_tick = 0;
}

static int accepts(const struct thread *r, const struct thread *s)
{
    return r->state == TS_RECV && (r->recv_from == 0 || r->recv_from == s->tid);
}

/* After r took s's message: a caller now waits for the reply, a plain
 * sender is done. */
static void sender_done(struct thread *s, struct thread *r)
{
    if (s->is_call) {
        s->state = TS_REPLY;
        s->partner = r;
    } else {
        s->partner = 0;
        s->wake_tick = 0;
        s->regs.rax = 0;
        if (s != pcpu.cur)
            sched_ready(s);
    }
}

/* The send half of send and call. Returns 0 if delivered, SYS_BLOCKED if
 * the caller now waits in the target's queue, or an error. */
static long send_phase(struct thread *cur, int is_call)
{
    int err = 0;
    struct thread *r = cap_lookup(cur->proc, cur->regs.rdi, CAP_RIGHT_SEND, &err);
    if (!r)
        return err;
    if (r == cur)
        return -E_INVAL; /* sending to yourself could only deadlock */
    if (!info_ok(cur->regs.rsi))
        return -E_INVAL;
    err = check_xfer(cur, 1);
    if (err < 0)
        return err;
    cur->is_call = (uint8_t)is_call;
    /* A caller's IPC_INFO_ACCEPT is about the reply: remembered while it
     * waits, queued or for the answer. */
    uint8_t accept_reply = is_call && (cur->regs.rsi & IPC_INFO_ACCEPT);
    if (accepts(r, cur)) {
        if (refuses_cap(cur, r->accept_cap))
            return -E_NOACCEPT; /* r keeps waiting; nothing was installed */
        deliver(cur, r);
        if (is_call) {
            cur->state = TS_REPLY;
            cur->accept_cap = accept_reply;
            cur->partner = r;
            set_deadline(cur, cur->regs.rsi);
            sched_handoff(r);
            return SYS_BLOCKED;
        }
        sched_ready(r);
        return 0;
    }
    if (cur->regs.rsi & IPC_INFO_NONBLOCK)
        return -E_AGAIN;
    cur->state = TS_SEND;
    cur->accept_cap = accept_reply;
    cur->partner = r;
    cur->sendq_next = 0;
    if (r->sendq_tail)
        r->sendq_tail->sendq_next = cur;
    else
        r->sendq_head = cur;
    r->sendq_tail = cur;
    set_deadline(cur, cur->regs.rsi);
    return SYS_BLOCKED;
}

long sys_ipc_send(struct thread *cur)
{
    if (cur->regs.rdi == HANDLE_KERNEL)
        return -E_INVAL; /* the kernel only answers calls */
    return send_phase(cur, 0);
}

long sys_ipc_call(struct thread *cur)
{
    if (cur->regs.rdi == HANDLE_KERNEL)
        return kcall_dispatch(cur);
    return send_phase(cur, 1);
}

/* Deliver to cur the message of the oldest queued sender it takes (any,
 * or tid `from`); senders with a capability that `info` does not accept
 * are sent back with -E_NOACCEPT on the way. Returns 0, or -E_AGAIN when
 * no queued sender was taken. Out of line: most receives find no queue. */
static __attribute__((noinline)) long take_queued(struct thread *cur, uint32_t from, uint64_t info)
{
    for (struct thread *s = cur->sendq_head, *next; s; s = next) {
        next = s->sendq_next;
        if (from != 0 && s->tid != from)
            continue;
        sendq_remove(cur, s);
        if (refuses_cap(s, info & IPC_INFO_ACCEPT)) {
            complete(s, -E_NOACCEPT); /* its message never arrives */
            continue;
        }
        deliver(s, cur);
        sender_done(s, cur);
        return 0;
    }
    return -E_AGAIN;
}

/* The receive half of recv and reply_recv: `from` is a tid or 0 for any. */
static long recv_phase(struct thread *cur, uint32_t from, uint64_t info)
{
    if (from == 0 && cur->notify) {
        deliver_notification(cur);
        return 0;
    }
    if (cur->sendq_head && take_queued(cur, from, info) == 0)
        return 0;
    if (info & IPC_INFO_NONBLOCK)
        return -E_AGAIN;
    cur->state = TS_RECV;
    cur->accept_cap = (info & IPC_INFO_ACCEPT) != 0;
    cur->recv_from = from;
    set_deadline(cur, info);
    return SYS_BLOCKED;
}

long sys_ipc_recv(struct thread *cur)
{
    uint32_t from = 0;
    if (cur->regs.rdi != IPC_ANY) {
        int err = 0;
        struct thread *s = cap_lookup(cur->proc, cur->regs.rdi, CAP_RIGHT_SEND, &err);
        if (!s)
            return err;
        from = s->tid;
    }
    long rc = recv_phase(cur, from, cur->regs.rsi);
    return rc == 0 ? (long)cur->regs.rax : rc;
}

/* Answer the caller named by badge; it must be waiting for our reply.
 * Sets *absent when there is no such caller (any more): then the error is
 * -E_DEAD or -E_INVAL; any other error means the reply itself is bad. */
static inline long reply_phase(struct thread *cur, uint64_t badge, struct thread **woken,
                               int *absent)
{
    struct thread *c = thread_by_tid(badge_tid(badge));
    *absent = 1;
    if (!c)
        return -E_DEAD;
    if (c->state != TS_REPLY || c->partner != cur)
        return -E_INVAL;
    *absent = 0;
    if (!info_ok(cur->regs.rsi))
        return -E_RANGE;
    int err = check_xfer(cur, c->accept_cap); /* -E_NOACCEPT: it did not ask for one */
    if (err < 0)
        return err;
    deliver(cur, c);
    c->partner = 0;
    *woken = c;
    return 0;
}

long sys_ipc_reply(struct thread *cur)
{
    struct thread *c = 0;
    int absent;
    long rc = reply_phase(cur, cur->regs.rdi, &c, &absent);
    if (rc == 0)
        sched_ready_front(c);
    return rc;
}

long sys_ipc_reply_recv(struct thread *cur)
{
    struct thread *c = 0;
    /* A caller that died or timed out meanwhile is not our problem: the
     * server goes on to its next message. A malformed reply is: the error
     * comes back at once and the caller keeps waiting for a proper one. */
    int absent;
    long rc = reply_phase(cur, cur->regs.rdi, &c, &absent);
    if (rc < 0 && !absent)
        return rc;
    rc = recv_phase(cur, 0, cur->regs.rsi);
    if (c) {
        if (rc == SYS_BLOCKED)
            sched_handoff(c);
        else
            sched_ready_front(c);
    }
    return rc == 0 ? (long)cur->regs.rax : rc;
}

void ipc_notify_thread(struct thread *t, uint64_t bits)
{
    t->notify |= bits;
    if (t->state == TS_RECV && t->recv_from == 0) {
        deliver_notification(t);
        sched_ready(t);
    }
}

long sys_ipc_notify(struct thread *cur)
{
    int err = 0;
    struct thread *t = cap_lookup(cur->proc, cur->regs.rdi, CAP_RIGHT_SEND, &err);
    if (!t)
        return err;
    if (cur->regs.rsi) /* no bits: nothing to deliver, nobody to wake */
        ipc_notify_thread(t, cur->regs.rsi);
    return 0;
}

void ipc_thread_dying(struct thread *t)
{
    if (t->state == TS_SEND && t->partner)
        sendq_remove(t->partner, t);
    for (struct thread *s = t->sendq_head; s;) {
        struct thread *next = s->sendq_next;
        s->sendq_next = 0;
        complete(s, -E_DEAD);
        s = next;
    }
    t->sendq_head = t->sendq_tail = 0;
    for (int i = 0; i < MAX_THREADS; i++) {
        struct thread *u = &threads[i];
        if (u == t || u->state == TS_FREE)
            continue;
        if ((u->state == TS_REPLY && u->partner == t) ||
            (u->state == TS_RECV && u->recv_from == t->tid))
            complete(u, -E_DEAD);
    }
}

void ipc_timeouts(uint64_t now)
{
    for (int i = 0; i < MAX_THREADS; i++) {
        struct thread *t = &threads[i];
        if (!t->wake_tick || t->wake_tick > now)
            continue;
        switch (t->state) {
        case TS_SEND:
            sendq_remove(t->partner, t);
            complete(t, -E_TIMEDOUT);
            break;
        case TS_RECV:
        case TS_REPLY:
            complete(t, -E_TIMEDOUT);
            break;
        case TS_SLEEP:
            complete(t, 0);
            break;
        default: /* running or ready: the deadline no longer applies */
            t->wake_tick = 0;
        }
    }
}

long ipc_sleep(struct thread *cur, uint64_t ticks)
{
    if (ticks == 0)
        return 0;
    cur->state = TS_SLEEP;
    /* A deadline past the end of time is "never" (0 would mean "none"). */
    cur->wake_tick = ticks > UINT64_MAX - sched_ticks ? UINT64_MAX : sched_ticks + ticks;
    return SYS_BLOCKED;
}
