/*
 * Promela model of Granite's memory grants: the granter's table in user
 * memory written by libipc (libipc/grant.c make(), grant_revoke()), and
 * the kernel's check (kernel/grant_verify.c grant_verify(), called by
 * kernel/grant.c grant_copy()). Checked by check.sh with spin.
 *
 * The kernel is non-preemptible on one CPU: one copy system call
 * (verify, then copy) is one d_step, and it reads each entry once into a
 * local copy (read_entry() -> uaccess_read()). The granter's libipc code
 * is user code: a timer interrupt may preempt it between any two of its
 * stores, and the grantee's copy may run right then. Each store of
 * make() and grant_revoke() is therefore its own step here.
 *
 * Configurations (spin -D...):
 *   (default)       table race: one granter thread creates, revokes and
 *                   reuses the two slots of its table; the grantees copy
 *                   with every id they were given (including revoked ones)
 *                   at every moment.
 *   GRANTEE_FORGES  the grantees may also pass ANY id (any slot, any
 *                   generation, including 0): ids are plain numbers, the
 *                   kernel must not trust them.
 *   MAKE_AS_WRITTEN the old make(), whose struct copy stored the flags
 *                   first (the bug this model found; must fail).
 *   CHAIN           the indirect-grant walk instead: every combination of
 *                   small tables, including loops, checked for
 *                   termination (-E_GRANT_DEPTH) and soundness.
 *   MUTANT_*        deliberately broken variants (check.sh --teeth).
 *
 * Property (table race): whenever a copy succeeds through id (slot, gen),
 * the granter created a grant with exactly that id, has not revoked it
 * (the revoke's flags = 0 store is its moment), and the entry the kernel
 * read holds exactly what the granter wrote for it (grantee, address,
 * length): a revoked or stale id never works, and the kernel never
 * accepts a half-written entry.
 */

/* include/abi/grant.h */
#define F_USED     1
#define F_VALID    2
#define F_READ     4
#define F_WRITE    8
#define F_INDIRECT 16
#define F_ALL      31
#define GRANT_MAX_DEPTH 4

/* include/abi/errno.h */
#define E_GRANT_NOTABLE 20
#define E_GRANT_INDEX   21
#define E_GRANT_INVALID 22
#define E_GRANT_STALE   23
#define E_GRANT_GRANTEE 24
#define E_GRANT_ACCESS  25
#define E_GRANT_RANGE   26
#define E_GRANT_DEPTH   27

/* Reachability probes: with -DPROBE=n, reaching REACH(n) is an assertion
 * violation (check.sh --teeth: the checked runs are not vacuous). */
#ifdef PROBE
#define REACH(n) assert(PROBE != (n))
#else
#define REACH(n) skip
#endif

#if !defined(CHAIN) && !defined(MAP)
/* ================================================================ */
/* Table race: libipc's stores against the kernel's check            */
/* ================================================================ */

#define NSLOTS 2        /* slots in the granter's table (kc_grant_table) */
#define GMAX 4          /* generations 0 .. GMAX-1 are modelled */
#ifndef NOPS
#define NOPS 5          /* grant_create / grant_revoke calls by the granter */
#endif
#define P_A 2           /* the two grantee processes (pids) */
#define P_B 3
#define ID(i, g) ((i) * GMAX + (g))  /* grant_id(index, gen), compressed */

/* Which make() the model follows: libipc/grant.c's (fields first, flags
 * last), or with -DMAKE_AS_WRITTEN the earlier code whose struct copy
 * stored the flags first: the bug this model found (README.md, "Findings"). */

/* The granter's table, struct grant_entry in its memory. addr and len are
 * abstract (1 or 2: two buffers, two sizes). src_pid, src_id, reserved
 * are not used by direct grants and are left out. */
byte t_flags[NSLOTS], t_gen[NSLOTS], t_grantee[NSLOTS], t_addr[NSLOTS], t_len[NSLOTS];

/* Ghost state: what the granter meant. For each id (slot, gen) it chose:
 * the contents it is writing, and whether that grant exists yet. */
#define G_NONE     0   /* never created */
#define G_CREATING 1   /* make() is writing it */
#define G_LIVE     2   /* made valid */
#define G_REVOKED  3   /* grant_revoke() cleared its flags */
byte g_state[NSLOTS * GMAX], g_grantee[NSLOTS * GMAX], g_addr[NSLOTS * GMAX], g_len[NSLOTS * GMAX];
/* The ids each grantee was sent (over IPC, as ipc_call_data() does),
 * bit 0: P_A, bit 1: P_B. Kept forever: grantees may use them late. */
byte kept[NSLOTS * GMAX];

/* Kernel locals: written before read within one d_step. */
hidden byte k_caller, k_idx, k_gen, k_off, k_len, k_who;
hidden byte e_flags, e_gen, e_grantee, e_addr, e_len;
hidden short k_rc;

/*
 * grant_copy() kernel/grant.c:81 -> grant_verify() grant_verify.c:10, for
 * a copy from (SYS_GRANT_COPY_FROM, access READ) by `caller` through id
 * (k_idx, k_gen), bytes [k_off, k_off + k_len) of the grant. Result in
 * k_rc: 0 on success (the copy itself only moves bytes), else -E_*.
 */
inline grant_copy_from()
{
    /* table_slots(): the granter registered NSLOTS slots (kc_grant_table) */
    if
    :: k_idx >= NSLOTS -> k_rc = -E_GRANT_INDEX
    :: else ->
        /* read_entry(): the entry is read ONCE into a local copy */
        e_flags = t_flags[k_idx];
        e_gen = t_gen[k_idx];
        e_grantee = t_grantee[k_idx];
        e_addr = t_addr[k_idx];
        e_len = t_len[k_idx];
        /* the checks, in grant_verify()'s order */
        if
        :: (e_flags & (F_USED | F_VALID)) != (F_USED | F_VALID) || (e_flags & ~F_ALL) != 0 ->
            k_rc = -E_GRANT_INVALID
        :: else ->
            if
#ifndef MUTANT_NO_GEN_CHECK
            :: e_gen != k_gen -> k_rc = -E_GRANT_STALE
#endif
            :: else ->
                if
                :: e_grantee != k_caller -> k_rc = -E_GRANT_GRANTEE
                :: else ->
                    if
                    :: (e_flags & F_READ) != F_READ -> k_rc = -E_GRANT_ACCESS
                    :: else ->
                        if
                        :: k_off > e_len || k_len > e_len - k_off -> k_rc = -E_GRANT_RANGE
                        :: else ->
                            /* direct grant (no F_INDIRECT is ever set here) */
                            k_rc = 0
                        fi
                    fi
                fi
            fi
        fi
    fi;
    if
    :: k_rc == 0 ->
        printf("copy by pid %d through id (slot %d, gen %d), bytes %d..%d: accepted, entry {flags %d gen %d grantee %d buffer %d len %d}\n",
               k_caller, k_idx, k_gen, k_off, k_off + k_len, e_flags, e_gen, e_grantee, e_addr, e_len);
        REACH(1);
        /* THE PROPERTY: the id names a grant the granter made and has not
         * revoked, and the entry read is exactly what it wrote for it. */
        assert(g_state[ID(k_idx, k_gen)] == G_LIVE || g_state[ID(k_idx, k_gen)] == G_CREATING);
        assert(e_grantee == g_grantee[ID(k_idx, k_gen)] &&
               e_addr == g_addr[ID(k_idx, k_gen)] &&
               e_len == g_len[ID(k_idx, k_gen)])
    :: k_rc == -E_GRANT_STALE && (kept[ID(k_idx, k_gen)] & k_who) != 0 ->
        REACH(2)   /* a kept id that was revoked (and maybe reused) */
    :: else -> skip
    fi
}

/*
 * The grantees' copies. A copy has no effect on this model's state, so
 * rather than pick one request per step, one d_step tries every request
 * a grantee could make at this moment: both grantees, every id it holds
 * (GRANTEE_FORGES: every id there is), every offset and length. It runs
 * between any two steps of the granter, as a copy system call can.
 */
active proctype grantees()
{
end:
    do
    :: d_step {
        k_caller = P_A;
        do
        :: k_caller <= P_B ->
            k_who = (k_caller == P_A -> 1 : 2);
            k_idx = 0;
            do
            :: k_idx < NSLOTS ->
                k_gen = 0;
                do
                :: k_gen < GMAX ->
#ifndef GRANTEE_FORGES
                    if
                    :: (kept[ID(k_idx, k_gen)] & k_who) != 0 ->
#endif
                        k_off = 0;
                        do
                        :: k_off <= 1 ->
                            k_len = 1;
                            do
                            :: k_len <= 2 -> grant_copy_from(); k_len++
                            :: else -> break
                            od;
                            k_off++
                        :: else -> break
                        od;
#ifndef GRANTEE_FORGES
                    :: else -> skip
                    fi;
#endif
                    k_gen++
                :: else -> break
                od;
                k_idx++
            :: else -> break
            od;
            k_caller++
        :: else -> break
        od;
        k_caller = 0; k_idx = 0; k_gen = 0; k_off = 0; k_len = 0; k_who = 0;
        e_flags = 0; e_gen = 0; e_grantee = 0; e_addr = 0; e_len = 0; k_rc = 0
       }
    od
}

/*
 * The granter: NOPS calls of grant_create() (libipc/grant.c make()) or
 * grant_revoke(), on any free slot / any grant it holds. libipc's lock
 * (take()/give()) serialises the granter's own threads, so one thread
 * stands for all of them; the grantees are other processes and do not
 * take it. The scan and checks only read the table, which no one else
 * writes, so they are folded into the first store.
 */
active proctype granter()
{
    byte ops = 0;
    byte i, gen, who, a, l;

    do
    :: ops < NOPS ->
        if
        /* ---- grant_create(who, buffer a, length l, GRANT_F_READ) ---- */
        :: atomic {
               (t_flags[0] == 0 || t_flags[1] == 0) ->
               /* make(): the first slot with flags == 0 */
               i = (t_flags[0] == 0 -> 0 : 1);
               /* uint32_t gen = table[i].gen ? table[i].gen : 1 */
               gen = (t_gen[i] != 0 -> t_gen[i] : 1);
               assert(gen < GMAX);
               if
               :: who = P_A
               :: who = P_B
               fi;
               if
               :: a = 1
               :: a = 2
               fi;
               if
               :: l = 1
               :: l = 2
               fi;
               /* an id is never handed out twice */
               assert(g_state[ID(i, gen)] == G_NONE);
               g_state[ID(i, gen)] = G_CREATING;
               printf("granter: grant_create(pid %d, buffer %d, len %d) -> slot %d, gen %d\n", who, a, l, i, gen);
               g_grantee[ID(i, gen)] = who;
               g_addr[ID(i, gen)] = a;
               g_len[ID(i, gen)] = l
           };
#ifdef MAKE_AS_WRITTEN
            /*
             * make() as written today:
             *     table[i] = *e; table[i].gen = gen; table[i].flags = 0;
             *     __atomic_store_n(&table[i].flags, flags, __ATOMIC_RELEASE);
             * in the order gcc -O2 (the project's user flags) emits it: the
             * struct copy is six 8-byte moves in offset order, the first of
             * which stores e->flags (USED|VALID|READ) and e->gen (0).
             */
            d_step {
                t_flags[i] = F_USED | F_VALID | F_READ;  /* movq (%rbx) -> 0(%rdx): flags, gen */
                t_gen[i] = 0;
                printf("granter:   table[%d] = *e: flags, gen (= 0) stored\n", i)
            };
            t_grantee[i] = who;      /* movq -> 8(%rdx): grantee, src_pid */
            t_addr[i] = a;           /* movq -> 16(%rdx): addr */
            t_len[i] = l;            /* movq -> 24(%rdx): len (src_id, reserved follow) */
            t_gen[i] = gen;          /* movl %eax, 4(%rdx): table[i].gen = gen */
            t_flags[i] = 0;          /* movl $0, (%rdx): table[i].flags = 0 */
#else
            /*
             * make() as proposed (README.md): the entry is written while
             * its flags stay 0 (the slot is free), in whatever order the
             * compiler likes; the kernel rejects the entry on its flags
             * until the release store, so two of the orders stand for all.
             */
#ifdef MUTANT_VALID_FIRST
            t_flags[i] = F_USED | F_VALID | F_READ;
#endif
            if
            :: t_gen[i] = gen; t_grantee[i] = who; t_addr[i] = a; t_len[i] = l
            :: t_len[i] = l; t_addr[i] = a; t_grantee[i] = who; t_gen[i] = gen
            fi;
#endif
            /* __atomic_store_n(&table[i].flags, flags, RELEASE): valid last */
            d_step {
                t_flags[i] = F_USED | F_VALID | F_READ;
                g_state[ID(i, gen)] = G_LIVE;
                printf("granter:   flags stored: grant (slot %d, gen %d) valid\n", i, gen)
            };
            /* the id goes to its grantee (e.g. in an IPC message) */
            d_step {
                kept[ID(i, gen)] = kept[ID(i, gen)] | (who == P_A -> 1 : 2);
                i = 0; gen = 0; who = 0; a = 0; l = 0
            }
        /* ---- grant_revoke(id) of a grant it holds ---- */
        :: atomic {
               (t_flags[0] != 0 && g_state[ID(0, t_gen[0])] == G_LIVE) ||
               (t_flags[1] != 0 && g_state[ID(1, t_gen[1])] == G_LIVE) ->
               if
               :: t_flags[0] != 0 && g_state[ID(0, t_gen[0])] == G_LIVE -> i = 0
               :: t_flags[1] != 0 && g_state[ID(1, t_gen[1])] == G_LIVE -> i = 1
               fi
           };
            /* grant_revoke(): flags != 0 and gen matches, then
             *     __atomic_store_n(&table[i].flags, 0, __ATOMIC_RELEASE);
             * (same order in gcc's output) */
            d_step {
                t_flags[i] = 0;
                g_state[ID(i, t_gen[i])] = G_REVOKED;
                printf("granter: grant_revoke(slot %d, gen %d): flags = 0\n", i, t_gen[i])
            };
            /* table[i].gen = table[i].gen + 1 ? table[i].gen + 1 : 1
             * (wrap-around after 2^32 revokes is not modelled) */
            d_step {
#ifndef MUTANT_REVOKE_NO_GEN
                assert(t_gen[i] + 1 < GMAX);
                t_gen[i] = t_gen[i] + 1;
#endif
                i = 0
            }
        fi;
        ops++
    :: else -> break
    od
}

#elif defined(CHAIN)
/* ================================================================ */
/* Indirect grants: the chain walk of grant_verify()                 */
/* ================================================================ */

/*
 * Three processes (pids 1..3), each with a one-slot table whose entry is
 * invalid, direct, or indirect (passing on slot 0 of src_pid's table);
 * every combination, loops included. For each combination, every request
 * (any caller pid, any granter, offset 0..1, length 1..2) is walked as
 * grant_verify() walks it. The generation check is left out (ids always
 * match): it is the table-race model's business.
 */
#define NP 3
#define KIND_INVALID 0
#define KIND_DIRECT 1
#define KIND_INDIRECT 2
byte c_kind[NP + 1], c_grantee[NP + 1], c_src[NP + 1], c_addr[NP + 1];
#define C_LEN 2   /* every entry grants 2 bytes */

hidden byte w_caller, w_granter, w_off, w_len, w_depth, w_seen, w_final, w_loop;
hidden byte r_caller, r_granter, r_off, r_len;
hidden short w_rc;

/* grant_verify() for one request; result in w_rc, the source process of
 * the bytes in w_final, their offset in its direct entry in w_off. */
inline chain_verify()
{
    w_caller = r_caller;
    w_granter = r_granter;
    w_off = r_off;
    w_len = r_len;
    w_depth = 0;
    w_seen = 0;
    w_loop = 0;
    w_final = 0;
    do
    :: true ->
        /* for (int depth = 0;; depth++): at most GRANT_MAX_DEPTH + 1 links */
        assert(w_depth <= GRANT_MAX_DEPTH + 1);
#ifndef MUTANT_NO_DEPTH
        if
        :: w_depth > GRANT_MAX_DEPTH -> w_rc = -E_GRANT_DEPTH; REACH(3); break
        :: else -> skip
        fi;
#endif
        if
        :: w_granter < 1 || w_granter > NP -> w_rc = -E_GRANT_NOTABLE; break
        :: c_kind[w_granter] == KIND_INVALID -> w_rc = -E_GRANT_INVALID; break
        :: c_kind[w_granter] != KIND_INVALID && c_grantee[w_granter] != w_caller ->
            w_rc = -E_GRANT_GRANTEE; break
        /* (access: every entry grants READ) */
        :: c_kind[w_granter] != KIND_INVALID && c_grantee[w_granter] == w_caller &&
           (w_off > C_LEN || w_len > C_LEN - w_off) ->
            w_rc = -E_GRANT_RANGE; break
        :: c_kind[w_granter] == KIND_DIRECT && c_grantee[w_granter] == w_caller &&
           !(w_off > C_LEN || w_len > C_LEN - w_off) ->
            /* out->granter = granter; out->addr = e.addr + offset */
            w_rc = 0;
            w_final = w_granter;
            break
        :: c_kind[w_granter] == KIND_INDIRECT && c_grantee[w_granter] == w_caller &&
           !(w_off > C_LEN || w_len > C_LEN - w_off) ->
            /* offset += e.addr; caller = granter; granter = e.src_pid */
            if
            :: (w_seen & (1 << w_granter)) != 0 -> w_loop = 1
            :: else -> w_seen = w_seen | (1 << w_granter)
            fi;
            w_off = w_off + c_addr[w_granter];
            w_caller = w_granter;
            w_granter = c_src[w_granter];
            w_depth++
        fi
    od;
    if
    :: w_rc == 0 ->
        REACH(4);
        if
        :: w_depth >= 1 -> REACH(5)   /* a real chain succeeded */
        :: else -> skip
        fi;
        /* a success never went round a loop: each link visited once */
        assert(!w_loop && (w_seen & (1 << w_final)) == 0);
        /* and the bytes lie inside the direct grant at its end */
        assert(w_off + w_len <= C_LEN)
    :: else -> skip
    fi;
    if
    :: w_rc == -E_GRANT_DEPTH && w_loop -> REACH(6)  /* a loop, cut by the bound */
    :: else -> skip
    fi
}

/* Pick one entry for process p. */
inline choose_entry(p)
{
    if
    :: c_kind[p] = KIND_INVALID
    :: c_kind[p] = KIND_DIRECT;
       select(v : 1 .. NP); c_grantee[p] = v;
       select(v : 0 .. 1); c_addr[p] = v
    :: c_kind[p] = KIND_INDIRECT;
       select(v : 1 .. NP); c_grantee[p] = v;
       select(v : 1 .. NP); c_src[p] = v;
       select(v : 0 .. 1); c_addr[p] = v
    fi;
    v = 0
}

init
{
    byte v;
    atomic {
        choose_entry(1);
        choose_entry(2);
        choose_entry(3)
    };
    d_step {
        r_caller = 1;
        do
        :: r_caller <= NP ->
            r_granter = 1;
            do
            :: r_granter <= NP ->
                r_off = 0;
                do
                :: r_off <= 1 ->
                    r_len = 1;
                    do
                    :: r_len <= 2 -> chain_verify(); r_len++
                    :: else -> break
                    od;
                    r_off++
                :: else -> break
                od;
                r_granter++
            :: else -> break
            od;
            r_caller++
        :: else -> break
        od
    }
}
#else /* MAP */
/* ================================================================ */
/* Map grants: mappings against revoke, unmap and the granter's death */
/* ================================================================ */

/*
 * kernel/grant_map.c against libipc's grant_revoke(). The granter makes
 * map grants for the grantee and revokes them (libipc: flags = 0, the
 * generation bumped, then SYS_GRANT_REVOKE, three steps a preemption may
 * split); it may also unmap the granted page (the memory server's
 * KC_UNMAP: grant_map_source_gone) or die (proc_kill:
 * grant_map_proc_dying). The grantee maps any id at all (SYS_GRANT_MAP:
 * verify, then record the mapping), touches its mappings (a load or store:
 * the CPU walks the grantee's page table; no kernel entry) and unmaps them.
 *
 * Property: whenever the grantee touches a mapping, the grant it was made
 * through is not revoked (grant_revoke has not returned), the granter is
 * alive, and the page is still the granter's. A revoked mapping is never
 * reached: the touch faults instead.
 */
#define NSLOTS 2
#define GMAX 3
#ifndef NOPS
#define NOPS 4
#endif
#define P_G 1           /* the granter */
#define P_A 2           /* the grantee */
#define ID(i, g) ((i) * GMAX + (g))
#define F_MAP 32

byte t_flags[NSLOTS], t_gen[NSLOTS];
bool granter_alive = true, page_there = true;

/* Ghost: each id's life as the granter sees it. */
#define G_NONE     0
#define G_LIVE     2
#define G_REVOKING 3   /* flags cleared; SYS_GRANT_REVOKE not yet returned */
#define G_REVOKED  4   /* grant_revoke() returned */
byte g_state[NSLOTS * GMAX];

/* The grantee's records (struct grant_map): one mapping per table slot
 * at most (the same pages are never mapped twice), with the id it was
 * made through; `mapped` also stands for the page-table entries. */
bool mapped[NSLOTS];
byte m_gen[NSLOTS];

hidden byte k_idx, k_gen;

/* sys_grant_map(): grant_verify_chain with GRANT_F_MAP | GRANT_F_READ. */
inline sys_grant_map()
{
    if
    :: !granter_alive -> skip          /* -E_GRANT_NOTABLE */
    :: granter_alive && (t_flags[k_idx] & (F_USED | F_VALID | F_READ | F_MAP)) !=
                        (F_USED | F_VALID | F_READ | F_MAP) -> skip   /* INVALID / ACCESS */
    :: granter_alive && (t_flags[k_idx] & (F_USED | F_VALID | F_READ | F_MAP)) ==
                        (F_USED | F_VALID | F_READ | F_MAP) && t_gen[k_idx] != k_gen -> skip /* STALE */
    :: granter_alive && (t_flags[k_idx] & (F_USED | F_VALID | F_READ | F_MAP)) ==
                        (F_USED | F_VALID | F_READ | F_MAP) && t_gen[k_idx] == k_gen ->
        if
        :: mapped[k_idx] -> skip       /* -E_EXIST: the same pages twice */
        :: !page_there -> skip         /* -E_FAULT: the source page is missing */
        :: !mapped[k_idx] && page_there ->
            REACH(7);
            mapped[k_idx] = true;
            m_gen[k_idx] = k_gen
        fi
    fi
}

active proctype grantee()
{
end:
    do
    /* SYS_GRANT_MAP with any id */
    :: d_step {
        if
        :: k_idx = 0
        :: k_idx = 1
        fi;
        if
        :: k_gen = 0
        :: k_gen = 1
        :: k_gen = 2
        fi;
        sys_grant_map();
        k_idx = 0; k_gen = 0
       }
    /* a load or store through a mapping: the property */
    :: d_step {
        if
        :: mapped[0] -> k_idx = 0
        :: mapped[1] -> k_idx = 1
        :: else -> k_idx = NSLOTS
        fi;
        if
        :: k_idx < NSLOTS ->
            REACH(8);
            assert(g_state[ID(k_idx, m_gen[k_idx])] != G_REVOKED);
            assert(granter_alive && page_there)
        :: else -> skip   /* nothing mapped there: a page fault */
        fi;
        k_idx = 0
       }
    /* SYS_GRANT_UNMAP */
    :: d_step {
        if
        :: mapped[0] -> mapped[0] = false
        :: mapped[1] -> mapped[1] = false
        :: else -> skip
        fi
       }
    od
}

/* drop(): every record made through (slot, gen), or all of them. */
inline drop_naming(slot, gen, all)
{
    if
    :: mapped[0] && (all || (slot == 0 && m_gen[0] == gen)) -> mapped[0] = false
    :: else -> skip
    fi;
    if
    :: mapped[1] && (all || (slot == 1 && m_gen[1] == gen)) -> mapped[1] = false
    :: else -> skip
    fi
}

active proctype granter()
{
    byte ops = 0, i, gen;
    do
    :: ops < NOPS && granter_alive ->
        if
        /* grant_create(grantee, page, 4096, GRANT_F_READ | GRANT_F_MAP):
         * fields first, flags last (the table race above checks that) */
        :: d_step {
               (t_flags[0] == 0 || t_flags[1] == 0) ->
               i = (t_flags[0] == 0 -> 0 : 1);
               gen = t_gen[i];
               assert(g_state[ID(i, gen)] == G_NONE);
               t_flags[i] = F_USED | F_VALID | F_READ | F_MAP;
               g_state[ID(i, gen)] = G_LIVE
           }
        /* grant_revoke(id) */
        :: atomic {
               (t_flags[0] != 0 || t_flags[1] != 0) ->
               if
               :: t_flags[0] != 0 -> i = 0
               :: t_flags[1] != 0 -> i = 1
               fi;
               gen = t_gen[i]
           };
#ifdef MUTANT_UNMAP_FIRST
            /* the kernel's half before the table's: a map in between survives */
            d_step { drop_naming(i, gen, false) };
#endif
            d_step { t_flags[i] = 0; g_state[ID(i, gen)] = G_REVOKING };
            d_step {
                if
                :: t_gen[i] + 1 < GMAX -> t_gen[i] = t_gen[i] + 1
                :: else -> t_flags[i] = 255   /* out of modelled generations: retire the slot */
                fi
            };
#if !defined(MUTANT_NO_KERNEL_REVOKE) && !defined(MUTANT_UNMAP_FIRST)
            /* SYS_GRANT_REVOKE: every mapping made through this id */
            d_step { drop_naming(i, gen, false) };
#endif
            d_step { g_state[ID(i, gen)] = G_REVOKED; i = 0; gen = 0 }
        /* KC_UNMAP of the granted page: grant_map_source_gone first */
        :: d_step {
               page_there ->
#ifndef MUTANT_SOURCE_KEEPS
               drop_naming(0, 0, true);
#endif
               page_there = false
           }
        /* death: grant_map_proc_dying before the frames are freed */
        :: d_step {
#ifndef MUTANT_DEATH_KEEPS
               drop_naming(0, 0, true);
#endif
               granter_alive = false
           }
        fi;
        ops++
    :: else -> break
    od
}
#endif /* MAP */
