/*
 * Protocol between hostile.grant_attacks (the attacker) and hostile.granter:
 * the attacker asks the granter to set up or stop each attack; both sides
 * compute the buffer patterns, so copied bytes can be checked without trust.
 */
#ifndef GRANT_ATTACK_PROTO_H
#define GRANT_ATTACK_PROTO_H

#include <abi/errno.h>
#include <stdint.h>

/* clang-format off */
/* Attacker -> granter's server thread; w0 of the reply is the status. */
#define GA_ROTATE    1 /* w1 on/off. On (cap: the attacker's thread, which the rotator will
                          poke): answers once the first id is published. Off: answers once
                          the rotator has stopped and revoked its grant */
#define GA_FLOOD     2 /* w1 count -> grants made for another process (the boot server) */
#define GA_UNFLOOD   3 /* -> 0 once the flood grants are revoked */
#define GA_TAMPER    4 /* w1 on/off (on: cap as for GA_ROTATE) -> the tampered slot's id;
                          off: answers once the entry is inert again */
#define GA_GIVE_D    5 /* -> id of a read-only grant over the first GA_D_LEN bytes of P */
#define GA_USE_FROM  6 /* w1 id, w2 offset, w3 len: copy_from through the attacker's grant
                          -> rc, w1..w7 the first 56 bytes copied */
#define GA_USE_TO    7 /* w1 id, w2 offset, w3 len: copy_to through it (0xee bytes) -> rc */
#define GA_CHECK_P   8 /* -> how many bytes of P differ from their pattern */
#define GA_REVOKE_D  9 /* -> grant_revoke(D) */

/* Granter's rotator or tamperer -> attacker, while its attack is on: "copy
 * now". w1 = the published rotated id (rotator), the version the entry holds
 * or ~0 if it is half rewritten (tamperer); w2 = where the helper is (GA_AT_*).
 * Answer w0 = 0 to go on, 1 to stop (the helper then stops by itself). */
#define GA_POKE        20
#define GA_AT_REVOKED   1 /* the published id was just revoked */
#define GA_AT_FILLING   2 /* B is half refilled */
#define GA_AT_FILLED    3 /* B is refilled, not granted yet */
#define GA_AT_CREATED   4 /* the new grant exists, the old id is still published */
#define GA_AT_PUBLISHED 5 /* the new id is published */
#define GA_AT_FIELD     6 /* the tampered entry is half rewritten */
#define GA_AT_VERSION   7 /* the tampered entry holds a whole version */

#define GA_BUF        4096 /* rotated buffer B and tampered buffer T */
#define GA_D_LEN      100  /* the direct grant over P passed on in attack 4 */
#define GA_TABLE      512  /* slots in the granter's table (brute force goes past it) */
#define GA_TAMPER_SLOT 0
#define GA_TAMPER_GEN  7
#define GA_LOOP_SLOT   1   /* the granter's own indirect self-loop, gen 1 */
/* clang-format on */

/* The tampered entry's versions, and what a copy of up to T's 4096 bytes
 * at an offset must give while the entry holds a whole one (0: T's bytes). */
enum {
    GA_V_LEGIT,   /* read, T, 4096 bytes */
    GA_V_PHYSMAP, /* kernel address (the physmap) */
    GA_V_KTEXT,   /* kernel address (the kernel image) */
    GA_V_HUGE,    /* T, 2^62 bytes */
    GA_V_HOLE,    /* 16 bytes below an unmapped page */
    GA_V_SELF,    /* indirect to itself: the second link is not ours */
    GA_V_LOOP,    /* indirect into the granter's own loop */
    GA_V_FLAGS,   /* unknown flag bits */
    GA_V_OTHER,   /* someone else's */
    GA_V_WRONLY,  /* write-only */
    GA_V_GEN,     /* another generation */
    GA_V_INVALID, /* used, not valid */
    GA_NVERSIONS
};

static inline long ga_version_expect(uint64_t v)
{
    switch (v) {
    case GA_V_LEGIT:
    case GA_V_HUGE:
        return 0;
    case GA_V_PHYSMAP:
    case GA_V_KTEXT:
    case GA_V_HOLE:
        return -E_FAULT;
    case GA_V_SELF:
    case GA_V_OTHER:
        return -E_GRANT_GRANTEE;
    case GA_V_LOOP:
        return -E_GRANT_DEPTH;
    case GA_V_FLAGS:
    case GA_V_INVALID:
        return -E_GRANT_INVALID;
    case GA_V_WRONLY:
        return -E_GRANT_ACCESS;
    case GA_V_GEN:
        return -E_GRANT_STALE;
    }
    return 1; /* no such version */
}

static inline uint64_t ga_mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 29;
    return x;
}

/* Word j of B while the rotated grant has generation gen: every word
 * depends on both, so a copy of a half-refilled B cannot pass the check. */
static inline uint64_t ga_rot_word(uint32_t gen, uint64_t j)
{
    return ga_mix(gen * 0x9e3779b97f4a7c15ull + j);
}

/* Word j of the tampered buffer T. */
static inline uint64_t ga_t_word(uint64_t j)
{
    return ga_mix(0x5441u + j * 0x9e3779b97f4a7c15ull);
}

/* Byte i of P (behind the grant passed on indirectly). */
static inline uint8_t ga_p_byte(uint64_t i)
{
    return (uint8_t)(i * 7 + 0x31);
}

#endif
