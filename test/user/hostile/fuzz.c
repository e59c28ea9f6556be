/*
 * The syscall fuzzer: SYSCALLs with random call numbers and random
 * registers (RSP and RBP included): pointers into the kernel half,
 * non-canonical, unmapped and misaligned addresses, huge lengths, random
 * handles, badges, grant ids and the pids of real processes. Seeded and
 * reproducible: "seed=N" and "calls=N" (default 1,000,000) come from the
 * module line; the seed is printed. Every answer must be a status the ABI
 * defines, and where the answer follows from the arguments and what the
 * fuzzer knows of its own state (its handles, its privileges, its own grant
 * table, which pids and tids cannot exist), predict() names the exact
 * result docs/abi.md documents: any difference fails the test. In the
 * hostile image a checker pair (hostile.checker) verifies meanwhile that no
 * one else's messages suffer.
 */
#include <abi/grant.h>
#include <abi/kcall.h>
#include <abi/layout.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/ipc.h>
#include <ipc/kcall.h>
#include <ipc/stdio.h>

#include "../testlib.h"

long garbage_syscall(const uint64_t regs[16]);
extern uint64_t garbage_out_rsi, garbage_out_rdx; /* RSI, RDX after the last call */

/* Register slots in regs[] (garbage_syscall.S) and the message words. */
enum { RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R12, R13, R14, R15, RSP };
#define W0 R8
#define W1 R9

/* Kernel table sizes the ABI documents (docs/abi.md 1.7): an id whose slot
 * is past them, or whose generation is 0, names nothing. */
#define ABI_MAX_THREADS 256
#define ABI_MAX_PROCS   128

static uint64_t rng;

static uint64_t next(void)
{
    return test_rand(&rng);
}

static char args[128]; /* our module line's arguments */

/* A number at s: decimal, or hex after 0x. */
static uint64_t parse_num(const char *s)
{
    int hex = s[0] == '0' && s[1] == 'x';
    uint64_t v = 0;
    for (s += hex ? 2 : 0;; s++) {
        int c = *s | 0x20;
        int d = *s >= '0' && *s <= '9' ? *s - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * (hex ? 16 : 10) + (uint64_t)d;
    }
}

/* The number after key in args; dflt if key is absent. */
static uint64_t arg_num(const char *key, uint64_t dflt)
{
    const char *s = strstr(args, key);
    return s ? parse_num(s + strlen(key)) : dflt;
}

static uint64_t pids[16];
static int npids;

/* Memory of ours the fuzzer hands out as pointers: syscalls may write into
 * it (KC_ARGS, KC_PROC_INFO, copies) and grant copies read from it. */
static uint8_t scratch[8192] __attribute__((aligned(4096)));
/* What our grant entries 0 and 3 grant (copies write here). */
static uint8_t granted[8192] __attribute__((aligned(4096)));

/* Values that make interesting pointers, lengths, handles and ids. */
static uint64_t interesting(void)
{
    static const uint64_t pool[] = {
        0,
        1,
        2,
        7,
        63,
        64,
        65,
        4095,
        4096,
        USER_IMAGE_MIN,
        USER_IMAGE_MIN + 1, /* misaligned */
        USER_HEAP_MIN,
        USER_STACK_TOP - 8,
        USER_TOP - 8,
        USER_TOP,
        0x00007fffffffffffull,
        0x0000800000000000ull, /* first non-canonical */
        0x8000000000000000ull,
        0xffff800000000000ull, /* physmap */
        0xffffffff80100000ull, /* kernel text */
        0xffffffffc0000000ull, /* kernel stacks */
        GRANT_COPY_MAX + 1,
        1ull << 40,
        ~0ull,
        ~0ull - 1,
        IPC_ANY,
        IPC_SELF,
    };
    uint64_t r = next();
    switch (r % 8) {
    case 0:
    case 1:
    case 2:
        return pool[(r >> 8) % (sizeof(pool) / sizeof(pool[0]))];
    case 3: /* a real pid, or a real process's badge */
        return npids ? pids[(r >> 8) % (uint64_t)npids] << ((r >> 16) & 1 ? 32 : 0) : 0;
    case 4: /* a plausible grant id: small slot, small generation */
        return grant_id((uint32_t)((r >> 8) % 300), (uint32_t)((r >> 20) % 4));
    case 5: /* a pointer into our own scratch memory */
        if ((r >> 8) % 4 == 0)
            return (uint64_t)(uintptr_t)scratch + (r >> 12) % 4096;
        return next();
    default:
        return next();
    }
}

static void learn_pids(void)
{
    struct kc_proc_info p;
    for (uint32_t slot = 0; npids < 16; slot++) {
        long rc = kc_proc_info(slot, &p);
        if (rc == -E_RANGE)
            break;
        if (rc == 0)
            pids[npids++] = p.pid;
    }
}

/* ---- the oracle --------------------------------------------------------
 * What the fuzzer knows for sure about its own state, and predict(): the
 * exact result docs/abi.md gives for a call, or UNKNOWN when the answer
 * depends on something the fuzzer cannot know (another process's state, a
 * receiver's readiness, memory it does not own). Handle semantics live in
 * handle_class() alone, so a change of handle encoding is one place. */

#define UNKNOWN (-1000)

static struct {
    uint32_t pid, tid, privs, boot_tid;
    long args_len;
    /* The handle value that names slot i's capability, for slots >= 3
     * (0: the slot is empty). A handle is its slot | the slot's
     * generation << CAP_SLOT_BITS, so only that exact value names it. */
    uint64_t slot_handle[CAP_SLOTS];
    uint64_t io_base, io_count;  /* our ports ("io=" on our module line) */
    uint64_t irq_mask, irq_mine; /* our IRQs ("irq="), and those bound to us */
} me;

/* Inside our port range (kcall_io.c port_ok). */
static int port_ok(uint64_t port, uint64_t width)
{
    return port <= 0xffff && port >= me.io_base && port + width <= me.io_base + me.io_count;
}

/* Our grant table: one grant of each kind a copy can be refused for. */
#define OUR_SLOTS 8
static struct grant_entry table[OUR_SLOTS];

static void setup_table(void)
{
    uint32_t ok = GRANT_F_USED | GRANT_F_VALID;
    uint64_t g = (uint64_t)(uintptr_t)granted;
    table[0] = (struct grant_entry){ok | GRANT_F_WRITE, 1, me.pid, 0, g, 4096, 0, 0};
    table[1] = (struct grant_entry){ok | GRANT_F_WRITE, 1, me.pid + 1, 0, g, 4096, 0, 0};
    table[2] = (struct grant_entry){0, 0, 0, 0, 0, 0, 0, 0}; /* never made */
    table[3] = (struct grant_entry){ok | GRANT_F_WRITE, 2, me.pid, 0, g + 4096, 100, 0, 0};
    table[4] = (struct grant_entry){GRANT_F_USED | GRANT_F_WRITE, 1, me.pid, 0, g, 4096, 0, 0};
    table[5] =
        (struct grant_entry){ok | GRANT_F_WRITE | (GRANT_F_ALL + 1), 1, me.pid, 0, g, 4096, 0, 0};
    /* READ of memory nobody maps: copies from it stop before writing. */
    table[6] = (struct grant_entry){ok | GRANT_F_READ, 3, me.pid, 0, 0x1000, 0x2000, 0, 0};
    /* An indirect grant that passes on itself: a loop. */
    table[7] = (struct grant_entry){ok | GRANT_F_READ | GRANT_F_WRITE | GRANT_F_INDIRECT,
                                    1,
                                    me.pid,
                                    me.pid,
                                    0,
                                    4096,
                                    grant_id(7, 1),
                                    0};
}

/* libipc's grants (printf's long console writes) use our table too: its
 * free slot 2, which is empty again whenever a fuzzed call runs. */
static void register_table(void)
{
    if (grant_table_init(table, OUR_SLOTS) != 0)
        printf("fuzz: cannot register our grant table\n");
}

enum hclass { H_KERNEL, H_BAD, H_BOOT, H_UNSURE };

/* Handle h in our table (docs/abi.md 1.5): 0 is the kernel, 1 and 2 name
 * the boot server's thread (SEND | XFER, never dies), >= 64 never exists,
 * 3..63 are empty unless a transfer may have filled them. */
static enum hclass handle_class(uint64_t h)
{
    if (h == HANDLE_KERNEL)
        return H_KERNEL;
    if (h == HANDLE_PARENT || h == HANDLE_NAMES)
        return H_BOOT;
    uint64_t slot = h & CAP_SLOT_MASK;
    if (slot < HANDLE_FIRST_FREE)
        return H_BAD; /* slots 0..2 have generation 0: any other value names nothing */
    return me.slot_handle[slot] && me.slot_handle[slot] == h ? H_UNSURE : H_BAD;
}

/* cap_lookup(h, right): E_BADHANDLE, 0 for the boot server, UNKNOWN. */
static long lookup(uint64_t h)
{
    switch (handle_class(h)) {
    case H_KERNEL:
    case H_BAD:
        return -E_BADHANDLE;
    case H_BOOT:
        return 0;
    default:
        return UNKNOWN;
    }
}

static int info_ok(uint64_t info)
{
    return ipc_info_len(info) <= IPC_MSG_BYTES && !(info & IPC_INFO_RESERVED);
}

/* Nobody sends to us, calls us or notifies us: a receive finds nothing. */
static long nothing_to_receive(uint64_t info)
{
    return info & IPC_INFO_NONBLOCK ? -E_AGAIN : -E_TIMEDOUT;
}

/* send_phase (docs/abi.md 2.1 rows 2-5) up to where the target's state
 * decides. */
static long predict_send(const uint64_t *r)
{
    long rc = lookup(r[RDI]);
    if (rc != 0)
        return rc;
    if (!info_ok(r[RSI]))
        return -E_INVAL;
    if ((r[RSI] & IPC_INFO_CAP) && r[RDX] != IPC_SELF && (rc = lookup(r[RDX])) != 0)
        return rc;
    return UNKNOWN; /* delivered, queued or -E_AGAIN: the boot server decides */
}

/* A tid that no thread can have, ours, or the boot server's (never waiting
 * for our reply): reply_phase rows 1-2. */
static long predict_reply_target(uint64_t badge)
{
    uint32_t tid = (uint32_t)badge;
    if (tid == 0 || (tid & ID_SLOT_MASK) >= ABI_MAX_THREADS || tid >> ID_SLOT_BITS == 0)
        return -E_DEAD;
    if (tid == me.tid || tid == me.boot_tid)
        return -E_INVAL;
    return UNKNOWN;
}

/* Is [a, a + n) inside memory we own and keep mapped? */
/* Where our image, heap and stacks may have pages. */
static int may_be_mapped(uint64_t a)
{
    return (a >= USER_IMAGE_MIN && a < USER_IMAGE_MAX) ||
           (a >= USER_HEAP_MIN && a < USER_HEAP_MAX) ||
           (a >= USER_STACK_TOP - 64 * USER_STACK_STRIDE && a < USER_STACK_TOP);
}

static int ours(uint64_t a, uint64_t n)
{
    uint64_t s = (uint64_t)(uintptr_t)scratch, g = (uint64_t)(uintptr_t)granted;
    return (a >= s && n <= sizeof(scratch) && a - s <= sizeof(scratch) - n) ||
           (a >= g && n <= sizeof(granted) && a - g <= sizeof(granted) - n);
}

/* Kernel-endpoint operations (docs/abi.md 6): the label is the operation. */
static long predict_kcall(const uint64_t *r)
{
    static const uint32_t priv[KC_COUNT] = {
        [KC_LOG] = PRIV_LOG,       [KC_MODULE_INFO] = PRIV_SPAWN, [KC_SPAWN] = PRIV_SPAWN,
        [KC_KILL] = PRIV_SPAWN,    [KC_WAIT_DEATH] = PRIV_SPAWN,  [KC_MAP] = PRIV_MAP,
        [KC_UNMAP] = PRIV_MAP,     [KC_MEMINFO] = PRIV_MAP,       [KC_IO_IN] = PRIV_IO,
        [KC_IO_OUT] = PRIV_IO,     [KC_IO_WRITE] = PRIV_IO,       [KC_IRQ_BIND] = PRIV_IRQ,
        [KC_IRQ_ACK] = PRIV_IRQ,   [KC_SHUTDOWN] = PRIV_SHUTDOWN, [KC_DEV_ASSIGN] = PRIV_BUS,
        [KC_MMIO_MAP] = PRIV_MMIO, [KC_SPAWN_ARGV] = PRIV_SPAWN,
    };
    uint32_t op = ipc_info_label(r[RSI]);
    uint64_t w0 = r[W0], w1 = r[W1];
    if (op == 0 || op >= KC_COUNT)
        return -E_NOSYS;
    if (priv[op] && !(me.privs & priv[op]))
        return -E_PERM;
    switch (op) {
    case KC_SELF:
    case KC_TIME:
    case KC_YIELD:
    case KC_STATS:
        return 0;
    case KC_CAP_DELETE:
        return handle_class(w0) == H_BAD || handle_class(w0) == H_KERNEL ? -E_BADHANDLE : UNKNOWN;
    case KC_CAP_IDENTIFY:
        return lookup(w0);
    case KC_PROC_INFO:
        return w0 >= ABI_MAX_PROCS ? -E_RANGE : UNKNOWN;
    case KC_GRANT_TABLE:
        if (w1 == 0)
            return 0;
        if (w1 > GRANT_MAX_SLOTS || w0 % 8 || w0 >= USER_TOP ||
            w1 * sizeof(struct grant_entry) > USER_TOP - w0)
            return -E_RANGE;
        return w0 < USER_IMAGE_MIN ? -E_FAULT : UNKNOWN;
    case KC_ARGS:
        if (w1 == 0)
            return me.args_len;
        return w0 < USER_IMAGE_MIN || w0 >= USER_TOP ? -E_FAULT : UNKNOWN;
    case KC_IO_IN:
    case KC_IO_OUT:
        if (w1 != 1 && w1 != 2 && w1 != 4)
            return -E_INVAL;
        return port_ok(w0, w1) ? 0 : -E_PERM;
    case KC_IO_WRITE: { /* w2 = ready mask (0 here), w3 = buffer, w4 = length */
        uint64_t buf = r[R12], len = r[R13];
        if (!port_ok(w0, 1) || !port_ok(w1, 1))
            return -E_PERM;
        if (len > 4096)
            return -E_RANGE;
        if (len == 0)
            return 0;
        if (buf < USER_IMAGE_MIN || buf >= USER_TOP)
            return -E_FAULT;
        return ours(buf, len) ? (long)len : UNKNOWN;
    }
    case KC_IRQ_BIND: /* nobody else may bind our IRQs: never -E_BUSY */
        if (w0 >= 16 || w0 == 0 || w0 == 2 || w1 >= 63)
            return -E_RANGE;
        return me.irq_mask >> w0 & 1 ? 0 : -E_PERM;
    case KC_IRQ_ACK:
        return w0 < 16 && (me.irq_mine >> w0 & 1) ? 0 : -E_PERM;
    default:
        return UNKNOWN;
    }
}

/* grant_verify over our own table, whose every entry we know (docs/abi.md
 * 7.2): 0 with *addr the granted bytes' address, an error, or UNKNOWN. */
static long verify_ours(uint32_t granter, uint64_t id, uint64_t offset, uint64_t len,
                        uint32_t access, uint64_t *addr)
{
    uint32_t caller = me.pid;
    if (granter == 0 || (granter & ID_SLOT_MASK) >= ABI_MAX_PROCS || granter >> ID_SLOT_BITS == 0)
        return -E_GRANT_NOTABLE;
    const struct grant_entry *e;
    for (int depth = 0;; depth++) {
        if (depth > GRANT_MAX_DEPTH)
            return -E_GRANT_DEPTH;
        if (granter != me.pid)
            return UNKNOWN;
        if (grant_id_index(id) >= OUR_SLOTS)
            return -E_GRANT_INDEX;
        e = &table[grant_id_index(id)];
        if ((e->flags & (GRANT_F_USED | GRANT_F_VALID)) != (GRANT_F_USED | GRANT_F_VALID) ||
            (e->flags & ~GRANT_F_ALL))
            return -E_GRANT_INVALID;
        if (e->gen != grant_id_gen(id))
            return -E_GRANT_STALE;
        if (e->grantee != caller)
            return -E_GRANT_GRANTEE;
        if ((e->flags & access) != access)
            return -E_GRANT_ACCESS;
        if (offset > e->len || len > e->len - offset)
            return -E_GRANT_RANGE;
        if (!(e->flags & GRANT_F_INDIRECT))
            break; /* our direct grants lie far from the top: no wrap */
        if (e->addr + offset < e->addr)
            return -E_GRANT_RANGE;
        offset += e->addr;
        caller = granter;
        granter = e->src_pid;
        id = e->src_id;
    }
    *addr = e->addr + offset;
    return 0;
}

/* Grant copies (docs/abi.md 7.2): a granter that cannot exist, or our own
 * table. */
static long predict_grant(const uint64_t *r, uint32_t access)
{
    uint64_t local = r[R8], len = r[R9], addr = 0;
    long rc = verify_ours((uint32_t)r[RDI], r[RSI], r[RDX], len, access, &addr);
    if (rc != 0)
        return rc;
    if (len > GRANT_COPY_MAX)
        return -E_RANGE;
    if (len == 0)
        return 0;
    if (local >= USER_TOP || len > USER_TOP - local)
        return -E_FAULT;
    if (!ours(addr, len))
        return -E_FAULT; /* entry 6: nothing is mapped there */
    if (local < USER_IMAGE_MIN)
        return -E_FAULT; /* the first page of our side is missing */
    return ours(local, len) ? (long)len : UNKNOWN;
}

/* Map grants (docs/grants.md): the checks before the grant's, then the
 * grant's; none of our entries carries GRANT_F_MAP, so no map succeeds. */
static long predict_map(const uint64_t *r)
{
    uint64_t offset = r[RDX], local = r[R8], len = r[R9], flags = r[R10], addr = 0;
    if (flags & ~(uint64_t)GRANT_F_WRITE)
        return -E_INVAL;
    if (len == 0 || ((offset | local | len) & 0xfff))
        return -E_INVAL;
    if (len > GRANT_MAP_MAX)
        return -E_RANGE;
    if (local < USER_MAP_MIN || local >= USER_MAP_MAX || len > USER_MAP_MAX - local)
        return -E_RANGE;
    uint32_t access = GRANT_F_MAP | GRANT_F_READ | (uint32_t)(flags & GRANT_F_WRITE);
    long rc = verify_ours((uint32_t)r[RDI], r[RSI], offset, len, access, &addr);
    return rc != 0 ? rc : UNKNOWN;
}

/* The exact result the ABI gives for this call, or UNKNOWN. */
static long predict(const uint64_t *r)
{
    switch (r[RAX]) {
    case SYS_IPC_SEND:
        return r[RDI] == HANDLE_KERNEL ? -E_INVAL : predict_send(r);
    case SYS_IPC_RECV:
        if (r[RDI] != IPC_ANY && lookup(r[RDI]) != 0)
            return lookup(r[RDI]);
        return nothing_to_receive(r[RSI]);
    case SYS_IPC_CALL:
        return r[RDI] == HANDLE_KERNEL ? predict_kcall(r) : predict_send(r);
    case SYS_IPC_REPLY:
        return predict_reply_target(r[RDI]);
    case SYS_IPC_REPLY_RECV:
        /* Nobody waits for our reply: it is skipped, the receive runs. */
        return nothing_to_receive(r[RSI]);
    case SYS_IPC_NOTIFY:
        return lookup(r[RDI]);
    case SYS_GRANT_COPY_FROM:
        return predict_grant(r, GRANT_F_READ);
    case SYS_GRANT_COPY_TO:
        return predict_grant(r, GRANT_F_WRITE);
    case SYS_GRANT_MAP:
        return predict_map(r);
    case SYS_GRANT_UNMAP:
        return -E_NOENT; /* we never map anything */
    case SYS_GRANT_REVOKE:
        return 0; /* none of our grants can be mapped: none was */
    default:
        return -E_NOSYS;
    }
}

/* After a call: what it may have changed in the state predict() relies on. */
static void learn(const uint64_t *r, long rc)
{
    int64_t got = (int64_t)garbage_out_rdx;
    /* A message or reply that came with a capability filled a handle (only
     * calls that receive set RSI and RDX; the others leave our inputs). */
    int receives = r[RAX] == SYS_IPC_RECV || r[RAX] == SYS_IPC_CALL || r[RAX] == SYS_IPC_REPLY_RECV;
    if (receives && rc >= 0 && (garbage_out_rsi & IPC_INFO_CAP) && got > 0 &&
        (got & CAP_SLOT_MASK) >= HANDLE_FIRST_FREE)
        me.slot_handle[got & CAP_SLOT_MASK] = (uint64_t)got;
    if (r[RAX] != SYS_IPC_CALL || r[RDI] != HANDLE_KERNEL || rc != 0)
        return;
    uint32_t op = ipc_info_label(r[RSI]);
    if (op == KC_CAP_DELETE && me.slot_handle[r[W0] & CAP_SLOT_MASK] == r[W0])
        me.slot_handle[r[W0] & CAP_SLOT_MASK] = 0;
    if (op == KC_GRANT_TABLE)
        register_table(); /* someone else's table now: ours again */
    if (op == KC_IRQ_BIND)
        me.irq_mine |= 1ull << r[W0];
}

/* Handles libipc filled (the console's, looked up for printf). */
static void learn_handles(void)
{
    uint64_t badge;
    /* Each slot's generation is bumped by every capability installed there,
     * so a few probes per slot find the handle of a live one. */
    for (uint64_t slot = HANDLE_FIRST_FREE; slot < CAP_SLOTS; slot++) {
        me.slot_handle[slot] = 0;
        for (uint64_t gen = 1; gen < 256; gen++) {
            uint64_t h = slot | gen << CAP_SLOT_BITS;
            if (kc_cap_identify(h, &badge) != -E_BADHANDLE) {
                me.slot_handle[slot] = h;
                break;
            }
        }
    }
}

static void learn_self(void)
{
    uint64_t badge;
    kc_self(&me.pid, &me.tid, &me.privs, 0);
    me.boot_tid = kc_cap_identify(HANDLE_PARENT, &badge) == 0 ? badge_tid(badge) : 0;
    me.args_len = kc_args(0, 0);
    if (me.privs & PRIV_IO) {
        const char *io = strstr(args, "io="), *colon = io ? strchr(io, ':') : 0;
        me.io_base = arg_num("io=", 0);
        me.io_count = colon ? parse_num(colon + 1) : 0; /* "io=base:count" */
    }
    if (me.privs & PRIV_IRQ)
        me.irq_mask = 1ull << arg_num("irq=", 64);
    setup_table();
    register_table();
    learn_handles();
}

static long counts[E_MAX + 1];

int main(void)
{
    kc_args(args, sizeof(args));
    const char *s = strstr(args, "seed=");
    rng = 0x9e3779b97f4a7c15ull;
    if (s) {
        uint64_t v = 0;
        for (s += 5 + (s[5] == '0' && s[6] == 'x' ? 2 : 0); *s && *s != ' '; s++)
            v = v * 16 + (uint64_t)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
        rng = v ? v : rng;
    }
    uint64_t seed = rng;
    long calls = (long)arg_num("calls=", 1000000);
    learn_pids();
    printf("fuzz: seed 0x%lx, %ld calls with random registers, %d real pids known\n", seed, calls,
           npids);
    learn_self();

    uint64_t ok = 0, odd = 0, predicted = 0, matched = 0, mismatched = 0;
    uint64_t regs[16];
    for (long i = 0; i < calls; i++) {
        for (int r = 0; r < 16; r++)
            regs[r] = interesting();
        uint64_t k = next() % 16;
        /* rax: mostly real calls, some benchmark-only and plain random numbers */
        regs[0] = k < 12 ? next() % SYS_COUNT : k < 13 ? 100 + next() % 3 : next();
        if (next() % 4 == 0)
            regs[5] = next() % 8; /* rdi: our real handles (kernel, parent) */
        /* A blocking phase ends after one tick, and is rare: nearly every
         * call is non-blocking, so a million of them finish in seconds. */
        regs[4] = (regs[4] & 0xffffffffull) | (1ull << IPC_INFO_TIMEOUT_SHIFT);
        if (next() % 1024)
            regs[4] |= IPC_INFO_NONBLOCK;
        /* Some calls to threads have no timeout and no flag, so that the
         * fast path's checks see random handles too (every thread we can
         * name, the boot server and libipc's servers, answers a call). */
        if (regs[0] == SYS_IPC_CALL && regs[5] != HANDLE_KERNEL && next() % 8 == 0)
            regs[4] &= ~IPC_INFO_SLOW_BITS;
        /* Most kernel calls name a real operation, so that each one (and
         * its privilege check) is tried thousands of times. */
        if (regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL && next() % 4)
            regs[4] = (regs[4] & ~IPC_INFO_LABEL_MASK) | (next() % (KC_COUNT + 2))
                                                             << IPC_INFO_LABEL_SHIFT;
        /* Kernel operations that would end or clone this process, or lose
         * the handles we print through, are not garbage but suicide; random
         * kernel-log writes would only scribble on the console (without
         * PRIV_LOG they are refused, which is worth checking). */
        uint32_t op = (uint32_t)(regs[4] >> IPC_INFO_LABEL_SHIFT) & 0xffff;
        if (regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL &&
            (op == KC_EXIT || op == KC_THREAD_EXIT || op == KC_THREAD_CREATE || op == KC_SLEEP ||
             (op == KC_LOG && (me.privs & PRIV_LOG)) ||
             (op == KC_CAP_DELETE && (regs[7] == HANDLE_PARENT || regs[7] == HANDLE_NAMES))))
            regs[4] =
                (regs[4] & ~IPC_INFO_LABEL_MASK) | ((uint64_t)KC_SELF << IPC_INFO_LABEL_SHIFT);
        /* Device operations: often our own port and IRQ or their neighbours,
         * with widths and bits around the limits; KC_IO_WRITE never waits
         * for a ready bit (a mask would spin on a port that never sets it). */
        if (regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL) {
            if ((op == KC_IO_IN || op == KC_IO_OUT || op == KC_IO_WRITE) && next() % 2) {
                regs[W0] = 0x7e + next() % 4;
                regs[W1] = op == KC_IO_WRITE ? 0x7f + next() % 3 : next() % 6;
                regs[R13] = next() % 4 ? next() % 16 : 4097;
            }
            if ((op == KC_IRQ_BIND || op == KC_IRQ_ACK) && next() % 2) {
                regs[W0] = next() % 18;
                regs[W1] = 60 + next() % 5;
            }
            if (op == KC_IO_WRITE)
                regs[R10] = 0;
        }
        /* Buffers the kernel writes stay out of our own data and stack: they
         * are our scratch memory, or memory that cannot be ours. */
        int out = op == KC_ARGS ? W0 : op == KC_PROC_INFO || op == KC_MODULE_INFO ? W1 : -1;
        if (regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL && out >= 0 &&
            regs[out] >= USER_IMAGE_MIN && regs[out] < USER_TOP && !ours(regs[out], 256))
            regs[out] = (uint64_t)(uintptr_t)scratch + next() % 2048;
        /* A copy from a grant writes our memory at R8: there too, only into
         * scratch memory (a copy succeeds for at most the 4 KiB our own
         * grants cover), never over the fuzzer's own state. */
        if (regs[0] == SYS_GRANT_COPY_FROM && may_be_mapped(regs[7]) && !ours(regs[7], 4096))
            regs[7] = (uint64_t)(uintptr_t)scratch + next() % 2048;
        /* Half the grant copies go to our own table, whose answers are known. */
        if ((regs[0] == SYS_GRANT_COPY_FROM || regs[0] == SYS_GRANT_COPY_TO) && next() % 2) {
            regs[5] = me.pid;
            regs[4] = grant_id((uint32_t)(next() % (OUR_SLOTS + 2)), (uint32_t)(next() % 4));
            if (next() % 2)
                regs[3] = next() % 128;
        }
        long want = predict(regs);
        long rc = garbage_syscall(regs);
        learn(regs, rc);
        /* A refused kernel call answers with RDI = RDX = RSI = 0 (docs/abi.md 6). */
        if (want != UNKNOWN && rc < 0 && regs[0] == SYS_IPC_CALL && regs[5] == HANDLE_KERNEL &&
            (garbage_out_rsi || garbage_out_rdx))
            want = UNKNOWN - 1; /* counts as a mismatch */
        if (want != UNKNOWN) {
            predicted++;
            if (rc == want) {
                matched++;
            } else if (mismatched++ < 10) {
                printf("fuzz: MISMATCH call %ld: rax=%lu rdi=0x%lx rsi=0x%lx rdx=0x%lx r8=0x%lx "
                       "r9=0x%lx: expected %ld, got %ld\n",
                       i, regs[0], regs[5], regs[4], regs[3], regs[7], regs[8], want, rc);
                learn_handles(); /* printing may have looked up the console again */
            }
        }
        if (rc >= 0)
            ok++;
        else if (rc >= -E_MAX)
            counts[-rc]++;
        else
            odd++;
    }
    printf("fuzz: %ld calls done (seed 0x%lx): %lu succeeded, %lu refused, %lu answers outside the "
           "ABI\n",
           calls, seed, ok, (uint64_t)calls - ok - odd, odd);
    printf("fuzz: refusals by code:");
    for (int e = 1; e < E_MAX; e++)
        if (counts[e])
            printf(" %d:%ld", e, counts[e]);
    printf("\n");
    printf("fuzz: %ld calls, %lu predicted, %lu matched, %lu mismatched\n", calls, predicted,
           matched, mismatched);
    return odd || mismatched ? 1 : 0;
}
