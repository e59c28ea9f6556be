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
 * Configurations (spin -D...):
 *   DEFER      the server may defer a reply (SERVER_DEFER, libipc/server.c)
 *              and answer it later with a plain reply (servers/console
 *              does this for readline). The reply then only provably goes
 *              to the right THREAD, not to the right CALL (see README).
 *   MUTANT_*   deliberately broken kernels, used by check.sh --mutants to
 *              show that the model catches the bug (never set normally).
 *
 * Properties:
 *   - assertions in invariants(), evaluated at the end of every kernel
 *     operation: nobody waits in TS_REPLY for / TS_RECV from a dead
 *     thread, the send queue holds exactly the live TS_SEND threads whose
 *     partner is its owner;
 *   - every completed call returns 0, -E_DEAD or -E_TIMEDOUT, and a
 *     successful reply carries the caller's own tag (no misdelivery);
 *   - no invalid end state: every client finishes all its operations
 *     (a client stuck blocked forever is a deadlock);
 *   - ltl "clients_finish": every client eventually finishes (checked with
 *     weak fairness, pan -a -f).
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

#ifndef NC
#define NC 2 /* client threads */
#endif
#ifndef NCALLS
#define NCALLS 2 /* operations per client */
#endif
#define SRV NC        /* the server's thread slot */
#define NT (NC + 1)   /* thread slots */
#define NONE 255      /* null pointer */
#define SLOT(tid) ((tid) % 4)            /* tid & ID_SLOT_MASK */
#define MKTID(slot, g) ((slot) + (g) * 4) /* slot | gen << ID_SLOT_BITS */

#define MAX_RESTARTS 1   /* boot restarts the server at most this often */
#define MAX_SRV_KILLS 2  /* so both the first and the restarted instance die */
#define MAX_CLIENT_KILLS 1

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

/* ---- boot server state (servers/boot/boot.c) ---- */
byte name_tid;     /* names[]: the handle registered as the server's name */
bool unreaped;     /* a death boot has not handled yet (deaths[], reap()) */
byte restarts;     /* child.restarts */
byte srv_kills, client_kills;

/* ---- client progress, for the end-state check and the LTL formula ---- */
bool cdone[NC];

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

/* deliver(s, r) ipc.c:62: the message moves register to register; the
 * receiver's badge register names the sender; r's deadline is cleared. */
inline deliver(s, r)
{
    rax[r] = 0;
    badge[r] = tid[s];  /* r->regs.rdi = s->badge (pid << 32 | tid) */
    mr[r] = mr[s];      /* r8 .. r15, rbx */
    wake[r] = 0         /* r->wake_tick = 0 */
}

/* sender_done(s, r) ipc.c:113: a caller now waits for the reply. Its
 * deadline (wake_tick) is NOT reset: the send deadline carries over. */
inline sender_done(s, r)
{
    if
    :: is_call[s] -> state[s] = TS_REPLY; partner[s] = r
    :: else -> partner[s] = NONE; wake[s] = 0; rax[s] = 0; state[s] = TS_READY
    fi
}

/* cap_lookup() proc.c:70 for a handle (cap.thread = hslot, cap.tid =
 * htid): -E_DEAD when the thread behind it is gone or was replaced.
 * Result in k_r (slot) or k_rc (error). */
inline cap_lookup(hslot, htid)
{
    if
    :: hslot == NONE -> k_rc = -E_BADHANDLE; k_r = NONE
    :: hslot != NONE && tid[hslot] != htid -> k_rc = -E_DEAD; k_r = NONE
    :: else -> k_rc = 0; k_r = hslot
    fi
}

/* send_phase(cur, is_call = 1) ipc.c:129, as reached from sys_ipc_call(). */
inline send_phase(cur, hslot, htid, armed)
{
    cap_lookup(hslot, htid);
    if
    :: k_r == NONE -> skip                   /* return err */
    :: else ->
        is_call[cur] = 1;
        if
        /* accepts(r, cur) ipc.c:106 */
        :: state[k_r] == TS_RECV && (recv_from[k_r] == 0 || recv_from[k_r] == tid[cur]) ->
            deliver(cur, k_r);
            state[cur] = TS_REPLY;
            partner[cur] = k_r;
            wake[cur] = armed;               /* set_deadline(cur, rsi) */
            state[k_r] = TS_READY;           /* sched_handoff(r) */
            k_rc = SYS_BLOCKED
        :: else ->                           /* wait in r's send queue */
            state[cur] = TS_SEND;
            partner[cur] = k_r;
            sendq[sendq_len] = cur;          /* append at sendq_tail */
            sendq_len++;
            wake[cur] = armed;               /* set_deadline(cur, rsi) */
            k_rc = SYS_BLOCKED
        fi
    fi
}

/* recv_phase(cur, from, info) ipc.c:184. No notifications in the model
 * (cur->notify is always 0). Only the server has a send queue. */
inline recv_phase(cur, from, armed)
{
    k_s = NONE;
    k_i = 0;
    do
    :: cur == SRV && k_i < sendq_len ->
        if
        :: from == 0 || tid[sendq[k_i]] == from -> k_s = sendq[k_i]; break
        :: else -> k_i++
        fi
    :: else -> break
    od;
    if
    :: k_s != NONE ->
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

/* reply_phase(cur, badge, &woken) ipc.c:221. Woken thread in k_c. */
inline reply_phase(cur, b)
{
    k_c = NONE;
    if
    /* thread_by_tid(badge_tid(badge)) proc.c:36 */
    :: b == 0 || SLOT(b) >= NT || tid[SLOT(b)] != b -> k_rc = -E_DEAD
    :: else ->
        k_r = SLOT(b);
        if
#ifndef MUTANT_REPLY_ANYONE
        :: state[k_r] != TS_REPLY || partner[k_r] != cur -> k_rc = -E_INVAL
#else
        /* mutant: forget the partner check */
        :: state[k_r] != TS_REPLY -> k_rc = -E_INVAL
#endif
        :: else ->
            deliver(cur, k_r);
            partner[k_r] = NONE;
            k_c = k_r;
            k_rc = 0
        fi
    fi
}

/* ipc_thread_dying(t) ipc.c:283, called by thread_destroy() proc.c:144. */
inline ipc_thread_dying(t)
{
    if
    :: state[t] == TS_SEND && partner[t] != NONE -> sendq_remove(t)
    :: else -> skip
    fi;
    if
    :: t == SRV ->                           /* everyone queued on t: -E_DEAD */
        k_i = 0;
        do
        :: k_i < sendq_len ->
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
            complete(k_i, -E_DEAD)
        :: else -> skip
        fi;
        k_i++
    :: else -> break
    od
}

/* thread_destroy(t) proc.c:144 (IPC part; its stale fields stay, as in C) */
inline thread_destroy(t)
{
    ipc_thread_dying(t);
    tid[t] = 0;
    state[t] = TS_FREE
}

/* One thread's share of ipc_timeouts(now) ipc.c:304: its deadline passed. */
inline timeout_one(t)
{
    if
    :: state[t] == TS_SEND -> sendq_remove(t); complete(t, -E_TIMEDOUT)
    :: state[t] == TS_RECV || state[t] == TS_REPLY -> complete(t, -E_TIMEDOUT)
    :: else -> wake[t] = 0   /* running, ready (or free): no longer applies */
    fi
}

/* Safety invariants, asserted at the end of every kernel operation. */
inline invariants()
{
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
    k_i = 0; k_j = 0; k_r = 0; k_s = 0; k_c = 0; k_found = 0; k_rc = 0
}

/* ---------------------------------------------------------------- */
/* System calls (each one d_step: the kernel is not preemptible)     */
/* ---------------------------------------------------------------- */

/* sys_ipc_call() ipc.c:176 -> send_phase(cur, 1). Result in k_rc. */
inline sys_ipc_call(cur, hslot, htid, armed)
{
    send_phase(cur, hslot, htid, armed)
}

/* sys_ipc_recv() ipc.c:206 with a handle (closed receive) or IPC_ANY. */
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

/* sys_ipc_reply_recv() ipc.c:248: a failed reply is ignored, then the
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

/* sys_ipc_reply() ipc.c:239 */
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
/* ---------------------------------------------------------------- */

/*
 * A client thread: NCALLS operations on the server, as libipc's console
 * and mem clients do (libipc/console.c): look the name up when it has no
 * handle, call, forget the handle on -E_DEAD so the next operation looks
 * up the restarted server. Each call may carry a timeout
 * (ipc_info_timeout) or not. Client 0's last operation is a receive
 * from the server's handle instead (with a timeout: the server never
 * sends, so without one it would rightly wait forever), so that death
 * also has a TS_RECV-from-it thread to wake.
 */
proctype client(byte me)
{
    byte k = 0;
    byte hslot = NONE, htid = 0;  /* the handle: cap.thread, cap.tid */
    bool armed;
    short st;
    byte got;

    {
        do
        :: k < NCALLS ->
            /* name_lookup("server"): boot answers with its names[] handle
             * (boot.c handle(), NAME_LOOKUP); abstracted to one step. */
            if
            :: hslot == NONE ->
                d_step {
                    if
                    :: name_tid != 0 -> hslot = SLOT(name_tid); htid = name_tid
                    :: else -> skip
                    fi
                }
            :: else -> skip
            fi;
            if
            :: hslot == NONE -> skip          /* -E_NOENT: server not registered */
            :: else ->
                if
                :: me == 0 && k == NCALLS - 1 ->
                    /* ipc_recv(handle, m): a closed receive from the server
                     * (SYS_IPC_RECV), always with a timeout */
                    d_step {
                        sys_ipc_recv(me, hslot, htid, 1);
                        st = k_rc;
                        invariants()
                    };
                    if
                    :: st == SYS_BLOCKED ->
                        d_step { state[me] == TS_READY -> st = rax[me] }
                    :: else -> skip
                    fi;
                    /* the server never sends to clients */
                    assert(st == -E_DEAD || st == -E_TIMEDOUT)
                :: else ->
                    if
                    :: armed = 1
                    :: armed = 0
                    fi;
                    /* ipc_call(handle, m): SYS_IPC_CALL */
                    d_step {
                        mr[me] = TAG(me, k);
                        sys_ipc_call(me, hslot, htid, armed);
                        st = k_rc;
                        invariants()
                    };
                    armed = 0;
                    /* blocked (TS_SEND, then TS_REPLY): runs once woken */
                    if
                    :: st == SYS_BLOCKED ->
                        d_step { state[me] == TS_READY -> st = rax[me]; got = mr[me] }
                    :: else -> skip
                    fi;
                    assert(st == 0 || st == -E_DEAD || st == -E_TIMEDOUT);
                    if
#ifndef DEFER
                    /* the reply is the server's echo of THIS call's tag */
                    :: st == 0 -> assert(got == TAG(me, k))
#else
                    /* the reply is meant for this thread (maybe an earlier call) */
                    :: st == 0 -> assert(TAG_CALLER(got) == me)
#endif
                    :: else -> skip
                    fi
                fi;
                if
                :: st == -E_DEAD -> hslot = NONE; htid = 0      /* forget(rc) */
                :: else -> skip
                fi
            fi;
            st = 0;
            got = 0;
            k++
        :: else -> break
        od;
        /* done: the thread exits (kc_thread_exit -> thread_destroy) */
        skip;
        d_step { thread_destroy(me); invariants() }
    } unless { tid[me] == 0 };  /* killed: the thread is gone */
    cdone[me] = 1
}

/*
 * The server thread, libipc/server.c server_run(): register the name,
 * recv(IPC_ANY), then forever: on error recv again, else handle the
 * message (echo the tag) and reply_recv(badge). Receives may carry a
 * timeout (non-deterministic). When its tid is no longer the slot's tid
 * (killed, maybe already replaced) this instance stops.
 */
proctype server(byte mytid)
{
    short rc;
    byte b, tag;
    bool armed;
#ifdef DEFER
    byte pend = 0, pend_tag = 0; /* a deferred call (console's readers[]) */
    short rrc;
#endif

    {
        /* name_register(): NAME_REGISTER to boot (boot.c handle()) */
        d_step { name_tid = mytid };
        if
        :: armed = 1
        :: armed = 0
        fi;
        d_step {
            sys_ipc_recv(SRV, NONE, 0, armed);
            rc = k_rc;
            if
            :: rc == 0 -> b = badge[SRV]; tag = mr[SRV]
            :: else -> skip
            fi;
            invariants()
        };
        armed = 0;
        do
        :: true ->
            if
            :: rc == SYS_BLOCKED ->
end_wait:       d_step {
                    state[SRV] == TS_READY ->
                    rc = rax[SRV];
                    if
                    :: rc == 0 -> b = badge[SRV]; tag = mr[SRV]
                    :: else -> skip
                    fi
                }
            :: else -> skip
            fi;
#ifdef DEFER
            /* A deferred call may be answered whenever the server runs
             * (console: give_line() after a notification). */
            if
            :: pend != 0 ->
                d_step {
                    mr[SRV] = pend_tag;  /* the deferred call's answer */
                    sys_ipc_reply(SRV, pend);
                    rrc = k_rc;
                    invariants()
                };
                /* SYS_IPC_REPLY reports a caller that died or stopped waiting */
                assert(rrc == 0 || rrc == -E_DEAD || rrc == -E_INVAL);
                rrc = 0;
                pend = 0;
                pend_tag = 0
            :: true -> skip
            fi;
#endif
            if
            :: armed = 1
            :: armed = 0
            fi;
            if
            :: rc < 0 ->                   /* our receive failed: wait again */
                d_step {
                    sys_ipc_recv(SRV, NONE, 0, armed);
                    rc = k_rc;
                    if
                    :: rc == 0 -> b = badge[SRV]; tag = mr[SRV]
                    :: else -> skip
                    fi;
                    invariants()
                }
#ifdef DEFER
            :: rc == 0 && pend == 0 ->     /* SERVER_DEFER: no reply now */
                pend = b;
                pend_tag = tag;
                d_step {
                    sys_ipc_recv(SRV, NONE, 0, armed);
                    rc = k_rc;
                    if
                    :: rc == 0 -> b = badge[SRV]; tag = mr[SRV]
                    :: else -> skip
                    fi;
                    invariants()
                }
#endif
            :: rc == 0 ->                  /* dispatch(): echo the tag back */
                d_step {
                    mr[SRV] = tag;
                    sys_ipc_reply_recv(SRV, b, armed);
                    rc = k_rc;
                    if
                    :: rc == 0 -> b = badge[SRV]; tag = mr[SRV]
                    :: else -> b = 0; tag = 0
                    fi;
                    invariants()
                }
            fi;
            armed = 0
        od
    } unless { tid[SRV] != mytid }
}

/*
 * The timer interrupt: sched_tick() -> ipc_timeouts(). Any thread whose
 * deadline is set may be the one whose time is up, at any moment.
 */
active proctype timer()
{
end:
    do
    :: d_step { wake[0] -> timeout_one(0); invariants() }
    :: d_step { wake[1] -> timeout_one(1); invariants() }
    :: d_step { wake[SRV] -> timeout_one(SRV); invariants() }
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
           thread_destroy(SRV);
           srv_kills++;
           unreaped = 1;       /* report_death(): boot is notified */
           invariants()
       }
    :: d_step {
           client_kills < MAX_CLIENT_KILLS && tid[0] != 0 ->
           thread_destroy(0);
           client_kills++;
           invariants()
       }
    :: d_step {
           client_kills < MAX_CLIENT_KILLS && tid[1] != 0 ->
           thread_destroy(1);
           client_kills++;
           invariants()
       }
    od
}

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
           name_tid = 0;                /* forget_names_of(pid) */
           if
           :: restarts < MAX_RESTARTS && tid[SRV] == 0 ->
               restarts++;
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
