/*
 * iso.attacker / iso.victim: one program, two roles in hostile.isolation.
 * It asks its parent (the controller) for orders (iso_proto.h), carries
 * each out with ordinary, unprivileged requests and reports the result.
 */
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/console.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>
#include <ipc/thread.h>

#include "../../../servers/hello/hello.h"
#include "iso_proto.h"
#include "noise.h"

static uint64_t now(void)
{
    uint64_t t = 0;
    kc_time(&t, 0, 0);
    return t;
}

/* Our own kernel frames and budget, as the kernel reports them. */
static void my_frames(uint64_t *frames, uint64_t *budget)
{
    uint32_t pid;
    kc_self(&pid, 0, 0, 0);
    struct kc_proc_info p = {0};
    kc_proc_info(pid & ID_SLOT_MASK, &p);
    *frames = p.kernel_pages;
    *budget = p.kernel_limit;
}

static void churn(struct ipc_msg *m)
{
    uint64_t cycles = m->w[1], pages = m->w[2], failed = 0, budget;
    my_frames(&m->w[1], &budget);
    for (uint64_t i = 0; i < cycles; i++) {
        long err = 0;
        void *p = mem_alloc_pages(pages, &err);
        if (!p || mem_free_pages(p, pages) != (long)pages)
            failed++;
    }
    my_frames(&m->w[2], &budget);
    m->w[3] = failed;
}

static void park(void *arg)
{
    (void)arg;
    for (;;)
        kc_sleep(100000);
}

static void hoard(struct ipc_msg *m)
{
    long rc;
    uint64_t threads = 0, pages = 0;
    while ((rc = thread_create(park, 0, 0)) >= 0) {
        kc_cap_delete((uint64_t)rc);
        threads++;
    }
    m->w[1] = threads;
    m->w[2] = (uint64_t)rc;
    long err = 0;
    while (mem_alloc_pages(1, &err))
        pages++;
    m->w[3] = pages;
    m->w[4] = (uint64_t)err;
    my_frames(&m->w[5], &m->w[6]);
}

static volatile int worker_done;

static void worker(void *arg)
{
    (void)arg;
    worker_done = 1;
}

/* One round of what a well-behaved client does; 0 or the failing step. */
static int work_round(uint64_t round, long *err)
{
    worker_done = 0;
    long t = thread_create(worker, 0, 0);
    if (t < 0)
        return *err = t, 1;
    for (int i = 0; i < 1000 && !worker_done; i++)
        kc_yield();
    kc_cap_delete((uint64_t)t);
    if (!worker_done)
        return *err = -E_TIMEDOUT, 2;

    uint64_t *p = mem_alloc_pages(4, err);
    if (!p)
        return 3;
    for (int i = 0; i < 4 * 512; i++)
        p[i] = round + (uint64_t)i;
    for (int i = 0; i < 4 * 512; i++)
        if (p[i] != round + (uint64_t)i)
            return *err = -E_FAULT, 4;
    long rc = mem_free_pages(p, 4);
    if (rc != 4)
        return *err = rc < 0 ? rc : -E_RANGE, 5;

    long h = name_lookup("hello");
    if (h < 0)
        return *err = h, 6;
    struct ipc_msg m;
    rc = ipc_call_data((uint64_t)h, HELLO_GREET, "victim", 6, &m);
    kc_cap_delete((uint64_t)h);
    if (rc < 0 || (long)m.w[0] != 0 || memcmp(&m.w[2], "Hello, victim!", 14) != 0)
        return *err = rc < 0 ? rc : -E_INVAL, 7;

    if (round % 25 == 0) {
        rc = console_write("iso.victim: still served\n", 25);
        if (rc != 25)
            return *err = rc < 0 ? rc : -E_RANGE, 8;
    }
    return 0;
}

static void work(struct ipc_msg *m)
{
    uint64_t rounds = m->w[1], done = 0;
    long err = 0;
    int step = 0;
    while (done < rounds && !(step = work_round(done, &err)))
        done++;
    m->w[1] = done;
    m->w[2] = (uint64_t)err;
    m->w[3] = (uint64_t)step;
}

static void push_caps(struct ipc_msg *m)
{
    uint64_t n = m->w[1], answered = 0, refused = 0, served = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct ipc_msg q = ipc_msg_make(NAME_LOOKUP, 4);
        name_pack(&q, "hello");
        q.info |= IPC_INFO_CAP | IPC_INFO_ACCEPT;
        q.cap = IPC_SELF;
        if (ipc_call(HANDLE_NAMES, &q) == 0) {
            answered++;
            if ((q.info & IPC_INFO_CAP) && (int64_t)q.cap > 0)
                kc_cap_delete(q.cap); /* keep our own table clean */
        }
    }
    long hello = name_lookup_wait("hello", 300);
    for (uint64_t i = 0; i < n && hello >= 0; i++) {
        struct ipc_msg q = ipc_msg_make(0x7777, 1);
        q.info |= IPC_INFO_CAP | ipc_info_timeout(100);
        q.cap = IPC_SELF;
        long rc = ipc_call((uint64_t)hello, &q);
        refused += rc == -E_NOACCEPT;
        served += rc == 0;
    }
    if (hello >= 0)
        kc_cap_delete((uint64_t)hello);
    m->w[1] = answered;
    m->w[2] = refused;
    m->w[3] = served;
}

static void name_of(const struct ipc_msg *m, int first, char *out)
{
    memcpy(out, &m->w[first], NAME_MAX_LEN);
    out[NAME_MAX_LEN - 1] = '\0';
}

static void serve(struct ipc_msg *m)
{
    uint64_t until = now() + m->w[1], calls = 0;
    for (uint64_t t = now(); t < until; t = now()) {
        struct ipc_msg q = {0};
        q.info = ipc_info_timeout(until - t);
        if (ipc_recv(IPC_ANY, &q) < 0 || (q.info & IPC_INFO_NOTIFY))
            continue;
        calls++;
        /* Answer as a console would, so a misdirected caller goes on. */
        uint64_t len = q.w[0];
        struct ipc_msg r = ipc_msg_make(0, 1);
        r.w[0] = len;
        ipc_reply(q.badge, &r);
    }
    m->w[1] = calls;
}

static void name_race(struct ipc_msg *m)
{
    char name[NAME_MAX_LEN];
    name_of(m, 2, name);
    uint64_t until = now() + m->w[1], attempts = 0, won = 0, lookups = 0, not_again = 0;
    while (now() < until) {
        attempts++;
        won += name_register(name) == 0;
        long h = name_lookup(name);
        lookups++;
        not_again += h != -E_AGAIN;
        if (h > 0)
            kc_cap_delete((uint64_t)h);
    }
    m->w[1] = attempts;
    m->w[2] = won;
    m->w[3] = lookups;
    m->w[4] = not_again;
}

static volatile uint64_t readers_busy, readers_done;

static void reader(void *arg)
{
    (void)arg;
    char line[64];
    long rc = console_readline(line, sizeof(line));
    __atomic_fetch_add(&readers_busy, rc == -E_BUSY, __ATOMIC_RELAXED);
    __atomic_fetch_add(&readers_done, 1, __ATOMIC_RELAXED);
}

/* n threads ask the console for a line: one may wait, the rest must be
 * told -E_BUSY at once; we report when n - 1 have answered (or give up). */
static void readers(struct ipc_msg *m)
{
    uint64_t n = m->w[1];
    for (uint64_t i = 0; i < n; i++)
        thread_create(reader, 0, 0);
    for (int i = 0; i < 300 && readers_done < n - 1; i++)
        kc_sleep(1);
    m->w[1] = readers_busy;
}

int main(void)
{
    struct ipc_msg m = ipc_msg_make(ISO_READY, 1);
    long kept = -1;
    for (;;) {
        m.info = ipc_info(IPC_MSG_BYTES, ISO_READY) | IPC_INFO_ACCEPT;
        m.cap = 0;
        if (ipc_call(HANDLE_PARENT, &m) < 0)
            return 1;
        uint64_t given = (m.info & IPC_INFO_CAP) && (int64_t)m.cap > 0 ? m.cap : 0;
        uint32_t order = ipc_info_label(m.info);
        char name[NAME_MAX_LEN];
        struct ipc_msg q;
        switch (order) {
        case ISO_EXIT:
            return 0;
        case ISO_CHURN:
            churn(&m);
            break;
        case ISO_HOARD:
            hoard(&m);
            break;
        case ISO_WORK:
            work(&m);
            break;
        case ISO_PUSH_CAPS:
            push_caps(&m);
            break;
        case ISO_LOOKUP:
            name_of(&m, 1, name);
            kept = name_lookup_wait(name, 300);
            m.w[1] = (uint64_t)kept;
            break;
        case ISO_CALL_KEPT:
            q = ipc_msg_make(HELLO_GREET, 1);
            q.info |= ipc_info_timeout(100);
            m.w[1] = (uint64_t)ipc_call((uint64_t)kept, &q);
            break;
        case ISO_ACCEPT:
            q = (struct ipc_msg){0};
            q.info = IPC_INFO_ACCEPT | ipc_info_timeout(500);
            m.w[1] = (uint64_t)ipc_recv(IPC_ANY, &q);
            if ((int64_t)m.w[1] == 0)
                m.w[1] = q.info & IPC_INFO_CAP ? q.cap : (uint64_t)-E_NOENT;
            m.w[2] = badge_pid(q.badge);
            break;
        case ISO_SEND_SELF:
            q = ipc_msg_make(0x5e1f, 1);
            q.info |= IPC_INFO_CAP | ipc_info_timeout(500);
            q.cap = IPC_SELF;
            m.w[1] = given ? (uint64_t)ipc_send(given, &q) : (uint64_t)-E_BADHANDLE;
            break;
        case ISO_SERVE:
            serve(&m);
            break;
        case ISO_PRINT:
            m.w[1] = (uint64_t)console_write("iso: a line for the console\n", 28);
            break;
        case ISO_NAME_RACE:
            name_race(&m);
            break;
        case ISO_REGISTER:
            name_of(&m, 1, name);
            m.w[1] = (uint64_t)name_register(name);
            break;
        case ISO_DELETE:
            m.w[1] = (uint64_t)kc_cap_delete(m.w[1]);
            break;
        case ISO_READERS:
            readers(&m);
            break;
        case ISO_READLINE: {
            char line[48] = {0};
            m.w[1] = (uint64_t)console_readline(line, sizeof(line));
            memcpy(&m.w[2], line, sizeof(line));
            break;
        }
        case ISO_NOISE:
            noise(&m);
            break;
        default:
            m.w[1] = (uint64_t)-E_NOSYS;
        }
        if (given)
            kc_cap_delete(given);
    }
}
