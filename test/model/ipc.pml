/*
 * Promela model of Granite's synchronous IPC: call / recv / reply_recv with
 * timeouts, thread death and server restart. Checked by check.sh with spin.
 *
 * The reference semantics are the slow path, kernel/ipc.c. The kernel is
 * non-preemptible on one CPU, so the kernel part of one system call, one
 * timer tick or one kill is a single d_step here; user code interleaves
 * arbitrarily between them (a timer interrupt may preempt any user
 * instruction). Every Promela interleaving of runnable threads is a legal
 * schedule, so the model covers every priority assignment: READY and
 * RUNNING are not told apart (sched_handoff() and sched_ready() both just
 * make a thread runnable here).
 *
 * Threads (kernel/proc.h struct thread, one array entry per slot):
 *   slots 0 .. NC-1   client threads, each doing NCALLS operations
 *   slot  SRV         the server thread; after it is killed, the boot
 *                     server restarts it in the SAME slot with a new
 *                     generation (make_id(), proc.c), so stale pointers
 *                     and stale tids are both exercised.
 * Pointers (partner, send queue links) are slot numbers, tids are
 * slot | gen << 2 as in make_id() (ID_SLOT_BITS shrunk to 2).
 *
 * Other actors: the timer (ipc_timeouts()), a killer (kc_kill() ->
 * proc_kill(): the server at most twice, one client at most once) and the
 * boot server (reap(): forget the dead server's name, restart it once).
 *
 * Configurations (spin -D...):
 *   NCALLS=n     operations per client (default 2; check.sh uses 3 for
 *                the safety run)
 *   DEFER        the server may defer a reply (SERVER_DEFER, libipc/
 *                server.c) and answer it later with a plain reply
 *                (servers/console does this for readline). The reply then
 *                only provably goes to the right THREAD, not to the right
 *                CALL: STRICT_TAG checks the latter and fails (README.md).
 *   MUTANT_*     deliberately broken kernels; NO_INVARIANTS drops the
 *                invariant assertions; PROBE=n turns reaching REACH(n)
 *                into a violation. All only for check.sh --teeth.
 *
 * Properties:
 *   - invariants(), asserted at the end of every kernel operation: nobody
 *     waits in TS_REPLY for, or in TS_RECV from, a dead thread; the send
 *     queue holds exactly the live TS_SEND threads whose partner is its
 *     owner (never a dead thread);
 *   - every completed call returns 0, -E_DEAD or -E_TIMEDOUT; a successful
 *     reply carries the caller's own tag for this very call, and comes from
 *     the server instance the caller's handle names (no misdelivery; a
 *     stale handle never reaches the restarted server);
 *   - no invalid end state: every client finishes all its operations (a
 *     client blocked forever is a deadlock);
 *   - ltl clients_finish: every client eventually finishes (pan -a -f,
 *     weak fairness: a thread that stays runnable does run).
 */

/* Thread states, kernel/proc.h */
#define TS_FREE    0
#define TS_RUNNING 1 /* not used: RUNNING and READY are both "runnable" */
#define TS_READY   2
#define TS_SEND    3
#define TS_RECV    4
#define TS_REPLY   5

/* include/abi/errno.h (returned negated) */
#define E_INVAL      1
#define E_BADHANDLE  4
#define E_DEAD       5
#define E_TIMEDOUT   7
#define E_NOENT      11
#define SYS_BLOCKED  100 /* kernel-internal: "the caller now waits" (ipc.h) */

#define NC 2 /* client threads (timer() and killer() name slots 0 and 1) */
#ifndef NCALLS
#define NCALLS 2 /* operations per client */
#endif
#define SRV NC        /* the server's thread slot */
#define NT (NC + 1)   /* thread slots */
#define NONE 255      /* null pointer */
#define SLOT(tid) ((tid) % 4)            /* tid & ID_SLOT_MASK */
#define MKTID(slot, g) ((slot) + (g) * 4) /* slot | gen << ID_SLOT_BITS */

#ifndef MAX_RESTARTS
#define MAX_RESTARTS 1   /* boot restarts the server at most this often */
#endif
#ifndef MAX_SRV_KILLS
#define MAX_SRV_KILLS 2  /* so both the first and the restarted instance die */
#endif
#ifndef MAX_CLIENT_KILLS
#define MAX_CLIENT_KILLS 1
#endif

/* Message tag: caller and call number, echoed back by the server. */
#define TAG(c, k) ((c) * NCALLS + (k) + 1)
#define TAG_CALLER(t) (((t) - 1) / NCALLS)

/* ---- kernel state: struct thread fields (kernel/proc.h) ---- */
byte state[NT];     /* thread.state */
byte tid[NT];       /* thread.tid; 0 when the slot is free */
byte gen[NT];       /* thread_gen[] in proc.c: outlives the slot */
byte partner[NT];   /* TS_SEND: target; TS_REPLY: the callee (a pointer) */
byte recv_from[NT]; /* TS_RECV: accepted sender's tid, 0 = any */
bool is_call[NT];   /* TS_SEND: wants a reply once its message is taken */
bool wake[NT];      /* wake_tick != 0: the blocking phase has a deadline */
short rax[NT];      /* regs.rax: the system call's result */
byte mr[NT];        /* message registers (the tag) */
byte badge[NT];     /* regs.rdi after a receive: the sender's badge (tid) */
/* The server's send queue (sendq_head/tail/next). Only the server is ever
 * sent to, so it is the only queue; kept in order, oldest first. */
byte sendq[NC];
byte sendq_len;

bool srv_notify;    /* the server's pending notification bits (notify) */
bool srv_pend;      /* DEFER: the server holds a deferred call (ghost) */

/* ---- boot server state (servers/boot/boot.c) ---- */
byte name_tid;     /* names[]: the handle registered as the server's name */
bool unreaped;     /* a death boot has not handled yet (deaths[], reap()) */
byte restarts;     /* child.restarts */
byte srv_kills, client_kills;

/* ---- client progress, for the end-state check and the LTL formula ---- */
bool cdone[NC];

/* Reachability probes: with -DPROBE=n, reaching REACH(n) is an assertion
 * violation. check.sh --teeth runs every probe to show that the checked
 * runs really contain each interesting event (no vacuous pass). */
#ifdef PROBE
#define REACH(n) assert(PROBE != (n))
#else
#define REACH(n) skip
#endif

/* Kernel locals (the kernel is one thread: scratch values, always
 * written before they are read within one d_step). */
hidden byte k_i, k_j, k_s, k_r, k_c;
hidden byte k_found;
hidden short k_rc;

/* ---------------------------------------------------------------- */
/* Kernel helpers, kernel/ipc.c                                      */
/* ---------------------------------------------------------------- */

/* complete() ipc.c:18: finish a blocked thread's call with status. */
inline complete(t, status)
{
    rax[t] = status;
    wake[t] = 0;          /* t->wake_tick = 0 */
    partner[t] = NONE;    /* t->partner = 0 */
    state[t] = TS_READY   /* sched_ready(t) */
}

/* sendq_remove(target = SRV, t) ipc.c:26: unlink t wherever it is; no-op
 * if it is not queued. */
inline sendq_remove(t)
{
    k_j = 0;
    k_found = 0;
    do
    :: k_j < sendq_len ->
        if
        :: sendq[k_j] == t -> k_found = 1
        :: else -> skip
        fi;
        if
        :: k_found && k_j + 1 < sendq_len -> sendq[k_j] = sendq[k_j + 1]
        :: else -> skip
        fi;
        k_j++
    :: else -> break
    od;
    if
    :: k_found -> sendq_len--; sendq[sendq_len] = NONE
    :: else -> skip
    fi
}

/* deliver(s, r) ipc.c:81: the message moves register to register; the
 * receiver's badge register names the sender; r's deadline is cleared. */
inline deliver(s, r)
{
    rax[r] = 0;
    badge[r] = tid[s];  /* r->regs.rdi = s->badge (pid << 32 | tid) */
    mr[r] = mr[s];      /* r8 .. r15, rbx */
    wake[r] = 0         /* r->wake_tick = 0 */
}

/* sender_done(s, r) ipc.c:132: a caller now waits for the reply. Its
 * deadline (wake_tick) is NOT reset: the send deadline carries over. */
inline sender_done(s, r)
{
    if
    :: is_call[s] -> state[s] = TS_REPLY; partner[s] = r
    :: else -> partner[s] = NONE; wake[s] = 0; rax[s] = 0; state[s] = TS_READY
    fi
}

/* cap_lookup() proc.c:101 for a handle (cap.thread = hslot, cap.tid =
 * htid): -E_DEAD when the thread behind it is gone or was replaced.
 * Result in k_r (slot) or k_rc (error). */
inline cap_lookup(hslot, htid)
{
    if
    :: hslot == NONE -> k_rc = -E_BADHANDLE; k_r = NONE
#ifndef MUTANT_NO_TID_CHECK
    :: hslot != NONE && tid[hslot] != htid -> k_rc = -E_DEAD; k_r = NONE; REACH(7)
#else
    :: hslot != NONE && tid[hslot] == 0 -> k_rc = -E_DEAD; k_r = NONE
#endif
    :: else -> k_rc = 0; k_r = hslot
    fi
}

/* send_phase(cur, is_call = 1) ipc.c:148, as reached from sys_ipc_call().
 * Left out, as no modelled thread can trip them: HANDLE_KERNEL calls
 * (kcall_dispatch), sending to oneself, over-long messages, capability
 * transfer (check_xfer) and IPC_INFO_NONBLOCK. */
inline send_phase(cur, hslot, htid, armed)
{
    cap_lookup(hslot, htid);
    if
    :: k_r == NONE -> skip                   /* return err */
    :: else ->
        is_call[cur] = 1;
        if
        /* accepts(r, cur) ipc.c:125 */
        :: state[k_r] == TS_RECV && (recv_from[k_r] == 0 || recv_from[k_r] == tid[cur]) ->
            REACH(1);                        /* direct delivery */
            deliver(cur, k_r);
            state[cur] = TS_REPLY;
            partner[cur] = k_r;
            wake[cur] = armed;               /* set_deadline(cur, rsi) */
            state[k_r] = TS_READY;           /* sched_handoff(r) */
            k_rc = SYS_BLOCKED
        :: else ->                           /* wait in r's send queue */
            REACH(2);
            state[cur] = TS_SEND;
            partner[cur] = k_r;
            sendq[sendq_len] = cur;          /* append at sendq_tail */
            sendq_len++;
            wake[cur] = armed;               /* set_deadline(cur, rsi) */
            k_rc = SYS_BLOCKED
        fi
    fi
}

/* deliver_notification(r) ipc.c:114: the kernel's badge (0 here), the
 * bits in MR0, the bits cleared. Only the server gets notifications. */
inline deliver_notification(r)
{
    REACH(21);
    rax[r] = 0;
    badge[r] = 0;         /* BADGE_KERNEL */
    mr[r] = 0;            /* r8 = notify bits (not needed) */
    srv_notify = 0;
    wake[r] = 0
}

/* recv_phase(cur, from, info) ipc.c:232. Only the server has a send
 * queue and notifications. */
inline recv_phase(cur, from, armed)
{
    k_s = NONE;
    k_i = 0;
    if
    :: from == 0 && cur == SRV && srv_notify ->
        deliver_notification(cur);
        k_rc = 0;
        k_i = NT           /* done: skip the queue and the blocking below */
    :: else -> skip
    fi;
    do
    :: cur == SRV && k_i < sendq_len ->
        if
        :: from == 0 || tid[sendq[k_i]] == from -> k_s = sendq[k_i]; break
        :: else -> k_i++
        fi
    :: else -> break
    od;
    if
    :: k_i == NT -> skip                     /* a notification was delivered */
    :: k_s != NONE ->
        REACH(3);                            /* a queued caller is taken */
        sendq_remove(k_s);
        deliver(k_s, cur);
        sender_done(k_s, cur);
        k_rc = 0
    :: else ->
        state[cur] = TS_RECV;
        recv_from[cur] = from;
        wake[cur] = armed;                   /* set_deadline(cur, info) */
        k_rc = SYS_BLOCKED
    fi
}

/* reply_phase(cur, badge, &woken) ipc.c:266. Woken thread in k_c. */
inline reply_phase(cur, b)
{
    k_c = NONE;
    if
    /* thread_by_tid(badge_tid(badge)) proc.c:46 */
    :: b == 0 || SLOT(b) >= NT || tid[SLOT(b)] != b -> k_rc = -E_DEAD; REACH(6)
    :: else ->
        k_r = SLOT(b);
        if
#ifndef MUTANT_REPLY_ANYONE
        :: state[k_r] != TS_REPLY || partner[k_r] != cur -> k_rc = -E_INVAL; REACH(5)
#else
        /* mutant: no check at all, the badge alone says who gets it */
        :: false -> skip
#endif
        :: else ->
            REACH(4);
            if
            :: gen[cur] > 1 -> REACH(15)     /* the restarted server answers */
            :: else -> skip
            fi;
            deliver(cur, k_r);
            partner[k_r] = NONE;
            k_c = k_r;
            k_rc = 0
        fi
    fi
}

/* ipc_thread_dying(t) ipc.c:337, called by thread_destroy() proc.c:185. */
inline ipc_thread_dying(t)
{
    if
    :: state[t] == TS_SEND && partner[t] != NONE -> REACH(14); sendq_remove(t)
    :: else -> skip
    fi;
    if
    :: t == SRV ->                           /* everyone queued on t: -E_DEAD */
        k_i = 0;
        do
        :: k_i < sendq_len ->
            REACH(11);
#ifndef MUTANT_KEEP_SENDERS
            complete(sendq[k_i], -E_DEAD);
#endif
            sendq[k_i] = NONE;
            k_i++
        :: else -> break
        od;
        sendq_len = 0
    :: else -> skip
    fi;
    k_i = 0;
    do
    :: k_i < NT ->
        if
        :: k_i != t && state[k_i] != TS_FREE &&
#ifndef MUTANT_NO_REPLY_WAKE
           ((state[k_i] == TS_REPLY && partner[k_i] == t) ||
#else
           ((false) ||
#endif
            (state[k_i] == TS_RECV && recv_from[k_i] == tid[t])) ->
            if
            :: state[k_i] == TS_REPLY -> REACH(12)
            :: else -> REACH(13)
            fi;
            complete(k_i, -E_DEAD)
        :: else -> skip
        fi;
        k_i++
    :: else -> break
    od
}

/* thread_destroy(t) proc.c:185, IPC part. C leaves the other fields of a
 * free slot stale until thread_create()'s memset; nothing reads them (a
 * stale wake_tick is just cleared by ipc_timeouts' default case), so the
 * model clears them at once to keep the state space small. */
inline thread_destroy(t)
{
    ipc_thread_dying(t);
    tid[t] = 0;
    state[t] = TS_FREE;
    partner[t] = NONE;
    recv_from[t] = 0;
    is_call[t] = 0;
    wake[t] = 0;
    rax[t] = 0;
    mr[t] = 0;
    badge[t] = 0
}

/* ipc_notify_thread(t = SRV, bits) ipc.c:317 (e.g. from an IRQ) */
inline ipc_notify_server()
{
    srv_notify = 1;
    if
    :: state[SRV] == TS_RECV && recv_from[SRV] == 0 ->
        deliver_notification(SRV);
        state[SRV] = TS_READY
    :: else -> skip
    fi
}

/* One thread's share of ipc_timeouts(now) ipc.c:358: its deadline passed. */
inline timeout_one(t)
{
    if
    :: state[t] == TS_SEND ->
        REACH(8);
#ifndef MUTANT_TIMEOUT_NO_DEQUEUE
        sendq_remove(t);
#endif
        complete(t, -E_TIMEDOUT)
    :: state[t] == TS_REPLY -> REACH(9); complete(t, -E_TIMEDOUT)
    :: state[t] == TS_RECV -> REACH(10); complete(t, -E_TIMEDOUT)
    :: else -> wake[t] = 0   /* running, ready (or free): no longer applies */
    fi
}

/* Safety invariants, asserted at the end of every kernel operation. */
inline invariants()
{
#ifndef NO_INVARIANTS
    k_i = 0;
    do
    :: k_i < NT ->
        if
        :: state[k_i] == TS_REPLY ->
            /* never left waiting for a reply from a dead thread */
            assert(partner[k_i] != NONE && tid[partner[k_i]] != 0)
        :: state[k_i] == TS_RECV && recv_from[k_i] != 0 ->
            /* never left receiving from a dead thread */
            assert(tid[SLOT(recv_from[k_i])] == recv_from[k_i])
        :: state[k_i] == TS_SEND ->
            assert(partner[k_i] == SRV && tid[SRV] != 0);
            /* ... and queued there exactly once */
            k_j = 0;
            k_r = 0;
            do
            :: k_j < sendq_len -> k_r = k_r + (sendq[k_j] == k_i); k_j++
            :: else -> break
            od;
            assert(k_r == 1)
        :: else -> skip
        fi;
        k_i++
    :: else -> break
    od;
    /* the send queue never holds a dead (or non-sending) thread */
    k_i = 0;
    do
    :: k_i < sendq_len ->
        assert(sendq[k_i] < NT && tid[sendq[k_i]] != 0 &&
               state[sendq[k_i]] == TS_SEND && partner[sendq[k_i]] == SRV);
        k_i++
    :: else -> break
    od;
#endif
    k_i = 0; k_j = 0; k_r = 0; k_s = 0; k_c = 0; k_found = 0; k_rc = 0
}

/* ---------------------------------------------------------------- */
/* System calls (each one d_step: the kernel is not preemptible)     */
/* ---------------------------------------------------------------- */

/* sys_ipc_call() ipc.c:202 -> send_phase(cur, 1). Result in k_rc. */
inline sys_ipc_call(cur, hslot, htid, armed)
{
    send_phase(cur, hslot, htid, armed)
}

/* sys_ipc_recv() ipc.c:249 with a handle (closed receive) or IPC_ANY. */
inline sys_ipc_recv(cur, hslot, htid, armed)
{
    if
    :: hslot == NONE -> recv_phase(cur, 0, armed)  /* IPC_ANY */
    :: else ->
        cap_lookup(hslot, htid);
        if
        :: k_r == NONE -> skip
        :: else -> recv_phase(cur, tid[k_r], armed)
        fi
    fi
}

/* sys_ipc_reply_recv() ipc.c:297: a failed reply is ignored, then the
 * receive; the answered caller becomes runnable (handoff or ready). */
inline sys_ipc_reply_recv(cur, b, armed)
{
    reply_phase(cur, b);
    recv_phase(cur, 0, armed);
    if
    :: k_c != NONE -> state[k_c] = TS_READY
    :: else -> skip
    fi
}

/* sys_ipc_reply() ipc.c:287 */
inline sys_ipc_reply(cur, b)
{
    reply_phase(cur, b);
    if
    :: k_rc == 0 -> state[k_c] = TS_READY
    :: else -> skip
    fi
}

/* ---------------------------------------------------------------- */
/* User level                                                         */
/*                                                                    */
/* A thread's user code between two system calls only touches its own */
/* memory and registers, so it is folded into the d_step of the next  */
/* system call: consuming the previous result (the registers written  */
/* by the kernel while the thread was blocked) plus the next call is  */
/* one step. Steps of other threads still interleave between any two  */
/* system calls, which is all a preemptive scheduler adds on one CPU. */
/* ---------------------------------------------------------------- */

/* The effective result of a thread's last system call: if it blocked,
 * whatever the kernel left in rax when it woke the thread. */
#define RESULT(t, rc) ((rc) == SYS_BLOCKED -> rax[t] : (rc))
/* The server's received badge (0: a notification from the kernel). */
#define MSG_BADGE ((rc) == SYS_BLOCKED -> badge[SRV] : b)

/*
 * A client thread: NCALLS operations on the server, as libipc's clients
 * of restartable servers do (libipc/console.c console(), forget()): look
 * the name up when it has no handle, call, and forget the handle on
 * -E_DEAD so that the next operation finds the restarted server. Each
 * call may carry a timeout (ipc_info_timeout()) or not. Client 0's last
 * operation is a receive from the server's handle instead (SYS_IPC_RECV
 * with a handle, always with a timeout: the server never sends, so
 * without one it would rightly wait forever); it gives death a
 * TS_RECV-from-it thread to wake.
 */
inline client_finish(closed)
{
    /* libipc: the call returns; check what it returned */
    if
    :: closed -> assert(st == -E_DEAD || st == -E_TIMEDOUT)  /* nobody sends to us */
    :: else ->
        assert(st == 0 || st == -E_DEAD || st == -E_TIMEDOUT);
        if
#if !defined(DEFER) || defined(STRICT_TAG)
        /* the reply is the server's echo of THIS call's tag */
        :: st == 0 -> assert(got == TAG(me, k))
#else
        /* the reply is meant for this thread (maybe for an earlier call) */
        :: st == 0 -> assert(TAG_CALLER(got) == me)
#endif
        :: else -> skip
        fi
    fi;
    if
    :: st == -E_DEAD -> hslot = NONE; htid = 0     /* forget(rc) */
    :: else -> skip
    fi;
    st = 0;
    got = 0;
    k++
}

/* The call itself, SYS_IPC_CALL (ipc_call(handle, m)) or SYS_IPC_RECV
 * (ipc_recv(handle, m)), and the handling of an immediate result. */
inline client_syscall(armed)
{
    if
    :: me == 0 && k == NCALLS - 1 ->
        sys_ipc_recv(me, hslot, htid, 1);
        printf("client %d: op %d: recv(server tid %d, timeout) -> %d\n", me, k, htid, k_rc)
    :: else ->
        mr[me] = TAG(me, k);
        sys_ipc_call(me, hslot, htid, armed);
        printf("client %d: op %d: call(server tid %d, tag %d, timeout %d) -> %d\n",
               me, k, htid, TAG(me, k), armed, k_rc)
    fi;
    st = k_rc;
    if
    :: st != SYS_BLOCKED ->
        mr[me] = 0;
        client_finish(me == 0 && k == NCALLS - 1)
    :: else -> skip
    fi;
    invariants()
}

proctype client(byte me)
{
    byte k = 0;
    byte hslot = NONE, htid = 0; /* the handle: cap.thread, cap.tid */
    short st;                    /* SYS_BLOCKED while blocked in the kernel */
    byte got;

    do
    :: tid[me] == 0 -> break     /* killed: the thread is gone */
    /* blocked (TS_SEND then TS_REPLY, or TS_RECV): it runs once woken */
    :: d_step {
           st == SYS_BLOCKED && state[me] == TS_READY ->
           printf("client %d: op %d: woken: rax %d, tag %d, from tid %d\n", me, k, rax[me], mr[me], badge[me]);
           /* a reply comes from the server instance our handle names */
           assert(rax[me] != 0 || badge[me] == htid);
           st = rax[me];
           got = mr[me];
           rax[me] = 0;
           mr[me] = 0;
           badge[me] = 0;
           client_finish(me == 0 && k == NCALLS - 1)
       }
    /* name_lookup("server"): boot answers with its names[] handle (boot.c
     * handle(), NAME_LOOKUP), abstracted to one atomic read; with no name
     * registered (-E_NOENT) the operation is dropped. */
    :: d_step {
           st != SYS_BLOCKED && tid[me] != 0 && k < NCALLS && hslot == NONE ->
           if
           :: name_tid != 0 ->
               printf("client %d: lookup -> server tid %d\n", me, name_tid);
               hslot = SLOT(name_tid);
               htid = name_tid;
               if
               :: tid[hslot] != htid -> REACH(17)  /* boot has not reaped it yet */
               :: else -> skip
               fi
           :: else -> printf("client %d: lookup -> -E_NOENT, op %d dropped\n", me, k); k++; REACH(16)
           fi
       }
    /* the operation, with or without a deadline */
    :: d_step {
           st != SYS_BLOCKED && tid[me] != 0 && k < NCALLS && hslot != NONE ->
           client_syscall(1)
       }
    :: d_step {
           st != SYS_BLOCKED && tid[me] != 0 && k < NCALLS && hslot != NONE ->
           client_syscall(0)
       }
    /* done: the thread exits (kc_thread_exit() -> thread_destroy()) */
    :: d_step {
           st != SYS_BLOCKED && tid[me] != 0 && k == NCALLS ->
           thread_destroy(me);
           invariants()
       }
    od;
    cdone[me] = 1
}

/* The server copies the received registers into its struct ipc_msg
 * (libipc ipc_syscall()); the registers are dead after that, and are
 * cleared here to keep the state space small. */
inline take_msg()
{
    if
    :: rc == 0 ->
        b = badge[SRV];
        tag = mr[SRV];
        badge[SRV] = 0;
        mr[SRV] = 0;
        rax[SRV] = 0
    :: else -> b = 0; tag = 0
    fi
}

/* Pick up the result of a receive that blocked (the thread was woken). */
inline server_woken()
{
    if
    :: rc == SYS_BLOCKED -> rc = rax[SRV]; take_msg()
    :: else -> skip
    fi
}

/* After a receive: its result (a message may have been there at once). */
inline server_received()
{
    rc = k_rc;
    take_msg();
    invariants()
}

/*
 * The server thread, libipc/server.c server_run(): name_register(), then
 * recv(IPC_ANY) and forever: on error receive again, else dispatch (the
 * handler echoes the tag) and reply_recv(badge). Receives carry no
 * timeout (server_run() sets none). Once its tid is no longer the slot's
 * tid (killed, maybe already replaced) this instance is gone.
 */
proctype server(byte mytid)
{
    short rc = -E_INVAL; /* "no message yet": the first step receives */
    byte b, tag;
#ifdef DEFER
    byte pend = 0, pend_tag = 0; /* a deferred call (console: readers[]) */
#endif

    /* name_register(): NAME_REGISTER to boot (boot.c handle()) */
end_reg:
    d_step { tid[SRV] == mytid -> name_tid = mytid; printf("server %d: registers its name\n", mytid) };
end_srv:
    do
    :: tid[SRV] != mytid -> break   /* killed */
    /* our receive failed (or none yet), or brought a notification
     * (on_notify()): recv(IPC_ANY) again */
    :: d_step {
           tid[SRV] == mytid && state[SRV] == TS_READY &&
           (RESULT(SRV, rc) < 0 || (RESULT(SRV, rc) == 0 && MSG_BADGE == 0)) ->
           server_woken();
           sys_ipc_recv(SRV, NONE, 0, 0);
           printf("server %d: recv(any) -> %d\n", mytid, k_rc);
           server_received()
       }
    /* a message: dispatch() echoes its tag, then reply_recv(badge) */
    :: d_step {
           tid[SRV] == mytid && state[SRV] == TS_READY && RESULT(SRV, rc) == 0 && MSG_BADGE != 0 ->
           server_woken();
           mr[SRV] = tag;
           sys_ipc_reply_recv(SRV, b, 0);
           printf("server %d: reply_recv(to tid %d, tag %d): reply %d, recv -> %d\n",
                  mytid, b, tag, (k_c != NONE -> 0 : -1), k_rc);
           server_received()
       }
#ifdef DEFER
    /* SERVER_DEFER: keep the caller's badge, no reply now, receive next */
    :: d_step {
           tid[SRV] == mytid && state[SRV] == TS_READY && RESULT(SRV, rc) == 0 &&
           MSG_BADGE != 0 && pend == 0 ->
           server_woken();
           pend = b;
           pend_tag = tag;
           srv_pend = 1;
           sys_ipc_recv(SRV, NONE, 0, 0);
           printf("server %d: defers tid %d's call (tag %d); recv(any) -> %d\n", mytid, b, tag, k_rc);
           server_received()
       }
    /* ... and answer it later, whenever the server runs (console:
     * give_line() after the UART's notification) with a plain
     * SYS_IPC_REPLY, which reports a caller that died or stopped waiting */
    :: d_step {
           tid[SRV] == mytid && state[SRV] == TS_READY && pend != 0 ->
           server_woken();
           mr[SRV] = pend_tag;
           sys_ipc_reply(SRV, pend);
           printf("server %d: deferred reply(to tid %d, tag %d) -> %d\n", mytid, pend, pend_tag, k_rc);
           assert(k_rc == 0 || k_rc == -E_DEAD || k_rc == -E_INVAL);
           if
           :: k_rc == 0 -> REACH(20)
           :: else -> skip
           fi;
           mr[SRV] = 0;
           pend = 0;
           pend_tag = 0;
           srv_pend = 0;
           invariants()
       }
#endif
    od
}

/*
 * The timer interrupt: sched_tick() -> ipc_timeouts(). Any thread whose
 * deadline is set may be the one whose time is up, at any moment.
 */
active proctype timer()
{
end:
    do
    :: d_step { wake[0] -> printf("tick: thread 0's deadline\n"); timeout_one(0); invariants() }
    :: d_step { wake[1] -> printf("tick: thread 1's deadline\n"); timeout_one(1); invariants() }
    :: d_step { wake[SRV] -> printf("tick: server's deadline\n"); timeout_one(SRV); invariants() }
    od
}

/*
 * Deaths: kc_kill() / a fault -> proc_kill() -> thread_destroy() for the
 * server (at any point, any instance), and at most one client.
 */
active proctype killer()
{
end:
    do
    :: d_step {
           srv_kills < MAX_SRV_KILLS && tid[SRV] != 0 ->
           printf("kill: server tid %d\n", tid[SRV]);
           thread_destroy(SRV);
           srv_pend = 0;         /* its deferred call is forgotten */
           srv_notify = 0;       /* (thread_create() clears notify) */
           srv_kills++;
           unreaped = 1;       /* report_death(): boot is notified */
           invariants()
       }
    :: d_step {
           client_kills < MAX_CLIENT_KILLS && tid[0] != 0 ->
           printf("kill: client 0\n");
           thread_destroy(0);
           client_kills++;
           invariants()
       }
    :: d_step {
           client_kills < MAX_CLIENT_KILLS && tid[1] != 0 ->
           printf("kill: client 1\n");
           thread_destroy(1);
           client_kills++;
           invariants()
       }
    /* ... or no more deaths from now on: without this, a stuck system
     * would never be an end state, as a kill could always still end it */
    :: break
    od
}

#ifdef DEFER
/*
 * The event a deferred call waits for (console: a line typed, the UART's
 * interrupt -> kc_irq_bind's notification -> ipc_notify_thread()). It
 * comes, some time, while the server holds a deferred call.
 */
active proctype uart()
{
end:
    do
    :: d_step {
           srv_pend && !srv_notify ->
           printf("irq: notify the server\n");
           ipc_notify_server();
           invariants()
       }
    od
}
#endif

/*
 * The boot server's reap() (boot.c): forget_names_of() the dead server,
 * then start() it again (restart) while restarts < MAX_RESTARTS. The new
 * thread gets the same slot and a new generation (thread_create(),
 * make_id(): memset, then READY). Runs some time after the death.
 */
active proctype boot()
{
end:
    do
    :: atomic {
           unreaped ->
           unreaped = 0;
           printf("boot: reaps the dead server, forgets its name\n");
           name_tid = 0;                /* forget_names_of(pid) */
           if
           :: restarts < MAX_RESTARTS && tid[SRV] == 0 ->
               restarts++;
               printf("boot: restarting the server\n");
               assert(sendq_len == 0);
                   gen[SRV]++;
                   tid[SRV] = MKTID(SRV, gen[SRV]);
                   partner[SRV] = NONE;
                   recv_from[SRV] = 0;
                   is_call[SRV] = 0;
                   wake[SRV] = 0;
                   rax[SRV] = 0;
                   mr[SRV] = 0;
                   badge[SRV] = 0;
                   state[SRV] = TS_READY;
               run server(tid[SRV])
           :: else -> skip
           fi
       }
    od
}

init
{
    atomic {
        k_i = 0;
        do
        :: k_i < NT ->
            gen[k_i] = 1;
            tid[k_i] = MKTID(k_i, 1);
            state[k_i] = TS_READY;
            partner[k_i] = NONE;
            k_i++
        :: else -> break
        od;
        k_i = 0;
        do
        :: k_i < NC -> sendq[k_i] = NONE; k_i++
        :: else -> break
        od;
        k_i = 0;
        run server(tid[SRV]);
        run client(0);
        run client(1)
    }
}

/* Every client eventually finishes (returns from all its operations, or
 * is killed). Checked with weak fairness: a runnable thread runs. */
ltl clients_finish { <> (cdone[0] && cdone[1]) }
