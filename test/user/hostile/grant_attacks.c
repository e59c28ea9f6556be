/*
 * hostile.grant_attacks: attacks on memory grants, with hostile.granter as
 * the victim: copies racing a revoke-and-regrant loop, a brute force over
 * ids, copies from an entry rewritten under the kernel's feet, and indirect
 * grants that try to widen what they pass on. Exit status = problems found.
 */
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "grant_attack_proto.h"

#define CALL_TIMEOUT   500 /* ticks: the granter answers at once unless it is gone */
#define RACE_COPIES    20000
#define TAMPER_COPIES  20000
#define PHASE_TICKS    500 /* a busy machine stops a phase early: the counts say how far it got */
#define BRUTE_SLOTS    1024
#define BRUTE_GENS     8
#define FLOOD          100
#define POISON         0xa5a5a5a5a5a5a5a5ull
#define CANARY_WORDS   8
#define MAX_COMPLAINTS 5

static long granter;
static uint32_t gpid;
static int problems, lost;
static uint64_t dst[GA_BUF / 8 + CANARY_WORDS] __attribute__((aligned(4096)));

static uint64_t now(void)
{
    uint64_t t = 0;
    kc_time(&t, 0, 0, 0, 0);
    return t;
}

/* One request to the granter, with a timeout so a dead granter fails the
 * test instead of hanging it. Returns its status; *out gets the reply. */
static long ask_as(uint32_t op, uint64_t w1, uint64_t w2, uint64_t w3, struct ipc_msg *out,
                   int with_self)
{
    struct ipc_msg m = ipc_msg_make(op, 4);
    m.info |= ipc_info_timeout(CALL_TIMEOUT);
    if (with_self) { /* the granter's helpers will poke this thread */
        m.info |= IPC_INFO_CAP;
        m.cap = IPC_SELF;
    }
    m.w[1] = w1;
    m.w[2] = w2;
    m.w[3] = w3;
    long rc = ipc_call((uint64_t)granter, &m);
    if (rc < 0) {
        if (!lost)
            printf("grant attacks: the granter did not answer request %u: %s\n", op,
                   ipc_strerror(rc));
        lost = 1;
        problems++;
        return rc;
    }
    if (out)
        *out = m;
    return (long)m.w[0];
}

static long ask(uint32_t op, uint64_t w1, uint64_t w2, uint64_t w3, struct ipc_msg *out)
{
    return ask_as(op, w1, w2, w3, out, 0);
}

/* Answer the granter's pokes (GA_POKE), calling visit for each, until it
 * returns 0; that answer tells the helper to stop. */
static void poke_loop(const char *phase, int (*visit)(const struct ipc_msg *m))
{
    struct ipc_msg m = ipc_msg_make(0, 0);
    m.info |= ipc_info_timeout(CALL_TIMEOUT);
    long rc = ipc_recv(IPC_ANY, &m);
    for (;;) {
        if (rc < 0) {
            printf("grant attacks: %s: the granter stopped poking: %s\n", phase, ipc_strerror(rc));
            lost = 1;
            problems++;
            return;
        }
        if (ipc_info_label(m.info) != GA_POKE || badge_pid(m.badge) != gpid) {
            printf("grant attacks: %s: unexpected message 0x%lx from 0x%lx\n", phase, m.info,
                   m.badge);
            problems++;
            m = ipc_msg_make(0, 0);
            m.info |= ipc_info_timeout(CALL_TIMEOUT);
            rc = ipc_recv(IPC_ANY, &m);
            continue;
        }
        int more = visit(&m);
        uint64_t badge = m.badge;
        m = ipc_msg_make(0, 1);
        m.w[0] = !more;
        if (!more) {
            ipc_reply(badge, &m);
            return;
        }
        m.info |= ipc_info_timeout(CALL_TIMEOUT);
        rc = ipc_reply_recv(badge, &m);
    }
}

static void poison(void)
{
    for (size_t j = 0; j < sizeof(dst) / 8; j++)
        dst[j] = POISON;
}

/* The kernel writes only the bytes asked for, even when it refuses midway. */
static int canary_ok(uint64_t len)
{
    for (uint64_t j = len / 8; j < len / 8 + CANARY_WORDS; j++)
        if (dst[j] != POISON)
            return 0;
    return 1;
}

static int is_grant_error(long rc)
{
    return rc <= -E_GRANT_NOTABLE && rc >= -E_GRANT_DEPTH;
}

/*
 * 1. The rotator revokes B's grant, refills B for the next generation,
 * grants it anew and publishes the id, and pokes us at random points of
 * that. Each poke brings the published id: it must work exactly at
 * GA_AT_PUBLISHED (with the bytes of its generation: a half-refilled B would
 * mix two), and be refused everywhere else, as must every older id.
 */
static struct {
    uint64_t ok, refused, inconsistent, pokes, ids, cur, prev, t0;
} race;

static void race_copy(uint64_t id, int live, uint64_t point)
{
    poison();
    long rc = grant_copy_from(gpid, id, 0, dst, GA_BUF);
    uint32_t gen = grant_id_gen(id);
    uint64_t bad = 0, first = 0;
    if (rc == GA_BUF && live) {
        for (uint64_t j = 0; j < GA_BUF / 8; j++)
            if (dst[j] != ga_rot_word(gen, j) && bad++ == 0)
                first = j;
    } else if (live || (rc != -E_GRANT_INVALID && rc != -E_GRANT_STALE)) {
        bad = 1;
    }
    bad += !canary_ok(GA_BUF);
    if (!bad) {
        if (rc == GA_BUF)
            race.ok++;
        else
            race.refused++;
        return;
    }
    if (race.inconsistent++ >= MAX_COMPLAINTS)
        return;
    if (rc >= 0 && !live)
        printf("grant attacks: revoke race: revoked id 0x%lx accepted (%ld bytes) at point %lu\n",
               id, rc, point);
    else if (rc < 0)
        printf("grant attacks: revoke race: %s id 0x%lx gave %s at point %lu\n",
               live ? "live" : "revoked", id, ipc_strerror(rc), point);
    else
        printf("grant attacks: revoke race: id 0x%lx gave %ld bytes, %lu words wrong from %lu\n",
               id, rc, bad, first);
}

static int race_visit(const struct ipc_msg *m)
{
    uint64_t id = m->w[1], point = m->w[2];
    if (id != race.cur) {
        race.prev = race.cur;
        race.cur = id;
        race.ids++;
    }
    race_copy(id, point == GA_AT_PUBLISHED, point);
    if (race.prev && race.pokes % 4 == 0)
        race_copy(race.prev, 0, point);
    race.pokes++;
    if (race.pokes % 256 == 0 && now() - race.t0 >= PHASE_TICKS)
        return 0;
    return race.ok + race.refused + race.inconsistent < RACE_COPIES;
}

static void revoke_race(void)
{
    race.t0 = now();
    long rc = ask_as(GA_ROTATE, 1, 0, 0, 0, 1);
    if (rc < 0) {
        if (!lost) {
            printf("grant attacks: revoke race: the granter cannot rotate: %s\n", ipc_strerror(rc));
            problems++;
        }
        return;
    }
    poke_loop("revoke race", race_visit);
    if (lost)
        return;
    rc = ask(GA_ROTATE, 0, 0, 0, 0);
    if (rc < 0 && !lost) {
        printf("grant attacks: revoke race: rotation did not stop: %s\n", ipc_strerror(rc));
        problems++;
    }
    /* The last id is revoked now: it must stay dead. */
    if (race.cur)
        race_copy(race.cur, 0, 0);
    int fail = race.inconsistent || !race.ok || !race.refused;
    problems += fail;
    printf("grant attacks: revoke race: %lu copies ok, %lu refused, %lu inconsistent (%lu pokes, "
           "%lu ids, %lu ticks)%s\n",
           race.ok, race.refused, race.inconsistent, race.pokes, race.ids, now() - race.t0,
           fail ? " FAIL" : "");
}

/* 2. Every id over the granter's first 1024 slots and generations 1..8,
 * while it holds grants for another process and none for us. */
static void brute_force(void)
{
    static uint64_t codes[E_MAX + 1];
    uint64_t tries = 0, accepted = 0, odd = 0, t0 = now();
    static uint8_t buf[64];
    long made = ask(GA_FLOOD, FLOOD, 0, 0, 0);
    if (made != FLOOD) {
        if (!lost)
            printf("grant attacks: brute force: the granter made %ld grants, not %d\n", made,
                   FLOOD);
        problems++;
    }
    const uint64_t extra[] = {
        0,
        ~0ull,
        grant_id(0xffffffffu, 0xffffffffu),
        grant_id(GA_TABLE, 1),
        grant_id(GRANT_MAX_SLOTS, 1),
        grant_id(GA_TAMPER_SLOT, GA_TAMPER_GEN), /* inert now */
    };
    size_t nextra = sizeof(extra) / sizeof(extra[0]);
    for (uint64_t k = 0; k < BRUTE_SLOTS * BRUTE_GENS + nextra; k++) {
        uint64_t id = k < BRUTE_SLOTS * BRUTE_GENS
                          ? grant_id((uint32_t)(k / BRUTE_GENS), (uint32_t)(k % BRUTE_GENS + 1))
                          : extra[k - BRUTE_SLOTS * BRUTE_GENS];
        for (int dir = 0; dir < 2; dir++) {
            memset(buf, 0x5c, sizeof(buf));
            long rc = dir ? grant_copy_to(gpid, id, 0, buf, sizeof(buf))
                          : grant_copy_from(gpid, id, 0, buf, sizeof(buf));
            tries++;
            if (is_grant_error(rc)) {
                codes[-rc]++;
                continue;
            }
            if (rc >= 0)
                accepted++;
            else
                odd++;
            if (accepted + odd <= MAX_COMPLAINTS)
                printf("grant attacks: brute force: copy %s with id 0x%lx gave %ld (%s)\n",
                       dir ? "to" : "from", id, rc, rc < 0 ? ipc_strerror(rc) : "accepted");
        }
    }
    if (ask(GA_UNFLOOD, 0, 0, 0, 0) != 0 && !lost) {
        printf("grant attacks: brute force: the flood grants could not be revoked\n");
        problems++;
    }
    /* The flood grants are found (and refused as someone else's): the ids
     * tried do reach live grants. */
    int fail = accepted || odd || !codes[E_GRANT_GRANTEE];
    problems += fail;
    printf("grant attacks: brute force: %lu attempts, %lu accepted, %lu with other errors, %lu "
           "on others' live grants (%lu ticks)%s\n",
           tries, accepted, odd, codes[E_GRANT_GRANTEE], now() - t0, fail ? " FAIL" : "");
    printf("grant attacks: brute force refusals:");
    for (int e = E_GRANT_NOTABLE; e <= E_GRANT_DEPTH; e++)
        printf(" %s %lu", ipc_strerror(-e), codes[e]);
    printf("\n");
}

/*
 * 3. The tamperer rewrites one entry of its table field by field among
 * versions that are legitimate, point at the kernel, run into an unmapped
 * page, loop, or are not ours, and pokes us in the middle. Any mix of fields
 * must be refused or give exactly T's bytes; a whole version must give just
 * what ga_version_expect says.
 */
static const struct {
    uint64_t off, len; /* multiples of 8, longer than the 16 bytes under the hole */
} shapes[] = {{0, GA_BUF}, {64, GA_BUF - 64}, {4000, 96}, {2048, 2048}, {8, 64}};

static struct {
    uint64_t ok, refused, wrong, whole, id, t0;
    uint64_t codes[E_MAX + 1];
} tamper;

static int tamper_visit(const struct ipc_msg *m)
{
    uint64_t n = tamper.ok + tamper.refused + tamper.wrong;
    uint64_t off = shapes[n % 5].off, len = shapes[n % 5].len, bad = 0;
    int whole = m->w[2] == GA_AT_VERSION;
    long want = whole ? ga_version_expect(m->w[1]) : 0;
    poison();
    long rc = grant_copy_from(gpid, tamper.id, off, dst, len);
    if (rc == (long)len) {
        for (uint64_t j = 0; j < len / 8; j++)
            bad += dst[j] != ga_t_word(off / 8 + j);
        bad += want != 0;
    } else if (is_grant_error(rc) || rc == -E_FAULT || rc == -E_RANGE) {
        tamper.codes[-rc]++;
        bad += whole && rc != want;
    } else {
        bad = 1;
    }
    bad += !canary_ok(len);
    tamper.whole += whole;
    if (bad && tamper.wrong++ < MAX_COMPLAINTS)
        printf("grant attacks: tampered table: copy of %lu at %lu gave %ld (%s), %lu bad; "
               "entry %s %lu, expected %ld\n",
               len, off, rc, rc < 0 ? ipc_strerror(rc) : "bytes", bad, whole ? "version" : "torn",
               whole ? m->w[1] : 0, want);
    else if (!bad && rc >= 0)
        tamper.ok++;
    else if (!bad)
        tamper.refused++;
    if (n % 256 == 0 && now() - tamper.t0 >= PHASE_TICKS)
        return 0;
    return n + 1 < TAMPER_COPIES;
}

static void tampered_table(void)
{
    tamper.t0 = now();
    long id = ask_as(GA_TAMPER, 1, 0, 0, 0, 1);
    if (id <= 0) {
        if (!lost) {
            printf("grant attacks: tampered table: the granter cannot tamper: %s\n",
                   ipc_strerror(id));
            problems++;
        }
        return;
    }
    tamper.id = (uint64_t)id;
    poke_loop("tampered table", tamper_visit);
    if (lost)
        return;
    if (ask(GA_TAMPER, 0, 0, 0, 0) != id && !lost) {
        printf("grant attacks: tampered table: tampering did not stop\n");
        problems++;
    }
    int fail = tamper.wrong || !tamper.ok || !tamper.refused;
    problems += fail;
    printf("grant attacks: tampered table: %lu copies ok, %lu refused, %lu wrong (%lu of whole "
           "versions, %lu ticks)%s\n",
           tamper.ok, tamper.refused, tamper.wrong, tamper.whole, now() - tamper.t0,
           fail ? " FAIL" : "");
    printf("grant attacks: tampered table refusals:");
    for (int e = 1; e < E_MAX; e++)
        if (tamper.codes[e])
            printf(" %s %lu", ipc_strerror(-e), tamper.codes[e]);
    printf("\n");
}

/* 4. Passing on a read-only 100-byte grant can only narrow it. */
static int checks, failed;

static void expect(const char *what, long got, long want)
{
    checks++;
    if (got == want)
        return;
    failed++;
    printf("grant attacks: indirect widening: %s: got %ld (%s), want %ld (%s)\n", what, got,
           got < 0 ? ipc_strerror(got) : "success", want,
           want < 0 ? ipc_strerror(want) : "success");
}

static void indirect_widening(void)
{
    static uint8_t buf[256];
    struct ipc_msg m;
    long d = ask(GA_GIVE_D, 0, 0, 0, 0);
    if (d <= 0) {
        if (!lost) {
            printf("grant attacks: indirect widening: no grant from the granter: %s\n",
                   ipc_strerror(d));
            problems++;
        }
        return;
    }
    expect("write through the read-only grant", grant_copy_to(gpid, (uint64_t)d, 0, buf, 10),
           -E_GRANT_ACCESS);
    expect("read past its end", grant_copy_from(gpid, (uint64_t)d, 0, buf, GA_D_LEN + 1),
           -E_GRANT_RANGE);

    /* Passed back to the granter itself, which uses it as we tell it. */
    int64_t w =
        grant_create_indirect(gpid, gpid, (uint64_t)d, 0, GA_D_LEN, GRANT_F_READ | GRANT_F_WRITE);
    expect("granter writes through our read+write pass-on", ask(GA_USE_TO, (uint64_t)w, 0, 10, 0),
           -E_GRANT_ACCESS);
    expect("  ... reading through it is fine", ask(GA_USE_FROM, (uint64_t)w, 0, 10, 0), 10);
    int64_t wide = grant_create_indirect(gpid, gpid, (uint64_t)d, 0, 2 * GA_D_LEN, GRANT_F_READ);
    expect("granter reads 200 bytes through a 200-byte pass-on",
           ask(GA_USE_FROM, (uint64_t)wide, 0, 2 * GA_D_LEN, 0), -E_GRANT_RANGE);
    expect("  ... or 100 bytes at offset 50", ask(GA_USE_FROM, (uint64_t)wide, 50, GA_D_LEN, 0),
           -E_GRANT_RANGE);
    int64_t shifted = grant_create_indirect(gpid, gpid, (uint64_t)d, 60, 50, GRANT_F_READ);
    expect("granter reads through a pass-on shifted past the end",
           ask(GA_USE_FROM, (uint64_t)shifted, 0, 50, 0), -E_GRANT_RANGE);
    int64_t narrow = grant_create_indirect(gpid, gpid, (uint64_t)d, 10, 50, GRANT_F_READ);
    long rc = ask(GA_USE_FROM, (uint64_t)narrow, 0, 50, &m);
    expect("granter reads through a narrower pass-on", rc, 50);
    long bad = 0;
    const uint8_t *got = (const uint8_t *)&m.w[1];
    for (int i = 0; rc == 50 && i < 50; i++)
        bad += got[i] != ga_p_byte(10 + (uint64_t)i);
    expect("  ... and gets bytes 10..59", bad, 0);
    expect("the granted bytes are unchanged", ask(GA_CHECK_P, 0, 0, 0, 0), 0);
    expect("the granter revokes the grant", ask(GA_REVOKE_D, 0, 0, 0, 0), 0);
    expect("the pass-on dies with it", ask(GA_USE_FROM, (uint64_t)narrow, 0, 50, 0),
           -E_GRANT_INVALID);
    grant_revoke((uint64_t)w);
    grant_revoke((uint64_t)wide);
    grant_revoke((uint64_t)shifted);
    grant_revoke((uint64_t)narrow);
    problems += failed;
    printf("grant attacks: indirect widening: %d checks, %d failed%s\n", checks, failed,
           failed ? " FAIL" : "");
}

int main(void)
{
    granter = name_lookup_wait("hostile.granter", 500);
    long pid = granter < 0 ? granter : ipc_handle_pid((uint64_t)granter);
    if (pid < 0) {
        printf("grant attacks: no granter: %s\n", ipc_strerror(pid));
        return 1;
    }
    gpid = (uint32_t)pid;
    uint64_t t0 = now();
    revoke_race();
    if (!lost)
        brute_force();
    if (!lost)
        tampered_table();
    if (!lost)
        indirect_widening();
    printf("grant attacks: %d problems (%lu ticks)\n", problems, now() - t0);
    return problems;
}
