/*
 * The noisy neighbour (ISO_NOISE): for a while, one unprivileged process
 * hammers every interface it can reach: memory (allocate, free, hold),
 * the kernel's privileged operations, grants, handles, names, threads,
 * and floods of requests (malformed ones, handles pushed at servers,
 * notifications) from as many threads as its budget allows. Every answer
 * is counted; each must be a status the ABI defines.
 */
#include <abi/layout.h>
#include <abi/proto/console.h>
#include <abi/proto/mem.h>
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "../../../servers/hello/hello.h"
#include "../testlib.h"
#include "noise.h"

static uint64_t made, refused, accepted, odd, started;
static volatile int stop, running;

static void count(long rc)
{
    __atomic_fetch_add(&made, 1, __ATOMIC_RELAXED);
    if (rc >= 0)
        __atomic_fetch_add(&accepted, 1, __ATOMIC_RELAXED);
    else if (rc > -E_MAX)
        __atomic_fetch_add(&refused, 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_add(&odd, 1, __ATOMIC_RELAXED);
}

/* Call a server by name with one request; the handle goes afterwards. */
static void call_named(const char *name, struct ipc_msg *m)
{
    long h = name_lookup(name);
    count(h);
    if (h < 0)
        return;
    m->info |= ipc_info_timeout(200);
    count(ipc_call((uint64_t)h, m));
    count(kc_cap_delete((uint64_t)h));
}

/* A flood thread: requests of every kind to every server, back to back. */
static void flood(void *arg)
{
    uint64_t rng = 0x6e6f697365ull + (uint64_t)arg;
    while (!stop) {
        struct ipc_msg m;
        switch (test_rand(&rng) % 7) {
        case 0: /* an honest greeting */
            m = ipc_msg_make(HELLO_GREET, IPC_MSG_WORDS);
            m.w[0] = 5;
            memcpy(&m.w[2], "noisy", 5);
            call_named("hello", &m);
            break;
        case 1: /* a malformed console write */
            m = ipc_msg_make(CON_WRITE, 3);
            m.w[0] = 5000;
            call_named("console", &m);
            break;
        case 2: /* a handle pushed at a server that did not ask */
            m = ipc_msg_make(HELLO_GREET, 1);
            m.info |= IPC_INFO_CAP;
            m.cap = IPC_SELF;
            call_named("hello", &m);
            break;
        case 3: /* a handle pushed at the name service with a lookup */
            m = ipc_msg_make(NAME_LOOKUP, 4);
            name_pack(&m, "mem");
            m.info |= IPC_INFO_CAP | ipc_info_timeout(200);
            m.cap = IPC_SELF;
            count(ipc_call(HANDLE_NAMES, &m));
            break;
        case 4: { /* memory statistics and a malformed free */
            /* Malformed for certain: a well-formed free of heap pages could
             * be a sibling's allocation (partial frees are allowed), and
             * freeing it under the main thread's feet is no attack. */
            static const uint64_t bad[][2] = {
                {USER_HEAP_MIN + 8, 1}, {USER_HEAP_MIN, 0}, {USER_HEAP_MAX, 1}, {4096, 1}};
            const uint64_t *b = bad[test_rand(&rng) % 4];
            struct mem_stats st;
            count(mem_stats(&st));
            count(mem_free_pages((void *)b[0], b[1]));
            break;
        }
        case 5: { /* notifications at servers */
            long h = name_lookup(test_rand(&rng) & 1 ? "console" : "hello");
            if (h > 0) {
                count(ipc_notify((uint64_t)h, test_rand(&rng) & ~NOTIFY_BIT_DEATH & ~1ull));
                kc_cap_delete((uint64_t)h);
            }
            count(ipc_notify(HANDLE_NAMES, NOTIFY_BIT_DEATH));
            break;
        }
        default: /* a call to the name service with a label it does not know */
            m = ipc_msg_make((uint32_t)(test_rand(&rng) & 0xffff), IPC_MSG_WORDS);
            m.info |= ipc_info_timeout(200);
            count(ipc_call(HANDLE_NAMES, &m));
        }
    }
    __atomic_fetch_sub(&running, 1, __ATOMIC_RELAXED);
}

static void memory(uint64_t *rng)
{
    static void *held[64];
    static uint64_t sizes[64];
    static int nheld;
    long err = 0;
    uint64_t pages = 1 + test_rand(rng) % (test_rand(rng) & 1 ? 8 : MEM_MAX_ALLOC_PAGES);
    uint64_t *p = mem_alloc_pages(pages, &err);
    count(p ? 0 : err);
    if (!p)
        return;
    p[0] = pages;
    if (nheld < 64 && test_rand(rng) % 3 == 0) {
        held[nheld] = p;
        sizes[nheld++] = pages;
    } else {
        count(mem_free_pages(p, pages));
    }
    if (test_rand(rng) % 50 == 0)
        while (nheld > 0) {
            nheld--;
            count(mem_free_pages(held[nheld], sizes[nheld]));
        }
}

static void privileged(uint64_t *rng)
{
    count(kc_map(1, USER_HEAP_MIN, 0, 1, KC_MAP_WRITE));
    count(kc_unmap(1, USER_HEAP_MIN, 1));
    count(kc_spawn_budget(0, 0, 1, 0, 0, 0, "noise", 0, 0));
    count(kc_kill((uint32_t)test_rand(rng)));
    count(kc_io_out(0x3f8, 1, 'x'));
    count(kc_irq_bind(4, 0));
    count(kc_log("noise\n", 6));
    count(kc_shutdown(1));
}

static void grants(uint64_t *rng)
{
    static char buf[4096];
    int64_t ids[300];
    int n = 0;
    for (; n < 300; n++) {
        ids[n] = grant_create((uint32_t)test_rand(rng), buf, sizeof(buf), GRANT_F_READ);
        count(ids[n]);
        if (ids[n] < 0)
            break;
    }
    while (n-- > 0)
        count(grant_revoke((uint64_t)ids[n]));
    for (int i = 0; i < 20; i++)
        count(grant_copy_from((uint32_t)(0x400 + test_rand(rng) % 8), grant_id(i, 1), 0, buf, 64));
}

static void handles(uint64_t *rng)
{
    long hs[64];
    int n = 0;
    for (; n < 64; n++) {
        hs[n] = name_lookup("mem");
        count(hs[n]);
        if (hs[n] < 0)
            break;
    }
    while (n-- > 0)
        count(kc_cap_delete((uint64_t)hs[n]));
    for (int i = 0; i < 8; i++) {
        count(kc_cap_identify(test_rand(rng) % 4096, 0));
        count(kc_cap_delete(3 + test_rand(rng) % 4096));
    }
}

static void names(uint64_t *rng)
{
    static const char *const theirs[] = {"console", "mem", "hello", "boot", "noisy.client"};
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "noise.%d", i);
        count(name_register(name));
    }
    count(name_register(theirs[test_rand(rng) % 5]));
}

void noise(struct ipc_msg *m)
{
    uint64_t rng = 0x6e6f69737921ull, t0 = 0, now = 0;
    kc_time(&t0, 0, 0, 0, 0);
    /* As many flood threads as our budget gives us (one stays ours). */
    for (uint64_t i = 0; i < 64; i++) {
        __atomic_fetch_add(&running, 1, __ATOMIC_RELAXED);
        long h = thread_create(flood, (void *)i, 0);
        count(h);
        if (h < 0) {
            __atomic_fetch_sub(&running, 1, __ATOMIC_RELAXED);
            break;
        }
        kc_cap_delete((uint64_t)h);
        started++;
    }
    do {
        memory(&rng);
        privileged(&rng);
        grants(&rng);
        handles(&rng);
        names(&rng);
        kc_time(&now, 0, 0, 0, 0);
    } while (now < t0 + m->w[1]);
    stop = 1;
    for (int i = 0; i < 3000 && running > 0; i++)
        kc_sleep(1);
    m->w[1] = made;
    m->w[2] = refused;
    m->w[3] = accepted;
    m->w[4] = odd + (uint64_t)running; /* a flood thread that never came back counts too */
    m->w[5] = started;
}
