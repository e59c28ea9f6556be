/*
 * Processes and threads: creation from ELF images, capabilities, and
 * teardown. Killing a process wakes everyone blocked on its threads with
 * -E_DEAD, frees every frame the kernel gave it and tells its reaper.
 */
#include "proc.h"

#include <abi/errno.h>
#include <abi/layout.h>
#include <common/string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/klock.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/vm.h"
#include "elf.h"
#include "ipc.h"
#include "irq.h"
#include "klog.h"
#include "kmem.h"
#include "sched.h"
#include "uaccess.h"

struct thread threads[MAX_THREADS];
struct proc procs[MAX_PROCS];

/* The first process (the boot server): it hears of every death, not only
 * of its own children, so the memory server can be told of all of them. */
static struct proc *root;

int proc_is_root(const struct proc *p)
{
    return p == root;
}

/* Generation counters outlive the slots, so an id comes back only after
 * 2^22 - 1 reuses of the same slot. */
static uint32_t thread_gen[MAX_THREADS], proc_gen[MAX_PROCS];

static uint32_t make_id(uint32_t slot, uint32_t *gen)
{
    if (++*gen >= (1u << (32 - ID_SLOT_BITS)))
        *gen = 1;
    return slot | *gen << ID_SLOT_BITS;
}

struct thread *thread_by_tid(uint32_t tid)
{
    uint32_t slot = tid & ID_SLOT_MASK;
    if (tid == 0 || slot >= MAX_THREADS || threads[slot].tid != tid)
        return 0;
    return &threads[slot];
}

struct proc *proc_by_pid(uint32_t pid)
{
    uint32_t slot = pid & ID_SLOT_MASK;
    if (pid == 0 || slot >= MAX_PROCS || procs[slot].pid != pid)
        return 0;
    return &procs[slot];
}

const char *thread_state_name(uint8_t state)
{
    static const char *const names[] = {"free",      "running",        "ready",   "sending",
                                        "receiving", "awaiting reply", "sleeping"};
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

long cap_install(struct proc *p, struct thread *t, uint32_t rights)
{
    for (uint64_t s = HANDLE_FIRST_FREE; s < CAP_SLOTS; s++) {
        if (thread_still(p->caps[s].thread, p->caps[s].tid))
            continue; /* live capability */
        /* A dead one's slot is reused, but under a new handle: the old
         * handle now fails with -E_BADHANDLE instead of naming t. */
        if (++p->cap_gen[s] == 0) /* 0 is the fixed handles' generation */
            p->cap_gen[s] = 1;
        uint64_t h = s | (uint64_t)p->cap_gen[s] << CAP_SLOT_BITS;
        p->caps[s] = (struct cap){t, t->tid, rights, h, 0};
        return (long)h;
    }
    return -E_LIMIT;
}

void cap_set_fixed(struct proc *p, uint64_t slot, struct thread *t, uint32_t rights)
{
    p->caps[slot] = (struct cap){t, t->tid, rights, slot, 0};
}

struct cap *cap_of(struct proc *p, uint64_t h)
{
    struct cap *c = &p->caps[h & CAP_SLOT_MASK];
    return c->handle == h ? c : 0;
}

void cap_delete(struct proc *p, struct cap *c)
{
    *c = (struct cap){.handle = CAP_VACANT(c - p->caps)};
}

const struct cap *cap_get(struct proc *p, uint64_t h, uint32_t right, int *err)
{
    const struct cap *c = cap_of(p, h);
    if (!c) {
        *err = -E_BADHANDLE;
        return 0;
    }
    if (!thread_still(c->thread, c->tid)) {
        *err = -E_DEAD;
        return 0;
    }
    if ((c->rights & right) != right) {
        *err = -E_PERM;
        return 0;
    }
    return c;
}

struct thread *cap_lookup(struct proc *p, uint64_t h, uint32_t right, int *err)
{
    const struct cap *c = cap_get(p, h, right, err);
    return c ? c->thread : 0;
}

/* Map `pages` fresh zeroed kernel frames at va in p, charged to p. On
 * failure what was mapped stays mapped (and charged); the caller unmaps. */
static int map_fresh(struct proc *p, uint64_t va, uint64_t pages, uint64_t flags)
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa = kmem_frame_alloc_for(&p->quota);
        if (pa == FRAME_NONE)
            return -E_NOMEM;
        memset(phys_to_virt(pa), 0, 4096);
        int rc = vm_map(p->cr3, va + i * 4096, pa, flags | PTE_U | PTE_OWNED, &p->quota);
        if (rc < 0) {
            kmem_frame_free_for(&p->quota, pa);
            return rc;
        }
    }
    return 0;
}

static uint64_t stack_top(uint32_t index)
{
    return USER_STACK_TOP - (uint64_t)index * USER_STACK_STRIDE;
}

/* Unmap and free the stack of a thread that leaves a living process, with
 * any page table that leaves empty. */
static void thread_free_stack(struct proc *p, uint32_t index)
{
    uint64_t top = stack_top(index);
    /* Its frames are freed now: no grantee may keep them mapped. */
    grant_map_source_gone(p, top - USER_STACK_SIZE, USER_STACK_SIZE / 4096);
    vm_unmap_range(p->cr3, top - USER_STACK_SIZE, USER_STACK_SIZE / 4096, &p->quota);
}

struct thread *thread_create(struct proc *p, uint64_t rip, uint64_t arg, uint8_t prio)
{
    struct thread *t = 0;
    for (int i = 0; i < MAX_THREADS && !t; i++)
        if (threads[i].state == TS_FREE)
            t = &threads[i];
    if (!t || p->stack_slots == ~0ull || quota_charge(&p->quota, Q_THREADS, 1) < 0)
        return 0;
    uint32_t index = (uint32_t)__builtin_ctzll(~p->stack_slots);
    /* The page under each stack stays unmapped: the guard. */
    uint64_t top = stack_top(index);
    if (map_fresh(p, top - USER_STACK_SIZE, USER_STACK_SIZE / 4096, PTE_W | PTE_NX) < 0) {
        thread_free_stack(p, index); /* whatever part of it was mapped */
        quota_uncharge(&p->quota, Q_THREADS, 1);
        return 0;
    }
    p->stack_slots |= 1ull << index;

    uint32_t slot = (uint32_t)(t - threads);
    memset(t, 0, sizeof(*t));
    t->tid = make_id(slot, &thread_gen[slot]);
    t->proc = p;
    t->badge = (uint64_t)p->pid << 32 | t->tid;
    t->prio = prio < 1 ? 1 : prio >= NUM_PRIO ? NUM_PRIO - 1 : prio;
    t->fpu_fresh = 1;                                      /* no FPU state until its first use */
    t->cpu = pcpu.cur ? pcpu.cur->cpu : (uint16_t)pcpu.id; /* its creator's CPU */
    t->stack_index = index;
    t->regs.rip = rip;
    t->regs.rsp = top;
    t->regs.rdi = arg;
    t->regs.rflags = RFLAGS_IF; /* user threads always run preemptible */
    t->proc_next = p->threads;
    p->threads = t;
    sched_ready(t);
    return t;
}

void thread_destroy(struct thread *t)
{
    struct proc *p = t->proc;
    smp_drop_thread(t); /* if it runs on another CPU, that CPU lets go of it first */
    ipc_thread_dying(t);
    irq_thread_dying(t);
    fpu_thread_dying(t);
    sched_unready(t);
    for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->proc_next)
        if (*pp == t) {
            *pp = t->proc_next;
            break;
        }
    quota_uncharge(&p->quota, Q_THREADS, 1);
    p->stack_slots &= ~(1ull << t->stack_index);
    if (pcpu.cur == t)
        pcpu.cur = 0;
    t->tid = 0;
    t->wake_tick = 0;
    t->state = TS_FREE;
}

void thread_exit(struct thread *t)
{
    struct proc *p = t->proc;
    if (p->quota.used[Q_THREADS] == 1) {
        proc_kill(p, DEATH_EXIT, 0);
        return;
    }
    uint32_t index = t->stack_index;
    thread_destroy(t);
    thread_free_stack(p, index);
}

static int load_segments(struct proc *p, const uint8_t *elf, const struct elf_image *img)
{
    for (uint32_t i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->segs[i];
        uint64_t flags = (s->flags & ELF_PF_W ? PTE_W : 0) | (s->flags & ELF_PF_X ? 0 : PTE_NX);
        uint64_t first = s->vaddr & ~0xfffull, end = (s->vaddr + s->memsz + 0xfff) & ~0xfffull;
        int rc = map_fresh(p, first, (end - first) / 4096, flags);
        if (rc < 0)
            return rc;
        /* The file bytes, into pages just mapped (read-only ones too). */
        struct vm_cursor c = vm_cursor(p->cr3);
        struct ucopy_end from = {0, (uint64_t)(elf + s->offset)}, to = {&c, s->vaddr};
        rc = (int)ucopy(from, to, s->filesz, UCOPY_LOADER);
        assert(rc == 0); /* every page of the segment was mapped above */
    }
    return 0;
}

/* Free everything p holds and give its budget back to whoever lent it.
 * Precondition: p has no threads left and its space is not loaded. */
static void free_process_slot(struct proc *p, struct proc *lender)
{
    if (p->cr3)
        vm_space_destroy(p->cr3, &p->quota);
    /* Every frame a process holds is in its page tables: its PML4, the
     * tables, and its own (PTE_OWNED) pages. Anything left is a leak. */
    assert(p->quota.used[Q_FRAMES] == 0 && p->quota.used[Q_THREADS] == 0);
    if (lender)
        quota_repay(&lender->quota, p->quota.limit);
    p->cr3 = 0;
    p->pid = 0;
}

int proc_spawn(const void *elf, uint64_t size, const char *name, uint32_t privs, uint8_t prio,
               struct proc *reaper, const uint64_t budget[Q_KINDS], struct proc **out)
{
    struct elf_image img;
    const char *why;
    int rc = elf_validate(elf, size, USER_IMAGE_MIN, USER_IMAGE_MAX, &img, &why);
    if (rc < 0) {
        kprintf("kernel: refusing to start \"%s\": %s\n", name, why);
        return rc;
    }
    struct proc *p = 0;
    for (int i = 0; i < MAX_PROCS && !p; i++)
        if (procs[i].pid == 0)
            p = &procs[i];
    if (!p)
        return -E_LIMIT;
    enum quota_kind short_kind;
    if (budget[Q_PROCS] < 1 || budget[Q_THREADS] < 1)
        return -E_LIMIT; /* not even room for itself and its main thread */
    if (reaper && quota_lend(&reaper->quota, budget, &short_kind) < 0)
        return short_kind == Q_FRAMES ? -E_NOMEM : -E_LIMIT;
    uint32_t slot = (uint32_t)(p - procs);
    memset(p, 0, sizeof(*p));
    for (int h = 0; h < CAP_SLOTS; h++)
        cap_delete(p, &p->caps[h]);
    for (int k = 0; k < Q_KINDS; k++)
        p->quota.limit[k] = budget[k];
    quota_charge(&p->quota, Q_PROCS, 1); /* its own slot */
    p->pid = make_id(slot, &proc_gen[slot]);
    p->privs = privs;
    p->reaper = reaper;
    p->parent_pid = reaper ? reaper->pid : 0;
    p->module = -1;
    strncpy_safe(p->name, name, sizeof(p->name));
    p->cr3 = vm_space_create(&p->quota);
    rc = p->cr3 ? load_segments(p, elf, &img) : -E_NOMEM;
    if (rc == 0 && !thread_create(p, img.entry, 0, prio))
        rc = -E_NOMEM;
    if (rc < 0) {
        free_process_slot(p, reaper);
        return rc;
    }
    if (!reaper)
        root = p;
    *out = p;
    return 0;
}

static const char *death_name(uint32_t reason)
{
    return reason == DEATH_EXIT ? "exited" : reason == DEATH_FAULT ? "faulted" : "was killed";
}

static void queue_death(struct proc *r, struct death d)
{
    if (r->ndeaths == sizeof(r->deaths) / sizeof(r->deaths[0])) {
        kprintf("kernel: %s has %u unreaped deaths; dropping pid %x\n", r->name, r->ndeaths, d.pid);
        return;
    }
    r->deaths[r->ndeaths++] = d;
    struct thread *main = r->threads; /* the oldest thread is last */
    while (main && main->proc_next)
        main = main->proc_next;
    if (main)
        ipc_notify_thread(main, NOTIFY_BIT_DEATH);
}

/* Tell the reaper (KC_WAIT_DEATH + a notification), and the root. Without
 * a reaper the root itself has died: nothing can restart the system. */
static void report_death(struct proc *r, const char *name, uint32_t pid, uint32_t reason,
                         uint64_t detail, uint64_t badge)
{
    if (!r || !r->pid) {
        kprintf("kernel: the root process \"%s\" %s (%lu); nothing can restart the system\n", name,
                death_name(reason), detail);
        qemu_exit(reason == DEATH_EXIT && detail == 0 ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
    }
    struct death d = {pid, reason, detail, badge};
    queue_death(r, d);
    if (root && root->pid && root != r)
        queue_death(root, d);
}

void proc_kill(struct proc *p, uint32_t reason, uint64_t detail)
{
    if (reason != DEATH_EXIT || detail != 0)
        kprintf("kernel: process \"%s\" (pid %x) %s (%s %lu)\n", p->name, p->pid,
                death_name(reason), reason == DEATH_FAULT ? "vector" : "status", detail);
    /* The main thread is the oldest, last on the list; its badge is what
     * others knew the process by. */
    struct thread *main = p->threads;
    while (main && main->proc_next)
        main = main->proc_next;
    uint64_t badge = main ? main->badge : 0;
    while (p->threads)
        thread_destroy(p->threads);
    if (pcpu.cr3 == p->cr3) {
        write_cr3(vm_kernel_pml4);
        pcpu.cr3 = vm_kernel_pml4;
    }
    if (p->cr3)
        smp_leave_space(p->cr3); /* and no other CPU keeps it loaded, idle or not */
    /* Before any frame of ours is freed: no window keeps our pages, and
     * no mapping passed on by us outlives us. */
    grant_map_proc_dying(p);
    char name[KC_NAME_MAX];
    strncpy_safe(name, p->name, sizeof(name));
    uint32_t pid = p->pid;
    struct proc *reaper = p->reaper;
    /* Our whole budget goes back to our reaper first; then orphans go to
     * it, so someone still hears of them, and their budgets, which were
     * carved out of ours, are now carved out of the reaper's. */
    free_process_slot(p, reaper);
    for (int i = 0; i < MAX_PROCS && reaper; i++)
        if (procs[i].pid && procs[i].reaper == p) {
            procs[i].reaper = reaper;
            quota_adopt(&reaper->quota, procs[i].quota.limit);
        }
    report_death(reaper, name, pid, reason, detail, badge);
}
