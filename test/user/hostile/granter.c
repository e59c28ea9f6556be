/*
 * hostile.granter: the victim of hostile.grant_attacks. Its server thread
 * answers the attacker; a rotator thread keeps revoking and re-granting one
 * buffer, a tamperer thread keeps rewriting one table entry field by field,
 * and both hand the CPU to the attacker at random points in between.
 */
#include <abi/layout.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/server.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "grant_attack_proto.h"

#define FLOOD_MAX 200

/* Our own table, so the tamperer can write its entries directly. */
static struct grant_entry table[GA_TABLE] __attribute__((aligned(64)));
static uint64_t rot_buf[GA_BUF / 8] __attribute__((aligned(4096)));
static uint64_t t_buf[GA_BUF / 8] __attribute__((aligned(4096)));
static uint8_t p_buf[GA_BUF] __attribute__((aligned(4096)));
static uint8_t flood_buf[GA_BUF] __attribute__((aligned(4096)));
static uint8_t use_buf[GA_BUF];

static uint32_t self_pid, boot_pid;
static volatile uint32_t attacker;
static long rot_thread, tamper_thread;

static volatile int rot_on, rot_running;
static volatile int64_t rot_current; /* the published id */
static volatile int tamper_on, tamper_running;
static volatile long rot_peer, tamper_peer; /* handles of the attacker's thread */
static int64_t flood[FLOOD_MAX];
static int nflood;
static int64_t d_id;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * A yield straight to the attacker, at a random point of our update: it
 * copies while we wait, so it meets every intermediate state of the table.
 * (kc_yield would do the same on an idle machine, but under the fuzzer each
 * one costs a 20 ms slice, and timer preemption gives only 100 points a
 * second.) Sets *stop when the attacker has had enough or is gone.
 */
static void poke(long peer, uint64_t *s, unsigned one_in, uint64_t what, uint64_t point, int *stop)
{
    if (*stop || rnd(s) % one_in)
        return;
    struct ipc_msg m = ipc_msg_make(GA_POKE, 3);
    m.w[1] = what;
    m.w[2] = point;
    long rc = ipc_call((uint64_t)peer, &m);
    if (rc < 0 || m.w[0] != 0)
        *stop = 1;
}

/* Helper threads sleep here while their attack is off (a notification wakes them). */
static void wait_kick(void)
{
    struct ipc_msg m = {0};
    ipc_recv(IPC_ANY, &m);
}

/* Wait for a helper thread to reach a state. It is ready to run, so yields
 * are enough; the sleeps only guard against a machine busy elsewhere. */
static long settle(volatile int *flag, int want)
{
    for (int i = 0; i < 2000 && *flag != want; i++)
        if (i < 1000)
            kc_yield();
        else
            kc_sleep(1);
    return *flag == want ? 0 : -E_TIMEDOUT;
}

/* The generation libipc will give B's next grant: that of the first free
 * slot. Checked after the fact, since another thread may take the slot. */
static uint32_t next_gen(void)
{
    for (uint32_t i = 0; i < GA_TABLE; i++)
        if (!table[i].flags)
            return table[i].gen ? table[i].gen : 1;
    return 1;
}

/* Fill B for the next generation, then grant it: until the grant exists, no
 * id (old or new) may read B, so a half-filled B is never legitimately seen. */
static int64_t make_rotated(uint64_t *s, int *stop)
{
    for (int tries = 0; tries < 4; tries++) {
        uint32_t gen = next_gen();
        uint32_t cut = (uint32_t)(rnd(s) % (GA_BUF / 8));
        for (uint32_t j = 0; j < cut; j++)
            rot_buf[j] = ga_rot_word(gen, j);
        poke(rot_peer, s, 2, (uint64_t)rot_current, GA_AT_FILLING, stop);
        for (uint32_t j = cut; j < GA_BUF / 8; j++)
            rot_buf[j] = ga_rot_word(gen, j);
        poke(rot_peer, s, 2, (uint64_t)rot_current, GA_AT_FILLED, stop);
        int64_t id = grant_create(attacker, rot_buf, GA_BUF, GRANT_F_READ);
        if (id < 0 || grant_id_gen((uint64_t)id) == gen)
            return id;
        grant_revoke((uint64_t)id); /* B holds another generation's bytes: never publish */
    }
    return -E_BUSY;
}

static void rotator(void *arg)
{
    uint64_t s = 0x726f7461746f72ull;
    (void)arg;
    for (;;) {
        while (!rot_on)
            wait_kick();
        rot_running = 1;
        int stop = 0, quiet = 1; /* no pokes before GA_ROTATE has answered */
        int64_t id = make_rotated(&s, &quiet);
        rot_current = id; /* GA_ROTATE waits for this */
        while (id > 0 && !stop && rot_on) {
            /* The attacker holds the published id: revoked now, stale soon. */
            grant_revoke((uint64_t)id);
            poke(rot_peer, &s, 2, (uint64_t)rot_current, GA_AT_REVOKED, &stop);
            id = make_rotated(&s, &stop);
            if (id < 0)
                break;
            poke(rot_peer, &s, 2, (uint64_t)rot_current, GA_AT_CREATED, &stop);
            rot_current = id;
            poke(rot_peer, &s, 2, (uint64_t)rot_current, GA_AT_PUBLISHED, &stop);
        }
        if (id > 0)
            grant_revoke((uint64_t)id);
        rot_current = id < 0 ? id : 0;
        rot_on = 0;
        rot_running = 0;
    }
}

/* The versions the tampered entry cycles through (grant_attack_proto.h says
 * what each must give). Every mix of their fields is either T itself at T's
 * address or must be refused: the addresses, also mixed by 32-bit halves,
 * are T, kernel addresses, or unmapped. */
static struct grant_entry versions[GA_NVERSIONS];

static void make_versions(void)
{
    const uint32_t r = GRANT_F_USED | GRANT_F_VALID | GRANT_F_READ;
    const uint32_t ri = r | GRANT_F_INDIRECT;
    uint64_t t = (uint64_t)t_buf;
    /* Our stack's top page lies under an unmapped page: the guard of the
     * next stack up (or nothing, above the main thread's). */
    uint64_t here = (uint64_t)&t;
    uint64_t top = USER_STACK_TOP - (USER_STACK_TOP - here) / USER_STACK_STRIDE * USER_STACK_STRIDE;
    uint64_t self = grant_id(GA_TAMPER_SLOT, GA_TAMPER_GEN);
    uint64_t loop = grant_id(GA_LOOP_SLOT, 1);
    uint32_t a = attacker, g = GA_TAMPER_GEN;
    const struct grant_entry v[GA_NVERSIONS] = {
        [GA_V_LEGIT] = {r, g, a, 0, t, GA_BUF, 0, 0},
        [GA_V_PHYSMAP] = {r, g, a, 0, 0xffff800000000000ull, GA_BUF, 0, 0},
        [GA_V_KTEXT] = {r, g, a, 0, 0xffffffff80100000ull, GA_BUF, 0, 0},
        [GA_V_HUGE] = {r, g, a, 0, t, 1ull << 62, 0, 0},
        [GA_V_HOLE] = {r, g, a, 0, top - 16, GA_BUF, 0, 0},
        [GA_V_SELF] = {ri, g, a, self_pid, 0, GA_BUF, self, 0},
        [GA_V_LOOP] = {ri, g, a, self_pid, 0, GA_BUF, loop, 0},
        [GA_V_FLAGS] = {r | 0xdead0000u, g, a, 0, t, GA_BUF, 0, 0},
        [GA_V_OTHER] = {r, g, boot_pid, 0, t, GA_BUF, 0, 0},
        [GA_V_WRONLY] = {GRANT_F_USED | GRANT_F_VALID | GRANT_F_WRITE, g, a, 0, t, GA_BUF, 0, 0},
        [GA_V_GEN] = {r, g + 1, a, 0, t, GA_BUF, 0, 0},
        [GA_V_INVALID] = {GRANT_F_USED | GRANT_F_READ, g, a, 0, t, GA_BUF, 0, 0},
    };
    memcpy(versions, v, sizeof(v));
}

static uint64_t half(uint64_t old, uint64_t want, int high)
{
    return high ? (old & 0xffffffffull) | (want & ~0xffffffffull)
                : (old & ~0xffffffffull) | (want & 0xffffffffull);
}

/* Rewrite the entry into v one store at a time, in a random order, and the
 * 64-bit fields by halves: the kernel may see any mix of old and new. */
static void tamper_write(volatile struct grant_entry *e, const struct grant_entry *v, uint64_t *s,
                         int *stop)
{
    int order[9];
    for (int i = 0; i < 9; i++)
        order[i] = i;
    for (int i = 8; i > 0; i--) {
        int j = (int)(rnd(s) % (uint64_t)(i + 1)), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    for (int i = 0; i < 9; i++) {
        switch (order[i]) {
        case 0:
            e->flags = v->flags;
            break;
        case 1:
            e->gen = v->gen;
            break;
        case 2:
            e->grantee = v->grantee;
            break;
        case 3:
            e->src_pid = v->src_pid;
            break;
        case 4:
            e->addr = half(e->addr, v->addr, 0);
            break;
        case 5:
            e->addr = half(e->addr, v->addr, 1);
            break;
        case 6:
            e->len = half(e->len, v->len, 0);
            break;
        case 7:
            e->len = half(e->len, v->len, 1);
            break;
        case 8:
            e->src_id = v->src_id;
            break;
        }
        poke(tamper_peer, s, 3, ~0ull, GA_AT_FIELD, stop);
    }
}

/* Reserved but unusable: flags are never 0, so libipc never takes the slot. */
static void tamper_idle(volatile struct grant_entry *e)
{
    e->flags = GRANT_F_USED;
    e->gen = GA_TAMPER_GEN;
    e->grantee = 0;
    e->src_pid = 0;
    e->addr = 0;
    e->len = 0;
    e->src_id = 0;
}

static void tamperer(void *arg)
{
    volatile struct grant_entry *e = &table[GA_TAMPER_SLOT];
    uint64_t s = 0x74616d7065726572ull;
    (void)arg;
    for (;;) {
        while (!tamper_on)
            wait_kick();
        make_versions();
        tamper_running = 1; /* GA_TAMPER waits for this */
        int stop = 0;
        while (!stop && tamper_on) {
            /* The legitimate version a third of the time, so copies can succeed. */
            uint64_t k = rnd(&s) % (GA_NVERSIONS * 3 / 2);
            k = k < GA_NVERSIONS ? k : GA_V_LEGIT;
            tamper_write(e, &versions[k], &s, &stop);
            poke(tamper_peer, &s, 1, k, GA_AT_VERSION, &stop);
        }
        tamper_idle(e);
        tamper_on = 0;
        tamper_running = 0;
    }
}

/* The attacker's thread, which the helpers poke, comes with the "on" request. */
static long take_peer(struct ipc_msg *m, volatile long *peer)
{
    if (!(m->info & IPC_INFO_CAP) || (long)m->cap < 0)
        return -E_INVAL;
    *peer = (long)m->cap;
    m->cap = 0; /* kept: server_run must not delete it */
    attacker = badge_pid(m->badge);
    return 0;
}

static void drop_peer(volatile long *peer)
{
    if (*peer > 0)
        kc_cap_delete((uint64_t)*peer);
    *peer = 0;
}

static long op_rotate(struct ipc_msg *m)
{
    if (!m->w[1]) {
        rot_on = 0;
        long rc = settle(&rot_running, 0);
        if (rc == 0)
            drop_peer(&rot_peer);
        return rc;
    }
    if (rot_on || rot_running)
        return -E_BUSY;
    long rc = take_peer(m, &rot_peer);
    if (rc < 0)
        return rc;
    rot_current = 0;
    rot_on = 1;
    ipc_notify((uint64_t)rot_thread, 1);
    for (int i = 0; i < 2000 && rot_current == 0; i++)
        if (i < 1000)
            kc_yield();
        else
            kc_sleep(1);
    if (rot_current > 0)
        return 0;
    rot_on = 0;
    return rot_current < 0 ? (long)rot_current : -E_TIMEDOUT;
}

/* Grants for the boot server, at varied generations (1..8) and rights: the
 * brute force must find them and still be refused. */
static long op_flood(struct ipc_msg *m)
{
    static const uint32_t rights[] = {GRANT_F_READ, GRANT_F_WRITE, GRANT_F_READ | GRANT_F_WRITE};
    uint64_t want = m->w[1] < FLOOD_MAX ? m->w[1] : FLOOD_MAX;
    while (nflood < (int)want) {
        int i = nflood;
        uint8_t *p = flood_buf + (i % 32) * 128;
        int64_t id = grant_create(boot_pid, p, 128, rights[i % 3]);
        for (int r = 0; r < i % 8 && id > 0; r++) {
            grant_revoke((uint64_t)id); /* the slot is the first free one: reused, gen + 1 */
            id = grant_create(boot_pid, p, 128, rights[i % 3]);
        }
        if (id < 0)
            break;
        flood[nflood++] = id;
    }
    return nflood;
}

static long op_unflood(struct ipc_msg *m)
{
    (void)m;
    long rc = 0;
    while (nflood > 0) {
        long r = grant_revoke((uint64_t)flood[--nflood]);
        if (r < 0)
            rc = r;
    }
    return rc;
}

static long op_tamper(struct ipc_msg *m)
{
    long rc;
    if (m->w[1]) {
        if (tamper_on || tamper_running)
            return -E_BUSY;
        rc = take_peer(m, &tamper_peer);
        if (rc < 0)
            return rc;
        tamper_on = 1;
        ipc_notify((uint64_t)tamper_thread, 1);
        rc = settle(&tamper_running, 1);
    } else {
        tamper_on = 0;
        rc = settle(&tamper_running, 0);
        if (rc == 0)
            drop_peer(&tamper_peer);
    }
    return rc < 0 ? rc : (long)grant_id(GA_TAMPER_SLOT, GA_TAMPER_GEN);
}

static long op_give_d(struct ipc_msg *m)
{
    attacker = badge_pid(m->badge);
    for (uint32_t i = 0; i < GA_BUF; i++)
        p_buf[i] = ga_p_byte(i);
    d_id = grant_create(attacker, p_buf, GA_D_LEN, GRANT_F_READ);
    return (long)d_id;
}

static long op_use_from(struct ipc_msg *m)
{
    uint64_t len = m->w[3];
    if (len > sizeof(use_buf))
        return -E_INVAL;
    memset(use_buf, 0, sizeof(use_buf));
    long rc = grant_copy_from(badge_pid(m->badge), m->w[1], m->w[2], use_buf, len);
    memcpy(&m->w[1], use_buf, 7 * 8);
    m->info = ipc_info(IPC_MSG_BYTES, 0);
    return rc;
}

static long op_use_to(struct ipc_msg *m)
{
    uint64_t len = m->w[3];
    if (len > sizeof(use_buf))
        return -E_INVAL;
    memset(use_buf, 0xee, sizeof(use_buf));
    return grant_copy_to(badge_pid(m->badge), m->w[1], m->w[2], use_buf, len);
}

static long op_check_p(struct ipc_msg *m)
{
    (void)m;
    long bad = 0;
    for (uint32_t i = 0; i < GA_BUF; i++)
        bad += p_buf[i] != ga_p_byte(i);
    return bad;
}

static long op_revoke_d(struct ipc_msg *m)
{
    (void)m;
    return grant_revoke((uint64_t)d_id);
}

static const struct server_op ops[] = {
    {GA_ROTATE, op_rotate}, {GA_FLOOD, op_flood},     {GA_UNFLOOD, op_unflood},
    {GA_TAMPER, op_tamper}, {GA_GIVE_D, op_give_d},   {GA_USE_FROM, op_use_from},
    {GA_USE_TO, op_use_to}, {GA_CHECK_P, op_check_p}, {GA_REVOKE_D, op_revoke_d},
};

int main(void)
{
    kc_self(&self_pid, 0, 0, 0);
    boot_pid = (uint32_t)ipc_handle_pid(HANDLE_PARENT);
    for (uint32_t j = 0; j < GA_BUF / 8; j++)
        t_buf[j] = ga_t_word(j);
    /* Two slots libipc must never hand out: the tampered one (inert until
     * GA_TAMPER) and an indirect grant to ourselves that points back at
     * itself, which the tamperer's "loop" version leads into. */
    tamper_idle(&table[GA_TAMPER_SLOT]);
    table[GA_LOOP_SLOT] = (struct grant_entry){
        .flags = GRANT_F_USED | GRANT_F_VALID | GRANT_F_READ | GRANT_F_INDIRECT,
        .gen = 1,
        .grantee = self_pid,
        .src_pid = self_pid,
        .addr = 0,
        .len = GA_BUF,
        .src_id = grant_id(GA_LOOP_SLOT, 1),
    };
    long rc = grant_table_init(table, GA_TABLE);
    if (rc == 0)
        rc = rot_thread = thread_create(rotator, 0, 0);
    if (rc >= 0)
        rc = tamper_thread = thread_create(tamperer, 0, 0);
    if (rc < 0) {
        printf("hostile.granter: cannot start: %s\n", ipc_strerror(rc));
        return 1;
    }
    struct server s = {.name = "hostile.granter",
                       .ops = ops,
                       .nops = sizeof(ops) / sizeof(ops[0]),
                       .accept_caps = 1};
    return (int)server_run(&s);
}
