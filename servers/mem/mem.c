/*
 * The memory server: owns the user pool the kernel set aside at boot, hands
 * out zeroed pages into clients' heap windows (KC_MAP, a privilege only it
 * has), keeps per-process accounts, and frees a process's pages when the
 * boot server reports its death. Its books live in the pool itself (the
 * first pages, mapped at STATE_VA), so a restarted memory server finds them
 * again and nothing is lost when it dies mid-request. Freed address ranges
 * are reused, so allocating and freeing does not grow a client's address
 * space (nor the page tables the kernel charges to it).
 */
#include <abi/layout.h>
#include <abi/proto/mem.h>
#include <abi/proto/name.h>
#include <stdbool.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#define STATE_VA    0x0000008000000000ull /* inside our own heap window */
#define MAGIC       0x6d656d2d73746174ull
#define MAX_RECORDS 128         /* as many as the kernel has processes */
#define OWNER_BOOKS 0xffffffffu /* frames holding these books */
#define FREE_RANGES 32          /* free address ranges kept per process */
#define RANGE_PAGES (MAX_RECORDS * FREE_RANGES * 8 / 4096) /* after the frame records */

/*
 * Crash safety: an allocation marks frames as owned before mapping them,
 * a free unmaps before clearing the marks. If we die in between, the marks
 * are only ever too generous, and those frames come back when their owner
 * dies (or at our restart, if the owner is already gone). Address ranges
 * follow the same rule the other way round: one is taken from the free
 * list before it is used and put back only after it is unmapped, and every
 * list entry is one 8-byte store, so an interruption can only lose a
 * range (address space of that one client), never hand one out twice.
 */
struct frame_rec {
    uint32_t owner; /* pid, 0 = free */
    uint32_t vpn;   /* page number of its address in the owner, | VPN_DMA */
};
/* A DMA frame (MEM_ALLOC_DMA): a device may write it until its owner's
 * devices are stopped, so it outlives its owner until then. The flag keeps
 * it out of every lookup by address (guard pages, MEM_FREE). */
#define VPN_DMA 0x80000000u

struct proc_rec {
    uint32_t pid;
    uint32_t reserved;
    uint64_t next_va; /* above every range ever handed out */
    uint64_t pages;
};

/* A free address range of a client: first page number << 32 | pages; 0 is
 * an empty entry. An allocation of n pages takes n + 1 (an unmapped guard
 * page follows each), so every entry has at least 2 pages. */
#define RANGE(vpn, n)     ((uint64_t)(vpn) << 32 | (n))
#define RANGE_VPN(r)      ((r) >> 32)
#define RANGE_PAGES_OF(r) ((r)&0xffffffffull)

struct books {
    uint64_t magic;
    uint64_t nframes;
    uint64_t pool_base;
    uint64_t allocations;
    uint64_t range_pages; /* layout check: RANGE_PAGES when the books were made */
    struct proc_rec procs[MAX_RECORDS];
    uint64_t test_died; /* die_in_reclaim has been done (it happens once) */
    /* struct frame_rec frames[nframes] follows on the next page, then
     * uint64_t ranges[MAX_RECORDS][FREE_RANGES] on the RANGE_PAGES pages
     * after the kernel's `state` pages */
};
_Static_assert(sizeof(struct books) <= 4096, "header fits its page");

static struct books *books;
static struct frame_rec *frames;
static uint64_t (*ranges)[FREE_RANGES]; /* by record index */
static uint64_t nfree, hint, quota;
static uint32_t my_pid, boot_pid;
/* Test hook (module argument die_in_reclaim, test drivers.disk_mem_death):
 * exit once, half-way through freeing a dead driver's DMA pages, to show
 * that the boot server asks again and the rest comes back. */
static bool die_in_reclaim;

static struct proc_rec *record(uint32_t pid, int create)
{
    struct proc_rec *empty = 0;
    for (int i = 0; i < MAX_RECORDS; i++) {
        if (books->procs[i].pid == pid)
            return &books->procs[i];
        if (!books->procs[i].pid && !empty)
            empty = &books->procs[i];
    }
    if (!create || !empty)
        return 0;
    memset(ranges[empty - books->procs], 0, sizeof(ranges[0]));
    *empty = (struct proc_rec){pid, 0, USER_HEAP_MIN, 0};
    return empty;
}

/* Take `need` pages of r's address space: the first free range that is
 * big enough, else fresh space at the top. Returns the address or 0. */
static uint64_t take_range(struct proc_rec *r, uint64_t need)
{
    uint64_t *fr = ranges[r - books->procs];
    for (int i = 0; i < FREE_RANGES; i++) {
        uint64_t vpn = RANGE_VPN(fr[i]), n = RANGE_PAGES_OF(fr[i]);
        if (!fr[i] || n < need)
            continue;
        fr[i] = n == need ? 0 : RANGE(vpn + need, n - need);
        return vpn << 12;
    }
    uint64_t va = r->next_va;
    if (va >= USER_HEAP_MAX || need - 1 > (USER_HEAP_MAX - va) / 4096)
        return 0; /* (the guard page may lie past the window) */
    r->next_va = va + need * 4096;
    return va;
}

/* Give [va, va + n pages) back to r's free ranges, merged with the ranges
 * next to it, or to the top. Merged entries are cleared before the merged
 * one is written. With the list full the range is lost to r (address
 * space only; its pages and page tables are already free). */
static void give_back(struct proc_rec *r, uint64_t va, uint64_t n)
{
    uint64_t *fr = ranges[r - books->procs], vpn = va >> 12;
    for (int i = 0; i < FREE_RANGES; i++) {
        uint64_t v = RANGE_VPN(fr[i]), m = RANGE_PAGES_OF(fr[i]);
        if (fr[i] && v + m == vpn) {
            fr[i] = 0;
            vpn = v;
            n += m;
        } else if (fr[i] && vpn + n == v) {
            fr[i] = 0;
            n += m;
        }
    }
    if ((vpn + n) << 12 == r->next_va) {
        r->next_va = vpn << 12;
        return;
    }
    for (int i = 0; i < FREE_RANGES; i++)
        if (!fr[i]) {
            fr[i] = RANGE(vpn, n);
            return;
        }
}

/* Take exactly [vpn, vpn + need) of r's address space if it is free: at
 * the top, or at the start of a free range. Returns 1 if taken. */
static int take_exact(struct proc_rec *r, uint64_t vpn, uint64_t need)
{
    uint64_t *fr = ranges[r - books->procs];
    if (vpn << 12 == r->next_va) {
        if (vpn << 12 >= USER_HEAP_MAX || need > (USER_HEAP_MAX - (vpn << 12)) / 4096)
            return 0;
        r->next_va = (vpn + need) << 12;
        return 1;
    }
    for (int i = 0; i < FREE_RANGES; i++) {
        uint64_t n = RANGE_PAGES_OF(fr[i]);
        if (!fr[i] || RANGE_VPN(fr[i]) != vpn || n < need)
            continue;
        fr[i] = n == need ? 0 : RANGE(vpn + need, n - need);
        return 1;
    }
    return 0;
}

/* Whether va is the guard page right after one of pid's allocations: the
 * page before it is pid's and va itself is not. */
static int is_guard_page(uint32_t pid, uint64_t va)
{
    if (va % 4096 || va <= USER_HEAP_MIN || va >= USER_HEAP_MAX)
        return 0;
    int before = 0;
    for (uint64_t i = 0; i < books->nframes; i++) {
        if (frames[i].owner != pid)
            continue;
        if (frames[i].vpn == va >> 12)
            return 0;
        before |= frames[i].vpn == (va >> 12) - 1;
    }
    return before;
}

static uint64_t frame_pa(uint64_t i)
{
    return books->pool_base + i * 4096;
}

/* Map frames [first, first + n) (contiguous) at va in pid. */
static long map_run(uint32_t pid, uint64_t va, uint64_t first, uint64_t n)
{
    return kc_map(pid, va, frame_pa(first), n, KC_MAP_WRITE | KC_MAP_ZERO);
}

/* Process pid holds DMA frames in [vpn, vpn + pages). */
static int has_dma(uint32_t pid, uint64_t vpn, uint64_t pages)
{
    for (uint64_t i = 0; i < books->nframes; i++)
        if (frames[i].owner == pid && (frames[i].vpn & VPN_DMA) &&
            (frames[i].vpn & ~VPN_DMA) - vpn < pages)
            return 1;
    return 0;
}

static void release(uint64_t i)
{
    frames[i] = (struct frame_rec){0, 0};
    nfree++;
}

/* Whether pid may have `pages` more pages (at most `max` in one request):
 * 0 with its record in *out, or the error, checked in the ABI's order. */
static long admit(uint32_t pid, uint64_t pages, uint64_t max, struct proc_rec **out)
{
    if (pages == 0 || pages > max)
        return -E_RANGE;
    struct proc_rec *r = record(pid, 1);
    if (!r)
        return -E_LIMIT;
    if (pages > nfree || r->pages + pages > quota)
        return -E_NOMEM;
    *out = r;
    return 0;
}

static long mem_alloc(struct ipc_msg *m)
{
    uint32_t pid = badge_pid(m->badge);
    uint64_t pages = m->w[1];
    struct proc_rec *r;
    long rc = admit(pid, pages, MEM_MAX_ALLOC_PAGES, &r);
    if (rc < 0)
        return rc;
    uint64_t va, taken_va, taken;
    if (ipc_info_len(m->info) >= 24 && m->w[2]) {
        /* In place: the new pages start at the guard page after one of the
         * caller's allocations, which must be followed by free address
         * space (a heap grows so); the new guard page is at the end. */
        va = m->w[2];
        taken_va = va + 4096;
        taken = pages;
        if (!is_guard_page(pid, va) || !take_exact(r, taken_va >> 12, taken))
            return -E_RANGE;
    } else {
        taken = pages + 1; /* an unmapped guard page after each allocation */
        va = taken_va = take_range(r, taken);
        if (!va)
            return -E_NOMEM;
    }
    /* Pick frames, mark them ours-for-pid, then map runs of neighbours. */
    uint64_t picked = 0, run_first = 0, run_len = 0, run_va = va;
    rc = 0;
    for (uint64_t k = 0; picked < pages && k < books->nframes; k++) {
        uint64_t i = (hint + k) % books->nframes;
        if (frames[i].owner)
            continue;
        frames[i] = (struct frame_rec){pid, (uint32_t)((va >> 12) + picked)};
        nfree--;
        if (run_len && i == run_first + run_len) {
            run_len++;
        } else {
            if (run_len && (rc = map_run(pid, run_va, run_first, run_len)) < 0)
                break;
            run_va = va + picked * 4096;
            run_first = i;
            run_len = 1;
        }
        picked++;
        hint = i + 1;
    }
    if (rc == 0 && run_len)
        rc = map_run(pid, run_va, run_first, run_len);
    if (rc < 0) { /* undo: the client may have died, or the kernel ran out */
        kc_unmap(pid, va, pages);
        for (uint64_t i = 0; i < books->nframes; i++)
            if (frames[i].owner == pid && frames[i].vpn >= (va >> 12) &&
                frames[i].vpn < (va >> 12) + pages)
                release(i);
        give_back(r, taken_va, taken);
        return rc;
    }
    r->pages += pages;
    books->allocations++;
    m->info = ipc_info(16, 0);
    m->w[1] = va;
    return 0;
}

static long mem_free(struct ipc_msg *m)
{
    uint32_t pid = badge_pid(m->badge);
    uint64_t va = m->w[1], pages = m->w[2];
    struct proc_rec *r = record(pid, 0);
    if (!r || va % 4096 || va < USER_HEAP_MIN || va >= USER_HEAP_MAX || pages == 0 ||
        pages > MEM_MAX_ALLOC_PAGES)
        return -E_INVAL;
    uint64_t first = va >> 12, n = 0;
    int edge = 0; /* a page of theirs right before or after the range */
    if (has_dma(pid, first, pages))
        return -E_PERM; /* its device may still write there */
    long rc = kc_unmap(pid, va, pages);
    if (rc < 0)
        return rc;
    for (uint64_t i = 0; i < books->nframes; i++) {
        if (frames[i].owner != pid)
            continue;
        if (frames[i].vpn >= first && frames[i].vpn < first + pages) {
            release(i);
            n++;
        } else if (frames[i].vpn == first - 1 || frames[i].vpn == first + pages) {
            edge = 1;
        }
    }
    if (n == 0)
        return -E_INVAL; /* nothing of theirs was there */
    r->pages -= n;
    /* Allocations are separated by guard pages, so a range whose pages are
     * all theirs with none right around it is exactly one allocation: its
     * address space (and guard page) can be handed out again. Anything
     * else was only part of one, or several: their pages are free, their
     * address space stays used. */
    if (n == pages && !edge)
        give_back(r, va, pages + 1);
    return (long)n;
}

/* Free everything pid held (it is dead: its page tables are gone already);
 * its DMA frames only if its devices are stopped (else they stay owned by
 * the dead pid, which never comes back: never reused). */
static uint64_t reclaim(uint32_t pid, int devices_stopped)
{
    uint64_t n = 0, dma = 0;
    for (uint64_t i = 0; i < books->nframes; i++)
        if (frames[i].owner == pid && (devices_stopped || !(frames[i].vpn & VPN_DMA))) {
            dma += (frames[i].vpn & VPN_DMA) != 0;
            release(i);
            n++;
            if (die_in_reclaim && dma == 1 && !books->test_died) {
                books->test_died = 1;
                printf("mem: dying half-way through freeing the DMA pages of %x (test)\n", pid);
                kc_exit(1);
            }
        }
    struct proc_rec *r = record(pid, 0);
    if (r)
        *r = (struct proc_rec){0}; /* its ranges are cleared when the record is reused */
    return n;
}

static long mem_died(struct ipc_msg *m)
{
    if (badge_pid(m->badge) != boot_pid)
        return -E_PERM; /* only the boot server knows who died */
    return (long)reclaim((uint32_t)m->w[1], ipc_info_len(m->info) >= 24 && m->w[2] == 1);
}

/* n free frames in a row, or -1: DMA memory is physically contiguous. */
static int64_t find_run(uint64_t n)
{
    uint64_t run = 0;
    for (uint64_t i = 0; i < books->nframes; i++) {
        run = frames[i].owner ? 0 : run + 1;
        if (run == n)
            return (int64_t)(i + 1 - n);
    }
    return -1;
}

static long mem_alloc_dma(struct ipc_msg *m)
{
    uint32_t pid = badge_pid(m->badge);
    uint64_t pages = m->w[1];
    struct proc_rec *r;
    long rc = admit(pid, pages, MEM_MAX_DMA_PAGES, &r);
    if (rc < 0)
        return rc;
    int64_t first = find_run(pages);
    if (first < 0)
        return -E_NOMEM;
    uint64_t va = take_range(r, pages + 1); /* and a guard page */
    if (!va)
        return -E_NOMEM;
    for (uint64_t k = 0; k < pages; k++) {
        frames[(uint64_t)first + k] = (struct frame_rec){pid, (uint32_t)((va >> 12) + k) | VPN_DMA};
        nfree--;
    }
    /* The kernel refuses KC_MAP_DMA unless pid holds PRIV_DMA. */
    rc = kc_map(pid, va, frame_pa((uint64_t)first), pages, KC_MAP_WRITE | KC_MAP_ZERO | KC_MAP_DMA);
    if (rc < 0) {
        for (uint64_t k = 0; k < pages; k++)
            release((uint64_t)first + k);
        give_back(r, va, pages + 1);
        return rc;
    }
    r->pages += pages;
    books->allocations++;
    m->info = ipc_info(24, 0);
    m->w[1] = va;
    m->w[2] = frame_pa((uint64_t)first);
    return 0;
}

static long mem_stats(struct ipc_msg *m)
{
    struct proc_rec *r = record(badge_pid(m->badge), 0);
    uint64_t procs = 0;
    for (int i = 0; i < MAX_RECORDS; i++)
        procs += books->procs[i].pid && books->procs[i].pages;
    m->info = ipc_info(48, 0);
    m->w[1] = books->nframes;
    m->w[2] = nfree;
    m->w[3] = r ? r->pages : 0;
    m->w[4] = procs;
    m->w[5] = books->allocations;
    return 0;
}

static int alive(uint32_t pid)
{
    struct kc_proc_info info;
    for (uint32_t slot = 0;; slot++) {
        long rc = kc_proc_info(slot, &info);
        if (rc == -E_RANGE)
            return 0;
        if (rc == 0 && info.pid == pid)
            return 1;
    }
}

/* Map our books and either start them or pick them up after a restart. */
static int open_books(void)
{
    uint64_t base, end, state;
    long rc = kc_meminfo(&base, &end, &state);
    if (rc == 0) /* no ZERO: keep them */
        rc = kc_map(my_pid, STATE_VA, base, state + RANGE_PAGES, KC_MAP_WRITE);
    if (rc < 0) {
        printf("mem: cannot reach the user pool: %s\n", ipc_strerror(rc));
        return 0;
    }
    books = (struct books *)STATE_VA;
    frames = (struct frame_rec *)(STATE_VA + 4096);
    ranges = (uint64_t(*)[FREE_RANGES])(STATE_VA + state * 4096);
    uint64_t nframes = (end - base) / 4096;
    quota = nframes / 2; /* no single process may take more than half */
    if (books->magic == MAGIC && books->nframes == nframes && books->pool_base == base &&
        books->range_pages == RANGE_PAGES) {
        uint64_t freed = 0, held = 0;
        for (uint64_t i = 0; i < nframes; i++) {
            uint32_t o = frames[i].owner;
            if (o && o != OWNER_BOOKS && !alive(o))
                freed += reclaim(o, 0); /* (nobody can tell us now whether its devices stopped) */
        }
        /* Records of processes that died while we were down, with nothing
         * left in the pool, would otherwise stay forever. */
        for (int i = 0; i < MAX_RECORDS; i++)
            if (books->procs[i].pid && !alive(books->procs[i].pid))
                books->procs[i] = (struct proc_rec){0};
        nfree = 0;
        for (uint64_t i = 0; i < nframes; i++) {
            nfree += frames[i].owner == 0;
            held += frames[i].owner && frames[i].owner != OWNER_BOOKS;
        }
        printf("mem: restarted: books recovered, %lu pages held by clients, %lu reclaimed from the "
               "dead, %lu free\n",
               held, freed, nfree);
        return 1;
    }
    memset(books, 0, 4096);
    memset(ranges, 0, RANGE_PAGES * 4096);
    books->nframes = nframes;
    books->pool_base = base;
    books->range_pages = RANGE_PAGES;
    nfree = nframes;
    for (uint64_t i = 0; i < nframes; i++)
        frames[i] = (struct frame_rec){i < state + RANGE_PAGES ? OWNER_BOOKS : 0, 0};
    nfree -= state + RANGE_PAGES;
    books->magic = MAGIC;
    printf("mem: %lu pages (%lu MiB) in the pool, %lu free\n", nframes, nframes >> 8, nfree);
    return 1;
}

static const struct server_op ops[] = {
    {MEM_ALLOC, mem_alloc},         {MEM_FREE, mem_free},  {MEM_STATS, mem_stats},
    {MEM_ALLOC_DMA, mem_alloc_dma}, {BOOT_DIED, mem_died},
};

int main(void)
{
    kc_self(&my_pid, 0, 0, 0);
    char args[64];
    die_in_reclaim = kc_args(args, sizeof(args)) >= 0 && strstr(args, "die_in_reclaim");
    long b = ipc_handle_pid(HANDLE_PARENT);
    boot_pid = b > 0 ? (uint32_t)b : 0;
    if (!open_books())
        return 1;
    struct server s = {.name = "mem", .ops = ops, .nops = sizeof(ops) / sizeof(ops[0])};
    return (int)server_run(&s);
}
